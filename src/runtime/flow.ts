import type { RunState } from '../boundary/events.js'
import { InvalidArgumentError, TaskCancelledError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { Result } from '../results/result.js'
import { frames, type TaskRunSummary } from './run-context.js'
import type { TaskRunner } from './task-runner.js'

/**
 * Options of `airlock.flow(name, fn, options)`.
 *
 * @example
 * ```ts
 * const options: FlowOptions = { tags: ['nightly'], result: new LocalResult({ dir: 'results', location: '{flowName}/{taskName}/{taskRunId}.json' }) }
 * ```
 */
export interface FlowOptions {
  /** The result of every task of the flow that has none of its own. */
  readonly result?: Result
  /** Sent with the flow run's Pending state. */
  readonly tags?: readonly string[]
}

/**
 * Options of one `flow.run(parameters, options)`.
 *
 * @example
 * ```ts
 * const controller = new AbortController()
 * const running = etl.run({ day }, { signal: controller.signal })
 * controller.abort()   // tasks see currentTask().signal abort; the run resolves Cancelled
 * ```
 */
export interface FlowRunOptions {
  /** Cancels the run: running tasks' signals abort, no new task starts, and the run ends Cancelled. */
  readonly signal?: AbortSignal
}

/**
 * How a flow run ended. The value stays here, in your process: what the
 * control plane saw is only states, parameters (under the policy) and
 * result references.
 *
 * @example
 * ```ts
 * const run = await etl.run({ x: 21 })
 * if (run.state === 'Success') use(run.value)
 * else console.error(run.state, run.error)
 * ```
 */
export type FlowRun<R> =
  | {
      readonly state: 'Success'
      readonly value: R
      readonly flowRunId: string
      readonly taskRuns: readonly TaskRunSummary[]
      readonly error?: undefined
    }
  | {
      readonly state: Exclude<RunState, 'Success'>
      readonly value: undefined
      readonly flowRunId: string
      readonly taskRuns: readonly TaskRunSummary[]
      /** What the flow function threw (a `TaskCancelledError` when cancelled). Local only. */
      readonly error: unknown
    }

/**
 * A flow: a named async function whose runs are recorded. Made by
 * `airlock.flow(name, fn, options)`.
 *
 * @example
 * ```ts
 * const etl = airlock.flow('etl', async ({ x }: { x: number }) => double(x))
 * const run = await etl.run({ x: 21 })   // { state: 'Success', value: 42, flowRunId, taskRuns }
 * ```
 */
export interface Flow<P extends Record<string, unknown>, R> {
  readonly name: string
  /**
   * Runs the flow: a new flow run id; the parameters are emitted on the
   * `parameters` channel (so the policy's rules apply); the flow run's
   * states are emitted (Pending, Running, then Success, Failed or
   * Cancelled); `fn` runs with the parameters, and tasks it calls join the
   * run through AsyncLocalStorage. Resolves once every event of the run is
   * ledgered and sent. A run that fails *resolves*, with state `Failed`.
   *
   * @throws {InvalidArgumentError} (as a rejection) when the parameters are not a plain object.
   * @throws {ClosedError} (as a rejection) after `airlock.close()`.
   */
  run(...args: Partial<P> extends P ? [parameters?: P, options?: FlowRunOptions] : [parameters: P, options?: FlowRunOptions]): Promise<FlowRun<R>>
}

/** A flow's definition, checked. Internal to src/runtime. */
interface FlowDefinition {
  readonly name: string
  readonly fn: (parameters: Record<string, unknown>) => unknown
  readonly result: Result | undefined
  readonly tags: string[] | undefined
}

/**
 * Checks a flow's name, function and options, and builds the {@link Flow}.
 * Internal to src/runtime.
 *
 * @throws {InvalidArgumentError} for a wrong type or an unknown option.
 */
export function defineFlow<P extends Record<string, unknown>, R>(
  runner: TaskRunner,
  name: unknown,
  fn: unknown,
  options: FlowOptions | undefined,
): Flow<P, R> {
  if (typeof name !== 'string' || name === '' || name.length > 500) {
    throw new InvalidArgumentError(`airlock.flow needs a name of 1 to 500 characters, found ${describeType(name)}`)
  }
  // A flow may be defined inside another's run, where an error is that run's failure: the name stays off the message.
  const subject = { flowName: name }
  if (typeof fn !== 'function') throw new InvalidArgumentError(`airlock.flow needs a function, found ${describeType(fn)}`, subject)
  const given = options ?? {}
  assertKnownOptions('airlock.flow', given, ['result', 'tags'])
  if (given.result !== undefined && !(given.result instanceof Result)) {
    throw new InvalidArgumentError(`flow result must be a Result, found ${describeType(given.result)}`, subject)
  }
  const tags: unknown = given.tags
  if (tags !== undefined && (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t === '' || t.length > 200))) {
    throw new InvalidArgumentError('flow tags must be an array of non-empty strings (at most 200 characters each)', subject)
  }
  const definition: FlowDefinition = {
    name,
    fn: fn as FlowDefinition['fn'],
    result: given.result,
    tags: tags === undefined ? undefined : [...(tags as string[])],
  }
  return {
    name,
    run: (parameters?: P, runOptions?: FlowRunOptions) => runFlow(runner, definition, parameters, runOptions) as Promise<FlowRun<R>>,
  }
}

async function runFlow(
  runner: TaskRunner,
  flow: FlowDefinition,
  parameters: Record<string, unknown> | undefined,
  options: FlowRunOptions | undefined,
): Promise<FlowRun<unknown>> {
  runner.assertOpen()
  const params = parameters ?? {}
  const subject = { flowName: flow.name }
  if (!isPlainObject(params)) {
    throw new InvalidArgumentError(`flow.run needs its parameters as a plain object, found ${describeType(params)}`, subject)
  }
  const userSignal = options?.signal
  if (userSignal !== undefined && !(userSignal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`flow.run options.signal must be an AbortSignal, found ${describeType(userSignal)}`, subject)
  }
  // The run's own signal carries a TaskCancelledError, whatever the caller aborted with:
  // that reason goes out in Cancelled states, and a caller's reason could hold anything.
  // Its message names no flow (names may be hashed on the wire); `flowName` does, locally.
  const cancel = new AbortController()
  const onAbort = (): void => cancel.abort(new TaskCancelledError('the flow run was cancelled', subject))
  if (userSignal?.aborted === true) onAbort()
  else userSignal?.addEventListener('abort', onAbort, { once: true })

  const run = runner.newRun({ name: flow.name, parameters: params, result: flow.result, signal: cancel.signal })
  const base = { runId: run.runId, flowName: flow.name } as const
  runner.record(run, { kind: 'parameters', ...base, parameters: params })
  runner.record(run, { kind: 'flow-run-state', ...base, state: 'Pending', tags: flow.tags })
  let outcome: { state: 'Success'; value: unknown } | { state: Exclude<RunState, 'Success'>; error: unknown }
  try {
    if (cancel.signal.aborted) throw cancel.signal.reason
    runner.record(run, { kind: 'flow-run-state', ...base, state: 'Running' })
    const value: unknown = await frames.run({ run, task: undefined }, flow.fn, params)
    outcome = { state: 'Success', value }
  } catch (error) {
    outcome = { state: cancel.signal.aborted ? 'Cancelled' : 'Failed', error }
  } finally {
    userSignal?.removeEventListener('abort', onAbort)
  }
  if (outcome.state === 'Success') {
    runner.record(run, { kind: 'flow-run-state', ...base, state: 'Success' })
  } else {
    // A cancelled run reports its TaskCancelledError, not whatever the function made of the abort.
    const error: unknown = outcome.state === 'Cancelled' ? cancel.signal.reason : outcome.error
    runner.record(run, { kind: 'flow-run-state', ...base, state: outcome.state, error })
  }
  await runner.settle(run)
  const common = { flowRunId: run.runId, taskRuns: run.taskRuns }
  return outcome.state === 'Success'
    ? { state: 'Success', value: outcome.value, ...common }
    : { state: outcome.state, value: undefined, error: outcome.error, ...common }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}
