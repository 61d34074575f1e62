import { InvalidArgumentError, NoResultConfiguredError, type AirlockErrorOptions } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { Result } from '../results/result.js'
import type { CacheStore } from './cache-store.js'
import { cacheValidators, isCacheValidator, type CacheValidator } from './cache-validators.js'
import type { ConcurrencyLimiter } from './concurrency-limiter.js'
import { parseDuration, type Duration } from '../internal/duration.js'
import { retryDelayFunction, type RetryDelay, type RetryDelayFunction } from './retry-delay.js'

/**
 * Options of `airlock.task(fn, options)`.
 *
 * Persistence: the task's `result`, else its flow's (`airlock.flow(name, fn,
 * { result })`), else the Airlock's (`new Airlock({ result })`). A `target`,
 * a shared `cacheStore` or `persistInputs: true` needs a result on the task
 * or the Airlock when the task is defined (`ERR_NO_RESULT_CONFIGURED`).
 *
 * @example
 * ```ts
 * const options: TaskOptions = {
 *   name: 'load',
 *   tags: ['db'],
 *   retries: 3,
 *   retryDelay: { exponential: { base: '200ms', max: '10s' } },
 *   timeout: '30s',
 *   result: new LocalResult({ dir: 'results', location: '{flowName}/{taskName}/{taskRunId}.json', locationCipher: keys }),
 *   cacheFor: '1h',
 *   cacheValidator: cacheValidators.allInputs,
 * }
 * ```
 */
export interface TaskOptions {
  /** The task's name in states, templates and cache keys. Default: the function's name (an anonymous function needs one). */
  readonly name?: string
  /** Sent with the task's Pending state; a tag with a concurrency limit also limits the task. */
  readonly tags?: readonly string[]
  /** Retries after a failed or timed-out attempt. Default 0. */
  readonly retries?: number
  /** The wait before each retry. Default 0. */
  readonly retryDelay?: RetryDelay
  /**
   * How long one attempt may run. Past it, the attempt's signal (see
   * `currentTask()`) is aborted and the attempt ends as TimedOut (retried
   * like a failure). Time spent Queued does not count.
   */
  readonly timeout?: Duration
  /** Where the task's value (and, before a retry or when Queued, its inputs) is persisted. */
  readonly result?: Result
  /**
   * Whether the value is written to the result on success. Default: the
   * policy's `checkpointing` (`AIRLOCK_CHECKPOINTING`), which is on in every
   * preset, so a task that has a result (its own, its flow's or the
   * Airlock's) persists its value. `true`: written whatever the policy says;
   * `false`: never, whatever the policy says (and then `target` and a shared
   * cache are refused).
   */
  readonly checkpoint?: boolean
  /** Turns output caching on: how long a cached value may be used. */
  readonly cacheFor?: Duration
  /** Which cached value a run may use. Default `cacheValidators.durationOnly`. Needs `cacheFor`. */
  readonly cacheValidator?: CacheValidator
  /** Shares the cache with every task, in any flow, that has the same key. Default: the flow and task names. Needs `cacheFor`. */
  readonly cacheKey?: string
  /** Where cache entries go. Default: the Airlock's `cacheStore` (a `MemoryCacheStore` unless set). */
  readonly cacheStore?: CacheStore
  /**
   * File-based caching: the result's location, formatted with the task
   * context, is the task's target. If a result exists there, the run is
   * Cached from it and the function is not called; otherwise the value is
   * written there on success. The location must not use `{taskRunId}`,
   * `{flowRunId}` or `{randomId}`, or no run could find another's.
   */
  readonly target?: boolean
  /** A concurrency key, limited by the Airlock's `concurrencyLimits` (which must name it). */
  readonly concurrencyKey?: string
  /** Persist the inputs through the result before the first attempt; the Pending state carries their reference. */
  readonly persistInputs?: boolean
}

/** A task's options, checked. Internal to src/runtime. */
export interface TaskDefinition {
  readonly fn: (...args: unknown[]) => unknown
  readonly name: string
  readonly tags: string[] | undefined
  readonly retries: number
  readonly retryDelay: RetryDelayFunction
  readonly timeoutMs: number | undefined
  readonly result: Result | undefined
  readonly checkpoint: boolean | undefined
  readonly cache: CacheSettings | undefined
  readonly target: boolean
  /** The limited keys among the concurrency key and the tags, sorted. */
  readonly limitKeys: readonly string[]
  readonly persistInputs: boolean
}

/** A task's caching, checked. Internal to src/runtime. */
export interface CacheSettings {
  readonly forMs: number
  readonly validator: CacheValidator
  readonly key: string | undefined
  readonly store: CacheStore
}

/** What the Airlock contributes to every task definition. Internal to src/runtime. */
export interface TaskDefaults {
  readonly result: Result | undefined
  readonly cacheStore: CacheStore
  readonly limiter: ConcurrencyLimiter
}

const OPTION_KEYS = [
  'name',
  'tags',
  'retries',
  'retryDelay',
  'timeout',
  'result',
  'checkpoint',
  'cacheFor',
  'cacheValidator',
  'cacheKey',
  'cacheStore',
  'target',
  'concurrencyKey',
  'persistInputs',
] as const

/**
 * Checks a task's function and options once, when the task is defined, so
 * a misconfigured task fails at import time, not in the middle of a run.
 * Internal to src/runtime.
 *
 * @throws {InvalidArgumentError} for a wrong type, an unknown option, or options that contradict each other.
 * @throws {NoResultConfiguredError} when a feature needs a result and neither the task nor the Airlock has one.
 */
export function defineTask(fn: unknown, options: TaskOptions | undefined, defaults: TaskDefaults): TaskDefinition {
  if (typeof fn !== 'function') throw new InvalidArgumentError(`airlock.task needs a function, found ${describeType(fn)}`)
  const given = options ?? {}
  assertKnownOptions('airlock.task', given, OPTION_KEYS)
  const name = given.name ?? fn.name
  if (typeof name !== 'string' || name === '' || name.length > 500) {
    throw new InvalidArgumentError(`airlock.task needs options.name (1 to 500 characters) for an anonymous function, found ${describeType(given.name)}`)
  }
  // A task may be defined inside a run, where an error is that run's failure:
  // the messages say "task", and the name rides on the error as `taskName`.
  const about: AirlockErrorOptions = { taskName: name }
  const tags = optionalStrings(given.tags, `task tags`, about)
  const retries = given.retries ?? 0
  if (!Number.isSafeInteger(retries) || retries < 0) {
    throw new InvalidArgumentError(`task retries must be a non-negative integer, found ${describeType(retries)}`, about)
  }
  const timeoutMs = given.timeout === undefined ? undefined : parseDuration(given.timeout, `task timeout`, about)
  if (timeoutMs === 0) throw new InvalidArgumentError(`task timeout must be more than 0`, about)
  if (given.result !== undefined && !(given.result instanceof Result)) {
    throw new InvalidArgumentError(`task result must be a Result, such as a LocalResult, found ${describeType(given.result)}`, about)
  }
  const checkpoint = optionalBoolean(given.checkpoint, `task checkpoint`, about)
  const target = optionalBoolean(given.target, `task target`, about) ?? false
  const persistInputs = optionalBoolean(given.persistInputs, `task persistInputs`, about) ?? false
  const cache = cacheSettings(given, about, defaults)
  const concurrencyKey = given.concurrencyKey
  if (concurrencyKey !== undefined) {
    if (typeof concurrencyKey !== 'string' || concurrencyKey === '') {
      throw new InvalidArgumentError(`task concurrencyKey must be a non-empty string, found ${describeType(concurrencyKey)}`, about)
    }
    if (!defaults.limiter.has(concurrencyKey)) {
      throw new InvalidArgumentError(
        'task concurrencyKey has no limit: name it in new Airlock({ concurrencyLimits: { <key>: n } }) (the key is on the error as concurrencyKey)',
        { ...about, concurrencyKey },
      )
    }
  }

  const needs = [
    target && 'target: true (the target is a location of the result)',
    cache?.store.shared === true && 'a shared cacheStore (entries point at results)',
    persistInputs && 'persistInputs: true',
  ].filter((need): need is string => typeof need === 'string')
  if (needs.length > 0 && given.result === undefined && defaults.result === undefined) {
    throw new NoResultConfiguredError(
      `a task uses ${needs.join(' and ')}, which needs a result, and none is configured: ` +
        'set result on the task (airlock.task(fn, { result: new LocalResult({ dir, location }) })) or on the Airlock (new Airlock({ result }))',
      about,
    )
  }
  if (checkpoint === false && (target || cache?.store.shared === true)) {
    throw new InvalidArgumentError(
      `a task has checkpoint: false, which forbids writing its value, and ${target ? 'target: true' : 'a shared cacheStore'}, which needs it written`,
      about,
    )
  }
  if (target && (given.result ?? defaults.result)?.inline === true) {
    throw new InvalidArgumentError(`a task has target: true and an inline result (JSONResult), which has no location to find again`, about)
  }

  return {
    fn: fn as (...args: unknown[]) => unknown,
    name,
    tags,
    retries,
    retryDelay: retryDelayFunction(given.retryDelay, `task retryDelay`, about),
    timeoutMs,
    result: given.result,
    checkpoint,
    cache,
    target,
    limitKeys: defaults.limiter.limited([...(concurrencyKey === undefined ? [] : [concurrencyKey]), ...(tags ?? [])]),
    persistInputs,
  }
}

function cacheSettings(given: TaskOptions, about: AirlockErrorOptions, defaults: TaskDefaults): CacheSettings | undefined {
  if (given.cacheFor === undefined) {
    for (const option of ['cacheValidator', 'cacheKey', 'cacheStore'] as const) {
      if (given[option] !== undefined) throw new InvalidArgumentError(`task sets ${option} but not cacheFor, which turns caching on`, about)
    }
    return undefined
  }
  const forMs = parseDuration(given.cacheFor, `task cacheFor`, about)
  const validator = given.cacheValidator ?? cacheValidators.durationOnly
  if (!isCacheValidator(validator)) {
    throw new InvalidArgumentError(`task cacheValidator must be one of cacheValidators, found ${describeType(validator)}`, about)
  }
  const key = given.cacheKey
  if (key !== undefined && (typeof key !== 'string' || key === '')) {
    throw new InvalidArgumentError(`task cacheKey must be a non-empty string, found ${describeType(key)}`, about)
  }
  const store = given.cacheStore ?? defaults.cacheStore
  if (typeof store?.get !== 'function' || typeof store.set !== 'function' || typeof store.shared !== 'boolean') {
    throw new InvalidArgumentError(`task cacheStore must be a CacheStore (shared, get, set), found ${describeType(store)}`, about)
  }
  return { forMs, validator, key, store }
}

function optionalBoolean(value: unknown, what: string, about: AirlockErrorOptions): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value
  throw new InvalidArgumentError(`task must be true or false, found ${describeType(value)}`, about)
}

function optionalStrings(value: unknown, what: string, about: AirlockErrorOptions): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '' || item.length > 200)) {
    throw new InvalidArgumentError(`task must be an array of non-empty strings (at most 200 characters each)`, about)
  }
  return [...(value as string[])]
}
