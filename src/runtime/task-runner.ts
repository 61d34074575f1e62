import { randomUUID } from 'node:crypto'
import type { EmitInput } from '../boundary/emit-input.js'
import type { RunState } from '../boundary/events.js'
import type { Fingerprinter } from '../crypto/fingerprinter.js'
import { AirlockError, ClosedError, InvalidArgumentError, TaskTimeoutError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import type { TemplateContext } from '../results/location-template.js'
import type { Result } from '../results/result.js'
import type { CacheEntry, CacheStore } from './cache-store.js'
import { NEVER_USE } from './cache-validators.js'
import { canonicalText } from '../crypto/canonical-text.js'
import type { ConcurrencyLimiter } from './concurrency-limiter.js'
import { PendingEmits } from './pending-emits.js'
import { frames, type MutableTaskRunSummary, type RunFrame, type TaskRunContext } from './run-context.js'
import type { TaskDefinition } from './task-options.js'
import { isoNow } from '../internal/iso-now.js'

/** What the runner needs of its Airlock. Internal to src/runtime. */
export interface RunnerHost {
  emit(input: EmitInput): Promise<unknown>
  readonly policy: { readonly checkpointing: boolean }
}

/**
 * Options of `task.map(items, options)`.
 *
 * @example
 * ```ts
 * const options: MapOptions = { concurrency: 2 }
 * const loaded = await load.map(days, options)   // at most two runs at a time; values in item order
 * ```
 */
export interface MapOptions {
  /** How many items run at once. Default 8. */
  readonly concurrency?: number
}

/**
 * The process warning code of every runtime warning (an unreadable cache, inputs not persisted, ...).
 *
 * @example
 * ```ts
 * process.on('warning', (w: Error & { code?: string }) => {
 *   if (w.code === RUNTIME_WARNING_CODE) metrics.increment('airlock.runtime_warning')
 * })
 * ```
 */
export const RUNTIME_WARNING_CODE = 'AIRLOCK_RUNTIME'

/** Fixed parts of the key material; a change of format changes them, so old entries become misses. */
const CACHE_KEY_PREFIX = 'airlock-cache-key/v1\0'
const CACHE_VARIANT_PREFIX = 'airlock-cache-variant/v1\0'
const DEFAULT_MAP_CONCURRENCY = 8
const NEVER_ABORTED: AbortSignal = new AbortController().signal
const noop = (): void => {}

interface CacheLookup {
  readonly store: CacheStore
  readonly key: string
  readonly variant: string
}

/** One task run in progress. */
interface ActiveTask {
  readonly def: TaskDefinition
  readonly run: RunFrame
  readonly summary: MutableTaskRunSummary
  readonly result: Result | undefined
  readonly inputs: Readonly<Record<string, unknown>>
  readonly context: TemplateContext
  readonly thisArg: unknown
  readonly args: unknown[]
  inputsRef: Result | undefined
  pendingSent: boolean
  timedOut: boolean
}

/**
 * Runs wrapped tasks and flows: states, retries, timeouts, queues, caching,
 * targets and checkpoints. Every state goes out through the host's `emit`,
 * in order; a run's promise settles only after its events are ledgered and
 * sent. Internal to src/runtime; `Airlock` is its public face.
 */
export class TaskRunner {
  readonly #host: RunnerHost
  readonly #fingerprints: Fingerprinter
  readonly #limiter: ConcurrencyLimiter
  readonly #defaultResult: Result | undefined
  readonly #warnedNoResult = new WeakSet<TaskDefinition>()
  #closed = false

  constructor(host: RunnerHost, fingerprints: Fingerprinter, limiter: ConcurrencyLimiter, defaultResult: Result | undefined) {
    this.#host = host
    this.#fingerprints = fingerprints
    this.#limiter = limiter
    this.#defaultResult = defaultResult
  }

  /** Refuses new runs from now on. */
  close(): void {
    this.#closed = true
  }

  // ---------------------------------------------------------------- runs

  /** A new run record; a flow run passes its identity, a one-task run passes nothing. */
  newRun(flow?: { name: string; parameters: Readonly<Record<string, unknown>>; result: Result | undefined; signal: AbortSignal | undefined }): RunFrame {
    const runId = randomUUID()
    return {
      owner: this,
      runId,
      flowName: flow?.name,
      flowRunId: flow === undefined ? undefined : runId,
      parameters: flow?.parameters ?? {},
      result: flow?.result,
      signal: flow?.signal,
      taskRuns: [],
      emits: new PendingEmits(),
    }
  }

  /** The run of this runner that the caller is in, if any. */
  currentRun(): RunFrame | undefined {
    const frame = frames.getStore()
    return frame?.run.owner === this ? frame.run : undefined
  }

  /** Emits one event of a run, in order, without waiting for it. */
  record(run: RunFrame, input: EmitInput): void {
    run.emits.track(this.#host.emit(input))
  }

  /** Waits until every event of the run is ledgered and sent; rethrows an emit that failed. */
  settle(run: RunFrame): Promise<void> {
    return run.emits.settled()
  }

  /** @throws {ClosedError} after `close()`. */
  assertOpen(): void {
    if (this.#closed) throw new ClosedError('Airlock is closed; no task or flow can run after close()')
  }

  // ---------------------------------------------------------------- tasks

  /** Calls a task: inside the caller's run, or as a one-task run of its own. */
  invoke(def: TaskDefinition, thisArg: unknown, args: unknown[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(closedFor(def))
    const run = this.currentRun()
    if (run !== undefined) return this.#execute(def, run, thisArg, args, undefined)
    return this.#alone(def, thisArg, args)
  }

  /** Runs a task once per item, at most `concurrency` at a time; resolves to the values in item order. */
  map(def: TaskDefinition, items: Iterable<unknown>, options: MapOptions | undefined): Promise<unknown[]> {
    if (this.#closed) return Promise.reject(closedFor(def))
    if (typeof (items as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== 'function') {
      return Promise.reject(new InvalidArgumentError(`task.map needs an iterable of items, found ${describeType(items)}`, { taskName: def.name }))
    }
    const concurrency = options?.concurrency ?? DEFAULT_MAP_CONCURRENCY
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      return Promise.reject(
        new InvalidArgumentError(`task.map concurrency must be a positive integer, found ${describeType(concurrency)}`, { taskName: def.name }),
      )
    }
    const list = [...items]
    const run = this.currentRun()
    if (run !== undefined) return this.#mapIn(def, run, list, concurrency)
    const alone = this.newRun()
    return this.#settled(alone, frames.run({ run: alone, task: undefined }, () => this.#mapIn(def, alone, list, concurrency)))
  }

  async #alone(def: TaskDefinition, thisArg: unknown, args: unknown[]): Promise<unknown> {
    const run = this.newRun()
    return this.#settled(run, frames.run({ run, task: undefined }, () => this.#execute(def, run, thisArg, args, undefined)))
  }

  async #settled<T>(run: RunFrame, pending: Promise<T>): Promise<T> {
    try {
      return await pending
    } finally {
      await this.settle(run)
    }
  }

  async #mapIn(def: TaskDefinition, run: RunFrame, items: unknown[], concurrency: number): Promise<unknown[]> {
    const values = new Array<unknown>(items.length)
    let firstFailure: { index: number; error: unknown } | undefined
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const index = next++
        try {
          values[index] = await this.#execute(def, run, undefined, [items[index]], index)
        } catch (error) {
          if (firstFailure === undefined || index < firstFailure.index) firstFailure = { index, error }
        }
      }
    }
    const workers: Promise<void>[] = []
    for (let i = 0; i < Math.min(concurrency, items.length); i++) workers.push(worker())
    await Promise.all(workers)
    // Every item has settled before the map does: no child is left running unseen.
    if (firstFailure !== undefined) throw firstFailure.error
    return values
  }

  async #execute(def: TaskDefinition, run: RunFrame, thisArg: unknown, args: unknown[], mapIndex: number | undefined): Promise<unknown> {
    const task = this.#start(def, run, thisArg, args, mapIndex)
    try {
      if (def.persistInputs) task.inputsRef = await this.#persistInputs(task, true)
      this.#pending(task)
      if (run.signal?.aborted) throw run.signal.reason
      if (def.target) {
        const hit = await this.#readTarget(task)
        if (hit !== undefined) return hit.value
      }
      const lookup = this.#cacheLookup(task)
      if (lookup !== undefined) {
        const hit = await this.#readCache(task, lookup)
        if (hit !== undefined) return hit.value
      }
      const value = await (task.def.limitKeys.length === 0 ? this.#attempts(task) : this.#runWithSlots(task))
      const writing = this.#succeed(task, value, lookup)
      if (writing !== undefined) await writing
      return value
    } catch (err) {
      throw this.#finishFailed(task, err)
    }
  }

  #start(def: TaskDefinition, run: RunFrame, thisArg: unknown, args: unknown[], mapIndex: number | undefined): ActiveTask {
    const taskRunId = randomUUID()
    const summary: MutableTaskRunSummary = { taskRunId, taskName: def.name, mapIndex, state: 'Pending', attempts: 0, result: undefined }
    run.taskRuns.push(summary)
    const inputs = namedInputs(args)
    const now = isoNow()
    const context: TemplateContext = {
      // A one-task run is its own flow run: `{flowName}` and `{flowRunId}` still format.
      flowName: run.flowName ?? def.name,
      flowRunId: run.flowRunId ?? run.runId,
      taskName: def.name,
      taskRunId,
      mapIndex,
      // Fixed once per task run, so every location of the run (inputs, value, target) agrees.
      date: `${now.slice(0, 4)}${now.slice(5, 7)}${now.slice(8, 13)}${now.slice(14, 16)}${now.slice(17, 19)}Z`,
      today: now.slice(0, 10),
      parameters: run.parameters,
      inputs,
    }
    return {
      def,
      run,
      summary,
      result: def.result ?? run.result ?? this.#defaultResult,
      inputs,
      context,
      thisArg,
      args,
      inputsRef: undefined,
      pendingSent: false,
      timedOut: false,
    }
  }

  #pending(task: ActiveTask): void {
    task.pendingSent = true
    this.#state(task, 'Pending', { tags: task.def.tags, result: task.inputsRef })
  }

  #state(
    task: ActiveTask,
    state: RunState,
    extra?: { attempt?: number; message?: string; error?: unknown; result?: Result | undefined; tags?: string[] | undefined },
  ): void {
    task.summary.state = state
    this.record(task.run, {
      kind: 'task-run-state',
      runId: task.run.runId,
      flowName: task.run.flowName,
      taskName: task.def.name,
      taskRunId: task.summary.taskRunId,
      mapIndex: task.summary.mapIndex,
      state,
      ...extra,
      // Only written or read results get here, and they always carry a location.
      result: extra?.result,
    })
  }

  /** Emits the final state of a run that did not succeed; returns what the caller gets thrown. */
  #finishFailed(task: ActiveTask, err: unknown): unknown {
    if (!task.pendingSent) this.#pending(task)
    if (task.run.signal?.aborted === true) {
      const reason: unknown = task.run.signal.reason
      this.#state(task, 'Cancelled', { error: reason })
      return reason
    }
    this.#state(task, task.timedOut ? 'TimedOut' : 'Failed', { error: err })
    return err
  }

  // ---------------------------------------------------------------- attempts

  async #runWithSlots(task: ActiveTask): Promise<unknown> {
    const keys = task.def.limitKeys
    if (keys.length > 0 && !this.#limiter.tryAcquire(keys)) {
      task.inputsRef ??= await this.#persistInputs(task, false)
      // The keys are tags or concurrency keys: names, which the message must not spell out.
      this.#state(task, 'Queued', { message: queuedMessage(keys.length), result: task.inputsRef })
      await this.#limiter.acquire(keys, task.run.signal)
    }
    try {
      return await this.#attempts(task)
    } finally {
      if (keys.length > 0) this.#limiter.release(keys)
    }
  }

  async #attempts(task: ActiveTask): Promise<unknown> {
    const { def, run } = task
    for (let attempt = 1; ; attempt++) {
      task.summary.attempts = attempt
      task.timedOut = false
      this.#state(task, 'Running', { attempt })
      try {
        return await this.#attempt(task, attempt)
      } catch (err) {
        if (attempt > def.retries || run.signal?.aborted === true) throw err
        task.inputsRef ??= await this.#persistInputs(task, false)
        const delay = Math.round(def.retryDelay(attempt))
        this.#state(task, 'Retrying', {
          attempt: attempt + 1,
          error: err,
          result: task.inputsRef,
          message: `attempt ${attempt} ${task.timedOut ? 'timed out' : 'failed'}; retry ${attempt} of ${def.retries} in ${delay} ms`,
        })
        await sleep(delay, run.signal)
      }
    }
  }

  async #attempt(task: ActiveTask, attempt: number): Promise<unknown> {
    const { def, run } = task
    let timeout: AbortController | undefined
    let timer: NodeJS.Timeout | undefined
    let signal = run.signal ?? NEVER_ABORTED
    if (def.timeoutMs !== undefined) {
      timeout = new AbortController()
      signal = run.signal === undefined ? timeout.signal : AbortSignal.any([timeout.signal, run.signal])
      timer = setTimeout(abortForTimeout, def.timeoutMs, timeout, def, attempt)
    }
    const context: TaskRunContext = {
      taskRunId: task.summary.taskRunId,
      taskName: def.name,
      runId: run.runId,
      flowName: run.flowName,
      flowRunId: run.flowRunId,
      mapIndex: task.summary.mapIndex,
      attempt,
      signal,
      parameters: run.parameters,
    }
    try {
      const pending = frames.run({ run, task: context }, callBody, def.fn, task.thisArg, task.args)
      return signal === NEVER_ABORTED ? await pending : await untilAborted(pending, signal)
    } catch (err) {
      // What ended the attempt is the timeout or the cancellation, whatever the body made of the abort.
      if (run.signal?.aborted === true) throw run.signal.reason
      if (timeout?.signal.aborted === true) {
        task.timedOut = true
        throw timeout.signal.reason
      }
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  // ---------------------------------------------------------------- persistence

  /**
   * Writes the inputs through the task's result, at a location apart from
   * the value's. `required` (persistInputs: true) lets a failure fail the
   * task; otherwise a retry or a queued run goes on in this process, with a
   * warning.
   */
  async #persistInputs(task: ActiveTask, required: boolean): Promise<Result | undefined> {
    const result = task.result
    if (result === undefined) return undefined
    try {
      return await result.write(task.inputs, inputsContext(result, task.context, task.def.name))
    } catch (err) {
      if (required) throw err
      warn(`the inputs of task ${JSON.stringify(task.def.name)} were not persisted (${codeOf(err)}); it goes on in this process only`)
      return undefined
    }
  }

  // Sends Success; when the value is written or cached first, a promise of that, else undefined (no await, no hop).
  #succeed(task: ActiveTask, value: unknown, lookup: CacheLookup | undefined): Promise<void> | undefined {
    const writes = value !== undefined && this.#writes(task, lookup)
    if (!writes && lookup === undefined) {
      this.#state(task, 'Success', { result: undefined })
      return undefined
    }
    return this.#writeThenSucceed(task, value, lookup, writes)
  }

  async #writeThenSucceed(task: ActiveTask, value: unknown, lookup: CacheLookup | undefined, writes: boolean): Promise<void> {
    let written: Result | undefined
    if (writes) {
      written = await (task.result as Result).write(value, task.context)
      task.summary.result = written
    }
    if (lookup !== undefined) await this.#writeCache(task, lookup, value, written)
    this.#state(task, 'Success', { result: written })
  }

  // The checkpointing rules: an explicit `checkpoint: false` always wins;
  // then `checkpoint: true`, the global switch, a target or a shared cache
  // each call for the value to be written.
  #writes(task: ActiveTask, lookup: CacheLookup | undefined): boolean {
    const { def } = task
    if (def.checkpoint === false) return false
    const wanted = def.checkpoint === true || this.#host.policy.checkpointing || def.target || lookup?.store.shared === true
    if (wanted && task.result === undefined) {
      if (def.checkpoint === true && !this.#warnedNoResult.has(def)) {
        this.#warnedNoResult.add(def)
        warn(`task ${JSON.stringify(def.name)} has checkpoint: true but no result on the task, its flow or the Airlock; nothing is written`)
      }
      return false
    }
    return wanted
  }

  // ---------------------------------------------------------------- targets and caching

  async #readTarget(task: ActiveTask): Promise<{ value: unknown } | undefined> {
    const result = task.result as Result
    const location = result.format(task.context)
    // Another run of the same task with the same parameters, on another day: it must find the same target.
    const elsewhere = result.format({ ...task.context, taskRunId: randomUUID(), flowRunId: randomUUID(), date: '19700101T000000Z' })
    if (elsewhere !== location) {
      throw new InvalidArgumentError(
        'a task has target: true, but its result location changes with every run ({taskRunId}, {flowRunId}, {date} or {randomId}); use stable keys such as {taskName}, {today} and {parameters.x}',
        { taskName: task.def.name },
      )
    }
    if (!(await result.exists(location))) return undefined
    return this.#cached(task, () => result.read(location), 'target exists')
  }

  #cacheLookup(task: ActiveTask): CacheLookup | undefined {
    const cache = task.def.cache
    if (cache === undefined) return undefined
    const material = cache.validator.select({ inputs: task.inputs, parameters: task.run.parameters })
    if (material === NEVER_USE) return undefined
    let text: string
    try {
      text = canonicalText(material)
    } catch (err) {
      warn(`task ${JSON.stringify(task.def.name)} is not cached this time: ${(err as Error).message}`)
      return undefined
    }
    const scope = cache.key === undefined ? `task\0${task.run.flowName ?? ''}\0${task.def.name}` : `key\0${cache.key}`
    const mapIndex = task.summary.mapIndex
    return {
      store: cache.store,
      key: this.#fingerprints.fingerprint(`${CACHE_KEY_PREFIX}${scope}${mapIndex === undefined ? '' : `\0${mapIndex}`}`),
      variant: this.#fingerprints.fingerprint(`${CACHE_VARIANT_PREFIX}${cache.validator.name}\0${text}`),
    }
  }

  async #readCache(task: ActiveTask, lookup: CacheLookup): Promise<{ value: unknown } | undefined> {
    let entry: CacheEntry | undefined
    try {
      entry = await lookup.store.get(lookup.key, lookup.variant)
    } catch (err) {
      warn(`the cache index of task ${JSON.stringify(task.def.name)} could not be read (${codeOf(err)}); running the task`)
      return undefined
    }
    if (entry === undefined || !(Date.parse(entry.expiresAt) > Date.now())) return undefined
    const stored = entry.result
    if (stored === undefined) {
      this.#hit(task, undefined, 'cache hit')
      return { value: entry.value }
    }
    const result = task.result
    if (result === undefined || result.type !== stored.type) {
      warn(`the cached result of task ${JSON.stringify(task.def.name)} is a ${stored.type} result, and the task's result is ${result?.type ?? 'not set'}; running the task`)
      return undefined
    }
    return this.#cached(task, () => result.read(stored.location), 'cache hit')
  }

  /**
   * Reads a cached value through the result (which decrypts the location);
   * the Cached state is sent only once the value is in hand, so a run is
   * never reported Cached with a value it could not get. An unreadable value
   * falls back to running the task.
   */
  async #cached(task: ActiveTask, read: () => Promise<Result>, message: string): Promise<{ value: unknown } | undefined> {
    let result: Result
    try {
      result = await read()
    } catch (err) {
      warn(`the cached result of task ${JSON.stringify(task.def.name)} could not be read (${codeOf(err)}); running the task`)
      return undefined
    }
    this.#hit(task, result, message)
    return { value: result.value }
  }

  #hit(task: ActiveTask, result: Result | undefined, message: string): void {
    task.summary.result = result
    this.#state(task, 'Cached', { message, result })
  }

  async #writeCache(task: ActiveTask, lookup: CacheLookup, value: unknown, written: Result | undefined): Promise<void> {
    const location = written?.location
    // A shared store takes references only; with nothing written there is nothing to share.
    if (lookup.store.shared && location === undefined) return
    const now = Date.now()
    const forMs = (task.def.cache as { forMs: number }).forMs
    const entry: CacheEntry = {
      v: 1,
      key: lookup.key,
      variant: lookup.variant,
      writtenAt: new Date(now).toISOString(),
      expiresAt: new Date(Math.min(now + forMs, 8.64e15)).toISOString(),
      ...(written !== undefined && location !== undefined ? { result: { type: written.type, location } } : { value }),
    }
    try {
      await lookup.store.set(entry)
    } catch (err) {
      warn(`the cache entry of task ${JSON.stringify(task.def.name)} could not be written (${codeOf(err)})`)
    }
  }
}

/**
 * The inputs by name: the properties of a single plain-object argument, or
 * the arguments by position.
 */
function namedInputs(args: readonly unknown[]): Readonly<Record<string, unknown>> {
  if (args.length === 1) {
    const only = args[0]
    if (typeof only === 'object' && only !== null && !Array.isArray(only)) {
      const proto = Object.getPrototypeOf(only) as unknown
      if (proto === Object.prototype || proto === null) return only as Record<string, unknown>
    }
  }
  const named: Record<string, unknown> = {}
  for (let i = 0; i < args.length; i++) named[i] = args[i]
  return named
}

// The inputs go where the value would, with the run id (or, failing that,
// the task name) marked, so they never overwrite the value or a target.
function inputsContext(result: Result, context: TemplateContext, taskName: string): TemplateContext {
  if (result.inline) return context
  const valueLocation = result.format(context)
  const byRunId = { ...context, taskRunId: `${String(context.taskRunId)}-inputs` }
  if (result.format(byRunId) !== valueLocation) return byRunId
  const byName = { ...context, taskName: `${taskName}.inputs` }
  if (result.format(byName) !== valueLocation) return byName
  throw new InvalidArgumentError('a task result location uses neither {taskRunId} nor {taskName}, so the inputs would overwrite the value', {
    taskName,
  })
}

// Async, so a function that throws synchronously rejects like one that throws after an await.
async function callBody(fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[]): Promise<unknown> {
  return await fn.apply(thisArg, args)
}

function abortForTimeout(controller: AbortController, def: TaskDefinition, attempt: number): void {
  controller.abort(new TaskTimeoutError(`task attempt ${attempt} ran longer than its timeout of ${def.timeoutMs} ms`, { taskName: def.name }))
}

function closedFor(def: TaskDefinition): ClosedError {
  return new ClosedError('Airlock is closed; no task can run after close()', { taskName: def.name })
}

/** What a Queued state says: how many limits the run waits on, never which (tags and keys are names). */
function queuedMessage(limits: number): string {
  return `waiting for a free slot of ${limits} concurrency ${limits === 1 ? 'limit' : 'limits'}`
}

/** The body's outcome, or the signal's reason as soon as it aborts; a late body rejection is absorbed (settling twice is a no-op). */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    pending.catch(noop)
    return Promise.reject(signal.reason as Error)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    const done = (): void => signal.removeEventListener('abort', onAbort)
    pending.then(done, done)
    pending.then(resolve, reject)
  })
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(signal.reason as Error)
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason as Error)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function codeOf(err: unknown): string {
  if (err instanceof AirlockError) return err.code
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : ((err as Error | null)?.name ?? 'error')
}

// Local only: the task name and an error code, never a location or a value.
function warn(message: string): void {
  process.emitWarning(`airlock: ${message}`, { code: RUNTIME_WARNING_CODE })
}
