import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, errors as joseErrors, type CompactJWEHeaderParameters } from 'jose'
import {
  InvalidArgumentError,
  TokenAlgorithmError,
  TokenBindingError,
  TokenInvalidError,
  UnknownKeyError,
} from '../errors.js'
import { deriveSubkey, isKeyRing, type KeyRing } from './key-ring.js'
import { REDACTED } from './redacted.js'

/**
 * The prefix of every location token. It names the token format, version 1: a
 * compact JWE (`alg: dir`, `enc: A256GCM`) whose protected header carries the
 * `kid` and, when the token is bound, `bnd`.
 */
export const LOCATION_TOKEN_PREFIX = 'alk1.'

/**
 * Context a token is bound to, such as `{ flowName, taskName }`. A bound token
 * decrypts only with the same binding, so a token copied onto another task fails.
 */
export type LocationBinding = Readonly<Record<string, string | number | boolean>>

const ALG = 'dir'
const ENC = 'A256GCM'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * Encrypts result locations into opaque tokens that may leave for the control
 * plane, and back. Uses a subkey of the ring's keys, derived for this purpose
 * alone.
 *
 * Decryption accepts only what this class produces: `alg: dir` with
 * `enc: A256GCM` and a known `kid`. Anything else raises a typed error.
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
export class LocationCipher {
  readonly #keys: KeyRing

  constructor(keys: KeyRing) {
    if (!isKeyRing(keys)) throw new InvalidArgumentError('LocationCipher expects a KeyRing')
    this.#keys = keys
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

  /**
   * Encrypts a location under the ring's active key.
   *
   * @example
   * ```ts
   * const token = await cipher.encrypt('s3://bucket/key.json')
   * ```
   */
  async encrypt(location: string, binding?: LocationBinding): Promise<string> {
    if (typeof location !== 'string' || location === '') {
      throw new InvalidArgumentError('a location to encrypt must be a non-empty string')
    }
    const kid = this.#keys.activeKid
    const header: CompactJWEHeaderParameters = { alg: ALG, enc: ENC, kid }
    if (binding !== undefined) header.bnd = this.#bindingTag(binding, kid)
    const jwe = await new CompactEncrypt(encoder.encode(location))
      .setProtectedHeader(header)
      .encrypt(deriveSubkey(this.#keys, 'location', kid))
    return LOCATION_TOKEN_PREFIX + jwe
  }

  /**
   * Decrypts a token made by {@link LocationCipher.encrypt}.
   *
   * @throws {TokenInvalidError} malformed, truncated or modified token (`ERR_TOKEN_INVALID`).
   * @throws {TokenAlgorithmError} an algorithm this class never produces (`ERR_TOKEN_ALGORITHM`).
   * @throws {UnknownKeyError} a kid the ring does not hold (`ERR_UNKNOWN_KID`).
   * @throws {TokenBindingError} a binding other than the one given (`ERR_TOKEN_BINDING`).
   *
   * @example
   * ```ts
   * const location = await cipher.decrypt(token)
   * ```
   */
  async decrypt(token: string, binding?: LocationBinding): Promise<string> {
    if (typeof token !== 'string' || !LocationCipher.isToken(token)) {
      throw new TokenInvalidError(`expected a location token starting with ${LOCATION_TOKEN_PREFIX}`)
    }
    const jwe = token.slice(LOCATION_TOKEN_PREFIX.length)
    let header: ReturnType<typeof decodeProtectedHeader>
    try {
      header = decodeProtectedHeader(jwe)
    } catch {
      throw new TokenInvalidError('location token has no readable protected header')
    }
    // Checked before any decryption: never let the token choose the algorithm.
    if (header.alg !== ALG || header.enc !== ENC) {
      throw new TokenAlgorithmError(
        `location token must use alg ${ALG} and enc ${ENC}, found alg ${String(header.alg)} and enc ${String(header.enc)}`,
      )
    }
    if (typeof header.kid !== 'string') throw new TokenInvalidError('location token has no kid')
    if (!this.#keys.has(header.kid)) {
      throw new UnknownKeyError(`location token was made with kid ${JSON.stringify(header.kid)}, which the key ring does not hold`)
    }
    let plaintext: Uint8Array
    try {
      const result = await compactDecrypt(jwe, deriveSubkey(this.#keys, 'location', header.kid), {
        keyManagementAlgorithms: [ALG],
        contentEncryptionAlgorithms: [ENC],
      })
      plaintext = result.plaintext
    } catch (err) {
      if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
        throw new TokenAlgorithmError('location token uses an algorithm that is not allowed')
      }
      throw new TokenInvalidError('location token is malformed, truncated or was modified')
    }
    // The header is authenticated as AAD, so `bnd` is what the encrypter wrote.
    const expected = binding === undefined ? undefined : this.#bindingTag(binding, header.kid)
    if (header.bnd !== expected) {
      throw new TokenBindingError(
        header.bnd === undefined
          ? 'location token is not bound, but a binding was required'
          : 'location token is bound to another context (flow, task or run) than the one given',
      )
    }
    return decoder.decode(plaintext)
  }

  toString(): string {
    return `LocationCipher(${REDACTED})`
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return this.toString()
  }

  // A keyed tag, not the binding itself: flow and task names stay out of the
  // header, and a guessed binding cannot be confirmed without the key.
  #bindingTag(binding: LocationBinding, kid: string): string {
    if (typeof binding !== 'object' || binding === null) {
      throw new InvalidArgumentError('a location binding must be an object of strings, numbers or booleans')
    }
    const canonical = JSON.stringify(Object.keys(binding).sort().map((k) => [k, binding[k]]))
    return createHmac('sha256', deriveSubkey(this.#keys, 'binding', kid)).update(canonical).digest('base64url')
  }
}
