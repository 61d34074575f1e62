import { AirlockError, PayloadFormatError, SerializationError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { PayloadFrame } from './payload-frame.js'
import type { Serializer } from './serializer.js'
import { formatPath, type PathSegment } from './value-path.js'

const TAG = '$alk'
const frame = new PayloadFrame('json')
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })
const BIGINT_TEXT = /^-?(?:0|[1-9]\d*)$/

/**
 * JSON with a stable key order and a small tagged encoding for the values
 * JSON lacks. The default serializer of every `Result`.
 *
 * Wire format: the payload header (format name `json`, see `PayloadFrame`),
 * then UTF-8 JSON text without whitespace. Object keys are sorted by UTF-16
 * code unit, so equal values give equal bytes. Values JSON lacks are written
 * as tagged objects, whose only members are `$alk` and `v`:
 *
 * | value | encoded as |
 * |---|---|
 * | `Date` | `{"$alk":"date","v":"2026-11-21T09:00:00.000Z"}` |
 * | `BigInt` | `{"$alk":"bigint","v":"-123"}` |
 * | `Map` | `{"$alk":"map","v":[[key,value],...]}`, in insertion order |
 * | `Set` | `{"$alk":"set","v":[item,...]}`, in insertion order |
 * | `undefined` | `{"$alk":"undefined"}` |
 * | a plain object that has its own `$alk` key | `{"$alk":"object","v":{...}}`, so it is never read as a tag |
 *
 * Everything else that is not JSON is refused with a `SerializationError`
 * naming the path of the first such value (`$.rows[3].fn`), never its
 * content: functions, symbols, symbol-keyed properties, `NaN` and
 * `±Infinity`, invalid Dates, reference cycles, and instances of any class
 * but `Date`, `Map` and `Set` (use `StructuredSerializer` for typed arrays).
 * `-0` is written as `0`. In paths, a Set's items and a Map's entries are
 * indexed in insertion order; an entry's key is `[0]` and its value `[1]`.
 *
 * @example
 * ```ts
 * import { JSONSerializer } from 'airlock-sdk'
 *
 * const json = new JSONSerializer()
 * const bytes = json.serialize({ b: 1n, a: new Date(0) })
 * // body: {"a":{"$alk":"date","v":"1970-01-01T00:00:00.000Z"},"b":{"$alk":"bigint","v":"1"}}
 * json.deserialize(bytes) // { a: Date(1970-01-01), b: 1n }
 * json.serialize({ f: () => 1 }) // throws ERR_SERIALIZATION: ... at $.f
 * ```
 */
export class JSONSerializer<T = unknown> implements Serializer<T> {
  readonly format = frame.format

  serialize(value: T): Uint8Array {
    const out: string[] = []
    try {
      encode(value, [], new Set(), out)
    } catch (err) {
      if (err instanceof AirlockError) throw err
      // A throwing getter or a stack overflow on deep nesting: its message may quote data.
      throw new SerializationError(`JSONSerializer could not encode the value: ${(err as Error).name}`)
    }
    return frame.wrap(encoder.encode(out.join('')))
  }

  deserialize(bytes: Uint8Array): T {
    const body = frame.unwrap(bytes)
    let parsed: unknown
    try {
      parsed = JSON.parse(decoder.decode(body))
    } catch {
      // The parser's message quotes the input; the input is the user's data.
      throw new PayloadFormatError('expected a json body of UTF-8 JSON text, found text that does not parse')
    }
    try {
      return revive(parsed, []) as T
    } catch (err) {
      if (err instanceof AirlockError) throw err
      throw new PayloadFormatError(`expected a json body airlock can decode, found one that fails with ${(err as Error).name}`)
    }
  }
}

function refuse(path: PathSegment[], what: string): SerializationError {
  return new SerializationError(`JSONSerializer cannot encode ${what} at ${formatPath(path)}`)
}

function encode(value: unknown, path: PathSegment[], ancestors: Set<object>, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value))
      return
    case 'number':
      if (!Number.isFinite(value)) throw refuse(path, `the number ${value}`)
      out.push(JSON.stringify(value))
      return
    case 'boolean':
      out.push(value ? 'true' : 'false')
      return
    case 'bigint':
      out.push('{"$alk":"bigint","v":"', value.toString(), '"}')
      return
    case 'undefined':
      out.push('{"$alk":"undefined"}')
      return
    case 'object':
      break
    default:
      throw refuse(path, `a ${typeof value}`)
  }
  if (value === null) {
    out.push('null')
    return
  }
  if (ancestors.has(value)) throw refuse(path, 'a reference cycle')
  ancestors.add(value)
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Array.prototype) {
    encodeItems(value as readonly unknown[], path, ancestors, out)
  } else if (proto === Object.prototype || proto === null) {
    encodeObject(value as Record<string, unknown>, path, ancestors, out)
  } else if (proto === Date.prototype) {
    const time = (value as Date).getTime()
    if (Number.isNaN(time)) throw refuse(path, 'an invalid Date')
    out.push('{"$alk":"date","v":"', (value as Date).toISOString(), '"}')
  } else if (proto === Map.prototype) {
    out.push('{"$alk":"map","v":[')
    let i = 0
    for (const [key, item] of value as Map<unknown, unknown>) {
      out.push(i === 0 ? '[' : ',[')
      path.push(i, 0)
      encode(key, path, ancestors, out)
      path[path.length - 1] = 1
      out.push(',')
      encode(item, path, ancestors, out)
      path.length -= 2
      out.push(']')
      i++
    }
    out.push(']}')
  } else if (proto === Set.prototype) {
    out.push('{"$alk":"set","v":')
    encodeItems([...(value as Set<unknown>)], path, ancestors, out)
    out.push('}')
  } else {
    throw refuse(path, describeType(value))
  }
  ancestors.delete(value)
}

function encodeItems(items: readonly unknown[], path: PathSegment[], ancestors: Set<object>, out: string[]): void {
  out.push('[')
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out.push(',')
    path.push(i)
    encode(items[i], path, ancestors, out)
    path.pop()
  }
  out.push(']')
}

function encodeObject(value: Record<string, unknown>, path: PathSegment[], ancestors: Set<object>, out: string[]): void {
  if (Object.getOwnPropertySymbols(value).length > 0) throw refuse(path, 'an object with symbol-keyed properties')
  const escaped = Object.hasOwn(value, TAG)
  if (escaped) out.push('{"$alk":"object","v":')
  out.push('{')
  const keys = Object.keys(value).sort()
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    out.push(i === 0 ? '' : ',', JSON.stringify(key), ':')
    path.push(key)
    encode(value[key], path, ancestors, out)
    path.pop()
  }
  out.push(escaped ? '}}' : '}')
}

function malformed(path: PathSegment[], what: string): PayloadFormatError {
  return new PayloadFormatError(`expected a json body airlock wrote, found ${what} at ${formatPath(path)}`)
}

// Revives in place: JSON.parse made every node, so none is shared with the caller.
function revive(node: unknown, path: PathSegment[]): unknown {
  if (typeof node !== 'object' || node === null) return node
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      path.push(i)
      node[i] = revive(node[i], path)
      path.pop()
    }
    return node
  }
  const object = node as Record<string, unknown>
  if (Object.hasOwn(object, TAG)) return reviveTagged(object, path)
  reviveMembers(object, path)
  return object
}

function reviveMembers(object: Record<string, unknown>, path: PathSegment[]): void {
  // `object[key] =` on an own key (even "__proto__", which JSON.parse makes an
  // own data property) defines a value; it never reaches a prototype.
  for (const key of Object.keys(object)) {
    path.push(key)
    object[key] = revive(object[key], path)
    path.pop()
  }
}

function reviveTagged(object: Record<string, unknown>, path: PathSegment[]): unknown {
  const tag = object[TAG]
  const keyCount = Object.keys(object).length
  if (tag === 'undefined') {
    if (keyCount !== 1) throw malformed(path, 'a malformed undefined tag')
    return undefined
  }
  const v = object.v
  if (keyCount !== 2 || !Object.hasOwn(object, 'v')) throw malformed(path, 'a tagged value without exactly the members $alk and v')
  switch (tag) {
    case 'date': {
      const date = typeof v === 'string' ? new Date(v) : undefined
      if (date === undefined || Number.isNaN(date.getTime()) || date.toISOString() !== v) {
        throw malformed(path, 'a date tag without an ISO-8601 UTC timestamp')
      }
      return date
    }
    case 'bigint':
      if (typeof v !== 'string' || !BIGINT_TEXT.test(v)) throw malformed(path, 'a bigint tag without decimal digits')
      return BigInt(v)
    case 'map': {
      if (!Array.isArray(v)) throw malformed(path, 'a map tag without an array of entries')
      const map = new Map<unknown, unknown>()
      for (let i = 0; i < v.length; i++) {
        const entry: unknown = v[i]
        if (!Array.isArray(entry) || entry.length !== 2) throw malformed(path, `a map entry ${i} that is not a [key, value] pair`)
        path.push(i, 0)
        const key = revive(entry[0], path)
        path[path.length - 1] = 1
        map.set(key, revive(entry[1], path))
        path.length -= 2
      }
      return map
    }
    case 'set': {
      if (!Array.isArray(v)) throw malformed(path, 'a set tag without an array of items')
      return new Set(revive(v, path) as unknown[])
    }
    case 'object':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(path, 'an object tag without an object')
      reviveMembers(v as Record<string, unknown>, path)
      return v
    default:
      throw malformed(path, 'an unknown tag')
  }
}
