import type { KeyRing } from './key-ring.js'
import { TokenCipher } from './token-cipher.js'

/**
 * The prefix of every location token: format version 1 (see {@link TokenCipher}).
 *
 * @example
 * ```ts
 * written.location.startsWith(LOCATION_TOKEN_PREFIX)   // true when the result has a locationCipher
 * ```
 */
export const LOCATION_TOKEN_PREFIX = 'alk1.'

/**
 * Encrypts result locations into opaque `alk1.` tokens that may leave for the
 * control plane, and back. Accepts only what it produces; a wrong algorithm,
 * an unknown kid, a modified token or a wrong binding each raise a typed error.
 *
 * @example
 * ```ts
 * import { KeyRing, LocationCipher } from 'airlock-sdk'
 *
 * const cipher = new LocationCipher(KeyRing.generate())
 * const token = await cipher.encrypt('results/etl/load/42.json', { taskName: 'load' })
 * await cipher.decrypt(token, { taskName: 'load' })   // 'results/etl/load/42.json'
 * await cipher.decrypt(token, { taskName: 'other' })  // throws ERR_TOKEN_BINDING
 * ```
 */
export class LocationCipher extends TokenCipher {
  constructor(keys: KeyRing) {
    super(keys, 'location', LOCATION_TOKEN_PREFIX)
  }

  /**
   * Whether a string has the shape of a location token (by its prefix only;
   * it says nothing about whether the token is valid).
   *
   * @example
   * ```ts
   * LocationCipher.isToken(written.location) // true when a cipher was set
   * ```
   */
  static isToken(value: string): boolean {
    return value.startsWith(LOCATION_TOKEN_PREFIX)
  }
}
