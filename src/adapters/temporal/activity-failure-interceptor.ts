import { ApplicationFailure, TemporalFailure, ensureApplicationFailure } from '@temporalio/common'
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker'
import { inspect } from 'node:util'
import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import { REDACTED } from '../../crypto/redacted.js'
import { AirlockError } from '../../errors.js'
import type { JsonObject } from '../../internal/canonical-json.js'
import { presentError } from '../shared/present-error.js'
import { APPROVED_FAILURE, WITHHELD_FAILURE_TYPE, type ApprovedFailure } from './failure-converter.js'

/**
 * The activity inbound interceptor `airlockWorkerOptions` installs: an
 * activity's error leaves the worker with readable fields the policy
 * approved. The failure converter itself cannot do this: it runs
 * synchronously and, for workflows, inside a sandbox with no keys.
 *
 * For each level of the cause chain (to `exceptions.maxCauseDepth`) it
 * takes the message `exceptions.mode` lets out (scrubbed, masked, a
 * fingerprint, or none) and the type the names rule lets out, ledgers them
 * under `exceptions` (engine `temporal`), and only then lets the error go on
 * to the failure converter, which keeps the rest (message and stack) in the
 * sealed encoded attributes. If the ledger cannot record, the error goes on
 * with no readable message at all (an application failure's type as the
 * names rule made it); if the policy cannot be applied, as `approveFailure`
 * says.
 *
 * @example
 * ```ts
 * Worker.create({ ..., interceptors: { activity: [() => ({ inbound: new AirlockActivityInbound(airlock) })] } })
 * ```
 */
export class AirlockActivityInbound implements ActivityInboundCallsInterceptor {
  readonly #airlock: AirlockBoundary

  constructor(airlock: AirlockBoundary) {
    this.#airlock = airlock
  }

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input)
    } catch (err) {
      throw await approveFailure(this.#airlock, err)
    }
  }

  toString(): string {
    return `AirlockActivityInbound(${REDACTED})`
  }

  [inspect.custom](): string {
    return this.toString()
  }
}

/**
 * The error Temporal will convert (an `ApplicationFailure` for anything
 * else, as Temporal's worker would make it), with every level of its cause
 * chain carrying what the policy lets be read, ledgered first.
 *
 * Fails closed: if the policy cannot be applied (it throws), or the error
 * cannot be read, nothing of it is readable: every level's message is
 * empty and an application failure's type is {@link WITHHELD_FAILURE_TYPE},
 * ledgered as withheld. The whole error still travels sealed in its
 * encoded attributes. It never rejects.
 *
 * @example
 * ```ts
 * throw await approveFailure(airlock, err)
 * ```
 */
export async function approveFailure(airlock: AirlockBoundary, err: unknown): Promise<Error> {
  let failure: Error
  try {
    failure = err instanceof TemporalFailure ? err : ensureApplicationFailure(err)
  } catch (reason) {
    // Not even Temporal's own reading of it works: a failure of the withheld type alone goes instead.
    return withheld(airlock, ApplicationFailure.create({ message: '', type: WITHHELD_FAILURE_TYPE }), reason)
  }
  try {
    return await approveLevels(airlock, failure)
  } catch (reason) {
    return withheld(airlock, failure, reason)
  }
}

async function approveLevels(airlock: AirlockBoundary, failure: Error): Promise<Error> {
  const levels = levelsOf(failure, airlock.policy.exceptions.maxCauseDepth)
  const approvals: ApprovedFailure[] = []
  const sent: JsonObject[] = []
  const transforms: { path: string; rule: string; action: string }[] = []
  for (const [depth, level] of levels.entries()) {
    const typeName = level instanceof ApplicationFailure && typeof level.type === 'string' ? level.type : undefined
    const presented = await presentError(airlock, withoutCause(level), typeName)
    const approved: ApprovedFailure = typeName === undefined ? { message: presented.message } : { message: presented.message, type: presented.type }
    approvals.push(approved)
    sent.push({ ...approved })
    const at = depth === 0 ? '$' : `$.cause${'.cause'.repeat(depth - 1)}`
    for (const t of presented.transforms) transforms.push({ path: t.path === '$' ? at : `${at}.${t.path}`, rule: t.rule, action: t.action })
  }
  try {
    await airlock.outbound.record({ channel: 'exceptions', engine: 'temporal', sent: { kind: 'activity-failure', failures: sent }, transforms })
  } catch {
    // Unrecorded, as little as can be: no message, the type only as the names rule made it.
    levels.forEach((level, i) => approve(level, approvals[i]!.type === undefined ? { message: '' } : { message: '', type: approvals[i]!.type }))
    return failure
  }
  levels.forEach((level, i) => approve(level, approvals[i]!))
  return failure
}

// Nothing readable: empty messages, application failure types withheld; ledgered as withheld when the ledger can.
async function withheld(airlock: AirlockBoundary, failure: Error, reason: unknown): Promise<Error> {
  const failures: JsonObject[] = []
  try {
    for (const level of levelsOf(failure, MAX_LEVELS)) {
      const approved: ApprovedFailure = level instanceof ApplicationFailure ? { message: '', type: WITHHELD_FAILURE_TYPE } : { message: '' }
      approve(level, approved)
      failures.push({ ...approved })
    }
  } catch {
    // A level that cannot be read keeps no approval: the converter then leaves its message empty and, unless names pass, its type withheld.
  }
  const withheldAs = `policy:${reason instanceof AirlockError ? reason.code : 'ERR_INTERNAL'}`
  try {
    await airlock.outbound.record({
      channel: 'exceptions',
      engine: 'temporal',
      sent: { kind: 'activity-failure', failures, withheld: withheldAs },
      transforms: [{ path: '$', rule: withheldAs, action: 'withhold' }],
      withheld: 1,
    })
  } catch {
    // Unrecorded: what goes is nothing readable anyway.
  }
  return failure
}

// Bounds the chain read for a withheld failure, as the converter bounds what it writes.
const MAX_LEVELS = 64

function levelsOf(failure: Error, maxCauseDepth: number): Error[] {
  const levels: Error[] = []
  for (let level: unknown = failure; level instanceof Error && levels.length <= maxCauseDepth; level = level.cause) {
    if (levels.includes(level)) break
    levels.push(level)
  }
  return levels
}

// The level alone: its causes are approved one by one, each with its own message.
function withoutCause(level: Error): Error {
  const copy = Object.create(Object.getPrototypeOf(level) as object | null) as Error
  for (const key of Object.getOwnPropertyNames(level)) {
    if (key === 'cause' || key === 'failure') continue
    const descriptor = Object.getOwnPropertyDescriptor(level, key)
    if (descriptor !== undefined) Object.defineProperty(copy, key, descriptor)
  }
  return copy
}

function approve(level: Error, approved: ApprovedFailure): void {
  try {
    Object.defineProperty(level, APPROVED_FAILURE, { value: Object.freeze(approved), enumerable: false, configurable: true, writable: false })
  } catch {
    // A frozen error keeps no approval: it then leaves with no readable message.
  }
}
