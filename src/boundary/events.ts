import { z } from 'zod'
import { logLevelSchema } from '../policy/schema.js'

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
 */

const common = {
  v: z.literal(1),
  id: z.uuid(),
  runId: z.string().min(1),
  time: z.iso.datetime(),
  policyHash: z.string().min(1),
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
 */
export const resultReferenceSchema = z
  .object({
    type: z.string().min(1),
    location: z.string(),
  })
  .catchall(z.union([z.string(), z.number(), z.boolean()]))

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

const failureCauseSchema: z.ZodType<FailureCause> = z.lazy(() =>
  z.strictObject({
    type: z.string(),
    code: z.string().optional(),
    message: z.string().optional(),
    stack: z.string().optional(),
    causes: z.array(failureCauseSchema).optional(),
  }),
)

/**
 * A failure as it may leave, built by `scrubError` under the policy's
 * `exceptions` mode: `fingerprint` and `token` appear only in their modes.
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

/** A flow run changed state. */
export const flowRunStateEventSchema = z.strictObject({
  ...common,
  kind: z.literal('flow-run-state'),
  flowName: z.string(),
  state: stateSchema,
  message: z.string().optional(),
  failure: failureSchema.optional(),
  tags: z.array(z.string()).optional(),
})

/** A task run changed state. */
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

/** A log record, after path redaction and scrubbing. */
export const logEventSchema = z.strictObject({
  ...common,
  kind: z.literal('log'),
  level: logLevelSchema,
  msg: z.string(),
  fields: z.record(z.string(), z.unknown()).optional(),
  taskRunId: z.string().optional(),
  truncated: z.boolean().optional(),
})

/** A flow run's parameters, after the policy's per-key rules. */
export const parametersEventSchema = z.strictObject({
  ...common,
  kind: z.literal('parameters'),
  flowName: z.string(),
  parameters: z.record(z.string(), z.unknown()),
})

/**
 * What replaces an event whose policy, scrubbing or serialization threw
 * (docs/design.md, invariant 2). It names the channel and the reason class and
 * carries no payload.
 */
export const withheldEventSchema = z.strictObject({
  ...common,
  kind: z.literal('withheld'),
  channel: z.string(),
  reason: z.string(),
})

/**
 * A signed head of the ledger, sent so the control plane witnesses every
 * head the ledger had: the ledger's `origin`, the entries its Merkle tree
 * covers (`treeSize`), the RFC 9162 root (`rootHash`, hex) and the C2SP
 * signed note that says all three (`checkpoint`). No event content: the
 * control plane learns how many entries the ledger had, nothing of them.
 * `runId` is always `ledger`.
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
 * Every outbound event, discriminated by `kind`.
 *
 * @example
 * ```ts
 * // a control plane receiving the HTTP wire format, {"v":1,"batch":[...]}:
 * for (const event of body.batch) outboundEventSchema.parse(event)   // strict: an unknown member fails
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
 * One event as it goes over the wire.
 *
 * @example
 * ```ts
 * import type { OutboundEvent } from 'airlock-sdk'
 *
 * const states = controlPlane.events.filter((e: OutboundEvent) => e.kind === 'task-run-state')
 * ```
 */
export type OutboundEvent = z.infer<typeof outboundEventSchema>
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
/**
 * A flow-run state event.
 *
 * @example
 * ```ts
 * const flowStates = controlPlane.events.filter((e): e is FlowRunStateEvent => e.kind === 'flow-run-state')
 * flowStates.map((e) => e.state)   // ['Pending', 'Running', 'Success'] for one run that succeeded
 * ```
 */
export type FlowRunStateEvent = z.infer<typeof flowRunStateEventSchema>
/**
 * A task-run state event.
 *
 * @example
 * ```ts
 * const failed = controlPlane.events.filter((e): e is TaskRunStateEvent => e.kind === 'task-run-state' && e.state === 'Failed')
 * failed.map((e) => [e.taskName, e.attempt, e.failure?.type])
 * ```
 */
export type TaskRunStateEvent = z.infer<typeof taskRunStateEventSchema>
/**
 * A log event.
 *
 * @example
 * ```ts
 * const logs = controlPlane.events.filter((e): e is LogEvent => e.kind === 'log')
 * logs.map((e) => e.fields)   // scrubbed: [{ user: '[REDACTED:email]' }, ...]
 * ```
 */
export type LogEvent = z.infer<typeof logEventSchema>
/**
 * A parameters event.
 *
 * @example
 * ```ts
 * const sent = controlPlane.events.find((e): e is ParametersEvent => e.kind === 'parameters')
 * sent?.parameters   // after the per-key rules: { region: 'eu', email: '[REDACTED:email]' }
 * ```
 */
export type ParametersEvent = z.infer<typeof parametersEventSchema>
/**
 * A withheld event.
 *
 * @example
 * ```ts
 * const withheld = controlPlane.events.filter((e): e is WithheldEvent => e.kind === 'withheld')
 * withheld.map((e) => `${e.channel}: ${e.reason}`)   // ['logs: policy:ERR_…']: a stage and a code, never the payload
 * ```
 */
export type WithheldEvent = z.infer<typeof withheldEventSchema>
/**
 * A result reference carried by a state.
 *
 * @example
 * ```ts
 * const reference: ResultReference | undefined = taskEvent.result   // { type: 'local', location: 'alk1.…' }
 * ```
 */
export type ResultReference = z.infer<typeof resultReferenceSchema>
/**
 * A failure carried by a Failed state.
 *
 * @example
 * ```ts
 * const failure: Failure | undefined = taskEvent.failure   // under strict: { type: 'PgError', code: '28P01' }
 * ```
 */
export type Failure = z.infer<typeof failureSchema>
