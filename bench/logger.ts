/**
 * Cost of the airlock logger against plain pino, on the same records in the
 * same run, so the ratios compare like with like on a noisy machine.
 *
 * Every case logs the same five records, in turn, through a child logger
 * with two bindings, to a destination that drops what it gets (CPU only, no
 * I/O): a plain message; fields with an email; a request with an
 * authorization header; an `err` with a stack; fields with a password.
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

const failure = new Error('connect ECONNREFUSED 10.0.0.7:5432 for ada@example.com')

function logRecords(logger: Logger, count: number): void {
  for (let i = 0; i < count; i += 5) {
    logger.info('batch started')
    logger.info({ user: 'ada@example.com', rows: i }, 'loaded rows')
    logger.warn(
      { req: { method: 'GET', url: '/v1/items?page=3', headers: { authorization: 'Bearer eyJhbGciOi.J9eyJzdWIi.OiIxMjM', 'user-agent': 'curl/8.5' } } },
      'slow request',
    )
    logger.error({ err: failure }, 'load failed')
    logger.info({ db: { host: 'db.internal', password: 'hunter2-hunter2' }, attempt: 2 }, 'retrying')
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
