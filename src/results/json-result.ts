import type { KeyRing } from '../crypto/key-ring.js'
import type { LocationCipher } from '../crypto/location-cipher.js'
import { AirlockError, NotJsonSafeError, PayloadFormatError, ResultReadOnlyError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import type { TemplateContext } from './location-template.js'
import { Result, type Carried, type Located } from './result.js'
import { unstored } from './unstored.js'
import { formatPath, type PathSegment } from './value-path.js'

/**
 * Options of a {@link JSONResult}.
 *
 * @example
 * ```ts
 * const options: JSONResultOptions = { locationCipher: keys }
 * ```
 */
export interface JSONResultOptions {
  /** Encrypts the location, which is the value, into an `alk1.` token. */
  locationCipher?: KeyRing | LocationCipher
}

/**
 * A result whose location is its value: the JSON text of a small value, as
 * in the classic hybrid model. Nothing is stored anywhere; the value travels
 * with the location. So it is an inline value (`inline` is `true`): without
 * a location cipher, `location` and `toJSON()` show the value itself, and
 * the boundary refuses or encrypts it as its policy says.
 *
 * Only JSON-safe values are accepted: plain objects and arrays of strings,
 * finite numbers, booleans and null. Anything else (undefined, functions,
 * symbols, BigInts, NaN, ±Infinity, Dates, class instances, sparse arrays,
 * symbol keys, cycles) raises `NotJsonSafeError` naming the path of the
 * first such value (`$.rows[2].at`), never its content.
 *
 * @example
 * ```ts
 * import { JSONResult } from 'airlock-sdk'
 *
 * const r = new JSONResult({ locationCipher: keys })
 * const written = await r.write({ rows: 42 })
 * written.plainLocation          // '{"rows":42}'
 * written.location               // 'alk1.eyJ...'
 * (await r.read(written.location)).value // { rows: 42 }
 * await r.write({ at: new Date() })      // throws ERR_NOT_JSON_SAFE: ... at $.at
 * ```
 */
export class JSONResult<T = unknown> extends Result<T> {
  constructor(options: JSONResultOptions = {}) {
    assertKnownOptions('JSONResult', options, ['locationCipher'])
    super({ locationCipher: options.locationCipher })
  }

  get type(): 'json' {
    return 'json'
  }

  override get inline(): boolean {
    return true
  }

  /**
   * Carries a JSON-safe value; the location is its JSON text. The context is
   * not used.
   *
   * @throws {NotJsonSafeError} naming the path of the first value JSON cannot hold.
   */
  override async write(value: T, _context?: TemplateContext): Promise<this & Located<T>> {
    let text: string
    try {
      assertJsonSafe(value, [], new Set())
      text = JSON.stringify(value)
    } catch (err) {
      if (err instanceof AirlockError) throw err
      // A throwing getter or a stack overflow on deep nesting: its message may quote data.
      throw new NotJsonSafeError(`JSONResult could not encode the value: ${(err as Error)?.name ?? 'error'}`)
    }
    return this.carry(value, await this.outwardLocation(text), text)
  }

  /**
   * Decodes a location (a token or JSON text) back into its value.
   *
   * @throws {PayloadFormatError} when the location is not JSON text.
   */
  override async read(location: string): Promise<this & Carried<T>> {
    const resolved = await this.resolveLocation(location)
    return this.carry(parse(resolved.plainLocation) as T, resolved.location, resolved.plainLocation)
  }

  /** Whether a location decodes to JSON text. A foreign or modified token still throws. */
  override async exists(location: string): Promise<boolean> {
    const text = await this.plainLocationOf(location)
    try {
      JSON.parse(text)
      return true
    } catch {
      return false
    }
  }

  /** @throws {ResultReadOnlyError} always: the location is the value, not a template. */
  override format(): string {
    throw new ResultReadOnlyError('JSONResult has no location template: its location is the JSON text of the value it writes')
  }

  protected writeBytes(): Promise<never> {
    return unstored('JSONResult')
  }

  protected readBytes(): Promise<never> {
    return unstored('JSONResult')
  }

  protected existsAt(): Promise<never> {
    return unstored('JSONResult')
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // The parser's message quotes the text, which is the value.
    throw new PayloadFormatError('expected a JSONResult location of JSON text, found text that does not parse')
  }
}

function refuse(path: PathSegment[], what: string): NotJsonSafeError {
  return new NotJsonSafeError(`JSONResult takes JSON-safe values only, found ${what} at ${formatPath(path)}`)
}

function assertJsonSafe(value: unknown, path: PathSegment[], ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) throw refuse(path, `the number ${value}`)
      return
    case 'object':
      break
    default:
      throw refuse(path, typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`)
  }
  if (value === null) return
  if (ancestors.has(value)) throw refuse(path, 'a reference cycle')
  ancestors.add(value)
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Array.prototype) {
    const items = value as readonly unknown[]
    for (let i = 0; i < items.length; i++) {
      path.push(i)
      if (!(i in items)) throw refuse(path, 'a hole in a sparse array')
      assertJsonSafe(items[i], path, ancestors)
      path.pop()
    }
  } else if (proto === Object.prototype || proto === null) {
    if (Object.getOwnPropertySymbols(value).length > 0) throw refuse(path, 'an object with symbol-keyed properties')
    const object = value as Record<string, unknown>
    for (const key of Object.keys(object)) {
      path.push(key)
      assertJsonSafe(object[key], path, ancestors)
      path.pop()
    }
  } else {
    throw refuse(path, describeType(value))
  }
  ancestors.delete(value)
}
