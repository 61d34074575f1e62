/**
 * Cost of the airlock logger against plain pino, on the same records in the
 * same run, so the ratios compare like with like on a noisy machine.
 *
 * Every case logs the same five records, in turn, through a child logger
 * with two bindings, to a destination that drops what it gets (CPU only, no
 * I/O): a plain message; fields with an email; a request with an
 * authorization header and an API key in its URL; an `err` with a stack
 * whose message holds a connection string with a password; fields with a
 * password. The API key and both passwords are three of the generated
 * secrets below, so every masker has something to mask.
 *
 * Required rows:
 * - `pino` (baseline): plain pino;
 * - `pino + redact`: pino's own `redact` option, three paths;
 * - `airlock: scrubLocal + ship`: createLogger, balanced policy, ship to a no-op;
 * - `airlock: ship only`: createLogger with scrubLocal off.
 *
 * Alternatives the design was chosen from:
 * - `airlock: scrubLocal only`: the local scrubbing alone (ship off);
 * - `alt: streamWrite scrub`: scrubbing the serialized line as text in
 *   `hooks.streamWrite` (cheaper, but weaker: see LocalScrub's doc);
 * - `alt: multistream + parse`: shipping through createShippingDestination
 *   in a pino.multistream, one JSON.parse per line;
 * - `alt: logMethod capture`: a `hooks.logMethod` that only hands the raw
 *   arguments to a no-op: a lower bound for capture by hook (a real one must
 *   still format the message and read the bindings).
 *
 * Scaling with the number of known secrets (random 20 to 32 character
 * alphanumerics, one seeded list; each count takes its first N), at 10,
 * 1,000 and 10,000:
 * - `pino + regex alternation`: Airflow's SecretsMasker approach bolted onto
 *   pino: every serialized line goes through one
 *   `new RegExp(secrets.map(escapeRegExp).join('|'), 'g')` replace in
 *   `hooks.streamWrite`, raw values only (so it does less work than ours);
 * - `airlock: scrubLocal + ship`: as the required row, with the secrets
 *   registered with the scrubber (the required row registers one).
 *
 * Each row is the median of 7 timed runs of 20,000 records after a
 * warm-up; the cases take turns run by run. A run times the log calls only:
 * the calling thread's CPU time (Linux; wall time elsewhere), so the
 * scrubbing thread working on the other core is not billed to the caller; after each run, untimed, every logger is flushed,
 * so the scrubbing thread of the airlock rows starts the next run idle.
 *
 * The whole path a shipped record takes (`airlock.logger` with the default
 * `FileControlPlane` and ledger, in a temporary directory: logger →
 * normalize → policy → ledger → control plane, local output to a file)
 * against plain pino writing the same records to a file, until
 * `airlock.close()` (pino: `flush`) resolves: records per second end to
 * end, the log calls alone, and CPU time per record on the main thread
 * and on every other thread of the process (the scrubbing worker, libuv's
 * pool, V8's helpers), from /proc on Linux.
 *
 * Targets (each printed as `target <name>: <value> (goal <op> <x>): met`):
 * - `airlock: scrubLocal + ship` on the calling thread >= 0.67x pino;
 * - the real path, log calls >= 0.67x pino's to a file;
 * - the real path end to end >= 0.2x pino's.
 * A missed target makes the bench exit 1.
 *
 * @example
 * ```sh
 * npx tsx bench/logger.ts
 * ```
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { pino } from 'pino'
import { FileControlPlane } from '../src/boundary/file-control-plane.js'
import { KeyRing } from '../src/crypto/key-ring.js'
import { flushLogger } from '../src/logging/local-output.js'
import { Airlock } from '../src/runtime/airlock.js'
import type { DestinationStream, Logger } from 'pino'
import { createLogger } from '../src/logging/create-logger.js'
import { createShippingDestination } from '../src/logging/create-shipping-destination.js'
import type { ShippedRecord } from '../src/logging/shipped-record.js'
import { definePolicy } from '../src/policy/define-policy.js'
import { Scrubber } from '../src/scrub/scrubber.js'

const RECORDS_PER_RUN = 20_000
const RUNS = 7
// The real path's records (the issue measured 102,000; set AIRLOCK_BENCH_E2E_RECORDS for that).
const E2E_RECORDS = Number(process.env.AIRLOCK_BENCH_E2E_RECORDS ?? 20_000)
const SECRET_COUNTS = [10, 1_000, 10_000] as const

/** One row of the results. */
export interface LoggerBenchRow {
  readonly name: string
  readonly opsPerSecond: number
  /** opsPerSecond / the baseline's: 1 is as fast as plain pino, 0.5 half as fast. */
  readonly vsPino: number
}

const nullDestination: DestinationStream = {
  write(): void {},
}

let shippedCount = 0
function countShipped(_record: ShippedRecord): void {
  shippedCount++
}

// Seeded (mulberry32), so every run logs and masks the same secrets.
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

function generateSecrets(count: number): string[] {
  const rand = prng(11)
  return Array.from({ length: count }, () => {
    const length = 20 + Math.floor(rand() * 13)
    let secret = ''
    for (let i = 0; i < length; i++) secret += ALNUM[Math.floor(rand() * ALNUM.length)]
    return secret
  })
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

const secrets = generateSecrets(Math.max(...SECRET_COUNTS))
const apiKeyUrl = `/v1/items?page=3&api_key=${secrets[0]!}`
const failure = new Error(`connect ECONNREFUSED 10.0.0.7:5432 for postgres://ada:${secrets[1]!}@db.internal/orders`)
const dbPassword = secrets[2]!

function logRecords(logger: Logger, count: number): void {
  for (let i = 0; i < count; i += 5) {
    logger.info('batch started')
    logger.info({ user: 'ada@example.com', rows: i }, 'loaded rows')
    logger.warn(
      { req: { method: 'GET', url: apiKeyUrl, headers: { authorization: 'Bearer eyJhbGciOi.J9eyJzdWIi.OiIxMjM', 'user-agent': 'curl/8.5' } } },
      'slow request',
    )
    logger.error({ err: failure }, 'load failed')
    logger.info({ db: { host: 'db.internal', password: dbPassword }, attempt: 2 }, 'retrying')
  }
}

// The calling thread's CPU time for the log calls (Linux: the main thread's schedstat), so a
// scrubbing thread busy on the other core, or a neighbour on a shared one, is not counted as
// the caller's; wall time where /proc is missing.
function timeRun(logger: Logger): number {
  const cpu = mainThreadCpuNanos()
  const start = process.hrtime.bigint()
  logRecords(logger, RECORDS_PER_RUN)
  const wall = Number(process.hrtime.bigint() - start) / 1e9
  const cpuAfter = mainThreadCpuNanos()
  return cpu === undefined || cpuAfter === undefined ? wall : (cpuAfter - cpu) / 1e9
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

// Runs take turns (case 1, case 2, …, then again), so a noisy moment on a
// shared machine hurts one run of every case rather than every run of one.
async function measure(loggers: readonly Logger[]): Promise<number[]> {
  const children = loggers.map((logger) => logger.child({ flow: 'etl', task: 'load' }))
  for (const child of children) logRecords(child, RECORDS_PER_RUN)
  await Promise.all(loggers.map(flushLogger))
  const times = children.map((): number[] => [])
  for (let run = 0; run < RUNS; run++) {
    for (let i = 0; i < children.length; i++) {
      times[i]!.push(timeRun(children[i]!))
      // Untimed: the scrubbing thread catches up before the next run.
      await flushLogger(loggers[i]!)
    }
  }
  return times.map((t) => RECORDS_PER_RUN / median(t))
}

/** Runs every case and returns one row per case, the baseline first. */
export async function run(): Promise<LoggerBenchRow[]> {
  const balanced = definePolicy({ preset: 'balanced' }, { env: {} })
  const shipOnly = definePolicy({ preset: 'balanced', logs: { scrubLocal: false } }, { env: {} })
  const scrubOnly = definePolicy({ preset: 'balanced', logs: { ship: false } }, { env: {} })
  const scrubber = new Scrubber({ policy: balanced.scrub })
  scrubber.register('registered-secret-value-0001')

  const cases: [string, () => Logger][] = [
    ['pino', () => pino({ level: 'info' }, nullDestination)],
    [
      'pino + redact (3 paths)',
      () => pino({ level: 'info', redact: ['user', 'req.headers.authorization', 'db.password'] }, nullDestination),
    ],
    ['airlock: scrubLocal + ship', () => createLogger({ policy: balanced, scrubber, ship: countShipped, destination: nullDestination })],
    ['airlock: ship only', () => createLogger({ policy: shipOnly, scrubber, ship: countShipped, destination: nullDestination })],
    ['airlock: scrubLocal only', () => createLogger({ policy: scrubOnly, scrubber, ship: countShipped, destination: nullDestination })],
    [
      'alt: streamWrite scrub (text)',
      () => pino({ level: 'info', hooks: { streamWrite: (line) => scrubber.scrubString(line) } }, nullDestination),
    ],
    [
      'alt: multistream + parse (ship)',
      () =>
        pino(
          { level: 'info' },
          pino.multistream([{ stream: nullDestination }, { stream: createShippingDestination({ policy: shipOnly, ship: countShipped }) }]),
        ),
    ],
    [
      'alt: logMethod capture (ship)',
      () =>
        pino(
          {
            level: 'info',
            hooks: {
              logMethod(args, method) {
                countShipped(args as unknown as ShippedRecord)
                method.apply(this, args)
              },
            },
          },
          nullDestination,
        ),
    ],
  ]
  for (const count of SECRET_COUNTS) {
    const known = secrets.slice(0, count)
    const alternation = new RegExp(known.map(escapeRegExp).join('|'), 'g')
    const scaled = new Scrubber({ policy: balanced.scrub })
    for (const secret of known) scaled.register(secret)
    const label = `${count.toLocaleString('en-US')} secrets`
    cases.push(
      [
        `pino + regex alternation, ${label}`,
        () => pino({ level: 'info', hooks: { streamWrite: (line) => line.replace(alternation, '***') } }, nullDestination),
      ],
      [
        `airlock: scrubLocal + ship, ${label}`,
        () => createLogger({ policy: balanced, scrubber: scaled, ship: countShipped, destination: nullDestination }),
      ],
    )
  }

  const rates = await measure(cases.map(([, make]) => make()))
  const baseline = rates[0]!
  return cases.map(([name], i) => ({ name, opsPerSecond: rates[i]!, vsPino: rates[i]! / baseline }))
}

/** The whole path, against pino to a file: rates and CPU per record per thread. */
export interface EndToEndResult {
  readonly name: string
  /** Records per second until everything is written (and, for airlock, ledgered and sent). */
  readonly endToEnd: number
  /** Records per second of the log calls alone. */
  readonly callingThread: number
  /** CPU µs per record on the main thread, and on all other threads together. */
  readonly mainCpuMicros: number
  readonly otherCpuMicros: number
}

// CPU nanoseconds of the main thread so far (Linux: its schedstat), or undefined elsewhere.
function mainThreadCpuNanos(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0])
  } catch {
    return undefined
  }
}

async function endToEnd(name: string, log: (count: number) => void, finish: () => Promise<void>): Promise<EndToEndResult> {
  const cpu0 = process.cpuUsage()
  const main0 = mainThreadCpuNanos()
  const start = process.hrtime.bigint()
  log(E2E_RECORDS)
  const logged = process.hrtime.bigint()
  await finish()
  const end = process.hrtime.bigint()
  const cpu = process.cpuUsage(cpu0)
  const main1 = mainThreadCpuNanos()
  const totalMicros = cpu.user + cpu.system
  const mainMicros = main0 === undefined || main1 === undefined ? NaN : (main1 - main0) / 1000
  return {
    name,
    endToEnd: E2E_RECORDS / (Number(end - start) / 1e9),
    callingThread: E2E_RECORDS / (Number(logged - start) / 1e9),
    mainCpuMicros: mainMicros / E2E_RECORDS,
    otherCpuMicros: (totalMicros - mainMicros) / E2E_RECORDS,
  }
}

/**
 * Plain pino to a file, then `airlock.logger` with the default FileControlPlane and ledger.
 *
 * @example
 * ```ts
 * const [pinoRow, airlockRow] = await runEndToEnd()
 * ```
 */
export async function runEndToEnd(): Promise<EndToEndResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-'))
  try {
    const file = pino({ level: 'info' }, pino.destination({ dest: join(dir, 'pino.ndjson'), sync: false }))
    const plainChild = file.child({ flow: 'etl', task: 'load' })
    const plain = await endToEnd('pino to a file', (n) => logRecords(plainChild, n), () => flushLogger(file))
    const airlock = new Airlock({
      keys: KeyRing.generate(),
      controlPlane: new FileControlPlane({ path: join(dir, 'control-plane.ndjson') }),
      ledger: { path: join(dir, 'ledger.ndjson') },
      logger: { destination: join(dir, 'airlock.ndjson') },
    })
    airlock.scrubber.register(dbPassword)
    const child = airlock.logger.child({ flow: 'etl', task: 'load' })
    const ours = await endToEnd('airlock.logger, FileControlPlane + ledger', (n) => logRecords(child, n), () => airlock.close())
    return [plain, ours]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function target(name: string, value: number, op: '>=' | '<=', goal: number): void {
  const met = op === '>=' ? value >= goal : value <= goal
  if (!met) process.exitCode = 1
  console.log(`target ${name}: ${value.toFixed(3)} (goal ${op} ${goal}): ${met ? 'met' : 'NOT met'}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await run()
  const width = Math.max(...rows.map((r) => r.name.length))
  console.log(`${RECORDS_PER_RUN} records per run, median of ${RUNS} (log calls only; flushed between runs); Node ${process.version}, ${process.arch}\n`)
  console.log(`${'case'.padEnd(width)}  ${'records/s'.padStart(10)}  ${'vs pino'.padStart(7)}`)
  for (const row of rows) {
    console.log(`${row.name.padEnd(width)}  ${row.opsPerSecond.toFixed(0).padStart(10)}  ${row.vsPino.toFixed(3).padStart(7)}`)
  }
  console.log(`\n(${shippedCount} records handed to ship in all)`)

  const [plain, ours] = await runEndToEnd()
  console.log(`\nThe whole path, ${E2E_RECORDS} records (until close/flush resolves):\n`)
  console.log(`${'case'.padEnd(44)}  ${'end to end/s'.padStart(12)}  ${'log calls/s'.padStart(11)}  ${'main CPU µs/rec'.padStart(15)}  ${'other threads µs/rec'.padStart(20)}`)
  for (const r of [plain!, ours!]) {
    console.log(
      `${r.name.padEnd(44)}  ${r.endToEnd.toFixed(0).padStart(12)}  ${r.callingThread.toFixed(0).padStart(11)}  ${r.mainCpuMicros.toFixed(2).padStart(15)}  ${r.otherCpuMicros.toFixed(2).padStart(20)}`,
    )
  }
  console.log('')
  target('scrubLocal + ship, calling thread / pino', rows.find((r) => r.name === 'airlock: scrubLocal + ship')!.vsPino, '>=', 0.67)
  target('real path, log calls / pino to a file', ours!.callingThread / plain!.callingThread, '>=', 0.67)
  target('real path, end to end / pino to a file', ours!.endToEnd / plain!.endToEnd, '>=', 0.2)
}
