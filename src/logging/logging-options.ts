import { describeType } from '../internal/describe-type.js'
import { InvalidArgumentError, PolicyError } from '../errors.js'
import { policyIssuesFromZod } from '../policy/policy-issues.js'
import { policySchema, type LogPolicy, type Policy } from '../policy/schema.js'
import { Scrubber } from '../scrub/scrubber.js'
import type { ShipRecord } from './shipped-record.js'

/**
 * What every airlock logger needs: the policy (its `logs` section decides
 * what ships and whether local output is scrubbed), the Airlock's scrubber
 * (shared, so secrets registered later are masked in later records) and the
 * `ship` callback that hands records to the boundary.
 *
 * @example
 * ```ts
 * const options: LoggingOptions = { policy: definePolicy({ preset: 'balanced' }), scrubber, ship: (record) => shipped.push(record) }
 * const logger = createLogger(options)
 * ```
 */
export interface LoggingOptions {
  readonly policy: Policy
  readonly scrubber: Scrubber
  readonly ship: ShipRecord
}

/**
 * The checked parts of {@link LoggingOptions}: the policy's `logs` section,
 * validated.
 *
 * @example
 * ```ts
 * const { logs }: ResolvedLogging = resolveLogging(options, 'createLogger')
 * logs.scrubLocal // true under balanced
 * ```
 */
export interface ResolvedLogging {
  readonly logs: LogPolicy
  readonly scrubber: Scrubber
  readonly ship: ShipRecord
}

/**
 * Checks the options every logger shares, up front.
 *
 * @throws InvalidArgumentError when an option is missing or of the wrong type.
 * @throws PolicyError when `policy.logs` is not a valid `logs` section.
 * @example
 * ```ts
 * const { logs, scrubber, ship } = resolveLogging(options, 'createLogger')
 * ```
 */
export function resolveLogging(options: unknown, caller: string): ResolvedLogging {
  const { policy, scrubber, ship } = optionsObject(options, caller)
  const logs = resolveLogPolicy(policy, caller)
  if (!(scrubber instanceof Scrubber)) {
    throw new InvalidArgumentError(`${caller} expects options.scrubber to be a Scrubber, got ${describeType(scrubber)}`)
  }
  return { logs, scrubber, ship: resolveShip(ship, caller) }
}

/**
 * Checks an options object's `policy` and `ship` (a destination that only
 * ships has no local output, so no scrubber).
 *
 * @example
 * ```ts
 * const { logs, ship } = resolveShipping(options, 'createShippingDestination')
 * ```
 */
export function resolveShipping(options: unknown, caller: string): Omit<ResolvedLogging, 'scrubber'> {
  const { policy, ship } = optionsObject(options, caller)
  return { logs: resolveLogPolicy(policy, caller), ship: resolveShip(ship, caller) }
}

function optionsObject(options: unknown, caller: string): Partial<Record<keyof LoggingOptions, unknown>> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`${caller} expects an options object: { policy, scrubber, ship }, got ${describeType(options)}`)
  }
  return options
}

function resolveLogPolicy(policy: unknown, caller: string): LogPolicy {
  if (typeof policy !== 'object' || policy === null || !('logs' in policy)) {
    throw new InvalidArgumentError(`${caller} expects options.policy to be a policy with a logs section (from definePolicy), got ${describeType(policy)}`)
  }
  const parsed = policySchema.shape.logs.safeParse(policy.logs, { reportInput: true })
  if (!parsed.success) {
    const issues = policyIssuesFromZod(parsed.error.issues, policySchema.shape.logs)
    throw new PolicyError(issues.map((i) => ({ path: i.path === '' ? 'logs' : `logs.${i.path}`, message: i.message })))
  }
  return parsed.data
}

function resolveShip(ship: unknown, caller: string): ShipRecord {
  if (typeof ship !== 'function') {
    throw new InvalidArgumentError(`${caller} expects options.ship to be a function (record) => void, got ${describeType(ship)}`)
  }
  return ship as ShipRecord
}
