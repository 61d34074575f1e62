import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { z } from 'zod'
import { InvalidArgumentError, KeySetError, SealingKeyPublicOnlyError, UnknownKeyError } from '../errors.js'
import { REDACTED } from './redacted.js'

/**
 * Whether a key encrypts new data (`active`) or only decrypts old data (`retired`).
 *
 * @example
 * ```ts
 * for (const { kid, status } of keys.list()) if (status === 'retired') console.log(kid, 'decrypts old data only')
 * ```
 */
export type KeyStatus = 'active' | 'retired'

/**
 * What a key encrypts with. A `symmetric` key is one 256-bit secret that both
 * encrypts and decrypts. A `sealing` key is an X25519 key pair: tokens and
 * payload keys are sealed to its public half, and only the private half opens
 * them, so a worker given the public half alone writes what it cannot read.
 *
 * @example
 * ```ts
 * KeyRing.generateSealing().list()[0].kind   // 'sealing'
 * ```
 */
export type KeyKind = 'symmetric' | 'sealing'

/**
 * What a key ring says about one of its keys. Never the key bytes.
 * `canDecrypt` is false for a sealing key held without its private half.
 *
 * @example
 * ```ts
 * const info: KeyInfo = keys.rotate()   // { kid: '20261121-3f9a1c2b', createdAt: Date, status: 'active', kind: 'symmetric', canDecrypt: true }
 * ```
 */
export interface KeyInfo {
  readonly kid: string
  readonly createdAt: Date
  readonly status: KeyStatus
  readonly kind: KeyKind
  readonly canDecrypt: boolean
}

/**
 * One symmetric key in a key set: a 256-bit `oct` JWK plus two airlock
 * members (`status`, `createdAt`).
 *
 * @example
 * ```ts
 * const entry: SymmetricKeyEntry = { kty: 'oct', kid: '20261121-3f9a1c2b', k: '<43 chars>', status: 'active', createdAt: '2026-11-21T09:00:00.000Z' }
 * ```
 */
export interface SymmetricKeyEntry {
  kty: 'oct'
  kid: string
  /** The 32 key bytes, base64url without padding. */
  k: string
  status: KeyStatus
  createdAt: string
}

/**
 * One sealing key in a key set (version 2): an X25519 `OKP` JWK (RFC 8037)
 * whose private half `d` is absent from a worker's (public-only) file, plus
 * `fingerprintSecret`, the 256-bit secret that keys fingerprints and token
 * binding tags. It is shared by the worker and the auditor and opens nothing:
 * it is kept apart from the decryption key on purpose (docs/threat-model.md).
 *
 * @example
 * ```ts
 * const entry: SealingKeyEntry = { kty: 'OKP', crv: 'X25519', kid: '20261121-3f9a1c2b', x: '<43 chars>',
 *   fingerprintSecret: '<43 chars>', status: 'active', createdAt: '2026-11-21T09:00:00.000Z' }
 * ```
 */
export interface SealingKeyEntry {
  kty: 'OKP'
  crv: 'X25519'
  kid: string
  /** The X25519 public key, base64url. */
  x: string
  /** The X25519 private key, base64url; only in the auditor's (private) file. */
  d?: string
  /** 32 bytes, base64url: keys fingerprints and binding tags, never decryption. */
  fingerprintSecret: string
  status: KeyStatus
  createdAt: string
}

/**
 * The key-set wire format. Version 1 (no `version` member) is a JWK Set of
 * 256-bit `oct` keys; version 2 (`"version": 2`) also holds X25519 sealing
 * keys. A ring writes version 1 while it holds symmetric keys only, so a key
 * file made without sealing reads exactly as before, in older releases too.
 * Exactly one key is `active`.
 *
 * ```json
 * { "keys": [ { "kty": "oct", "kid": "20261121-3f9a1c2b", "k": "<43 base64url chars>",
 *               "status": "active", "createdAt": "2026-11-21T09:00:00.000Z" } ] }
 * { "version": 2, "keys": [ { "kty": "OKP", "crv": "X25519", "kid": "20261207-0a1b2c3d", "x": "<43>", "d": "<43>",
 *               "fingerprintSecret": "<43>", "status": "active", "createdAt": "2026-12-07T09:00:00.000Z" } ] }
 * ```
 *
 * @example
 * ```ts
 * const set: KeySet = keys.export()   // key bytes included: store it like a password
 * const same = KeyRing.fromJSON(set)
 * ```
 */
export interface KeySet {
  version?: 2
  keys: (SymmetricKeyEntry | SealingKeyEntry)[]
}

const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
const KEY_BYTES = 32

const B64_32 = /^[A-Za-z0-9_-]{43}$/
const kidSchema = z.string().regex(KID_PATTERN, 'kid must be 1-64 characters of [A-Za-z0-9_-]')
const symmetricSchema = z.object({
  kty: z.literal('oct'),
  kid: kidSchema,
  k: z.string().regex(B64_32, 'k must be 32 bytes in base64url (43 characters)'),
  status: z.enum(['active', 'retired']),
  createdAt: z.iso.datetime(),
})
const sealingSchema = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('X25519'),
  kid: kidSchema,
  x: z.string().regex(B64_32, 'x must be an X25519 public key in base64url (43 characters)'),
  d: z.string().regex(B64_32, 'd must be an X25519 private key in base64url (43 characters)').optional(),
  fingerprintSecret: z.string().regex(B64_32, 'fingerprintSecret must be 32 bytes in base64url (43 characters)'),
  status: z.enum(['active', 'retired']),
  createdAt: z.iso.datetime(),
})
const keySetV1Schema = z.object({ keys: z.array(symmetricSchema).min(1, 'a key set holds at least one key') })
const keySetV2Schema = z.object({
  version: z.literal(2),
  keys: z.array(z.discriminatedUnion('kty', [symmetricSchema, sealingSchema])).min(1, 'a key set holds at least one key'),
})

interface SymmetricEntry {
  readonly info: KeyInfo
  readonly kind: 'symmetric'
  readonly bytes: Uint8Array
}

interface SealingEntry {
  readonly info: KeyInfo
  readonly kind: 'sealing'
  readonly publicBytes: Uint8Array
  readonly privateBytes: Uint8Array | undefined
  /** The fingerprint secret: what HKDF derives the `fingerprint` and `binding` subkeys from; opens nothing. */
  readonly bytes: Uint8Array
}

type KeyEntry = SymmetricEntry | SealingEntry

/**
 * Subkey purposes. Each use of a ring key gets its own HKDF-derived subkey, so
 * a location token, a fingerprint and a payload never share key material.
 */
export type KeyPurpose = 'location' | 'value' | 'binding' | 'fingerprint' | 'payload'

const HKDF_INFO_PREFIX = 'airlock-sdk/v1/'

// Key bytes are reachable only through this module-private map, via
// `deriveSubkey`, which is internal to src/crypto (not exported from the
// package). No property of a KeyRing holds key bytes.
const material = new WeakMap<KeyRing, Map<string, KeyEntry>>()
const sealingObjects = new WeakMap<KeyRing, Map<string, KeyObject>>()
const derived = new WeakMap<KeyRing, Map<string, Uint8Array>>()
const derivedObjects = new WeakMap<KeyRing, Map<string, KeyObject>>()

/**
 * A set of keys, each with a `kid`, a creation time and a status. One key is
 * active and encrypts; retired keys still decrypt, so rotation never strands
 * data. A key is 256-bit symmetric, or an X25519 sealing key pair (see
 * {@link KeyKind}): a ring may hold both, and the active key decides how new
 * tokens and payloads are made. A worker's ring may hold sealing keys without
 * their private half ({@link KeyRing.toPublic}): it encrypts and fingerprints,
 * and fails with `ERR_SEALING_KEY_PUBLIC_ONLY` when asked to decrypt.
 *
 * A ring prints as its kids only: `toString`, `JSON.stringify` and
 * `util.inspect` never show key bytes. Use {@link KeyRing.export} to get the
 * key set for a key file.
 *
 * @example
 * ```ts
 * import { KeyRing } from 'airlock-sdk'
 *
 * const keys = KeyRing.generate()
 * keys.rotate()                       // new active key; the old one is retired
 * console.log(String(keys))           // KeyRing(active: 20261121-..., retired: 1)
 * const copy = KeyRing.fromJSON(keys.export())
 *
 * // write-only workers: the auditor keeps the pair, workers get the public half
 * const auditor = KeyRing.generateSealing()
 * const worker = auditor.toPublic()
 * ```
 */
export class KeyRing {
  private constructor(entries: Map<string, KeyEntry>) {
    material.set(this, entries)
    derived.set(this, new Map())
  }

  /**
   * A new ring with one fresh active key.
   *
   * @example
   * ```ts
   * const keys = KeyRing.generate()
   * ```
   */
  static generate(): KeyRing {
    const entry = newKey()
    return new KeyRing(new Map([[entry.info.kid, entry]]))
  }

  /**
   * A new ring with one fresh active sealing key pair (X25519), private half
   * included: the auditor's ring. Give workers {@link KeyRing.toPublic}.
   *
   * @example
   * ```ts
   * const auditor = KeyRing.generateSealing()
   * await writeFile('worker-keys.json', JSON.stringify(auditor.toPublic().export()), { mode: 0o600 })
   * ```
   */
  static generateSealing(): KeyRing {
    const entry = newSealingKey()
    return new KeyRing(new Map([[entry.info.kid, entry]]))
  }

  /**
   * A ring from a key set object (see {@link KeySet}).
   *
   * @throws {KeySetError} when the set is malformed, has duplicate kids, or
   *   not exactly one active key. The message never contains key bytes.
   *
   * @example
   * ```ts
   * const keys = KeyRing.fromJSON(JSON.parse(text))
   * ```
   */
  static fromJSON(keySet: unknown, source = 'key set'): KeyRing {
    const version = typeof keySet === 'object' && keySet !== null && 'version' in keySet ? (keySet).version : undefined
    if (version !== undefined && version !== 2) {
      throw new KeySetError(`${source} has version ${JSON.stringify(version)}; this airlock-sdk reads key sets of version 1 (no version member) and 2`)
    }
    const parsed = (version === undefined ? keySetV1Schema : keySetV2Schema).safeParse(keySet)
    if (!parsed.success) {
      // zod issues carry paths and expectations, not the offending input.
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      const hint = version === undefined && JSON.stringify(problems).includes('oct') ? ' (a key set with sealing keys needs "version": 2)' : ''
      throw new KeySetError(`${source} is invalid: ${problems.join('; ')}${hint}`)
    }
    const entries = new Map<string, KeyEntry>()
    for (const key of parsed.data.keys) {
      if (entries.has(key.kid)) throw new KeySetError(`${source} has the kid ${key.kid} more than once`)
      const createdAt = new Date(key.createdAt)
      if (key.kty === 'oct') {
        entries.set(key.kid, {
          info: Object.freeze({ kid: key.kid, createdAt, status: key.status, kind: 'symmetric' as const, canDecrypt: true }),
          kind: 'symmetric',
          bytes: new Uint8Array(Buffer.from(key.k, 'base64url')),
        })
        continue
      }
      const publicBytes = new Uint8Array(Buffer.from(key.x, 'base64url'))
      let privateBytes: Uint8Array | undefined
      if (key.d !== undefined) {
        privateBytes = new Uint8Array(Buffer.from(key.d, 'base64url'))
        // A private half that does not match its public half would seal to one key and open with another.
        if (!Buffer.from(x25519PublicOf(privateBytes, source)).equals(Buffer.from(publicBytes))) {
          throw new KeySetError(`${source}: the sealing key ${key.kid} has a private key (d) that does not match its public key (x)`)
        }
      }
      entries.set(key.kid, {
        info: Object.freeze({ kid: key.kid, createdAt, status: key.status, kind: 'sealing' as const, canDecrypt: privateBytes !== undefined }),
        kind: 'sealing',
        publicBytes,
        privateBytes,
        bytes: new Uint8Array(Buffer.from(key.fingerprintSecret, 'base64url')),
      })
    }
    const active = [...entries.values()].filter((e) => e.info.status === 'active').length
    if (active !== 1) throw new KeySetError(`${source} must have exactly one active key, found ${active}`)
    return new KeyRing(entries)
  }

  /**
   * A ring from an environment variable holding the key set as JSON.
   *
   * @throws {KeySetError} when the variable is unset or its value is not a valid key set.
   *
   * @example
   * ```ts
   * // AIRLOCK_KEYS='{"keys":[...]}'
   * const keys = KeyRing.fromEnv()
   * ```
   */
  static fromEnv(name = 'AIRLOCK_KEYS', env: NodeJS.ProcessEnv = process.env): KeyRing {
    const text = env[name]
    if (text === undefined || text === '') throw new KeySetError(`environment variable ${name} is not set`)
    return KeyRing.fromJSON(parseJson(text, `environment variable ${name}`), `environment variable ${name}`)
  }

  /**
   * A ring from a key file (the JSON written by `airlock keys generate --out FILE`).
   *
   * @throws {KeySetError} when the file cannot be read or is not a valid key set.
   *
   * @example
   * ```ts
   * const keys = KeyRing.fromFile('secrets/airlock-keys.json')
   * ```
   */
  static fromFile(path: string): KeyRing {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      throw new KeySetError(`cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    return KeyRing.fromJSON(parseJson(text, `key file ${path}`), `key file ${path}`)
  }

  /** The kid of the key that encrypts new data. */
  get activeKid(): string {
    for (const entry of entries(this).values()) if (entry.info.status === 'active') return entry.info.kid
    // Unreachable: every constructor path guarantees one active key.
    throw new KeySetError('key ring has no active key')
  }

  /**
   * Every key's kid, creation time and status. Never key bytes.
   *
   * @example
   * ```ts
   * for (const { kid, status } of keys.list()) console.log(kid, status)
   * ```
   */
  list(): KeyInfo[] {
    return [...entries(this).values()].map((e) => e.info)
  }

  /**
   * Whether the ring holds a key with this kid.
   *
   * @example
   * ```ts
   * if (!keys.has(kid)) throw new Error('rotate the key file first')
   * ```
   */
  has(kid: string): boolean {
    return entries(this).has(kid)
  }

  /**
   * Whether the ring holds a sealing key without its private half: a
   * write-only worker's ring, which seals but cannot open what it sealed.
   *
   * @example
   * ```ts
   * KeyRing.generateSealing().toPublic().writeOnly   // true
   * KeyRing.generate().writeOnly                     // false
   * ```
   */
  get writeOnly(): boolean {
    for (const entry of entries(this).values()) if (!entry.info.canDecrypt) return true
    return false
  }

  /**
   * Adds a new active key and retires the previous one, which still decrypts.
   * The new key is of the active key's kind unless `kind` says otherwise, so
   * a ring moves from symmetric keys to sealing keys (or back) by rotating.
   * Returns the new key's info.
   *
   * @throws {SealingKeyPublicOnlyError} on a write-only ring ({@link KeyRing.writeOnly}):
   *   key pairs are made where their private halves are kept (the auditor's ring), and
   *   workers are given its {@link KeyRing.toPublic}.
   *
   * @example
   * ```ts
   * const { kid } = keys.rotate()
   * keys.rotate({ kind: 'sealing' })   // new tokens are sealed; old symmetric ones still open
   * ```
   */
  rotate(options: { kind?: KeyKind } = {}): KeyInfo {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('rotate takes { kind?: "symmetric" | "sealing" }')
    const map = entries(this)
    if (this.writeOnly) {
      throw new SealingKeyPublicOnlyError(
        'this ring holds sealing keys without their private halves (a write-only worker ring): rotate the ring that holds the private keys and give workers its toPublic()',
      )
    }
    const kind = options.kind ?? map.get(this.activeKid)!.kind
    if (kind !== 'symmetric' && kind !== 'sealing') throw new InvalidArgumentError(`rotate: kind is "symmetric" or "sealing", got ${JSON.stringify(kind)}`)
    for (const [kid, entry] of map) {
      if (entry.info.status === 'active') map.set(kid, { ...entry, info: Object.freeze({ ...entry.info, status: 'retired' }) })
    }
    const make = kind === 'sealing' ? newSealingKey : newKey
    let entry: KeyEntry = make()
    while (map.has(entry.info.kid)) entry = make()
    map.set(entry.info.kid, entry)
    return entry.info
  }

  /**
   * The ring a write-only worker gets: every sealing key without its private
   * half, and no symmetric key (a symmetric key decrypts what it encrypts).
   * Each sealing key keeps its fingerprint secret, so the worker still
   * fingerprints and binds tokens; that secret opens nothing.
   *
   * @throws {InvalidArgumentError} when the active key is not a sealing key.
   *
   * @example
   * ```ts
   * const worker = KeyRing.generateSealing().toPublic()
   * await new ValueCipher(worker).encrypt('x')   // works; decrypt throws ERR_SEALING_KEY_PUBLIC_ONLY
   * ```
   */
  toPublic(): KeyRing {
    const map = entries(this)
    if (map.get(this.activeKid)!.kind !== 'sealing') {
      throw new InvalidArgumentError('toPublic needs an active sealing key: generateSealing() or rotate({ kind: "sealing" }) first')
    }
    const publicEntries = new Map<string, KeyEntry>()
    for (const [kid, entry] of map) {
      if (entry.kind !== 'sealing') continue
      publicEntries.set(kid, { ...entry, privateBytes: undefined, info: Object.freeze({ ...entry.info, canDecrypt: false }) })
    }
    return new KeyRing(publicEntries)
  }

  /**
   * The key set, key bytes included, for the CLI and key files. Treat the
   * result as a secret: write it only to a file with owner-only permissions
   * (a worker's public-only set too: its fingerprint secrets are secrets).
   *
   * @example
   * ```ts
   * await writeFile('keys.json', JSON.stringify(keys.export()), { mode: 0o600 })
   * ```
   */
  export(): KeySet {
    const keys = [...entries(this).values()].map((e): SymmetricKeyEntry | SealingKeyEntry => {
      const { kid, status } = e.info
      const createdAt = e.info.createdAt.toISOString()
      if (e.kind === 'symmetric') return { kty: 'oct', kid, k: b64(e.bytes), status, createdAt }
      return {
        kty: 'OKP',
        crv: 'X25519',
        kid,
        x: b64(e.publicBytes),
        ...(e.privateBytes === undefined ? {} : { d: b64(e.privateBytes) }),
        fingerprintSecret: b64(e.bytes),
        status,
        createdAt,
      }
    })
    return keys.some((k) => k.kty === 'OKP') ? { version: 2, keys } : { keys }
  }

  /** Kids only. */
  toString(): string {
    const retired = this.list().filter((k) => k.status === 'retired').length
    const active = entries(this).get(this.activeKid)!.info
    const kind = active.kind === 'symmetric' ? '' : active.canDecrypt ? ' sealing' : ' sealing, public only'
    return `KeyRing(active: ${this.activeKid}${kind}, retired: ${retired})`
  }

  /** Kids only, so `JSON.stringify(ring)` is safe to log. */
  toJSON(): { type: 'KeyRing'; keys: { kid: string; status: KeyStatus; kind: KeyKind; canDecrypt: boolean }[]; secret: typeof REDACTED } {
    return {
      type: 'KeyRing',
      keys: this.list().map(({ kid, status, kind, canDecrypt }) => ({ kid, status, kind, canDecrypt })),
      secret: REDACTED,
    }
  }

  [inspect.custom](): string {
    return this.toString()
  }
}

/**
 * The subkey for one purpose under one ring key: HKDF-SHA256 with the purpose
 * as `info`. Internal to src/crypto; not part of the public surface.
 *
 * @throws {UnknownKeyError} when the ring has no key `kid`.
 */
export function deriveSubkey(ring: KeyRing, purpose: KeyPurpose, kid: string = ring.activeKid): Uint8Array {
  const cache = derived.get(ring)
  if (cache === undefined) throw new InvalidArgumentError('expected a KeyRing')
  const cacheKey = `${purpose}\u0000${kid}`
  let subkey = cache.get(cacheKey)
  if (subkey === undefined) {
    const entry = entries(ring).get(kid)
    if (entry === undefined) throw new UnknownKeyError(`no key with kid ${JSON.stringify(kid)} in the key ring`)
    // A sealing key's shared secret keys fingerprints and binding tags only; what it
    // would derive for other purposes would let a worker decrypt, so it derives nothing else.
    if (entry.kind === 'sealing' && purpose !== 'fingerprint' && purpose !== 'binding') {
      throw new InvalidArgumentError(`the key ${kid} is a sealing key: it has no ${purpose} subkey`)
    }
    subkey = new Uint8Array(hkdfSync('sha256', entry.bytes, new Uint8Array(0), HKDF_INFO_PREFIX + purpose, KEY_BYTES))
    cache.set(cacheKey, subkey)
  }
  return subkey
}

/**
 * The subkey of {@link deriveSubkey} as a secret `KeyObject`, made once per
 * ring, purpose and kid: node:crypto then takes the key as is on every call
 * (no copy from a byte array into a new key per token). Internal to
 * src/crypto.
 *
 * @throws {UnknownKeyError} when the ring has no key `kid`.
 * @example
 * ```ts
 * const key = deriveSubkeyObject(keys, 'location', kid)
 * createCipheriv('aes-256-gcm', key, iv)
 * ```
 */
export function deriveSubkeyObject(ring: KeyRing, purpose: KeyPurpose, kid: string = ring.activeKid): KeyObject {
  let cache = derivedObjects.get(ring)
  if (cache === undefined) derivedObjects.set(ring, (cache = new Map<string, KeyObject>()))
  const cacheKey = `${purpose}\u0000${kid}`
  let key = cache.get(cacheKey)
  if (key === undefined) {
    key = createSecretKey(deriveSubkey(ring, purpose, kid))
    cache.set(cacheKey, key)
  }
  return key
}

/**
 * The kind of the key `kid`. Internal to src/crypto.
 *
 * @throws {UnknownKeyError} when the ring has no key `kid`.
 * @example
 * ```ts
 * if (keyKind(keys, keys.activeKid) === 'sealing') { … }
 * ```
 */
export function keyKind(ring: KeyRing, kid: string): KeyKind {
  return entry(ring, kid).kind
}

/**
 * The X25519 public key of the sealing key `kid`, raw (32 bytes) and as a
 * KeyObject (made once). Internal to src/crypto.
 *
 * @throws {UnknownKeyError} when the ring has no key `kid`.
 * @example
 * ```ts
 * const { raw, key } = sealingPublicKey(keys, kid)
 * ```
 */
export function sealingPublicKey(ring: KeyRing, kid: string): { readonly raw: Uint8Array; readonly key: KeyObject } {
  const found = sealingEntry(ring, kid)
  const key = sealingObject(ring, kid, 'public', () => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(found.publicBytes) }, format: 'jwk' }))
  return { raw: found.publicBytes, key }
}

/**
 * The X25519 private key of the sealing key `kid`, raw (32 bytes) and as a
 * KeyObject (made once). Internal to src/crypto.
 *
 * @throws {UnknownKeyError} when the ring has no key `kid`.
 * @throws {SealingKeyPublicOnlyError} when the ring holds only the public half.
 * @example
 * ```ts
 * const { raw, key } = sealingPrivateKey(auditorRing, kid)
 * ```
 */
export function sealingPrivateKey(ring: KeyRing, kid: string): { readonly raw: Uint8Array; readonly key: KeyObject } {
  const found = sealingEntry(ring, kid)
  const privateBytes = found.privateBytes
  if (privateBytes === undefined) {
    throw new SealingKeyPublicOnlyError(
      `cannot decrypt: this was sealed to the key ${kid}, and this ring holds only its public half (a write-only worker's ring); decrypt with the ring that holds the private key (the auditor's key file, the codec server's)`,
    )
  }
  const key = sealingObject(ring, kid, 'private', () =>
    createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(found.publicBytes), d: b64(privateBytes) }, format: 'jwk' }),
  )
  return { raw: privateBytes, key }
}

/**
 * Whether a value is a KeyRing made by this module (not a look-alike object).
 */
export function isKeyRing(value: unknown): value is KeyRing {
  return typeof value === 'object' && value !== null && material.has(value as KeyRing)
}

function entries(ring: KeyRing): Map<string, KeyEntry> {
  const map = material.get(ring)
  if (map === undefined) throw new InvalidArgumentError('expected a KeyRing')
  return map
}

function entry(ring: KeyRing, kid: string): KeyEntry {
  const found = entries(ring).get(kid)
  if (found === undefined) throw new UnknownKeyError(`no key with kid ${JSON.stringify(kid)} in the key ring`)
  return found
}

function sealingEntry(ring: KeyRing, kid: string): SealingEntry {
  const found = entry(ring, kid)
  if (found.kind !== 'sealing') throw new InvalidArgumentError(`the key ${kid} is a symmetric key, not a sealing key`)
  return found
}

function sealingObject(ring: KeyRing, kid: string, half: 'public' | 'private', make: () => KeyObject): KeyObject {
  let cache = sealingObjects.get(ring)
  if (cache === undefined) sealingObjects.set(ring, (cache = new Map<string, KeyObject>()))
  const cacheKey = `${half}\u0000${kid}`
  let key = cache.get(cacheKey)
  if (key === undefined) cache.set(cacheKey, (key = make()))
  return key
}

function newKid(createdAt: Date): string {
  const day = createdAt.toISOString().slice(0, 10).replaceAll('-', '')
  return `${day}-${randomBytes(4).toString('hex')}`
}

function newKey(): SymmetricEntry {
  const createdAt = new Date()
  return {
    info: Object.freeze({ kid: newKid(createdAt), createdAt, status: 'active' as const, kind: 'symmetric' as const, canDecrypt: true }),
    kind: 'symmetric',
    bytes: new Uint8Array(randomBytes(KEY_BYTES)),
  }
}

function newSealingKey(): SealingEntry {
  const createdAt = new Date()
  const { publicKey, privateKey } = generateKeyPairSync('x25519')
  return {
    info: Object.freeze({ kid: newKid(createdAt), createdAt, status: 'active' as const, kind: 'sealing' as const, canDecrypt: true }),
    kind: 'sealing',
    publicBytes: new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')),
    privateBytes: new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')),
    bytes: new Uint8Array(randomBytes(KEY_BYTES)),
  }
}

// RFC 8410's PKCS#8 encoding of an X25519 private key, up to the 32 key bytes. A JWK with
// no `x` would do on Node 20, but Node 24 requires the public half that is to be derived.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const X25519_KEY_BYTES = 32

// The public half a private key implies: node:crypto reads the private key and derives it.
function x25519PublicOf(privateBytes: Uint8Array, source: string): Uint8Array {
  try {
    if (privateBytes.length !== X25519_KEY_BYTES) throw new RangeError('not 32 bytes')
    const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateBytes]), format: 'der', type: 'pkcs8' })
    return new Uint8Array(Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url'))
  } catch {
    throw new KeySetError(`${source}: a sealing key has a private key (d) that is not an X25519 key`)
  }
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url')
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    // The parser's message can quote the input, which is key material.
    throw new KeySetError(`${source} is not valid JSON`)
  }
}
