import { createCipheriv, createDecipheriv, randomFillSync, type KeyObject } from 'node:crypto'
import { TokenAlgorithmError, TokenInvalidError } from '../errors.js'

/*
 * The compact JWE serialization (RFC 7516, section 7.1) for exactly one
 * algorithm pair: `alg: dir` (the key is the content encryption key) and
 * `enc: A256GCM`. It is what jose's `CompactEncrypt` emits for that pair,
 * byte for byte:
 *
 *   BASE64URL(UTF8(header)) '.' '' '.' BASE64URL(IV) '.' BASE64URL(ciphertext) '.' BASE64URL(tag)
 *
 * with a 96-bit random IV, a 128-bit tag, and the ASCII of the first part as
 * the additional authenticated data (section 5.1, step 14). The AEAD is
 * node:crypto's AES-256-GCM (OpenSSL); nothing here is a cipher of its own,
 * only the serialization around it. Why not jose itself: jose goes through
 * WebCrypto, which is asynchronous and costs a key import and several
 * promise turns per token; a token here is one synchronous OpenSSL call
 * (see bench/tokens.ts).
 */

const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
// IVs are drawn from the CSPRNG in batches: one `randomFillSync` per 256 tokens instead of one per token.
const IV_POOL = Buffer.alloc(IV_BYTES * 256)
let ivOffset = IV_POOL.length
const BASE64URL = /^[A-Za-z0-9_-]*$/
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
// Protected headers repeat (one per kid and binding): each is parsed once. Bounded.
const HEADER_CACHE_LIMIT = 1024
const headers = new Map<string, Readonly<Record<string, unknown>>>()
// And each one's AAD bytes, on the sealing side.
const aads = new Map<string, { readonly protectedHeader: string; readonly aad: Buffer }>()

/**
 * The protected header this module writes: `alg` and `enc` first, as jose's
 * `setProtectedHeader({ alg, enc, ... })` would serialize them.
 *
 * @example
 * ```ts
 * const header: DirHeader = { alg: 'dir', enc: 'A256GCM', kid: keys.activeKid }
 * ```
 */
export interface DirHeader {
  readonly alg: 'dir'
  readonly enc: 'A256GCM'
  readonly [parameter: string]: unknown
}

/**
 * Encrypts `plaintext` (UTF-8) into a compact JWE under `key` (a 256-bit
 * secret KeyObject), with `header` as the protected header, serialized with
 * `JSON.stringify` in its own key order. `iv` is for known-answer tests
 * only (RFC vectors, byte-for-byte comparison with jose): an IV must never
 * be used twice under one key, so callers leave it to the CSPRNG.
 *
 * @example
 * ```ts
 * const jwe = sealCompact(createSecretKey(bytes), { alg: 'dir', enc: 'A256GCM', kid }, 'results/1.json')
 * await compactDecrypt(jwe, bytes) // jose opens it
 * ```
 */
export function sealCompact(key: KeyObject, header: DirHeader, plaintext: string, iv: Buffer = nextIv()): string {
  if (iv.length !== IV_BYTES) throw new TokenInvalidError(`an A256GCM IV has ${IV_BYTES} bytes`)
  const json = JSON.stringify(header)
  let encoded = aads.get(json)
  if (encoded === undefined) {
    const protectedHeader = Buffer.from(json, 'utf8').toString('base64url')
    encoded = { protectedHeader, aad: Buffer.from(protectedHeader, 'latin1') }
    if (aads.size >= HEADER_CACHE_LIMIT) aads.clear()
    aads.set(json, encoded)
  }
  const { protectedHeader, aad } = encoded
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad)
  const head = cipher.update(plaintext, 'utf8')
  const tail = cipher.final()
  const ciphertext = tail.length === 0 ? head : Buffer.concat([head, tail])
  return `${protectedHeader}..${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`
}

/**
 * A compact JWE split and its protected header read, nothing decrypted yet:
 * the caller checks the header (algorithms, `kid`) before choosing a key.
 *
 * @example
 * ```ts
 * const parsed = parseCompact(jwe)
 * if (parsed.header.alg !== 'dir') throw new TokenAlgorithmError('…')
 * ```
 */
export interface ParsedCompact {
  readonly header: Readonly<Record<string, unknown>>
  readonly protectedHeader: string
  readonly encryptedKey: string
  readonly iv: string
  readonly ciphertext: string
  readonly tag: string
}

/**
 * Splits a compact JWE into its five parts and parses its protected header
 * (strict base64url, strict UTF-8, a JSON object).
 *
 * @throws {TokenInvalidError} when it is not five parts or the header is unreadable.
 * @example
 * ```ts
 * const { header } = parseCompact(jwe) // { alg: 'dir', enc: 'A256GCM', kid: '…' }
 * ```
 */
export function parseCompact(jwe: string): ParsedCompact {
  const parts = jwe.split('.')
  if (parts.length !== 5) throw new TokenInvalidError('token is not a compact JWE (five parts)')
  const [protectedHeader, encryptedKey, iv, ciphertext, tag] = parts as [string, string, string, string, string]
  let header = headers.get(protectedHeader)
  if (header === undefined) {
    header = readHeader(protectedHeader)
    if (headers.size >= HEADER_CACHE_LIMIT) headers.clear()
    headers.set(protectedHeader, header)
  }
  return { header, protectedHeader, encryptedKey, iv, ciphertext, tag }
}

/**
 * Decrypts a parsed compact JWE whose header the caller has already checked
 * (`alg: dir`, `enc: A256GCM`, its `kid`). Refuses, as jose does, a `zip`
 * or `crit` parameter (this module never writes them), an encrypted key
 * (`dir` has none), and an IV or tag of the wrong length; then lets
 * AES-GCM authenticate the header, IV, ciphertext and tag together.
 *
 * @throws {TokenAlgorithmError} for `zip` or `crit`.
 * @throws {TokenInvalidError} for a malformed, truncated or modified token.
 * @example
 * ```ts
 * const plaintext = openCompact(key, parseCompact(jwe)) // Buffer
 * ```
 */
export function openCompact(key: KeyObject, parsed: ParsedCompact): Buffer {
  if (parsed.header.zip !== undefined) throw new TokenAlgorithmError('token uses compression (zip), which is not allowed')
  if (parsed.header.crit !== undefined) throw new TokenAlgorithmError('token uses critical extensions (crit), which are not allowed')
  if (parsed.encryptedKey !== '') throw new TokenInvalidError('token is malformed, truncated or was modified')
  if (key.symmetricKeySize !== KEY_BYTES) throw new TokenInvalidError('token is malformed, truncated or was modified')
  let iv: Buffer
  let ciphertext: Buffer
  let tag: Buffer
  try {
    iv = strictBase64url(parsed.iv)
    ciphertext = strictBase64url(parsed.ciphertext)
    tag = strictBase64url(parsed.tag)
  } catch {
    throw new TokenInvalidError('token is malformed, truncated or was modified')
  }
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new TokenInvalidError('token is malformed, truncated or was modified')
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.from(parsed.protectedHeader, 'latin1'))
    decipher.setAuthTag(tag)
    const head = decipher.update(ciphertext)
    const tail = decipher.final()
    return tail.length === 0 ? head : Buffer.concat([head, tail])
  } catch {
    throw new TokenInvalidError('token is malformed, truncated or was modified')
  }
}

function readHeader(protectedHeader: string): Readonly<Record<string, unknown>> {
  let header: unknown
  try {
    header = JSON.parse(strictUtf8.decode(strictBase64url(protectedHeader)))
  } catch {
    throw new TokenInvalidError('token has no readable protected header')
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new TokenInvalidError('token has no readable protected header')
  }
  // Frozen: the cached object is shared by every token with this header.
  return Object.freeze(header as Record<string, unknown>)
}

// Node's base64url decoder skips characters outside the alphabet; a token
// must not have two spellings, so anything that does not re-encode to
// itself is refused.
function strictBase64url(text: string): Buffer {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new TokenInvalidError('not base64url')
  const bytes = Buffer.from(text, 'base64url')
  if (bytes.toString('base64url') !== text) throw new TokenInvalidError('not canonical base64url')
  return bytes
}

function nextIv(): Buffer {
  if (ivOffset === IV_POOL.length) {
    randomFillSync(IV_POOL)
    ivOffset = 0
  }
  // A copy: the pool is refilled in place, and the IV goes into the token.
  const iv = Buffer.from(IV_POOL.subarray(ivOffset, ivOffset + IV_BYTES))
  ivOffset += IV_BYTES
  return iv
}
