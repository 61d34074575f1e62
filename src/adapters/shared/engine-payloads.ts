import { inspect } from 'node:util'
import { keyRingOf, type AirlockBoundary } from '../../boundary/airlock-boundary.js'
import type { OutboundRecord } from '../../boundary/outbound-door.js'
import type { KeyRing } from '../../crypto/key-ring.js'
import { PayloadCipher } from '../../crypto/payload-cipher.js'
import { REDACTED } from '../../crypto/redacted.js'
import { InvalidArgumentError, PayloadFormatError, StorageError } from '../../errors.js'
import type { JsonObject } from '../../internal/canonical-json.js'
import { describeType } from '../../internal/describe-type.js'
import { matchPayloadRule } from '../../policy/payload-rules.js'
import type { PayloadAction, PayloadPolicy } from '../../policy/schema.js'
import { OffloadStore, type OffloadReservation } from './offload-store.js'

/**
 * The first bytes of an offload reference: `ALKO` (airlock offloaded), then
 * the format version, then the location token in UTF-8.
 *
 * @example
 * ```ts
 * EnginePayloads.kind(frame) === 'offloaded'   // frame starts with OFFLOAD_MAGIC and version 1
 * ```
 */
export const OFFLOAD_MAGIC: Uint8Array = Uint8Array.of(0x41, 0x4c, 0x4b, 0x4f)
const OFFLOAD_FORMAT_VERSION = 1
/** Version 1 of the context an engine payload is sealed with, before its binding. */
const SEALED_CONTEXT_PREFIX = 'airlock-sdk/engine-payload/v1\n'
// A clear payload is ledgered byte for byte; one the ledger could not hold (its
// entries are at most 8 MiB of JSON, and base64 grows bytes by a third) is
// encrypted instead of sent unrecorded.
const MAX_CLEAR_BYTES = 4 * 1024 * 1024
// Reservations kept ready per binding for synchronous offload.
const RESERVED_PER_BINDING = 4
const utf8 = new TextDecoder('utf-8', { fatal: true })
const lossyUtf8 = new TextDecoder('utf-8')

/**
 * One transform as the ledger records it: where, by which rule, what it did.
 *
 * @example
 * ```ts
 * const t: PayloadTransform = { path: '$', rule: 'payloads.default', action: 'encrypt' }
 * ```
 */
export interface PayloadTransform {
  readonly path: string
  readonly rule: string
  readonly action: string
}

/**
 * What the policy decided for one payload, and why.
 *
 * @example
 * ```ts
 * const plan: PayloadPlan = payloads.plan('temporal:json/plain', bytes)   // { action: 'encrypt', transforms: [...] }
 * ```
 */
export interface PayloadPlan {
  readonly action: PayloadAction
  readonly transforms: readonly PayloadTransform[]
}

/**
 * What {@link EnginePayloads} needs of its owner: an Airlock (see
 * {@link airlockPayloadHost}), or a codec server with a ledger of its own.
 *
 * @example
 * ```ts
 * const host: PayloadHost = airlockPayloadHost(airlock)
 * ```
 */
export interface PayloadHost {
  readonly keys: KeyRing
  readonly policy: PayloadPolicy
  /** Whether text holds a registered secret (a clear payload that does is encrypted instead). */
  holdsRegisteredSecret(text: string): boolean
  /** Ledgers what goes to the engine; resolves once durable. */
  record(record: OutboundRecord): Promise<string>
}

/**
 * The payload host an Airlock is: its keys, its `payloads` policy, its
 * scrubber's registered secrets and its outbound door's ledger records.
 *
 * @throws InvalidArgumentError when `airlock` is not an Airlock.
 * @example
 * ```ts
 * new EnginePayloads({ host: airlockPayloadHost(airlock), engine: 'temporal' })
 * ```
 */
export function airlockPayloadHost(airlock: AirlockBoundary): PayloadHost {
  const keys = keyRingOf(airlock)
  return {
    keys,
    policy: airlock.policy.payloads,
    holdsRegisteredSecret: (text) => airlock.scrubber.holdsRegisteredSecret(text),
    record: (record) => airlock.outbound.record(record),
  }
}

/**
 * Options of {@link EnginePayloads}.
 *
 * @example
 * ```ts
 * const options: EnginePayloadsOptions = { host: airlockPayloadHost(airlock), engine: 'temporal', offload: new LocalResult({ dir: 'offload' }) }
 * ```
 */
export interface EnginePayloadsOptions {
  readonly host: PayloadHost
  /** `temporal`, `restate`: the engine named in every ledger record. */
  readonly engine: string
  /** Where offloaded payloads go; without it, nothing is offloaded (encrypted instead). */
  readonly offload?: unknown
}

/**
 * The `payloads` channel, shared by the Temporal and Restate adapters: the
 * policy's decision for each payload, the sealed and offloaded frames, and
 * the ledger records. Not exported from the package; the adapters are its
 * callers, and each documents the payload names it uses.
 *
 * Decisions ({@link EnginePayloads.plan}), in order:
 * 1. the first `payloads.rules` glob that matches the name, else `payloads.default`;
 * 2. `offload` without an offload `Result` is `encrypt`;
 * 3. over `offloadAbove` bytes, `encrypt` becomes `offload` when there is a
 *    `Result` (a rule that says `clear` keeps the payload clear);
 * 4. `clear` holding a registered secret, or too large for the ledger to
 *    hold byte for byte (4 MiB), is `encrypt`.
 *
 * Frames, version 1 (what the engine keeps):
 * - sealed: the `PayloadCipher` format (`ALKC`...), sealed with the context
 *   `airlock-sdk/engine-payload/v1\n<binding>`, so a payload opens only
 *   where its adapter binds it (`temporal`, `restate:journal`, a handler's input);
 * - offloaded: `ALKO`, `0x01`, then an `alk1.` location token in UTF-8 (see `OffloadStore`).
 *
 * @example
 * ```ts
 * const payloads = new EnginePayloads({ host: airlockPayloadHost(airlock), engine: 'restate' })
 * const plan = payloads.plan('restate:journal', bytes)
 * const frame = plan.action === 'clear' ? bytes : payloads.seal(bytes, 'restate:journal')
 * ```
 */
export class EnginePayloads {
  readonly engine: string
  readonly #host: PayloadHost
  readonly #policy: PayloadPolicy
  readonly #cipher: PayloadCipher
  readonly #kid: () => string
  readonly #store: OffloadStore | undefined
  readonly #reserved = new Map<string, OffloadReservation[]>()
  // Writes behind still in flight, by token, shared by every user of the same Result in this process: a read waits for its write.
  readonly #writing: Map<string, Promise<void>>
  readonly #refilling = new Set<string>()

  constructor(options: EnginePayloadsOptions) {
    const keys = options.host.keys
    this.engine = options.engine
    this.#host = options.host
    this.#policy = options.host.policy
    this.#cipher = new PayloadCipher(keys)
    this.#kid = () => keys.activeKid
    this.#store = options.offload === undefined ? undefined : new OffloadStore(options.offload, keys, options.engine)
    this.#writing = writesTo(options.offload)
  }

  /** Whether an offload `Result` is configured. */
  get offloads(): boolean {
    return this.#store !== undefined
  }

  /** The kid new payloads are sealed under. */
  get activeKid(): string {
    return this.#kid()
  }

  /**
   * The policy's decision for one payload (see the class comment). `force`
   * makes it `encrypt` whatever the rules say, recorded under that rule
   * name: for what must never travel clear (a failure's message and stack).
   */
  plan(name: string, bytes: Uint8Array, force?: { rule: string }): PayloadPlan {
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError(`a payload is bytes, got ${describeType(bytes)}`)
    if (force !== undefined) return { action: 'encrypt', transforms: [{ path: '$', rule: force.rule, action: 'encrypt' }] }
    const { action: named, rule } = matchPayloadRule(this.#policy, name)
    const ruleName = rule === undefined ? 'payloads.default' : `payloads.rules.${rule}`
    let action: PayloadAction = named === 'offload' && this.#store === undefined ? 'encrypt' : named
    let decidedBy = ruleName
    if (action === 'encrypt' && this.#store !== undefined && bytes.length > this.#policy.offloadAbove) {
      action = 'offload'
      decidedBy = 'payloads.offloadAbove'
    }
    if (action === 'clear' && bytes.length > MAX_CLEAR_BYTES) {
      action = 'encrypt'
      decidedBy = 'payloads.ledger-bound'
    } else if (action === 'clear' && this.#host.holdsRegisteredSecret(lossyUtf8.decode(bytes))) {
      action = 'encrypt'
      decidedBy = 'registered-secret'
    }
    return { action, transforms: [{ path: '$', rule: decidedBy, action }] }
  }

  /** Seals bytes into a sealed frame bound to `binding`. */
  seal(bytes: Uint8Array, binding: string): Uint8Array {
    return this.#cipher.sealSync(bytes, sealedContext(binding))
  }

  /** Stores bytes with the offload `Result` and resolves with the offload frame. */
  async offload(bytes: Uint8Array, binding: string): Promise<Uint8Array> {
    return offloadFrame(await this.offloadToken(bytes, binding))
  }

  /** Stores bytes with the offload `Result` and resolves with the bare `alk1.` token (for an engine that frames it itself). */
  offloadToken(bytes: Uint8Array, binding: string): Promise<string> {
    return this.#requireStore().put(bytes, binding)
  }

  /** The bytes a bare token from {@link EnginePayloads.offloadToken} stands for. */
  openToken(token: string, binding: string): Promise<Uint8Array> {
    return this.#requireStore().get(token, binding)
  }

  /**
   * Makes `count` offload reservations for `binding` ready, so that
   * {@link EnginePayloads.offloadNow} can offload without waiting.
   */
  async reserve(binding: string, count = RESERVED_PER_BINDING): Promise<void> {
    const store = this.#requireStore()
    const ready = this.#reserved.get(binding) ?? []
    this.#reserved.set(binding, ready)
    while (ready.length < count) ready.push(await store.reserve(binding))
  }

  /**
   * Offloads synchronously, for an engine interface that cannot wait: the
   * frame comes from a reservation made ahead, and the write happens
   * behind, tracked by `pending`. Returns `undefined` when no reservation is
   * ready (the caller encrypts instead).
   */
  offloadNow(bytes: Uint8Array, binding: string, pending: PendingWork): Uint8Array | undefined {
    const store = this.#requireStore()
    const ready = this.#reserved.get(binding)
    const reservation = ready?.shift()
    this.#refill(binding)
    if (reservation === undefined) return undefined
    const token = reservation.token
    const written = store.write(reservation, Uint8Array.from(bytes)).finally(() => this.#writing.delete(token))
    this.#writing.set(token, written)
    pending.track(written)
    return offloadFrame(token)
  }

  /**
   * Ledgers what is handed to the engine under `payloads`; resolves once durable.
   * `sent` holds what the record says beyond the name and action.
   */
  record(name: string, plan: PayloadPlan, sent: JsonObject): Promise<string> {
    return this.#host.record({
      channel: 'payloads',
      engine: this.engine,
      sent: { name, action: plan.action, ...sent },
      transforms: plan.transforms,
    })
  }

  /**
   * The bytes a sealed or offloaded frame stands for.
   *
   * @throws PayloadFormatError when `frame` is neither (or an unknown version).
   * @throws PayloadTamperedError / UnknownKeyError / TokenBindingError / ResultNotFoundError: see `PayloadCipher` and `OffloadStore`.
   */
  async open(frame: Uint8Array, binding: string): Promise<Uint8Array> {
    const kind = EnginePayloads.kind(frame)
    if (kind === 'offloaded') {
      const store = this.#store
      if (store === undefined) throw new InvalidArgumentError('an offloaded payload can be read only with the offload Result it was written to: pass { offload }')
      const token = offloadToken(frame)
      await this.#writing.get(token)?.catch(() => undefined)
      return store.get(token, binding)
    }
    return this.#cipher.open(frame, sealedContext(binding))
  }

  /**
   * {@link EnginePayloads.open} for sealed frames, synchronously.
   *
   * @throws InvalidArgumentError for an offloaded frame (reading one is asynchronous).
   */
  openSync(frame: Uint8Array, binding: string): Uint8Array {
    if (EnginePayloads.kind(frame) === 'offloaded') {
      throw new InvalidArgumentError('an offloaded payload cannot be read synchronously; read it where decoding may wait (a journal value codec)')
    }
    return this.#cipher.openSync(frame, sealedContext(binding))
  }

  /**
   * Whether bytes are a sealed frame, an offload frame, or neither (by
   * their first bytes; says nothing about whether they open).
   *
   * @example
   * ```ts
   * EnginePayloads.kind(new TextEncoder().encode('{"a":1}'))   // undefined
   * ```
   */
  static kind(bytes: Uint8Array): 'sealed' | 'offloaded' | undefined {
    if (PayloadCipher.isSealed(bytes)) return 'sealed'
    if (bytes.length >= OFFLOAD_MAGIC.length && OFFLOAD_MAGIC.every((b, i) => bytes[i] === b)) return 'offloaded'
    return undefined
  }

  toString(): string {
    return `EnginePayloads(${this.engine}, ${REDACTED})`
  }

  toJSON(): { type: 'EnginePayloads'; engine: string } {
    return { type: 'EnginePayloads', engine: this.engine }
  }

  [inspect.custom](): string {
    return this.toString()
  }

  #requireStore(): OffloadStore {
    if (this.#store === undefined) throw new InvalidArgumentError('offloading needs an offload Result: pass { offload }')
    return this.#store
  }

  #refill(binding: string): void {
    if (this.#refilling.has(binding)) return
    this.#refilling.add(binding)
    // A failed refill leaves fewer reservations: payloads are then encrypted
    // inline, which sends less, so it fails nothing.
    void this.reserve(binding)
      .catch(() => undefined)
      .finally(() => this.#refilling.delete(binding))
  }
}

const writesByResult = new WeakMap<object, Map<string, Promise<void>>>()

function writesTo(result: unknown): Map<string, Promise<void>> {
  if (typeof result !== 'object' || result === null) return new Map<string, Promise<void>>()
  let writes = writesByResult.get(result)
  if (writes === undefined) writesByResult.set(result, (writes = new Map<string, Promise<void>>()))
  return writes
}

/**
 * How a ledger record holds clear bytes, byte for byte: as text when they
 * are UTF-8 (so a leak scan reads them), else as base64.
 *
 * @example
 * ```ts
 * clearBytes(new TextEncoder().encode('{"a":1}'))   // { encoding: 'utf8', text: '{"a":1}' }
 * ```
 */
export function clearBytes(bytes: Uint8Array): JsonObject {
  try {
    return { encoding: 'utf8', text: utf8.decode(bytes) }
  } catch {
    return { encoding: 'base64', text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64') }
  }
}

// Made once per binding: a payload's seal should cost its crypto, not its bookkeeping.
const sealedContexts = new Map<string, Uint8Array>()

function sealedContext(binding: string): Uint8Array {
  let context = sealedContexts.get(binding)
  if (context === undefined) {
    context = Buffer.from(SEALED_CONTEXT_PREFIX + binding, 'utf8')
    // Bindings are the adapters' names (a few per service), so this stays small; past a bound, no caching.
    if (sealedContexts.size < 10_000) sealedContexts.set(binding, context)
  }
  return context
}

function offloadFrame(token: string): Uint8Array {
  const text = Buffer.from(token, 'utf8')
  const frame = new Uint8Array(OFFLOAD_MAGIC.length + 1 + text.length)
  frame.set(OFFLOAD_MAGIC, 0)
  frame[OFFLOAD_MAGIC.length] = OFFLOAD_FORMAT_VERSION
  frame.set(text, OFFLOAD_MAGIC.length + 1)
  return frame
}

function offloadToken(frame: Uint8Array): string {
  const version = frame[OFFLOAD_MAGIC.length]
  if (version !== OFFLOAD_FORMAT_VERSION) {
    throw new PayloadFormatError(`offloaded payload reference has format version ${String(version)}; this version of airlock-sdk reads version ${OFFLOAD_FORMAT_VERSION}`)
  }
  return Buffer.from(frame.buffer, frame.byteOffset + OFFLOAD_MAGIC.length + 1, frame.length - OFFLOAD_MAGIC.length - 1).toString('utf8')
}


/**
 * What an engine interface that cannot wait (Restate's synchronous codec
 * and serdes) started and did not see finish: ledger records and writes
 * behind. A hook that can wait awaits {@link PendingWork.settled} before it
 * lets an outcome go.
 *
 * @example
 * ```ts
 * const pending = new PendingWork()
 * pending.track(payloads.record(name, plan, sent))
 * await pending.settled()   // rejects if a record or a write failed
 * ```
 */
export class PendingWork {
  readonly #pending = new Set<Promise<unknown>>()
  #failure: unknown

  /** Keeps a promise for {@link PendingWork.settled}. */
  track(promise: Promise<unknown>): void {
    this.#pending.add(promise)
    promise.then(
      () => this.#pending.delete(promise),
      (err: unknown) => {
        this.#pending.delete(promise)
        this.#failure ??= err
      },
    )
  }

  /**
   * Resolves once everything tracked so far has settled (not what is tracked
   * while it waits); rejects with the first failure since the last call (a
   * record the ledger refused, a write behind that failed).
   */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#pending])
    const failure = this.#failure
    this.#failure = undefined
    if (failure !== undefined) throw failure instanceof Error ? failure : new StorageError('a payload write or record failed')
  }
}
