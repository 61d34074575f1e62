import { z } from 'zod'
import { logLevelSchema } from '../policy/schema.js'
import { RUN_STATES } from './events.js'

/**
 * What a producer (the runtime, the logger, your code) hands to
 * `Airlock.emit`: the raw facts, before the policy. Ids, times and the policy
 * hash are added by the boundary; errors, parameters, fields and results are
 * transformed by the policy before anything leaves.
 */

const runId = z.string().min(1).max(200)
const name = z.string().min(1).max(500)
const state = z.enum(RUN_STATES)
const tags = z.array(z.string().max(200)).max(100).optional()

/**
 * Anything with a `toJSON()` giving `{type, location, ...}`: a written
 * `Result`, or such a reference itself. `inline: true` marks a `JSONResult`,
 * whose location is its value.
 *
 * @example
 * ```ts
 * const result: ResultLike = await results.write(rows, { taskName: 'load' })   // any written Result
 * await airlock.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId, state: 'Success', result })
 * ```
 */
export interface ResultLike {
  toJSON(): { type: string; location?: string | undefined; [key: string]: unknown }
  readonly inline?: boolean
}

const resultLike = z.custom<ResultLike>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function',
  { message: 'expected a Result (an object with toJSON)' },
)

export const emitInputSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('parameters'),
    runId,
    flowName: name,
    parameters: z.record(z.string(), z.unknown()),
  }),
  z.object({
    kind: z.literal('flow-run-state'),
    runId,
    flowName: name,
    state,
    message: z.string().optional(),
    error: z.unknown().optional(),
    tags,
  }),
  z.object({
    kind: z.literal('task-run-state'),
    runId,
    flowName: name.optional(),
    taskName: name,
    taskRunId: runId,
    state,
    attempt: z.number().int().min(1).optional(),
    mapIndex: z.number().int().min(0).optional(),
    message: z.string().optional(),
    error: z.unknown().optional(),
    result: resultLike.optional(),
    tags,
  }),
  z.object({
    kind: z.literal('log'),
    runId,
    level: logLevelSchema,
    msg: z.string(),
    fields: z.record(z.string(), z.unknown()).optional(),
    taskRunId: runId.optional(),
  }),
])

/**
 * One raw event for `Airlock.emit`.
 *
 * @example
 * ```ts
 * await airlock.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running' })
 * await airlock.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId, state: 'Failed', error: err })
 * ```
 */
export type EmitInput = z.infer<typeof emitInputSchema>

/**
 * The channel an input's event is counted and ledgered under (DESIGN.md's table).
 *
 * @example
 * ```ts
 * const channel: Channel = 'logs'
 * const shipped = airlock.stats().events[channel] ?? 0
 * ```
 */
export type Channel = 'parameters' | 'logs' | 'exceptions' | 'locations' | 'inline values' | 'states'

/**
 * The primary channel of each kind of event. Takes any value, so a withheld
 * event can name the channel of an input that failed validation.
 */
export function channelOf(kind: unknown): Channel {
  switch (kind) {
    case 'parameters':
      return 'parameters'
    case 'log':
      return 'logs'
    default:
      return 'states'
  }
}
