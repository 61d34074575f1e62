import { ClosedError } from '../errors.js'
import type { ControlPlane, DeliveryListener } from './control-plane.js'
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
  #listener: DeliveryListener | undefined
  #closed = false

  /** Every event sent so far, in order. Each is a deep copy made from its wire JSON. */
  get events(): readonly OutboundEvent[] {
    return this.#events
  }

  send(batch: readonly OutboundEvent[]): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('MemoryControlPlane is closed'))
    // A round trip through JSON stores what the wire would carry, not the
    // caller's objects, which it could still mutate.
    for (const event of batch) this.#events.push(JSON.parse(JSON.stringify(event)) as OutboundEvent)
    this.#listener?.({ eventIds: batch.map((e) => e.id), status: 'delivered' })
    return Promise.resolve()
  }

  flush(): Promise<void> {
    return Promise.resolve()
  }

  close(): Promise<void> {
    this.#closed = true
    return Promise.resolve()
  }

  onDelivery(listener: DeliveryListener): void {
    this.#listener = listener
  }
}
