import type { Logger } from 'pino'
import { AirlockBoundary, BOUNDARY_OPTION_KEYS, type AirlockOptions, type AirlockStats } from '../boundary/airlock-boundary.js'
import { Fingerprinter } from '../crypto/fingerprinter.js'
import type { KeyRing } from '../crypto/key-ring.js'
import { AirlockError, InvalidArgumentError } from '../errors.js'
import { assertLocalOutputOptions, createLogger, type CreateLoggerOptions } from '../logging/create-logger.js'
import { closeLogger, flushLogger, localOutputStats } from '../logging/local-output.js'
import type { LocalOutputStats } from '../logging/scrub-thread.js'
import type { ShippedRecord } from '../logging/shipped-record.js'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { Result, useKeysUnlessOwn } from '../results/result.js'
import type { CacheStore } from './cache-store.js'
import { ConcurrencyLimiter } from './concurrency-limiter.js'
import { defineFlow, type Flow, type FlowOptions } from './flow.js'
import { MemoryCacheStore } from './memory-cache-store.js'
import { frames } from './run-context.js'
import { defineTask, type TaskDefaults, type TaskOptions } from './task-options.js'
import { RUNTIME_WARNING_CODE, TaskRunner, type MapOptions } from './task-runner.js'

/**
 * Options of an {@link Airlock}: the boundary's (`policy`, `keys`,
 * `controlPlane`, `ledger`, `scrubber`) and the runtime's.
 *
 * @example
 * ```ts
 * const options: AirlockRuntimeOptions = {
 *   keys,
 *   controlPlane: new MemoryControlPlane(),
 *   result: new LocalResult({ dir: 'results', location: '{flowName}/{taskName}/{taskRunId}.json', locationCipher: keys }),
 *   concurrencyLimits: { db: 2 },
 *   logger: { destination: 'logs/airlock.ndjson' },
 * }
 * ```
 */
export interface AirlockRuntimeOptions extends AirlockOptions {
  /** The result of every task that has none of its own and runs in a flow that has none. */
  result?: Result
  /** Where cache entries go. Default: a new `MemoryCacheStore`. */
  cacheStore?: CacheStore
  /**
   * Slots per concurrency key. A task takes one slot of its `concurrencyKey`
   * and of each of its tags that is listed here; when one is full, the task
   * is Queued until a slot frees.
   */
  concurrencyLimits?: Readonly<Record<string, number>>
  /**
   * Local output of `airlock.logger` (default: stdout, level `info`). Its
   * `level` is the local output's only: what ships is what the policy's
   * `logs.level` lets through, whatever this level hides locally.
   */
  logger?: Pick<CreateLoggerOptions, 'destination' | 'level' | 'base'>
}

/**
 * A wrapped task: called with the same arguments, it returns (or throws)
 * what the function does, and records its run. `map` runs it once per item.
 *
 * @example
 * ```ts
 * const double: Task<[number], number> = airlock.task(async (x: number) => x * 2, { name: 'double' })
 * await double(21)               // 42
 * await double.map([1, 2, 3])    // [2, 4, 6], mapIndex 0, 1, 2
 * ```
 */
export type Task<A extends unknown[], R> = ((...args: A) => Promise<R>) & {
  /** The task's name in states, templates and cache keys. */
  readonly taskName: string
  /**
   * Runs the task once per item (each item is the single argument), at most
   * `concurrency` (default 8) at a time, each run with its `mapIndex`.
   * Resolves to the values in item order once every item has settled;
   * rejects with the failure of the lowest index if any failed.
   */
  map(items: Iterable<MapItem<A>>, options?: MapOptions): Promise<R[]>
}

/**
 * What `task.map` takes per item: the task's first argument, when it is
 * the only required one; `never` otherwise (map a task of one argument).
 *
 * @example
 * ```ts
 * type Day = MapItem<[day: string, options?: { force: boolean }]>   // string: map passes each item as the first argument
 * await extract.map(['2026-11-20', '2026-11-21'])
 * ```
 */
export type MapItem<A extends unknown[]> = A extends [infer First, ...infer Rest] ? ([] extends Rest ? First : never) : A extends [(infer Only)?] ? Only : never

const RUNTIME_KEYS = ['result', 'cacheStore', 'concurrencyLimits', 'logger'] as const
/** The runId of log records written outside any run. */
const PROCESS_RUN_ID = 'process'

/**
 * The SDK's entry point: the boundary (`emit`, the policy, the ledger, the
 * transport; see `AirlockBoundary`) plus the runtime that wraps existing
 * functions as tasks and flows, and a logger whose records ship through
 * the boundary.
 *
 * Every state change of every task and flow run goes to the control plane
 * through `emit` and nowhere else: raw errors as `error` (the boundary runs
 * `scrubError` under the policy) and written results as `result` (the
 * boundary sends their `toJSON()`: the encrypted location, never the value).
 *
 * @example
 * ```ts
 * import { Airlock, KeyRing, LocalResult, MemoryControlPlane, cacheValidators, definePolicy } from 'airlock-sdk'
 *
 * const keys = KeyRing.generate()
 * const airlock = new Airlock({ policy: definePolicy({ preset: 'balanced' }), keys, controlPlane: new MemoryControlPlane(), ledger: { path: 'audit/ledger.ndjson' } })
 * const double = airlock.task(async (x: number) => x * 2, {
 *   name: 'double',
 *   result: new LocalResult({ dir: 'results', location: '{flowName}/{taskName}/{taskRunId}.json', locationCipher: keys }),
 *   checkpoint: true,
 *   retries: 2,
 *   cacheFor: '1h',
 *   cacheValidator: cacheValidators.allInputs,
 * })
 * const etl = airlock.flow('etl', async ({ x }: { x: number }) => double(x))
 * const run = await etl.run({ x: 21 })   // run.state === 'Success', run.value === 42
 * await airlock.close()
 * ```
 */
export class Airlock extends AirlockBoundary {
  /**
   * A pino logger. Records at or above the policy's shipped level go out as
   * `log` events of the run they were logged in (the task run too, inside a
   * task), or of the run id `process` outside any run.
   */
  readonly logger: Logger
  readonly #runner: TaskRunner
  readonly #defaults: TaskDefaults
  readonly #keys: KeyRing
  #shipFailureReported = false

  constructor(options: AirlockRuntimeOptions) {
    // Every option is checked before the boundary opens anything: a bad one leaves no ledger half-open.
    const { result, cacheStore, limiter, logger } = runtimeOptions(options)
    super(boundaryOptions(options))
    this.#keys = options.keys
    useKeysUnlessOwn(result, this.#keys)
    this.#defaults = { result, cacheStore, limiter }
    this.#runner = new TaskRunner(this, new Fingerprinter(options.keys), limiter, result)
    this.logger = createLogger({ ...logger, policy: this.policy, scrubber: this.scrubber, ship: this.#ship })
  }

  /**
   * Wraps an async function as a task, without changing its body: the
   * wrapper takes the same arguments and returns (or throws) what the
   * function does. Each call is a task run; inside `flow.run` it joins the
   * flow run, outside it is a run of its own.
   *
   * States: Pending, then Cached (from a target or the cache) or
   * [Queued,] Running [, Retrying, Running ...], then Success, Failed,
   * TimedOut or Cancelled. `attempt` is on Running and on Retrying (the
   * attempt about to be made). A timed-out or cancelled call throws
   * `TaskTimeoutError` / `TaskCancelledError`; a failed one throws the
   * function's own error. No state message or error the runtime writes
   * spells out a flow name, task name, tag or concurrency key (with
   * `states.names: 'hash'` they leave only as fingerprints); an SDK error
   * names them locally in `err.taskName`, `err.flowName` and
   * `err.concurrencyKey` (see `AirlockErrorOptions`). The function reaches its `AbortSignal` through
   * `currentTask().signal`, so its arguments stay its own.
   *
   * Results are written with the task context: `flowName`, `taskName`,
   * `taskRunId`, `flowRunId`, `mapIndex`, `date`, `today`, `parameters`
   * and `inputs` (see `CacheSubject`). A task called outside any flow is
   * its own one-task run: there `{flowName}` is the task's name and
   * `{flowRunId}` the run's id. Inputs are persisted (before the first
   * retry or when Queued, once per task run) at the value's location with
   * `{taskRunId}` suffixed `-inputs` (or, if the location does not use it,
   * `{taskName}` suffixed `.inputs`), and the Retrying and Queued states
   * carry their reference.
   *
   * Inside a flow a task does not wait for its events: the flow run
   * resolves once they are all ledgered and sent. A task called outside
   * any flow resolves after its own events are.
   *
   * @throws {InvalidArgumentError} for bad options, now, not at the first call.
   * @throws {NoResultConfiguredError} when `target`, a shared cache or `persistInputs` has no result.
   * @throws {ClosedError} after `close()`: a task defined then could never run.
   *
   * @example
   * ```ts
   * const load = airlock.task(loadOrders, { name: 'load', retries: 3, retryDelay: '5s', timeout: '1m' })
   * const orders = await load('2026-11-21')   // same call as loadOrders('2026-11-21')
   * ```
   */
  task<A extends unknown[], R>(fn: (...args: A) => Promise<R>, options?: TaskOptions): Task<A, R> {
    this.#runner.assertOpen()
    const definition = defineTask(fn, options, this.#defaults)
    useKeysUnlessOwn(definition.result, this.#keys)
    const runner = this.#runner
    const task = function (this: unknown, ...args: A): Promise<R> {
      return runner.invoke(definition, this, args) as Promise<R>
    }
    const taskName = definition.name
    Object.defineProperties(task, {
      // An accessor, not a value: V8 names a stack frame after a function's
      // `name` data property, and every error thrown through the wrapper
      // would then carry the task name in its stack, which can leave as a failure.
      name: { get: () => taskName, configurable: true },
      length: { value: fn.length },
      taskName: { value: definition.name, enumerable: true },
      map: { value: (items: Iterable<MapItem<A>>, mapOptions?: MapOptions) => runner.map(definition, items, mapOptions) as Promise<R[]> },
    })
    return task as Task<A, R>
  }

  /**
   * Defines a flow: `run(parameters)` records a flow run and calls `fn`
   * with the parameters; the tasks it calls join the run.
   *
   * @throws {InvalidArgumentError} for a bad name, function or option.
   * @throws {ClosedError} after `close()`.
   *
   * @example
   * ```ts
   * const etl = airlock.flow('etl', async ({ day }: { day: string }) => load(await extract(day)))
   * const run = await etl.run({ day: '2026-11-21' })
   * ```
   */
  flow<P extends Record<string, unknown>, R>(name: string, fn: (parameters: P) => Promise<R>, options?: FlowOptions): Flow<P, R> {
    this.#runner.assertOpen()
    const flow = defineFlow<P, R>(this.#runner, name, fn, options)
    useKeysUnlessOwn(options?.result, this.#keys)
    return flow
  }

  /**
   * Refuses new task and flow runs, then flushes and closes the transport
   * and the ledger. Runs already started should be awaited first.
   *
   * @example
   * ```ts
   * await airlock.close()
   * ```
   */
  override async close(): Promise<void> {
    this.#runner.close()
    // The boundary closes now (nothing is emitted after this call); the logger's scrubbing thread
    // writes what was logged before it, then stops.
    const closing = super.close()
    // Awaited below, after the logger: a ledger that never opened rejects it in the meantime.
    closing.catch(() => {})
    await closeLogger(this.logger)
    await closing
  }

  /**
   * Waits until the logger's local output so far is written (its scrubbing
   * thread included), then until every event emitted so far is ledgered and
   * delivered (or definitively rejected).
   *
   * @example
   * ```ts
   * airlock.logger.info('checkpoint')
   * await airlock.flush()
   * ```
   */
  override async flush(): Promise<void> {
    await flushLogger(this.logger)
    await super.flush()
  }

  /**
   * The boundary's counts, plus the logger's local output: lines written
   * scrubbed and lines withheld (its scrubbing thread failed).
   *
   * @example
   * ```ts
   * airlock.stats().localLogs // { written: 120, withheld: 0 }
   * ```
   */
  override stats(): AirlockStats & { readonly localLogs: LocalOutputStats } {
    return { ...super.stats(), localLogs: localOutputStats(this.logger) ?? { written: 0, withheld: 0 } }
  }

  // Bound once: the logger calls it for every shipped record.
  readonly #ship = (record: ShippedRecord): void => {
    const frame = frames.getStore()
    const run = this.#runner.currentRun()
    const input = {
      kind: 'log',
      runId: run?.runId ?? PROCESS_RUN_ID,
      level: record.level,
      msg: record.msg,
      fields: record.fields,
      taskRunId: run === undefined ? undefined : frame?.task?.taskRunId,
      msgFromError: record.msgFromError,
    } as const
    // Outside any run nothing awaits the record; the boundary's flush and close still wait for it.
    if (run === undefined) this.emit(input).catch(this.#shipFailed)
    else this.#runner.record(run, input)
  }

  readonly #shipFailed = (err: unknown): void => {
    if (this.#shipFailureReported) return
    this.#shipFailureReported = true
    const code = err instanceof AirlockError ? err.code : 'ERR_INTERNAL'
    process.emitWarning(`airlock: a log record outside any run could not be emitted (${code}); later failures are not reported`, {
      code: RUNTIME_WARNING_CODE,
    })
  }
}

// The runtime's options, checked (and the limiter built) before anything opens.
function runtimeOptions(options: AirlockRuntimeOptions): {
  result: Result | undefined
  cacheStore: CacheStore
  limiter: ConcurrencyLimiter
  logger: AirlockRuntimeOptions['logger']
} {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('Airlock needs an options object')
  assertKnownOptions('Airlock', options, [...BOUNDARY_OPTION_KEYS, ...RUNTIME_KEYS])
  const { result, cacheStore = new MemoryCacheStore(), concurrencyLimits = {}, logger } = options
  if (result !== undefined && !(result instanceof Result)) {
    throw new InvalidArgumentError(`Airlock option result must be a Result, such as a LocalResult, found ${describeType(result)}`)
  }
  if (typeof cacheStore?.get !== 'function' || typeof cacheStore.set !== 'function' || typeof cacheStore.shared !== 'boolean') {
    throw new InvalidArgumentError(`Airlock option cacheStore must be a CacheStore (shared, get, set), found ${describeType(cacheStore)}`)
  }
  if (logger !== undefined) {
    assertKnownOptions('Airlock option logger', logger, ['destination', 'level', 'base'])
    assertLocalOutputOptions(logger, 'Airlock option logger')
  }
  return { result, cacheStore, limiter: new ConcurrencyLimiter(concurrencyLimits), logger }
}

// The boundary gets its own options only; the runtime's are checked above.
function boundaryOptions(options: AirlockRuntimeOptions): AirlockOptions {
  const boundary: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    if (!(RUNTIME_KEYS as readonly string[]).includes(key)) boundary[key] = value
  }
  return boundary as unknown as AirlockOptions
}
