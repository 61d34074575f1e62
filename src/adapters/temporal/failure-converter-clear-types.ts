// Loaded by path inside Temporal's workflow sandbox, like ./failure-converter.js: it imports nothing else.
import { AirlockFailureConverter } from './failure-converter.js'

/**
 * The converter `airlockDataConverter` loads when the policy lets names
 * pass (`states.names: allow`): as `failureConverter` of
 * `airlock-sdk/temporal/failure-converter`, but an application failure type
 * nobody approved (thrown in workflow code) goes as thrown, so retry
 * policies and callers can match it. The sandbox cannot mask registered
 * secrets in it: name failure types as you would name a table.
 *
 * @example
 * ```ts
 * import { failureConverter } from 'airlock-sdk/temporal/failure-converter-clear-types'
 * failureConverter.errorToFailure(ApplicationFailure.create({ type: 'OutOfStock' }), defaultPayloadConverter).applicationFailureInfo?.type   // 'OutOfStock'
 * ```
 */
export const failureConverter: AirlockFailureConverter = new AirlockFailureConverter({ unapprovedTypes: 'keep' })
