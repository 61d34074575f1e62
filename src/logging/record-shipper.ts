import type { ShippedRecord, ShipRecord } from './shipped-record.js'

/**
 * The `process.emitWarning` code when `ship` throws or rejects.
 *
 * @example
 * ```ts
 * process.on('warning', (w) => { if ((w as { code?: string }).code === SHIP_FAILED_WARNING) alert(w.message) })
 * ```
 */
export const SHIP_FAILED_WARNING = 'AIRLOCK_LOG_SHIP_FAILED'

/**
 * Calls `ship` so that shipping can never break the code that logged: an
 * exception or a rejected promise is reported once, as a process warning
 * naming the error's class only (its message may quote the record). A
 * record logged from inside `ship` is not shipped, so a `ship` that logs
 * through the same logger cannot loop.
 *
 * @example
 * ```ts
 * const shipper = new RecordShipper(ship)
 * shipper.hand({ level: 'info', msg: 'loaded', fields: {}, time: Date.now() })
 * ```
 */
export class RecordShipper {
  readonly #ship: ShipRecord
  #inside = false
  #warned = false
  // One handler per shipper, not one closure per record.
  readonly #onRejected = (err: unknown): void => this.#warn(err)

  constructor(ship: ShipRecord) {
    this.#ship = ship
  }

  /** True while `ship` runs: a record logged from inside it is not shipped. */
  get inside(): boolean {
    return this.#inside
  }

  hand(record: ShippedRecord): void {
    if (this.#inside) return
    this.#inside = true
    try {
      const returned: unknown = this.#ship(record)
      if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function') {
        ;(returned as PromiseLike<unknown>).then(undefined, this.#onRejected)
      }
    } catch (err) {
      this.#warn(err)
    } finally {
      this.#inside = false
    }
  }

  #warn(err: unknown): void {
    if (this.#warned) return
    this.#warned = true
    const kind = err instanceof Error ? err.name : typeof err
    process.emitWarning(`airlock: a log record could not be handed to the boundary (${kind}); later failures are not reported`, {
      code: SHIP_FAILED_WARNING,
    })
  }
}
