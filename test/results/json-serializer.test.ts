import { describe, expect, it } from 'vitest'
import { JSONSerializer } from '../../src/results/json-serializer.js'

const json = new JSONSerializer()
const body = (bytes: Uint8Array): string => new TextDecoder().decode(bytes.subarray(10)) // "ALKS" 1 4 "json"

function framed(text: string): Uint8Array {
  const header = json.serialize(null).subarray(0, 10)
  const bytes = new TextEncoder().encode(text)
  const out = new Uint8Array(header.length + bytes.length)
  out.set(header)
  out.set(bytes, header.length)
  return out
}

describe('JSONSerializer', () => {
  it('has the format name json and frames its body', () => {
    expect(json.format).toBe('json')
    expect(new TextDecoder().decode(json.serialize(1).subarray(0, 10))).toBe('ALKS\u0001\u0004json')
  })

  it('sorts object keys at every depth, so equal values give equal bytes', () => {
    expect(body(json.serialize({ b: 1, a: { d: 2, c: 3, 10: 'x', 2: 'y' } }))).toBe(
      '{"a":{"10":"x","2":"y","c":3,"d":2},"b":1}',
    )
    expect(json.serialize({ x: 1, y: 2 })).toEqual(json.serialize({ y: 2, x: 1 }))
  })

  it('round-trips plain JSON values', () => {
    const value = { s: 'ünïcödé \u2028 "q"', n: -1.5e-7, t: true, f: false, z: null, a: [1, [2, {}]], e: '' }
    expect(json.deserialize(json.serialize(value))).toEqual(value)
  })

  it('round-trips Dates, BigInts, Maps, Sets and undefined through documented tags', () => {
    const value = {
      when: new Date('2026-11-21T09:00:00.000Z'),
      big: -123456789012345678901234567890n,
      map: new Map<unknown, unknown>([[{ k: 1 }, new Set([1n])], ['b', new Date(0)]]),
      set: new Set(['x', 2]),
      missing: undefined,
      list: [undefined, 1],
    }
    const bytes = json.serialize(value)
    expect(body(bytes)).toContain('"when":{"$alk":"date","v":"2026-11-21T09:00:00.000Z"}')
    expect(body(bytes)).toContain('"big":{"$alk":"bigint","v":"-123456789012345678901234567890"}')
    expect(body(bytes)).toContain('"set":{"$alk":"set","v":["x",2]}')
    const back = json.deserialize(bytes) as typeof value
    expect(back).toEqual(value)
    expect(back.when).toBeInstanceOf(Date)
    expect(back.map).toBeInstanceOf(Map)
    expect([...back.map.keys()][0]).toEqual({ k: 1 })
    expect(Object.hasOwn(back, 'missing')).toBe(true)
  })

  it('escapes a plain object that has its own $alk key, so it is never read as a tag', () => {
    const value = { $alk: 'date', v: 'not a date', nested: { $alk: 'bigint', v: 'x' } }
    const bytes = json.serialize(value)
    expect(body(bytes)).toMatch(/^\{"\$alk":"object","v":\{/)
    expect(json.deserialize(bytes)).toEqual(value)
  })

  it('keeps a "__proto__" key as data, never as a prototype', () => {
    const back = json.deserialize(framed('{"__proto__":{"polluted":true},"a":{"$alk":"bigint","v":"1"}}')) as Record<string, unknown>
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.hasOwn(back, '__proto__')).toBe(true)
    expect(back.a).toBe(1n)
  })

  class Point {
    constructor(readonly x: number) {}
  }
  const cycle: Record<string, unknown> = {}
  cycle.self = cycle

  it.each([
    ['a function', { ok: 1, rows: [{ fn: () => 1 }] }, '$.rows[0].fn', 'a function'],
    ['a symbol', { s: Symbol('x') }, '$.s', 'a symbol'],
    ['a class instance', { p: new Point(1) }, '$.p', 'an instance of Point'],
    ['a typed array', [new Uint8Array(2)], '$[0]', 'an instance of Uint8Array'],
    ['NaN', { n: Number.NaN }, '$.n', 'NaN'],
    ['Infinity', { 'odd key': Infinity }, '$["odd key"]', 'Infinity'],
    ['an invalid Date', { d: new Date('nope') }, '$.d', 'an invalid Date'],
    ['a cycle', cycle, '$.self', 'a reference cycle'],
    ['a Map value', new Map([['k', () => 1]]), '$[0][1]', 'a function'],
    ['symbol keys', { [Symbol('k')]: 1 }, '$', 'symbol-keyed'],
  ])('refuses %s with ERR_SERIALIZATION naming the path', (_name, value, path, what) => {
    let error: unknown
    try {
      json.serialize(value)
    } catch (err) {
      error = err
    }
    expect(error).toMatchObject({ code: 'ERR_SERIALIZATION' })
    expect((error as Error).message).toContain(` at ${path}`)
    expect((error as Error).message).toContain(what)
  })

  it('never quotes the content of a refused value', () => {
    expect(() => json.serialize({ fn: function leakyNeedle() {} })).toThrow(expect.objectContaining({
      message: expect.not.stringContaining('leakyNeedle') as unknown,
    }))
  })

  it('wraps a throwing getter as ERR_SERIALIZATION without its message', () => {
    const value = {
      get boom(): never {
        throw new Error('needle-in-getter')
      },
    }
    expect(() => json.serialize(value)).toThrow(expect.objectContaining({
      code: 'ERR_SERIALIZATION',
      message: expect.not.stringContaining('needle-in-getter') as unknown,
    }))
  })

  it.each([
    ['foreign bytes', new TextEncoder().encode('{"a":1}')],
    ['a v8 header', new TextEncoder().encode('ALKS\u0001\u0002v8\u00ff')],
    ['a truncated body', json.serialize({ a: [1, 2, 3] }).subarray(0, 16)],
    ['invalid UTF-8', framed('"\u0000"').map((b, i) => (i === 11 ? 0xff : b))],
    ['an unknown tag', framed('{"$alk":"regexp","v":"x"}')],
    ['a bad date tag', framed('{"$alk":"date","v":"2026-02-30T00:00:00.000Z"}')],
    ['a bad bigint tag', framed('{"$alk":"bigint","v":"1e3"}')],
    ['a tag with extra members', framed('{"$alk":"set","v":[],"w":1}')],
    ['a bad map entry', framed('{"$alk":"map","v":[[1]]}')],
  ])('refuses %s with ERR_PAYLOAD_FORMAT', (_name, bytes) => {
    expect(() => json.deserialize(bytes)).toThrow(expect.objectContaining({ code: 'ERR_PAYLOAD_FORMAT' }))
  })

  it('does not quote the stored text when it does not parse', () => {
    expect(() => json.deserialize(framed('{"secret":"needle-zz'))).toThrow(expect.objectContaining({
      code: 'ERR_PAYLOAD_FORMAT',
      message: expect.not.stringContaining('needle') as unknown,
    }))
  })
})
