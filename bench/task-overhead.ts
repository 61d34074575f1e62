/**
 * What durability costs a task: `airlock.task` with the ledger on, against
 * one fsynced append to a file on the same disk, measured in the same run
 * (issue 15). The control plane is a `MemoryControlPlane`, so delivery is
 * the outbox's real path without a network; policy `balanced`.
 *
 * Rows, each the median of `ROUNDS` rounds after one warm-up round. The
 * baseline and the two task cases take turns, round by round (baseline,
 * flow, lone, baseline, ...), and each ratio is the median of the rounds'
 * own ratios: on a shared machine the disk's and the CPU's speed drift by
 * several times within a minute, and a case measured a minute after its
 * baseline would be compared with another machine.
 * 1. baseline: one append of a ledger-sized line plus `fdatasync`, to a file
 *    in the ledger's directory (for reference, the same append through a
 *    file opened `O_DSYNC`, which is how the ledger syncs where it can, is
 *    printed without a goal);
 * 2. a wrapped no-op task inside a flow, run `TASKS_PER_FLOW` times in
 *    sequence. A task does not wait for its events; the flow run resolves
 *    once all of them are durable and delivered, and that wait is counted,
 *    divided over the tasks. Goal: at most 0.2× the baseline;
 * 3. a wrapped no-op task alone: each call is a one-task run that resolves
 *    only after its events are durable and delivered. Goal: at most 1× the
 *    baseline;
 * 4. sustained emit throughput: `EMITS` log events emitted without waiting,
 *    then flushed; printed with the mean group size (entries per sync) the
 *    ledger reached;
 * 5. for reference, a bare call of the same no-op.
 *
 * Exits 1 when a target is not met.
 *
 * @example
 * ```sh
 * npx tsx bench/task-overhead.ts
 * ```
 */
import { constants } from 'node:fs'
import { open, mkdtemp, rm, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MemoryControlPlane } from '../src/boundary/memory-control-plane.js'
import { KeyRing } from '../src/crypto/key-ring.js'
import { definePolicy } from '../src/policy/define-policy.js'
import { Airlock } from '../src/runtime/airlock.js'

/** One measured case: microseconds per call (or per event), and its ratio to the baseline when it has a goal. */
export interface BenchResult {
  readonly name: string
  readonly usPerCall: number
  /** usPerCall / the fsync baseline's usPerCall: the median of the rounds' ratios where the case took turns with the baseline. */
  readonly ratio?: number
  /** The ratio this case must stay at or under. */
  readonly goal?: number
}

/** What the sustained-emit case reached. */
export interface ThroughputResult {
  readonly eventsPerSecond: number
  /** Ledger entries per group commit (one write and one fdatasync). */
  readonly meanGroupSize: number
}

const ROUNDS = Number(process.env.AIRLOCK_BENCH_ROUNDS ?? 7)
const FSYNCS = 200
const TASKS_PER_FLOW = 2_000
const LONE_CALLS = 200
const EMITS = 20_000
const BARE_CALLS = 200_000

async function noop(x: number): Promise<number> {
  return Promise.resolve(x)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** One case: how many calls a round makes, and the round. */
interface Case {
  readonly calls: number
  readonly round: () => Promise<void>
}

/** One round's microseconds per call. */
async function timed(c: Case): Promise<number> {
  const start = process.hrtime.bigint()
  await c.round()
  return Number(process.hrtime.bigint() - start) / 1e3 / c.calls
}

/**
 * Rounds of every case in turn (one warm-up round each first): for each
 * case, its microseconds per call in every round, in round order.
 */
async function interleaved(cases: readonly Case[]): Promise<number[][]> {
  for (const c of cases) await c.round()
  const samples = cases.map((): number[] => [])
  for (let i = 0; i < ROUNDS; i++) {
    for (let j = 0; j < cases.length; j++) samples[j]!.push(await timed(cases[j]!))
  }
  return samples
}

// A line the size of a task-state ledger entry, appended and synced.
const BASELINE_LINE = Buffer.from(`${JSON.stringify({ kind: 'event', pad: 'x'.repeat(560) })}\n`)

/** Appends then fdatasyncs, FSYNCS times a round. */
function fsyncCase(handle: FileHandle): Case {
  return {
    calls: FSYNCS,
    round: async () => {
      for (let i = 0; i < FSYNCS; i++) {
        await handle.write(BASELINE_LINE)
        await handle.datasync()
      }
    },
  }
}

/** Appends to a file opened O_DSYNC (each write returns synced), FSYNCS times a round. */
function dsyncCase(handle: FileHandle): Case {
  return {
    calls: FSYNCS,
    round: async () => {
      for (let i = 0; i < FSYNCS; i++) await handle.write(BASELINE_LINE)
    },
  }
}

async function sustainedEmits(airlock: Airlock): Promise<ThroughputResult> {
  const before = airlock.stats().ledger
  const start = process.hrtime.bigint()
  for (let i = 0; i < EMITS; i++) void airlock.emit({ kind: 'log', runId: 'bench', level: 'info', msg: 'loaded rows', fields: { rows: i, table: 'orders' } })
  await airlock.flush()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const after = airlock.stats().ledger
  const entries = after.entries - before.entries
  return { eventsPerSecond: EMITS / seconds, meanGroupSize: entries / Math.max(1, after.commits - before.commits) }
}

/**
 * Measures every case in one process, on one disk.
 *
 * @example
 * ```ts
 * import { run } from './task-overhead.js'
 * const { rows, throughput } = await run()
 * for (const row of rows) console.log(row.name, row.usPerCall, row.ratio)
 * ```
 */
export async function run(): Promise<{ rows: BenchResult[]; throughput: ThroughputResult }> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-'))
  const airlock = new Airlock({
    policy: definePolicy({ preset: 'balanced' }, { env: {} }),
    keys: KeyRing.generate(),
    controlPlane: new MemoryControlPlane(),
    ledger: { path: join(dir, 'ledger.ndjson') },
    logger: { level: 'silent' },
  })
  const baseline = await open(join(dir, 'baseline.ndjson'), 'a', 0o600)
  const dsyncFile = await open(join(dir, 'baseline-dsync.ndjson'), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC, 0o600)
  try {
    const task = airlock.task(noop, { name: 'noop' })
    const flow = airlock.flow('bench', async () => {
      for (let i = 0; i < TASKS_PER_FLOW; i++) await task(i)
    })
    const inFlow: Case = {
      calls: TASKS_PER_FLOW,
      round: async () => {
        const result = await flow.run({})
        if (result.state !== 'Success') throw new Error(`bench flow ended ${result.state}`)
      },
    }
    const alone: Case = {
      calls: LONE_CALLS,
      round: async () => {
        for (let i = 0; i < LONE_CALLS; i++) await task(i)
      },
    }
    const [fsync, dsync, flowRounds, aloneRounds] = await interleaved([fsyncCase(baseline), dsyncCase(dsyncFile), inFlow, alone])
    // Each round's case against the baseline measured just before it.
    const ratios = (rounds: number[]): number => median(rounds.map((us, i) => us / fsync![i]!))
    const throughput = await sustainedEmits(airlock)
    const bare = median((await interleaved([{ calls: BARE_CALLS, round: async () => { for (let i = 0; i < BARE_CALLS; i++) await noop(i) } }]))[0]!)
    return {
      rows: [
        { name: 'baseline: one append + fdatasync, same disk', usPerCall: median(fsync!) },
        { name: 'reference: one append, file opened O_DSYNC', usPerCall: median(dsync!), ratio: ratios(dsync!) },
        { name: 'wrapped no-op task in a flow', usPerCall: median(flowRounds!), ratio: ratios(flowRounds!), goal: 0.2 },
        { name: 'wrapped no-op task alone', usPerCall: median(aloneRounds!), ratio: ratios(aloneRounds!), goal: 1 },
        { name: 'reference: bare call of the no-op', usPerCall: bare, ratio: bare / median(fsync!) },
      ],
      throughput,
    }
  } finally {
    await baseline.close()
    await dsyncFile.close()
    await airlock.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const { rows, throughput } = await run()
  console.log(`ledger on (temp dir), MemoryControlPlane, policy balanced; medians of ${ROUNDS} rounds; Node ${process.version}, ${process.arch}\n`)
  const width = Math.max(...rows.map((r) => r.name.length))
  console.log(`${'case'.padEnd(width)}  ${'µs/call'.padStart(9)}  × fsync`)
  for (const row of rows) {
    console.log(`${row.name.padEnd(width)}  ${row.usPerCall.toFixed(2).padStart(9)}  ${row.ratio === undefined ? '' : row.ratio.toFixed(3)}`)
  }
  console.log(`sustained emits, ledger on: ${Math.round(throughput.eventsPerSecond)} events/s, mean group size ${throughput.meanGroupSize.toFixed(1)} entries per fdatasync\n`)
  let missed = 0
  for (const row of rows) {
    if (row.goal === undefined) continue
    const met = row.ratio! <= row.goal
    if (!met) missed++
    console.log(`target ${row.name} / fsync: ${row.ratio!.toFixed(3)} (goal <= ${row.goal}): ${met ? 'met' : 'NOT met'}`)
  }
  if (missed > 0) process.exitCode = 1
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
