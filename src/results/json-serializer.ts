import { endianness } from 'node:os'
import { types } from 'node:util'
import { isKeyRing } from '../crypto/key-ring.js'
import { Secret } from '../crypto/secret.js'
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
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const BIG_ENDIAN = endianness() === 'BE'

type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor

// The byte views a `bytes` tag names, by the name written into it.
const TYPED_ARRAYS: Readonly<Record<string, TypedArrayConstructor>> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
}

// structuredClone keeps these Error types; any other comes back as an Error carrying its name.
const ERROR_TYPES: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
}

/**
 * JSON with a stable key order and a small tagged encoding for the values
 * JSON lacks. The default serializer of every `Result`: it stores every
 * value `structuredClone` can clone, and gives back what `structuredClone`
 * would.
 *
 * Wire format: the payload header (format name `json`, see `PayloadFrame`),
 * then UTF-8 JSON text without whitespace. Object keys are sorted by UTF-16
 * code unit, so equal values give equal bytes. Values JSON lacks are written
 * as tagged objects, whose only members are `$alk` and `v`:
 *
 * | value | encoded as |
 * |---|---|
 * | `Date` | `{"$alk":"date","v":"2026-11-21T09:00:00.000Z"}`; an invalid Date `{"$alk":"date","v":null}` |
 * | `BigInt` | `{"$alk":"bigint","v":"-123"}` |
 * | `NaN`, `Infinity`, `-Infinity`, `-0` | `{"$alk":"number","v":"NaN"}` (`"Infinity"`, `"-Infinity"`, `"-0"`) |
 * | `Map` | `{"$alk":"map","v":[[key,value],...]}`, in insertion order |
 * | `Set` | `{"$alk":"set","v":[item,...]}`, in insertion order |
 * | `undefined` | `{"$alk":"undefined"}` |
 * | bytes: a `Buffer`, any typed array, an `ArrayBuffer`, a `DataView` | `{"$alk":"bytes","v":["Buffer","<base64>"]}`: the view's type and its bytes, little-endian |
 * | `RegExp` | `{"$alk":"regexp","v":["a+","gi"]}` |
 * | an `Error` | `{"$alk":"error","v":{"cause":...,"message":"...","name":"TypeError","stack":"..."}}` (cause and stack when present) |
 * | a `Boolean`, `Number`, `String` or `BigInt` object | `{"$alk":"boxed","v":<the primitive>}` |
 * | an object already written above (a shared reference or a cycle) | `{"$alk":"ref","v":3}`: the 0-based index of its first occurrence, counting objects in the order they are written |
 * | a plain object that has its own `$alk` key | `{"$alk":"object","v":{...}}`, so it is never read as a tag |
 *
 * An instance of any other class is written as its own enumerable
 * string-keyed properties and read back as a plain object, as
 * `structuredClone` does: its data, never its prototype, methods or private
 * fields. Symbol-keyed properties are left out, as `structuredClone` leaves
 * them. A Buffer reads back as a Buffer, a typed array as its own type, an
 * Error as the standard Error type of its name (another name: an `Error`
 * with that `name`).
 *
 * Refused with a `SerializationError` naming the path of the first such
 * value (`$.rows[3].fn`), never its content: what `structuredClone` refuses
 * (functions, symbols, Promises, WeakMaps, WeakSets, WeakRefs, generators)
 * and what holds key material out of reach of any serializer (`Secret`,
 * `KeyRing`, `KeyObject`, `CryptoKey`). No built-in serializer stores those.
 *
 * Readers of this format before these tags existed (`date`, `bigint`,
 * `map`, `set`, `undefined`, `object`) wrote only those tags, and every
 * payload they wrote reads the same today.
 *
 * @example
 * ```ts
 * import { JSONSerializer } from 'airlock-sdk'
 *
 * const json = new JSONSerializer()
 * const bytes = json.serialize({ b: 1n, a: new Date(0), png: Buffer.from([0x89, 0x50]) })
 * // body: {"a":{"$alk":"date","v":"1970-01-01T00:00:00.000Z"},"b":{"$alk":"bigint","v":"1"},"png":{"$alk":"bytes","v":["Buffer","iVA="]}}
 * json.deserialize(bytes) // { a: Date(1970-01-01), b: 1n, png: <Buffer 89 50> }
 * json.serialize({ f: () => 1 }) // throws ERR_SERIALIZATION: ... at $.f
 * ```
 */
export class JSONSerializer<T = unknown> implements Serializer<T> {
  readonly format = frame.format

  serialize(value: T): Uint8Array {
    const out: string[] = []
    try {
      encode(value, [], new Map(), out)
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
      return revive(parsed, [], []) as T
    } catch (err) {
      if (err instanceof AirlockError) throw err
      throw new PayloadFormatError(`expected a json body airlock can decode, found one that fails with ${(err as Error).name}`)
    }
  }
}

function refuse(path: PathSegment[], what: string): SerializationError {
  return new SerializationError(
    `JSONSerializer cannot encode ${what} at ${formatPath(path)}, and no built-in serializer can (structuredClone refuses it too): return data instead`,
  )
}

// What holds key material, or lives only in this process: no serializer writes it.
function unstorable(value: object): string | undefined {
  if (value instanceof Secret) return 'a Secret (read secrets through a SecretResult; they are never written)'
  if (isKeyRing(value)) return 'a KeyRing (keys live in a key file, never in a result)'
  if (types.isKeyObject(value) || types.isCryptoKey(value)) return 'a key object'
  if (types.isPromise(value)) return 'a Promise (await it and return its value)'
  if (types.isWeakMap(value) || types.isWeakSet(value) || value instanceof WeakRef || value instanceof FinalizationRegistry) {
    return describeType(value)
  }
  if (types.isGeneratorObject(value)) return 'a generator'
  if (types.isProxy(value)) return 'a Proxy'
  return undefined
}

function encode(value: unknown, path: PathSegment[], seen: Map<object, number>, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value))
      return
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) out.push(JSON.stringify(value))
      else out.push('{"$alk":"number","v":"', Object.is(value, -0) ? '-0' : String(value), '"}')
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
  const index = seen.get(value)
  if (index !== undefined) {
    out.push('{"$alk":"ref","v":', String(index), '}')
    return
  }
  const reason = unstorable(value)
  if (reason !== undefined) throw refuse(path, reason)
  seen.set(value, seen.size)
  if (Array.isArray(value)) encodeItems(value as readonly unknown[], path, seen, out)
  else if (types.isDate(value)) {
    const time = value.getTime()
    out.push('{"$alk":"date","v":', Number.isNaN(time) ? 'null' : JSON.stringify(value.toISOString()), '}')
  } else if (types.isMap(value)) {
    out.push('{"$alk":"map","v":[')
    let i = 0
    for (const [key, item] of value) {
      out.push(i === 0 ? '[' : ',[')
      path.push(i, 0)
      encode(key, path, seen, out)
      path[path.length - 1] = 1
      out.push(',')
      encode(item, path, seen, out)
      path.length -= 2
      out.push(']')
      i++
    }
    out.push(']}')
  } else if (types.isSet(value)) {
    out.push('{"$alk":"set","v":')
    encodeItems([...value], path, seen, out)
    out.push('}')
  } else if (ArrayBuffer.isView(value) || types.isAnyArrayBuffer(value)) {
    out.push('{"$alk":"bytes","v":["', bytesType(value), '","', littleEndianBytes(value).toString('base64'), '"]}')
  } else if (types.isRegExp(value)) {
    out.push('{"$alk":"regexp","v":[', JSON.stringify(value.source), ',', JSON.stringify(value.flags), ']}')
  } else if (types.isNativeError(value) || value instanceof Error) {
    encodeError(value, path, seen, out)
  } else if (types.isBoxedPrimitive(value)) {
    if (types.isSymbolObject(value)) throw refuse(path, 'a Symbol object')
    out.push('{"$alk":"boxed","v":')
    encode((value as { valueOf(): unknown }).valueOf(), path, seen, out)
    out.push('}')
  } else {
    // A plain object, or the data of a class instance, as structuredClone keeps it.
    encodeObject(value as Record<string, unknown>, path, seen, out)
  }
}

function encodeItems(items: readonly unknown[], path: PathSegment[], seen: Map<object, number>, out: string[]): void {
  out.push('[')
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out.push(',')
    path.push(i)
    encode(items[i], path, seen, out)
    path.pop()
  }
  out.push(']')
}

function encodeObject(value: Record<string, unknown>, path: PathSegment[], seen: Map<object, number>, out: string[]): void {
  const escaped = Object.hasOwn(value, TAG)
  if (escaped) out.push('{"$alk":"object","v":')
  out.push('{')
  const keys = Object.keys(value).sort()
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    out.push(i === 0 ? '' : ',', JSON.stringify(key), ':')
    path.push(key)
    encode(value[key], path, seen, out)
    path.pop()
  }
  out.push(escaped ? '}}' : '}')
}

// Members in sorted key order, as encodeObject writes them; the cause last, so its objects count after the error.
function encodeError(error: Error, path: PathSegment[], seen: Map<object, number>, out: string[]): void {
  const name = typeof error.name === 'string' ? error.name : 'Error'
  const message = typeof error.message === 'string' ? error.message : ''
  out.push('{"$alk":"error","v":{')
  if (Object.hasOwn(error, 'cause')) {
    out.push('"cause":')
    path.push('cause')
    encode(error.cause, path, seen, out)
    path.pop()
    out.push(',')
  }
  out.push('"message":', JSON.stringify(message), ',"name":', JSON.stringify(name))
  if (typeof error.stack === 'string') out.push(',"stack":', JSON.stringify(error.stack))
  out.push('}}')
}

function bytesType(value: ArrayBufferView | ArrayBufferLike): string {
  if (types.isAnyArrayBuffer(value)) return 'ArrayBuffer'
  if (types.isDataView(value)) return 'DataView'
  if (Buffer.isBuffer(value)) return 'Buffer'
  const name = Object.prototype.toString.call(value).slice(8, -1)
  return name in TYPED_ARRAYS ? name : 'Uint8Array'
}

// The bytes of a view, little-endian whatever this machine is, so a payload reads the same anywhere.
function littleEndianBytes(value: ArrayBufferView | ArrayBufferLike): Buffer {
  if (types.isAnyArrayBuffer(value)) return Buffer.from(new Uint8Array(value))
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  return swapped(bytes, types.isDataView(value) ? 1 : ((value as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1))
}

function swapped(bytes: Buffer, width: number): Buffer {
  if (!BIG_ENDIAN || width === 1) return bytes
  const copy = Buffer.from(bytes)
  if (width === 2) copy.swap16()
  else if (width === 4) copy.swap32()
  else copy.swap64()
  return copy
}

function malformed(path: PathSegment[], what: string): PayloadFormatError {
  return new PayloadFormatError(`expected a json body airlock wrote, found ${what} at ${formatPath(path)}`)
}

// Revives in place: JSON.parse made every node, so none is shared with the caller.
// `objects` lists the objects revived so far, in the order they were written, for `ref` tags.
function revive(node: unknown, path: PathSegment[], objects: unknown[]): unknown {
  if (typeof node !== 'object' || node === null) return node
  if (Array.isArray(node)) {
    objects.push(node)
    for (let i = 0; i < node.length; i++) {
      path.push(i)
      node[i] = revive(node[i], path, objects)
      path.pop()
    }
    return node
  }
  const object = node as Record<string, unknown>
  if (Object.hasOwn(object, TAG)) return reviveTagged(object, path, objects)
  objects.push(object)
  reviveMembers(object, path, objects)
  return object
}

function reviveMembers(object: Record<string, unknown>, path: PathSegment[], objects: unknown[]): void {
  // In the order they were written (sorted), so `ref` indexes count the same objects.
  // `object[key] =` on an own key (even "__proto__", which JSON.parse makes an
  // own data property) defines a value; it never reaches a prototype.
  for (const key of Object.keys(object).sort()) {
    path.push(key)
    object[key] = revive(object[key], path, objects)
    path.pop()
  }
}

function reviveTagged(object: Record<string, unknown>, path: PathSegment[], objects: unknown[]): unknown {
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
      if (v === null) return registered(objects, new Date(Number.NaN))
      const date = typeof v === 'string' ? new Date(v) : undefined
      if (date === undefined || Number.isNaN(date.getTime()) || date.toISOString() !== v) {
        throw malformed(path, 'a date tag without an ISO-8601 UTC timestamp')
      }
      return registered(objects, date)
    }
    case 'bigint':
      if (typeof v !== 'string' || !BIGINT_TEXT.test(v)) throw malformed(path, 'a bigint tag without decimal digits')
      return BigInt(v)
    case 'number':
      switch (v) {
        case 'NaN':
          return Number.NaN
        case 'Infinity':
          return Number.POSITIVE_INFINITY
        case '-Infinity':
          return Number.NEGATIVE_INFINITY
        case '-0':
          return -0
        default:
          throw malformed(path, 'a number tag other than NaN, Infinity, -Infinity or -0')
      }
    case 'map': {
      if (!Array.isArray(v)) throw malformed(path, 'a map tag without an array of entries')
      const map = registered(objects, new Map<unknown, unknown>())
      for (let i = 0; i < v.length; i++) {
        const entry: unknown = v[i]
        if (!Array.isArray(entry) || entry.length !== 2) throw malformed(path, `a map entry ${i} that is not a [key, value] pair`)
        path.push(i, 0)
        const key = revive(entry[0], path, objects)
        path[path.length - 1] = 1
        map.set(key, revive(entry[1], path, objects))
        path.length -= 2
      }
      return map
    }
    case 'set': {
      if (!Array.isArray(v)) throw malformed(path, 'a set tag without an array of items')
      const set = registered(objects, new Set<unknown>())
      for (let i = 0; i < v.length; i++) {
        path.push(i)
        set.add(revive(v[i], path, objects))
        path.pop()
      }
      return set
    }
    case 'bytes':
      return registered(objects, reviveBytes(v, path))
    case 'regexp': {
      if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') {
        throw malformed(path, 'a regexp tag without [source, flags]')
      }
      try {
        return registered(objects, new RegExp(v[0], v[1]))
      } catch {
        throw malformed(path, 'a regexp tag that does not compile')
      }
    }
    case 'error':
      return reviveError(v, path, objects)
    case 'boxed': {
      const primitive = revive(v, path, objects)
      if (!['string', 'number', 'boolean', 'bigint'].includes(typeof primitive)) throw malformed(path, 'a boxed tag without a primitive')
      return registered(objects, Object(primitive) as object)
    }
    case 'ref': {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v >= objects.length) {
        throw malformed(path, 'a ref tag that names no object written before it')
      }
      return objects[v]
    }
    case 'object':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(path, 'an object tag without an object')
      objects.push(v)
      reviveMembers(v as Record<string, unknown>, path, objects)
      return v
    default:
      throw malformed(path, 'an unknown tag')
  }
}

function registered<O>(objects: unknown[], object: O): O {
  objects.push(object)
  return object
}

function reviveBytes(v: unknown, path: PathSegment[]): ArrayBufferLike | ArrayBufferView {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string' || !BASE64.test(v[1])) {
    throw malformed(path, 'a bytes tag without [type, base64]')
  }
  const [type, base64] = v as [string, string]
  const bytes = Buffer.from(base64, 'base64')
  if (type === 'Buffer') return bytes
  const buffer = new Uint8Array(bytes).buffer
  if (type === 'ArrayBuffer') return buffer
  if (type === 'DataView') return new DataView(buffer)
  const View = Object.hasOwn(TYPED_ARRAYS, type) ? TYPED_ARRAYS[type] : undefined
  if (View === undefined) throw malformed(path, 'a bytes tag of an unknown type')
  if (bytes.length % View.BYTES_PER_ELEMENT !== 0) throw malformed(path, `a bytes tag whose length does not fit ${type}`)
  const native = swapped(Buffer.from(buffer), View.BYTES_PER_ELEMENT)
  return new View(new Uint8Array(native).buffer)
}

function reviveError(v: unknown, path: PathSegment[], objects: unknown[]): Error {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(path, 'an error tag without an object')
  const { name, message, stack } = v as Record<string, unknown>
  const members = Object.keys(v).filter((key) => !['cause', 'message', 'name', 'stack'].includes(key))
  if (typeof name !== 'string' || typeof message !== 'string' || (stack !== undefined && typeof stack !== 'string') || members.length > 0) {
    throw malformed(path, 'an error tag without a string name and message')
  }
  const ErrorType = Object.hasOwn(ERROR_TYPES, name) ? (ERROR_TYPES[name] as ErrorConstructor) : Error
  const error = registered(objects, new ErrorType(message))
  if (error.name !== name) Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false })
  Object.defineProperty(error, 'stack', { value: stack, writable: true, configurable: true, enumerable: false })
  if (stack === undefined) delete error.stack
  if (Object.hasOwn(v, 'cause')) {
    path.push('cause')
    const cause = revive((v as Record<string, unknown>).cause, path, objects)
    path.pop()
    Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false })
  }
  return error
}
