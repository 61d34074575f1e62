import { randomUUID } from 'node:crypto'
import { inspect } from 'node:util'
import { CanonicalText, canonicalJson, type JsonObject } from '../internal/canonical-json.js'
import {
  LEDGER_CHANNEL,
  Ledger,
  checkLedgerOptions,
  type LedgerAppendResult,
  type LedgerCheckpointHead,
  type LedgerDeliveryInput,
  type LedgerEventInput,
  type LedgerListener,
  type LedgerOptions,
  type LedgerStats,
} from '../audit/ledger.js'
import type { LedgerTransform } from '../audit/ledger-entry.js'
import { isKeyRing, type KeyRing } from '../crypto/key-ring.js'
import { REDACTED } from '../crypto/redacted.js'
import { onEverySecret, type Secret } from '../crypto/secret.js'
import { AirlockError, ClosedError, EventInvalidError, InvalidArgumentError, StorageError } from '../errors.js'
import { isoNow } from '../internal/iso-now.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { definePolicy, type PolicyInput, type ResolvedPolicy } from '../policy/define-policy.js'
import { Scrubber } from '../scrub/scrubber.js'
import type { ControlPlane } from './control-plane.js'
import { DeliveryCursor } from './delivery-cursor.js'
import { Outbox, type DeliveryReporter, type OutboxEvent } from './outbox.js'
import { readEmitInput, type Channel, type EmitInput, type EmitInputReading } from './emit-input.js'
import { isOutboundEvent, type OutboundEvent } from './events.js'
import { FileControlPlane } from './file-control-plane.js'
import { OutboundDoor, type OutboundRecord } from './outbound-door.js'
import { PolicyApplier, type ChannelTransform, type EventEnvelope } from './policy-applier.js'

/**
 * Options of an {@link AirlockBoundary} (and so of `Airlock`).
 *
 * @example
 * ```ts
 * const options: AirlockOptions = { keys: KeyRing.fromEnv(), policy: { preset: 'strict' }, ledger: { path: 'audit/ledger.ndjson' } }
 * const boundary = new AirlockBoundary(options)   // `new Airlock(options)` takes the same, plus runtime options
 * ```
 */
export interface AirlockOptions {
  /** A resolved policy (from `definePolicy`/`loadPolicy`) or a policy input. Default: `balanced`. */
  policy?: ResolvedPolicy | PolicyInput
  /** The key ring that encrypts locations and values and keys fingerprints. */
  keys: KeyRing
  /** Where events go. Default: a `FileControlPlane` at `.airlock/control-plane.ndjson`. */
  controlPlane?: ControlPlane
  /** The audit ledger. Default: `.airlock/ledger.ndjson`. */
  ledger?: LedgerOptions
}

/**
 * Counts per channel and action, `withheld` included. Counts only: never a value.
 *
 * @example
 * ```ts
 * const { withheld, deliveryFailures }: AirlockStats = airlock.stats()
 * if ((withheld.logs ?? 0) > 0 || deliveryFailures > 0) console.warn('see the ledger: events were withheld or refused')
 * ```
 */
export interface AirlockStats {
  /** Events sent, per channel. */
  readonly events: Readonly<Partial<Record<Channel, number>>>
  /** Transforms applied, per channel, then per action (`scrub`, `redact`, `encrypt`, ...). */
  readonly actions: Readonly<Partial<Record<Channel, Readonly<Record<string, number>>>>>
  /** Events replaced by a `withheld` event, per channel of the original. */
  readonly withheld: Readonly<Partial<Record<Channel, number>>>
  /** Log records the policy did not ship (level below threshold, or shipping off), from the logger and from engine adapters. */
  readonly suppressedLogs: number
  /**
   * Items the policy kept back by design, per channel: log records as in
   * `suppressedLogs`, and what engine adapters did not hand over (spans
   * under `telemetry.spans: false`).
   */
  readonly suppressed: Readonly<Partial<Record<Channel, number>>>
  /** Batches the control plane rejected for good. */
  readonly deliveryFailures: number
  /** Events not sent because the ledger could not record them. */
  readonly ledgerFailures: number
  /**
   * The ledger's group commits since it opened: entries made durable and the
   * syncs that did it (`entries / commits` is the mean group size). Zeros
   * until the ledger is open.
   */
  readonly ledger: LedgerStats
}

interface Prepared {
  readonly channel: Channel
  readonly event: OutboundEvent | undefined
  /** The event's canonical JSON: what the ledger holds and the wire carries. */
  readonly text?: string
  readonly transforms: readonly ChannelTransform[]
}

interface Door {
  readonly ledger: Ledger
  readonly outbox: Outbox
}

const noop = (): void => {}
const NOTHING_SENT: Promise<undefined> = Promise.resolve(undefined)
// The ledger serializes an entry's transforms when it is queued, so every event without any can share one list.
const NO_TRANSFORMS: readonly LedgerTransform[] = Object.freeze([])

/** The option keys the boundary reads; `Airlock` checks its own before passing these on. */
export const BOUNDARY_OPTION_KEYS = ['policy', 'keys', 'controlPlane', 'ledger'] as const

// No event needs more: logs are capped by logs.maxRecordBytes, and a bigger
// event is more likely a bug than metadata. Over it, the event is withheld.
const MAX_EVENT_CHARS = 1 << 20
// Well under the ledger's own bound of 10,000 per entry.
const MAX_TRANSFORMS_PER_EVENT = 1000
const ERROR_CODE_SHAPE = /^ERR_[A-Z0-9_]{1,60}$/
// What a run id the SDK makes looks like (UUIDs, `process`); a withheld event sends no other.
const RUN_ID_SHAPE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/

/**
 * The one door (docs/design.md, invariant 1): the only code that hands data to a
 * control-plane transport. `emit(input)`:
 * 1. validates the raw event;
 * 2. applies the policy (scrub, hash, encrypt, drop);
 * 3. appends the exact outbound JSON and its transforms to the ledger;
 * 4. hands the event to the transport.
 *
 * If validation, the policy, or serialization to the wire form (a strict
 * schema and a size cap) throws, a `withheld` event that names the channel
 * and the reason class, and carries no payload, takes the event's place. If the
 * ledger cannot record an event, nothing is sent: the wire never carries what
 * the ledger did not see. Events reach the transport in `emit` order.
 *
 * `Airlock` (exported from the package) extends this with `task`, `flow` and
 * `logger`; the door itself lives here, in `src/boundary`.
 *
 * @example
 * ```ts
 * import { AirlockBoundary, KeyRing, MemoryControlPlane } from 'airlock-sdk'
 *
 * const controlPlane = new MemoryControlPlane()
 * const boundary = new AirlockBoundary({ keys: KeyRing.generate(), controlPlane, ledger: { path: 'audit/ledger.ndjson' } })
 * await boundary.emit({ kind: 'parameters', runId: 'r1', flowName: 'etl', parameters: { email: 'ada@example.com' } })
 * controlPlane.events[0]  // { kind: 'parameters', parameters: { email: '[REDACTED:email]' }, ... }
 * await boundary.close()
 * ```
 */
export class AirlockBoundary {
  /** The resolved policy in force. */
  readonly policy: ResolvedPolicy
  /** The stable hash of the policy, stamped on every event and ledger entry. */
  readonly policyHash: string
  /** The scrubbing engine: register known secrets here. */
  readonly scrubber: Scrubber
  /**
   * The door for engine adapters (`airlock-sdk/temporal`, `/restate`,
   * `/otel`): the same policy, scrubber, ciphers and ledger, for what goes
   * to an engine instead of the control plane.
   */
  readonly outbound: OutboundDoor
  readonly #keys: KeyRing
  readonly #controlPlane: ControlPlane
  /** The ledger and the outbox delivering from it, open once both are. */
  readonly #door: Promise<Door>
  readonly #ledger: Promise<Ledger>
  #openLedger: Ledger | undefined
  #openDoor: Door | undefined
  readonly #applier: PolicyApplier
  // Events that take their ledger turn behind an event still being prepared, or before the ledger is open.
  #appendTail: Promise<unknown> = Promise.resolve()
  // How many events wait in that chain: while any does, a later event must queue behind it.
  #waiting = 0
  #closed = false
  // Why the ledger refuses every append, once known: it never opened, or a write failed (it then refuses what follows).
  #ledgerRefusal: AirlockError | undefined
  #inFlight = 0
  readonly #idleWaiters: (() => void)[] = []
  readonly #deliveryRecords = new Set<Promise<void>>()
  readonly #outboundRecords = new Set<Promise<unknown>>()
  readonly #stopWatchingSecrets: () => void
  #closing: Promise<void> | undefined
  readonly #stats = {
    events: new Map<Channel, number>(),
    actions: new Map<Channel, Map<string, number>>(),
    withheld: new Map<Channel, number>(),
    suppressed: new Map<Channel, number>(),
    deliveryFailures: 0,
    ledgerFailures: 0,
  }

  constructor(options: AirlockOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('Airlock needs an options object')
    // A misspelt option (`contolPlane`) must fail, not quietly fall back to a default.
    assertKnownOptions('Airlock', options, BOUNDARY_OPTION_KEYS)
    if (!isKeyRing(options.keys)) {
      throw new InvalidArgumentError('Airlock needs { keys: KeyRing }: KeyRing.generate(), KeyRing.fromEnv() or KeyRing.fromFile()')
    }
    // Checked now: a misspelt key or a directory must fail here, not turn into warnings while nothing is sent.
    if (options.ledger !== undefined) checkLedgerOptions(options.ledger, 'Airlock option ledger')
    this.#keys = options.keys
    this.policy = isResolvedPolicy(options.policy) ? options.policy : definePolicy(options.policy ?? {})
    this.policyHash = this.policy.hash
    this.scrubber = new Scrubber({ policy: this.policy.scrub, keys: this.#keys })
    // Every secret an SDK provider resolves, anywhere in the process, is masked from then on.
    this.#stopWatchingSecrets = onEverySecret(this.#registerSecret)
    this.#controlPlane = options.controlPlane ?? new FileControlPlane({ path: '.airlock/control-plane.ndjson' })
    this.#applier = new PolicyApplier(this.policy, this.scrubber, this.#keys)
    this.outbound = new OutboundDoor({
      applier: this.#applier,
      scrubber: this.scrubber,
      limits: { maxDepth: this.policy.scrub.maxDepth, maxNodes: this.policy.scrub.maxNodes },
      keys: this.#keys,
      record: this.#recordOutbound,
      refusal: () => (this.#closed ? new ClosedError('Airlock is closed; an adapter cannot hand anything to its engine after close()') : this.#ledgerRefusal),
      suppress: this.#suppress,
      failed: this.#failedOutbound,
    })
    keyRings.set(this, this.#keys)
    this.#door = this.#open(options.ledger ?? { path: '.airlock/ledger.ndjson' })
    this.#ledger = this.#door.then((door) => {
      this.#openDoor = door
      return (this.#openLedger = door.ledger)
    })
    // An unhandled rejection here would crash the process before the first
    // emit could report it; emit and close surface it instead.
    this.#ledger.catch((err: unknown) => this.#ledgerRefuses(err))
  }

  // The ledger, then the outbox over it: delivery resumes where the cursor
  // next to the ledger says the last process stopped.
  async #open(options: LedgerOptions): Promise<Door> {
    // Every signed head also leaves through the door: the control plane witnesses them all.
    const theirs = options.onCheckpoint
    const onCheckpoint = (head: LedgerCheckpointHead): void => {
      theirs?.(head)
      // The closing checkpoint is the ledger's last entry: nothing can be ledgered, so nothing sent, after it.
      if (!head.final) this.#sendCheckpoint(head)
    }
    const ledger = await Ledger.open(options.signingKey === undefined ? options : { ...options, onCheckpoint })
    try {
      const { seq, hash, end } = ledger.openedAt
      const { cursor, created } = await DeliveryCursor.open(`${ledger.path}.cursor`, { delivered: seq, offset: end, hash, inflight: null })
      if (created && seq > 0) {
        process.emitWarning(
          `airlock ledger ${ledger.path} had no delivery cursor: the ${seq} entries in it are taken as delivered, and delivery starts after them`,
          { code: 'AIRLOCK_OUTBOX' },
        )
      }
      const outbox = new Outbox({ ledgerPath: ledger.path, controlPlane: this.#controlPlane, cursor, tail: { seq, end }, reporter: this.#reporter })
      return { ledger, outbox }
    } catch (err) {
      await ledger.close().catch(noop)
      throw err
    }
  }

  readonly #registerSecret = (secret: Secret<string>): void => {
    this.scrubber.register(secret)
  }

  /**
   * Sends one event through the policy and the ledger to the outbox. Resolves
   * once the event's entry is synced (from then on a crash delays it and
   * cannot lose it) with the event as it goes over the wire (or the
   * `withheld` event that took its place), or `undefined` when the policy
   * suppressed it (a log below the shipped level) or the ledger could not
   * record it (counted in `ledgerFailures`, with a warning). Delivery
   * follows, in ledger order; `flush()` waits for it.
   *
   * @throws {ClosedError} (as a rejection) after `close()`.
   * @throws {StorageError} (as a rejection) when the ledger could not be opened
   *   (`LedgerTamperedError` or `LedgerUnsignedTailError` when it refused what
   *   it found): nothing can be sent, so every emit says why.
   *
   * @example
   * ```ts
   * const sent = await airlock.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running' })
   * ```
   */
  emit(input: EmitInput): Promise<OutboundEvent | undefined> {
    if (this.#closed) return Promise.reject(new ClosedError('Airlock is closed; emit after close() sends nothing'))
    // Read and normalized now, synchronously: the policy works on a snapshot
    // the caller can no longer change, and a getter that throws is a refused
    // input, never an exception out of emit.
    const reading = readEmitInput(input, this.scrubber)
    return this.#take(this.#prepare(reading))
  }

  // Ledger appends happen in call order, so ledger order and wire order are
  // emit order. An event prepared at once, with nothing waiting ahead of it,
  // takes its turn now; one whose policy work is still running (an error, a
  // result, an encrypted value) holds the turns after it until it is ready.
  #take(prepared: Prepared | Promise<Prepared>): Promise<OutboundEvent | undefined> {
    this.#inFlight++
    const door = this.#openDoor
    // Taking its turn now, the event settles itself when it is done: no promise per event just to count it.
    if (door !== undefined && this.#waiting === 0 && !(prepared instanceof Promise)) return this.#append(door, prepared, this.#settled)
    const done = this.#enqueue(prepared)
    done.then(this.#settled, this.#settled)
    return done
  }

  #enqueue(prepared: Prepared | Promise<Prepared>): Promise<OutboundEvent | undefined> {
    this.#waiting++
    const turn = this.#appendTail.then(() => prepared).then(this.#appendInTurn)
    this.#appendTail = turn.then(noop, noop)
    return turn.then(unwrapDone)
  }

  // Bound once, so every queued event passes the same function to then().
  readonly #appendInTurn = async (prepared: Prepared): Promise<{ done: Promise<OutboundEvent | undefined> }> => {
    try {
      let door: Door
      try {
        door = await this.#door
      } catch (err) {
        // The ledger never opened, so nothing can ever be sent: the caller hears why (a flow run rejects with it).
        this.#stats.ledgerFailures++
        throw err
      }
      return { done: this.#append(door, prepared) }
    } finally {
      // Its seq is taken (or it was refused): events after it may take theirs.
      this.#waiting--
    }
  }

  /**
   * Counts per channel and action, `withheld` included.
   *
   * @example
   * ```ts
   * airlock.stats().actions.parameters // { scrub: 3, hash: 1 }
   * ```
   */
  stats(): AirlockStats {
    const actions: Partial<Record<Channel, Record<string, number>>> = {}
    for (const [channel, counts] of this.#stats.actions) actions[channel] = Object.fromEntries(counts)
    return {
      events: Object.fromEntries(this.#stats.events),
      actions,
      withheld: Object.fromEntries(this.#stats.withheld),
      suppressedLogs: this.#stats.suppressed.get('logs') ?? 0,
      suppressed: Object.fromEntries(this.#stats.suppressed),
      deliveryFailures: this.#stats.deliveryFailures,
      ledgerFailures: this.#stats.ledgerFailures,
      ledger: this.#openLedger?.stats() ?? { entries: 0, commits: 0 },
    }
  }

  /**
   * Waits until every event emitted so far is ledgered and delivered (or
   * definitively rejected).
   */
  async flush(): Promise<void> {
    await this.#idle()
    await Promise.allSettled(this.#outboundRecords)
    let door: Door
    try {
      door = await this.#door
    } catch {
      // Nothing was ledgered, so nothing waits for delivery; emit reported the failure.
      return
    }
    await door.outbox.flush()
  }

  /**
   * Flushes the transport and the ledger, then closes both. Emitting after
   * close throws `ERR_CLOSED`. Calling close twice is safe.
   *
   * @example
   * ```ts
   * await airlock.close()
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#closed = true
    this.#stopWatchingSecrets()
    await this.#idle()
    await Promise.allSettled(this.#outboundRecords)
    let door: Door
    try {
      door = await this.#door
    } catch (err) {
      // The ledger never opened: say so here too, loudly, as emit did.
      await this.#controlPlane.close()
      throw err
    }
    // A signed head of everything so far goes out before the transport closes, so the
    // control plane holds this run's last head (the closing checkpoint covers only it).
    if (door.ledger.signs) {
      await door.ledger.checkpoint().catch(noop)
      await this.#idle()
    }
    // Delivery first: its last reports still go to the ledger.
    await door.outbox.close(this.#controlPlane.closeTimeoutMs ?? Infinity)
    await Promise.all(this.#deliveryRecords)
    await door.ledger.close()
  }

  toString(): string {
    return `Airlock(policy ${this.policyHash}, keys ${REDACTED})`
  }

  toJSON(): { type: 'Airlock'; policyHash: string } {
    return { type: 'Airlock', policyHash: this.policyHash }
  }

  [inspect.custom](): string {
    return this.toString()
  }

  // ---------------------------------------------------------------- pipeline

  // Resolves once every emit so far has been ledgered and handed to the
  // transport (or refused): emits made while waiting are waited for too.
  #idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
  }

  readonly #settled = (): void => {
    if (--this.#inFlight > 0) return
    for (const resolve of this.#idleWaiters.splice(0)) resolve()
  }

  // Synchronous unless the policy needs an asynchronous step for this event; never throws or rejects.
  #prepare(reading: EmitInputReading): Prepared | Promise<Prepared> {
    const { channel, input } = reading
    if (input === undefined) return { channel, event: this.#withheld(reading.runId, channel, 'validate', reading.problem), transforms: [] }
    try {
      if (input.kind === 'log' && !this.#applier.shipsLevel(input.level)) return { channel, event: undefined, transforms: [] }
      const transforms: ChannelTransform[] = []
      const envelope: EventEnvelope = {
        v: 1,
        id: randomUUID(),
        runId: this.#applier.runId(input.runId, channel, transforms),
        time: isoNow(),
        policyHash: this.policyHash,
      }
      const applied = this.#applier.apply(input, envelope, transforms)
      if (!(applied instanceof Promise)) return this.#serialize(channel, input.runId, applied, transforms)
      return applied.then(
        (event) => this.#serialize(channel, input.runId, event, transforms),
        (err: unknown) => ({ channel, event: this.#withheld(input.runId, channel, 'policy', err), transforms: [] }),
      )
    } catch (err) {
      return { channel, event: this.#withheld(input.runId, channel, 'policy', err), transforms: [] }
    }
  }

  #serialize(channel: Channel, runId: string, event: OutboundEvent, transforms: ChannelTransform[]): Prepared {
    const bounded = boundedTransforms(transforms, channel)
    try {
      // What goes out must match the strict wire schema, and be JSON: the
      // ledger holds this exact text, and the transport sends it.
      const text = canonicalJson(event, 'event')
      if (text.length > MAX_EVENT_CHARS) {
        throw new EventInvalidError(`an outbound event may be at most ${MAX_EVENT_CHARS} characters of JSON`)
      }
      // canonicalJson refused anything that is not JSON; the strict schema refuses any member the boundary did not put there.
      if (!isOutboundEvent(event)) throw new EventInvalidError('an outbound event does not match the wire schema')
      return { channel, event, text, transforms: bounded }
    } catch (err) {
      return { channel, event: this.#withheld(runId, channel, 'serialize', err), transforms: [] }
    }
  }

  // A checkpoint's trip to the control plane: built here, not from input, so no policy
  // applies (it carries no event content), ledgered and delivered like any event.
  #sendCheckpoint(head: LedgerCheckpointHead): void {
    const event: OutboundEvent = {
      v: 1,
      kind: 'ledger-checkpoint',
      id: randomUUID(),
      runId: LEDGER_CHANNEL,
      time: isoNow(),
      policyHash: this.policyHash,
      origin: head.origin,
      treeSize: head.size,
      rootHash: head.root,
      checkpoint: head.note,
    }
    const prepared: Prepared = { channel: LEDGER_CHANNEL, event, text: canonicalJson(event, 'event'), transforms: [] }
    // Its outcome is the ledger's (a failure is counted and warned of there); flush and close wait for it.
    this.#take(prepared).catch(noop)
  }

  #withheld(runId: unknown, channel: Channel, stage: string, err: unknown): OutboundEvent {
    // The reason is a class, never a message: messages can quote the data.
    // And only a code shaped like ours: a subclass could carry anything there.
    const code = err instanceof AirlockError && ERROR_CODE_SHAPE.test(err.code) ? err.code : 'ERR_INTERNAL'
    return {
      v: 1,
      kind: 'withheld',
      id: randomUUID(),
      runId: this.#withheldRunId(runId),
      time: isoNow(),
      policyHash: this.policyHash,
      channel,
      reason: `${stage}:${code}`,
    }
  }

  // A withheld event carries no payload, and its run id is no way around
  // that: only an id shaped like one, that no rule would change, goes out.
  #withheldRunId(runId: unknown): string {
    if (typeof runId !== 'string' || !RUN_ID_SHAPE.test(runId)) return 'unknown'
    try {
      return this.scrubber.scrubString(runId) === runId ? runId : 'unknown'
    } catch {
      return 'unknown'
    }
  }

  // What an engine adapter hands its engine: ledgered (no transport; the
  // adapter sends), counted, and waited for by flush and close.
  readonly #recordOutbound = (record: OutboundRecord): Promise<string> => {
    if (this.#closed) return Promise.reject(new ClosedError('Airlock is closed; an adapter cannot hand anything to its engine after close()'))
    const id = randomUUID()
    const channel = record.channel
    const given = record.transforms ?? []
    // Copied now, once (the caller's array may change after this returns), members in sorted order: the ledger's
    // canonical JSON of them is then JSON.stringify's. Past the bound, one `max-transforms` entry says the rest
    // were not itemised; their actions still count.
    const kept = given.length <= MAX_TRANSFORMS_PER_EVENT ? given.length : MAX_TRANSFORMS_PER_EVENT - 1
    const transforms: LedgerTransform[] = new Array<LedgerTransform>(kept)
    for (let i = 0; i < kept; i++) {
      const t = given[i]!
      transforms[i] = { action: t.action, path: t.path, rule: t.rule }
    }
    let unlisted: string[] | undefined
    if (given.length > kept) {
      unlisted = []
      for (let i = kept; i < given.length; i++) unlisted.push(given[i]!.action)
      transforms.push({ action: 'truncate', path: '$', rule: 'max-transforms' })
    }
    // Members in sorted order here too.
    const event: JsonObject = { engine: record.engine, id, kind: 'engine', policyHash: this.policyHash, sent: record.sent, time: isoNow(), v: 1 }
    const recorded = this.#ledger.then((ledger) =>
      ledger.append({ channel, eventId: id, policyHash: this.policyHash, event, transforms, status: 'sent' }),
    )
    this.#outboundRecords.add(recorded)
    void recorded.then(
      () => {
        this.#outboundRecords.delete(recorded)
        this.#countEvent(channel)
        for (let i = 0; i < kept; i++) this.#countAction(channel, transforms[i]!.action)
        if (unlisted !== undefined) for (const action of unlisted) this.#countAction(channel, action)
        if (record.withheld !== undefined && record.withheld > 0) this.#countWithheld(channel, record.withheld)
      },
      (err: unknown) => {
        this.#outboundRecords.delete(recorded)
        this.#stats.ledgerFailures++
        this.#ledgerRefuses(err)
      },
    )
    return recorded.then(() => id)
  }

  readonly #suppress = (channel: Channel, count: number): void => {
    const suppressed = this.#stats.suppressed
    suppressed.set(channel, (suppressed.get(channel) ?? 0) + count)
  }

  readonly #failedOutbound = (ids: readonly string[], reason: string): void => {
    this.#stats.deliveryFailures++
    this.#recordDelivery({ eventIds: [...ids], status: 'failed', error: { code: reason } })
  }

  #countWithheld(channel: Channel, count: number): void {
    const withheld = this.#stats.withheld
    withheld.set(channel, (withheld.get(channel) ?? 0) + count)
  }

  // Takes the event's turn in the ledger now: its seq follows every event appended before. `settled`, when given, is
  // called once the event is done (sent, refused or suppressed).
  #append(door: Door, prepared: Prepared, settled?: () => void): Promise<OutboundEvent | undefined> {
    const { event, channel, transforms } = prepared
    if (event === undefined) {
      if (channel === 'logs') this.#suppress('logs', 1)
      settled?.()
      return NOTHING_SENT
    }
    return new Promise((resolve, reject) => {
      const ledgered = new LedgeredEvent(this.#ledgeredSink, door.outbox, event, prepared.text ?? canonicalJson(event, 'event'), channel, transforms, resolve, reject, settled)
      try {
        door.ledger.enqueue(ledgerInput(event, ledgered.line, channel, this.policyHash, transforms), ledgered)
      } catch (err) {
        if (!(err instanceof InvalidArgumentError)) return ledgered.failed(err)
        // Refused for what it holds (a bound the ledger keeps): a ledgered
        // withheld event takes its place, so no key or path can make an event vanish.
        const withheld = this.#withheld(event.runId, channel, 'ledger', err)
        ledgered.replaceWith(withheld, canonicalJson(withheld, 'event'))
        try {
          door.ledger.enqueue(ledgerInput(withheld, ledgered.line, channel, this.policyHash, ledgered.transforms), ledgered)
        } catch (again) {
          ledgered.failed(again)
        }
      }
    })
  }

  // What the ledger's listeners call back, bound once for every event.
  readonly #ledgeredSink: LedgeredEventSink = {
    durable: (ledgered) => {
      this.#count(ledgered.event, ledgered.channel, ledgered.transforms)
      ledgered.outbox.add(ledgered)
    },
    failed: (reason) => this.#ledgerFailed(reason),
  }

  #count(event: OutboundEvent, channel: Channel, transforms: readonly ChannelTransform[]): void {
    if (event.kind === 'withheld') this.#countWithheld(channel, 1)
    else this.#countSent(channel, transforms)
  }

  #countSent(channel: Channel, transforms: readonly ChannelTransform[]): void {
    this.#countEvent(channel)
    for (const t of transforms) this.#countAction(t.channel, t.action)
  }

  #countEvent(channel: Channel): void {
    const events = this.#stats.events
    events.set(channel, (events.get(channel) ?? 0) + 1)
  }

  #countAction(channel: Channel, action: string): void {
    const actions = this.#stats.actions
    let counts = actions.get(channel)
    if (counts === undefined) actions.set(channel, (counts = new Map<string, number>()))
    counts.set(action, (counts.get(action) ?? 0) + 1)
  }

  // A ledger that failed (closed, a write that failed, never opened) refuses every append after: remembered, so a
  // synchronous engine interface can refuse before it sends (OutboundDoor.assertOpen).
  // (An entry refused for what it holds, InvalidArgumentError, says nothing of the next one.)
  #ledgerRefuses(err: unknown): void {
    if (err instanceof InvalidArgumentError) return
    this.#ledgerRefusal ??= err instanceof AirlockError ? err : new StorageError('the ledger failed; it records nothing more', { cause: err })
  }

  #ledgerFailed(err: unknown): undefined {
    this.#ledgerRefuses(err)
    this.#stats.ledgerFailures++
    const code = err instanceof AirlockError ? err.code : ((err as NodeJS.ErrnoException)?.code ?? 'ERR_INTERNAL')
    process.emitWarning(`airlock ledger could not record an event (${code}); it was not sent`, { code: 'AIRLOCK_LEDGER' })
    return undefined
  }

  // What the outbox says of delivery goes to the ledger; close() waits for it.
  readonly #reporter: DeliveryReporter = {
    retrying: (eventIds, retry) => {
      const error: { code: string; status?: number } = { code: retry.reason }
      if (retry.httpStatus !== undefined) error.status = retry.httpStatus
      this.#recordDelivery({ eventIds: [...eventIds], status: 'retrying', error })
    },
    rejected: (eventIds, outcome) => {
      this.#stats.deliveryFailures++
      const error: { code: string; status?: number } = { code: outcome.reason ?? 'rejected' }
      if (outcome.httpStatus !== undefined) error.status = outcome.httpStatus
      this.#recordDelivery({ eventIds: [...eventIds], status: 'failed', error })
    },
    stopped: (error) => {
      process.emitWarning(`airlock: delivery stopped (${error.code}); undelivered events stay in the ledger for the next process`, { code: 'AIRLOCK_OUTBOX' })
    },
  }

  #recordDelivery(input: LedgerDeliveryInput): void {
    const record = this.#ledger.then((ledger) => ledger.appendDelivery(input)).then(noop, (err: unknown) => void this.#ledgerFailed(err))
    this.#deliveryRecords.add(record)
    void record.finally(() => this.#deliveryRecords.delete(record))
  }
}

/** What a {@link LedgeredEvent} calls back: the boundary's, bound once. */
interface LedgeredEventSink {
  /** Counts the event and hands it to the outbox; may throw, which rejects the emit. */
  durable(ledgered: LedgeredEvent): void
  /** Counts and warns of a ledger that failed; resolves the emit with this value. */
  failed(reason: unknown): undefined
}

/**
 * One event from the ledger's group to the wire: it listens for its entry
 * to be on disk, and is then the outbox's record of it and the value its
 * emit resolves with. One object per event, where a chain of promises and
 * closures would each be carried by the collector for as long as the group
 * waits to be written.
 */
class LedgeredEvent implements LedgerListener, OutboxEvent {
  seq = 0
  end = 0
  hash = ''
  #sink: LedgeredEventSink
  #resolve: (sent: OutboundEvent | undefined) => void
  #reject: (reason: unknown) => void
  #settled: (() => void) | undefined

  constructor(
    sink: LedgeredEventSink,
    readonly outbox: Outbox,
    public event: OutboundEvent,
    public line: string,
    readonly channel: Channel,
    public transforms: readonly ChannelTransform[],
    resolve: (sent: OutboundEvent | undefined) => void,
    reject: (reason: unknown) => void,
    settled: (() => void) | undefined,
  ) {
    this.#sink = sink
    this.#resolve = resolve
    this.#reject = reject
    this.#settled = settled
  }

  /** A `withheld` event goes in its place, with no transforms. */
  replaceWith(withheld: OutboundEvent, line: string): void {
    this.event = withheld
    this.line = line
    this.transforms = []
  }

  durable(result: LedgerAppendResult): void {
    this.seq = result.seq
    this.end = result.end
    this.hash = result.hash
    try {
      this.#sink.durable(this)
      this.#resolve(this.event)
    } catch (err) {
      this.#reject(err)
    }
    this.#settled?.()
  }

  /** The ledger refused it, or will never write it. */
  failed(reason: unknown): void {
    this.#resolve(this.#sink.failed(reason))
    this.#settled?.()
  }
}

// Engine adapters build their ciphers from the Airlock's keys; the keys are
// not a public member of the Airlock.
const keyRings = new WeakMap<AirlockBoundary, KeyRing>()

/**
 * The key ring an Airlock was built with, for the engine adapters in this
 * package (they seal payloads and tokens with it). Not exported from the
 * package root.
 *
 * @throws InvalidArgumentError when `boundary` is not an Airlock.
 * @example
 * ```ts
 * const cipher = new PayloadCipher(keyRingOf(airlock))
 * ```
 */
export function keyRingOf(boundary: AirlockBoundary): KeyRing {
  const keys = keyRings.get(boundary)
  if (keys === undefined) throw new InvalidArgumentError('expected an Airlock (or AirlockBoundary)')
  return keys
}

function unwrapDone(appended: { done: Promise<OutboundEvent | undefined> }): Promise<OutboundEvent | undefined> {
  return appended.done
}

function ledgerInput(event: OutboundEvent, text: string, channel: Channel, policyHash: string, transforms: readonly ChannelTransform[]): LedgerEventInput {
  return {
    channel,
    eventId: event.id,
    policyHash,
    event: new CanonicalText(text),
    // Members in sorted order: the ledger's canonical JSON of them is then JSON.stringify's.
    transforms: transforms.length === 0 ? NO_TRANSFORMS : transforms.map(({ path, rule, action }) => ({ action, path, rule })),
    status: event.kind === 'withheld' ? 'withheld' : 'sent',
  }
}

// An event's transforms, kept to what one ledger entry holds: past the
// bound, one `max-transforms` entry says the rest were not itemised.
function boundedTransforms(transforms: ChannelTransform[], channel: Channel): ChannelTransform[] {
  if (transforms.length <= MAX_TRANSFORMS_PER_EVENT) return transforms
  const kept = transforms.slice(0, MAX_TRANSFORMS_PER_EVENT - 1)
  kept.push({ channel, path: '$', rule: 'max-transforms', action: 'truncate' })
  return kept
}

// definePolicy and loadPolicy return frozen policies carrying their hash;
// anything else is input, resolved here over the balanced preset.
function isResolvedPolicy(value: unknown): value is ResolvedPolicy {
  return typeof value === 'object' && value !== null && Object.isFrozen(value) && typeof (value as { hash?: unknown }).hash === 'string'
}
