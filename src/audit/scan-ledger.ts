/*
 * IMPORT RULE DIVERGENCE (docs/design.md lets src/audit import only src/crypto).
 * This file, and only this one in src/audit, imports src/scrub: the pure,
 * I/O-free leak matcher (`scan-text`, `scan-event`, `scan-preview`, which
 * import nothing of the Scrubber's policy machinery). The split that bends
 * the rules least:
 *
 * - matching text is the detectors' business, so it lives in src/scrub,
 *   next to them, and never touches a file or the ledger format;
 * - walking a ledger is the audit's business: it streams through
 *   `verifyLedger`, so only intact entries are scanned;
 * - the CLI then imports src/audit only, as docs/design.md says, and the testing
 *   kit and the HTML report reach the scan without importing the CLI (which
 *   nothing may import). Putting the walk in src/cli instead would have made
 *   src/cli import src/scrub, and left the kit no way to scan a ledger.
 *
 * The ledger writer, verifier and report stay crypto-only.
 */
import { CANARY_RULE, LeakMatcher, MIN_SCAN_SECRET_LENGTH, type LeakMatcherOptions, type ScanCanary } from '../scrub/scan-text.js'
import { scanEvent } from '../scrub/scan-event.js'
import { maskPreview } from '../scrub/scan-preview.js'
import type { LedgerEntry } from './ledger-entry.js'
import { verifyLedger, type VerifyLedgerResult } from './verify-ledger.js'

export { CANARY_RULE, MIN_SCAN_SECRET_LENGTH, maskPreview, type LeakMatcherOptions, type ScanCanary }

/**
 * At most this many findings are kept; `total` counts them all.
 *
 * @example
 * ```ts
 * if (scan.total > SCAN_FINDING_LIMIT) console.log(`${scan.total - SCAN_FINDING_LIMIT} findings not listed`)
 * ```
 */
export const SCAN_FINDING_LIMIT = 10_000

/**
 * One leak-scan finding, format v1: which ledger entry (`seq`), which event
 * (`channel`, `eventId`, `eventKind`), where in it (`path`, and whether the
 * `key` or the `value` there matched), which `rule` (a detector id,
 * `registered-secret`, `sensitive-key`, or `canary` with the canary's index
 * in `canary`) and a masked `preview` of what matched: never the value.
 *
 * A finding in the entry's record of transforms rather than in the event
 * has `field: 'transforms'`, and its `path` names the member that matched:
 * `transforms[3].path` or `transforms[3].rule`. Those never reached the
 * control plane, but the ledger must not hold an original value anywhere
 * (docs/design.md, invariant 3), and a transform path is built from the event's
 * keys, which can themselves be sensitive (an email used as a map key).
 *
 * @example
 * ```ts
 * const inEvent: LeakFinding = {
 *   seq: 12, channel: 'logs', eventId: '5b1f…', eventKind: 'log',
 *   path: 'fields.note', part: 'value', rule: 'github-token', preview: 'gh********yz',
 * }
 * const inTransforms: LeakFinding = { ...inEvent, field: 'transforms', path: 'transforms[0].path', rule: 'email', preview: 'a********m' }
 * ```
 */
export interface LeakFinding {
  readonly seq: number
  readonly channel: string
  readonly eventId: string
  /** The event's `kind` (`log`, `parameters`, `task-run-state`, ...), when it has one. */
  readonly eventKind: string
  /** Absent for a finding in the event as sent; `transforms` for one in the entry's transform record. */
  readonly field?: 'transforms'
  readonly path: string
  readonly part: 'key' | 'value'
  readonly rule: string
  readonly preview: string
  readonly canary?: number
}

/**
 * What {@link scanLedger} found. `verified` is the ledger's verification:
 * when it failed, entries from `verified.firstBadSeq` on were not scanned.
 *
 * @example
 * ```ts
 * const { findings, total, events, verified } = await scanLedger('audit/ledger.ndjson')
 * ```
 */
export interface LedgerScanResult {
  /** The first {@link SCAN_FINDING_LIMIT} findings, in ledger order. */
  readonly findings: readonly LeakFinding[]
  /** Every finding, counted. */
  readonly total: number
  /** Event entries scanned. */
  readonly events: number
  readonly verified: VerifyLedgerResult
}

/**
 * Scans ledger entries one at a time: feed it each entry (from
 * `verifyLedger`'s `onEntry`, for instance, so a report and a scan share one
 * streaming pass), then read {@link LedgerLeakScanner.result}. Only `event`
 * entries are scanned, whatever their status (sent, queued, failed or
 * withheld: each is what did or may reach the control plane); delivery and
 * checkpoint entries carry no event. In each, the event is scanned, and so
 * is the `path` and `rule` of every transform recorded with it.
 *
 * @example
 * ```ts
 * const scanner = new LedgerLeakScanner({ canaries })
 * let entries = 0
 * const verified = await verifyLedger(path, { onEntry: (e) => { entries++; scanner.add(e) } })
 * const { findings } = scanner.result(verified)
 * ```
 */
export class LedgerLeakScanner {
  readonly #matcher: LeakMatcher
  readonly #findings: LeakFinding[] = []
  #total = 0
  #events = 0

  /** @throws InvalidArgumentError when a canary or registered secret is not a string of 5 characters or more. */
  constructor(options: LeakMatcherOptions = {}) {
    this.#matcher = new LeakMatcher(options)
  }

  /** Scans one entry. */
  add(entry: LedgerEntry): void {
    if (entry.kind !== 'event') return
    this.#events++
    const eventKind = typeof entry.event.kind === 'string' ? entry.event.kind : ''
    const where = { seq: entry.seq, channel: entry.channel, eventId: entry.eventId, eventKind }
    for (const f of scanEvent(entry.event, this.#matcher)) this.#add({ ...where, ...f })
    const { transforms } = entry
    for (let i = 0; i < transforms.length; i++) {
      const t = transforms[i]!
      this.#scanMember(where, `transforms[${i}].path`, t.path)
      this.#scanMember(where, `transforms[${i}].rule`, t.rule)
    }
  }

  // A transform's path or rule is one string, scanned whole: a key in a path that
  // matches is a finding of the path, as a value in an event is of its member.
  #scanMember(where: Pick<LeakFinding, 'seq' | 'channel' | 'eventId' | 'eventKind'>, path: string, text: string): void {
    for (const m of this.#matcher.scan(text)) {
      const finding = { ...where, field: 'transforms' as const, path, part: 'value' as const, rule: m.rule, preview: maskPreview(text.slice(m.start, m.end)) }
      this.#add(m.canary === undefined ? finding : { ...finding, canary: m.canary })
    }
  }

  #add(finding: LeakFinding): void {
    this.#total++
    if (this.#findings.length < SCAN_FINDING_LIMIT) this.#findings.push(finding)
  }

  /** The findings so far, with the ledger's verification. */
  result(verified: VerifyLedgerResult): LedgerScanResult {
    return { findings: this.#findings, total: this.#total, events: this.#events, verified }
  }
}

/**
 * The leak scan behind `airlock audit scan`: streams a ledger through
 * {@link verifyLedger} and scans every event it recorded as emitted: every
 * key and string value, with every built-in detector (whatever the policy
 * said), values under sensitive key names, and the given canaries and
 * registered secrets (see `LeakMatcher` for what counts, and what SDK output
 * is never flagged); and the path and rule of every transform recorded with
 * it. Memory is bounded by {@link SCAN_FINDING_LIMIT}, not by the ledger's
 * size. An empty ledger has nothing to scan: `verified.empty` says so.
 *
 * @throws {StorageError} when the file cannot be read.
 * @throws {InvalidArgumentError} when a canary or registered secret is not a string of 5 characters or more.
 * @example
 * ```ts
 * import { scanLedger } from 'airlock-sdk'
 *
 * const scan = await scanLedger('audit/ledger.ndjson', { registered: [process.env.DB_PASSWORD!] })
 * for (const f of scan.findings) console.log(f.seq, f.channel, f.path, f.rule, f.preview)
 * if (!scan.verified.ok) console.log(`not scanned from seq ${scan.verified.firstBadSeq}: the ledger does not verify`)
 * ```
 */
export async function scanLedger(path: string, options: LeakMatcherOptions = {}): Promise<LedgerScanResult> {
  const scanner = new LedgerLeakScanner(options)
  const verified = await verifyLedger(path, { onEntry: (entry) => scanner.add(entry) })
  return scanner.result(verified)
}
