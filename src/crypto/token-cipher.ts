import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'
import { CompactEncrypt, compactDecrypt } from 'jose'
import {
  InvalidArgumentError,
  TokenAlgorithmError,
  TokenBindingError,
  TokenInvalidError,
  UnknownKeyError,
} from '../errors.js'
import { openCompact, parseCompact, sealCompact } from './compact-jwe.js'
import { deriveSubkeyObject, isKeyRing, keyKind, sealingPrivateKey, sealingPublicKey, type KeyPurpose, type KeyRing } from './key-ring.js'
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
const SEALING_ALG = 'ECDH-ES+A256KW'
const ENC = 'A256GCM'
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const BINDING_CACHE_LIMIT = 1024
// Sealed tokens this process made, newest last, bounded: what lets a write-only
// worker tell its own tokens from data shaped like one (see sealedInThisProcess).
const SEALED_HERE_LIMIT = 8192
const sealedHere = new Set<string>()

/**
 * Whether this process sealed `token` (under a sealing key, among the last
 * 8192 sealed). A write-only worker cannot open a sealed token to prove it
 * genuine, so the door asks this instead; a token it answers `false` for is
 * sealed again rather than let out as it is. Internal to the SDK.
 *
 * @example
 * ```ts
 * const token = await new LocationCipher(workerRing).encrypt('etl/load/42.json')
 * sealedInThisProcess(token)   // true
 * ```
 */
export function sealedInThisProcess(token: string): boolean {
  return sealedHere.has(token)
}

/**
 * The token format shared by {@link LocationCipher} and {@link ValueCipher},
 * version 1: a fixed prefix, then a compact JWE (`alg: dir`, `enc: A256GCM`)
 * whose protected header carries the `kid` and, when the token is bound,
 * `bnd`, a keyed tag of the binding. Each cipher uses its own subkey, so a
 * token of one kind never opens as the other.
 *
 * Under a sealing key (an X25519 pair, see `KeyKind`) the JWE is
 * `alg: ECDH-ES+A256KW`, `enc: A256GCM`, made and opened by jose (RFC 7518
 * section 4.6 on X25519, RFC 8037): the content key is wrapped for the
 * public key, so a worker holding only that public key encrypts and cannot
 * decrypt. The header carries `kid`, `typ` (`airlock-location` or
 * `airlock-value`: both kinds are sealed to one public key, so the kind is
 * named in the authenticated header instead of by a subkey), jose's `epk`
 * and, when bound, `bnd`:
 * the same keyed tag, keyed by the sealing key's fingerprint secret (shared by
 * worker and auditor; it opens nothing), and authenticated as AAD as before.
 * The prefix does not change: the header says which kind of key made a token.
 *
 * Decryption accepts only what this class produces: `alg: dir` or
 * `alg: ECDH-ES+A256KW`, each with `enc: A256GCM`, a known `kid` of the
 * matching kind, no `zip` and no `crit`, all checked before any decryption.
 * Anything else raises a typed error; a sealed token given to a ring that
 * holds only the public key raises `ERR_SEALING_KEY_PUBLIC_ONLY`.
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

  #encrypt(plaintext: string, binding: TokenBinding | undefined): string | Promise<string> {
    if (typeof plaintext !== 'string' || plaintext === '') {
      throw new InvalidArgumentError(`${this.constructor.name} encrypts a non-empty string`)
    }
    const kid = this.#keys.activeKid
    if (keyKind(this.#keys, kid) === 'sealing') return this.#seal(plaintext, binding, kid)
    // Key order as jose's setProtectedHeader({ alg, enc, kid, bnd }) serializes it.
    const header: { alg: typeof ALG; enc: typeof ENC; kid: string; bnd?: string } = { alg: ALG, enc: ENC, kid }
    if (binding !== undefined) header.bnd = this.#bindingTag(binding, kid)
    return this.#prefix + sealCompact(deriveSubkeyObject(this.#keys, this.#purpose, kid), header, plaintext)
  }

  async #seal(plaintext: string, binding: TokenBinding | undefined, kid: string): Promise<string> {
    const header: { alg: typeof SEALING_ALG; enc: typeof ENC; kid: string; typ: string; bnd?: string } = { alg: SEALING_ALG, enc: ENC, kid, typ: this.#sealedType }
    if (binding !== undefined) header.bnd = this.#bindingTag(binding, kid)
    const jwe = await new CompactEncrypt(encoder.encode(plaintext)).setProtectedHeader(header).encrypt(sealingPublicKey(this.#keys, kid).key)
    const token = this.#prefix + jwe
    if (sealedHere.size >= SEALED_HERE_LIMIT) sealedHere.delete(sealedHere.values().next().value!)
    sealedHere.add(token)
    return token
  }

  /**
   * Decrypts a token made by {@link TokenCipher.encrypt}.
   *
   * @throws {TokenInvalidError} malformed, truncated or modified token (`ERR_TOKEN_INVALID`).
   * @throws {TokenAlgorithmError} an algorithm this class never produces (`ERR_TOKEN_ALGORITHM`).
   * @throws {UnknownKeyError} a kid the ring does not hold (`ERR_UNKNOWN_KID`).
   * @throws {TokenBindingError} a binding other than the one given (`ERR_TOKEN_BINDING`).
   * @throws {SealingKeyPublicOnlyError} sealed to a key this ring holds only the public half of
   *   (`ERR_SEALING_KEY_PUBLIC_ONLY`): a write-only worker's ring.
   *
   * @example
   * ```ts
   * const location = await cipher.decrypt(token)
   * ```
   */
  decrypt(token: string, binding?: TokenBinding): Promise<string> {
    return new Promise((resolve) => resolve(this.#decrypt(token, binding)))
  }

  #decrypt(token: string, binding: TokenBinding | undefined): string | Promise<string> {
    if (typeof token !== 'string' || !token.startsWith(this.#prefix)) {
      throw new TokenInvalidError(`expected a token starting with ${this.#prefix}`)
    }
    const parsed = parseCompact(token.slice(this.#prefix.length))
    const { header } = parsed
    // Checked before any decryption: never let the token choose the algorithm.
    if ((header.alg !== ALG && header.alg !== SEALING_ALG) || header.enc !== ENC) {
      throw new TokenAlgorithmError(
        `token must use alg ${ALG} or ${SEALING_ALG} with enc ${ENC}, found alg ${String(header.alg)} and enc ${String(header.enc)}`,
      )
    }
    if (typeof header.kid !== 'string') throw new TokenInvalidError('token has no kid')
    if (!this.#keys.has(header.kid)) {
      throw new UnknownKeyError(`token was made with kid ${JSON.stringify(header.kid)}, which the key ring does not hold`)
    }
    const kind = keyKind(this.#keys, header.kid)
    if ((kind === 'sealing') !== (header.alg === SEALING_ALG)) {
      throw new TokenAlgorithmError(`token uses alg ${String(header.alg)}, but its kid names a ${kind} key`)
    }
    if (kind === 'sealing' && header.typ !== this.#sealedType) {
      throw new TokenInvalidError(`token is not a ${this.#purpose} token (its typ is ${JSON.stringify(header.typ)})`)
    }
    if (kind === 'sealing') return this.#open(token.slice(this.#prefix.length), parsed.header, header.kid, binding)
    const plaintext = openCompact(deriveSubkeyObject(this.#keys, this.#purpose, header.kid), parsed)
    this.#checkBinding(header, binding)
    return decoder.decode(plaintext)
  }

  async #open(jwe: string, header: Readonly<Record<string, unknown>>, kid: string, binding: TokenBinding | undefined): Promise<string> {
    if (header.zip !== undefined) throw new TokenAlgorithmError('token uses compression (zip), which is not allowed')
    if (header.crit !== undefined) throw new TokenAlgorithmError('token uses critical extensions (crit), which are not allowed')
    const { key } = sealingPrivateKey(this.#keys, kid)
    let plaintext: Uint8Array
    try {
      ;({ plaintext } = await compactDecrypt(jwe, key, { keyManagementAlgorithms: [SEALING_ALG], contentEncryptionAlgorithms: [ENC] }))
    } catch {
      throw new TokenInvalidError('token is malformed, truncated or was modified')
    }
    this.#checkBinding(header, binding)
    return decoder.decode(plaintext)
  }

  #checkBinding(header: Readonly<Record<string, unknown>>, binding: TokenBinding | undefined): void {
    const kid = header.kid as string
    // The header is authenticated as AAD, so `bnd` is what the encrypter wrote.
    const expected = binding === undefined ? undefined : this.#bindingTag(binding, kid)
    if (header.bnd !== expected) {
      throw new TokenBindingError(
        header.bnd === undefined
          ? 'token is not bound, but a binding was required'
          : 'token is bound to another context (flow, task or run) than the one given',
      )
    }
  }

  // Every sealed token kind is sealed to the same public key, so the kind is
  // named in the authenticated header: a value token never opens as a location.
  get #sealedType(): string {
    return `airlock-${this.#purpose}`
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
