import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import type { PayloadTransform } from './engine-payloads.js'

/**
 * What of one error an engine may keep readable, as the policy lets it out.
 *
 * @example
 * ```ts
 * const presented: PresentedError = await presentError(airlock, err)   // { type: 'PgError', message: 'auth failed for [REDACTED:email]', transforms }
 * ```
 */
export interface PresentedError {
  /** The type name, as the names rule lets it out (a fingerprint under `states.names: hash`). */
  readonly type: string
  /**
   * The readable message: scrubbed (`scrubbed`), registered secrets masked
   * (`full`), the keyed fingerprint (`fingerprint`), or empty (`type`, `encrypted`).
   */
  readonly message: string
  /** What the policy did, by path, rule and action; never a value. */
  readonly transforms: readonly PayloadTransform[]
}

/**
 * One error (its cause chain counts for the fingerprint) through the
 * `exceptions` policy and the names rule, for an engine adapter to keep in
 * the engine's clear fields. Shared by the Temporal and Restate adapters.
 * Never a stack: engines keep stacks in clear, so adapters send them only
 * sealed.
 *
 * @param typeName the type the engine shows (a Temporal application
 *   failure's `type`); default: the error's class name, scrubbed.
 * @example
 * ```ts
 * const { type, message } = await presentError(airlock, new PgError('auth failed for ada@example.com'))
 * ```
 */
export async function presentError(airlock: AirlockBoundary, err: unknown, typeName?: string): Promise<PresentedError> {
  const { value: failure, transforms } = await airlock.outbound.error(err)
  const mode = airlock.policy.exceptions.mode
  const message = mode === 'full' || mode === 'scrubbed' ? (failure.message ?? '') : mode === 'fingerprint' ? (failure.fingerprint ?? '') : ''
  const type = airlock.outbound.name(typeName === undefined ? failure.type : airlock.outbound.text(typeName, 'exceptions').value)
  return { type: type.value, message, transforms: [...transforms, ...type.transforms] }
}
