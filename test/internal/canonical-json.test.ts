import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CanonicalText, canonicalJson, MAX_JSON_DEPTH } from '../../src/internal/canonical-json.js'
import { AirlockError } from '../../src/errors.js'

function thrown(fn: () => unknown): AirlockError {
  try {
    fn()
  } catch (err) {
    if (err instanceof AirlockError) return err
    throw err
  }
  throw new Error('expected a throw')
}

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units at every level and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: true }], c: 'x' }, A: false })).toBe(
      '{"A":false,"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}',
    )
    // UTF-16 code units, not code points (RFC 8785 3.2.3): U+1F600 is 0xD83D 0xDE00, so it sorts before U+FB33.
    expect(canonicalJson({ '\ufb33': 1, '\ud83d\ude00': 2, '\u0080': 3 })).toBe('{"\u0080":3,"\ud83d\ude00":2,"\ufb33":1}')
  })

  it('writes numbers and strings as JSON.stringify does', () => {
    expect(canonicalJson([1e21, 0.1, -0, 5e-7, 'a"b\n', '\ud800'])).toBe('[1e+21,0.1,0,5e-7,"a\\"b\\n","\\ud800"]')
  })

  it('leaves out undefined members and splices canonical text verbatim', () => {
    expect(canonicalJson({ a: undefined, b: new CanonicalText('{"x":1}') })).toBe('{"b":{"x":1}}')
  })

  it('refuses what is not JSON, naming the path and never the value', () => {
    const cases: [unknown, string][] = [
      [{ a: [1, undefined] }, 'event.a[1]'],
      [{ a: Number.POSITIVE_INFINITY }, 'event.a'],
      [{ a: new Date(0) }, 'event.a'],
      [{ a: new Map() }, 'event.a'],
      [{ a: 1n }, 'event.a'],
      [{ a: () => 'secret-value' }, 'event.a'],
    ]
    for (const [value, path] of cases) {
      const err = thrown(() => canonicalJson(value, 'event'))
      expect(err.code).toBe('ERR_INVALID_ARGUMENT')
      expect(err.message).toContain(`at ${path},`)
      expect(err.message).not.toContain('secret-value')
    }
  })

  it('refuses nesting deeper than the limit (and so cycles)', () => {
    let deep: unknown = 1
    for (let i = 0; i <= MAX_JSON_DEPTH; i++) deep = [deep]
    expect(thrown(() => canonicalJson(deep)).code).toBe('ERR_INVALID_ARGUMENT')
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(thrown(() => canonicalJson(cycle)).message).toMatch(/nesting deeper/)
  })

  it('writes the same bytes on its native fast paths as the member-by-member definition, whatever the key order', () => {
    // The definition, written out: sorted keys, JSON.stringify for each scalar.
    const reference = (value: unknown): string => {
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`
      if (typeof value === 'object' && value !== null) {
        const record = value as Record<string, unknown>
        const members = Object.keys(record)
          .sort()
          .filter((key) => record[key] !== undefined)
          .map((key) => `${JSON.stringify(key)}:${reference(record[key])}`)
        return `{${members.join(',')}}`
      }
      return JSON.stringify(value)
    }
    const key = fc.oneof(fc.string(), fc.constantFrom('0', '7', '10', '4294967294', '4294967295', '01', '__proto__', 'b', 'a', 'é', '\ud800'))
    const scalar = fc.oneof(fc.string(), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constant(null), fc.constant(-0))
    const tree = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('value'), { maxLength: 4 }), tie('object')),
      object: fc.dictionary(key, fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 6 }).map((entries) => {
        const out = Object.create(null) as Record<string, unknown>
        for (const [k, v] of Object.entries(entries)) out[k] = v
        return out
      }),
    }))
    fc.assert(
      fc.property(tree.value, (value) => {
        expect(canonicalJson(value)).toBe(reference(value))
      }),
      { numRuns: 500 },
    )
  })
})
