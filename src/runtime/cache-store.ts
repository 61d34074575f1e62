import { z } from 'zod'

/**
 * One cached task output, wire format version 1 (what a
 * {@link ResultCacheStore} writes through its index result, as JSON):
 *
 * - `v`: `1`;
 * - `key`: the fingerprint of the cache key (`fp1.<kid>.<mac>`): the task's
 *   flow and name, or its `cacheKey`, and its map index;
 * - `variant`: the fingerprint of the validator's name and material (the
 *   inputs or parameters it compares);
 * - `writtenAt`, `expiresAt`: ISO-8601 UTC; an entry past `expiresAt` is a miss;
 * - `result`: `{ type, location }` of the result holding the value: the
 *   location as it may leave (an `alk1.` token when the result has a
 *   location cipher), read back through the task's result.
 *
 * Fingerprints are keyed with the Airlock's key ring: the index shows
 * neither the inputs nor the cache keys, and Airlocks sharing a cache must
 * share the key ring (a new active key starts a new cache).
 *
 * `value` is for in-process stores only ({@link MemoryCacheStore}): the
 * value of a task whose output was not written to a result. A store that is
 * `shared` never holds one.
 *
 * @example
 * ```ts
 * const entry: CacheEntry = {
 *   v: 1, key: 'fp1.k1.AbC', variant: 'fp1.k1.XyZ',
 *   writtenAt: '2026-11-21T09:00:00.000Z', expiresAt: '2026-11-21T10:00:00.000Z',
 *   result: { type: 'local', location: 'alk1.eyJ...' },
 * }
 * ```
 */
export interface CacheEntry {
  readonly v: 1
  readonly key: string
  readonly variant: string
  readonly writtenAt: string
  readonly expiresAt: string
  readonly result?: { readonly type: string; readonly location: string }
  readonly value?: unknown
}

/**
 * Where cached task outputs are indexed. One entry per `(key, variant)`:
 * `set` replaces the entry for its pair as a whole, so concurrent writers
 * never leave a mixed or partial entry, only one writer's complete entry.
 *
 * Built in: {@link MemoryCacheStore} (the default, per Airlock, in this
 * process) and {@link ResultCacheStore} (entries stored through a `Result`,
 * next to the results, shared by every machine that reads that storage).
 *
 * @example
 * ```ts
 * class RedisCacheStore implements CacheStore {
 *   readonly shared = true
 *   async get(key: string, variant: string) { const s = await redis.get(`${key}/${variant}`); return s === null ? undefined : JSON.parse(s) }
 *   async set(entry: CacheEntry) { await redis.set(`${entry.key}/${entry.variant}`, JSON.stringify(entry)) }
 * }
 * ```
 */
export interface CacheStore {
  /**
   * True when other processes or machines read the entries: the task's
   * output must then be written to a result (a value cannot be shared), so
   * a task caching into it needs a result when it is defined.
   */
  readonly shared: boolean
  /** The entry for a key and variant, or `undefined`. May return an expired entry. */
  get(key: string, variant: string): Promise<CacheEntry | undefined>
  /** Stores an entry, replacing the one for its `(key, variant)`. */
  set(entry: CacheEntry): Promise<void>
}

/** The schema of a stored entry (without `value`, which is never stored). Internal to src/runtime. @internal */
export const storedCacheEntrySchema = z.strictObject({
  v: z.literal(1),
  key: z.string().min(1).max(200),
  variant: z.string().min(1).max(200),
  writtenAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  result: z.strictObject({ type: z.string().min(1).max(100), location: z.string().min(1) }),
})
