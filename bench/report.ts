/**
 * Cost of `airlock audit report` on a 1,000,000-entry ledger, against a plain
 * line count over the same file in the same run: the floor any streaming
 * reader pays to read the bytes.
 *
 * The ledger is written directly, line by line, with the ledger's own
 * canonical JSON and hash (what `Ledger.append` writes, without its input
 * validation and a `fdatasync` per group commit), so writing it is quick. Its entries mimic a busy
 * day: parameters, task states with encrypted result locations, logs with
 * scrubbed fields, failures, a withheld event every 5,000, and a delivery
 * record every 1,000 events, one in ten of them a failure.
 *
 * Rows:
 * - `line count` (baseline): stream the file, count `\n`;
 * - `verifyLedger`: the chain check alone (every line parsed, validated and
 *   hashed; on worker threads, one per core up to four, so CPU time can
 *   exceed wall time);
 * - `verifyLedger, signed`: the same with the public key: every entry also a
 *   leaf of the RFC 9162 Merkle tree, and every checkpoint (a signed note
 *   every 10,000 entries and a closing one, as `Ledger` writes them) checked
 *   for its root and signature. The goal is this row within 2x the
 *   line count (`target verify-vs-line-count`);
 * - `buildLedgerReport`: verification plus every tally and the timeline;
 * - `report + leak scan`: the same pass feeding a `LedgerLeakScanner` too,
 *   as `airlock audit report --format html` does;
 * - `formatReportHtml`: rendering the finished report (its size is bounded
 *   by the report's limits, not by the ledger's);
 * - `html report, total`: the last two together: what the CLI costs.
 *
 * The line count and both verify rows are timed over `ROUNDS` rounds (5, or
 * `AIRLOCK_BENCH_ROUNDS`) that take turns, and each prints its median, so one
 * noisy moment on a shared machine does not decide the target; the report
 * rows, which have no target, are timed once.
 *
 * `AIRLOCK_BENCH_REPORT_ROWS=verify` times only the line count and the two
 * verify rows (the target's), skipping the report rows, which take longer
 * than the rest together and have no target.
 *
 * Peak RSS is sampled every 20 ms while the report and scan are built and
 * rendered; `maxRSS` is the process's high-water mark, writing the ledger
 * included.
 *
 * @example
 * ```sh
 * npx tsx bench/report.ts            # 1,000,000 entries
 * npx tsx bench/report.ts 200000     # fewer
 * AIRLOCK_BENCH_REPORT_ROWS=verify npx tsx bench/report.ts   # the target's rows only
 * ```
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { pathToFileURL } from 'node:url'
import { canonicalJson, type JsonObject } from '../src/internal/canonical-json.js'
import { formatReportHtml } from '../src/audit/html-report.js'
import { ledgerOrigin, signCheckpointNote } from '../src/audit/checkpoint-note.js'
import { GENESIS_HASH, LEDGER_FORMAT_VERSION, sha256Hex } from '../src/audit/ledger-entry.js'
import { generateLedgerSigningKey } from '../src/audit/ledger-signing-key.js'
import { MerkleRange, ledgerLeafHash } from '../src/audit/merkle-tree.js'
import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { buildLedgerReport } from '../src/audit/ledger-report.js'
import { LedgerLeakScanner } from '../src/audit/scan-ledger.js'
import { verifyLedger } from '../src/audit/verify-ledger.js'

const DEFAULT_ENTRIES = 1_000_000
const START_MS = Date.parse('2026-11-21T00:00:00.000Z')
// One day of activity: an entry every 86.4 ms.
const SPAN_MS = 86_400_000
const POLICY_HASH = 'ph1.5b0e6f1c2d3a4b5c'
const CHECKPOINT_EVERY = 10_000
/** The goal: verifying with the key (Merkle roots and signed notes included) within 2x the line count. */
const VERIFY_GOAL = 2
const ROUNDS = Number(process.env.AIRLOCK_BENCH_ROUNDS ?? 5)
/** `verify`: time the line count and the verify rows only. */
const ROWS = process.env.AIRLOCK_BENCH_REPORT_ROWS ?? 'all'
if (ROWS !== 'all' && ROWS !== 'verify') throw new Error(`AIRLOCK_BENCH_REPORT_ROWS must be all or verify, not ${ROWS}`)

/** One row of the results. */
export interface ReportBenchRow {
  readonly name: string
  readonly seconds: number
  /** CPU time (user + system) of every thread: steadier than wall time on a shared machine. */
  readonly cpuSeconds: number
  readonly entriesPerSecond: number
  /** seconds / the line count's: how many times the bare read this costs. */
  readonly vsLineCount: number
}

/** What {@link run} measured. */
export interface ReportBenchResult {
  readonly entries: number
  readonly fileBytes: number
  readonly writeSeconds: number
  readonly rows: readonly ReportBenchRow[]
  /** Undefined when only the verify rows were timed. */
  readonly htmlBytes: number | undefined
  /** Highest RSS sampled while building the report and scan and rendering them, in bytes; undefined when only the verify rows were timed. */
  readonly reportPeakRss: number | undefined
  /** The process's high-water RSS, in bytes. */
  readonly maxRss: number
}

function eventFor(i: number, time: string): { channel: string; event: JsonObject; transforms: JsonObject[]; status: string } {
  const runId = `run-${Math.floor(i / 200)}`
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
  const base = { v: 1, id, runId, time, policyHash: POLICY_HASH }
  if (i % 5000 === 4999) {
    return { channel: 'states', event: { ...base, kind: 'withheld', channel: 'states', reason: 'policy:ERR_INTERNAL' }, transforms: [], status: 'withheld' }
  }
  switch (i % 10) {
    case 0:
      return {
        channel: 'parameters',
        event: { ...base, kind: 'parameters', flowName: 'etl', parameters: { email: '[REDACTED:email]', region: 'eu-west-1', customer: { id: 'fp1.k1.Zm9v' }, limit: i % 100 } },
        transforms: [
          { path: 'parameters.email', rule: 'email', action: 'scrub' },
          { path: 'parameters.customer.id', rule: 'customer.id', action: 'hash' },
        ],
        status: 'sent',
      }
    case 1:
    case 2:
      return {
        channel: 'states',
        event: { ...base, kind: 'task-run-state', flowName: 'etl', taskName: `load-${i % 7}`, taskRunId: `t-${i}`, state: 'Success', result: { type: 'local', location: 'alk1.eyJhbGciOiJkaXIifQ..c2VjcmV0.bG9jYXRpb24.dGFn' } },
        transforms: [{ path: 'result.location', rule: 'locations', action: 'encrypt' }],
        status: 'sent',
      }
    case 3:
      return {
        channel: 'states',
        event: {
          ...base,
          kind: 'task-run-state',
          taskName: 'transform',
          taskRunId: `t-${i}`,
          state: 'Failed',
          failure: { type: 'ConnectionError', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED [REDACTED:ip]:5432' },
        },
        transforms: [{ path: 'failure.message', rule: 'ip', action: 'scrub' }, { path: 'failure.stack', rule: 'exceptions', action: 'drop' }],
        status: 'sent',
      }
    default:
      return {
        channel: 'logs',
        event: { ...base, kind: 'log', level: i % 4 === 0 ? 'warn' : 'info', msg: `loaded ${i % 1000} rows`, fields: { user: '[REDACTED:email]', rows: i % 1000, req: { method: 'GET', url: '/v1/items' } } },
        transforms: i % 2 === 0 ? [{ path: 'fields.user', rule: 'email', action: 'scrub' }] : [],
        status: 'sent',
      }
  }
}

/**
 * Writes a valid ledger of `entries` lines, as the writer does: each line is
 * the canonical JSON of its entry, `hash` the SHA-256 of the line without
 * `hash`. Members are spliced in canonical (sorted) order by hand, so each
 * event is serialized once; every timed verify must find the file intact.
 */
export async function writeLedger(path: string, entries: number, signingKey: KeyObject): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 })
  let prev = GENESIS_HASH
  let lines: string[] = []
  let pendingIds: string[] = []
  const tree = new MerkleRange()
  let origin = ''
  for (let seq = 1; seq <= entries; seq++) {
    const time = new Date(START_MS + Math.floor(((seq - 1) * SPAN_MS) / entries)).toISOString()
    if (seq > 1 && (seq % CHECKPOINT_EVERY === 0 || seq === entries)) {
      // A signed checkpoint, as Ledger writes one: every 10,000 entries, and the closing one last.
      const note = signCheckpointNote(signingKey, { origin, size: tree.size, root: tree.root(), final: seq === entries, adopted: undefined })
      const body = { kind: 'checkpoint', note, prev, range: tree.peaks.map((peak) => peak.toString('hex')), seq, time, v: LEDGER_FORMAT_VERSION }
      prev = sha256Hex(canonicalJson(body))
      lines.push(`{"hash":"${prev}",${canonicalJson(body).slice(1)}\n`)
      tree.push(ledgerLeafHash(prev))
      if (seq === entries) {
        if (!out.write(lines.join(''))) await once(out, 'drain')
        lines = []
      }
      continue
    }
    // Canonical order: members sorted by key; `hash` sits between the members before and after it.
    let before: string
    let after: string
    if (seq % 1001 === 0) {
      const failed = seq % 10_010 === 0
      before = `{${failed ? '"error":{"code":"http-503","status":503},' : ''}"eventIds":${canonicalJson(pendingIds)},`
      after = `"kind":"delivery","prev":"${prev}","seq":${seq},"status":"${failed ? 'retrying' : 'sent'}","time":"${time}","v":${LEDGER_FORMAT_VERSION}}`
      pendingIds = []
    } else {
      const { channel, event, transforms, status } = eventFor(seq, time)
      pendingIds.push(event.id as string)
      before = `{"channel":"${channel}","event":${canonicalJson(event)},"eventId":"${event.id as string}",`
      after = `"kind":"event","policyHash":"${POLICY_HASH}","prev":"${prev}","seq":${seq},"status":"${status}","time":"${time}","transforms":${canonicalJson(transforms)},"v":${LEDGER_FORMAT_VERSION}}`
    }
    prev = sha256Hex(before + after)
    lines.push(`${before}"hash":"${prev}",${after}\n`)
    if (seq === 1) origin = ledgerOrigin(prev)
    tree.push(ledgerLeafHash(prev))
    if (lines.length >= 10_000 || seq === entries) {
      if (!out.write(lines.join(''))) await once(out, 'drain')
      lines = []
    }
  }
  out.end()
  await once(out, 'finish')
}

async function countLines(path: string): Promise<number> {
  let lines = 0
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let at = -1
    while ((at = chunk.indexOf(0x0a, at + 1)) !== -1) lines++
  }
  return lines
}

interface Timed<T> {
  value: T
  seconds: number
  cpuSeconds: number
}

async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  const value = await work()
  const used = process.cpuUsage(cpu)
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9, cpuSeconds: (used.user + used.system) / 1e6 }
}

/** The round with the median wall time (its CPU time with it, so the two columns describe one run). */
function median<T>(rounds: readonly Timed<T>[]): Timed<T> {
  return [...rounds].sort((a, b) => a.seconds - b.seconds)[Math.floor(rounds.length / 2)]!
}

/**
 * Writes the ledger to a temp dir, measures the rows (the targeted ones over `ROUNDS` rounds), and removes it.
 *
 * @example
 * ```ts
 * const { rows } = await run(100_000)
 * ```
 */
export async function run(entries = DEFAULT_ENTRIES, rows: 'all' | 'verify' = ROWS as 'all' | 'verify'): Promise<ReportBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-report-'))
  try {
    const path = join(dir, 'ledger.ndjson')
    const keys = await generateLedgerSigningKey()
    const written = await timed(() => writeLedger(path, entries, createPrivateKey({ key: keys.privateKey as JsonWebKey, format: 'jwk' })))
    const fileBytes = (await stat(path)).size

    const lineCounts: Timed<number>[] = []
    const verifies: Timed<unknown>[] = []
    const signedVerifies: Timed<unknown>[] = []
    // Rounds take turns, so a noisy moment hurts one run of each row rather than every run of one.
    for (let round = 0; round < ROUNDS; round++) {
      const lines = await timed(() => countLines(path))
      if (lines.value !== entries) throw new Error(`expected ${entries} lines, counted ${lines.value}`)
      lineCounts.push(lines)
      const verify = await timed(() => verifyLedger(path))
      if (!verify.value.ok) throw new Error(`the generated ledger does not verify: ${verify.value.reason}`)
      verifies.push(verify)
      const signed = await timed(() => verifyLedger(path, { publicKey: keys.publicKey }))
      if (!signed.value.ok || !signed.value.signaturesChecked) throw new Error('the generated ledger does not verify with its key')
      signedVerifies.push(signed)
    }
    const lineCount = median(lineCounts)

    const row = (name: string, ...parts: Timed<unknown>[]): ReportBenchRow => {
      const seconds = parts.reduce((sum, part) => sum + part.seconds, 0)
      return {
        name,
        seconds,
        cpuSeconds: parts.reduce((sum, part) => sum + part.cpuSeconds, 0),
        entriesPerSecond: entries / seconds,
        vsLineCount: seconds / lineCount.seconds,
      }
    }
    const verifyRows = [row('line count (baseline)', lineCount), row('verifyLedger', median(verifies)), row('verifyLedger, signed', median(signedVerifies))]
    const done = { entries, fileBytes, writeSeconds: written.seconds }
    if (rows === 'verify') return { ...done, rows: verifyRows, htmlBytes: undefined, reportPeakRss: undefined, maxRss: process.resourceUsage().maxRSS * 1024 }

    const report = await timed(() => buildLedgerReport(path))
    if (report.value.entries.total !== entries) throw new Error(`the report counted ${report.value.entries.total} entries`)

    let peak = process.memoryUsage().rss
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
    const scanner = new LedgerLeakScanner()
    const scanned = await timed(() => buildLedgerReport(path, { onEntry: (entry) => scanner.add(entry) }))
    const scan = { ...scanner.result(scanned.value.verified), scope: 'every built-in detector' }
    const html = await timed(() => Promise.resolve(formatReportHtml(scanned.value, { scan })))
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    if (scan.total !== 0) throw new Error(`the leak scan found ${scan.total} leaks in a ledger built to have none`)

    return {
      ...done,
      rows: [
        ...verifyRows,
        row('buildLedgerReport', report),
        row('report + leak scan', scanned),
        row('formatReportHtml', html),
        row('html report, total', scanned, html),
      ],
      htmlBytes: Buffer.byteLength(html.value),
      reportPeakRss: peak,
      maxRss: process.resourceUsage().maxRSS * 1024,
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const entries = process.argv[2] === undefined ? DEFAULT_ENTRIES : Number(process.argv[2])
  const loadBefore = loadavg()[0]!
  const result = await run(entries)
  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`
  const load = `load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`
  console.log(`${result.entries.toLocaleString('en-US')} entries, ${mb(result.fileBytes)} of ledger (written in ${result.writeSeconds.toFixed(1)} s); Node ${process.version}, ${process.arch}, ${availableParallelism()} CPUs, ${load}\n`)
  console.log(`${'case'.padEnd(24)}${'seconds'.padStart(9)}${'cpu s'.padStart(9)}${'entries/s'.padStart(13)}${'x line count'.padStart(14)}`)
  for (const r of result.rows) {
    const perSecond = Math.round(r.entriesPerSecond).toLocaleString('en-US')
    console.log(`${r.name.padEnd(24)}${r.seconds.toFixed(3).padStart(9)}${r.cpuSeconds.toFixed(3).padStart(9)}${perSecond.padStart(13)}${r.vsLineCount.toFixed(1).padStart(14)}`)
  }
  const signed = result.rows.find((r) => r.name === 'verifyLedger, signed')!
  console.log(`\ntarget verify-vs-line-count: ${signed.vsLineCount.toFixed(2)} (goal <= ${VERIFY_GOAL}): ${signed.vsLineCount <= VERIFY_GOAL ? 'met' : 'NOT met'}`)
  if (result.htmlBytes !== undefined && result.reportPeakRss !== undefined) {
    console.log(`\nhtml: ${(result.htmlBytes / 1024).toFixed(0)} KB; peak RSS while reporting: ${mb(result.reportPeakRss)}; process maxRSS: ${mb(result.maxRss)}`)
  }
}
