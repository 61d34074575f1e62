import type { ScrubAction } from '../policy/schema.js'

/**
 * What happened to a part of a value on its way out: a rule's action, or
 * one of the engine's own measures (`truncate` a long string, `withhold` a
 * value the walker could not read or that broke a bound, `encrypt` an error
 * under the `encrypted` exception mode or a value under an `encrypt` rule,
 * `drop` a key a path rule removed).
 *
 * @example
 * ```ts
 * const action: TransformAction = 'truncate'
 * ```
 */
export type TransformAction = ScrubAction | 'truncate' | 'withhold' | 'encrypt' | 'drop' | 'frames'

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

/**
 * The longest transform path recorded, in code units. Keys come from the
 * data (a log key is whatever the caller logged), so paths are bounded
 * before they reach the ledger, which refuses longer ones: a cut path ends
 * in `…`.
 *
 * @example
 * ```ts
 * joinTransformPath('fields', 'k'.repeat(5000)).length <= MAX_TRANSFORM_PATH_LENGTH // true
 * ```
 */
export const MAX_TRANSFORM_PATH_LENGTH = 512

/** The longest single key kept in a path; a longer one is cut and ends in `…`. */
const MAX_PATH_KEY_LENGTH = 64

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
  const kept = key.length > MAX_PATH_KEY_LENGTH ? `${cutAt(key, MAX_PATH_KEY_LENGTH)}…` : key
  return kept !== '$' && IDENTIFIER.test(kept) ? kept : `[${JSON.stringify(kept)}]`
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
  if (inner === '$' || inner === '') return boundTransformPath(prefix)
  if (prefix === '') return boundTransformPath(inner)
  return boundTransformPath(inner.startsWith('[') ? prefix + inner : `${prefix}.${inner}`)
}

/**
 * `path` cut to {@link MAX_TRANSFORM_PATH_LENGTH}, ending in `…` when cut.
 *
 * @example
 * ```ts
 * boundTransformPath('user.email') // 'user.email'
 * ```
 */
export function boundTransformPath(path: string): string {
  return path.length <= MAX_TRANSFORM_PATH_LENGTH ? path : `${cutAt(path, MAX_TRANSFORM_PATH_LENGTH - 1)}…`
}

// The first `length` code units, never ending in half a surrogate pair.
function cutAt(text: string, length: number): string {
  const last = text.charCodeAt(length - 1)
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? length - 1 : length)
}
