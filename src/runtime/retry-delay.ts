import { InvalidArgumentError, type AirlockErrorOptions } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { parseDuration, type Duration } from './duration.js'

/**
 * How long a task waits before each retry.
 *
 * - A {@link Duration} (`500`, `'10s'`): the same wait before every retry.
 * - `{ exponential: { baseMs, maxMs } }`: before retry `n` (from 1), a wait
 *   drawn uniformly from `[d / 2, d]`, where `d = min(maxMs, baseMs * 2^(n-1))`.
 *   The jitter keeps many tasks that failed together (one database going
 *   down) from retrying in lockstep; the lower half is kept so a retry never
 *   comes back almost at once.
 *
 * @example
 * ```ts
 * const fixed: RetryDelay = '2s'
 * const backoff: RetryDelay = { exponential: { baseMs: 200, maxMs: 30_000 } }
 * ```
 */
export type RetryDelay = Duration | { readonly exponential: { readonly baseMs: number; readonly maxMs: number } }

/** A checked {@link RetryDelay}: the wait, in ms, before retry `n` (from 1). Internal to src/runtime. */
export type RetryDelayFunction = (retry: number) => number

/**
 * Checks a {@link RetryDelay} and returns the wait before each retry.
 *
 * @throws {InvalidArgumentError} naming `what` when the shape or a number is wrong;
 *   `about` (the task's name) goes on the error, not in its message.
 *
 * @example
 * ```ts
 * const delay = retryDelayFunction({ exponential: { baseMs: 100, maxMs: 1_000 } }, 'task retryDelay', { taskName: 'load' })
 * delay(1) // between 50 and 100
 * delay(5) // between 500 and 1000
 * ```
 */
export function retryDelayFunction(value: RetryDelay | undefined, what: string, about?: AirlockErrorOptions): RetryDelayFunction {
  if (value === undefined) return noDelay
  if (typeof value === 'number' || typeof value === 'string') {
    const ms = parseDuration(value, what, about)
    return () => ms
  }
  const exponential = (value as { exponential?: unknown } | null)?.exponential as { baseMs?: unknown; maxMs?: unknown } | undefined
  if (typeof value !== 'object' || typeof exponential !== 'object' || exponential === null || Object.keys(value).length !== 1) {
    throw new InvalidArgumentError(`${what} must be a duration or { exponential: { baseMs, maxMs } }, found ${describeType(value)}`, about)
  }
  const baseMs = parseDuration(exponential.baseMs, `${what}.exponential.baseMs`, about)
  const maxMs = parseDuration(exponential.maxMs, `${what}.exponential.maxMs`, about)
  if (typeof exponential.baseMs !== 'number' || typeof exponential.maxMs !== 'number' || maxMs < baseMs) {
    throw new InvalidArgumentError(`${what}.exponential needs baseMs and maxMs as numbers of milliseconds with baseMs <= maxMs`, about)
  }
  return (retry) => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(retry - 1, 52))
    return ceiling / 2 + Math.random() * (ceiling / 2)
  }
}

function noDelay(): number {
  return 0
}
