import { createSecretKey } from 'node:crypto'
import { CompactEncrypt, base64url, compactDecrypt } from 'jose'
import { describe, expect, it } from 'vitest'
import { openCompact, parseCompact, sealCompact, type DirHeader } from '../../src/crypto/compact-jwe.js'
import { KeyRing, deriveSubkey, deriveSubkeyObject } from '../../src/crypto/key-ring.js'
import { LOCATION_TOKEN_PREFIX, LocationCipher } from '../../src/crypto/location-cipher.js'
import { VALUE_TOKEN_PREFIX, ValueCipher } from '../../src/crypto/value-cipher.js'

// RFC 7516, appendix A.1: the A256GCM content encryption of its example JWE.
// A `dir` token takes exactly this step with its key as the CEK (RFC 7520's
// own `dir` example, section 5.6, is A128GCM, which this format never uses).
const RFC7516_A1 = {
  cek: Buffer.from([
    177, 161, 244, 128, 84, 143, 225, 115, 63, 180, 3, 255, 107, 154, 212, 246, 138, 7, 110, 91, 112, 46, 34, 105, 47, 130, 203, 46, 122, 234, 64,
    252,
  ]),
  iv: Buffer.from([227, 197, 117, 252, 2, 219, 233, 68, 180, 225, 77, 219]),
  header: { alg: 'RSA-OAEP', enc: 'A256GCM' },
  protectedHeader: 'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ',
  plaintext: 'The true sign of intelligence is not knowledge but imagination.',
  ivText: '48V1_ALb6US04U3b',
  ciphertext: '5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A',
  tag: 'XFBoMYUZodetZdvTiFvSkQ',
}

const keys = KeyRing.generate()
const kid = keys.activeKid
const location = 'results/etl/load/9f2c.json'

function parts(token: string, prefix: string): string[] {
  return token.slice(prefix.length).split('.')
}

describe('compact JWE, dir / A256GCM, on node:crypto', () => {
  it('matches the RFC 7516 A.1 A256GCM vector: ciphertext and tag, and opens it', () => {
    const { cek, iv, header, protectedHeader, plaintext, ivText, ciphertext, tag } = RFC7516_A1
    const sealed = sealCompact(createSecretKey(cek), header as unknown as DirHeader, plaintext, iv)
    expect(sealed).toBe(`${protectedHeader}..${ivText}.${ciphertext}.${tag}`)
    const opened = openCompact(createSecretKey(cek), parseCompact(`${protectedHeader}..${ivText}.${ciphertext}.${tag}`))
    expect(opened.toString('utf8')).toBe(plaintext)
    const flipped = `${protectedHeader}..${ivText}.${ciphertext}.${tag.slice(0, -1)}A`
    expect(() => openCompact(createSecretKey(cek), parseCompact(flipped))).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_INVALID' }))
  })

  it('refuses the RFC vector as a token: its alg is not dir, and that is checked before decrypting', async () => {
    const { protectedHeader, ivText, ciphertext, tag } = RFC7516_A1
    await expect(new LocationCipher(keys).decrypt(`${LOCATION_TOKEN_PREFIX}${protectedHeader}..${ivText}.${ciphertext}.${tag}`)).rejects.toMatchObject({
      code: 'ERR_TOKEN_ALGORITHM',
    })
  })

  it('emits what jose emits, byte for byte, for the same header, key and IV', async () => {
    for (const bnd of [undefined, 'tag-of-a-binding']) {
      const header = bnd === undefined ? { alg: 'dir', enc: 'A256GCM', kid } : { alg: 'dir', enc: 'A256GCM', kid, bnd }
      const key = deriveSubkey(keys, 'location', kid)
      const joseToken = await new CompactEncrypt(new TextEncoder().encode('s3://bucket/ünïcode/😀.json')).setProtectedHeader(header).encrypt(key)
      const iv = Buffer.from(base64url.decode(joseToken.split('.')[2]!))
      expect(sealCompact(createSecretKey(key), header as DirHeader, 's3://bucket/ünïcode/😀.json', iv)).toBe(joseToken)
    }
  })

  it('jose opens what LocationCipher and ValueCipher make, bound or not', async () => {
    for (const [cipher, prefix, purpose] of [
      [new LocationCipher(keys), LOCATION_TOKEN_PREFIX, 'location'],
      [new ValueCipher(keys), VALUE_TOKEN_PREFIX, 'value'],
    ] as const) {
      for (const binding of [undefined, { flowName: 'etl', taskName: 'load' }]) {
        const token = await cipher.encrypt(location, binding)
        const { plaintext, protectedHeader } = await compactDecrypt(token.slice(prefix.length), deriveSubkey(keys, purpose, kid), {
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
        })
        expect(new TextDecoder().decode(plaintext)).toBe(location)
        expect(Object.keys(protectedHeader)).toEqual(binding === undefined ? ['alg', 'enc', 'kid'] : ['alg', 'enc', 'kid', 'bnd'])
        expect(parts(token, prefix)[1]).toBe('')
      }
    }
  })

  it('opens what jose makes with the same header and subkey, and checks its binding', async () => {
    const cipher = new LocationCipher(keys)
    const bound = await cipher.encrypt(location, { taskName: 'load' })
    const bnd = (JSON.parse(Buffer.from(parts(bound, LOCATION_TOKEN_PREFIX)[0]!, 'base64url').toString('utf8')) as { bnd: string }).bnd
    const joseToken = await new CompactEncrypt(new TextEncoder().encode(location))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid, bnd })
      .encrypt(deriveSubkey(keys, 'location', kid))
    expect(await cipher.decrypt(LOCATION_TOKEN_PREFIX + joseToken, { taskName: 'load' })).toBe(location)
    await expect(cipher.decrypt(LOCATION_TOKEN_PREFIX + joseToken, { taskName: 'other' })).rejects.toMatchObject({ code: 'ERR_TOKEN_BINDING' })
    const unbound = await new CompactEncrypt(new TextEncoder().encode(location))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
      .encrypt(deriveSubkey(keys, 'location', kid))
    expect(await cipher.decrypt(LOCATION_TOKEN_PREFIX + unbound)).toBe(location)
  })

  it('refuses, before decrypting, what jose would accept but this format never makes: zip and crit', async () => {
    const key = deriveSubkey(keys, 'location', kid)
    const zipped = await new CompactEncrypt(new TextEncoder().encode(location)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid, zip: 'DEF' }).encrypt(key)
    await expect(new LocationCipher(keys).decrypt(LOCATION_TOKEN_PREFIX + zipped)).rejects.toMatchObject({ code: 'ERR_TOKEN_ALGORITHM' })
    const header = base64url.encode(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid, crit: ['exp'], exp: 1 }))
    const token = await new LocationCipher(keys).encrypt(location)
    const [, ...rest] = parts(token, LOCATION_TOKEN_PREFIX)
    await expect(new LocationCipher(keys).decrypt(`${LOCATION_TOKEN_PREFIX}${header}.${rest.join('.')}`)).rejects.toMatchObject({
      code: 'ERR_TOKEN_ALGORITHM',
    })
  })

  it('refuses an encrypted key, a short IV, a short tag and non-canonical base64url', async () => {
    const cipher = new LocationCipher(keys)
    const token = await cipher.encrypt(location)
    const [header, , iv, ciphertext, tag] = parts(token, LOCATION_TOKEN_PREFIX) as [string, string, string, string, string]
    const bad = [
      [header, 'AAAA', iv, ciphertext, tag],
      [header, '', iv.slice(0, 12), ciphertext, tag],
      [header, '', iv, ciphertext, tag.slice(0, 16)],
      [header, '', iv, `${ciphertext}=`, tag],
      [header, '', iv, `${ciphertext.slice(0, 4)}+${ciphertext.slice(5)}`, tag],
      [header, '', iv, ciphertext, `${tag} `],
    ]
    for (const p of bad) await expect(cipher.decrypt(LOCATION_TOKEN_PREFIX + p.join('.'))).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })
    expect(await cipher.decrypt(token)).toBe(location)
  })

  it('derives each subkey once, as a KeyObject holding the HKDF bytes', () => {
    const first = deriveSubkeyObject(keys, 'location', kid)
    expect(deriveSubkeyObject(keys, 'location', kid)).toBe(first)
    expect(first.type).toBe('secret')
    expect(Buffer.from(first.export()).equals(Buffer.from(deriveSubkey(keys, 'location', kid)))).toBe(true)
    expect(deriveSubkeyObject(keys, 'value', kid)).not.toBe(first)
    expect(() => deriveSubkeyObject(keys, 'location', 'no-such-kid')).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_KID' }))
  })
})
