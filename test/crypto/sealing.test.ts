// Write-only workers (issue 17, part 1): sealing keys in a KeyRing, tokens
// sealed as standard JWE (ECDH-ES+A256KW on X25519), payload keys in sealed
// boxes, and a worker ring that encrypts and fingerprints but cannot decrypt.
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { inspect } from 'node:util'
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose'
import sodium from 'libsodium-wrappers'
import { describe, expect, it } from 'vitest'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing, type SealingKeyEntry } from '../../src/crypto/key-ring.js'
import { LOCATION_TOKEN_PREFIX, LocationCipher } from '../../src/crypto/location-cipher.js'
import { PayloadCipher, SEALED_PAYLOAD_FORMAT_VERSION } from '../../src/crypto/payload-cipher.js'
import { REDACTED } from '../../src/crypto/redacted.js'
import { VALUE_TOKEN_PREFIX, ValueCipher } from '../../src/crypto/value-cipher.js'
import {
  AirlockError,
  KeySetError,
  PayloadTamperedError,
  SealingKeyPublicOnlyError,
  TokenAlgorithmError,
  TokenBindingError,
  TokenInvalidError,
} from '../../src/errors.js'

const binding = { flowName: 'etl', taskName: 'load' }

function sealingEntry(ring: KeyRing, kid = ring.activeKid): SealingKeyEntry {
  const entry = ring.export().keys.find((k) => k.kid === kid)
  if (entry?.kty !== 'OKP') throw new Error(`no sealing key ${kid}`)
  return entry
}

function privateKeyOf(ring: KeyRing, kid = ring.activeKid) {
  const { x, d } = sealingEntry(ring, kid)
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x, d }, format: 'jwk' })
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(AirlockError)
    return (err as AirlockError).code
  }
  throw new Error('expected a rejection')
}

function flip(token: string, at: number): string {
  const c = token[at]!
  return token.slice(0, at) + (c === 'A' ? 'B' : 'A') + token.slice(at + 1)
}

describe('sealing keys in a KeyRing', () => {
  it('generates an X25519 pair; the worker ring keeps the public half and the fingerprint secret only', () => {
    const auditor = KeyRing.generateSealing()
    const worker = auditor.toPublic()
    expect(auditor.list()).toEqual([expect.objectContaining({ kind: 'sealing', canDecrypt: true, status: 'active' })])
    expect(worker.list()).toEqual([expect.objectContaining({ kid: auditor.activeKid, kind: 'sealing', canDecrypt: false })])
    expect(auditor.writeOnly).toBe(false)
    expect(worker.writeOnly).toBe(true)
    const [full] = auditor.export().keys as SealingKeyEntry[]
    const [pub] = worker.export().keys as SealingKeyEntry[]
    expect(auditor.export().version).toBe(2)
    expect(full?.d).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(pub).not.toHaveProperty('d')
    expect(pub?.x).toBe(full?.x)
    expect(pub?.fingerprintSecret).toBe(full?.fingerprintSecret)
    expect(Buffer.from(full!.fingerprintSecret, 'base64url').equals(Buffer.from(full!.d!, 'base64url'))).toBe(false)
  })

  it('round-trips a version 2 key set, and still reads and writes version 1 for symmetric rings', () => {
    const auditor = KeyRing.generateSealing()
    auditor.rotate({ kind: 'symmetric' })
    const copy = KeyRing.fromJSON(JSON.parse(JSON.stringify(auditor.export())))
    expect(copy.list()).toEqual(auditor.list())
    const symmetric = KeyRing.generate().export()
    expect(symmetric).not.toHaveProperty('version')
    expect(KeyRing.fromJSON(symmetric).list()[0]?.kind).toBe('symmetric')
  })

  it('refuses a sealing key in a set without version 2, an unknown version, and a private half that does not match', () => {
    const set = KeyRing.generateSealing().export()
    expect(() => KeyRing.fromJSON({ keys: set.keys })).toThrow(KeySetError)
    expect(() => KeyRing.fromJSON({ ...set, version: 3 })).toThrow(/version 3/)
    const other = sealingEntry(KeyRing.generateSealing())
    const mismatched = { version: 2, keys: [{ ...set.keys[0], d: other.d }] }
    expect(() => KeyRing.fromJSON(mismatched)).toThrow(/does not match its public key/)
    for (const bad of [mismatched, { ...set, version: 3 }]) {
      try {
        KeyRing.fromJSON(bad)
      } catch (err) {
        expect((err as Error).message).not.toContain(other.d)
        expect((err as Error).message).not.toContain((set.keys[0] as SealingKeyEntry).d)
      }
    }
  })

  it('never prints key bytes: only kids, kinds and [airlock:redacted]', () => {
    const auditor = KeyRing.generateSealing()
    auditor.rotate({ kind: 'symmetric' })
    auditor.rotate({ kind: 'sealing' })
    for (const ring of [auditor, auditor.toPublic()]) {
      const printed = [String(ring), JSON.stringify(ring), inspect(ring), inspect({ ring }, { depth: 5 })].join('\n')
      for (const key of ring.export().keys) {
        const secrets = key.kty === 'oct' ? [key.k] : [key.x, key.d, key.fingerprintSecret]
        for (const secret of secrets.filter((s): s is string => s !== undefined)) {
          expect(printed).not.toContain(secret)
          expect(printed).not.toContain(Buffer.from(secret, 'base64url').toString('hex'))
          expect(printed).not.toContain(Buffer.from(secret, 'base64url').toString('base64'))
        }
      }
      expect(printed).toContain(ring.activeKid)
      expect(JSON.stringify(ring)).toContain(REDACTED)
    }
    expect(String(auditor.toPublic())).toContain('public only')
  })

  it('a write-only ring refuses to rotate, and toPublic needs an active sealing key', () => {
    expect(() => KeyRing.generateSealing().toPublic().rotate()).toThrow(SealingKeyPublicOnlyError)
    expect(() => KeyRing.generate().toPublic()).toThrow(/active sealing key/)
  })
})

describe('sealed tokens', () => {
  it('a worker seals a standard JWE it cannot open; the auditor and plain jose open it', async () => {
    const auditor = KeyRing.generateSealing()
    const worker = auditor.toPublic()
    const token = await new LocationCipher(worker).encrypt('s3://bucket/etl/load/42.json', binding)
    expect(token.startsWith(LOCATION_TOKEN_PREFIX)).toBe(true)
    const header = decodeProtectedHeader(token.slice(LOCATION_TOKEN_PREFIX.length))
    expect(header).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: worker.activeKid, typ: 'airlock-location', epk: { kty: 'OKP', crv: 'X25519' } })
    expect(JSON.stringify(header)).not.toContain('etl')

    const refusal = new LocationCipher(worker).decrypt(token, binding)
    await expect(refusal).rejects.toBeInstanceOf(SealingKeyPublicOnlyError)
    await expect(new LocationCipher(worker).decrypt(token, binding)).rejects.toThrow(/holds only its public half.*decrypt with the ring that holds the private key/)
    expect(await new LocationCipher(auditor).decrypt(token, binding)).toBe('s3://bucket/etl/load/42.json')

    const { plaintext } = await compactDecrypt(token.slice(LOCATION_TOKEN_PREFIX.length), privateKeyOf(auditor))
    expect(new TextDecoder().decode(plaintext)).toBe('s3://bucket/etl/load/42.json')
  })

  it('keeps the binding: a sealed token opens only with the context it was bound to', async () => {
    const auditor = KeyRing.generateSealing()
    const token = await new ValueCipher(auditor.toPublic()).encrypt('{"card":"4111"}', binding)
    await expect(new ValueCipher(auditor).decrypt(token, { ...binding, taskName: 'other' })).rejects.toBeInstanceOf(TokenBindingError)
    await expect(new ValueCipher(auditor).decrypt(token)).rejects.toBeInstanceOf(TokenBindingError)
    const unbound = await new ValueCipher(auditor.toPublic()).encrypt('x')
    await expect(new ValueCipher(auditor).decrypt(unbound, binding)).rejects.toBeInstanceOf(TokenBindingError)
    expect(await new ValueCipher(auditor).decrypt(token, binding)).toBe('{"card":"4111"}')
  })

  it('a value token never opens as a location token, though both are sealed to one key', async () => {
    const auditor = KeyRing.generateSealing()
    const value = await new ValueCipher(auditor.toPublic()).encrypt('secret')
    const posing = LOCATION_TOKEN_PREFIX + value.slice(VALUE_TOKEN_PREFIX.length)
    await expect(new LocationCipher(auditor).decrypt(posing)).rejects.toBeInstanceOf(TokenInvalidError)
  })

  it('fails closed on every modified part, before or while decrypting', async () => {
    const auditor = KeyRing.generateSealing()
    const token = await new LocationCipher(auditor.toPublic()).encrypt('etl/load/42.json', binding)
    const [head, key, iv, body, tag] = token.slice(LOCATION_TOKEN_PREFIX.length).split('.') as [string, string, string, string, string]
    const part = (i: number) => LOCATION_TOKEN_PREFIX.length + [head, key, iv, body, tag].slice(0, i).join('.').length + (i === 0 ? 0 : 1)
    for (const i of [1, 2, 3, 4]) {
      for (const offset of [0, 5]) {
        expect(await codeOf(new LocationCipher(auditor).decrypt(flip(token, part(i) + offset), binding))).toBe('ERR_TOKEN_INVALID')
      }
    }
    expect(await codeOf(new LocationCipher(auditor).decrypt(token.slice(0, -3), binding))).toBe('ERR_TOKEN_INVALID')
    // An epk swapped for another public key: the header is the AAD, so nothing opens.
    const swapped = JSON.parse(Buffer.from(head, 'base64url').toString()) as Record<string, unknown>
    swapped.epk = { kty: 'OKP', crv: 'X25519', x: sealingEntry(KeyRing.generateSealing()).x }
    const forged = `${LOCATION_TOKEN_PREFIX}${Buffer.from(JSON.stringify(swapped)).toString('base64url')}.${key}.${iv}.${body}.${tag}`
    expect(await codeOf(new LocationCipher(auditor).decrypt(forged, binding))).toBe('ERR_TOKEN_INVALID')
  })

  it('checks alg, enc, kid kind, zip and crit before any decryption', async () => {
    const auditor = KeyRing.generateSealing()
    auditor.rotate({ kind: 'symmetric' })
    const [sealingKid, symmetricKid] = auditor.list().map((k) => k.kid) as [string, string]
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: sealingEntry(auditor, sealingKid).x }, format: 'jwk' })
    const jose = async (header: Record<string, unknown>) =>
      LOCATION_TOKEN_PREFIX +
      (await new CompactEncrypt(new TextEncoder().encode('x'))
        .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', typ: 'airlock-location', ...header })
        .encrypt(publicKey))
    // A sealing algorithm under a symmetric kid, and the other way round, are refused as algorithms.
    expect(await codeOf(new LocationCipher(auditor).decrypt(await jose({ kid: symmetricKid })))).toBe('ERR_TOKEN_ALGORITHM')
    const symmetricToken = await new LocationCipher(auditor).encrypt('x')
    const [, ...rest] = symmetricToken.slice(LOCATION_TOKEN_PREFIX.length).split('.')
    const relabelled = LOCATION_TOKEN_PREFIX + [Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: sealingKid })).toString('base64url'), ...rest].join('.')
    await expect(new LocationCipher(auditor).decrypt(relabelled)).rejects.toBeInstanceOf(TokenAlgorithmError)
    // Other ECDH variants and encodings this class never writes.
    expect(await codeOf(new LocationCipher(auditor).decrypt(await jose({ kid: sealingKid, alg: 'ECDH-ES' })))).toBe('ERR_TOKEN_ALGORITHM')
    expect(await codeOf(new LocationCipher(auditor).decrypt(await jose({ kid: sealingKid, alg: 'ECDH-ES+A128KW' })))).toBe('ERR_TOKEN_ALGORITHM')
    expect(await codeOf(new LocationCipher(auditor).decrypt(await jose({ kid: sealingKid, enc: 'A128GCM' })))).toBe('ERR_TOKEN_ALGORITHM')
    // zip and crit, written into a real token's header: refused before the key is even looked at.
    const real = (await jose({ kid: sealingKid })).slice(LOCATION_TOKEN_PREFIX.length).split('.')
    for (const extra of [{ zip: 'DEF' }, { crit: ['exp'], exp: 1 }]) {
      const header = { ...(JSON.parse(Buffer.from(real[0]!, 'base64url').toString()) as object), ...extra }
      const edited = LOCATION_TOKEN_PREFIX + [Buffer.from(JSON.stringify(header)).toString('base64url'), ...real.slice(1)].join('.')
      expect(await codeOf(new LocationCipher(auditor).decrypt(edited))).toBe('ERR_TOKEN_ALGORITHM')
      const worker = KeyRing.fromJSON({ version: 2, keys: [{ ...sealingEntry(auditor, sealingKid), status: 'active' }] }).toPublic()
      expect(await codeOf(new LocationCipher(worker).decrypt(edited))).toBe('ERR_TOKEN_ALGORITHM')
    }
    // What jose makes with the same header opens: these tokens are plain JWE.
    expect(await new LocationCipher(auditor).decrypt(await jose({ kid: sealingKid }))).toBe('x')
    expect(await codeOf(new LocationCipher(auditor).decrypt(await jose({ kid: 'nope' })))).toBe('ERR_UNKNOWN_KID')
  })
})

describe('rotation across modes', () => {
  it('symmetric → sealing → sealing: every old token opens with the auditor ring; the worker opens only what a symmetric key it holds made', async () => {
    const auditor = KeyRing.generate()
    const old = await new ValueCipher(auditor).encrypt('made under the symmetric key', binding)
    const oldPayload = await new PayloadCipher(auditor).seal(new TextEncoder().encode('old payload'))
    auditor.rotate({ kind: 'sealing' })
    const firstWorker = auditor.toPublic()
    const sealedOnce = await new ValueCipher(firstWorker).encrypt('sealed to the first pair', binding)
    auditor.rotate()
    expect(auditor.list().map((k) => k.kind)).toEqual(['symmetric', 'sealing', 'sealing'])
    const worker = auditor.toPublic()
    expect(worker.list().map((k) => k.kind)).toEqual(['sealing', 'sealing'])
    const sealedTwice = await new ValueCipher(worker).encrypt('sealed to the second pair', binding)
    expect(decodeProtectedHeader(sealedTwice.slice(VALUE_TOKEN_PREFIX.length)).kid).toBe(auditor.activeKid)

    const cipher = new ValueCipher(auditor)
    expect(await cipher.decrypt(old, binding)).toBe('made under the symmetric key')
    expect(await cipher.decrypt(sealedOnce, binding)).toBe('sealed to the first pair')
    expect(await cipher.decrypt(sealedTwice, binding)).toBe('sealed to the second pair')
    expect(new TextDecoder().decode(await new PayloadCipher(auditor).open(oldPayload))).toBe('old payload')

    // The worker holds no symmetric key, so the old token is unknown to it; the sealed ones it cannot open.
    expect(await codeOf(new ValueCipher(worker).decrypt(old, binding))).toBe('ERR_UNKNOWN_KID')
    expect(await codeOf(new ValueCipher(worker).decrypt(sealedOnce, binding))).toBe('ERR_SEALING_KEY_PUBLIC_ONLY')

    // And back: a ring can rotate from sealing to symmetric; sealed tokens still open with it.
    auditor.rotate({ kind: 'symmetric' })
    expect(await new ValueCipher(auditor).decrypt(sealedTwice, binding)).toBe('sealed to the second pair')
  })
})

describe('keyed fingerprints on a write-only worker', () => {
  it('fingerprint with the shared fingerprint secret: worker and auditor agree; other pairs do not', () => {
    const auditor = KeyRing.generateSealing()
    const worker = auditor.toPublic()
    const a = new Fingerprinter(worker).fingerprint('ada@example.com')
    expect(a).toBe(new Fingerprinter(auditor).fingerprint('ada@example.com'))
    expect(a.startsWith(`fp1.${worker.activeKid}.`)).toBe(true)
    expect(a).not.toBe(new Fingerprinter(KeyRing.generateSealing()).fingerprint('ada@example.com'))
    // A ring file that differs only in its fingerprint secret fingerprints differently: the secret, not the pair, keys it.
    const set = auditor.export()
    const swapped = KeyRing.fromJSON({ ...set, keys: [{ ...set.keys[0], fingerprintSecret: sealingEntry(KeyRing.generateSealing()).fingerprintSecret }] })
    expect(new Fingerprinter(swapped).fingerprint('ada@example.com')).not.toBe(a)
  })
})

describe('sealed payloads (format version 2)', () => {
  const bytes = new Uint8Array(150_000).map((_, i) => (i * 7) & 255)
  const where = new TextEncoder().encode('etl/load/42.json')

  it('a worker seals a payload it cannot open; the auditor opens it whole and as a stream', async () => {
    const auditor = KeyRing.generateSealing()
    const worker = auditor.toPublic()
    const sealed = await new PayloadCipher(worker).seal(bytes, where)
    expect(sealed[4]).toBe(SEALED_PAYLOAD_FORMAT_VERSION)
    await expect(new PayloadCipher(worker).open(sealed, where)).rejects.toBeInstanceOf(SealingKeyPublicOnlyError)
    expect(() => new PayloadCipher(worker).openSync(sealed, where)).toThrow(SealingKeyPublicOnlyError)
    expect(Buffer.from(await new PayloadCipher(auditor).open(sealed, where)).equals(Buffer.from(bytes))).toBe(true)
    expect(await codeOf(new PayloadCipher(auditor).open(sealed))).toBe('ERR_PAYLOAD_TAMPERED')

    const chunks: Buffer[] = []
    const pieces = [sealed.subarray(0, 7), sealed.subarray(7, 120), sealed.subarray(120)].map((p) => Buffer.from(p))
    await pipeline(Readable.from(pieces), new PayloadCipher(auditor).decryptStream(where), new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) }))
    expect(Buffer.concat(chunks).equals(Buffer.from(bytes))).toBe(true)

    const streamed: Buffer[] = []
    await pipeline(Readable.from([Buffer.from(bytes)]), new PayloadCipher(worker).encryptStream(where), new Writable({ write: (c: Buffer, _e, cb) => (streamed.push(c), cb()) }))
    expect(Buffer.from(await new PayloadCipher(auditor).open(Buffer.concat(streamed), where)).equals(Buffer.from(bytes))).toBe(true)
  })

  it('the data key is a standard libsodium sealed box: crypto_box_seal_open with the raw X25519 key opens it', async () => {
    await sodium.ready
    const auditor = KeyRing.generateSealing()
    const sealed = await new PayloadCipher(auditor.toPublic()).seal(new TextEncoder().encode('x'))
    const kidLength = sealed[5]!
    const box = sealed.subarray(6 + kidLength, 6 + kidLength + 80)
    const { x, d } = sealingEntry(auditor)
    const dataKey = sodium.crypto_box_seal_open(box, Buffer.from(x, 'base64url'), Buffer.from(d!, 'base64url'))
    expect(dataKey).toHaveLength(32)
  })

  it('fails closed on a modified sealed key, header, chunk, or a version that does not fit the kid', async () => {
    const auditor = KeyRing.generateSealing()
    auditor.rotate({ kind: 'symmetric' })
    const [sealingKid] = auditor.list().map((k) => k.kid)
    const sealingOnly = KeyRing.fromJSON({ version: 2, keys: [{ ...sealingEntry(auditor, sealingKid), status: 'active' }] })
    const sealed = await new PayloadCipher(sealingOnly.toPublic()).seal(bytes)
    for (const at of [6 + sealed[5]! + 3, 6 + sealed[5]! + 70, 6 + sealed[5]! + 85, sealed.length - 1, 200]) {
      const modified = Buffer.from(sealed)
      modified[at]! ^= 1
      await expect(new PayloadCipher(auditor).open(modified)).rejects.toBeInstanceOf(PayloadTamperedError)
    }
    const cut = sealed.subarray(0, sealed.length - 20)
    await expect(new PayloadCipher(auditor).open(cut)).rejects.toBeInstanceOf(PayloadTamperedError)
    // Version 1 (symmetric construction) claimed for a sealing kid, and version 2 for a symmetric kid.
    const relabelled = Buffer.from(sealed)
    relabelled[4] = 1
    await expect(new PayloadCipher(auditor).open(relabelled)).rejects.toBeInstanceOf(PayloadTamperedError)
    const symmetricPayload = Buffer.from(await new PayloadCipher(auditor).seal(bytes))
    symmetricPayload[4] = 2
    await expect(new PayloadCipher(auditor).open(symmetricPayload)).rejects.toBeInstanceOf(PayloadTamperedError)
  })
})
