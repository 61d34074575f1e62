// This module runs inside Temporal's workflow sandbox too (a worker bundles it
// from `failureConverterPath`), so it imports nothing but @temporalio/common:
// no keys, no node: modules, no airlock core.
import {
  DefaultFailureConverter,
  TemporalFailure,
  type Payload,
  type PayloadConverter,
  type ProtoFailure,
  type SerializationContext,
} from '@temporalio/common'

/**
 * The metadata key that marks a failure's encoded attributes (its message
 * and stack) as written by airlock's failure converter. The payload codec
 * seals such a payload whatever the `payloads` rules say.
 *
 * @example
 * ```ts
 * const marked = failure.encodedAttributes?.metadata?.[FAILURE_ATTRIBUTES_METADATA] !== undefined
 * ```
 */
export const FAILURE_ATTRIBUTES_METADATA = 'airlock-failure'
// Version 1 of the encoded attributes: `{ message, stack_trace }`, as Temporal's own.
const FAILURE_ATTRIBUTES_VERSION = Uint8Array.of(0x76, 0x31) // "v1"

/**
 * The key under which an error carries what of it may be read in a
 * failure's clear fields: `{ message, type? }`, as the policy approved it
 * outside the sandbox (the activity interceptor of `airlockWorkerOptions`
 * sets it; so does decoding a failure airlock wrote). A registered symbol,
 * so every copy of this module agrees on it.
 *
 * @example
 * ```ts
 * Object.defineProperty(err, APPROVED_FAILURE, { value: { message: '[REDACTED:email] not found', type: 'NotFound' } })
 * ```
 */
export const APPROVED_FAILURE: unique symbol = Symbol.for('airlock-sdk.temporal.approved-failure') as never

/**
 * The application failure type a failure carries in place of one the names
 * rule never saw, when the policy hashes names (`states.names: hash`): a
 * type thrown in workflow code (the sandbox holds no keys to fingerprint
 * it), or one whose approval failed. The same marker the scrubber uses for
 * what it withholds.
 *
 * @example
 * ```ts
 * failure.applicationFailureInfo?.type === WITHHELD_FAILURE_TYPE   // thrown in a workflow under states.names: hash
 * ```
 */
export const WITHHELD_FAILURE_TYPE = '[airlock:withheld]'

/**
 * Options of {@link AirlockFailureConverter}.
 *
 * @example
 * ```ts
 * new AirlockFailureConverter({ unapprovedTypes: 'keep' })   // what FAILURE_CONVERTER_PATH_CLEAR_TYPES loads
 * ```
 */
export interface AirlockFailureConverterOptions {
  /**
   * An application failure type nobody approved (thrown in workflow code,
   * or past the activity interceptor's reach): `withhold` it (the default:
   * {@link WITHHELD_FAILURE_TYPE} goes instead), or `keep` it as thrown,
   * for a policy whose names rule lets names pass (`states.names: allow`).
   */
  readonly unapprovedTypes?: 'withhold' | 'keep'
}

/**
 * What of one error may be read in a failure's clear fields.
 *
 * @example
 * ```ts
 * const approved: ApprovedFailure = { message: 'fp1.20261121-3f9a1c2b.Xq3…', type: 'PgError' }
 * ```
 */
export interface ApprovedFailure {
  /** The readable `message`: what `exceptions.mode` lets out (empty for `type` and `encrypted`). */
  readonly message: string
  /** An application failure's `type`, as the names rule lets it out. */
  readonly type?: string
}

/**
 * Temporal's `FailureConverter` for airlock, loaded by path
 * (`failureConverterPath`: `airlockDataConverter` gives it) in the worker
 * and inside the workflow sandbox. Cross-language compatible: it builds on
 * Temporal's `DefaultFailureConverter` with `encodeCommonAttributes`, so
 * every level of a cause chain keeps its message and stack only in its
 * encoded attributes (`{ message, stack_trace }`), which the payload codec
 * then seals for key holders.
 *
 * What stays readable in the failure (what the Temporal service stores in clear):
 * - `message`: the message the policy approved for that error (see
 *   {@link APPROVED_FAILURE}), or nothing. Errors thrown in activities are
 *   approved by the activity interceptor under `exceptions.mode`. The
 *   sandbox has no keys and no registered secrets, so an error thrown in
 *   workflow code keeps no readable message, whatever the mode.
 * - `stackTrace`: always empty.
 * - an application failure's `type`: as the names rule approved it (an
 *   activity's, by the interceptor); one nobody approved (thrown in workflow
 *   code) is withheld, {@link WITHHELD_FAILURE_TYPE} in its place, unless
 *   built with `unapprovedTypes: 'keep'` (the converter
 *   `airlockDataConverter` picks when `states.names` is `allow`);
 * - `nonRetryable`, retry delays and categories, and the names Temporal
 *   needs (activity and workflow types): Temporal's retry logic reads them.
 * - a failure decoded from history and thrown again keeps the readable
 *   fields history holds: they were approved when first written.
 *
 * Without the payload codec the encoded attributes would travel in clear:
 * never set `failureConverterPath` without `AirlockPayloadCodec`.
 *
 * @example
 * ```ts
 * // what `airlockDataConverter({ airlock })` sets:
 * const dataConverter = { payloadCodecs: [codec], failureConverterPath: require.resolve('airlock-sdk/temporal/failure-converter') }
 * ```
 */
export class AirlockFailureConverter extends DefaultFailureConverter {
  readonly #keepsUnapprovedTypes: boolean

  constructor(options: AirlockFailureConverterOptions = {}) {
    super({ encodeCommonAttributes: true })
    const unapprovedTypes = options.unapprovedTypes ?? 'withhold'
    if (unapprovedTypes !== 'withhold' && unapprovedTypes !== 'keep') throw new TypeError("AirlockFailureConverter: unapprovedTypes is 'withhold' or 'keep'")
    this.#keepsUnapprovedTypes = unapprovedTypes === 'keep'
  }

  override errorToFailure(err: unknown, payloadConverter: PayloadConverter, context?: SerializationContext): ProtoFailure {
    // Causes come back through this method, so they are sealed already; a
    // failure taken from history whole (err.failure) is sealed level by level below.
    const failure = this.errorToFailureInner(err, payloadConverter, context)
    return sealChain(failure, approvalOf(err), this.#keepsUnapprovedTypes, payloadConverter, context)
  }

  override failureToError(failure: ProtoFailure, payloadConverter: PayloadConverter, context?: SerializationContext): Error {
    const err = super.failureToError(failure, payloadConverter, context)
    // Thrown again, it must go out as history holds it (readable fields as
    // approved), not with the decoded message Temporal's converter puts in its copy.
    if (isSealed(failure) && err instanceof TemporalFailure) err.failure = failure
    return err
  }
}

/**
 * The converter Temporal loads from `failureConverterPath`.
 *
 * @example
 * ```ts
 * import { failureConverter } from 'airlock-sdk/temporal/failure-converter'
 * failureConverter.errorToFailure(new Error('lost ada@example.com'), defaultPayloadConverter).message   // ''
 * ```
 */
export const failureConverter: AirlockFailureConverter = new AirlockFailureConverter()

/**
 * Whether a failure level's encoded attributes were written by this converter.
 *
 * @example
 * ```ts
 * isSealed(failure)   // true for a failure airlock's converter wrote (its readable message was approved)
 * ```
 */
export function isSealed(failure: ProtoFailure): boolean {
  const marker = failure.encodedAttributes?.metadata?.[FAILURE_ATTRIBUTES_METADATA]
  return marker instanceof Uint8Array && marker.length === FAILURE_ATTRIBUTES_VERSION.length && marker.every((b, i) => b === FAILURE_ATTRIBUTES_VERSION[i])
}

function sealChain(failure: ProtoFailure, approved: ApprovedFailure | undefined, keepsTypes: boolean, converter: PayloadConverter, context?: SerializationContext): ProtoFailure {
  const top = sealLevel(failure, approved, keepsTypes, converter, context)
  let level = top
  // Bounded: a cause chain from history could be deep, never cyclic (protos are trees).
  for (let depth = 0; level.cause != null && depth < 64; depth++) {
    level.cause = sealLevel(level.cause, undefined, keepsTypes, converter, context)
    level = level.cause
  }
  if (level.cause != null) level.cause = null
  return top
}

function sealLevel(level: ProtoFailure, approved: ApprovedFailure | undefined, keepsTypes: boolean, converter: PayloadConverter, context?: SerializationContext): ProtoFailure {
  if (isSealed(level)) return { ...level, stackTrace: '' }
  const attributes = level.encodedAttributes ?? converter.toPayload({ message: level.message ?? '', stack_trace: level.stackTrace ?? '' }, context)
  const sealed: ProtoFailure = {
    ...level,
    message: approved?.message ?? '',
    stackTrace: '',
    encodedAttributes: marked(attributes),
  }
  if (level.applicationFailureInfo != null) {
    const thrown = level.applicationFailureInfo.type
    // A failure with no type has nothing to withhold.
    const type = approved?.type ?? (keepsTypes || thrown == null || thrown === '' ? thrown : WITHHELD_FAILURE_TYPE)
    sealed.applicationFailureInfo = { ...level.applicationFailureInfo, type }
  }
  return sealed
}

function marked(payload: Payload): Payload {
  return { ...payload, metadata: { ...payload.metadata, [FAILURE_ATTRIBUTES_METADATA]: FAILURE_ATTRIBUTES_VERSION } }
}

function approvalOf(err: unknown): ApprovedFailure | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  let approved: unknown
  try {
    approved = (err as Record<symbol, unknown>)[APPROVED_FAILURE]
  } catch {
    return undefined
  }
  if (typeof approved !== 'object' || approved === null) return undefined
  const { message, type } = approved as { message?: unknown; type?: unknown }
  if (typeof message !== 'string') return undefined
  return typeof type === 'string' ? { message, type } : { message }
}
