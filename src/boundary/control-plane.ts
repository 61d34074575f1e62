import type { OutboundEvent } from './events.js'

/**
 * The outcome of delivering a batch, reported by a transport so the boundary
 * can record it in the ledger (DESIGN.md, invariant 3: delivery failures are
 * entries too).
 *
 * - `delivered`: the control plane acknowledged the batch;
 * - `rejected`: the control plane refused it for good (an HTTP 4xx other than
 *   408 and 429); it is not retried;
 * - `retrying`: an attempt failed and another is scheduled; the events are
 *   still held (in memory or spilled to disk), not lost.
 *
 * @example
 * ```ts
 * // what a transport reports; an HttpControlPlane after a 503:
 * const report: DeliveryReport = { eventIds: ['5b1f…'], status: 'retrying', httpStatus: 503, reason: 'http-503', attempt: 1 }
 * ```
 */
export interface DeliveryReport {
  readonly eventIds: readonly string[]
  readonly status: 'delivered' | 'rejected' | 'retrying'
  /** The HTTP status, where there was one. */
  readonly httpStatus?: number
  /** The class of failure (`timeout`, `network`, `http-503`, ...). Never a response body. */
  readonly reason?: string
  /** Which attempt this was, from 1. */
  readonly attempt?: number
}

/**
 * Receives every {@link DeliveryReport} of a transport.
 *
 * @example
 * ```ts
 * const listener: DeliveryListener = (r) => { if (r.status === 'rejected') console.error(r.reason, r.eventIds.length) }
 * new HttpControlPlane({ url }).onDelivery(listener)   // standalone use: an Airlock registers its own listener
 * ```
 */
export type DeliveryListener = (report: DeliveryReport) => void

/**
 * Where outbound events go. Only `Airlock.emit` calls `send` (DESIGN.md,
 * invariant 1); no other module holds a transport.
 *
 * Implementations: {@link MemoryControlPlane} for tests, {@link FileControlPlane}
 * (NDJSON, the embedded default), {@link HttpControlPlane}.
 *
 * @example
 * ```ts
 * import type { ControlPlane, OutboundEvent } from 'airlock-sdk'
 *
 * class StdoutControlPlane implements ControlPlane {
 *   async send(batch: readonly OutboundEvent[]) { for (const e of batch) console.log(JSON.stringify(e)) }
 *   async flush() {}
 *   async close() {}
 * }
 * ```
 */
export interface ControlPlane {
  /**
   * Accepts a batch for delivery, in order. It resolves once the transport
   * holds the batch durably enough not to lose it (delivered, written, or
   * queued); delivery itself is reported through {@link ControlPlane.onDelivery}.
   */
  send(batch: readonly OutboundEvent[]): Promise<void>
  /** Resolves when everything accepted so far is delivered or definitively rejected. */
  flush(): Promise<void>
  /** Flushes, then releases resources. `send` after `close` throws `ERR_CLOSED`. */
  close(): Promise<void>
  /** Registers the listener for delivery reports. Transports that deliver synchronously may omit it. */
  onDelivery?(listener: DeliveryListener): void
}
