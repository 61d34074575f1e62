import { escapeControl } from '../audit/ledger-entry.js'
import {
  CANARY_RULE,
  MIN_SCAN_SECRET_LENGTH,
  SCAN_FINDING_LIMIT,
  maskPreview,
  scanLedger,
  type LeakFinding,
  type LeakMatcherOptions,
  type ScanCanary,
} from '../audit/scan-ledger.js'
import { PolicyError, UsageError } from '../errors.js'
import { loadPolicy } from '../policy/load-policy.js'
import { help, readNamedFile, type CliIo, type Command } from './cli-io.js'
import { ledgerPaths } from './ledger-paths.js'
import { parseFlags, stringFlag } from './parse-flags.js'

const verb = 'audit scan'

/**
 * `airlock audit scan <ledger…> [--canaries FILE] [--registered FILE] [--policy FILE]`:
 * runs every detector (but those the policy turns off), the canaries and the registered secrets over every event
 * the ledgers recorded; exit 1 on any finding in any of them. Prints masked
 * previews only; with several ledgers, each one's findings and the totals.
 */
export const auditScan: Command = {
  summary: 'scan every emitted event for secrets, canaries and registered values',
  usage: `usage: airlock audit scan <ledger…> [--canaries FILE] [--registered FILE] [--policy FILE]

<ledger…> is one or more ledger files, or directories of them (their *.ndjson
files: a fleet of workers keeps one ledger each). Scans every key and string
value of every event each ledger recorded as
emitted, with every built-in detector (with --policy, every one the policy does
not turn off), values under
sensitive key names (password, token, api_key, ...), and the canaries and
registered secrets given; and the path and rule of every transform recorded
with an event (a key can be sensitive too, and the ledger must hold no original
value). Prints one line per finding: seq, channel, path, rule and a masked
preview; a finding in a transform record has the path transforms[i].path or
transforms[i].rule, marked (transform record). It never prints a full value.

  --canaries FILE     fake secrets a test planted: JSON.stringify(generateCanaries())
                      from airlock-sdk/testing, a JSON array of strings, or plain
                      text with one canary per line
  --registered FILE   known secrets, one per line; also found base64 and behind
                      any URL, form or JSON escaping, as the scrubber masks them
  --policy FILE       the policy the workers ran (JSON or YAML, as loadPolicy
                      reads it): a detector it turns off (scrub.detectors
                      { ipv4: false }, or a pack) is not run, so what the policy
                      lets out by design is no finding

Not flagged: what the SDK wrote in place of a value ([REDACTED:...],
[airlock:...], alk1./alkv1. tokens, fp1. fingerprints, *** masks) and the
envelope's v, kind, id, time and policyHash when they have the SDK's format.
Canaries and secrets must be at least ${MIN_SCAN_SECRET_LENGTH} characters.

Exit 0 when nothing was found and every ledger verified; 1 on any finding, when
a ledger does not verify (entries from the first bad one are not scanned), or
when one is empty (there is nothing to vouch for); 2 on bad usage.`,
  async run(args, io) {
    const flags = parseFlags(args, { canaries: { type: 'string' }, registered: { type: 'string' }, policy: { type: 'string' } }, verb)
    if (flags.help) return help(io, this.usage)
    const paths = ledgerPaths(flags, verb)
    const detectors = policyDetectors(stringFlag(flags, 'policy'), io)
    const canariesPath = stringFlag(flags, 'canaries')
    const registeredPath = stringFlag(flags, 'registered')
    const canaries = canariesPath === undefined ? [] : readCanaries(canariesPath)
    const registered = registeredPath === undefined ? [] : checkedLines(readNamedFile(registeredPath, 'registered secrets file'), registeredPath, 'secret')
    let findings = 0
    let events = 0
    let failing = 0
    for (const path of paths) {
      const scanned = await scanOne(path, canaries, registered, detectors, io)
      findings += scanned.findings
      events += scanned.events
      if (!scanned.intact) failing++
    }
    if (paths.length > 1) {
      io.stdout.write(
        `fleet: ${paths.length} ledgers, ${findings} ${findings === 1 ? 'finding' : 'findings'} in ${events} events; ${failing} not intact or empty\n`,
      )
    }
    return findings > 0 || failing > 0 ? 1 : 0
  },
}

async function scanOne(
  path: string,
  canaries: readonly ScanCanary[],
  registered: readonly string[],
  detectors: LeakMatcherOptions['detectors'],
  io: CliIo,
): Promise<{ findings: number; events: number; intact: boolean }> {
  const scan = await scanLedger(path, { canaries, registered, detectors })
  const where = escapeControl(path)
  io.stdout.write(
    `ledger ${where}: ${scan.total} ${scan.total === 1 ? 'finding' : 'findings'} in ${scan.events} events` +
      ` (${canaries.length} canaries, ${registered.length} registered secrets)\n`,
  )
  if (scan.findings.length > 0) io.stdout.write(table(scan.findings, canaries))
  if (scan.total > scan.findings.length) io.stdout.write(`… and ${scan.total - scan.findings.length} more (the first ${SCAN_FINDING_LIMIT} are listed)\n`)
  if (!scan.verified.ok && scan.verified.empty) {
    io.stdout.write(`ledger ${where} is empty: it holds no entries, so there was nothing to scan\n`)
  } else if (!scan.verified.ok) {
    io.stdout.write(
      `ledger ${where} is NOT intact: seq ${scan.verified.firstBadSeq} and later were not scanned: ${escapeControl(scan.verified.reason)}\n`,
    )
  }
  return { findings: scan.total, events: scan.events, intact: scan.verified.ok }
}

const HEADER = ['SEQ', 'CHANNEL', 'PATH', 'RULE', 'PREVIEW'] as const

function table(findings: readonly LeakFinding[], canaries: readonly ScanCanary[]): string {
  const rows = findings.map((f) => [
    String(f.seq),
    escapeControl(f.channel),
    escapeControl(f.field === 'transforms' ? `${f.path} (transform record)` : f.part === 'key' ? `${f.path} (key)` : f.path),
    f.rule === CANARY_RULE ? `${CANARY_RULE} ${canaryLabel(canaries, f.canary)}` : f.rule,
    f.preview,
  ])
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n'
  return line(HEADER) + rows.map(line).join('')
}

// `#3 github-token Ab********yz`: the canary's position in the file, its kind and its masked marker.
function canaryLabel(canaries: readonly ScanCanary[], index: number | undefined): string {
  const canary = index === undefined ? undefined : canaries[index]
  if (canary === undefined) return ''
  const kind = canary.kind === undefined ? '' : ` ${escapeControl(canary.kind)}`
  return `#${index! + 1}${kind} ${maskPreview(canary.marker ?? canary.secret)}`
}

/**
 * Canaries file format: a JSON array (of `generateCanaries()` objects, with
 * a string `secret` and optional `kind`, `marker` and `rule`, or of strings),
 * recognised by its first non-blank character `[`; otherwise plain text, one
 * canary per line (`\r\n` or `\n`; blank lines skipped; nothing trimmed).
 */
function readCanaries(path: string): ScanCanary[] {
  const text = readNamedFile(path, 'canaries file')
  if (!text.trimStart().startsWith('[')) return checkedLines(text, path, 'canary').map((secret) => ({ secret }))
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new UsageError(`canaries file ${path} starts like a JSON array but is not valid JSON`)
  }
  if (!Array.isArray(parsed)) throw new UsageError(`canaries file ${path} is not a JSON array`)
  return parsed.map((item: unknown, i) => {
    const canary = typeof item === 'string' ? { secret: item } : item
    if (typeof canary !== 'object' || canary === null || typeof (canary as { secret?: unknown }).secret !== 'string') {
      throw new UsageError(`canaries file ${path}: item ${i} is neither a string nor an object with a string secret`)
    }
    const { secret, kind, marker, rule } = canary as Record<string, unknown>
    for (const [name, value] of [['kind', kind], ['marker', marker], ['rule', rule]] as const) {
      if (value !== undefined && typeof value !== 'string') throw new UsageError(`canaries file ${path}: item ${i} has a ${name} that is not a string`)
    }
    checkLength(secret as string, `canaries file ${path}: item ${i}`)
    return { secret, kind, marker, rule } as ScanCanary
  })
}

/** The file's lines, `\r\n` or `\n`, blank ones skipped; each at least the minimum length. */
function checkedLines(text: string, path: string, what: string): string[] {
  const out: string[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line === '') return
    checkLength(line, `${path} line ${i + 1}`)
    out.push(line)
  })
  if (out.length === 0) throw new UsageError(`${path} holds no ${what}`)
  return out
}

// Says where the short value is, never what it is.
function checkLength(value: string, where: string): void {
  if (value.length < MIN_SCAN_SECRET_LENGTH) {
    throw new UsageError(`${where}: a canary or secret must be at least ${MIN_SCAN_SECRET_LENGTH} characters (shorter ones match ordinary text)`)
  }
}

// The detector switches of the policy --policy names; every detector when none is given.
function policyDetectors(path: string | undefined, io: CliIo): LeakMatcherOptions['detectors'] {
  if (path === undefined) return true
  try {
    const policy = loadPolicy(path, { env: io.env })
    const off = Object.entries(policy.scrub.detectors).filter(([, setting]) => setting === false).map(([id]) => id)
    io.stdout.write(`policy ${escapeControl(path)} (${policy.hash}): ${off.length === 0 ? 'every detector on' : `detectors off: ${off.join(', ')}`}\n`)
    return policy.scrub.detectors
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err
    const problems = err.issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')
    throw new UsageError(`airlock ${verb}: --policy ${path} is not a valid policy: ${problems}; see airlock policy check`)
  }
}
