// The frozen vectors of the write-only worker formats (issue 17, part 1):
// what this version wrote must read back in every later version, with the
// private key set; the worker's public-only set must still fingerprint alike
// and refuse to decrypt; and the tokens are plain JWE that jose opens.
import { createPrivateKey } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { compactDecrypt, decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing, type SealingKeyEntry } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { PayloadCipher } from '../../src/crypto/payload-cipher.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'
import { SealingKeyPublicOnlyError } from '../../src/errors.js'
import { patternBytes } from './pattern-bytes.js'

interface Vectors {
  keySet: { version: 2; keys: { kty: string; kid: string }[] }
  workerKeySet: unknown
  locationTokens: { plain: string; binding?: Record<string, string>; token: string }[]
  valueTokens: { plain: string; token: string }[]
  fingerprints: { input: string; fingerprint: string }[]
  payloads: { plain?: string; plainPattern?: number; context?: string; sealed: string }[]
}

const vectors = JSON.parse(await readFile(new URL('./sealing-formats.json', import.meta.url), 'utf8')) as Vectors
const auditor = KeyRing.fromJSON(vectors.keySet)
const worker = KeyRing.fromJSON(vectors.workerKeySet)
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'))
const privateKey = (kid: string) => {
  const { x, d } = vectors.keySet.keys.find((k) => k.kid === kid) as SealingKeyEntry
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x, d }, format: 'jwk' })
}

describe('write-only worker format vectors', () => {
  it('the key sets are version 2: symmetric and sealing keys in the private set, public halves only in the worker set', () => {
    expect(auditor.list().map((k) => [k.kind, k.status])).toEqual([['symmetric', 'retired'], ['sealing', 'retired'], ['sealing', 'active']])
    expect(worker.list().map((k) => [k.kind, k.canDecrypt])).toEqual([['sealing', false], ['sealing', false]])
    expect(worker.activeKid).toBe(auditor.activeKid)
  })

  it.each(vectors.locationTokens)('a sealed location token ($plain) opens with the private set and its binding, and with plain jose', async ({ plain, binding, token }) => {
    const header = decodeProtectedHeader(token.slice('alk1.'.length))
    expect(header).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: auditor.activeKid, typ: 'airlock-location', epk: { kty: 'OKP', crv: 'X25519' } })
    expect(await new LocationCipher(auditor).decrypt(token, binding)).toBe(plain)
    await expect(new LocationCipher(worker).decrypt(token, binding)).rejects.toBeInstanceOf(SealingKeyPublicOnlyError)
    const { plaintext } = await compactDecrypt(token.slice('alk1.'.length), privateKey(header.kid!))
    expect(new TextDecoder().decode(plaintext)).toBe(plain)
  })

  it.each(vectors.valueTokens)('a value token ($plain) opens with the private set, whichever key of the rotation made it', async ({ plain, token }) => {
    expect(await new ValueCipher(auditor).decrypt(token)).toBe(plain)
  })

  it.each(vectors.fingerprints)('the fingerprint of $input is the same under both sets', ({ input, fingerprint }) => {
    expect(new Fingerprinter(worker).fingerprint(input)).toBe(fingerprint)
    expect(new Fingerprinter(auditor).fingerprint(input)).toBe(fingerprint)
  })

  it.each(vectors.payloads.map((p, i) => ({ ...p, i })))('sealed payload $i (format version 2) opens with the private set only', async ({ plain, plainPattern, context, sealed }) => {
    const expected = plainPattern === undefined ? new TextEncoder().encode(plain) : patternBytes(plainPattern)
    const where = context === undefined ? undefined : bytes(context)
    expect(bytes(sealed)[4]).toBe(2)
    expect(Buffer.from(await new PayloadCipher(auditor).open(bytes(sealed), where)).equals(Buffer.from(expected))).toBe(true)
    await expect(new PayloadCipher(worker).open(bytes(sealed), where)).rejects.toBeInstanceOf(SealingKeyPublicOnlyError)
  })
})
