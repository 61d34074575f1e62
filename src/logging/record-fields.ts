/**
 * Helpers that turn what pino logged into a {@link ShippedRecord}'s parts,
 * shared by the logger's destination and the shipping destination.
 */

import { types } from 'node:util'
import { WITHHELD_MARKER } from '../scrub/markers.js'

type Fields = Record<string, unknown>

/**
 * Copies `source`'s own fields into `target`, except pino's keys, the
 * message key, and values JSON would drop (`undefined`, functions).
 *
 * @example
 * ```ts
 * copyFields(fields, { level: 30, user: 'ada', msg: 'hi' }, 'msg') // fields.user === 'ada'
 * ```
 */
export function copyFields(target: Fields, source: Fields, messageKey: string): void {
  for (const key in source) {
    if (!Object.hasOwn(source, key) || isPinoKey(key) || key === messageKey) continue
    const value = source[key]
    if (value === undefined || typeof value === 'function') continue
    // `target[key] = v` would set the prototype for "__proto__".
    if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
    else target[key] = value
  }
}

/**
 * Whether a logged object is a record of fields. pino writes anything else
 * it is handed as the merging object (a Buffer, an array, a boxed string)
 * one key per element, which would spell out what it holds.
 *
 * @example
 * ```ts
 * isRecordLike({ rows: 3 })           // true
 * isRecordLike(Buffer.from('secret')) // false
 * ```
 */
export function isRecordLike(value: object): boolean {
  return !(
    Array.isArray(value) ||
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof SharedArrayBuffer ||
    types.isBoxedPrimitive(value) ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof Date ||
    value instanceof RegExp
  )
}

/**
 * Keys pino writes itself; they never ship as fields.
 *
 * @example
 * ```ts
 * isPinoKey('hostname') // true
 * ```
 */
export function isPinoKey(key: string): boolean {
  return key === 'level' || key === 'time' || key === 'msg' || key === 'pid' || key === 'hostname'
}

/**
 * A logged message as text: `''` for none, JSON for an object (pino logs a
 * non-string message as is).
 *
 * @example
 * ```ts
 * messageText(undefined) // ''
 * messageText(42)        // '42'
 * ```
 */
export function messageText(msg: unknown): string {
  if (typeof msg === 'string') return msg
  if (typeof msg === 'number' || typeof msg === 'boolean' || typeof msg === 'bigint') return String(msg)
  if (typeof msg !== 'object' || msg === null) return ''
  try {
    return JSON.stringify(msg) ?? ''
  } catch {
    return WITHHELD_MARKER
  }
}

/**
 * Milliseconds since the epoch from a pino time: epoch milliseconds (the
 * default), epoch seconds (`stdTimeFunctions.unixTime`), or an ISO string,
 * quoted or not. Anything else gives the current time.
 *
 * @example
 * ```ts
 * epochMillis('1763683200000')              // 1763683200000
 * epochMillis('"2025-11-21T00:00:00.000Z"') // 1763683200000
 * ```
 */
export function epochMillis(time: unknown): number {
  if (typeof time === 'number' || (typeof time === 'string' && time !== '')) {
    const value = Number(time)
    // Before 1973 in milliseconds is a time in seconds.
    if (Number.isFinite(value)) return value < 1e11 ? value * 1000 : value
    if (typeof time === 'string') {
      const parsed = Date.parse(time.charCodeAt(0) === 34 /* " */ ? time.slice(1, -1) : time)
      if (Number.isFinite(parsed)) return parsed
    }
  }
  return Date.now()
}
