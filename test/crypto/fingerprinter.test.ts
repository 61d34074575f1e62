import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing } from '../../src/crypto/key-ring.js'

describe('Fingerprinter', () => {
  it('is keyed: the same ring agrees with itself, another ring does not', () => {
    const ring = KeyRing.generate()
    const a = new Fingerprinter(ring)
    const b = new Fingerprinter(KeyRing.fromJSON(ring.export()))
    const other = new Fingerprinter(KeyRing.generate())
    const value = 'ada@example.com'
    expect(a.fingerprint(value)).toBe(b.fingerprint(value))
    expect(a.fingerprint(value)).not.toBe(other.fingerprint(value).replace(/^fp1\.[^.]+\./, `fp1.${ring.activeKid}.`))
    expect(a.fingerprint(value)).not.toBe(a.fingerprint('bob@example.com'))
  })

  it('outputs fp1.<kid>.<base64url HMAC-SHA256>, never a plain hash', () => {
    const ring = KeyRing.generate()
    const fp = new Fingerprinter(ring).fingerprint('42')
    expect(fp).toMatch(new RegExp(`^fp1\\.${ring.activeKid}\\.[A-Za-z0-9_-]{43}$`))
    const plain = createHash('sha256').update('42').digest('base64url')
    expect(fp).not.toContain(plain)
  })

  it('follows rotation: the kid in the output names the active key', () => {
    const ring = KeyRing.generate()
    const fp = new Fingerprinter(ring)
    const before = fp.fingerprint('x')
    const { kid } = ring.rotate()
    const after = fp.fingerprint('x')
    expect(after.startsWith(`fp1.${kid}.`)).toBe(true)
    expect(after).not.toBe(before)
  })

  it('treats bytes and their UTF-8 string alike', () => {
    const fp = new Fingerprinter(KeyRing.generate())
    expect(fp.fingerprint(new TextEncoder().encode('héllo'))).toBe(fp.fingerprint('héllo'))
  })
})
