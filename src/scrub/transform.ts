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
 * `user.emails[2]`, `headers["content-type"]`, `[0].token`. Keys in a path
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
