import { z } from 'zod'
import { EventInvalidError } from '../errors.js'
import type { AssertTypesMatch, TypesMatch } from '../internal/types-match.js'
import { logLevelSchema, type LogLevel } from '../policy/schema.js'
import { isNormalizedObject } from '../scrub/normalize.js'
import type { Scrubber } from '../scrub/scrubber.js'
import { ReferenceNode, type Normalized, type NormalizedObject } from '../scrub/value-nodes.js'
import { RUN_STATES, type RunState } from './events.js'

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

/**
 * One raw event for `Airlock.emit`: what a producer (the runtime, the
 * logger, your code) knows, before the policy. Ids, times and the policy
 * hash are added by the boundary; every field is normalized, then
 * transformed by the policy before anything leaves.
 *
 * `msgFromError` (logs) says the message was taken from an error's
 * `message` (pino does so for `logger.error(err)`): it then obeys the
 * `exceptions` mode, not only scrubbing.
 *
 * @example
 * ```ts
 * await airlock.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running' })
 * await airlock.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId, state: 'Failed', error: err })
 * ```
 */
export type EmitInput =
  | { kind: 'parameters'; runId: string; flowName: string; parameters: Record<string, unknown> }
  | {
      kind: 'flow-run-state'
      runId: string
      flowName: string
      state: RunState
      message?: string | undefined
      error?: unknown
      tags?: string[] | undefined
    }
  | {
      kind: 'task-run-state'
      runId: string
      flowName?: string | undefined
      taskName: string
      taskRunId: string
      state: RunState
      attempt?: number | undefined
      mapIndex?: number | undefined
      message?: string | undefined
      error?: unknown
      result?: ResultLike | undefined
      tags?: string[] | undefined
    }
  | {
      kind: 'log'
      runId: string
      level: LogLevel
      msg: string
      fields?: Record<string, unknown> | undefined
      taskRunId?: string | undefined
      msgFromError?: boolean | undefined
    }

/**
 * The channel an input's event is counted and ledgered under (docs/design.md's table).
 *
 * @example
 * ```ts
 * const channel: Channel = 'logs'
 * const shipped = airlock.stats().events[channel] ?? 0
 * ```
 */
export type Channel = 'parameters' | 'logs' | 'exceptions' | 'locations' | 'inline values' | 'states' | 'payloads' | 'telemetry' | 'ledger'

const runId = z.string().min(1).max(200)
const name = z.string().min(1).max(500)
const state = z.enum(RUN_STATES)
const tags = z.array(z.string().max(200)).max(100).optional()
const normalizedObject = z.custom<NormalizedObject>((v) => isNormalizedObject(v as Normalized), { message: 'expected an object' })
const normalized = z.custom<Normalized>(() => true)
const reference = z.custom<ReferenceNode>((v) => v instanceof ReferenceNode, { message: 'expected a Result (an object with toJSON)' })

// The snapshot is validated, never the raw input: zod would run the caller's getters a second time.
const readInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('parameters'), runId, flowName: name, parameters: normalizedObject }),
  z.strictObject({
    kind: z.literal('flow-run-state'),
    runId,
    flowName: name,
    state,
    message: z.string().optional(),
    error: normalized.optional(),
    tags,
  }),
  z.strictObject({
    kind: z.literal('task-run-state'),
    runId,
    flowName: name.optional(),
    taskName: name,
    taskRunId: runId,
    state,
    attempt: z.number().int().min(1).optional(),
    mapIndex: z.number().int().min(0).optional(),
    message: z.string().optional(),
    error: normalized.optional(),
    result: reference.optional(),
    tags,
  }),
  z.strictObject({
    kind: z.literal('log'),
    runId,
    level: logLevelSchema,
    msg: z.string(),
    fields: normalizedObject.optional(),
    taskRunId: runId.optional(),
    msgFromError: z.boolean().optional(),
  }),
])

/**
 * An emit input after it was read once and normalized: every payload is in
 * the one value model (see `Normalizer`), nothing is scrubbed yet.
 *
 * @example
 * ```ts
 * const read = readEmitInput(raw, scrubber)
 * if (read.input !== undefined) await applier.apply(read.input, envelope, transforms)
 * ```
 */
export type ReadEmitInput = Read<EmitInput>

/** What reading makes of the members that carry values: normalized data, and a reference for a result. */
interface ReadForms {
  parameters: NormalizedObject
  fields: NormalizedObject
  error: Normalized
  result: ReferenceNode
}

// Each member of each input as read: the value members in their read form (optional ones may be undefined, as zod's
// inferred type has them), every other member as it was given.
type Read<T> = T extends unknown
  ? { [K in keyof T]: K extends keyof ReadForms ? ReadForms[K] | (object extends Pick<T, K> ? undefined : never) : T[K] }
  : never
type _ReadEmitInputMatches = AssertTypesMatch<TypesMatch<ReadEmitInput, z.infer<typeof readInputSchema>>>

// zod's generated code for the same schema, built once: every emit is checked.
const compiledReadInputSchema = z.compile(readInputSchema, { strict: true })

/**
 * What {@link readEmitInput} found: the input, or why it is not one, and
 * always the channel a withheld event would name.
 *
 * @example
 * ```ts
 * const { channel, input, problem, runId } = readEmitInput(raw, scrubber)
 * ```
 */
export interface EmitInputReading {
  readonly channel: Channel
  readonly input?: ReadEmitInput
  /** Why the input was refused; its message never quotes the input. */
  readonly problem?: EventInvalidError
  /** The run id as read (unscrubbed, unvalidated), for a withheld event to consider. */
  readonly runId?: unknown
}

const KEYS: Readonly<Record<string, readonly string[]>> = {
  parameters: ['runId', 'flowName', 'parameters'],
  'flow-run-state': ['runId', 'flowName', 'state', 'message', 'error', 'tags'],
  'task-run-state': ['runId', 'flowName', 'taskName', 'taskRunId', 'state', 'attempt', 'mapIndex', 'message', 'error', 'result', 'tags'],
  log: ['runId', 'level', 'msg', 'fields', 'taskRunId', 'msgFromError'],
}

/**
 * Reads a raw emit input exactly once, synchronously, when `emit` is
 * called: each known member is read inside a guard (a getter that throws
 * makes the input refused, never the caller's error escaping), and every
 * object in it is normalized (`Scrubber.normalize`), so the policy works
 * on a snapshot the caller can no longer change and on the one value model.
 * Then the snapshot is validated. Never throws.
 *
 * @example
 * ```ts
 * readEmitInput({ kind: 'log', runId: 'r1', level: 'info', msg: 'hi', fields: { at: new Date(0) } }, scrubber).input
 * // { kind: 'log', runId: 'r1', level: 'info', msg: 'hi', fields: { at: '1970-01-01T00:00:00.000Z' } }
 * ```
 */
export function readEmitInput(raw: unknown, scrubber: Scrubber): EmitInputReading {
  let kind: unknown
  try {
    kind = typeof raw === 'object' && raw !== null ? (raw as { kind?: unknown }).kind : undefined
  } catch {
    return { channel: 'states', problem: new EventInvalidError('an emit input whose kind cannot be read') }
  }
  const channel = channelOf(kind)
  const keys = typeof kind === 'string' && Object.hasOwn(KEYS, kind) ? KEYS[kind]! : undefined
  if (keys === undefined) return { channel, problem: new EventInvalidError('expected an emit input with a known kind') }
  const snapshot: Record<string, unknown> = { kind }
  let runIdRead: unknown
  for (const key of keys) {
    let value: unknown
    try {
      value = (raw as Record<string, unknown>)[key]
    } catch {
      return { channel, runId: runIdRead, problem: new EventInvalidError(`the emit input's ${key} cannot be read`) }
    }
    if (key === 'runId') runIdRead = value
    if (value === undefined) continue
    snapshot[key] = typeof value === 'object' && value !== null ? normalizedMember(key, value, scrubber) : value
  }
  const parsed = compiledReadInputSchema.safeParse(snapshot)
  if (!parsed.success) {
    // Paths and expectations only: zod issues do not quote the input.
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    return { channel, runId: runIdRead, problem: new EventInvalidError(`the emit input is invalid: ${problems.join('; ')}`) }
  }
  return { channel, runId: runIdRead, input: parsed.data }
}

// A `result` is a reference whatever it is: a bare `{ toJSON }` reference counts too.
function normalizedMember(key: string, value: object, scrubber: Scrubber): Normalized {
  const tree = scrubber.normalize(value)
  if (key === 'result' && isNormalizedObject(tree) && typeof tree.type === 'string') return new ReferenceNode(tree, false)
  return tree
}

/**
 * The primary channel of each kind of event. Takes any value, so a withheld
 * event can name the channel of an input that failed validation.
 *
 * @example
 * ```ts
 * channelOf('log')     // 'logs'
 * channelOf(undefined) // 'states'
 * ```
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
