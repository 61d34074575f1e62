import { describe, expect, it } from 'vitest'
import { JSONSerializer } from '../../src/results/json-serializer.js'
import { StructuredSerializer } from '../../src/results/structured-serializer.js'

const v8 = new StructuredSerializer()

describe('StructuredSerializer', () => {
  it('frames V8 structured-clone bytes under the format name v8', () => {
    expect(v8.format).toBe('v8')
    expect(new TextDecoder().decode(v8.serialize(1).subarray(0, 8))).toBe('ALKS\u0001\u0002v8')
  })

  it('round-trips Dates, Maps, Sets, BigInts, typed arrays and cycles', () => {
    const value: Record<string, unknown> = {
      when: new Date(0),
      map: new Map([['k', new Set([1n])]]),
      pixels: new Uint8Array([1, 2, 3]),
      floats: new Float64Array([0.5]),
    }
    value.self = value
    const back = v8.deserialize(v8.serialize(value)) as Record<string, unknown>
    expect(back.when).toEqual(new Date(0))
    expect(back.map).toEqual(new Map([['k', new Set([1n])]]))
    expect(back.pixels).toEqual(new Uint8Array([1, 2, 3]))
    expect(back.floats).toBeInstanceOf(Float64Array)
    expect(back.self).toBe(back)
  })

  it('refuses functions and symbols with ERR_SERIALIZATION, without quoting their source', () => {
    expect(() => v8.serialize({ fn: function needleFn() {} })).toThrow(expect.objectContaining({
      code: 'ERR_SERIALIZATION',
      message: expect.not.stringContaining('needleFn') as unknown,
    }))
    expect(() => v8.serialize(Symbol('s'))).toThrow(expect.objectContaining({ code: 'ERR_SERIALIZATION' }))
  })

  it.each([
    ['a truncated body', v8.serialize({ a: [1, 2, 3], s: 'hello' }).subarray(0, 14)],
    ['a garbage body', new Uint8Array([...v8.serialize(0).subarray(0, 8), 0x01, 0x02, 0x03])],
    ['a json payload', new JSONSerializer().serialize({ a: 1 })],
    ['foreign bytes', new TextEncoder().encode('not airlock at all')],
  ])('refuses %s with ERR_PAYLOAD_FORMAT', (_name, bytes) => {
    expect(() => v8.deserialize(bytes)).toThrow(expect.objectContaining({ code: 'ERR_PAYLOAD_FORMAT' }))
  })
})
