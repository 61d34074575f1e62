import { describe, expect, it } from 'vitest'
import { cacheValidators, NEVER_USE } from '../../src/runtime/cache-validators.js'
import { canonicalText } from '../../src/crypto/canonical-text.js'
import { MemoryCacheStore } from '../../src/runtime/memory-cache-store.js'

describe('canonicalText', () => {
  it('gives equal text for equal values, whatever the key or member order', () => {
    expect(canonicalText({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe(canonicalText({ a: { c: 'x', d: [1, 2] }, b: 1 }))
    expect(canonicalText(new Map([['a', 1], ['b', 2]]))).toBe(canonicalText(new Map([['b', 2], ['a', 1]])))
    expect(canonicalText(new Set([3, 1, 2]))).toBe(canonicalText(new Set([1, 2, 3])))
    expect(canonicalText({ at: new Date(0) })).toBe('{"at":D(1970-01-01T00:00:00.000Z)}')
  })

  it('keeps values of different types or shapes apart', () => {
    const distinct = [
      1, '1', 1n, true, 'true', null, undefined, 'u', -0, 0, NaN, Infinity, [], {}, [1], { 0: 1 }, [undefined],
      // eslint-disable-next-line no-sparse-arrays -- a hole must differ from undefined
      [,],
      { a: undefined }, new Map(), new Set(), new Uint8Array([1]), new Uint16Array([1]), Buffer.from([1]), new Date(0), /a/g, /a/,
      new URL('https://example.com/a'), 'https://example.com/a',
    ]
    const texts = distinct.map((v) => canonicalText(v))
    expect(new Set(texts).size).toBe(distinct.length)
  })

  it('uses toJSON for other objects that have one', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): { cents: number } {
        return { cents: this.cents }
      }
    }
    expect(canonicalText(new Money(5))).toBe('JMoney({"cents":5})')
  })

  it('refuses functions, symbols, class instances without toJSON, and cycles, naming neither the value nor its keys', () => {
    const cyclic: Record<string, unknown> = { name: 'secret-name-1' }
    cyclic['secret-key'] = cyclic
    class Client {
      password = 'hunter2-secret'
    }
    for (const [value, what] of [
      [{ f: () => 1 }, 'a function'],
      [[Symbol('s')], 'a symbol'],
      [{ 'secret-key': new Client() }, 'an instance of Client'],
      [cyclic, 'refers back to itself'],
    ] as const) {
      let thrown: unknown
      try {
        canonicalText(value)
      } catch (err) {
        thrown = err
      }
      expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(what) })
      expect((thrown as Error).message).not.toMatch(/secret/)
    }
    // A repeated (not cyclic) reference is fine.
    const shared = { x: 1 }
    expect(canonicalText({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}')
  })
})

describe('cacheValidators', () => {
  const subject = { inputs: { region: 'eu', day: 'mon' }, parameters: { env: 'prod', run: 7 } }

  it('select the material they compare', () => {
    expect(cacheValidators.durationOnly.select(subject)).toBeNull()
    expect(cacheValidators.allInputs.select(subject)).toBe(subject.inputs)
    expect(cacheValidators.allParameters.select(subject)).toBe(subject.parameters)
    expect(cacheValidators.partialInputsOnly(['region', 'missing']).select(subject)).toEqual({ region: 'eu', missing: undefined })
    expect(cacheValidators.partialParametersOnly(['env']).select(subject)).toEqual({ env: 'prod' })
    expect(cacheValidators.neverUse.select(subject)).toBe(NEVER_USE)
  })

  it('name partial validators by their sorted keys, so key order does not split a cache', () => {
    expect(cacheValidators.partialInputsOnly(['b', 'a', 'b']).name).toBe(cacheValidators.partialInputsOnly(['a', 'b']).name)
    expect(cacheValidators.partialInputsOnly([0]).name).toBe(cacheValidators.partialInputsOnly(['0']).name)
    expect(() => cacheValidators.partialInputsOnly([])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => cacheValidators.partialParametersOnly([''])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('MemoryCacheStore', () => {
  it('replaces an entry per key and variant, and drops the oldest past maxEntries', async () => {
    const store = new MemoryCacheStore({ maxEntries: 2 })
    const entry = (key: string, value: number) => ({ v: 1 as const, key, variant: 'v', writtenAt: '', expiresAt: '', value })
    await store.set(entry('a', 1))
    await store.set(entry('b', 2))
    await store.set(entry('a', 3))
    await store.set(entry('c', 4))
    expect(await store.get('a', 'v')).toMatchObject({ value: 3 })
    expect(await store.get('b', 'v')).toBeUndefined()
    expect(await store.get('c', 'v')).toMatchObject({ value: 4 })
    expect(() => new MemoryCacheStore({ maxEntries: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
