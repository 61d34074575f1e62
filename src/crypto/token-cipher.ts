import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'
import {
  InvalidArgumentError,
  TokenAlgorithmError,
  TokenBindingError,
  TokenInvalidError,
  UnknownKeyError,
} from '../errors.js'
import { openCompact, parseCompact, sealCompact } from './compact-jwe.js'
import { deriveSubkeyObject, isKeyRing, type KeyPurpose, type KeyRing } from './key-ring.js'
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
const decoder = new TextDecoder()
const BINDING_CACHE_LIMIT = 1024

/**
 * The token format shared by {@link LocationCipher} and {@link ValueCipher},
 * version 1: a fixed prefix, then a compact JWE (`alg: dir`, `enc: A256GCM`)
 * whose protected header carries the `kid` and, when the token is bound,
 * `bnd`, a keyed tag of the binding. Each cipher uses its own subkey, so a
 * token of one kind never opens as the other.
 *
 * Decryption accepts only what this class produces: `alg: dir` with
 * `enc: A256GCM` and a known `kid`. Anything else raises a typed error.
 *
 * The JWE is made and opened with node:crypto's AES-256-GCM
 * (`compact-jwe.ts`), not through jose's WebCrypto path: the same bytes
 * (jose opens these tokens and these open jose's; test/crypto/token-cipher.test.ts
 * checks both ways and the RFC 7516 A256GCM vectors) at several times the
 * speed (bench/tokens.ts). Subkeys are derived once and kept as KeyObjects.
 */
export abstract class TokenCipher {
  readonly #keys: KeyRing
  readonly #purpose: KeyPurpose
  readonly #prefix: string
  readonly #bindingTags = new Map<string, string>()

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
  encrypt(plaintext: string, binding?: TokenBinding): Promise<string> {
    // The work is synchronous; a throw inside the executor becomes the rejection.
    return new Promise((resolve) => resolve(this.#encrypt(plaintext, binding)))
  }

  #encrypt(plaintext: string, binding: TokenBinding | undefined): string {
    if (typeof plaintext !== 'string' || plaintext === '') {
      throw new InvalidArgumentError(`${this.constructor.name} encrypts a non-empty string`)
    }
    const kid = this.#keys.activeKid
    // Key order as jose's setProtectedHeader({ alg, enc, kid, bnd }) serializes it.
    const header: { alg: typeof ALG; enc: typeof ENC; kid: string; bnd?: string } = { alg: ALG, enc: ENC, kid }
    if (binding !== undefined) header.bnd = this.#bindingTag(binding, kid)
    return this.#prefix + sealCompact(deriveSubkeyObject(this.#keys, this.#purpose, kid), header, plaintext)
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
  decrypt(token: string, binding?: TokenBinding): Promise<string> {
    return new Promise((resolve) => resolve(this.#decrypt(token, binding)))
  }

  #decrypt(token: string, binding: TokenBinding | undefined): string {
    if (typeof token !== 'string' || !token.startsWith(this.#prefix)) {
      throw new TokenInvalidError(`expected a token starting with ${this.#prefix}`)
    }
    const parsed = parseCompact(token.slice(this.#prefix.length))
    const { header } = parsed
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
    const plaintext = openCompact(deriveSubkeyObject(this.#keys, this.#purpose, header.kid), parsed)
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
    // A task binds every result it writes to the same context: the tag is an
    // HMAC of a few names, kept per kid and binding (bounded, like any cache here).
    const cacheKey = `${kid}\u0000${canonical}`
    let tag = this.#bindingTags.get(cacheKey)
    if (tag === undefined) {
      tag = createHmac('sha256', deriveSubkeyObject(this.#keys, 'binding', kid)).update(canonical).digest('base64url')
      if (this.#bindingTags.size >= BINDING_CACHE_LIMIT) this.#bindingTags.clear()
      this.#bindingTags.set(cacheKey, tag)
    }
    return tag
  }
}
