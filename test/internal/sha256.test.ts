import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sha256, sha256Hex, sha256Into, sha256Is } from '../../src/internal/sha256.js'

describe('sha256', () => {
  it('gives what createHash gives, for bytes and for strings (as UTF-8), written where asked', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2_000 }), fc.string({ unit: 'grapheme', maxLength: 200 }), fc.nat(40), (bytes, text, offset) => {
        const expected = createHash('sha256').update(bytes).digest()
        expect(sha256(bytes)).toEqual(expected)
        expect(sha256Hex(bytes)).toBe(expected.toString('hex'))
        expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'))
        const target = Buffer.alloc(offset + 40, 0xee)
        sha256Into(bytes, target, offset)
        expect(target.subarray(offset, offset + 32)).toEqual(expected)
        // Nothing around the 32 bytes is touched.
        expect([...target.subarray(0, offset), ...target.subarray(offset + 32)].every((b) => b === 0xee)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('hashes the empty input and a view into a larger buffer by its own bytes only', () => {
    expect(sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    const whole = Buffer.from('xxabcxx')
    expect(sha256(whole.subarray(2, 5))).toEqual(createHash('sha256').update('abc').digest())
  })

  it('writes nothing where 32 bytes do not fit', () => {
    const target = Buffer.alloc(40, 0xee)
    expect(() => sha256Into(Buffer.from('abc'), target, 9)).toThrow(RangeError)
    expect(() => sha256Into(Buffer.from('abc'), target, -1)).toThrow(RangeError)
    expect(target.every((b) => b === 0xee)).toBe(true)
  })

  it('tells a digest from every other 32 bytes, and from digests cut short or run long', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2_000 }), fc.nat(31), fc.integer({ min: 1, max: 255 }), (bytes, at, flip) => {
        const digest = createHash('sha256').update(bytes).digest()
        expect(sha256Is(bytes, digest)).toBe(true)
        const changed = Buffer.from(digest)
        changed[at]! ^= flip
        expect(sha256Is(bytes, changed)).toBe(false)
        expect(sha256Is(bytes, digest.subarray(0, 31))).toBe(false)
        expect(sha256Is(bytes, Buffer.concat([digest, Buffer.alloc(1)]))).toBe(false)
      }),
      { numRuns: 300 },
    )
  })
})
