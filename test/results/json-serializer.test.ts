import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { Secret } from '../../src/crypto/secret.js'
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
    readonly #hidden = 'private-field'
    readonly kind = 'point'
    constructor(readonly x: number) {}
    get norm(): number {
      return Math.abs(this.x) + this.#hidden.length
    }
  }

  it('stores every value structuredClone clones, and reads back what structuredClone gives (issue 14, item 2)', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withNullPrototype: true,
          withObjectString: true,
          withSparseArray: true,
        }),
        (value) => {
          expect(json.deserialize(json.serialize(value))).toEqual(structuredClone(value))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('keeps bytes as bytes of their own type, class data, Errors, RegExps, odd numbers, shared references and cycles', () => {
    const shared = { id: 'shared' }
    const tree: Record<string, unknown> = { name: 'root', children: [shared, shared] }
    tree.self = tree
    const value = {
      receipt: Buffer.from('receipt bytes'),
      pixels: new Uint8Array([0, 255]),
      samples: new Float64Array([1.5, -0, Number.NaN]),
      ids: new BigUint64Array([2n ** 64n - 1n]),
      raw: new Uint16Array([1, 513]).buffer,
      view: new DataView(new Uint8Array([1, 2, 3]).buffer, 1),
      point: new Point(-3),
      failure: new TypeError('declined', { cause: new Error('upstream') }),
      pattern: /^ord-\d+$/giu,
      odd: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, new Date('nope')],
      boxed: [Object('s'), Object(1), Object(false), Object(7n)],
      tree,
    }
    const back = json.deserialize(json.serialize(value)) as typeof value
    expect(Buffer.isBuffer(back.receipt)).toBe(true)
    expect(back.receipt.toString()).toBe('receipt bytes')
    expect(back.pixels).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(back.pixels)).toBe(false)
    expect([...back.pixels]).toEqual([0, 255])
    expect(back.samples).toBeInstanceOf(Float64Array)
    expect(Object.is(back.samples[1], -0) && Number.isNaN(back.samples[2])).toBe(true)
    expect(back.ids[0]).toBe(2n ** 64n - 1n)
    expect([...new Uint16Array(back.raw)]).toEqual([1, 513])
    expect([...new Uint8Array(back.view.buffer)]).toEqual([2, 3])
    expect(back.point).toEqual({ kind: 'point', x: -3 })
    expect(Object.getPrototypeOf(back.point)).toBe(Object.prototype)
    expect(back.failure).toBeInstanceOf(TypeError)
    expect(back.failure.message).toBe('declined')
    expect(back.failure.stack).toBe(value.failure.stack)
    expect((back.failure.cause as Error).message).toBe('upstream')
    expect(back.pattern.source).toBe(value.pattern.source)
    expect(back.pattern.flags).toBe('giu')
    expect(back.odd.slice(0, 4)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0])
    expect(Object.is(back.odd[3], -0)).toBe(true)
    expect(Number.isNaN((back.odd[4] as Date).getTime())).toBe(true)
    expect(back.boxed.map((b: object) => typeof b)).toEqual(['object', 'object', 'object', 'object'])
    expect(back.boxed.map((b: { valueOf(): unknown }) => b.valueOf())).toEqual(['s', 1, false, 7n])
    const children = back.tree.children as unknown[]
    expect(back.tree.self).toBe(back.tree)
    expect(children[0]).toBe(children[1])
    expect(children[0]).toEqual({ id: 'shared' })
  })

  it('leaves symbol-keyed properties out, as structuredClone does', () => {
    expect(json.deserialize(json.serialize({ [Symbol('k')]: 1, a: 2 }))).toEqual({ a: 2 })
  })

  it('reads the payloads earlier versions wrote', () => {
    const earlier = framed('{"a":{"$alk":"date","v":"2026-11-21T09:00:00.000Z"},"b":{"$alk":"map","v":[[1,{"$alk":"set","v":[{"$alk":"bigint","v":"2"}]}]]},"c":{"$alk":"undefined"},"d":{"$alk":"object","v":{"$alk":1}},"e":{"x":[1,{"y":2}]},"f":{"x":[1,{"y":2}]}}')
    const back = json.deserialize(earlier) as Record<string, unknown>
    expect(back).toEqual({
      a: new Date('2026-11-21T09:00:00.000Z'),
      b: new Map([[1, new Set([2n])]]),
      c: undefined,
      d: { $alk: 1 },
      e: { x: [1, { y: 2 }] },
      f: { x: [1, { y: 2 }] },
    })
    expect(back.e).not.toBe(back.f)
  })

  it.each([
    ['a function', { ok: 1, rows: [{ fn: () => 1 }] }, '$.rows[0].fn', 'a function'],
    ['a symbol', { s: Symbol('x') }, '$.s', 'a symbol'],
    ['a Promise', { later: Promise.resolve(1) }, '$.later', 'a Promise'],
    ['a WeakMap', [new WeakMap()], '$[0]', 'WeakMap'],
    ['a generator', { g: (function* () {})() }, '$.g', 'a generator'],
    ['a Secret', { token: new Secret('s3cr3t-value') }, '$.token', 'a Secret'],
    ['a KeyRing', { keys: KeyRing.generate() }, '$.keys', 'a KeyRing'],
    ['a Map value', new Map([['k', () => 1]]), '$[0][1]', 'a function'],
  ])('refuses %s with ERR_SERIALIZATION naming the path, and says no serializer stores it', (_name, value, path, what) => {
    let error: unknown
    try {
      json.serialize(value)
    } catch (err) {
      error = err
    }
    expect(error).toMatchObject({ code: 'ERR_SERIALIZATION' })
    expect((error as Error).message).toContain(` at ${path}`)
    expect((error as Error).message).toContain(what)
    expect((error as Error).message).toContain('no built-in serializer')
    expect((error as Error).message).not.toContain('s3cr3t-value')
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
    ['an unknown tag', framed('{"$alk":"pickle","v":"x"}')],
    ['a malformed regexp tag', framed('{"$alk":"regexp","v":"x"}')],
    ['a ref to nothing written before', framed('{"a":{"$alk":"ref","v":5}}')],
    ['a bytes tag of an unknown type', framed('{"$alk":"bytes","v":["Float128Array","AAAA"]}')],
    ['a bytes tag that does not fit its type', framed('{"$alk":"bytes","v":["Uint32Array","AAA="]}')],
    ['an error tag with extra members', framed('{"$alk":"error","v":{"message":"m","name":"Error","code":1}}')],
    ['a bad number tag', framed('{"$alk":"number","v":"1"}')],
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
