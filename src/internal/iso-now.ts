let lastMs = Number.NaN
let lastIso = ''

/**
 * The current time as `new Date().toISOString()` writes it, formatted once
 * per millisecond: events and ledger entries are stamped many times within
 * one, and formatting a date costs more than ten readings of the clock.
 *
 * @example
 * ```ts
 * isoNow()   // '2026-12-08T00:41:09.301Z'
 * ```
 */
export function isoNow(): string {
  const ms = Date.now()
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString()
    lastMs = ms
  }
  return lastIso
}
