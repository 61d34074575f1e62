import { InvalidArgumentError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'

/**
 * A deterministic text of a value, for what is fingerprinted or encrypted
 * whole (cache inputs, parameters under the `hash` and `encrypt` rules):
 * equal values give equal text, and values of different types never do. One
 * walk, linear in the size of the value; no deep-equality comparisons.
 * Internal to airlock-sdk.
 *
 * Format, version 1 (a change of it must change the cache's key material):
 * - `null`, `true`, `false`; `u` for undefined;
 * - numbers as `String(n)` (`NaN`, `Infinity`, `-0` kept apart from `0`);
 *   bigints as `<digits>n`; strings as JSON strings;
 * - arrays as `[a,b]` (a hole is `h`); plain objects as `{"k":v,...}` with
 *   keys sorted, `undefined` members kept (so `{a: undefined}` is not `{}`);
 * - `D(<ISO>)` for a Date, `M{k=>v,...}` for a Map and `S[...]` for a Set,
 *   both with entries sorted by their text, `B<Type>(<base64>)` for a
 *   typed array, DataView, ArrayBuffer or Buffer, `R(/src/flags)` for a RegExp, `L(<href>)`
 *   for a URL;
 * - any other object with a `toJSON` method: `J<Class>(<text of toJSON()>)`.
 *
 * Functions, symbols, other class instances, and cycles have no faithful
 * text: they throw, and the caller treats the input as not cacheable.
 *
 * @throws {InvalidArgumentError} naming the type only: not the content, and not
 *   the keys on the way to it, which can be data too.
 *
 * @example
 * ```ts
 * canonicalText({ b: 1, a: [new Date(0)] }) // '{"a":[D(1970-01-01T00:00:00.000Z)],"b":1}'
 * canonicalText({ a: 1, b: 2 }) === canonicalText({ b: 2, a: 1 }) // true
 * ```
 */
export function canonicalText(value: unknown): string {
  const out: string[] = []
  write(value, out, new Set())
  return out.join('')
}

function write(value: unknown, out: string[], open: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value))
      return
    case 'number':
      out.push(Object.is(value, -0) ? '-0' : String(value))
      return
    case 'boolean':
      out.push(value ? 'true' : 'false')
      return
    case 'bigint':
      out.push(`${value}n`)
      return
    case 'undefined':
      out.push('u')
      return
    case 'function':
    case 'symbol':
      throw unfit(value)
  }
  if (value === null) {
    out.push('null')
    return
  }
  const object = value as object
  if (open.has(object)) throw new InvalidArgumentError('a value refers back to itself; a cycle has no canonical text')
  open.add(object)
  try {
    writeObject(object, out, open)
  } finally {
    open.delete(object)
  }
}

function writeObject(value: object, out: string[], open: Set<object>): void {
  if (Array.isArray(value)) {
    out.push('[')
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',')
      if (!Object.hasOwn(value, i)) out.push('h')
      else write(value[i], out, open)
    }
    out.push(']')
    return
  }
  const proto = Object.getPrototypeOf(value) as object | null
  if (proto === Object.prototype || proto === null) {
    const record = value as Record<string, unknown>
    out.push('{')
    let first = true
    for (const key of Object.keys(record).sort()) {
      if (!first) out.push(',')
      first = false
      out.push(JSON.stringify(key), ':')
      write(record[key], out, open)
    }
    out.push('}')
    return
  }
  if (value instanceof Date) {
    out.push(`D(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`)
    return
  }
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    out.push(`B${value.constructor.name}(${bytes.toString('base64')})`)
    return
  }
  if (value instanceof ArrayBuffer) {
    out.push(`BArrayBuffer(${Buffer.from(value).toString('base64')})`)
    return
  }
  if (value instanceof Map) {
    out.push('M{', sortedTexts([...value].map(([k, v]) => `${canonicalOf(k, open)}=>${canonicalOf(v, open)}`)), '}')
    return
  }
  if (value instanceof Set) {
    out.push('S[', sortedTexts([...value].map((v) => canonicalOf(v, open))), ']')
    return
  }
  if (value instanceof RegExp) {
    out.push(`R(${String(value)})`)
    return
  }
  if (value instanceof URL) {
    out.push(`L(${value.href})`)
    return
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') {
    out.push(`J${value.constructor?.name ?? ''}(`)
    write(toJSON.call(value) as unknown, out, open)
    out.push(')')
    return
  }
  throw unfit(value)
}

function canonicalOf(value: unknown, open: Set<object>): string {
  const out: string[] = []
  write(value, out, open)
  return out.join('')
}

function sortedTexts(texts: string[]): string {
  return texts.sort().join(',')
}

function unfit(value: unknown): InvalidArgumentError {
  const type = typeof value === 'function' || typeof value === 'symbol' ? `a ${typeof value}` : describeType(value)
  return new InvalidArgumentError(`a value is ${type}, which has no canonical text`)
}
