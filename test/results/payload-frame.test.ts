import { describe, expect, it } from 'vitest'
import { PAYLOAD_HEADER_VERSION, PAYLOAD_MAGIC, PayloadFrame } from '../../src/results/payload-frame.js'

const text = new TextEncoder()

describe('PayloadFrame', () => {
  it('writes magic, version, name length, name, then the body', () => {
    const bytes = new PayloadFrame('csv').wrap(text.encode('a,b'))
    expect([...bytes]).toEqual([...PAYLOAD_MAGIC, PAYLOAD_HEADER_VERSION, 3, ...text.encode('csv'), ...text.encode('a,b')])
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('ALKS')
  })

  it('unwraps its own format to the body', () => {
    const frame = new PayloadFrame('csv')
    expect(new TextDecoder().decode(frame.unwrap(frame.wrap(text.encode('a,b'))))).toBe('a,b')
  })

  it('names the expected and the found format on a mismatch', () => {
    const bytes = new PayloadFrame('csv').wrap(text.encode('a,b'))
    expect(() => new PayloadFrame('json').unwrap(bytes)).toThrow(expect.objectContaining({
      code: 'ERR_PAYLOAD_FORMAT',
      message: expect.stringMatching(/expected a json payload, found a csv payload/) as unknown,
    }))
  })

  it.each([
    ['empty bytes', new Uint8Array()],
    ['no magic', text.encode('{"a":1}')],
    ['another version', Uint8Array.of(0x41, 0x4c, 0x4b, 0x53, 2, 3, 0x63, 0x73, 0x76)],
    ['a truncated name', Uint8Array.of(0x41, 0x4c, 0x4b, 0x53, 1, 9, 0x63)],
  ])('refuses %s with ERR_PAYLOAD_FORMAT', (_name, bytes) => {
    expect(() => new PayloadFrame('csv').unwrap(bytes)).toThrow(expect.objectContaining({ code: 'ERR_PAYLOAD_FORMAT' }))
  })

  it('does not echo an unreadable foreign format name', () => {
    const bytes = Uint8Array.of(0x41, 0x4c, 0x4b, 0x53, 1, 3, 0x53, 0x45, 0x43)
    expect(() => new PayloadFrame('csv').unwrap(bytes)).toThrow(/an unreadable format name/)
  })

  it('refuses a malformed format name and a non-byte input', () => {
    expect(() => new PayloadFrame('Bad Name')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new PayloadFrame('csv').unwrap('ALKS' as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })
})
