import { scanLedger, type LeakFinding } from '../audit/scan-ledger.js'
import { CanaryLeakError, InvalidArgumentError, LedgerTamperedError, type CanaryLeak } from '../errors.js'
import { scanEvent } from '../scrub/scan-event.js'
import { maskPreview } from '../scrub/scan-preview.js'
import { LeakMatcher } from '../scrub/scan-text.js'
import type { Canary } from './generate-canaries.js'

/**
 * Where {@link expectNoLeaks} looks: anything with the `events` a control
 * plane received (a `MemoryControlPlane`, or `{ events }` you collected),
 * or the path of a ledger file.
 *
 * @example
 * ```ts
 * const source: LeakSource = new MemoryControlPlane()
 * ```
 */
export type LeakSource = { readonly events: readonly unknown[] } | string

/**
 * Asserts that no canary reached the control plane: throws a
 * `CanaryLeakError` (`ERR_CANARY_LEAKED`) listing each leak (the canary's
 * kind and masked marker, the event's seq, kind and id, the path in it and
 * a masked preview), never the canary itself. Its `leaks` hold the same,
 * as data.
 *
 * A canary counts as leaked when its `secret` occurs in any key or string
 * value of an event, as is, JSON-escaped or behind any percent or backslash
 * escaping (nested up to three levels, as the Scrubber reads it); a
 * `high-entropy` canary (rule `registered-secret`) also in the other
 * encodings the Scrubber masks (base64). A plain string is a canary of kind
 * `canary`.
 *
 * - With `{ events }` (a `MemoryControlPlane`), it checks synchronously;
 *   `seq` is the event's 1-based position.
 * - With a ledger path, it returns a promise: it streams the ledger, checks
 *   every event entry, and also rejects with `LedgerTamperedError`
 *   (`ERR_LEDGER_TAMPERED`) when the ledger does not verify, since entries
 *   past a break cannot be vouched for.
 *
 * No test-framework import: a thrown error fails a test under vitest, jest
 * and node:test alike.
 *
 * @throws InvalidArgumentError when `source` or `canaries` is not as described, or `canaries` is empty.
 * @example
 * ```ts
 * import { expectNoLeaks, generateCanaries } from 'airlock-sdk/testing'
 *
 * const canaries = generateCanaries()
 * // ... run the flow with canaries planted ...
 * await airlock.close()
 * expectNoLeaks(controlPlane, canaries)                   // sync
 * await expectNoLeaks('audit/ledger.ndjson', canaries)    // async
 * ```
 */
export function expectNoLeaks(source: string, canaries: readonly (Canary | string)[]): Promise<void>
export function expectNoLeaks(source: { readonly events: readonly unknown[] }, canaries: readonly (Canary | string)[]): void
export function expectNoLeaks(source: LeakSource, canaries: readonly (Canary | string)[]): void | Promise<void>
export function expectNoLeaks(source: LeakSource, canaries: readonly (Canary | string)[]): void | Promise<void> {
  if (!Array.isArray(canaries) || canaries.length === 0) {
    throw new InvalidArgumentError('expectNoLeaks expects a non-empty array of canaries (from generateCanaries(), or strings)')
  }
  if (typeof source === 'string') return checkLedger(source, canaries)
  const events = (source as { events?: unknown } | null)?.events
  if (!Array.isArray(events)) {
    throw new InvalidArgumentError('expectNoLeaks expects a MemoryControlPlane, an object with an events array, or a ledger path')
  }
  const matcher = new LeakMatcher({ canaries, detectors: false })
  const leaks: CanaryLeak[] = []
  events.forEach((event: unknown, i) => {
    const { id, kind } = (typeof event === 'object' && event !== null ? event : {}) as { id?: unknown; kind?: unknown }
    const eventId = typeof id === 'string' ? id : ''
    const eventKind = typeof kind === 'string' ? kind : ''
    for (const f of scanEvent(event, matcher)) leaks.push(leakOf({ ...f, seq: i + 1, eventId, eventKind }, canaries))
  })
  if (leaks.length > 0) throw new CanaryLeakError(leaks, leaks.length, "the control plane's events")
}

async function checkLedger(path: string, canaries: readonly (Canary | string)[]): Promise<void> {
  const scan = await scanLedger(path, { canaries, detectors: false })
  if (scan.total > 0) throw new CanaryLeakError(scan.findings.map((f) => leakOf(f, canaries)), scan.total, `ledger ${path}`)
  if (!scan.verified.ok) throw new LedgerTamperedError(scan.verified.firstBadSeq, scan.verified.reason)
}

function leakOf(
  f: Pick<LeakFinding, 'seq' | 'eventId' | 'eventKind' | 'path' | 'preview' | 'canary'>,
  canaries: readonly (Canary | string)[],
): CanaryLeak {
  const index = f.canary ?? -1
  const canary = canaries[index]
  const kind = typeof canary === 'object' ? canary.kind : 'canary'
  const marker = typeof canary === 'object' ? canary.marker : (canary ?? '')
  return { kind, marker: maskPreview(marker), canary: index, seq: f.seq, eventId: f.eventId, eventKind: f.eventKind, path: f.path, preview: f.preview }
}
