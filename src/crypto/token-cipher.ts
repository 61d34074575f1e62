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
import { deriveSubkey, isKeyRing, type KeyPurpose, type KeyRing } from './key-ring.js'
import { REDACTED } from './redacted.js'

/**
 * Context a token is bound to, such as `{ flowName, taskName }`. A bound token
 * decrypts only with the same binding, so a token copied onto another task fails.
 *
 * @example
 * ```ts
 * const binding: TokenBinding = { flowName: 'etl', taskName: 'load' }
 * const token = await new LocationCipher(keys).encrypt('etl/load/42.json', binding)
 * await new LocationCipher(keys).decrypt(token, { ...binding, taskName: 'extract' })   // throws ERR_TOKEN_BINDING
 * ```
 */
export type TokenBinding = Readonly<Record<string, string | number | boolean>>

const ALG = 'dir'
const ENC = 'A256GCM'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * The token format shared by {@link LocationCipher} and {@link ValueCipher},
 * version 1: a fixed prefix, then a compact JWE (`alg: dir`, `enc: A256GCM`)
 * whose protected header carries the `kid` and, when the token is bound,
 * `bnd`, a keyed tag of the binding. Each cipher uses its own subkey, so a
 * token of one kind never opens as the other.
 *
 * Decryption accepts only what this class produces: `alg: dir` with
 * `enc: A256GCM` and a known `kid`. Anything else raises a typed error.
 */
export abstract class TokenCipher {
  readonly #keys: KeyRing
  readonly #purpose: KeyPurpose
  readonly #prefix: string

  protected constructor(keys: KeyRing, purpose: KeyPurpose, prefix: string) {
    if (!isKeyRing(keys)) throw new InvalidArgumentError(`${new.target.name} expects a KeyRing`)
    this.#keys = keys
    this.#purpose = purpose
    this.#prefix = prefix
  }

  /**
   * Encrypts a string under the ring's active key.
   *
   * @example
   * ```ts
   * const token = await cipher.encrypt('s3://bucket/key.json')
   * ```
   */
  async encrypt(plaintext: string, binding?: TokenBinding): Promise<string> {
    if (typeof plaintext !== 'string' || plaintext === '') {
      throw new InvalidArgumentError(`${this.constructor.name} encrypts a non-empty string`)
    }
    const kid = this.#keys.activeKid
    const header: CompactJWEHeaderParameters = { alg: ALG, enc: ENC, kid }
    if (binding !== undefined) header.bnd = this.#bindingTag(binding, kid)
    const jwe = await new CompactEncrypt(encoder.encode(plaintext))
      .setProtectedHeader(header)
      .encrypt(deriveSubkey(this.#keys, this.#purpose, kid))
    return this.#prefix + jwe
  }

  /**
   * Decrypts a token made by {@link TokenCipher.encrypt}.
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
  async decrypt(token: string, binding?: TokenBinding): Promise<string> {
    if (typeof token !== 'string' || !token.startsWith(this.#prefix)) {
      throw new TokenInvalidError(`expected a token starting with ${this.#prefix}`)
    }
    const jwe = token.slice(this.#prefix.length)
    let header: ReturnType<typeof decodeProtectedHeader>
    try {
      header = decodeProtectedHeader(jwe)
    } catch {
      throw new TokenInvalidError('token has no readable protected header')
    }
    // Checked before any decryption: never let the token choose the algorithm.
    if (header.alg !== ALG || header.enc !== ENC) {
      throw new TokenAlgorithmError(
        `token must use alg ${ALG} and enc ${ENC}, found alg ${String(header.alg)} and enc ${String(header.enc)}`,
      )
    }
    if (typeof header.kid !== 'string') throw new TokenInvalidError('token has no kid')
    if (!this.#keys.has(header.kid)) {
      throw new UnknownKeyError(`token was made with kid ${JSON.stringify(header.kid)}, which the key ring does not hold`)
    }
    let plaintext: Uint8Array
    try {
      const result = await compactDecrypt(jwe, deriveSubkey(this.#keys, this.#purpose, header.kid), {
        keyManagementAlgorithms: [ALG],
        contentEncryptionAlgorithms: [ENC],
      })
      plaintext = result.plaintext
    } catch (err) {
      if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
        throw new TokenAlgorithmError('token uses an algorithm that is not allowed')
      }
      throw new TokenInvalidError('token is malformed, truncated or was modified')
    }
    // The header is authenticated as AAD, so `bnd` is what the encrypter wrote.
    const expected = binding === undefined ? undefined : this.#bindingTag(binding, header.kid)
    if (header.bnd !== expected) {
      throw new TokenBindingError(
        header.bnd === undefined
          ? 'token is not bound, but a binding was required'
          : 'token is bound to another context (flow, task or run) than the one given',
      )
    }
    return decoder.decode(plaintext)
  }

  toString(): string {
    return `${this.constructor.name}(${REDACTED})`
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return this.toString()
  }

  // A keyed tag, not the binding itself: flow and task names stay out of the
  // header, and a guessed binding cannot be confirmed without the key.
  #bindingTag(binding: TokenBinding, kid: string): string {
    if (typeof binding !== 'object' || binding === null) {
      throw new InvalidArgumentError('a location binding must be an object of strings, numbers or booleans')
    }
    const canonical = JSON.stringify(Object.keys(binding).sort().map((k) => [k, binding[k]]))
    return createHmac('sha256', deriveSubkey(this.#keys, 'binding', kid)).update(canonical).digest('base64url')
  }
}
