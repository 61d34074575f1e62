import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'
import { InvalidArgumentError } from '../errors.js'
import { deriveSubkeyObject, isKeyRing, type KeyRing } from './key-ring.js'
import { REDACTED } from './redacted.js'

/**
 * The prefix of every fingerprint, naming format version 1:
 * `fp1.<kid>.<base64url HMAC-SHA256>`.
 *
 * @example
 * ```ts
 * new Fingerprinter(keys).fingerprint('ada@example.com').startsWith(FINGERPRINT_PREFIX)   // true
 * ```
 */
export const FINGERPRINT_PREFIX = 'fp1.'

/**
 * Keyed fingerprints: HMAC-SHA256 under a subkey derived from the ring's
 * active key. Equal inputs give equal fingerprints under one key, so an
 * operator can correlate values without reading them; without the key, a
 * fingerprint of a guessable value (an email, a small number) cannot be
 * confirmed by hashing guesses, as a plain hash could.
 *
 * @example
 * ```ts
 * import { Fingerprinter, KeyRing } from 'airlock-sdk'
 *
 * const fp = new Fingerprinter(KeyRing.generate())
 * fp.fingerprint('ada@example.com') // 'fp1.20261121-3f9a1c2b.Xq3...'
 * ```
 */
export class Fingerprinter {
  readonly #keys: KeyRing

  constructor(keys: KeyRing) {
    if (!isKeyRing(keys)) throw new InvalidArgumentError('Fingerprinter expects a KeyRing')
    this.#keys = keys
  }

  /**
   * The fingerprint of a string or bytes under the active key.
   *
   * @example
   * ```ts
   * fp.fingerprint(new TextEncoder().encode('x')) === fp.fingerprint('x') // true
   * ```
   */
  fingerprint(value: string | Uint8Array): string {
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
      throw new InvalidArgumentError('a fingerprint is taken of a string or a Uint8Array')
    }
    const kid = this.#keys.activeKid
    const mac = createHmac('sha256', deriveSubkeyObject(this.#keys, 'fingerprint', kid)).update(value).digest('base64url')
    return `${FINGERPRINT_PREFIX}${kid}.${mac}`
  }

  toString(): string {
    return `Fingerprinter(${REDACTED})`
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return this.toString()
  }
}
