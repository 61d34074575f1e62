import { describe, expect, it } from 'vitest'
import { CompressedSerializer, type Compression } from '../../src/results/compressed-serializer.js'
import { JSONSerializer } from '../../src/results/json-serializer.js'
import { StructuredSerializer } from '../../src/results/structured-serializer.js'

const value = { rows: Array.from({ length: 200 }, (_, i) => ({ id: i, name: 'row' })), at: new Date(0) }
const formats: Compression[] = ['gzip', 'brotli', 'deflate']

describe('CompressedSerializer', () => {
  it('defaults to gzip', () => {
    expect(new CompressedSerializer(new JSONSerializer()).format).toBe('gzip')
  })

  describe.each(formats)('%s', (format) => {
    const serializer = new CompressedSerializer(new JSONSerializer(), { format })

    it('names the compression in the header and round-trips, smaller than the inner payload', () => {
      const bytes = serializer.serialize(value)
      expect(new TextDecoder().decode(bytes.subarray(6, 6 + format.length))).toBe(format)
      expect(bytes.length).toBeLessThan(new JSONSerializer().serialize(value).length)
      expect(serializer.deserialize(bytes)).toEqual(value)
    })

    it('refuses a corrupt compressed body with ERR_PAYLOAD_FORMAT', () => {
      const bytes = serializer.serialize(value)
      const corrupt = bytes.slice()
      for (let i = 6 + format.length; i < corrupt.length; i += 7) corrupt[i] = (corrupt[i] as number) ^ 0x5a
      expect(() => serializer.deserialize(corrupt)).toThrow(expect.objectContaining({ code: 'ERR_PAYLOAD_FORMAT' }))
    })

    it('refuses a truncated compressed body with ERR_PAYLOAD_FORMAT', () => {
      const bytes = serializer.serialize(value)
      expect(() => serializer.deserialize(bytes.subarray(0, bytes.length - 20))).toThrow(
        expect.objectContaining({ code: 'ERR_PAYLOAD_FORMAT' }),
      )
    })

    it('refuses an uncompressed payload with ERR_PAYLOAD_FORMAT', () => {
      expect(() => serializer.deserialize(new JSONSerializer().serialize(value))).toThrow(
        expect.objectContaining({ code: 'ERR_PAYLOAD_FORMAT', message: expect.stringMatching(/found a json payload/) as unknown }),
      )
    })
  })

  it('refuses another compression with ERR_PAYLOAD_FORMAT', () => {
    const bytes = new CompressedSerializer(new JSONSerializer(), { format: 'brotli' }).serialize(value)
    expect(() => new CompressedSerializer(new JSONSerializer()).deserialize(bytes)).toThrow(
      expect.objectContaining({ code: 'ERR_PAYLOAD_FORMAT', message: expect.stringMatching(/expected a gzip payload, found a brotli payload/) as unknown }),
    )
  })

  it('checks the inner format after decompressing', () => {
    const bytes = new CompressedSerializer(new StructuredSerializer()).serialize(value)
    expect(() => new CompressedSerializer(new JSONSerializer()).deserialize(bytes)).toThrow(
      expect.objectContaining({ code: 'ERR_PAYLOAD_FORMAT', message: expect.stringMatching(/expected a json payload, found a v8 payload/) as unknown }),
    )
  })

  it('passes the inner serializer errors through', () => {
    expect(() => new CompressedSerializer(new JSONSerializer()).serialize({ fn: () => 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_SERIALIZATION' }),
    )
  })

  it('refuses an unknown compression and a non-serializer', () => {
    expect(() => new CompressedSerializer(new JSONSerializer(), { format: 'zip' as Compression })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(() => new CompressedSerializer({} as JSONSerializer)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
