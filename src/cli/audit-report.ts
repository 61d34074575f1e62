import { writeFile } from 'node:fs/promises'
import { formatFleetReportText, mergeLedgerReports, type FleetReport } from '../audit/fleet-report.js'
import { formatReportHtml, type HtmlReportOptions } from '../audit/html-report.js'
import { escapeControl } from '../audit/ledger-entry.js'
import { TimelineTally } from '../audit/ledger-timeline.js'
import { buildLedgerReport, formatReportText, type LedgerReport, type LedgerReportOptions } from '../audit/ledger-report.js'
import { LedgerLeakScanner } from '../audit/scan-ledger.js'
import { UsageError } from '../errors.js'
import { readPublicKey, readWitness, witnessFindings } from './audit-verify.js'
import { help, type Command } from './cli-io.js'
import { ledgerPaths } from './ledger-paths.js'
import { parseFlags, stringFlag } from './parse-flags.js'

const verb = 'audit report'
const FORMATS = ['text', 'json', 'html'] as const

/**
 * `airlock audit report <ledger…> [--format text|json|html] [--out FILE] [--public-key FILE]`:
 * what reached the control plane, from the ledgers alone; for several
 * (a fleet of workers, one ledger each), each ledger and the merged totals.
 */
export const auditReport: Command = {
  summary: 'report what reached the control plane, per channel, rule and field path',
  usage: `usage: airlock audit report <ledger…> [--format text|json|html] [--out FILE] [--public-key FILE] [--witness FILE]

<ledger…> is one or more ledger files, or directories of them (their *.ndjson
files: a fleet of workers keeps one ledger each). Reads each ledger in one
streaming pass and reports: whether it verified, the
time span, the policy hashes in effect, events per channel, transforms by rule
and action, every field path that reached the control plane, withheld events
and delivery failures. The html format is one self-contained page (no
script, no network) with a chart of events per channel over time, and the
findings of a leak scan run in the same pass: every built-in detector and
sensitive key names (use airlock audit scan for canaries and registered
secrets, and as the pass/fail check).

With several ledgers: text gives each ledger's report, then the fleet's merged
totals; json gives {"v":1,"ledgers":[...],"merged":{...},"reports":[...]}; html
gives one page of the merged totals, with every ledger's verification.

  --format text|json|html   output format (default: text)
  --out FILE                write the report to FILE instead of stdout
  --public-key FILE         verify signed checkpoints too
  --witness FILE            check every ledger against the signed heads the
                            control plane received (needs --public-key); the
                            HTML report shows the witness check

Exit 0 when every ledger verified, 1 when one did not (the report still covers
the intact entries) or is empty, 2 on bad usage.`,
  async run(args, io) {
    const flags = parseFlags(args, { format: { type: 'string' }, out: { type: 'string' }, 'public-key': { type: 'string' }, witness: { type: 'string' } }, verb)
    if (flags.help) return help(io, this.usage)
    const format = stringFlag(flags, 'format') ?? 'text'
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`airlock ${verb}: --format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`)
    }
    const paths = ledgerPaths(flags, verb)
    const publicKey = readPublicKey(stringFlag(flags, 'public-key'))
    const witnessFile = stringFlag(flags, 'witness')
    if (witnessFile !== undefined && publicKey === undefined) throw new UsageError(`airlock ${verb}: --witness needs --public-key: the heads it holds are signed`)
    const witness = witnessFile === undefined ? undefined : await readWitness(witnessFile, publicKey!)
    const scanner = format === 'html' ? new LedgerLeakScanner() : undefined
    const reports: LedgerReport[] = []
    for (const path of paths) {
      const options: LedgerReportOptions = publicKey === undefined ? {} : { publicKey, ...(witness === undefined ? {} : { witness }) }
      if (scanner !== undefined) options.onEntry = (entry) => scanner.add(entry)
      reports.push(await buildLedgerReport(path, options))
    }
    const origins = new Set(reports.flatMap((r) => (r.verified.ok && r.verified.origin !== undefined ? [r.verified.origin] : [])))
    const witnessed = witness === undefined ? undefined : { heads: witness.count, findings: witnessFindings(witness, origins) }
    const text =
      reports.length === 1 ? render(reports[0]!, format, scanner, witnessed) : renderFleet(reports, mergeLedgerReports(reports), format, scanner, witnessed)
    const out = stringFlag(flags, 'out')
    if (out === undefined) {
      io.stdout.write(text)
    } else {
      await writeFile(out, text, { mode: 0o600 })
      io.stdout.write(`report written to ${out}\n`)
    }
    return reports.every((r) => r.verified.ok) && (witnessed?.findings.length ?? 0) === 0 ? 0 : 1
  },
}

const SCAN_SCOPE =
  'every built-in detector, and values under sensitive key names; no canaries or registered secrets (airlock audit scan --canaries/--registered checks those)'

type WitnessCheck = HtmlReportOptions['witness']

function render(report: LedgerReport, format: string, scanner: LedgerLeakScanner | undefined, witness: WitnessCheck): string {
  if (format === 'json') return JSON.stringify(witness === undefined ? report : { ...report, witness }, null, 2) + '\n'
  if (scanner !== undefined) {
    const scan = { ...scanner.result(report.verified), scope: SCAN_SCOPE }
    return formatReportHtml(report, { scan, generatedAt: new Date(), ...(witness === undefined ? {} : { witness }) })
  }
  return formatReportText(report) + witnessText(witness)
}

function renderFleet(reports: readonly LedgerReport[], fleet: FleetReport, format: string, scanner: LedgerLeakScanner | undefined, witness: WitnessCheck): string {
  if (format === 'json') return JSON.stringify({ ...fleet, reports, ...(witness === undefined ? {} : { witness }) }, null, 2) + '\n'
  if (format === 'text') return reports.map(formatReportText).join('\n') + '\n' + formatFleetReportText(fleet) + witnessText(witness)
  return render(fleetAsReport(reports, fleet), format, scanner, witness)
}

function witnessText(witness: WitnessCheck): string {
  if (witness === undefined) return ''
  if (witness.findings.length === 0) return `witness: ${witness.heads} signed heads, every one matched by the ledgers given\n`
  return witness.findings.map((finding) => `witness: ${escapeControl(finding)}\n`).join('')
}

// The merged totals in the shape of one ledger's report, for the HTML page:
// it verified only if every ledger did, and otherwise shows the first that did not.
function fleetAsReport(reports: readonly LedgerReport[], fleet: FleetReport): LedgerReport {
  const m = fleet.merged
  const failed = reports.find((r) => !r.verified.ok)
  const first = reports[0]!
  return {
    ...first,
    path: `${m.ledgers} ledgers: ${reports.map((r) => r.path).join(', ')}`,
    verified:
      failed?.verified ??
      (first.verified.ok
        ? { ...first.verified, entries: m.entries.total, checkpoints: m.entries.checkpoints, adopted: reports.flatMap((r) => (r.verified.ok ? r.verified.adopted : [])) }
        : first.verified),
    entries: m.entries,
    timeSpan: m.timeSpan,
    perStatus: m.perStatus,
    policyHashes: m.policyHashes,
    perChannel: m.perChannel,
    transforms: m.transforms,
    fieldPaths: m.fieldPaths,
    withheld: { total: m.withheld, first: reports.flatMap((r) => r.withheld.first) },
    deliveryFailures: { total: m.deliveryFailures, first: reports.flatMap((r) => r.deliveryFailures.first) },
    timeline: mergedTimeline(reports),
    omitted: { policyHashes: 0, perChannel: 0, transforms: 0, fieldPaths: m.omitted },
  }
}

// Each bucket's events re-added at the bucket's start: the merged chart keeps
// every ledger's counts, at the resolution the widest span allows.
function mergedTimeline(reports: readonly LedgerReport[]) {
  const tally = new TimelineTally()
  for (const { timeline } of reports) {
    if (timeline === null) continue
    const start = Date.parse(timeline.start)
    const rows: [string, number[]][] = [...Object.entries(timeline.perChannel), ['other', timeline.other]]
    for (const [channel, counts] of rows) {
      counts.forEach((count, i) => {
        for (let n = 0; n < count; n++) tally.add(channel, start + i * timeline.bucketMs)
      })
    }
  }
  return tally.toTimeline()
}
