import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { formatReportHtml } from '../audit/html-report.js'
import { buildLedgerReport, formatReportText, type LedgerReport, type LedgerReportOptions } from '../audit/ledger-report.js'
import { LedgerLeakScanner } from '../audit/scan-ledger.js'
import { UsageError } from '../errors.js'
import { readPublicKey } from './audit-verify.js'
import { help, type Command } from './cli-io.js'
import { onePositional, parseFlags, stringFlag } from './parse-flags.js'

const verb = 'audit report'
const FORMATS = ['text', 'json', 'html'] as const

/**
 * `airlock audit report <ledger> [--format text|json|html] [--out FILE] [--public-key FILE]`:
 * what reached the control plane, from the ledger alone.
 */
export const auditReport: Command = {
  summary: 'report what reached the control plane, per channel, rule and field path',
  usage: `usage: airlock audit report <ledger> [--format text|json|html] [--out FILE] [--public-key FILE]

Reads the ledger in one streaming pass and reports: whether it verified, the
time span, the policy hashes in effect, events per channel, transforms by rule
and action, every field path that reached the control plane, withheld events
and delivery failures. The html format is one self-contained page (no
script, no network) with a chart of events per channel over time, and the
findings of a leak scan run in the same pass: every built-in detector and
sensitive key names (use airlock audit scan for canaries and registered
secrets, and as the pass/fail check).

  --format text|json|html   output format (default: text)
  --out FILE                write the report to FILE instead of stdout
  --public-key FILE         verify signed checkpoints too

Exit 0 when the ledger verified, 1 when it did not (the report still covers
the intact entries) or is empty, 2 on bad usage.`,
  async run(args, io) {
    const flags = parseFlags(args, { format: { type: 'string' }, out: { type: 'string' }, 'public-key': { type: 'string' } }, verb)
    if (flags.help) return help(io, this.usage)
    const path = onePositional(flags, verb, 'ledger')
    const format = stringFlag(flags, 'format') ?? 'text'
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`airlock ${verb}: --format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`)
    }
    if (!existsSync(path)) throw new UsageError(`airlock ${verb}: no ledger at ${path}`)
    const publicKey = readPublicKey(stringFlag(flags, 'public-key'))
    const options: LedgerReportOptions = publicKey === undefined ? {} : { publicKey }
    const scanner = format === 'html' ? new LedgerLeakScanner() : undefined
    if (scanner !== undefined) options.onEntry = (entry) => scanner.add(entry)
    const report = await buildLedgerReport(path, options)
    const text = render(report, format, scanner)
    const out = stringFlag(flags, 'out')
    if (out === undefined) {
      io.stdout.write(text)
    } else {
      await writeFile(out, text, { mode: 0o600 })
      io.stdout.write(`report written to ${out}\n`)
    }
    return report.verified.ok ? 0 : 1
  },
}

const SCAN_SCOPE =
  'every built-in detector, and values under sensitive key names; no canaries or registered secrets (airlock audit scan --canaries/--registered checks those)'

function render(report: LedgerReport, format: string, scanner: LedgerLeakScanner | undefined): string {
  if (format === 'json') return JSON.stringify(report, null, 2) + '\n'
  if (scanner !== undefined) {
    return formatReportHtml(report, { scan: { ...scanner.result(report.verified), scope: SCAN_SCOPE }, generatedAt: new Date() })
  }
  return formatReportText(report)
}
