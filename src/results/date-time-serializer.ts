import { PayloadFormatError, SerializationError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { PayloadFrame } from './payload-frame.js'
import type { Serializer } from './serializer.js'

const frame = new PayloadFrame('datetime')
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })
// Exactly what Date#toISOString writes, extended years included.
const ISO_UTC = /^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/**
 * A `Date` as ISO-8601 text in UTC with millisecond precision.
 *
 * Wire format: the payload header (format name `datetime`, see
 * `PayloadFrame`), then the ASCII text of `Date#toISOString`, such as
 * `2026-11-21T09:00:00.000Z`. A reader accepts exactly that shape and a real
 * calendar date (no `2026-02-30`).
 *
 * @example
 * ```ts
 * import { DateTimeSerializer, LocalResult } from 'airlock-sdk'
 *
 * const r = new LocalResult<Date>({ dir: 'results', serializer: new DateTimeSerializer() })
 * const written = await r.write(new Date())
 * ```
 */
export class DateTimeSerializer implements Serializer<Date> {
  readonly format = frame.format

  serialize(value: Date): Uint8Array {
    if (!(value instanceof Date)) {
      throw new SerializationError(`DateTimeSerializer encodes a Date, found ${describeType(value)}; JSONSerializer (the default) stores any value structuredClone can clone`)
    }
    if (Number.isNaN(value.getTime())) throw new SerializationError('DateTimeSerializer encodes a valid Date, found an invalid Date; JSONSerializer (the default) stores an invalid Date too')
    return frame.wrap(encoder.encode(value.toISOString()))
  }

  deserialize(bytes: Uint8Array): Date {
    const body = frame.unwrap(bytes)
    let text: string
    try {
      text = decoder.decode(body)
    } catch {
      throw new PayloadFormatError('expected a datetime body of ASCII text, found bytes that are not UTF-8')
    }
    const date = ISO_UTC.test(text) ? new Date(text) : undefined
    if (date === undefined || Number.isNaN(date.getTime()) || date.toISOString() !== text) {
      throw new PayloadFormatError('expected a datetime body like 2026-11-21T09:00:00.000Z, found other text')
    }
    return date
  }
}
