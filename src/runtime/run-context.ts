import { AsyncLocalStorage } from 'node:async_hooks'
import type { RunState } from '../boundary/events.js'
import type { Result } from '../results/result.js'
import type { PendingEmits } from './pending-emits.js'

/**
 * What a running task can learn about itself, from {@link currentTask}.
 *
 * @example
 * ```ts
 * const load = airlock.task(async (url: string) => {
 *   const { signal, attempt } = currentTask()!
 *   return fetch(url, { signal })   // aborted on timeout or cancellation
 * }, { name: 'load', timeout: '30s', retries: 2 })
 * ```
 */
export interface TaskRunContext {
  /** The id of this task run; the same across its retries. */
  readonly taskRunId: string
  readonly taskName: string
  /** The run the task belongs to: the flow run, or its own one-task run. */
  readonly runId: string
  /** Undefined for a task called outside any flow. */
  readonly flowName: string | undefined
  /** Undefined for a task called outside any flow. */
  readonly flowRunId: string | undefined
  /** The position in a `task.map(items)`; undefined otherwise. */
  readonly mapIndex: number | undefined
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number
  /**
   * Aborted when the attempt times out (reason: a `TaskTimeoutError`) or the
   * flow run is cancelled (reason: a `TaskCancelledError`). JavaScript cannot
   * stop a function from outside: pass this signal to whatever can be
   * aborted (fetch, streams, child processes, database drivers).
   */
  readonly signal: AbortSignal
  /** The flow run's parameters; `{}` outside a flow. */
  readonly parameters: Readonly<Record<string, unknown>>
}

/**
 * One task run of a flow run, as `flow.run()` reports it.
 *
 * @example
 * ```ts
 * const run = await etl.run({ day: '2026-11-21' })
 * for (const t of run.taskRuns) console.log(t.taskName, t.state, t.attempts, t.result?.location)
 * ```
 */
export interface TaskRunSummary {
  readonly taskRunId: string
  readonly taskName: string
  readonly mapIndex: number | undefined
  /** The last state. */
  readonly state: RunState
  /** Attempts made: 0 when the run was Cached or never started. */
  readonly attempts: number
  /** The written (or, when Cached, read) result; it holds the value, here, locally. */
  readonly result: Result | undefined
}

/** A task run's summary while it runs. Internal to src/runtime. */
export type MutableTaskRunSummary = { -readonly [K in keyof TaskRunSummary]: TaskRunSummary[K] }

/** One flow run, or the one-task run of a task called outside any flow. Internal to src/runtime. */
export interface RunFrame {
  /** The Airlock that owns the run: a task of another Airlock starts its own run. */
  readonly owner: object
  readonly runId: string
  readonly flowName: string | undefined
  readonly flowRunId: string | undefined
  readonly parameters: Readonly<Record<string, unknown>>
  /** The flow's result, used by tasks that have none. */
  readonly result: Result | undefined
  /** Aborted when the run is cancelled. */
  readonly signal: AbortSignal | undefined
  readonly taskRuns: MutableTaskRunSummary[]
  /** The run's events still on their way through `emit`. */
  readonly emits: PendingEmits
}

/** What AsyncLocalStorage carries: the run, and the task being run, if any. Internal to src/runtime. */
export interface Frame {
  readonly run: RunFrame
  readonly task: TaskRunContext | undefined
}

/** The run context of every Airlock: tasks find their flow run here, with no context passed by hand. Internal to src/runtime. */
export const frames = new AsyncLocalStorage<Frame>()

/**
 * The task run the calling code belongs to, or `undefined` outside a task.
 * This is how a wrapped function reaches its `AbortSignal` without a change
 * to its arguments.
 *
 * @example
 * ```ts
 * import { currentTask } from 'airlock-sdk'
 *
 * async function download(url: string) {
 *   return fetch(url, { signal: currentTask()?.signal })   // works wrapped or bare
 * }
 * const task = airlock.task(download, { name: 'download', timeout: '1m' })
 * ```
 */
export function currentTask(): TaskRunContext | undefined {
  return frames.getStore()?.task
}
