import { z } from 'zod'
import type { AssertTypesMatch, TypesMatch } from '../internal/types-match.js'
import { MAX_CAUSE_DEPTH, logLevelSchema, type LogLevel } from '../policy/schema.js'

/**
 * The outbound event wire format, version 1. Every event the control plane
 * receives has exactly one of these shapes, and nothing else: the schemas are
 * strict, so a field the boundary did not put there cannot ride along.
 *
 * Common members:
 * - `v`: format version (1);
 * - `id`: a UUID, unique per event; the ledger and the transport key on it;
 * - `kind`: which shape;
 * - `runId`: the flow run the event belongs to (a lone task is its own run);
 * - `time`: ISO-8601 UTC;
 * - `policyHash`: the hash of the policy that produced the event.
 *
 * Each shape is a plain TypeScript type, which the published declarations
 * show, beside the zod schema that checks it at run time; the schemas are
 * internal (left out of the declarations), and a `TypesMatch` check fails
 * the build if a type and its schema ever differ.
 */

const common = {
  v: z.literal(1),
  id: z.uuid(),
  runId: z.string().min(1),
  time: z.iso.datetime(),
  policyHash: z.string().min(1),
}

/** The members every outbound event has. */
interface OutboundEventCommon {
  /** The format version. */
  v: 1
  /** A UUID, unique per event; the ledger and the transport key on it. */
  id: string
  /** The flow run the event belongs to (a lone task is its own run). */
  runId: string
  /** ISO 8601, UTC. */
  time: string
  /** The hash of the policy that produced the event. */
  policyHash: string
}

/**
 * The run states of docs/design.md, in no particular order.
 *
 * @example
 * ```ts
 * const perState = Object.fromEntries(RUN_STATES.map((state) => [state, 0]))   // { Pending: 0, Running: 0, ... }
 * ```
 */
export const RUN_STATES = [
  'Pending',
  'Running',
  'Retrying',
  'Queued',
  'Cached',
  'Success',
  'Failed',
  'TimedOut',
  'Cancelled',
] as const

/**
 * One run state name.
 *
 * @example
 * ```ts
 * const state: RunState = (await etl.run({ day: '2026-11-21' })).state   // 'Success', 'Failed', 'Cancelled', ...
 * ```
 */
export type RunState = (typeof RUN_STATES)[number]

const stateSchema = z.enum(RUN_STATES)

/**
 * What a state says of a persisted result: its `toJSON()`, i.e. the type, the
 * location (an `alk1.` token under the default policy) and backend
 * identifiers such as the bucket. Never the value.
 *
 * @internal
 */
export const resultReferenceSchema = z
  .object({
    type: z.string().min(1),
    location: z.string(),
  })
  .catchall(z.union([z.string(), z.number(), z.boolean()]))

/**
 * What a state says of a persisted result: its `toJSON()`, i.e. the type, the
 * location (an `alk1.` token under the default policy) and backend
 * identifiers such as the bucket. Never the value.
 *
 * @example
 * ```ts
 * const reference: ResultReference | undefined = taskEvent.result   // { type: 'local', location: 'alk1.…' }
 * ```
 */
export interface ResultReference {
  /** The kind of `Result`, e.g. `local`, `s3`. */
  type: string
  /** Where the value is: an `alk1.` token unless the policy sends locations plain. */
  location: string
  /** Backend identifiers such as the bucket. */
  [member: string]: string | number | boolean
}
type _ResultReferenceMatches = AssertTypesMatch<TypesMatch<ResultReference, z.infer<typeof resultReferenceSchema>>>

/**
 * One error of a failure's cause chain, as it may leave.
 *
 * @example
 * ```ts
 * for (const cause of failure?.causes ?? []) console.log(cause.type, cause.code)   // each a FailureCause
 * ```
 */
export interface FailureCause {
  type: string
  code?: string
  message?: string
  stack?: string
  causes?: FailureCause[]
}

// A cause chain nests at most `exceptions.maxCauseDepth` levels, and a
// policy sets that to at most MAX_CAUSE_DEPTH: the schema is written out to
// that depth rather than made recursive (z.lazy). A recursive schema is
// checked through a memo of every object it meets, on every event; this one
// has no cycle, and a deeper chain is refused like any other wrong shape.
function causeSchema(depth: number): z.ZodType<FailureCause> {
  const members = {
    type: z.string(),
    code: z.string().optional(),
    message: z.string().optional(),
    stack: z.string().optional(),
  }
  if (depth >= MAX_CAUSE_DEPTH) return z.strictObject(members)
  return z.strictObject({ ...members, causes: z.array(causeSchema(depth + 1)).optional() })
}

const failureCauseSchema = causeSchema(1)

/**
 * A failure as it may leave, built by `scrubError` under the policy's
 * `exceptions` mode: `fingerprint` and `token` appear only in their modes.
 *
 * @internal
 */
export const failureSchema = z.strictObject({
  type: z.string(),
  code: z.string().optional(),
  message: z.string().optional(),
  stack: z.string().optional(),
  causes: z.array(failureCauseSchema).optional(),
  fingerprint: z.string().optional(),
  token: z.string().optional(),
})

/**
 * A failure carried by a Failed state, as it may leave: built by
 * `scrubError` under the policy's `exceptions` mode, so `fingerprint` and
 * `token` appear only in their modes, and `message` and `stack` only where
 * the mode keeps them.
 *
 * @example
 * ```ts
 * const failure: Failure | undefined = taskEvent.failure   // under strict: { type: 'PgError', code: '28P01' }
 * ```
 */
export interface Failure {
  /** The error's class name. */
  type: string
  /** The error's `code`, when it has one. */
  code?: string | undefined
  message?: string | undefined
  stack?: string | undefined
  /** The cause chain (and `AggregateError.errors`), as deep as `exceptions.maxCauseDepth`. */
  causes?: FailureCause[] | undefined
  /** `fingerprint` mode: a keyed hash of the error. */
  fingerprint?: string | undefined
  /** `encrypted` mode: a JWE of the whole error. */
  token?: string | undefined
}
type _FailureMatches = AssertTypesMatch<TypesMatch<Failure, z.infer<typeof failureSchema>>>

/** A flow run changed state. @internal */
export const flowRunStateEventSchema = z.strictObject({
  ...common,
  kind: z.literal('flow-run-state'),
  flowName: z.string(),
  state: stateSchema,
  message: z.string().optional(),
  failure: failureSchema.optional(),
  tags: z.array(z.string()).optional(),
})

/**
 * A flow run changed state.
 *
 * @example
 * ```ts
 * const flowStates = controlPlane.events.filter((e): e is FlowRunStateEvent => e.kind === 'flow-run-state')
 * flowStates.map((e) => e.state)   // ['Pending', 'Running', 'Success'] for one run that succeeded
 * ```
 */
export interface FlowRunStateEvent extends OutboundEventCommon {
  kind: 'flow-run-state'
  flowName: string
  state: RunState
  message?: string | undefined
  failure?: Failure | undefined
  tags?: string[] | undefined
}
type _FlowRunStateEventMatches = AssertTypesMatch<TypesMatch<FlowRunStateEvent, z.infer<typeof flowRunStateEventSchema>>>

/** A task run changed state. @internal */
export const taskRunStateEventSchema = z.strictObject({
  ...common,
  kind: z.literal('task-run-state'),
  flowName: z.string().optional(),
  taskName: z.string(),
  taskRunId: z.string().min(1),
  state: stateSchema,
  attempt: z.number().int().min(1).optional(),
  mapIndex: z.number().int().min(0).optional(),
  message: z.string().optional(),
  failure: failureSchema.optional(),
  result: resultReferenceSchema.optional(),
  tags: z.array(z.string()).optional(),
})

/**
 * A task run changed state.
 *
 * @example
 * ```ts
 * const failed = controlPlane.events.filter((e): e is TaskRunStateEvent => e.kind === 'task-run-state' && e.state === 'Failed')
 * failed.map((e) => [e.taskName, e.attempt, e.failure?.type])
 * ```
 */
export interface TaskRunStateEvent extends OutboundEventCommon {
  kind: 'task-run-state'
  flowName?: string | undefined
  taskName: string
  taskRunId: string
  state: RunState
  /** 1 for the first try, 2 for the first retry, and so on. */
  attempt?: number | undefined
  /** The item's index, for a task run by `map`. */
  mapIndex?: number | undefined
  message?: string | undefined
  failure?: Failure | undefined
  /** The persisted result, by reference: never the value. */
  result?: ResultReference | undefined
  tags?: string[] | undefined
}
type _TaskRunStateEventMatches = AssertTypesMatch<TypesMatch<TaskRunStateEvent, z.infer<typeof taskRunStateEventSchema>>>

/** A log record, after path redaction and scrubbing. @internal */
export const logEventSchema = z.strictObject({
  ...common,
  kind: z.literal('log'),
  level: logLevelSchema,
  msg: z.string(),
  fields: z.record(z.string(), z.unknown()).optional(),
  taskRunId: z.string().optional(),
  truncated: z.boolean().optional(),
})

/**
 * A log record, after path redaction and scrubbing.
 *
 * @example
 * ```ts
 * const logs = controlPlane.events.filter((e): e is LogEvent => e.kind === 'log')
 * logs.map((e) => e.fields)   // scrubbed: [{ user: '[REDACTED:email]' }, ...]
 * ```
 */
export interface LogEvent extends OutboundEventCommon {
  kind: 'log'
  level: LogLevel
  msg: string
  /** The record's other fields, scrubbed. */
  fields?: Record<string, unknown> | undefined
  taskRunId?: string | undefined
  /** The record was cut to `logs.maxRecordBytes`. */
  truncated?: boolean | undefined
}
type _LogEventMatches = AssertTypesMatch<TypesMatch<LogEvent, z.infer<typeof logEventSchema>>>

/** A flow run's parameters, after the policy's per-key rules. @internal */
export const parametersEventSchema = z.strictObject({
  ...common,
  kind: z.literal('parameters'),
  flowName: z.string(),
  parameters: z.record(z.string(), z.unknown()),
})

/**
 * A flow run's parameters, after the policy's per-key rules.
 *
 * @example
 * ```ts
 * const sent = controlPlane.events.find((e): e is ParametersEvent => e.kind === 'parameters')
 * sent?.parameters   // after the per-key rules: { region: 'eu', email: '[REDACTED:email]' }
 * ```
 */
export interface ParametersEvent extends OutboundEventCommon {
  kind: 'parameters'
  flowName: string
  parameters: Record<string, unknown>
}
type _ParametersEventMatches = AssertTypesMatch<TypesMatch<ParametersEvent, z.infer<typeof parametersEventSchema>>>

/**
 * What replaces an event whose policy, scrubbing or serialization threw
 * (docs/design.md, invariant 2). It names the channel and the reason class and
 * carries no payload.
 *
 * @internal
 */
export const withheldEventSchema = z.strictObject({
  ...common,
  kind: z.literal('withheld'),
  channel: z.string(),
  reason: z.string(),
})

/**
 * What replaces an event whose policy, scrubbing or serialization threw
 * (fail closed): it names the channel and the reason class and carries no
 * payload.
 *
 * @example
 * ```ts
 * const withheld = controlPlane.events.filter((e): e is WithheldEvent => e.kind === 'withheld')
 * withheld.map((e) => `${e.channel}: ${e.reason}`)   // ['logs: policy:ERR_…']: a stage and a code, never the payload
 * ```
 */
export interface WithheldEvent extends OutboundEventCommon {
  kind: 'withheld'
  /** The channel of the event withheld. */
  channel: string
  /** The stage that threw and the error's class or code, e.g. `policy:ERR_…`. */
  reason: string
}
type _WithheldEventMatches = AssertTypesMatch<TypesMatch<WithheldEvent, z.infer<typeof withheldEventSchema>>>

/**
 * A signed head of the ledger, sent so the control plane witnesses every
 * head the ledger had: the ledger's `origin`, the entries its Merkle tree
 * covers (`treeSize`), the RFC 9162 root (`rootHash`, hex) and the C2SP
 * signed note that says all three (`checkpoint`). No event content: the
 * control plane learns how many entries the ledger had, nothing of them.
 * `runId` is always `ledger`.
 *
 * @internal
 */
export const ledgerCheckpointEventSchema = z.strictObject({
  ...common,
  kind: z.literal('ledger-checkpoint'),
  origin: z.string().min(1),
  treeSize: z.number().int().min(1),
  rootHash: z.string().regex(/^[0-9a-f]{64}$/),
  checkpoint: z.string().min(1),
})

/**
 * A signed head of the ledger, sent so the control plane witnesses every
 * head the ledger had. No event content: the control plane learns how many
 * entries the ledger had, nothing of them. `runId` is always `ledger`.
 *
 * @example
 * ```ts
 * const heads = controlPlane.events.filter((e): e is LedgerCheckpointEvent => e.kind === 'ledger-checkpoint')
 * heads.map((e) => e.treeSize)   // [1000, 2000, 2417]: grows, never shrinks
 * ```
 */
export interface LedgerCheckpointEvent extends OutboundEventCommon {
  kind: 'ledger-checkpoint'
  /** The ledger's origin, `airlock.ledger/<hash of entry 1>`. */
  origin: string
  /** The entries the Merkle tree covers. */
  treeSize: number
  /** The RFC 9162 root, 64 lowercase hex digits. */
  rootHash: string
  /** The C2SP signed note that says all three. */
  checkpoint: string
}
type _LedgerCheckpointEventMatches = AssertTypesMatch<TypesMatch<LedgerCheckpointEvent, z.infer<typeof ledgerCheckpointEventSchema>>>

/**
 * Every outbound event, discriminated by `kind`: strict, so an unknown
 * member fails.
 *
 * @internal
 * @example
 * ```ts
 * outboundEventSchema.parse(event)
 * ```
 */
export const outboundEventSchema = z.discriminatedUnion('kind', [
  flowRunStateEventSchema,
  taskRunStateEventSchema,
  logEventSchema,
  parametersEventSchema,
  withheldEventSchema,
  ledgerCheckpointEventSchema,
])

/**
 * One event as it goes over the wire, discriminated by `kind`.
 *
 * @example
 * ```ts
 * import type { OutboundEvent } from 'airlock-sdk'
 *
 * const states = controlPlane.events.filter((e: OutboundEvent) => e.kind === 'task-run-state')
 * ```
 */
export type OutboundEvent =
  | FlowRunStateEvent
  | TaskRunStateEvent
  | LogEvent
  | ParametersEvent
  | WithheldEvent
  | LedgerCheckpointEvent
type _OutboundEventMatches = AssertTypesMatch<TypesMatch<OutboundEvent, z.infer<typeof outboundEventSchema>>>

// zod's generated code for the same schema, built once: the boundary checks every event it sends.
const compiledOutboundEventSchema = z.compile(outboundEventSchema)

/**
 * Whether `value` matches {@link outboundEventSchema}: the strict wire
 * schema, through zod's compiled form of it (the same rules; the boundary
 * checks every event it sends).
 *
 * @internal
 * @example
 * ```ts
 * if (!isOutboundEvent(event)) throw new EventInvalidError('an outbound event does not match the wire schema')
 * ```
 */
export function isOutboundEvent(value: unknown): value is OutboundEvent {
  return compiledOutboundEventSchema.safeParse(value).success
}

/**
 * The `kind` of an outbound event.
 *
 * @example
 * ```ts
 * const perKind: Partial<Record<OutboundEventKind, number>> = {}
 * for (const e of controlPlane.events) perKind[e.kind] = (perKind[e.kind] ?? 0) + 1
 * ```
 */
export type OutboundEventKind = OutboundEvent['kind']
