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
 * Each row is the best of 7 timed runs of 20,000 records after a warm-up;
 * the cases take turns run by run.
 *
 * @example
 * ```sh
 * npx tsx bench/logger.ts
 * ```
 */
import { pathToFileURL } from 'node:url'
import { pino } from 'pino'
import type { DestinationStream, Logger } from 'pino'
import { createLogger } from '../src/logging/create-logger.js'
import { createShippingDestination } from '../src/logging/create-shipping-destination.js'
import type { ShippedRecord } from '../src/logging/shipped-record.js'
import { definePolicy } from '../src/policy/define-policy.js'
import { Scrubber } from '../src/scrub/scrubber.js'

const RECORDS_PER_RUN = 20_000
const RUNS = 7
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

function timeRun(logger: Logger): number {
  const start = process.hrtime.bigint()
  logRecords(logger, RECORDS_PER_RUN)
  return Number(process.hrtime.bigint() - start) / 1e9
}

// Runs take turns (case 1, case 2, …, then again), so a noisy moment on a
// shared machine hurts one run of every case rather than every run of one.
function measure(loggers: readonly Logger[]): number[] {
  const children = loggers.map((logger) => logger.child({ flow: 'etl', task: 'load' }))
  for (const child of children) logRecords(child, RECORDS_PER_RUN)
  const fastest = children.map(() => Infinity)
  for (let run = 0; run < RUNS; run++) {
    children.forEach((child, i) => {
      fastest[i] = Math.min(fastest[i]!, timeRun(child))
    })
  }
  return fastest.map((seconds) => RECORDS_PER_RUN / seconds)
}

/** Runs every case and returns one row per case, the baseline first. */
export function run(): LoggerBenchRow[] {
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

  const rates = measure(cases.map(([, make]) => make()))
  const baseline = rates[0]!
  return cases.map(([name], i) => ({ name, opsPerSecond: rates[i]!, vsPino: rates[i]! / baseline }))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = run()
  const width = Math.max(...rows.map((r) => r.name.length))
  console.log(`${RECORDS_PER_RUN} records per run, best of ${RUNS}; Node ${process.version}, ${process.arch}\n`)
  console.log(`${'case'.padEnd(width)}  ${'records/s'.padStart(10)}  ${'vs pino'.padStart(7)}`)
  for (const row of rows) {
    console.log(`${row.name.padEnd(width)}  ${row.opsPerSecond.toFixed(0).padStart(10)}  ${row.vsPino.toFixed(3).padStart(7)}`)
  }
  console.log(`\n(${shippedCount} records handed to ship in all)`)
}
