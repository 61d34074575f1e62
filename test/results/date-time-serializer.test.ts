import { describe, expect, it } from 'vitest'
import { DateTimeSerializer } from '../../src/results/date-time-serializer.js'
import { PayloadFrame } from '../../src/results/payload-frame.js'

const serializer = new DateTimeSerializer()
const frame = new PayloadFrame('datetime')
const framed = (text: string): Uint8Array => frame.wrap(new TextEncoder().encode(text))

describe('DateTimeSerializer', () => {
  it('writes the header and ISO-8601 UTC text', () => {
    const bytes = serializer.serialize(new Date('2026-11-21T09:00:00.123Z'))
    expect(new TextDecoder().decode(bytes)).toBe('ALKS\u0001\u0008datetime2026-11-21T09:00:00.123Z')
  })

  it.each(['2026-11-21T09:00:00.123Z', '1969-12-31T23:59:59.999Z', '+275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00.000Z'])(
    'round-trips %s',
    (iso) => {
      expect(serializer.deserialize(serializer.serialize(new Date(iso))).toISOString()).toBe(iso)
    },
  )

  it('refuses a non-Date and an invalid Date with ERR_SERIALIZATION', () => {
    expect(() => serializer.serialize('2026-11-21' as unknown as Date)).toThrow(expect.objectContaining({ code: 'ERR_SERIALIZATION' }))
    expect(() => serializer.serialize(new Date('nope'))).toThrow(expect.objectContaining({ code: 'ERR_SERIALIZATION' }))
  })

  it.each([
    ['a date-only text', framed('2026-11-21')],
    ['an impossible day', framed('2026-02-30T00:00:00.000Z')],
    ['an offset instead of Z', framed('2026-11-21T09:00:00.000+01:00')],
    ['trailing bytes', framed('2026-11-21T09:00:00.000Z\n')],
    ['invalid UTF-8', frame.wrap(Uint8Array.of(0xff, 0xfe))],
    ['a json payload', new PayloadFrame('json').wrap(new TextEncoder().encode('"2026-11-21T09:00:00.000Z"'))],
    ['a truncated body', serializer.serialize(new Date(0)).subarray(0, 20)],
  ])('refuses %s with ERR_PAYLOAD_FORMAT', (_name, bytes) => {
    expect(() => serializer.deserialize(bytes)).toThrow(expect.objectContaining({ code: 'ERR_PAYLOAD_FORMAT' }))
  })
})
