import { ClosedError } from '../errors.js'
import { assertKnownOptions } from '../internal/known-options.js'
import type { ControlPlane, DeliveryBatch, DeliveryOutcome } from './control-plane.js'
import type { OutboundEvent } from './events.js'

/**
 * A control plane in memory: `.events` is exactly what was sent, in order,
 * as the JSON the wire would carry. For tests and for inspecting a policy.
 *
 * @example
 * ```ts
 * import { Airlock, KeyRing, MemoryControlPlane } from 'airlock-sdk'
 *
 * const controlPlane = new MemoryControlPlane()
 * const airlock = new Airlock({ keys: KeyRing.generate(), controlPlane })
 * await airlock.flow('etl', async () => 1).run({})
 * controlPlane.events.map((e) => e.kind) // ['parameters', 'flow-run-state', 'flow-run-state', 'flow-run-state']: Pending, Running, Success
 * ```
 */
export class MemoryControlPlane implements ControlPlane {
  readonly #events: OutboundEvent[] = []
  // The wire JSON of the events delivered since `events` was last read: parsed then, so a run that
  // nobody inspects keeps one string per event, not a tree of objects.
  #unread: string[] = []
  #closed = false

  /** @throws {InvalidArgumentError} for any option: it takes none, and a misplaced one (`new MemoryControlPlane({ url })`) is a mistake. */
  constructor(options: Readonly<Record<string, never>> = {}) {
    assertKnownOptions('MemoryControlPlane', options, [])
  }

  /** Every event delivered so far, in order. Each is parsed from its wire JSON. */
  get events(): readonly OutboundEvent[] {
    if (this.#unread.length > 0) {
      for (const line of this.#unread) this.#events.push(JSON.parse(line) as OutboundEvent)
      this.#unread = []
    }
    return this.#events
  }

  /** Takes the batch at once: a memory cannot be down. */
  deliver(batch: DeliveryBatch): Promise<DeliveryOutcome> {
    // Inside the executor, so a closed plane's throw becomes the rejection.
    return new Promise((resolve) => resolve(this.deliverNow(batch)))
  }

  /**
   * The same, synchronously: an event is in {@link MemoryControlPlane.events}
   * by the time the `emit` that sent it resolves.
   *
   * @throws {ClosedError} after `close()`.
   */
  deliverNow(batch: DeliveryBatch): DeliveryOutcome {
    if (this.#closed) throw new ClosedError('MemoryControlPlane is closed')
    // Kept as the exact bytes the wire would carry, not the caller's objects.
    for (const line of batch.lines) this.#unread.push(line)
    return DELIVERED
  }

  close(): Promise<void> {
    this.#closed = true
    return Promise.resolve()
  }
}

const DELIVERED: DeliveryOutcome = Object.freeze({ status: 'delivered', attempt: 1 })
