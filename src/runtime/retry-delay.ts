import { InvalidArgumentError, type AirlockErrorOptions } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { parseDuration, type Duration } from '../internal/duration.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { renamedOption } from '../internal/renamed-option.js'

/**
 * How long a task waits before each retry.
 *
 * - A {@link Duration} (`500`, `'10s'`): the same wait before every retry.
 * - `{ exponential: { base, max } }` (two durations): before retry `n` (from 1),
 *   a wait drawn uniformly from `[d / 2, d]`, where `d = min(max, base * 2^(n-1))`.
 *   `baseMs` and `maxMs`, in ms, are the older names of `base` and `max`.
 *   The jitter keeps many tasks that failed together (one database going
 *   down) from retrying in lockstep; the lower half is kept so a retry never
 *   comes back almost at once.
 *
 * @example
 * ```ts
 * const fixed: RetryDelay = '2s'
 * const backoff: RetryDelay = { exponential: { base: '200ms', max: '30s' } }
 * ```
 */
export type RetryDelay = Duration | { readonly exponential: ExponentialBackoff }

/**
 * The two bounds of an exponential {@link RetryDelay}.
 *
 * @example
 * ```ts
 * const backoff: ExponentialBackoff = { base: '200ms', max: '30s' }
 * airlock.task(load, { name: 'load', retries: 5, retryDelay: { exponential: backoff } })
 * ```
 */
export type ExponentialBackoff =
  | { readonly base: Duration; readonly max: Duration }
  /** @deprecated The older names, in ms: use `base` and `max`. */
  | { readonly baseMs: number; readonly maxMs: number }

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
 * const delay = retryDelayFunction({ exponential: { base: '100ms', max: '1s' } }, 'task retryDelay', { taskName: 'load' })
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
  const exponential = (value as { exponential?: unknown } | null)?.exponential
  if (typeof value !== 'object' || typeof exponential !== 'object' || exponential === null || Object.keys(value).length !== 1) {
    throw new InvalidArgumentError(`${what} must be a duration or { exponential: { base, max } }, found ${describeType(value)}`, about)
  }
  assertKnownOptions(`${what}.exponential`, exponential, ['base', 'max', 'baseMs', 'maxMs'])
  const base = renamedOption(`${what}.exponential`, exponential, 'base', 'baseMs')
  const max = renamedOption(`${what}.exponential`, exponential, 'max', 'maxMs')
  if (base === undefined || max === undefined) {
    throw new InvalidArgumentError(`${what}.exponential needs both base and max, found ${describeType(exponential)}`, about)
  }
  const baseMs = parseDuration(base, `${what}.exponential.base`, about)
  const maxMs = parseDuration(max, `${what}.exponential.max`, about)
  if (maxMs < baseMs) {
    throw new InvalidArgumentError(`${what}.exponential needs base <= max, found base ${baseMs} ms and max ${maxMs} ms`, about)
  }
  return (retry) => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(retry - 1, 52))
    return ceiling / 2 + Math.random() * (ceiling / 2)
  }
}

function noDelay(): number {
  return 0
}
