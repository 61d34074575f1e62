import { readLedgerFrom } from '../audit/read-ledger-from.js'
import { ClosedError, DeliveryError } from '../errors.js'
import { canonicalJson } from '../internal/canonical-json.js'
import { sha256Base64url } from '../internal/sha256.js'
import type { ControlPlane, DeliveryOutcome, DeliveryRetry } from './control-plane.js'
import type { DeliveryCursor, DeliveryPosition } from './delivery-cursor.js'
import type { OutboundEvent } from './events.js'

/**
 * An event the ledger holds durably, ready to deliver: where its entry is
 * (seq, end offset, hash) and its exact wire JSON.
 *
 * @example
 * ```ts
 * outbox.add({ seq: 42, end: 18_233, hash: 'a3f0…', line: text, event })
 * ```
 */
export interface OutboxEvent {
  readonly seq: number
  readonly end: number
  readonly hash: string
  readonly line: string
  readonly event: OutboundEvent
}

/**
 * What the outbox tells its owner about delivery, so the ledger records it.
 *
 * @example
 * ```ts
 * const reporter: DeliveryReporter = { retrying: (ids, retry) => ledgerRetry(ids, retry), rejected: (ids, outcome) => ledgerFailure(ids, outcome) }
 * ```
 */
export interface DeliveryReporter {
  retrying(eventIds: readonly string[], retry: DeliveryRetry): void
  rejected(eventIds: readonly string[], outcome: DeliveryOutcome): void
  /** Delivery stopped on an error no retry can fix (the disk); events stay in the ledger. */
  stopped(error: DeliveryError): void
}

/**
 * Options of {@link Outbox}.
 *
 * @example
 * ```ts
 * const options: OutboxOptions = { ledgerPath, controlPlane, cursor, tail: { seq: 41, end: 18_233 }, reporter }
 * ```
 */
export interface OutboxOptions {
  /** The ledger file events are read back from when they are not held in memory. */
  readonly ledgerPath: string
  readonly controlPlane: ControlPlane
  readonly cursor: DeliveryCursor
  /** The ledger's last durable entry when the outbox opens: delivery resumes from the cursor up to it. */
  readonly tail: { readonly seq: number; readonly end: number }
  readonly reporter: DeliveryReporter
  /** Most events held in memory; past it they are read back from the ledger file. Default 10,000. */
  readonly maxInMemory?: number
}

const DEFAULT_MAX_BATCH = 100
const DEFAULT_MAX_IN_MEMORY = 10_000
// How long an acknowledgement waits to be written: deliveries within it
// cost one cursor write, and a position a little stale only means the last
// events go again (under their keys) after a crash.
const ACK_WRITE_DELAY_MS = 200

/**
 * The ledger as the outbox (docs/design.md, invariants 5 and 8). Events arrive
 * here only once their ledger entry is synced (write-ahead), and leave in
 * ledger order, one batch at a time, through the control plane's `deliver`.
 * How far delivery got lives in the {@link DeliveryCursor} next to the
 * ledger, and each batch is recorded there before it is sent: a process that
 * dies delays events and loses none, and the next one opening the same
 * ledger sends the batch that was in flight again, whole, under the same
 * idempotency key, then everything after it.
 *
 * Memory stays bounded: at most `maxInMemory` events are held; past that,
 * events stay on disk, in the ledger they are in anyway, and are read back
 * (their chain checked) as delivery reaches them. A control plane down for
 * hours costs disk, not heap. Internal to src/boundary.
 *
 * @example
 * ```ts
 * const outbox = new Outbox({ ledgerPath, controlPlane, cursor, tail, reporter })
 * outbox.add(durableEvent)
 * await outbox.flush()
 * await outbox.close(5_000)
 * ```
 */
export class Outbox {
  readonly #ledgerPath: string
  readonly #controlPlane: ControlPlane
  readonly #cursor: DeliveryCursor
  readonly #reporter: DeliveryReporter
  readonly #maxBatch: number
  readonly #maxInMemory: number
  readonly #queue: OutboxEvent[] = []
  #head = 0
  /** Where events not held in memory start in the ledger file; undefined when all are held. */
  #backlog: { offset: number; seq: number; prev: string } | undefined
  /** The end offset of the last durable entry known: backlog reading stops there. */
  #durableEnd: number
  /** The seq of the last event handed over; flush waits until delivery is past it (or nothing is left to send). */
  #lastSeq = 0
  #position: DeliveryPosition
  /** The batch recorded in the cursor before a crash, sent first and whole. */
  #resend: { from: number; to: number } | undefined
  #wake: (() => void) | undefined
  /** True while the loop is sending a batch (or reading the backlog). */
  #busy = false
  /** Delivery went past what the cursor says, by `deliverNow`: the loop writes it when idle. */
  #unwritten = false
  #waiters: { seq: number; resolve: () => void; reject: (err: Error) => void }[] = []
  #stopping = false
  #fault: DeliveryError | undefined
  readonly #loop: Promise<void>

  constructor(options: OutboxOptions) {
    this.#ledgerPath = options.ledgerPath
    this.#controlPlane = options.controlPlane
    this.#cursor = options.cursor
    this.#reporter = options.reporter
    this.#maxBatch = Math.max(1, options.controlPlane.maxBatch ?? DEFAULT_MAX_BATCH)
    this.#maxInMemory = Math.max(this.#maxBatch, options.maxInMemory ?? DEFAULT_MAX_IN_MEMORY)
    this.#position = options.cursor.position
    this.#durableEnd = options.tail.end
    const { offset, delivered, hash, inflight } = this.#position
    if (offset < options.tail.end) this.#backlog = { offset, seq: delivered + 1, prev: hash }
    this.#resend = inflight === null ? undefined : { from: inflight.from, to: inflight.to }
    this.#loop = this.#run()
  }

  /** Hands over an event whose entry is synced. Call in ledger order. */
  add(event: OutboxEvent): void {
    this.#lastSeq = event.seq
    if (event.end > this.#durableEnd) this.#durableEnd = event.end
    // Older events are still on disk: this one is read back after them.
    if (this.#backlog !== undefined) return this.#wakeUp()
    if (this.#queue.length - this.#head >= this.#maxInMemory) {
      const last = this.#queue[this.#queue.length - 1]!
      this.#backlog = { offset: last.end, seq: last.seq + 1, prev: last.hash }
      return this.#wakeUp()
    }
    if (this.#deliverNow(event)) return
    this.#queue.push(event)
    this.#wakeUp()
  }

  // A transport that takes an event synchronously gets it at once, when nothing is ahead of it.
  #deliverNow(event: OutboxEvent): boolean {
    const controlPlane = this.#controlPlane
    if (controlPlane.deliverNow === undefined || this.#busy || this.#stopping || this.#resend !== undefined || this.#available() > 0) return false
    let outcome: DeliveryOutcome
    try {
      outcome = controlPlane.deliverNow({
        events: [event.event],
        lines: [event.line],
        // An own, enumerable getter: the same key whenever it is read (or spread, or serialized), but a transport
        // that takes events synchronously (a memory, a file) seldom reads it, and a digest per event is not free.
        get idempotencyKey() {
          return idempotencyKey([event.event.id])
        },
      })
    } catch {
      // Leave it to the loop, which reports what the transport says.
      return false
    }
    if (outcome.status === 'rejected') this.#reporter.rejected([event.event.id], outcome)
    this.#position = { delivered: event.seq, offset: event.end, hash: event.hash, inflight: null }
    this.#resolveWaiters(event.seq)
    // The loop writes the position once its wait for more acknowledgements
    // ends; while it waits, more events delivered at once only move the
    // position on (no timer per event).
    if (!this.#unwritten) {
      this.#unwritten = true
      this.#wakeUp()
    }
    return true
  }

  #resolveWaiters(delivered: number): void {
    for (let i = 0; i < this.#waiters.length; ) {
      const waiter = this.#waiters[i]!
      if (waiter.seq <= delivered) {
        this.#waiters.splice(i, 1)
        waiter.resolve()
      } else i++
    }
  }

  /**
   * Resolves once every event handed over so far is delivered, or refused
   * for good. Rejects when delivery stops first (`close`, or a fault).
   */
  flush(): Promise<void> {
    // While events wait on disk, the last of them is not known yet: wait until reading catches up.
    const seq = this.#backlog === undefined ? this.#lastSeq : Number.POSITIVE_INFINITY
    if (this.#idle() || this.#position.delivered >= seq) return Promise.resolve()
    if (this.#fault !== undefined) return Promise.reject(this.#fault)
    if (this.#stopping) return Promise.reject(new ClosedError('the outbox is closed; undelivered events stay in the ledger'))
    return new Promise((resolve, reject) => this.#waiters.push({ seq, resolve, reject }))
  }

  /**
   * Waits up to `timeoutMs` for delivery, then stops: what is undelivered
   * stays in the ledger, and the cursor says where the next process resumes.
   */
  async close(timeoutMs: number): Promise<void> {
    if (!this.#stopping && this.#fault === undefined) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => {
        if (Number.isFinite(timeoutMs)) timer = setTimeout(resolve, timeoutMs)
      })
      await Promise.race([this.flush().catch(() => undefined), timeout])
      clearTimeout(timer)
    }
    this.#stopping = true
    this.#wakeUp()
    await this.#controlPlane.close()
    await this.#loop
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new ClosedError('the outbox closed with events undelivered; they stay in the ledger for the next process'))
    await this.#cursor.close()
  }

  async #run(): Promise<void> {
    try {
      for (;;) {
        const batch = await this.#nextBatch()
        if (batch === undefined) break
        if (!(await this.#deliver(batch))) break
      }
      // What delivery reached, for the next process: the last ack may not be written yet.
      // A batch cut short keeps its record, so the next process sends it again, whole.
      if (this.#cursor.position.delivered !== this.#position.delivered) await this.#cursor.write(this.#position)
    } catch (err) {
      this.#fault = err instanceof DeliveryError ? err : new DeliveryError('delivery from the outbox stopped', { cause: err })
      this.#reporter.stopped(this.#fault)
      for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#fault)
    }
  }

  /** Sends one batch; false when the control plane closed before answering (the batch stays recorded as in flight). */
  async #deliver(batch: OutboxEvent[]): Promise<boolean> {
    const first = batch[0]!
    const last = batch[batch.length - 1]!
    const ids = batch.map((e) => e.event.id)
    const key = idempotencyKey(ids)
    // Recorded before it is sent: after a crash the same batch goes again, under the same key.
    await this.#cursor.write({ ...this.#position, inflight: { from: first.seq, to: last.seq, key } })
    this.#unwritten = false
    let outcome: DeliveryOutcome
    try {
      outcome = await this.#controlPlane.deliver(
        { events: batch.map((e) => e.event), lines: batch.map((e) => e.line), idempotencyKey: key },
        (retry) => this.#reporter.retrying(ids, retry),
      )
    } catch (err) {
      if (err instanceof ClosedError || this.#stopping) return false
      throw err
    }
    if (outcome.status === 'rejected') this.#reporter.rejected(ids, outcome)
    this.#position = { delivered: last.seq, offset: last.end, hash: last.hash, inflight: null }
    this.#resend = undefined
    this.#resolveWaiters(last.seq)
    // The next batch's record carries the ack; idle, the loop writes it a little later.
    this.#unwritten = true
    return true
  }

  async #nextBatch(): Promise<OutboxEvent[] | undefined> {
    for (;;) {
      this.#busy = false
      if (this.#stopping) return undefined
      if (this.#available() > 0) {
        const batch = this.#take()
        if (batch.length > 0) {
          this.#busy = true
          return batch
        }
        // The batch recorded before a crash had no event left to send: go on as usual.
        this.#resend = undefined
        continue
      }
      if (this.#backlog !== undefined && this.#backlog.offset < this.#durableEnd) {
        this.#busy = true
        await this.#refill()
        continue
      }
      if (this.#backlog !== undefined) this.#backlog = undefined
      // Nothing to send: every event known is delivered.
      for (const waiter of this.#waiters.splice(0)) waiter.resolve()
      if (this.#unwritten) {
        if (await this.#sleep(ACK_WRITE_DELAY_MS)) continue
        // Events delivered at once meanwhile move the position on; the next round writes it.
        this.#unwritten = false
        await this.#cursor.write(this.#position)
        continue
      }
      await new Promise<void>((resolve) => (this.#wake = resolve))
    }
  }

  // The next batch: the one in flight before a crash, exactly; else up to maxBatch events.
  #take(): OutboxEvent[] {
    const queue = this.#queue
    const batch: OutboxEvent[] = []
    const resend = this.#resend
    while (this.#head < queue.length) {
      const next = queue[this.#head]!
      if (resend !== undefined ? next.seq > resend.to : batch.length >= this.#maxBatch) break
      batch.push(next)
      this.#head++
    }
    if (this.#head > 1024 && this.#head * 2 > queue.length) {
      queue.splice(0, this.#head)
      this.#head = 0
    }
    return batch
  }

  // Nothing held, nothing on disk left to read, nothing being sent.
  #idle(): boolean {
    return !this.#busy && this.#available() === 0 && (this.#backlog === undefined || this.#backlog.offset >= this.#durableEnd)
  }

  #available(): number {
    return this.#queue.length - this.#head
  }

  // Reads events back from the ledger file, from where memory stopped holding them.
  async #refill(): Promise<void> {
    const backlog = this.#backlog!
    const end = this.#durableEnd
    let next = backlog
    for await (const { entry, end: entryEnd } of readLedgerFrom(this.#ledgerPath, backlog, end)) {
      next = { offset: entryEnd, seq: entry.seq + 1, prev: entry.hash }
      if (entry.kind !== 'event' || isEngineRecord(entry.event)) continue
      if (entry.seq > this.#lastSeq) this.#lastSeq = entry.seq
      this.#queue.push({ seq: entry.seq, end: entryEnd, hash: entry.hash, line: canonicalJson(entry.event), event: entry.event as unknown as OutboundEvent })
      if (this.#available() >= this.#maxInMemory) break
    }
    // Events added while reading went to disk only: keep reading until caught up.
    this.#backlog = next.offset >= this.#durableEnd ? undefined : next
    if (this.#backlog === undefined) {
      for (const waiter of this.#waiters) if (waiter.seq === Number.POSITIVE_INFINITY) waiter.seq = this.#lastSeq
    }
  }

  // Waits `ms`, or less when woken (then true): an unref'd timer, which never keeps the process alive.
  #sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined
        resolve(false)
      }, ms)
      timer.unref()
      this.#wake = () => {
        clearTimeout(timer)
        resolve(true)
      }
    })
  }

  #wakeUp(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}

/**
 * `alb1.` + base64url(SHA-256 of the event ids joined by `\n`): the same for
 * every attempt at the same batch.
 *
 * @example
 * ```ts
 * idempotencyKey(['e6290974-df2b-433f-a4a7-dcf9c7ea8514'])   // 'alb1.…'
 * ```
 */
export function idempotencyKey(ids: readonly string[]): string {
  return `alb1.${sha256Base64url(ids.length === 1 ? ids[0]! : ids.join('\n'))}`
}

// What an engine adapter handed its engine is ledgered too, but it is not control-plane traffic.
function isEngineRecord(event: unknown): boolean {
  return (event as { kind?: unknown }).kind === 'engine'
}
