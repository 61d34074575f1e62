import { InvalidArgumentError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import type { CacheEntry, CacheStore } from './cache-store.js'

/**
 * The default {@link CacheStore}: entries in this process's memory, one
 * store per Airlock unless one is passed in. It may hold the value itself
 * for a task whose output was not written to a result. Expired entries are
 * replaced by the next write of their key and variant; `maxEntries` bounds
 * the store, dropping the oldest entry first.
 *
 * @example
 * ```ts
 * import { Airlock, MemoryCacheStore } from 'airlock-sdk'
 *
 * const cacheStore = new MemoryCacheStore({ maxEntries: 1_000 })
 * const airlock = new Airlock({ keys, cacheStore })
 * ```
 */
export class MemoryCacheStore implements CacheStore {
  readonly shared = false
  readonly #entries = new Map<string, CacheEntry>()
  readonly #maxEntries: number

  constructor(options: { maxEntries?: number } = {}) {
    assertKnownOptions('MemoryCacheStore', options, ['maxEntries'])
    const max = options.maxEntries ?? 10_000
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new InvalidArgumentError(`MemoryCacheStore maxEntries must be a positive integer, found ${describeType(max)} ${String(max)}`)
    }
    this.#maxEntries = max
  }

  get(key: string, variant: string): Promise<CacheEntry | undefined> {
    return Promise.resolve(this.#entries.get(`${key}\n${variant}`))
  }

  set(entry: CacheEntry): Promise<void> {
    const id = `${entry.key}\n${entry.variant}`
    // Re-inserted, so iteration order is age order and the oldest goes first.
    this.#entries.delete(id)
    this.#entries.set(id, entry)
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
    return Promise.resolve()
  }
}
