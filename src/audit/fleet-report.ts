import { escapeControl } from './ledger-entry.js'
import { REPORT_KEY_LIMIT, type LedgerReport } from './ledger-report.js'

/**
 * One ledger of a fleet, in brief: whether it verified.
 *
 * @example
 * ```ts
 * const brief: FleetLedger = fleet.ledgers[0]   // { path: 'audit/worker-1.ndjson', ok: true, empty: false, entries: 120 }
 * ```
 */
export interface FleetLedger {
  path: string
  ok: boolean
  empty: boolean
  /** Intact entries (all of them when `ok`). */
  entries: number
  firstBadSeq?: number
  reason?: string
}

/**
 * What a fleet of workers sent, one ledger each, reported together: each
 * ledger's verification and the merged totals of what every ledger's intact
 * entries recorded. JSON output of `airlock audit report` for several
 * ledgers is `{ v, ledgers, merged, reports }`.
 *
 * @example
 * ```ts
 * const fleet: FleetReport = mergeLedgerReports(await Promise.all(paths.map((p) => buildLedgerReport(p))))
 * fleet.merged.failing   // how many ledgers did not verify
 * ```
 */
export interface FleetReport {
  v: 1
  ledgers: FleetLedger[]
  merged: {
    ledgers: number
    intact: number
    /** Ledgers that did not verify, empty ones included. */
    failing: number
    entries: LedgerReport['entries']
    timeSpan: { first: string; last: string } | null
    perStatus: Record<string, number>
    policyHashes: Record<string, number>
    perChannel: Record<string, number>
    transforms: Record<string, Record<string, number>>
    fieldPaths: Record<string, number>
    withheld: number
    deliveryFailures: number
    /** Occurrences not tallied because a merged tally hit `REPORT_KEY_LIMIT` distinct keys. */
    omitted: number
  }
}

/**
 * Merges the reports of several ledgers (one per worker) into a fleet
 * report: each ledger's verification, and totals over all of them.
 *
 * @example
 * ```ts
 * import { buildLedgerReport, mergeLedgerReports, formatFleetReportText } from 'airlock-sdk'
 *
 * const reports = await Promise.all(['worker-1.ndjson', 'worker-2.ndjson'].map((p) => buildLedgerReport(p)))
 * process.stdout.write(formatFleetReportText(mergeLedgerReports(reports)))
 * ```
 */
export function mergeLedgerReports(reports: readonly LedgerReport[]): FleetReport {
  const merged: FleetReport['merged'] = {
    ledgers: reports.length,
    intact: 0,
    failing: 0,
    entries: { total: 0, events: 0, deliveries: 0, checkpoints: 0 },
    timeSpan: null,
    perStatus: {},
    policyHashes: {},
    perChannel: {},
    transforms: {},
    fieldPaths: {},
    withheld: 0,
    deliveryFailures: 0,
    omitted: 0,
  }
  const ledgers: FleetLedger[] = []
  const sum = (into: Record<string, number>, from: Readonly<Record<string, number>>): void => {
    for (const [key, count] of Object.entries(from)) {
      if (Object.hasOwn(into, key)) into[key]! += count
      else if (Object.keys(into).length < REPORT_KEY_LIMIT) Object.defineProperty(into, key, { value: count, enumerable: true, writable: true, configurable: true })
      else merged.omitted += count
    }
  }
  for (const report of reports) {
    const v = report.verified
    ledgers.push(v.ok ? { path: report.path, ok: true, empty: false, entries: v.entries } : { path: report.path, ok: false, empty: v.empty, entries: v.entries, firstBadSeq: v.firstBadSeq, reason: v.reason })
    if (v.ok) merged.intact++
    else merged.failing++
    for (const key of ['total', 'events', 'deliveries', 'checkpoints'] as const) merged.entries[key] += report.entries[key]
    if (report.timeSpan !== null) {
      const span = merged.timeSpan
      merged.timeSpan =
        span === null
          ? { ...report.timeSpan }
          : { first: report.timeSpan.first < span.first ? report.timeSpan.first : span.first, last: report.timeSpan.last > span.last ? report.timeSpan.last : span.last }
    }
    sum(merged.perStatus, report.perStatus)
    sum(merged.policyHashes, report.policyHashes)
    sum(merged.perChannel, report.perChannel)
    sum(merged.fieldPaths, report.fieldPaths)
    for (const [rule, actions] of Object.entries(report.transforms)) {
      if (!Object.hasOwn(merged.transforms, rule)) Object.defineProperty(merged.transforms, rule, { value: {}, enumerable: true, writable: true, configurable: true })
      sum(merged.transforms[rule]!, actions)
    }
    merged.withheld += report.withheld.total
    merged.deliveryFailures += report.deliveryFailures.total
  }
  return { v: 1, ledgers, merged }
}

/**
 * A fleet report as plain text: one line per ledger, then the merged totals.
 *
 * @example
 * ```ts
 * process.stdout.write(formatFleetReportText(mergeLedgerReports(reports)))
 * ```
 */
export function formatFleetReportText(fleet: FleetReport): string {
  const m = fleet.merged
  const out: string[] = [`airlock fleet report: ${m.ledgers} ledgers, ${m.intact} intact, ${m.failing} not intact or empty`, '']
  for (const l of fleet.ledgers) {
    const state = l.ok ? 'intact' : l.empty ? 'EMPTY' : `NOT INTACT at seq ${l.firstBadSeq ?? '?'}`
    out.push(`  ${escapeControl(l.path)}: ${state}, ${l.entries} entries`)
  }
  out.push('', 'merged totals (intact entries of every ledger):')
  out.push(`  entries:   ${m.entries.total} (${m.entries.events} events, ${m.entries.deliveries} delivery records, ${m.entries.checkpoints} checkpoints)`)
  out.push(`  time span: ${m.timeSpan === null ? '(empty)' : `${m.timeSpan.first} to ${m.timeSpan.last}`}`)
  const list = (title: string, counts: Record<string, number>): void => {
    out.push(`  ${title}:`)
    const rows = Object.entries(counts).sort((a, b) => b[1] - a[1])
    if (rows.length === 0) out.push('    (none)')
    for (const [key, count] of rows) out.push(`    ${escapeControl(key)}  ${count}`)
  }
  list('events by channel', m.perChannel)
  list('events by status', m.perStatus)
  const transforms: Record<string, number> = {}
  for (const [rule, actions] of Object.entries(m.transforms)) for (const [action, count] of Object.entries(actions)) transforms[`${rule} / ${action}`] = count
  list('transforms (rule / action)', transforms)
  out.push(`  withheld events: ${m.withheld}`, `  delivery failures: ${m.deliveryFailures}`)
  if (m.omitted > 0) out.push(`  (${m.omitted} more occurrences of other keys not tallied)`)
  return out.join('\n') + '\n'
}
