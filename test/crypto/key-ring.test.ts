import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { AirlockError } from '../../src/errors.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-keys-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function keyBytesOf(ring: KeyRing): string[] {
  return ring.export().keys.flatMap((k) => (k.kty === 'oct' ? [k.k] : [k.x, k.d ?? '', k.fingerprintSecret].filter((v) => v !== '')))
}

describe('KeyRing', () => {
  it('generates one active 256-bit key with a kid and a creation time', () => {
    const ring = KeyRing.generate()
    const [info, ...rest] = ring.list()
    expect(rest).toHaveLength(0)
    expect(info?.status).toBe('active')
    expect(info?.kid).toMatch(/^\d{8}-[0-9a-f]{8}$/)
    expect(info?.createdAt).toBeInstanceOf(Date)
    expect(ring.activeKid).toBe(info?.kid)
    const exported = ring.export().keys[0] as { k: string } | undefined
    expect(Buffer.from(exported?.k ?? '', 'base64url')).toHaveLength(32)
  })

  it('never shows key bytes under toString, JSON.stringify or util.inspect', () => {
    const ring = KeyRing.generate()
    ring.rotate()
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- interpolation is what is under test
    const shown = [String(ring), JSON.stringify(ring), inspect(ring, { showHidden: true, depth: 10 }), `${ring}`]
    for (const bytes of keyBytesOf(ring)) {
      const hex = Buffer.from(bytes, 'base64url').toString('hex')
      const b64 = Buffer.from(bytes, 'base64url').toString('base64')
      for (const text of shown) {
        expect(text).not.toContain(bytes)
        expect(text).not.toContain(hex)
        expect(text).not.toContain(b64)
      }
    }
    expect(shown[0]).toContain(ring.activeKid)
    expect(JSON.parse(shown[1] ?? '{}')).toMatchObject({ type: 'KeyRing', secret: '[airlock:redacted]' })
  })

  it('rotates: the new key encrypts, retired keys still decrypt', async () => {
    const ring = KeyRing.generate()
    const firstKid = ring.activeKid
    const cipher = new LocationCipher(ring)
    const oldToken = await cipher.encrypt('results/old.json')
    const next = ring.rotate()
    expect(next.kid).not.toBe(firstKid)
    expect(ring.activeKid).toBe(next.kid)
    expect(ring.list().find((k) => k.kid === firstKid)?.status).toBe('retired')
    const newToken = await cipher.encrypt('results/new.json')
    expect(await cipher.decrypt(oldToken)).toBe('results/old.json')
    expect(await cipher.decrypt(newToken)).toBe('results/new.json')
    // A copy made from the export decrypts both: the key set round-trips.
    const copy = new LocationCipher(KeyRing.fromJSON(ring.export()))
    expect(await copy.decrypt(oldToken)).toBe('results/old.json')
    expect(await copy.decrypt(newToken)).toBe('results/new.json')
  })

  it('loads from a file and from an environment variable', async () => {
    const ring = KeyRing.generate()
    const path = join(dir, 'keys.json')
    await writeFile(path, JSON.stringify(ring.export()))
    expect(KeyRing.fromFile(path).activeKid).toBe(ring.activeKid)
    const env = { AIRLOCK_KEYS: JSON.stringify(ring.export()) }
    expect(KeyRing.fromEnv('AIRLOCK_KEYS', env).activeKid).toBe(ring.activeKid)
  })

  it.each([
    ['not an object', 42],
    ['no keys', { keys: [] }],
    ['a short key', { keys: [{ kty: 'oct', kid: 'a', k: 'AAAA', status: 'active', createdAt: new Date().toISOString() }] }],
    ['a bad kid', { keys: [{ kty: 'oct', kid: 'a/b', k: 'A'.repeat(43), status: 'active', createdAt: new Date().toISOString() }] }],
    [
      'two active keys',
      {
        keys: ['a', 'b'].map((kid) => ({ kty: 'oct', kid, k: 'A'.repeat(43), status: 'active', createdAt: new Date().toISOString() })),
      },
    ],
    [
      'a duplicate kid',
      {
        keys: ['active', 'retired'].map((status) => ({ kty: 'oct', kid: 'same', k: 'A'.repeat(43), status, createdAt: new Date().toISOString() })),
      },
    ],
  ])('rejects a key set with %s (ERR_KEY_SET_INVALID)', (_label, keySet) => {
    expect(() => KeyRing.fromJSON(keySet)).toThrow(expect.objectContaining({ code: 'ERR_KEY_SET_INVALID' }))
  })

  it('never echoes key material from malformed input', async () => {
    const secretish = 'Zm9vYmFyYmF6cXV4c2VjcmV0a2V5bWF0ZXJpYWwxMjM0NTY3OA'
    const path = join(dir, 'broken.json')
    await writeFile(path, `{"keys":[{"kty":"oct","k":"${secretish}"`)
    for (const attempt of [
      () => KeyRing.fromFile(path),
      () => KeyRing.fromEnv('K', { K: `{"k":"${secretish}"` }),
      () => KeyRing.fromJSON({ keys: [{ kty: 'oct', kid: 'x', k: secretish + '!', status: 'active', createdAt: 'now' }] }),
    ]) {
      let caught: unknown
      try {
        attempt()
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(AirlockError)
      expect(String((caught as Error).message)).not.toContain(secretish)
    }
  })

  it('names a missing file and an unset variable', () => {
    expect(() => KeyRing.fromFile(join(dir, 'absent.json'))).toThrow(/absent\.json.*ENOENT/)
    expect(() => KeyRing.fromEnv('AIRLOCK_KEYS_UNSET', {})).toThrow(/AIRLOCK_KEYS_UNSET is not set/)
  })
})
