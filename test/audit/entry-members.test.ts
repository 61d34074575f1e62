import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { entryMembers, sortedMembers } from '../../src/audit/entry-members.js'
import { CanonicalText, canonicalJson } from '../../src/internal/canonical-json.js'

// Strings that need escaping, lone surrogates, and keys that sort around `hash`.
const text = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('', '"', '\\', '\u2028', '\ud800', 'é', '\n'))
const canonical = fc.jsonValue().map((value) => new CanonicalText(canonicalJson(value)))

const eventBody = fc.record(
  {
    channel: text,
    eventId: text,
    policyHash: text,
    event: canonical,
    transforms: canonical,
    status: text,
    kind: fc.constant('event'),
    error: canonical,
    v: fc.integer({ min: 0, max: 9 }),
    seq: fc.maxSafeNat(),
    time: text,
    prev: text,
  },
  { requiredKeys: ['channel', 'eventId', 'policyHash', 'event', 'transforms', 'status', 'kind', 'v', 'seq', 'time', 'prev'] },
)

describe('entryMembers', () => {
  it('writes an event entry from its template exactly as the general path writes it', () => {
    fc.assert(
      fc.property(eventBody, (body) => {
        expect(entryMembers(body)).toEqual(sortedMembers(body))
      }),
      { numRuns: 500 },
    )
  })

  it('writes {head,tail} as the canonical JSON of the entry without its hash', () => {
    fc.assert(
      fc.property(eventBody, (body) => {
        const { head, tail } = entryMembers(body)
        const plain = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v instanceof CanonicalText ? JSON.parse(v.text) : v]))
        expect(`{${[head, tail].filter((part) => part !== '').join(',')}}`).toBe(canonicalJson(plain))
      }),
      { numRuns: 300 },
    )
  })

  it('leaves the template for any body it was not made for: a member more, a member of another type, another kind', () => {
    const base = { channel: 'logs', eventId: 'e1', policyHash: 'ph', event: new CanonicalText('{}'), transforms: new CanonicalText('[]'), status: 'sent', kind: 'event', v: 2, seq: 3, time: 't', prev: 'p' }
    const variants: Record<string, unknown>[] = [
      { ...base, extra: 'kept' },
      { ...base, zzz: 1 },
      { ...base, aaa: [1, 'two'] },
      { ...base, event: { a: 1 } },
      { ...base, seq: 1.5 },
      { ...base, status: 7 },
      { ...base, kind: 'delivery' },
      { ...base, error: { code: 'x' } },
    ]
    for (const body of variants) {
      const { head, tail } = entryMembers(body)
      expect({ head, tail }).toEqual(sortedMembers(body))
      const whole = `{${[head, tail].filter((part) => part !== '').join(',')}}`
      const plain = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v instanceof CanonicalText ? JSON.parse(v.text) : v]))
      expect(whole).toBe(canonicalJson(plain))
    }
  })
})
