import type { JournalValueCodec } from '@restatedev/restate-sdk'
import { inspect } from 'node:util'
import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import { PayloadCipher } from '../../crypto/payload-cipher.js'
import { REDACTED } from '../../crypto/redacted.js'
import { assertKnownOptions } from '../../internal/known-options.js'
import { RestatePayloads } from './restate-payloads.js'

/**
 * The payload name of every journal value: the codec cannot tell an input from a step's result.
 *
 * @example
 * ```ts
 * definePolicy({ payloads: { rules: { [JOURNAL_PAYLOAD_NAME]: 'offload' } } })   // 'restate:journal'
 * ```
 */
export const JOURNAL_PAYLOAD_NAME = 'restate:journal'

/**
 * Options of {@link AirlockJournalCodec.create}.
 *
 * @example
 * ```ts
 * const options: AirlockJournalCodecOptions = { airlock, offload: new LocalResult({ dir: 'offload', location: '{engine}/{randomId}.alkc' }) }
 * ```
 */
export interface AirlockJournalCodecOptions {
  readonly airlock: AirlockBoundary
  /** Where values over `payloads.offloadAbove` (or named `offload` by a rule) go; its location must use `{randomId}`. */
  readonly offload?: unknown
  /** `pass` values airlock did not encode (journals from before it, the default), or `refuse` them with `ERR_PAYLOAD_FORMAT`. */
  readonly unsealed?: 'pass' | 'refuse'
}

const OPTION_KEYS = ['airlock', 'offload', 'unsealed'] as const

/**
 * Restate's journal value codec under airlock's policy, keys and ledger:
 * every value the SDK writes to the journal passes through it (handler
 * inputs and outputs, `ctx.run` results, state, awakeable and promise
 * values, call and send parameters), on the service's endpoint
 * (`journalValueCodecProvider`) and on an ingress client
 * (`connect({ journalValueCodec })`), so what the server receives, stores
 * and returns is sealed between the two.
 *
 * Each value is named `restate:journal` for the `payloads` policy: sealed
 * with the payload cipher (`encrypt`, the default), offloaded to the
 * `offload` Result leaving an `ALKO` reference (`offload`, or over
 * `offloadAbove`), or passed as is (`clear`, by a rule; one holding a
 * registered secret is sealed). Frames: see `EnginePayloads` (binding
 * `restate:journal`).
 *
 * Restate calls `encode` synchronously and sends what it returns at once,
 * so the ledger record of each value is appended in order but made durable
 * by the ledger's next group commit, not before the bytes leave; an
 * offloaded value's token comes from a reservation made ahead, and its
 * write completes behind. `airlockHooks` waits for both before a handler's
 * outcome is released, and fails the attempt (Restate retries it) if one
 * failed. When no reservation is ready, the value is sealed inline instead.
 *
 * `decode` opens sealed and offloaded values; a tampered one raises
 * `ERR_PAYLOAD_TAMPERED`, another key's `ERR_UNKNOWN_KID`, a moved token
 * `ERR_TOKEN_BINDING`: the invocation fails with that typed error (an
 * input that does not decode fails it for good, with status 400), never
 * with garbage.
 *
 * @example
 * ```ts
 * import * as restate from '@restatedev/restate-sdk'
 * import { AirlockJournalCodec } from 'airlock-sdk/restate'
 *
 * restate.endpoint().bind(greeter).journalValueCodecProvider(() => AirlockJournalCodec.create({ airlock })).listen(9080)
 * ```
 */
export class AirlockJournalCodec implements JournalValueCodec {
  readonly #values: RestatePayloads

  private constructor(values: RestatePayloads) {
    this.#values = values
  }

  /**
   * A codec, with offload reservations made ready when `offload` is set.
   *
   * @throws InvalidArgumentError on unknown options, a missing Airlock, or an offload `Result` that cannot hold values.
   */
  static async create(options: AirlockJournalCodecOptions): Promise<AirlockJournalCodec> {
    return AirlockJournalCodec.#create(options, 'service')
  }

  /**
   * The codec of an ingress client (`airlockIngressOptions`): it reads
   * offloaded outputs, but seals every input inline, since the service
   * would read an offloaded input before the write behind it completed.
   * Before it decodes a call's output it waits for the records of what was
   * sent: a call whose input could not be ledgered rejects with that error.
   */
  static async forIngress(options: AirlockJournalCodecOptions): Promise<AirlockJournalCodec> {
    return AirlockJournalCodec.#create(options, 'ingress')
  }

  static async #create(options: AirlockJournalCodecOptions, side: 'service' | 'ingress'): Promise<AirlockJournalCodec> {
    assertKnownOptions('AirlockJournalCodec', options, OPTION_KEYS)
    const values = new RestatePayloads(options.airlock, options.offload, options.unsealed ?? 'pass', side)
    // Restate's codec is synchronous: under a sealing key, libsodium must have loaded before the first value.
    await PayloadCipher.ready()
    if (side === 'service' && values.payloads.offloads) await values.payloads.reserve(JOURNAL_PAYLOAD_NAME)
    return new AirlockJournalCodec(values)
  }

  /**
   * Seals (or offloads, or passes) one serialized value; synchronous, as Restate requires.
   *
   * @throws ClosedError (`ERR_CLOSED`) after the Airlock closed, StorageError (`ERR_STORAGE`) once its ledger
   *   failed: a value that could not be recorded is not sent (on a client, the call rejects before it is made).
   */
  encode(buf: Uint8Array): Uint8Array {
    return this.#values.encode(buf, JOURNAL_PAYLOAD_NAME, JOURNAL_PAYLOAD_NAME)
  }

  /**
   * Resolves once every value this codec's Airlock encoded so far (through
   * this codec or an `airlockSerde`) is durably ledgered, and every write
   * behind is done; rejects with the first failure since the last call.
   * `airlockHooks` wait for it on a service; on a client, a call's output
   * waits for it, so await it yourself after one-way sends.
   *
   * @example
   * ```ts
   * await ingress.serviceSendClient(orders).checkout(order)
   * await journalValueCodec.settled()   // the input's record is durable, or this rejects
   * ```
   */
  settled(): Promise<void> {
    return this.#values.settled()
  }

  /** The serialized value a journal entry holds. */
  decode(buf: Uint8Array): Promise<Uint8Array> {
    return this.#values.decode(buf, JOURNAL_PAYLOAD_NAME)
  }

  toString(): string {
    return `AirlockJournalCodec(${REDACTED})`
  }

  toJSON(): { type: 'AirlockJournalCodec' } {
    return { type: 'AirlockJournalCodec' }
  }

  [inspect.custom](): string {
    return this.toString()
  }
}
