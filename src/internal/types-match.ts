// The public types of the wire formats and the policy are written out by
// hand, so the published declarations never name zod; the zod schemas that
// check the same data at run time stay internal. These two types tie each
// hand-written type to its schema: a member added, dropped, made optional
// or widened on one side only fails `tsc`.

/**
 * `true` when the compiler holds `A` and `B` to be the same type and each
 * is assignable to the other, else both types, for the error message.
 * Identity alone misses one drift: `a?: T` against `a?: T | undefined`,
 * which differ only under `exactOptionalPropertyTypes` (a user's project
 * may turn it on), where assignability tells them apart. Assignability
 * alone misses a dropped optional member (`{ a?: string }` and `{}` are
 * each assignable to the other). Together, an optional member against a
 * required one, a missing member, `readonly`, a wider or narrower union,
 * `any` against anything else, all fail.
 *
 * @internal
 * @example
 * ```ts
 * type Same = TypesMatch<{ a: string }, { a: string }>         // true
 * type Differ = TypesMatch<{ a?: string }, { a: string }>     // { plain: { a?: string }; schema: { a: string } }
 * ```
 */
export type TypesMatch<Plain, Schema> = [Identical<Plain, Schema>, [Plain] extends [Schema] ? ([Schema] extends [Plain] ? true : false) : false] extends [true, true]
  ? true
  : { plain: Plain; schema: Schema }

type Identical<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false

/**
 * Compiles only when handed `true`: with {@link TypesMatch}, a statement
 * that a hand-written type and the type its zod schema infers are the same.
 * A drift fails `tsc` with both types in the message.
 *
 * @internal
 * @example
 * ```ts
 * type _PolicyMatchesSchema = AssertTypesMatch<TypesMatch<Policy, z.infer<typeof policySchema>>>
 * ```
 */
export type AssertTypesMatch<Match extends true> = Match
