import { CompactEncrypt, base64url } from 'jose'
import { describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LOCATION_TOKEN_PREFIX, LocationCipher } from '../../src/crypto/location-cipher.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'

const keys = KeyRing.generate()
const cipher = new LocationCipher(keys)
const location = 'results/etl/load/9f2c.json'

function header(token: string): Record<string, unknown> {
  const jwe = token.slice(LOCATION_TOKEN_PREFIX.length)
  return JSON.parse(new TextDecoder().decode(base64url.decode(jwe.split('.')[0] ?? ''))) as Record<string, unknown>
}

function withHeader(token: string, patch: Record<string, unknown>): string {
  const parts = token.slice(LOCATION_TOKEN_PREFIX.length).split('.')
  parts[0] = base64url.encode(JSON.stringify({ ...header(token), ...patch }))
  return LOCATION_TOKEN_PREFIX + parts.join('.')
}

describe('LocationCipher', () => {
  it('round-trips a location through an alk1. compact JWE with dir/A256GCM and the kid', async () => {
    const token = await cipher.encrypt(location)
    expect(token.startsWith('alk1.')).toBe(true)
    expect(LocationCipher.isToken(token)).toBe(true)
    expect(token).not.toContain('results')
    expect(header(token)).toEqual({ alg: 'dir', enc: 'A256GCM', kid: keys.activeKid })
    expect(await cipher.decrypt(token)).toBe(location)
  })

  it('binds a token to its context: a copy onto another task fails', async () => {
    const token = await cipher.encrypt(location, { flowName: 'etl', taskName: 'load' })
    expect(header(token).bnd).toEqual(expect.any(String))
    expect(JSON.stringify(header(token))).not.toContain('load')
    expect(await cipher.decrypt(token, { taskName: 'load', flowName: 'etl' })).toBe(location)
    await expect(cipher.decrypt(token, { flowName: 'etl', taskName: 'transform' })).rejects.toMatchObject({
      code: 'ERR_TOKEN_BINDING',
    })
    await expect(cipher.decrypt(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_BINDING' })
    const unbound = await cipher.encrypt(location)
    await expect(cipher.decrypt(unbound, { taskName: 'load' })).rejects.toMatchObject({ code: 'ERR_TOKEN_BINDING' })
  })

  it('refuses a rewritten binding tag: the header is authenticated', async () => {
    const token = await cipher.encrypt(location, { taskName: 'load' })
    const other = await cipher.encrypt(location, { taskName: 'other' })
    const forged = withHeader(token, { bnd: header(other).bnd })
    await expect(cipher.decrypt(forged, { taskName: 'other' })).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })
  })

  it('refuses alg none, other enc values and other key management', async () => {
    const token = await cipher.encrypt(location)
    for (const patch of [{ alg: 'none' }, { enc: 'A128GCM' }, { enc: 'A256CBC-HS512' }, { alg: 'A256KW' }]) {
      await expect(cipher.decrypt(withHeader(token, patch))).rejects.toMatchObject({ code: 'ERR_TOKEN_ALGORITHM' })
    }
  })

  it('refuses a token made with a key the ring does not hold', async () => {
    const foreign = await new LocationCipher(KeyRing.generate()).encrypt(location)
    await expect(cipher.decrypt(foreign)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_KID' })
  })

  it('refuses a token forged under a known kid with a key of the attacker', async () => {
    const attackerKey = new Uint8Array(32).fill(7)
    const jwe = await new CompactEncrypt(new TextEncoder().encode('/etc/passwd'))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: keys.activeKid })
      .encrypt(attackerKey)
    await expect(cipher.decrypt(LOCATION_TOKEN_PREFIX + jwe)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })
  })

  it('refuses truncated, modified and malformed tokens', async () => {
    const token = await cipher.encrypt(location)
    const parts = token.split('.')
    const flip = (s: string): string => (s[0] === 'A' ? 'B' : 'A') + s.slice(1)
    const cases = [
      token.slice(0, -5),
      token.slice(0, token.lastIndexOf('.')),
      [...parts.slice(0, 4), flip(parts[4] ?? ''), parts[5]].join('.'),
      [...parts.slice(0, 5), flip(parts[5] ?? '')].join('.'),
      [...parts.slice(0, 3), flip(parts[3] ?? ''), ...parts.slice(4)].join('.'),
      'alk1.',
      'alk1.not-a-jwe',
      'alk1.' + 'x'.repeat(300),
    ]
    for (const bad of cases) {
      await expect(cipher.decrypt(bad)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })
    }
    await expect(cipher.decrypt(location)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })
  })

  it('keeps location and value tokens apart: one never opens as the other', async () => {
    const values = new ValueCipher(keys)
    const valueToken = await values.encrypt('{"customer":42}')
    expect(valueToken.startsWith('alkv1.')).toBe(true)
    expect(await values.decrypt(valueToken)).toBe('{"customer":42}')
    await expect(cipher.decrypt(valueToken)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })
    const locationToken = await cipher.encrypt(location)
    await expect(values.decrypt(locationToken)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })
    // Same JWE body under the other prefix: a different subkey, so it fails.
    await expect(values.decrypt('alkv1.' + locationToken.slice(5))).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })
  })

  it('prints no key material', () => {
    expect(String(cipher)).toBe('LocationCipher([airlock:redacted])')
    expect(JSON.stringify({ cipher })).toBe('{"cipher":"[airlock:redacted]"}')
  })
})
