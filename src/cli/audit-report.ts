import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { buildLedgerReport, formatReportText } from '../audit/ledger-report.js'
import { UsageError } from '../errors.js'
import { readPublicKey } from './audit-verify.js'
import { help, type Command } from './cli-io.js'
import { onePositional, parseFlags, stringFlag } from './parse-flags.js'

const verb = 'audit report'
const FORMATS = ['text', 'json'] as const

/**
 * `airlock audit report <ledger> [--format text|json] [--out FILE] [--public-key FILE]`:
 * what reached the control plane, from the ledger alone.
 */
export const auditReport: Command = {
  summary: 'report what reached the control plane, per channel, rule and field path',
  usage: `usage: airlock audit report <ledger> [--format text|json] [--out FILE] [--public-key FILE]

Reads the ledger in one streaming pass and reports: whether it verified, the
time span, the policy hashes in effect, events per channel, transforms by rule
and action, every field path that reached the control plane, withheld events
and delivery failures.

  --format text|json   output format (default: text)
  --out FILE           write the report to FILE instead of stdout
  --public-key FILE    verify signed checkpoints too

Exit 0 when the ledger verified, 1 when it did not (the report still covers
the intact entries), 2 on bad usage.`,
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
    const report = await buildLedgerReport(path, publicKey === undefined ? {} : { publicKey })
    const text = format === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatReportText(report)
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
