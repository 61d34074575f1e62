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
})
