import type { ScrubAction } from '../policy/schema.js'

/**
 * What happened to a part of a value on its way out: a rule's action, or
 * one of the engine's own measures (`truncate` a long string, `withhold` a
 * value the walker could not read or that broke a bound, `encrypt` an error
 * under the `encrypted` exception mode).
 *
 * @example
 * ```ts
 * const action: TransformAction = 'truncate'
 * ```
 */
export type TransformAction = ScrubAction | 'truncate' | 'withhold' | 'encrypt'

/**
 * One change the scrubber made, as recorded in the ledger. It names where
 * (`path`), why (`rule`) and how (`action`), never the original value.
 *
 * `path` is `$` for a root string, otherwise JavaScript-like:
 * `user.emails[2]`, `headers["user agent"]`, `[0].token` (see
 * {@link renderPathSegment} and {@link joinTransformPath}). Keys in a path
 * are the scrubbed keys, so a secret used as a key does not reach the
 * ledger through its path. One string yields at most one transform per
 * rule and action, however many matches it held.
 *
 * Rules: `registered-secret`, a detector id (`DETECTOR_IDS`), a custom
 * pattern id, `sensitive-key`, and the engine's own: `max-depth`,
 * `max-nodes`, `max-string-length`, `binary`, `walker-error`, and for
 * errors `exception-mode`, `exception-stack`, `max-causes`.
 *
 * @example
 * ```ts
 * const { transforms } = scrubber.scrub({ user: { email: 'ada@example.com' } })
 * transforms // [{ path: 'user.email', rule: 'email', action: 'redact' }]
 * ```
 */
export interface ScrubTransform {
  readonly path: string
  readonly rule: string
  readonly action: TransformAction
}

/**
 * A scrubbed value and what was done to it.
 *
 * @example
 * ```ts
 * const { value, transforms }: ScrubResult = scrubber.scrub(record)
 * ```
 */
export interface ScrubResult<T = unknown> {
  readonly value: T
  readonly transforms: ScrubTransform[]
}

/**
 * The rule id of registered secrets.
 *
 * @example
 * ```ts
 * transforms.filter((t) => t.rule === REGISTERED_SECRET_RULE)
 * ```
 */
export const REGISTERED_SECRET_RULE = 'registered-secret'
/**
 * The rule id of values redacted because their key names a secret.
 *
 * @example
 * ```ts
 * scrubber.scrub({ password: 'x1' }).transforms[0].rule === SENSITIVE_KEY_RULE // true
 * ```
 */
export const SENSITIVE_KEY_RULE = 'sensitive-key'

// A key written bare in a path; anything else is quoted. `$` alone names the root, so a key `$` is quoted.
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/

/**
 * One key or index of a transform path (see {@link ScrubTransform}): an index
 * as `[2]`, a key that is an identifier as itself (`email`), any other key
 * quoted as JSON in brackets (`["content-type"]`, `[""]`, `["$"]`: a bare
 * `$` would read as the root).
 *
 * @example
 * ```ts
 * renderPathSegment(2)              // '[2]'
 * renderPathSegment('email')        // 'email'
 * renderPathSegment('content-type') // 'content-type'
 * renderPathSegment('a b')          // '["a b"]'
 * ```
 */
export function renderPathSegment(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`
  return key !== '$' && IDENTIFIER.test(key) ? key : `[${JSON.stringify(key)}]`
}

/**
 * Joins a transform path below `prefix`: `inner` is a path relative to it
 * (a rendered segment, or the path of a transform found in a value that
 * sits at `prefix`). An `inner` of `$` or `''` is the value itself.
 *
 * @example
 * ```ts
 * joinTransformPath('fields', 'user.email') // 'fields.user.email'
 * joinTransformPath('fields', '[0].token')  // 'fields[0].token'
 * joinTransformPath('msg', '$')             // 'msg'
 * joinTransformPath('', 'email')            // 'email'
 * ```
 */
export function joinTransformPath(prefix: string, inner: string): string {
  if (inner === '$' || inner === '') return prefix
  if (prefix === '') return inner
  return inner.startsWith('[') ? prefix + inner : `${prefix}.${inner}`
}
