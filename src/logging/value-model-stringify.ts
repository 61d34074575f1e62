import type { Scrubber } from '../scrub/scrubber.js'
import { plain } from '../scrub/walk.js'

/**
 * The `stringify` an airlock logger gives pino (its `stringifySym`), for
 * every value that is not a string, number or boolean: plain JSON data
 * (plain objects, arrays, strings, finite numbers, booleans, null) goes to
 * `JSON.stringify` as pino would send it; anything else (an Error, bytes, a
 * Map, a class instance, a bigint, a value whose getter throws, a value
 * deeper than `maxDepth`) goes through `Scrubber.normalize` first, the one
 * value model, and is written as `plain` makes it: bytes as
 * `[binary N bytes]`, never spelled out, an error as its fields.
 *
 * So the raw line the scrubbing thread receives says no more than the value
 * model does, and the check that keeps plain data on the fast path is one
 * walk over it, without allocating.
 *
 * @example
 * ```ts
 * logger[pino.symbols.stringifySym] = valueModelStringify(scrubber, policy.scrub.maxDepth)
 * ```
 */
export function valueModelStringify(scrubber: Scrubber, maxDepth: number): (value: unknown) => string {
  return (value) => {
    budget = PLAIN_NODE_BUDGET
    if (isPlainJson(value, 0, maxDepth)) {
      try {
        return JSON.stringify(value)
      } catch {
        // A getter that throws on the second read: the value model withholds it.
      }
    }
    return JSON.stringify(plain(scrubber.normalize(value))) ?? 'null'
  }
}

// The fast path's walk is bounded: a value with more nodes (or a cycle) takes the value model's
// path, which has its own bound (maxNodes) and cycle markers.
const PLAIN_NODE_BUDGET = 2048
let budget = 0

function isPlainJson(value: unknown, depth: number, maxDepth: number): boolean {
  if (--budget < 0) return false
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true
    case 'number':
      return true
    case 'object':
      break
    default:
      return false
  }
  if (value === null) return true
  if (depth >= maxDepth) return false
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1, maxDepth)) return false
      return true
    }
    if (Object.getPrototypeOf(value) !== Object.prototype || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false
    for (const key in value) {
      if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1, maxDepth)) return false
    }
    return true
  } catch {
    return false
  }
}
