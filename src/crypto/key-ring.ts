import { createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { z } from 'zod'
import { InvalidArgumentError, KeySetError, UnknownKeyError } from '../errors.js'
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
 * What a key ring says about one of its keys. Never the key bytes.
 *
 * @example
 * ```ts
 * const info: KeyInfo = keys.rotate()   // { kid: '20261121-3f9a1c2b', createdAt: Date, status: 'active' }
 * ```
 */
export interface KeyInfo {
  readonly kid: string
  readonly createdAt: Date
  readonly status: KeyStatus
}

/**
 * The key-set wire format, version 1: a JWK Set of 256-bit `oct` keys, with two
 * airlock members per key (`status`, `createdAt`). Exactly one key is `active`.
 *
 * ```json
 * { "keys": [ { "kty": "oct", "kid": "20261121-3f9a1c2b", "k": "<43 base64url chars>",
 *               "status": "active", "createdAt": "2026-11-21T09:00:00.000Z" } ] }
 * ```
 *
 * @example
 * ```ts
 * const set: KeySet = keys.export()   // key bytes included: store it like a password
 * const same = KeyRing.fromJSON(set)
 * ```
 */
export interface KeySet {
  keys: {
    kty: 'oct'
    kid: string
    /** The 32 key bytes, base64url without padding. */
    k: string
    status: KeyStatus
    createdAt: string
  }[]
}

const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
const KEY_BYTES = 32

const keySetSchema = z.object({
  keys: z
    .array(
      z.object({
        kty: z.literal('oct'),
        kid: z.string().regex(KID_PATTERN, 'kid must be 1-64 characters of [A-Za-z0-9_-]'),
        k: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'k must be 32 bytes in base64url (43 characters)'),
        status: z.enum(['active', 'retired']),
        createdAt: z.iso.datetime(),
      }),
    )
    .min(1, 'a key set holds at least one key'),
})

interface KeyEntry {
  readonly info: KeyInfo
  readonly bytes: Uint8Array
}

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
const derived = new WeakMap<KeyRing, Map<string, Uint8Array>>()
const derivedObjects = new WeakMap<KeyRing, Map<string, KeyObject>>()

/**
 * A set of 256-bit symmetric keys, each with a `kid`, a creation time and a
 * status. One key is active and encrypts; retired keys still decrypt, so
 * rotation never strands data.
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
    const parsed = keySetSchema.safeParse(keySet)
    if (!parsed.success) {
      // zod issues carry paths and expectations, not the offending input.
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      throw new KeySetError(`${source} is invalid: ${problems.join('; ')}`)
    }
    const entries = new Map<string, KeyEntry>()
    for (const key of parsed.data.keys) {
      if (entries.has(key.kid)) throw new KeySetError(`${source} has the kid ${key.kid} more than once`)
      entries.set(key.kid, {
        info: Object.freeze({ kid: key.kid, createdAt: new Date(key.createdAt), status: key.status }),
        bytes: new Uint8Array(Buffer.from(key.k, 'base64url')),
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
   * Adds a new active key and retires the previous one, which still decrypts.
   * Returns the new key's info.
   *
   * @example
   * ```ts
   * const { kid } = keys.rotate()
   * ```
   */
  rotate(): KeyInfo {
    const map = entries(this)
    for (const [kid, entry] of map) {
      if (entry.info.status === 'active') {
        map.set(kid, { bytes: entry.bytes, info: Object.freeze({ ...entry.info, status: 'retired' }) })
      }
    }
    let entry = newKey()
    while (map.has(entry.info.kid)) entry = newKey()
    map.set(entry.info.kid, entry)
    return entry.info
  }

  /**
   * The key set, key bytes included, for the CLI and key files. Treat the
   * result as a secret: write it only to a file with owner-only permissions.
   *
   * @example
   * ```ts
   * await writeFile('keys.json', JSON.stringify(keys.export()), { mode: 0o600 })
   * ```
   */
  export(): KeySet {
    return {
      keys: [...entries(this).values()].map((e) => ({
        kty: 'oct' as const,
        kid: e.info.kid,
        k: Buffer.from(e.bytes).toString('base64url'),
        status: e.info.status,
        createdAt: e.info.createdAt.toISOString(),
      })),
    }
  }

  /** Kids only. */
  toString(): string {
    const retired = this.list().filter((k) => k.status === 'retired').length
    return `KeyRing(active: ${this.activeKid}, retired: ${retired})`
  }

  /** Kids only, so `JSON.stringify(ring)` is safe to log. */
  toJSON(): { type: 'KeyRing'; keys: { kid: string; status: KeyStatus }[]; secret: typeof REDACTED } {
    return {
      type: 'KeyRing',
      keys: this.list().map(({ kid, status }) => ({ kid, status })),
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

function newKey(): KeyEntry {
  const createdAt = new Date()
  const day = createdAt.toISOString().slice(0, 10).replaceAll('-', '')
  return {
    info: Object.freeze({ kid: `${day}-${randomBytes(4).toString('hex')}`, createdAt, status: 'active' as const }),
    bytes: new Uint8Array(randomBytes(KEY_BYTES)),
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    // The parser's message can quote the input, which is key material.
    throw new KeySetError(`${source} is not valid JSON`)
  }
}
