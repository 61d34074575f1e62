import { types } from 'node:util'
import {
  CIRCULAR_MARKER,
  FUNCTION_MARKER,
  MAX_DEPTH_MARKER,
  MAX_NODES_MARKER,
  SYMBOL_MARKER,
  WITHHELD_MARKER,
  binaryMarker,
} from './markers.js'
import { SENSITIVE_RULE, type TextScrubber } from './text-scrubber.js'
import {
  SENSITIVE_KEY_RULE,
  joinTransformPath,
  renderPathSegment,
  type ScrubResult,
  type ScrubTransform,
  type TransformAction,
} from './transform.js'

/**
 * The bounds a walk keeps to.
 *
 * @example
 * ```ts
 * const limits: WalkLimits = { maxDepth: policy.scrub.maxDepth, maxNodes: policy.scrub.maxNodes }
 * ```
 */
export interface WalkLimits {
  /** Containers nested deeper than this (the root is depth 0) are replaced by a marker. */
  readonly maxDepth: number
  /** A value with more nodes than this is replaced whole by a marker. */
  readonly maxNodes: number
}

// Thrown (once allocated, never per call) to unwind a walk that broke maxNodes.
const NODE_LIMIT = new Error('airlock: node limit reached')

const ERROR_TEXT_FIELDS = ['name', 'message', 'stack'] as const
const MAX_PATH_KEY = 64
// Integers this large may be card numbers or other identifiers; smaller ones cannot match any detector.
const SCRUBBED_INTEGER = 1e12

/**
 * Walks any value and returns a scrubbed copy: the JSON-ready shape that may
 * leave. It never mutates its input and never returns a container of the
 * input (strings that needed no change are returned as they are).
 *
 * | input | output |
 * |---|---|
 * | string | scrubbed, then cut to `maxStringLength` (never cut first: a secret across the cut would half-leak); a long one is scanned only to `maxStringLength` plus a margin (see `TextScrubber.scrubBounded`) |
 * | integer of 13+ digits | scrubbed as a string when a detector matches (card numbers) |
 * | bigint | its decimal digits, scrubbed |
 * | plain object, array | new object, array; keys scrubbed; a value under a sensitive key replaced whole |
 * | class instance | its own enumerable properties, plus `$class: <name>` |
 * | object with `toJSON` | what `toJSON()` returns, walked (as `JSON.stringify` would send) |
 * | Map | an object (keys as strings); Set | an array |
 * | Error | `{name, message, stack, code?, cause?, errors?, ...own}`, each scrubbed |
 * | Date | ISO string | Buffer, typed array, ArrayBuffer | `[binary N bytes]` |
 * | function, symbol | `[Function]`, `[Symbol]` |
 * | a cycle | `[Circular]` |
 * | deeper than maxDepth | `[airlock:max-depth]` |
 * | more than maxNodes nodes | the whole value becomes `[airlock:max-nodes]` |
 * | a container that throws while read (getter, Proxy) | `[airlock:withheld]` |
 *
 * A walker is reused from call to call: its path stack, ancestor set and
 * counters are fields, not per-call closures. It is not re-entrant; the
 * {@link Scrubber} uses a fresh one when a getter scrubs during a walk.
 *
 * @example
 * ```ts
 * const walker = new Walker(engine, { maxDepth: 32, maxNodes: 10_000 })
 * walker.run({ user: { email: 'ada@example.com' } }).value // { user: { email: '[REDACTED:email]' } }
 * ```
 */
export class Walker {
  /** True while a walk is in progress. */
  busy = false
  readonly #engine: TextScrubber
  readonly #limits: WalkLimits
  readonly #secretsOnly: boolean
  readonly #path: (string | number)[] = []
  readonly #ancestors = new Set<object>()
  #nodes = 0
  #transforms: ScrubTransform[] = []

  /** With `secretsOnly`, only registered secrets are replaced: no detectors, no sensitive keys; bounds still hold. */
  constructor(engine: TextScrubber, limits: WalkLimits, secretsOnly = false) {
    this.#engine = engine
    this.#limits = limits
    this.#secretsOnly = secretsOnly
  }

  /** Scrubs `value`; never throws: a failure gives the withheld marker. */
  run(value: unknown): ScrubResult {
    this.busy = true
    this.#nodes = 0
    const transforms: ScrubTransform[] = []
    this.#transforms = transforms
    try {
      return { value: this.#node(value, 0), transforms }
    } catch (err) {
      const tooBig = err === NODE_LIMIT
      return {
        value: tooBig ? MAX_NODES_MARKER : WITHHELD_MARKER,
        transforms: [{ path: '$', rule: tooBig ? 'max-nodes' : 'walker-error', action: 'withhold' }],
      }
    } finally {
      this.#path.length = 0
      this.#ancestors.clear()
      this.busy = false
    }
  }

  #node(value: unknown, depth: number): unknown {
    if (++this.#nodes > this.#limits.maxNodes) throw NODE_LIMIT
    switch (typeof value) {
      case 'string':
        return this.#string(value)
      case 'number':
        return !this.#secretsOnly && Number.isInteger(value) && Math.abs(value) >= SCRUBBED_INTEGER ? this.#integer(value) : value
      case 'bigint':
        return this.#string(value.toString())
      case 'boolean':
      case 'undefined':
        return value
      case 'symbol':
        return SYMBOL_MARKER
      case 'function':
        return FUNCTION_MARKER
      default:
        return value === null ? null : this.#container(value as object, depth)
    }
  }

  #string(text: string): string {
    const engine = this.#engine
    const scrubbed = engine.scrubBounded(text, this.#secretsOnly)
    if (engine.hitCount !== 0) this.#recordHits()
    if (engine.truncated) this.#record('max-string-length', 'truncate')
    return scrubbed
  }

  #integer(value: number): string | number {
    const text = String(value)
    const scrubbed = this.#engine.scrubText(text, false)
    if (scrubbed === text) return value
    this.#recordHits()
    return scrubbed
  }

  #container(value: object, depth: number): unknown {
    if (depth > this.#limits.maxDepth) {
      this.#record('max-depth', 'withhold')
      return MAX_DEPTH_MARKER
    }
    if (this.#ancestors.has(value)) return CIRCULAR_MARKER
    this.#ancestors.add(value)
    const mark = this.#transforms.length
    try {
      return this.#read(value, depth)
    } catch (err) {
      if (err === NODE_LIMIT) throw err
      // Whatever this node recorded describes output that no longer exists.
      this.#transforms.length = mark
      this.#record('walker-error', 'withhold')
      return WITHHELD_MARKER
    } finally {
      this.#ancestors.delete(value)
    }
  }

  #read(value: object, depth: number): unknown {
    if (Array.isArray(value)) return this.#array(value, depth)
    if (ArrayBuffer.isView(value)) return this.#binary(value.byteLength)
    if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return this.#binary(value.byteLength)
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
    if (value instanceof Error || types.isNativeError(value)) return this.#error(value, depth)
    if (value instanceof Map) return this.#map(value, depth)
    if (value instanceof Set) return this.#array([...value], depth)
    if (types.isBoxedPrimitive(value)) return this.#node((value as { valueOf(): unknown }).valueOf(), depth)
    if (value instanceof RegExp) return this.#string(String(value))
    const toJSON = (value as { toJSON?: unknown }).toJSON
    if (typeof toJSON === 'function') {
      const json: unknown = toJSON.call(value)
      // One level deeper, so a toJSON returning ever-new objects still ends.
      if (json !== value) return this.#node(json, depth + 1)
    }
    return this.#object(value, depth)
  }

  #array(items: readonly unknown[], depth: number): unknown[] {
    const out = new Array<unknown>(items.length)
    const path = this.#path
    for (let i = 0; i < items.length; i++) {
      path.push(i)
      out[i] = this.#node(items[i], depth + 1)
      path.pop()
    }
    return out
  }

  #binary(bytes: number): string {
    this.#record('binary', 'redact')
    return binaryMarker(bytes)
  }

  #object(value: object, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== null && proto !== Object.prototype) {
      const ctor = (proto as { constructor?: unknown }).constructor
      const name = typeof ctor === 'function' ? ctor.name : ''
      if (name !== 'Object') out.$class = name === '' ? 'anonymous' : this.#className(name)
    }
    const source = value as Record<string, unknown>
    for (const key of Object.keys(source)) this.#entry(out, key, source[key], depth)
    return out
  }

  // A class name is text the user chose (a secret may be one); its hits are recorded like a key's.
  #className(name: string): string {
    const engine = this.#engine
    const scrubbed = engine.scrubBounded(name, this.#secretsOnly)
    if (engine.hitCount !== 0) {
      this.#path.push('$class')
      this.#recordHits()
      this.#path.pop()
    }
    return scrubbed
  }

  #map(map: Map<unknown, unknown>, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    let objectKeys = 0
    for (const [key, item] of map) {
      const name =
        typeof key === 'string'
          ? key
          : typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean'
            ? String(key)
            : `[key ${objectKeys++}]`
      this.#entry(out, name, item, depth)
    }
    return out
  }

  #error(err: Error, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const path = this.#path
    for (const field of ERROR_TEXT_FIELDS) {
      const text: unknown = err[field]
      if (text === undefined) continue
      path.push(field)
      out[field] = typeof text === 'string' ? this.#string(text) : this.#node(text, depth + 1)
      path.pop()
    }
    const extra = err as Error & { code?: unknown; errors?: unknown }
    if (extra.code !== undefined) this.#entry(out, 'code', extra.code, depth)
    if (err.cause !== undefined) this.#entry(out, 'cause', err.cause, depth)
    if (Array.isArray(extra.errors)) this.#entry(out, 'errors', extra.errors, depth)
    for (const key of Object.keys(err)) {
      if (key === 'code' || key === 'cause' || key === 'errors' || key === 'name' || key === 'message' || key === 'stack') continue
      this.#entry(out, key, (err as unknown as Record<string, unknown>)[key], depth)
    }
    return out
  }

  // One key of an object or Map: the key is scrubbed; a sensitive key's value is replaced whole.
  #entry(out: Record<string, unknown>, key: string, item: unknown, depth: number): void {
    const engine = this.#engine
    const path = this.#path
    let safeKey = engine.scrubBounded(key, this.#secretsOnly)
    const keyHits = engine.hitCount !== 0
    // Two keys may scrub to the same text ("ada@x.io" and "bob@x.io"): keep both.
    if (safeKey !== key) {
      const base = safeKey
      for (let n = 2; Object.hasOwn(out, safeKey); n++) safeKey = `${base}#${n}`
    }
    path.push(safeKey.length > MAX_PATH_KEY ? `${safeKey.slice(0, MAX_PATH_KEY)}…` : safeKey)
    if (keyHits) this.#recordHits()
    if (!this.#secretsOnly && engine.sensitiveKeys.matches(key) && carriesValue(item)) {
      if (++this.#nodes > this.#limits.maxNodes) throw NODE_LIMIT
      const action = engine.ruleActions[SENSITIVE_RULE]!
      if (action === 'remove') {
        this.#record(SENSITIVE_KEY_RULE, 'remove')
      } else if (typeof item === 'string' || typeof item === 'number' || typeof item === 'bigint') {
        this.#record(SENSITIVE_KEY_RULE, action)
        define(out, safeKey, engine.replaceWhole(SENSITIVE_RULE, String(item)))
      } else {
        // A whole object under a sensitive key: no length to mask, no text to hash.
        this.#record(SENSITIVE_KEY_RULE, 'redact')
        define(out, safeKey, engine.marker(SENSITIVE_RULE))
      }
    } else {
      define(out, safeKey, this.#node(item, depth + 1))
    }
    path.pop()
  }

  #recordHits(): void {
    const engine = this.#engine
    const path = this.#pathString()
    for (let i = 0; i < engine.hitCount; i++) {
      const rule = engine.hits[i]!
      this.#transforms.push({ path, rule: engine.ruleIds[rule]!, action: engine.ruleActions[rule]! })
    }
  }

  #record(rule: string, action: TransformAction): void {
    this.#transforms.push({ path: this.#pathString(), rule, action })
  }

  #pathString(): string {
    const path = this.#path
    if (path.length === 0) return '$'
    let out = ''
    for (const segment of path) out = joinTransformPath(out, renderPathSegment(segment))
    return out
  }
}

// null, undefined, booleans and '' say nothing secret; they keep their value.
function carriesValue(item: unknown): boolean {
  return item !== null && item !== undefined && typeof item !== 'boolean' && item !== ''
}

// `out[key] = v` would set the prototype for "__proto__"; define it as an own property.
function define(out: Record<string, unknown>, key: string, item: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true })
  else out[key] = item
}
