import {
  StorageDriverClaim,
  type Payload,
  type StorageDriver,
  type StorageDriverRetrieveContext,
  type StorageDriverStoreContext,
} from '@temporalio/common'
import proto from '@temporalio/proto'
import { inspect } from 'node:util'
import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import { REDACTED } from '../../crypto/redacted.js'
import { InvalidArgumentError, PayloadFormatError } from '../../errors.js'
import { assertKnownOptions } from '../../internal/known-options.js'
import { airlockPayloadHost, EnginePayloads } from '../shared/engine-payloads.js'

/** The claim key holding airlock's offload reference (`alko1:` then the `alk1.` token). */
const CLAIM_KEY = 'airlock'
const CLAIM_PREFIX = 'alko1:'
/** A claim opens only as a claim of this driver: not as a codec-offloaded payload, not as a task's result. */
const BINDING = 'temporal:external-storage'
// @temporalio/proto is CommonJS: Node's ESM loader gives it as one default export.
const PayloadProto = proto.temporal.api.common.v1.Payload

/**
 * Options of {@link AirlockStorageDriver}.
 *
 * @example
 * ```ts
 * const options: AirlockStorageDriverOptions = { airlock, offload: new LocalResult({ dir: 'offload', location: '{today}/{randomId}.alkc' }) }
 * ```
 */
export interface AirlockStorageDriverOptions {
  readonly airlock: AirlockBoundary
  /** Where payloads go: a `Result` whose location uses `{randomId}`. */
  readonly offload: unknown
  /** The driver's name in Temporal's reference payloads. Default `airlock`. */
  readonly name?: string
}

const OPTION_KEYS = ['airlock', 'offload', 'name'] as const

/**
 * Temporal's external storage driver (`ExternalStorage`, experimental in
 * SDK 1.24) backed by an airlock `Result`: Temporal's own claim check, with
 * a claim that names nothing. Temporal keeps the claim's `claimData` in
 * history in clear; here it is `{ airlock: 'alko1:' + an alk1. token }`, an
 * encrypted location bound to this driver's payloads, and the stored
 * object is sealed (see `AirlockPayloadCodec`'s `offload`, which does the
 * same inside the codec; use one or the other).
 *
 * Temporal offloads after the codec ran, so a stored payload is already
 * sealed when the codec is installed; this driver seals it again for the
 * storage. Each stored payload is ledgered under `payloads`
 * (`temporal:external-storage`, action `offload`) before its claim is handed
 * back.
 *
 * @example
 * ```ts
 * import { ExternalStorage } from '@temporalio/common'
 * import { airlockDataConverter, AirlockStorageDriver } from 'airlock-sdk/temporal'
 *
 * const dataConverter = {
 *   ...airlockDataConverter({ airlock }),
 *   externalStorage: new ExternalStorage({ drivers: [new AirlockStorageDriver({ airlock, offload })], payloadSizeThreshold: 128 * 1024 }),
 * }
 * ```
 */
export class AirlockStorageDriver implements StorageDriver {
  readonly name: string
  readonly type = 'airlock.result'
  readonly #payloads: EnginePayloads

  /** @throws InvalidArgumentError on unknown options or an offload `Result` that cannot hold payloads. */
  constructor(options: AirlockStorageDriverOptions) {
    assertKnownOptions('AirlockStorageDriver', options, OPTION_KEYS)
    if (options.offload === undefined) throw new InvalidArgumentError('AirlockStorageDriver needs { offload: Result }')
    const name = options.name ?? 'airlock'
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      throw new InvalidArgumentError('AirlockStorageDriver name is 1-64 characters of [A-Za-z0-9_.-]')
    }
    this.name = name
    this.#payloads = new EnginePayloads({ host: airlockPayloadHost(options.airlock), engine: 'temporal', offload: options.offload })
  }

  /** Stores each payload and returns its claim, once every store is ledgered. */
  async store(_context: StorageDriverStoreContext, payloads: Payload[]): Promise<StorageDriverClaim[]> {
    const claims = await Promise.all(
      payloads.map(async (payload) => {
        const whole = PayloadProto.encode(PayloadProto.create({ metadata: payload.metadata ?? {}, data: payload.data ?? new Uint8Array(0) })).finish()
        const reference = CLAIM_PREFIX + (await this.#payloads.offloadToken(whole, BINDING))
        const plan = { action: 'offload' as const, transforms: [{ path: '$', rule: 'temporal.externalStorage', action: 'offload' }] }
        const recorded = this.#payloads.record(BINDING, plan, { size: reference.length, plainSize: whole.length, kid: this.#payloads.activeKid })
        return { claim: new StorageDriverClaim({ [CLAIM_KEY]: reference }), recorded }
      }),
    )
    await Promise.all(claims.map(({ recorded }) => recorded))
    return claims.map(({ claim }) => claim)
  }

  /** The payloads claims stand for. Typed errors as `AirlockPayloadCodec.decode`'s. */
  async retrieve(_context: StorageDriverRetrieveContext, claims: StorageDriverClaim[]): Promise<Payload[]> {
    return Promise.all(
      claims.map(async (claim) => {
        const reference = claim.claimData?.[CLAIM_KEY]
        if (typeof reference !== 'string' || !reference.startsWith(CLAIM_PREFIX)) {
          throw new PayloadFormatError(`an airlock storage claim holds "${CLAIM_KEY}": "${CLAIM_PREFIX}<token>"`)
        }
        const whole = await this.#payloads.openToken(reference.slice(CLAIM_PREFIX.length), BINDING)
        try {
          return PayloadProto.decode(whole)
        } catch {
          throw new PayloadFormatError('an airlock storage claim opened, but its content is not a Temporal payload')
        }
      }),
    )
  }

  toString(): string {
    return `AirlockStorageDriver(${this.name}, ${REDACTED})`
  }

  [inspect.custom](): string {
    return this.toString()
  }
}
