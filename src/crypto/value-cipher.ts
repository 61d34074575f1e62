import type { KeyRing } from './key-ring.js'
import { TokenCipher } from './token-cipher.js'

/**
 * The prefix of every value token: format version 1 (see {@link TokenCipher}).
 *
 * @example
 * ```ts
 * const token = await new ValueCipher(keys).encrypt('{"card":"4111…"}')
 * token.startsWith(VALUE_TOKEN_PREFIX)   // true: 'alkv1.…'
 * ```
 */
export const VALUE_TOKEN_PREFIX = 'alkv1.'

/**
 * Encrypts values that must leave but must not be readable: parameters under
 * the `encrypt` rule, inline results, and whole errors under the `encrypted`
 * exception mode. Only the key holder opens them (`airlock errors open`).
 * Its subkey differs from the location cipher's, so a value token never opens
 * as a location and the reverse.
 *
 * @example
 * ```ts
 * import { KeyRing, ValueCipher } from 'airlock-sdk'
 *
 * const cipher = new ValueCipher(KeyRing.generate())
 * const token = await cipher.encrypt(JSON.stringify({ customerId: 42 }))
 * JSON.parse(await cipher.decrypt(token)) // { customerId: 42 }
 * ```
 */
export class ValueCipher extends TokenCipher {
  constructor(keys: KeyRing) {
    super(keys, 'value', VALUE_TOKEN_PREFIX)
  }

  /**
   * Whether a string has the shape of a value token (by its prefix only).
   *
   * @example
   * ```ts
   * ValueCipher.isToken(event.parameters.customer) // true under the encrypt rule
   * ```
   */
  static isToken(value: string): boolean {
    return value.startsWith(VALUE_TOKEN_PREFIX)
  }
}
