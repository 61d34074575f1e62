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
import { ErrorNode, MarkerNode, ReferenceNode, type Normalized, type NormalizedObject } from './value-nodes.js'

/**
 * The bounds normalizing keeps to, the same for every channel.
 *
 * @example
 * ```ts
 * const limits: NormalizeLimits = { maxDepth: policy.scrub.maxDepth, maxNodes: policy.scrub.maxNodes }
 * ```
 */
export interface NormalizeLimits {
  /** Containers nested deeper than this (the root is depth 0) become a `max-depth` marker. */
  readonly maxDepth: number
  /** A value with more nodes than this becomes one `max-nodes` marker, whole. */
  readonly maxNodes: number
}

// Thrown (allocated once) to unwind a value that broke maxNodes.
const NODE_LIMIT = new Error('airlock: node limit reached')

/** The marker of a whole value over the node budget. */
export const MAX_NODES_NODE = new MarkerNode(MAX_NODES_MARKER, 'max-nodes', 'withhold')
/** The marker of a value that could not be read safely. */
export const WITHHELD_NODE = new MarkerNode(WITHHELD_MARKER, 'walker-error', 'withhold')
const MAX_DEPTH_NODE = new MarkerNode(MAX_DEPTH_MARKER, 'max-depth', 'withhold')

const ERROR_OWN_FIELDS = new Set(['name', 'message', 'stack', 'code', 'cause', 'errors'])

/**
 * Turns any value a channel is handed into the one value model
 * (docs/design.md, invariant 7), once, before any rule runs: path rules, the
 * exceptions and locations policies and the scrubber then all see the same
 * tree, and no shape of value takes a side road around them.
 *
 * | input | normalized |
 * |---|---|
 * | string, number, boolean, null, undefined | itself |
 * | bigint | its decimal digits |
 * | plain object | a null-prototype object of its own enumerable string keys |
 * | class instance | the same, plus `$class: <constructor name>` |
 * | object with `toJSON` | what `toJSON()` returns, normalized (as `JSON.stringify` would send it) |
 * | Map | an object (keys as strings; object keys `[key N]`); Set | an array |
 * | Error (anywhere: in a Map, a cause, a class instance) | an {@link ErrorNode} |
 * | a written Result (`toJSON` and a boolean `inline`) | a {@link ReferenceNode} |
 * | Date | ISO string; RegExp | its source text; boxed primitive | the primitive |
 * | Buffer, typed array, DataView, ArrayBuffer | a `binary` {@link MarkerNode}: bytes never leave |
 * | function, symbol | `[Function]`, `[Symbol]` |
 * | a cycle | `[Circular]` |
 * | deeper than `maxDepth` | a `max-depth` marker |
 * | more than `maxNodes` nodes | the whole value is one `max-nodes` marker |
 * | a container that throws while read (getter, Proxy) | a `walker-error` marker |
 *
 * It reads each getter once and never mutates its input. Nothing is
 * scrubbed here: strings and keys are as read. A normalizer is reused from
 * call to call (its ancestor set and counter are fields); it is not
 * re-entrant, so the {@link Scrubber} uses a fresh one when a `toJSON` or
 * getter normalizes while it runs.
 *
 * @example
 * ```ts
 * const normalizer = new Normalizer({ maxDepth: 32, maxNodes: 10_000 })
 * normalizer.run({ when: new Date(0), tags: new Set(['a']) })   // { when: '1970-01-01T00:00:00.000Z', tags: ['a'] }
 * ```
 */
export class Normalizer {
  /** True while a value is being normalized. */
  busy = false
  readonly #limits: NormalizeLimits
  // The containers on the path from the root to the node being read: at most maxDepth + 1 of them, so a scan is
  // cheap, where a Set would allocate a new table on every clear and rehash as it empties.
  readonly #ancestors: object[] = []
  #nodes = 0

  constructor(limits: NormalizeLimits) {
    this.#limits = limits
  }

  /** Normalizes `value`; never throws: what cannot be read becomes a marker. */
  run(value: unknown): Normalized {
    this.busy = true
    this.#nodes = 0
    try {
      return this.#node(value, 0)
    } catch (err) {
      return err === NODE_LIMIT ? MAX_NODES_NODE : WITHHELD_NODE
    } finally {
      this.#ancestors.length = 0
      this.busy = false
    }
  }

  #node(value: unknown, depth: number): Normalized {
    if (++this.#nodes > this.#limits.maxNodes) throw NODE_LIMIT
    const scalar = scalarNode(value)
    return scalar === NOT_SCALAR ? this.#container(value as object, depth) : scalar
  }

  #container(value: object, depth: number): Normalized {
    // Already normalized (a logger that lifted an error itself, say).
    if (value instanceof ErrorNode || value instanceof ReferenceNode || value instanceof MarkerNode) return value
    if (depth > this.#limits.maxDepth) return MAX_DEPTH_NODE
    const ancestors = this.#ancestors
    if (ancestors.includes(value)) return CIRCULAR_MARKER
    const level = ancestors.length
    ancestors.push(value)
    try {
      return this.#read(value, depth)
    } catch (err) {
      if (err === NODE_LIMIT) throw err
      return WITHHELD_NODE
    } finally {
      ancestors.length = level
    }
  }

  #read(value: object, depth: number): Normalized {
    if (Array.isArray(value)) return this.#array(value, depth)
    if (ArrayBuffer.isView(value)) return binary(value.byteLength)
    if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return binary(value.byteLength)
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
    if (value instanceof Error || types.isNativeError(value)) return this.#error(value, depth)
    const toJSON = (value as { toJSON?: unknown }).toJSON
    if (typeof toJSON === 'function' && typeof (value as { inline?: unknown }).inline === 'boolean') {
      return this.#reference(value, toJSON as (this: unknown) => unknown, depth)
    }
    if (value instanceof Map) return this.#map(value, depth)
    if (value instanceof Set) return this.#array([...(value as Set<unknown>)], depth)
    if (types.isBoxedPrimitive(value)) return this.#node((value as { valueOf(): unknown }).valueOf(), depth)
    if (value instanceof RegExp) return String(value)
    if (typeof toJSON === 'function') {
      const json: unknown = toJSON.call(value)
      // One level deeper, so a toJSON returning ever-new objects still ends.
      if (json !== value) return this.#node(json, depth + 1)
    }
    return this.#object(value, depth)
  }

  #array(items: readonly unknown[], depth: number): Normalized[] {
    const out = new Array<Normalized>(items.length)
    for (let i = 0; i < items.length; i++) out[i] = this.#node(items[i], depth + 1)
    return out
  }

  #object(value: object, depth: number): NormalizedObject {
    const out = Object.create(null) as Record<string, Normalized>
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== null && proto !== Object.prototype) {
      const ctor = (proto as { constructor?: unknown }).constructor
      const name = typeof ctor === 'function' ? ctor.name : ''
      if (name !== 'Object') out.$class = name === '' ? 'anonymous' : name
    }
    const source = value as Record<string, unknown>
    for (const key of Object.keys(source)) out[key] = this.#node(source[key], depth + 1)
    return out
  }

  #map(map: Map<unknown, unknown>, depth: number): NormalizedObject {
    const out = Object.create(null) as Record<string, Normalized>
    let objectKeys = 0
    for (const [key, item] of map) {
      const name =
        typeof key === 'string'
          ? key
          : typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean'
            ? String(key)
            : `[key ${objectKeys++}]`
      out[name] = this.#node(item, depth + 1)
    }
    return out
  }

  #reference(value: object, toJSON: (this: unknown) => unknown, depth: number): Normalized {
    const json = this.#node(toJSON.call(value), depth + 1)
    if (!isNormalizedObject(json)) return WITHHELD_NODE
    return new ReferenceNode(json, (value as { inline: boolean }).inline)
  }

  #error(err: Error, depth: number): ErrorNode {
    const ctorName = (err.constructor as { name?: unknown } | undefined)?.name
    const rawName: unknown = err.name
    const type = typeof ctorName === 'string' && ctorName !== '' ? ctorName : typeof rawName === 'string' && rawName !== '' ? rawName : 'Error'
    const extra = err as Error & { code?: unknown; errors?: unknown }
    const child = depth + 1
    const name = rawName === undefined ? undefined : this.#node(rawName, child)
    const message = this.#node(err.message, child)
    const stack = err.stack === undefined ? undefined : this.#node(err.stack, child)
    const code = extra.code === undefined ? undefined : this.#node(extra.code, child)
    const cause = err.cause === undefined ? undefined : this.#node(err.cause, child)
    const errors = Array.isArray(extra.errors) ? this.#array(extra.errors as unknown[], depth) : undefined
    let props: Record<string, Normalized> | undefined
    const source = err as unknown as Record<string, unknown>
    for (const key of Object.keys(err)) {
      if (ERROR_OWN_FIELDS.has(key)) continue
      props ??= Object.create(null) as Record<string, Normalized>
      props[key] = this.#node(source[key], child)
    }
    return new ErrorNode(type, name, message, stack, code, cause, errors, props)
  }
}

/**
 * Whether a normalized value is a plain (null-prototype) object, not an
 * array or a node.
 *
 * @example
 * ```ts
 * isNormalizedObject(normalizer.run({ a: 1 })) // true
 * isNormalizedObject(normalizer.run(new Error('x'))) // false: an ErrorNode
 * ```
 */
export function isNormalizedObject(value: Normalized): value is NormalizedObject {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === null
}

function binary(bytes: number): MarkerNode {
  return new MarkerNode(binaryMarker(bytes), 'binary', 'redact')
}

const NOT_SCALAR = Symbol('not a scalar')

// A value that is not an object, as the value model has it; NOT_SCALAR for an object (null is a scalar).
function scalarNode(value: unknown): Normalized | typeof NOT_SCALAR {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return value
    case 'bigint':
      return value.toString()
    case 'symbol':
      return SYMBOL_MARKER
    case 'function':
      return FUNCTION_MARKER
    default:
      return value === null ? null : NOT_SCALAR
  }
}

/**
 * A flat map (a plain object whose members are scalars or arrays of
 * scalars: OpenTelemetry attributes, search attributes) as the walker reads
 * it, or undefined for anything else, which the Normalizer then takes whole.
 * It is what the Normalizer makes of such a map, member for member (each
 * read once; bigints as digits, functions and symbols as their markers; a
 * map over `maxNodes` as the max-nodes marker, one that throws while read as
 * the withheld marker), except that the copy is an ordinary object: the
 * walker reads a root only by its own keys, and a null-prototype copy costs
 * a dictionary per map.
 *
 * @example
 * ```ts
 * normalizeFlatRecord({ 'http.method': 'GET', ids: [1, 2] }, limits)   // { 'http.method': 'GET', ids: [1, 2] }
 * normalizeFlatRecord({ nested: { a: 1 } }, limits)                    // undefined: normalize it whole
 * ```
 */
export function normalizeFlatRecord(value: unknown, limits: NormalizeLimits): Normalized | undefined {
  if (typeof value !== 'object' || value === null || limits.maxDepth < 1) return undefined
  try {
    if (Array.isArray(value)) return undefined
    const proto: unknown = Object.getPrototypeOf(value)
    // Only what the Normalizer reads as a plain object: no class, no toJSON, nothing with an internal slot.
    if (proto !== Object.prototype && proto !== null) return undefined
    if (ArrayBuffer.isView(value) || types.isNativeError(value) || types.isBoxedPrimitive(value)) return undefined
    const source = value as Record<string, unknown>
    if (source.toJSON !== undefined) return undefined
    const out: Record<string, Normalized> = {}
    let nodes = 1
    for (const key of Object.keys(source)) {
      if (key === '__proto__') return undefined
      const member = source[key]
      if (++nodes > limits.maxNodes) return MAX_NODES_NODE
      if (!Array.isArray(member)) {
        const scalar = scalarNode(member)
        if (scalar === NOT_SCALAR) return undefined
        out[key] = scalar
        continue
      }
      const items = new Array<Normalized>(member.length)
      for (let i = 0; i < items.length; i++) {
        const scalar = scalarNode(member[i])
        if (scalar === NOT_SCALAR) return undefined
        if (++nodes > limits.maxNodes) return MAX_NODES_NODE
        items[i] = scalar
      }
      out[key] = items
    }
    return out
  } catch {
    // A getter or a Proxy that throws while read: the Normalizer withholds such a value whole too.
    return WITHHELD_NODE
  }
}
