import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common'
import proto from '@temporalio/proto'
import { inspect } from 'node:util'
import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import { PayloadCipher } from '../../crypto/payload-cipher.js'
import { REDACTED } from '../../crypto/redacted.js'
import { InvalidArgumentError, PayloadFormatError } from '../../errors.js'
import type { JsonObject } from '../../internal/canonical-json.js'
import { describeType } from '../../internal/describe-type.js'
import { assertKnownOptions } from '../../internal/known-options.js'
import { airlockPayloadHost, clearBytes, EnginePayloads, type PayloadHost, type PayloadPlan } from '../shared/engine-payloads.js'
import { FAILURE_ATTRIBUTES_METADATA } from './failure-converter.js'

/**
 * The `encoding` of every payload `AirlockPayloadCodec` writes.
 *
 * @example
 * ```ts
 * new TextDecoder().decode(encoded.metadata.encoding) === AIRLOCK_ENCODING   // 'binary/airlock'
 * ```
 */
export const AIRLOCK_ENCODING = 'binary/airlock'
/** The payload name under which a failure's encoded attributes are ledgered; always sealed. */
const FAILURE_PAYLOAD_NAME = 'temporal:failure'
/** What every Temporal payload is sealed for: it opens as a Temporal payload only. */
const BINDING = 'temporal'
const FORMAT_KEY = 'airlock-format'
const KID_KEY = 'airlock-kid'
const SEALED_FORMAT = 'alkc1'
const OFFLOADED_FORMAT = 'alko1'
const PRINTABLE_ENCODING = /^[\x21-\x7e]{1,200}$/
// @temporalio/proto is CommonJS: Node's ESM loader gives it as one default export.
const PayloadProto = proto.temporal.api.common.v1.Payload
const encoder = new TextEncoder()
const EMPTY = new Uint8Array(0)
const ENCODING_BYTES = encoder.encode(AIRLOCK_ENCODING)
const SEALED_BYTES = encoder.encode(SEALED_FORMAT)
const OFFLOADED_BYTES = encoder.encode(OFFLOADED_FORMAT)
const decoder = new TextDecoder()

/**
 * Options of {@link AirlockPayloadCodec}.
 *
 * @example
 * ```ts
 * const options: AirlockPayloadCodecOptions = { airlock, offload: new S3Result({ bucket: 'temporal-offload', location: '{today}/{randomId}.alkc' }) }
 * ```
 */
export interface AirlockPayloadCodecOptions {
  /** The Airlock whose policy, keys and ledger the codec uses. */
  readonly airlock: AirlockBoundary
  /**
   * Where payloads over `payloads.offloadAbove` (or named `offload` by a
   * rule) are written; only an encrypted location token stays in history.
   * Its location must use `{randomId}`. Without it, nothing is offloaded.
   */
  readonly offload?: unknown
  /**
   * What `decode` does with a payload airlock did not encode (history
   * written before the codec was installed): `pass` it on as it is (the
   * default), or `refuse` it with `ERR_PAYLOAD_FORMAT`, so that nobody who
   * can write history can hand the workflow a value of their own.
   */
  readonly unsealed?: 'pass' | 'refuse'
}

const OPTION_KEYS = ['airlock', 'offload', 'unsealed'] as const
// The codec server has no Airlock: it builds the codec on a ledger of its own.
const HOST = Symbol('payload host')

/**
 * Temporal's `PayloadCodec` under airlock's policy, keys and ledger: what a
 * worker or client hands the Temporal service as workflow and activity
 * inputs and results, memo, heartbeat details, query and update values, and
 * failures' encoded attributes and details.
 *
 * Each payload is named `temporal:<encoding>` (`temporal:json/plain`,
 * `temporal:binary/null`, `temporal:json/protobuf`), and the `payloads`
 * policy decides (see `docs/policy.md`):
 * - `encrypt` (the default): the whole payload, metadata and data (its
 *   protobuf encoding), sealed with the `PayloadCipher` under the active
 *   key; what the service keeps has metadata
 *   `{ encoding: 'binary/airlock', 'airlock-format': 'alkc1', 'airlock-kid': <kid> }`
 *   and the sealed bytes as data. Key rotation keeps old payloads readable:
 *   the kid is in the sealed header.
 * - `offload` (over `offloadAbove` bytes, or by a rule, with `offload` set):
 *   the sealed payload goes to the `Result`; history keeps only
 *   `'airlock-format': 'alko1'` and an `alk1.` location token bound to Temporal payloads.
 * - `clear` (by a rule only): the payload passes as it is, unless it holds
 *   a registered secret (then it is encrypted).
 * - a failure's encoded attributes (message and stack, marked by airlock's
 *   failure converter) are always encrypted, named `temporal:failure`.
 *
 * Every encoded payload is ledgered under `payloads` before `encode`
 * resolves: name, action, the size sent and before, the kid, the metadata
 * sent, and for a clear payload its bytes. Records share the ledger's
 * group commit: concurrent encodes share one sync. If the ledger cannot
 * record, `encode` rejects and nothing is handed over.
 *
 * `decode` opens what `encode` wrote (an offloaded payload is read back from
 * the `Result`); a tampered payload raises `ERR_PAYLOAD_TAMPERED`, one
 * under a key the ring lacks `ERR_UNKNOWN_KID`, a moved or foreign token
 * `ERR_TOKEN_BINDING`/`ERR_TOKEN_INVALID`, a malformed one
 * `ERR_PAYLOAD_FORMAT`, a missing offloaded object `ERR_RESULT_NOT_FOUND`.
 * A payload airlock never encoded passes as it is (or is refused, with
 * `unsealed: 'refuse'`).
 *
 * Wire the codec with `airlockDataConverter` (or `airlockWorkerOptions`),
 * which also sets the failure converter Temporal only loads by path.
 *
 * @example
 * ```ts
 * import { AirlockPayloadCodec } from 'airlock-sdk/temporal'
 *
 * const codec = new AirlockPayloadCodec({ airlock })
 * const [sealed] = await codec.encode([payload])    // metadata.encoding 'binary/airlock'
 * const [again] = await codec.decode([sealed])      // the original payload
 * ```
 */
export class AirlockPayloadCodec implements PayloadCodec {
  readonly #payloads: EnginePayloads
  readonly #unsealed: 'pass' | 'refuse'

  /**
   * @throws InvalidArgumentError on unknown options, a missing Airlock, or
   *   an offload `Result` that cannot hold payloads.
   */
  constructor(options: AirlockPayloadCodecOptions) {
    assertKnownOptions('AirlockPayloadCodec', options, OPTION_KEYS)
    const unsealed = options.unsealed ?? 'pass'
    if (unsealed !== 'pass' && unsealed !== 'refuse') {
      throw new InvalidArgumentError(`AirlockPayloadCodec's unsealed is 'pass' or 'refuse', got ${describeType(unsealed)}`)
    }
    this.#unsealed = unsealed
    const host = (options as { [HOST]?: PayloadHost })[HOST] ?? airlockPayloadHost(options.airlock)
    this.#payloads = new EnginePayloads({ host, engine: 'temporal', offload: options.offload })
  }

  /**
   * Encodes payloads for the Temporal service, ledgering each before it resolves.
   *
   * @throws StorageError / ClosedError when the ledger cannot record (nothing is handed over).
   */
  async encode(payloads: Payload[], _context?: SerializationContext): Promise<Payload[]> {
    if (!Array.isArray(payloads)) throw new InvalidArgumentError(`encode expects an array of payloads, got ${describeType(payloads)}`)
    // Sealing keys seal synchronously once libsodium has loaded (a settled promise after the first milliseconds).
    await PayloadCipher.ready()
    const encoded = await Promise.all(payloads.map((payload) => this.#encodeOne(payload)))
    // Write-ahead: every record is durable before any payload is handed over.
    await Promise.all(encoded.map(({ recorded }) => recorded))
    return encoded.map(({ payload }) => payload)
  }

  /**
   * Decodes payloads from the Temporal service.
   *
   * @throws PayloadTamperedError, UnknownKeyError, PayloadFormatError, TokenBindingError,
   *   TokenInvalidError, ResultNotFoundError: see the class comment.
   */
  async decode(payloads: Payload[], _context?: SerializationContext): Promise<Payload[]> {
    if (!Array.isArray(payloads)) throw new InvalidArgumentError(`decode expects an array of payloads, got ${describeType(payloads)}`)
    return Promise.all(payloads.map((payload) => this.#decodeOne(payload)))
  }

  toString(): string {
    return `AirlockPayloadCodec(${REDACTED})`
  }

  toJSON(): { type: 'AirlockPayloadCodec' } {
    return { type: 'AirlockPayloadCodec' }
  }

  [inspect.custom](): string {
    return this.toString()
  }

  async #encodeOne(payload: Payload): Promise<{ payload: Payload; recorded: Promise<string> }> {
    checkPayload(payload)
    const failureAttributes = payload.metadata?.[FAILURE_ATTRIBUTES_METADATA] != null
    const name = failureAttributes ? FAILURE_PAYLOAD_NAME : payloadName(payload)
    const whole = PayloadProto.encode({ metadata: payload.metadata ?? {}, data: payload.data ?? EMPTY }).finish()
    const plan = this.#payloads.plan(name, whole, failureAttributes ? { rule: 'exceptions.encoded-attributes' } : undefined)
    if (plan.action === 'clear') {
      return { payload, recorded: this.#recordClear(name, plan, payload, whole.length) }
    }
    const kid = this.#payloads.activeKid
    const format = plan.action === 'offload' ? OFFLOADED_FORMAT : SEALED_FORMAT
    const data = plan.action === 'offload' ? await this.#payloads.offload(whole, BINDING) : this.#payloads.seal(whole, BINDING)
    const sent: Payload = {
      metadata: { encoding: ENCODING_BYTES, [FORMAT_KEY]: plan.action === 'offload' ? OFFLOADED_BYTES : SEALED_BYTES, [KID_KEY]: encoder.encode(kid) },
      data,
    }
    // What went, as the ledger holds it: the metadata in clear (it names the format and kid), the size, never the bytes.
    const record: JsonObject = { size: data.length, plainSize: whole.length, kid, metadata: { encoding: AIRLOCK_ENCODING, [FORMAT_KEY]: format, [KID_KEY]: kid } }
    return { payload: sent, recorded: this.#payloads.record(name, plan, record) }
  }

  // A clear payload is ledgered byte for byte: metadata and data, as text when UTF-8, else base64.
  #recordClear(name: string, plan: PayloadPlan, sent: Payload, plainSize: number): Promise<string> {
    const metadata: JsonObject = {}
    for (const [key, value] of Object.entries(sent.metadata ?? {})) metadata[key] = clearBytes(value ?? EMPTY)
    return this.#payloads.record(name, plan, { size: sent.data?.length ?? 0, plainSize, metadata, data: clearBytes(sent.data ?? EMPTY) })
  }

  async #decodeOne(payload: Payload): Promise<Payload> {
    checkPayload(payload)
    const encoding = payload.metadata?.encoding
    if (encoding == null || decoder.decode(encoding) !== AIRLOCK_ENCODING) {
      if (this.#unsealed === 'refuse') throw new PayloadFormatError('payload was not encoded by airlock, and this codec refuses unsealed payloads')
      return payload
    }
    const data = payload.data
    if (data == null || data.length === 0) throw new PayloadFormatError('airlock payload has no data')
    const format = payload.metadata?.[FORMAT_KEY]
    const kind = EnginePayloads.kind(data)
    const expected = kind === 'sealed' ? SEALED_FORMAT : kind === 'offloaded' ? OFFLOADED_FORMAT : undefined
    if (expected === undefined || format == null || decoder.decode(format) !== expected) {
      throw new PayloadFormatError(`airlock payload's data does not match its ${FORMAT_KEY} metadata (expected ${SEALED_FORMAT} or ${OFFLOADED_FORMAT})`)
    }
    const whole = await this.#payloads.open(data, BINDING)
    try {
      return PayloadProto.decode(whole)
    } catch {
      // Authenticated bytes that are not a payload: written by something else under our key.
      throw new PayloadFormatError('airlock payload opened, but its content is not a Temporal payload')
    }
  }
}

// Tolerant of what Temporal hands over (protobufjs messages, plain objects), strict on shape.
function checkPayload(payload: Payload): void {
  if (typeof payload !== 'object' || payload === null) throw new InvalidArgumentError(`a payload is an object, got ${describeType(payload)}`)
}

function payloadName(payload: Payload): string {
  const encoding = payload.metadata?.encoding
  if (encoding == null) return 'temporal:unknown'
  const text = decoder.decode(encoding)
  return PRINTABLE_ENCODING.test(text) ? `temporal:${text}` : 'temporal:unknown'
}

/**
 * A codec on a payload host other than an Airlock: the codec server's own
 * keys, policy and ledger. Internal to the adapter; not exported from the package.
 *
 * @example
 * ```ts
 * const codec = codecOnHost({ keys, policy: policy.payloads, holdsRegisteredSecret: () => false, record }, { offload })
 * ```
 */
export function codecOnHost(host: PayloadHost, options: Omit<AirlockPayloadCodecOptions, 'airlock'>): AirlockPayloadCodec {
  return new AirlockPayloadCodec({ ...options, [HOST]: host } as unknown as AirlockPayloadCodecOptions)
}
