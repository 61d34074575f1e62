/**
 * What keys, ciphers and secret values print as, under `toString`, `toJSON`
 * and `util.inspect` (docs/design.md, invariant 4).
 *
 * @example
 * ```ts
 * import { REDACTED } from 'airlock-sdk'
 * String(KeyRing.generate()).includes(REDACTED) // false: rings print kids, never bytes
 * ```
 */
export const REDACTED = '[airlock:redacted]'
