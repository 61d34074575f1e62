import { InvalidArgumentError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'

interface Waiter {
  readonly keys: readonly string[]
  readonly grant: () => void
}

/**
 * Slots per concurrency key: a task run takes one slot of every limited key
 * it has (its `concurrencyKey` and its tags), all at once or none, so two
 * runs waiting on each other's keys cannot deadlock. Waiters are granted in
 * arrival order: a run never overtakes an earlier one waiting on a key it
 * needs too; runs on unrelated keys do not wait for each other. Internal to src/runtime.
 *
 * @example
 * ```ts
 * const limiter = new ConcurrencyLimiter({ db: 1 })
 * if (!limiter.tryAcquire(['db'])) await limiter.acquire(['db'], signal)
 * try { await work() } finally { limiter.release(['db']) }
 * ```
 */
export class ConcurrencyLimiter {
  readonly #limits: ReadonlyMap<string, number>
  readonly #running = new Map<string, number>()
  readonly #waiting: Waiter[] = []

  constructor(limits: Readonly<Record<string, number>> = {}) {
    if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
      throw new InvalidArgumentError(`concurrencyLimits must be an object of key: limit, found ${describeType(limits)}`)
    }
    const checked = new Map<string, number>()
    for (const [key, limit] of Object.entries(limits)) {
      if (key === '' || !Number.isSafeInteger(limit) || limit < 1) {
        // The key is a name (a tag or concurrency key): on the error, not in its message.
        throw new InvalidArgumentError(
          `every concurrencyLimits entry must be a positive integer under a non-empty key, found ${key === '' ? 'an empty key' : describeType(limit)}`,
          { concurrencyKey: key },
        )
      }
      checked.set(key, limit)
    }
    this.#limits = checked
  }

  /** Whether a key has a limit. */
  has(key: string): boolean {
    return this.#limits.has(key)
  }

  /** Of `keys`, those with a limit, sorted and deduplicated. */
  limited(keys: readonly string[]): string[] {
    return [...new Set(keys.filter((key) => this.#limits.has(key)))].sort()
  }

  /** Takes one slot of every key now, or none and returns false. */
  tryAcquire(keys: readonly string[]): boolean {
    // Arrival order: a newcomer must not overtake a queued run that waits on one of its keys.
    if (!this.#free(keys) || this.#waiting.some((waiter) => waiter.keys.some((key) => keys.includes(key)))) return false
    this.#take(keys)
    return true
  }

  /**
   * Waits until one slot of every key is free, then takes them. Rejects with
   * the signal's reason, holding nothing, when the signal aborts first.
   */
  acquire(keys: readonly string[], signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error)
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        keys,
        grant: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      const onAbort = (): void => {
        const at = this.#waiting.indexOf(waiter)
        if (at !== -1) this.#waiting.splice(at, 1)
        reject(signal?.reason as Error)
        this.#grantWaiting()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiting.push(waiter)
      this.#grantWaiting()
    })
  }

  /** Gives back one slot of every key, and grants waiting runs that now fit. */
  release(keys: readonly string[]): void {
    for (const key of keys) this.#running.set(key, (this.#running.get(key) ?? 1) - 1)
    this.#grantWaiting()
  }

  #free(keys: readonly string[]): boolean {
    for (const key of keys) if ((this.#running.get(key) ?? 0) >= (this.#limits.get(key) ?? Infinity)) return false
    return true
  }

  #take(keys: readonly string[]): void {
    for (const key of keys) this.#running.set(key, (this.#running.get(key) ?? 0) + 1)
  }

  #grantWaiting(): void {
    // Keys an earlier waiter is still waiting for: a later waiter that needs
    // one of them waits behind it, so no run is overtaken on its own keys.
    let blocked: Set<string> | undefined
    for (let i = 0; i < this.#waiting.length; ) {
      const waiter = this.#waiting[i] as Waiter
      if (!waiter.keys.some((key) => blocked?.has(key)) && this.#free(waiter.keys)) {
        this.#waiting.splice(i, 1)
        this.#take(waiter.keys)
        waiter.grant()
      } else {
        blocked ??= new Set()
        for (const key of waiter.keys) blocked.add(key)
        i++
      }
    }
  }
}
