import { InvalidArgumentError } from '../errors.js'

/** A JSON value, as `JSON.parse` produces it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject

/** A JSON object, as `JSON.parse` produces it. */
export interface JsonObject {
  [key: string]: JsonValue
}

/** Deeper values are refused: no real event nests this far, and recursion stays bounded. */
export const MAX_JSON_DEPTH = 256

/**
 * Text that is already canonical JSON, spliced in verbatim by
 * {@link canonicalJson}. The ledger serializes an event once and reuses the
 * text for the hash and the line; it is never handed to callers.
 *
 * @example
 * ```ts
 * canonicalJson({ b: new CanonicalText('{"x":1}'), a: 1 }) // '{"a":1,"b":{"x":1}}'
 * ```
 */
export class CanonicalText {
  constructor(readonly text: string) {}
}

/**
 * The canonical JSON serialization every ledger hash and every policy hash
 * is taken over (wire format v1). For I-JSON input it is RFC 8785 (JCS):
 *
 * - objects: members sorted by key in UTF-16 code-unit order (the default
 *   `Array.prototype.sort`), written `{"key":value,...}`; a member whose value
 *   is `undefined` is left out, as `JSON.stringify` does;
 * - arrays: elements in order, `[a,b]`;
 * - strings: exactly as `JSON.stringify` writes them (ES2019: a lone surrogate
 *   becomes a `\udXXX` escape);
 * - numbers: finite only, as `JSON.stringify` writes them (`-0` becomes `0`);
 * - `true`, `false`, `null`;
 * - no whitespace anywhere.
 *
 * Only plain objects (prototype `Object.prototype` or `null`) and arrays are
 * accepted as containers, so a `Date`, a `Map` or a class instance cannot slip
 * in a different representation through `toJSON`.
 *
 * @throws {InvalidArgumentError} naming the path (never the value) of anything
 *   that is not JSON: `undefined` outside an object, a function, a symbol, a
 *   bigint, a non-finite number, a non-plain object, or nesting deeper than
 *   {@link MAX_JSON_DEPTH}.
 *
 * @example
 * ```ts
 * canonicalJson({ b: [1, 'x'], a: null }) // '{"a":null,"b":[1,"x"]}'
 * ```
 */
export function canonicalJson(value: unknown, what = 'value'): string {
  // A value already in canonical order (every object's keys sorted, only JSON in it) is what JSON.stringify
  // writes natively, byte for byte: one check, then the native writer. Anything else takes the path below.
  if (inCanonicalOrder(value, 0)) return JSON.stringify(value)
  return write(value, [what])
}

// Whether JSON.stringify would write `value` exactly as `write` does: plain objects (no toJSON, no prototype but
// Object's or none) with keys in sorted order, arrays without holes or undefined, finite numbers, no CanonicalText.
function inCanonicalOrder(value: unknown, depth: number): boolean {
  if (typeof value !== 'object') return isScalar(value, false)
  if (value === null) return true
  if (depth >= MAX_JSON_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!inCanonicalOrder(value[i], depth + 1)) return false
    return true
  }
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== null) return false
  const record = value as Record<string, unknown>
  // for-in rather than Object.keys: no array per object. It visits the own keys in Object.keys' order, then any
  // enumerable inherited ones (a polluted Object.prototype), which JSON.stringify leaves out: checking them too can
  // only send a value down the slow path, never pass one that is not canonical.
  let previous: string | undefined
  for (const key in record) {
    if (previous !== undefined && previous > key) return false
    previous = key
    const member = record[key]
    if (member !== undefined && !inCanonicalOrder(member, depth + 1)) return false
  }
  return true
}

// `trail` is the path from the root, kept as a stack so the success path
// builds no path strings; one is joined only for an error message.
function write(value: unknown, trail: (string | number)[]): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw notJson(trail, 'a non-finite number')
      return JSON.stringify(value)
    case 'object':
      break
    default:
      throw notJson(trail, typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`)
  }
  if (value === null) return 'null'
  if (value instanceof CanonicalText) return value.text
  if (trail.length > MAX_JSON_DEPTH) throw notJson(trail, `nesting deeper than ${MAX_JSON_DEPTH} levels`)
  let out: string
  if (Array.isArray(value)) {
    // An array of plain scalars is written by JSON.stringify exactly as below, natively.
    if (allScalars(value)) return JSON.stringify(value)
    out = '['
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ','
      trail.push(i)
      const item: unknown = value[i]
      out += typeof item === 'object' && inCanonicalOrder(item, trail.length) ? JSON.stringify(item) : write(item, trail)
      trail.pop()
    }
    return out + ']'
  }
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== null) throw notJson(trail, 'an object that is not a plain object')
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  let sorted = true
  let scalars = true
  for (let i = 0; i < keys.length; i++) {
    if (sorted && i > 0 && keys[i - 1]! > keys[i]!) sorted = false
    if (scalars && !isScalar(record[keys[i]!], true)) scalars = false
  }
  // Members that are all scalars, in sorted order, are what JSON.stringify writes natively: a fast path with the
  // same bytes. Unsorted, a null-prototype copy in sorted order does the same, unless an array-index key (which
  // every engine enumerates first) would reorder it.
  if (scalars && sorted) return JSON.stringify(record)
  if (!sorted) keys.sort()
  if (scalars && !keys.some(isArrayIndex)) {
    const copy = Object.create(null) as Record<string, unknown>
    for (const key of keys) copy[key] = record[key]
    return JSON.stringify(copy)
  }
  out = '{'
  for (const key of keys) {
    const member = record[key]
    if (member === undefined) continue
    if (out.length > 1) out += ','
    trail.push(key)
    out += JSON.stringify(key) + ':' + (typeof member === 'object' && inCanonicalOrder(member, trail.length) ? JSON.stringify(member) : write(member, trail))
    trail.pop()
  }
  return out + '}'
}

// What canonical JSON and JSON.stringify write alike: a string, a boolean, a finite number, null (and, as an
// object member, undefined, which both leave out).
function isScalar(value: unknown, member: boolean): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'undefined':
      return member
    default:
      return value === null
  }
}

function allScalars(values: readonly unknown[]): boolean {
  for (let i = 0; i < values.length; i++) if (!isScalar(values[i], false)) return false
  return true
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/

function isArrayIndex(key: string): boolean {
  return ARRAY_INDEX.test(key) && Number(key) < 4294967295
}

function notJson(trail: readonly (string | number)[], found: string): InvalidArgumentError {
  let path = String(trail[0])
  for (let i = 1; i < trail.length; i++) {
    const step = trail[i]
    path += typeof step === 'number' ? `[${step}]` : `.${step}`
  }
  return new InvalidArgumentError(`expected a JSON value at ${path}, found ${found}`)
}
