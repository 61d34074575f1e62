import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, type JsonWebKey, type webcrypto } from 'node:crypto'
import { types } from 'node:util'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { InvalidArgumentError } from '../errors.js'

/**
 * A key as callers hold it: a Node `KeyObject`, a WebCrypto `CryptoKey` (what jose returns), or a JWK.
 *
 * @example
 * ```ts
 * const signingKey: LedgerKeyInput = JSON.parse(await readFile('ledger.key.json', 'utf8'))   // a private JWK
 * const ledger = await Ledger.open({ path: 'audit/ledger.ndjson', signingKey })
 * ```
 */
export type LedgerKeyInput = KeyObject | webcrypto.CryptoKey | JWK

/**
 * An Ed25519 key pair as JWKs, each with `kid` (its RFC 7638 thumbprint), `alg: EdDSA` and `use: sig`.
 *
 * @example
 * ```ts
 * const pair: LedgerSigningKeyPair = await generateLedgerSigningKey()
 * await writeFile('ledger.key.json', JSON.stringify(pair.privateKey), { mode: 0o600 })
 * await writeFile('ledger.key.json.pub.json', JSON.stringify(pair.publicKey))   // for auditors
 * ```
 */
export interface LedgerSigningKeyPair {
  /** Signs checkpoints. A secret: store it with owner-only permissions. */
  privateKey: JWK
  /** Verifies checkpoints. Give it to auditors. */
  publicKey: JWK
}

/**
 * A new Ed25519 key pair for signing ledger checkpoints.
 *
 * @example
 * ```ts
 * import { generateLedgerSigningKey, Ledger } from 'airlock-sdk'
 *
 * const { privateKey, publicKey } = await generateLedgerSigningKey()
 * const ledger = await Ledger.open({ path: 'audit/ledger.ndjson', signingKey: privateKey })
 * // later: verifyLedger('audit/ledger.ndjson', { publicKey })
 * ```
 */
export async function generateLedgerSigningKey(): Promise<LedgerSigningKeyPair> {
  const pair = generateKeyPairSync('ed25519')
  const publicKey = pair.publicKey.export({ format: 'jwk' }) as JWK
  const kid = await calculateJwkThumbprint(publicKey)
  const meta = { kid, alg: 'EdDSA', use: 'sig' }
  return {
    privateKey: { ...(pair.privateKey.export({ format: 'jwk' }) as JWK), ...meta },
    publicKey: { ...publicKey, ...meta },
  }
}

/**
 * The Ed25519 private key in `input`, as a `KeyObject`, with the kid of its
 * public half. Internal to src/audit.
 *
 * @throws {InvalidArgumentError} when `input` is not an Ed25519 private key.
 *
 * @example
 * ```ts
 * const { key, kid } = await toSigningKey((await generateLedgerSigningKey()).privateKey)
 * ```
 */
export async function toSigningKey(input: unknown): Promise<{ key: KeyObject; kid: string }> {
  const key = toKeyObject(input, 'signingKey')
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new InvalidArgumentError(`signingKey must be an Ed25519 private key, found ${describe(key)}`)
  }
  return { key, kid: await ledgerKeyId(createPublicKey(key)) }
}

/**
 * The Ed25519 public key in `input`, as a `KeyObject`. A private key is
 * refused: auditors should never need one. Internal to src/audit.
 *
 * @throws {InvalidArgumentError} when `input` is not an Ed25519 public key.
 *
 * @example
 * ```ts
 * const key = toVerifyKey(publicJwk)
 * toVerifyKey({ kty: 'oct' }, '--public-key pub.json')   // throws: --public-key pub.json is not a valid JWK
 * ```
 */
export function toVerifyKey(input: unknown, name = 'publicKey'): KeyObject {
  const key = toKeyObject(input, name)
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
    throw new InvalidArgumentError(`${name} must be an Ed25519 public key, found ${describe(key)}`)
  }
  return key
}

/**
 * The RFC 7638 thumbprint of a public key: the `kid` checkpoints carry. Internal to src/audit.
 *
 * @example
 * ```ts
 * await ledgerKeyId(toVerifyKey(publicJwk)) === publicJwk.kid // true for keys from generateLedgerSigningKey
 * ```
 */
export function ledgerKeyId(publicKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(publicKey.export({ format: 'jwk' }))
}

function toKeyObject(input: unknown, name: string): KeyObject {
  if (input instanceof KeyObject) return input
  if (types.isCryptoKey(input)) return KeyObject.from(input)
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const jwk = input as JWK
    try {
      return typeof jwk.d === 'string'
        ? createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' })
        : createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    } catch {
      // Node's message can echo JWK members, which may be key material.
      throw new InvalidArgumentError(`${name} is not a valid JWK`)
    }
  }
  throw new InvalidArgumentError(`${name} must be a KeyObject, a CryptoKey or a JWK, found ${kindOf(input)}`)
}

function describe(key: KeyObject): string {
  return `a ${key.asymmetricKeyType ?? 'symmetric'} ${key.type} key`
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}
