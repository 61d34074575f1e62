import { AirlockError, InvalidArgumentError, PayloadFormatError, ResultNotFoundError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { Result } from '../results/result.js'
import { storedCacheEntrySchema, type CacheEntry, type CacheStore } from './cache-store.js'

/**
 * Options of a {@link ResultCacheStore}.
 *
 * @example
 * ```ts
 * const options: ResultCacheStoreOptions = {
 *   index: new LocalResult({ dir: 'results', location: ResultCacheStore.defaultLocation }),
 * }
 * ```
 */
export interface ResultCacheStoreOptions {
  /**
   * The result the index entries are written and read through: any backend
   * (`LocalResult`, `S3Result`, ...), usually the same storage as the task
   * results. Its location must use `{cacheKey}` and `{variant}` and no key
   * that changes between calls (`{date}`, `{today}`, `{randomId}`), such as
   * {@link ResultCacheStore.defaultLocation}. Its serializer and payload
   * cipher apply to the entries.
   */
  readonly index: Result
}

/**
 * A {@link CacheStore} kept next to the results, through a `Result`: each
 * entry is its own small object at a location derived from its key and
 * variant, so a cache written on one machine is found by any other that
 * reads the same storage with the same key ring.
 *
 * There is no shared index file to rewrite: a writer replaces one entry with
 * one atomic write (LocalResult renames a complete temporary file; object
 * stores replace an object whole), so concurrent writers cannot corrupt the
 * index; the last complete write of an entry wins. A lookup is one read, not
 * a listing. Entries are never deleted by the store; an expired one is a
 * miss and is replaced by the next write.
 *
 * An entry read back is checked against its schema and must name the key and
 * variant it was looked up by; anything else is a `PayloadFormatError`, which
 * the runtime reports as a warning and treats as a miss.
 *
 * @example
 * ```ts
 * import { Airlock, LocalResult, ResultCacheStore } from 'airlock-sdk'
 *
 * const result = new LocalResult({ dir: 'results', location: '{flowName}/{taskName}/{taskRunId}.json', locationCipher: keys })
 * const cacheStore = new ResultCacheStore({ index: new LocalResult({ dir: 'results', location: ResultCacheStore.defaultLocation }) })
 * const airlock = new Airlock({ keys, result, cacheStore })
 * ```
 */
export class ResultCacheStore implements CacheStore {
  /** `'.airlock-cache/{cacheKey}/{variant}.json'`: a location template for the index result. */
  static readonly defaultLocation = '.airlock-cache/{cacheKey}/{variant}.json'

  readonly shared = true
  readonly #index: Result

  constructor(options: ResultCacheStoreOptions) {
    assertKnownOptions('ResultCacheStore', options, ['index'])
    const index: unknown = options.index
    if (!(index instanceof Result)) {
      throw new InvalidArgumentError(`ResultCacheStore needs { index: Result }, such as a LocalResult; found ${describeType(index)}`)
    }
    assertIndexLocation(index)
    this.#index = index
  }

  async get(key: string, variant: string): Promise<CacheEntry | undefined> {
    let stored: unknown
    try {
      stored = (await this.#index.read(this.#index.format({ cacheKey: key, variant }))).value
    } catch (err) {
      if (err instanceof ResultNotFoundError) return undefined
      throw err
    }
    const parsed = storedCacheEntrySchema.safeParse(stored)
    if (!parsed.success || parsed.data.key !== key || parsed.data.variant !== variant) {
      throw new PayloadFormatError('a cache index entry is malformed, or is not the entry of the key it is stored under')
    }
    return parsed.data
  }

  async set(entry: CacheEntry): Promise<void> {
    if (entry.value !== undefined) {
      throw new InvalidArgumentError('a ResultCacheStore holds result references, never values: write the value to a result first')
    }
    const stored = storedCacheEntrySchema.parse(entry)
    await this.#index.write(stored, { cacheKey: stored.key, variant: stored.variant })
  }
}

// A location that moved between a write and a later read would make a cache
// that never hits, silently: refuse such templates up front.
function assertIndexLocation(index: Result): void {
  const context = { cacheKey: 'fp1.k.a', variant: 'fp1.k.b' }
  let locations: string[]
  try {
    locations = [
      index.format({ ...context, date: '20000101T000000Z', today: '2000-01-01' }),
      index.format({ ...context, date: '20010202T000000Z', today: '2001-02-02' }),
      index.format({ ...context, cacheKey: 'fp1.k.c' }),
      index.format({ ...context, variant: 'fp1.k.c' }),
    ]
  } catch (err) {
    const code = err instanceof AirlockError ? err.code : 'an error'
    throw new InvalidArgumentError(
      `ResultCacheStore index location may use only {cacheKey} and {variant} (formatting it failed with ${code}); use ResultCacheStore.defaultLocation`,
      { cause: err },
    )
  }
  const [first, second, otherKey, otherVariant] = locations as [string, string, string, string]
  if (first !== second || first !== index.format(context)) {
    throw new InvalidArgumentError('ResultCacheStore index location changes from call to call ({date}, {today} or {randomId}); an entry would never be found again')
  }
  if (otherKey === first || otherVariant === first) {
    throw new InvalidArgumentError('ResultCacheStore index location must use both {cacheKey} and {variant}, or entries overwrite each other')
  }
  if (first.startsWith('alk1.')) throw new InvalidArgumentError('ResultCacheStore index location must not start with alk1., which marks a location token')
}
