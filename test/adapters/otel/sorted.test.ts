import { describe, expect, it } from 'vitest'
import { sorted } from '../../../src/adapters/otel/telemetry-policy.js'
import { canonicalJson } from '../../../src/internal/canonical-json.js'

describe('sorted (what the otel wrappers hand over and ledger)', () => {
  it('orders keys at every depth, keeps a __proto__ key as a key, and leaves sorted values as they are', () => {
    const attributes = JSON.parse('{"user":"a","__proto__":{"polluted":true},"b":[{"z":1,"a":2}],"a":null}') as Record<string, unknown>
    const out = sorted(attributes) as Record<string, unknown>
    expect(Object.keys(out)).toEqual(['__proto__', 'a', 'b', 'user'])
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys((out.b as Record<string, unknown>[])[0]!)).toEqual(['a', 'z'])
    expect(JSON.stringify(out)).toBe(canonicalJson(attributes))
    const already = { a: 1, b: { c: [1, 2] } }
    expect(sorted(already)).toBe(already)
  })

  it('orders small and large maps by UTF-16 code units, as canonical JSON does', () => {
    const words = ['é', 'Z', 'a', 'a.b', 'a-b', 'a_b', 'aa', 'A', '\u{1F600}', '\uFF21', 'b', 'ab', 'x.y.z', 'user.email', 'db.password', '']
    for (const size of [2, 5, 16, 33, 80]) {
      const record: Record<string, unknown> = {}
      for (let i = 0; i < size; i++) record[`${words[(i * 7) % words.length]}${i % 3 === 0 ? `#${i}` : ''}`] = i
      const out = sorted(record) as Record<string, unknown>
      const keys = Object.keys(out)
      expect(keys).toEqual([...keys].sort())
      expect(JSON.stringify(out)).toBe(canonicalJson(record))
    }
  })
})
