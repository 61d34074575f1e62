import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import type { OutboundDoor } from '../../boundary/outbound-door.js'
import { AirlockError, ClosedError, InvalidArgumentError, PayloadFormatError } from '../../errors.js'
import type { JsonObject } from '../../internal/canonical-json.js'
import { airlockPayloadHost, clearBytes, EnginePayloads, PendingWork, type PayloadPlan } from '../shared/engine-payloads.js'

// One per Airlock: the journal codec, the serdes and the hooks of the same
// Airlock share it, so a handler's hook waits for what its serdes started too.
const pendingByAirlock = new WeakMap<AirlockBoundary, PendingWork>()

/**
 * The work Restate's synchronous interfaces started for this Airlock and did not see finish.
 *
 * @example
 * ```ts
 * await pendingFor(airlock).settled()   // every journal value's record durable, every write behind done
 * ```
 */
export function pendingFor(airlock: AirlockBoundary): PendingWork {
  let pending = pendingByAirlock.get(airlock)
  if (pending === undefined) pendingByAirlock.set(airlock, (pending = new PendingWork()))
  return pending
}

/**
 * The synchronous encode and the decode Restate's journal value codec and
 * serdes share: the shared payload decisions and frames, a ledger record
 * tracked per value, and typed errors whose message ends with their code
 * (Restate passes only a decode error's message on, to the invoker and the
 * journal). Internal to the adapter.
 *
 * @example
 * ```ts
 * const values = new RestatePayloads(airlock, undefined, 'pass')
 * const frame = values.encode(bytes, 'restate:Orders/checkout/input', 'restate:Orders/checkout/input')
 * ```
 */
export class RestatePayloads {
  readonly #payloads: EnginePayloads
  readonly #door: OutboundDoor
  readonly #pending: PendingWork
  readonly #unsealed: 'pass' | 'refuse'
  readonly #side: 'service' | 'ingress'

  /**
   * @param side `service`: `encode` may offload, and `airlockHooks` wait for
   *   what it started; `ingress` (a client): `encode` never offloads (the
   *   service would read an input before a write behind it completed), and
   *   `decode` (a call's output) first waits for the records of what was
   *   sent, so a call whose input was not ledgered fails.
   */
  constructor(airlock: AirlockBoundary, offload: unknown, unsealed: unknown, side: 'service' | 'ingress' = 'service') {
    if (unsealed !== 'pass' && unsealed !== 'refuse') throw new InvalidArgumentError("unsealed is 'pass' or 'refuse'")
    this.#payloads = new EnginePayloads({ host: airlockPayloadHost(airlock), engine: 'restate', offload })
    this.#door = airlock.outbound
    this.#pending = pendingFor(airlock)
    this.#unsealed = unsealed
    this.#side = side
  }

  get payloads(): EnginePayloads {
    return this.#payloads
  }

  /**
   * Seals, offloads (from a reservation) or passes `bytes`, as the policy
   * says for `name`; the record is tracked, not awaited (Restate sends what
   * this returns at once: see the write-ahead exception in the README).
   *
   * @throws ClosedError / StorageError (message ending with its code) when the Airlock is closed or its ledger
   *   failed: nothing is sent that could not be recorded.
   */
  encode(bytes: Uint8Array, name: string, binding: string): Uint8Array {
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('a journal value is bytes')
    const refusal = this.#door.refusal()
    if (refusal !== undefined) throw coded(refusal)
    let plan = this.#payloads.plan(name, bytes)
    let frame: Uint8Array | undefined
    if (plan.action === 'clear' && EnginePayloads.kind(bytes) !== undefined) {
      // Clear bytes that begin like a frame of ours would be misread when decoded: seal them.
      plan = downgraded(plan, 'restate.frame-collision')
    }
    if (plan.action === 'offload') {
      // Only with an offload Result does the plan say offload (a serde is built without one: it could not read it back).
      const service = this.#side === 'service'
      frame = service ? this.#payloads.offloadNow(bytes, binding, this.#pending) : undefined
      if (frame === undefined) plan = downgraded(plan, service ? 'payloads.offload-unready' : 'restate.ingress-inline')
    }
    if (plan.action === 'clear') frame = bytes
    frame ??= this.#payloads.seal(bytes, binding)
    const sent: JsonObject =
      plan.action === 'clear'
        ? { size: frame.length, plainSize: bytes.length, data: clearBytes(bytes) }
        : { size: frame.length, plainSize: bytes.length, kid: this.#payloads.activeKid, format: plan.action === 'offload' ? 'alko1' : 'alkc1' }
    this.#pending.track(this.#payloads.record(name, plan, sent))
    return frame
  }

  /** The bytes a frame stands for (offloaded ones read back), or `bytes` itself when it is not ours and unsealed values pass. */
  async decode(bytes: Uint8Array, binding: string): Promise<Uint8Array> {
    if (this.#side === 'ingress') await this.#recorded()
    const kind = EnginePayloads.kind(bytes)
    if (kind === undefined) return this.#unframed(bytes)
    try {
      return await this.#payloads.open(bytes, binding)
    } catch (err) {
      throw coded(err)
    }
  }

  /** {@link RestatePayloads.decode} for sealed frames, synchronously (a serde cannot wait). */
  decodeSync(bytes: Uint8Array, binding: string): Uint8Array {
    if (EnginePayloads.kind(bytes) === undefined) return this.#unframed(bytes)
    try {
      return this.#payloads.openSync(bytes, binding)
    } catch (err) {
      throw coded(err)
    }
  }

  /** Every record and write started so far settled; rejects with the first failure since the last call. */
  settled(): Promise<void> {
    return this.#pending.settled()
  }

  // What this client sent is durably ledgered, or the call fails: with the record's failure, or the ledger's.
  async #recorded(): Promise<void> {
    try {
      await this.#pending.settled()
      const refusal = this.#door.refusal()
      // A ledger that failed failed for every call in flight, not only the first to ask (settled() reports a failure once).
      if (refusal !== undefined && !(refusal instanceof ClosedError)) throw refusal
    } catch (err) {
      throw coded(err)
    }
  }

  #unframed(bytes: Uint8Array): Uint8Array {
    if (this.#unsealed === 'refuse') throw new PayloadFormatError('value was not encoded by airlock, and unsealed values are refused (ERR_PAYLOAD_FORMAT)')
    return bytes
  }
}

function downgraded(plan: PayloadPlan, rule: string): PayloadPlan {
  return { action: 'encrypt', transforms: [...plan.transforms, { path: '$', rule, action: 'encrypt' }] }
}

// The same class, its code appended: "… which the key ring does not hold (ERR_UNKNOWN_KID)".
function coded(err: unknown): unknown {
  if (!(err instanceof AirlockError)) return err
  const Typed = err.constructor as new (message: string, options: { cause: unknown }) => AirlockError
  return new Typed(`${err.message} (${err.code})`, { cause: err })
}
