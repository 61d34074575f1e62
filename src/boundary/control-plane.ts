import type { OutboundEvent } from './events.js'

/**
 * One batch the outbox hands a transport: consecutive events of the ledger,
 * in order.
 *
 * @example
 * ```ts
 * const batch: DeliveryBatch = { events, lines: events.map((e) => canonicalJson(e)), idempotencyKey: 'alb1.…' }
 * ```
 */
export interface DeliveryBatch {
  /** The events, in ledger order. */
  readonly events: readonly OutboundEvent[]
  /** Each event's JSON exactly as the ledger holds it (canonical JSON): the bytes to put on the wire. */
  readonly lines: readonly string[]
  /**
   * `alb1.` + base64url(SHA-256 of the event ids joined by `\n`): the same
   * for every attempt at this batch, in this process and in the next one
   * (the outbox records a batch before it is sent, and a process resuming
   * after a crash sends that same batch first).
   */
  readonly idempotencyKey: string
}

/**
 * How one delivery ended: the control plane took the batch, or refused it
 * for good (a 4xx, or as many attempts as it is allowed). Never a response
 * body.
 *
 * @example
 * ```ts
 * const outcome: DeliveryOutcome = { status: 'rejected', reason: 'http-422', httpStatus: 422, attempt: 1 }
 * ```
 */
export interface DeliveryOutcome {
  readonly status: 'delivered' | 'rejected'
  /** The HTTP status, where there was one. */
  readonly httpStatus?: number
  /** The class of failure for a rejection (`http-422`, `attempts-exhausted`, ...). */
  readonly reason?: string
  /** Which attempt it was, from 1. */
  readonly attempt: number
}

/**
 * An attempt that failed and will be made again (a timeout, a 503, a
 * network error), reported as it happens so the ledger can record it.
 *
 * @example
 * ```ts
 * const retry: DeliveryRetry = { reason: 'http-503', httpStatus: 503, attempt: 2 }
 * ```
 */
export interface DeliveryRetry {
  readonly reason: string
  readonly httpStatus?: number
  readonly attempt: number
}

/**
 * A transport to a control plane. The boundary's outbox (the ledger) owns
 * the events and their order: a transport delivers one batch at a time,
 * retries what can be retried with its own backoff, and answers with the
 * outcome. It holds nothing of its own: a batch it has not answered stays in
 * the outbox, and the next process delivers it.
 *
 * @example
 * ```ts
 * class StdoutControlPlane implements ControlPlane {
 *   async deliver(batch: DeliveryBatch): Promise<DeliveryOutcome> {
 *     for (const line of batch.lines) process.stdout.write(line + '\n')
 *     return { status: 'delivered', attempt: 1 }
 *   }
 *   async close(): Promise<void> {}
 * }
 * ```
 */
export interface ControlPlane {
  /** The most events it wants per batch. Default 100. */
  readonly maxBatch?: number
  /** How long the Airlock's `close()` waits for delivery before it leaves the rest in the outbox. Default: as long as it takes. */
  readonly closeTimeoutMs?: number
  /**
   * Delivers one batch: resolves with the outcome once the batch is
   * delivered or refused for good, calling `onRetry` for each failed attempt
   * it will make again. Rejects with `ClosedError` when `close()` stops it
   * first (the batch stays in the outbox).
   */
  deliver(batch: DeliveryBatch, onRetry: (retry: DeliveryRetry) => void): Promise<DeliveryOutcome>
  /**
   * For a transport that can neither fail nor wait (memory): delivers at
   * once, synchronously. The outbox then hands it each event as soon as its
   * entry is synced, so the event is there when `emit` resolves.
   */
  deliverNow?(batch: DeliveryBatch): DeliveryOutcome
  /** Stops: an attempt in progress is abandoned, and `deliver` after it rejects with `ClosedError`. */
  close(): Promise<void>
}
