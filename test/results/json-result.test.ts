import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { JSONResult } from '../../src/results/json-result.js'

async function rejection(pending: Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await pending
  } catch (err) {
    return err as Error & { code: string }
  }
  throw new Error('expected a rejection')
}

describe('JSONResult', () => {
  it('is inline, of type json, and its location is the JSON text', async () => {
    const r = new JSONResult()
    expect(r.inline).toBe(true)
    expect(r.type).toBe('json')
    const written = await r.write({ rows: 42, tags: ['a'], none: null })
    expect(written.plainLocation).toBe('{"rows":42,"tags":["a"],"none":null}')
    expect(written.location).toBe(written.plainLocation)
    expect(JSON.parse(JSON.stringify(written))).toEqual({ type: 'json', location: written.location })
    expect((await r.read(written.location)).value).toEqual({ rows: 42, tags: ['a'], none: null })
    expect(await r.exists(written.location)).toBe(true)
    expect(await r.exists('{not json')).toBe(false)
  })

  it('encrypts the location when a cipher is set, so the value never shows', async () => {
    const keys = KeyRing.generate()
    const r = new JSONResult({ locationCipher: keys })
    const written = await r.write({ email: 'needle-ada@example.com' })
    expect(written.location?.startsWith('alk1.')).toBe(true)
    expect(JSON.stringify(written)).not.toContain('needle')
    expect(inspect(written, { showHidden: true })).not.toContain('needle')
    const read = await new JSONResult({ locationCipher: keys }).read(written.location)
    expect(read.value).toEqual({ email: 'needle-ada@example.com' })
    expect(read.location).toBe(written.location)
    expect(await rejection(new JSONResult({ locationCipher: KeyRing.generate() }).read(written.location))).toMatchObject({
      code: 'ERR_UNKNOWN_KID',
    })
    expect(await rejection(new JSONResult().read(written.location))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(await rejection(r.read(`${written.location}x`))).toMatchObject({ code: 'ERR_TOKEN_INVALID' })
  })

  class Row {
    readonly id = 1
  }
  const cycle: unknown[] = []
  cycle.push(cycle)

  it.each([
    ['undefined', { a: undefined }, '$.a', 'undefined'],
    ['a function', { rows: [1, () => 2] }, '$.rows[1]', 'a function'],
    ['a symbol', { s: Symbol('x') }, '$.s', 'a symbol'],
    ['a BigInt', { n: 1n }, '$.n', 'a bigint'],
    ['NaN', [Number.NaN], '$[0]', 'NaN'],
    ['Infinity', { x: { y: -Infinity } }, '$.x.y', '-Infinity'],
    ['a Date', { at: new Date(0) }, '$.at', 'an instance of Date'],
    ['a Map', { m: new Map() }, '$.m', 'an instance of Map'],
    ['a class instance', { r: new Row() }, '$.r', 'an instance of Row'],
    ['a cycle', cycle, '$[0]', 'a reference cycle'],
    // eslint-disable-next-line no-sparse-arrays
    ['a sparse array', [1, , 3], '$[1]', 'a hole'],
    ['a top-level undefined', undefined, '$', 'undefined'],
  ])('refuses %s with ERR_NOT_JSON_SAFE naming the path', async (_name, value, path, what) => {
    const err = await rejection(new JSONResult().write(value))
    expect(err.code).toBe('ERR_NOT_JSON_SAFE')
    expect(err.message).toContain(` at ${path}`)
    expect(err.message).toContain(what)
  })

  it('names the path, never the content of the bad value', async () => {
    const err = await rejection(new JSONResult().write({ ok: 'needle-ok', bad: new Date(0) }))
    expect(err.message).not.toContain('needle')
    expect(err.message).not.toContain('1970')
  })

  it('refuses a location that is not JSON with ERR_PAYLOAD_FORMAT, without quoting it', async () => {
    const err = await rejection(new JSONResult().read('{"needle": '))
    expect(err.code).toBe('ERR_PAYLOAD_FORMAT')
    expect(err.message).not.toContain('needle')
  })

  it('has no template to format, and takes only locationCipher', () => {
    expect(() => new JSONResult().format()).toThrow(expect.objectContaining({ code: 'ERR_RESULT_READ_ONLY' }))
    expect(() => new JSONResult({ location: 'x' } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
