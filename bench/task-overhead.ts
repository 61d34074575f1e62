/**
 * Per-task overhead of `airlock.task`: a wrapped no-op task against a bare
 * call of the same function, in one run, so ratios compare like with like on
 * a noisy machine. The ledger is on (a temp dir, fdatasync'd group commits)
 * and the control plane is a `MemoryControlPlane`; policy `balanced`.
 *
 * Cases:
 * 1. bare call: `await noop(i)`;
 * 2. wrapped, inside a flow: one flow run calls the task `TASKS_PER_FLOW`
 *    times in sequence. A task does not wait for its events; the flow run
 *    resolves once all of them are ledgered and sent, and that wait is
 *    counted, divided over the tasks;
 * 3. wrapped, outside any flow: each call is a one-task run that resolves
 *    only after its three events (Pending, Running, Success) are ledgered
 *    and sent, so it includes a group commit's fdatasync;
 * 4. for reference, the boundary alone: three `airlock.emit` calls of task
 *    states per task, awaited together at the end, as in case 2. The
 *    difference between cases 2 and 4 is what the runtime itself adds.
 *
 * Each row is the best of `PASSES` timed passes after one warm-up.
 *
 * @example
 * ```sh
 * npx tsx bench/task-overhead.ts
 * ```
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MemoryControlPlane } from '../src/boundary/memory-control-plane.js'
import { KeyRing } from '../src/crypto/key-ring.js'
import { definePolicy } from '../src/policy/define-policy.js'
import { Airlock } from '../src/runtime/airlock.js'

/** One measured case. */
export interface BenchResult {
  /** What was measured. */
  readonly name: string
  /** Microseconds per task call. */
  readonly usPerCall: number
  /** The case this one is compared with, when there is one. */
  readonly baseline?: string
  /** usPerCall / the baseline's usPerCall: the slowdown. */
  readonly ratio?: number
}

const BARE_CALLS = 200_000
const TASKS_PER_FLOW = 5_000
const LONE_CALLS = 500
const PASSES = 5
const BARE = 'bare call of the no-op'
const STATES = ['Pending', 'Running', 'Success'] as const

async function noop(x: number): Promise<number> {
  return Promise.resolve(x)
}

async function best(calls: number, pass: () => Promise<void>): Promise<number> {
  await pass()
  let fastest = Infinity
  for (let i = 0; i < PASSES; i++) {
    const start = process.hrtime.bigint()
    await pass()
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e3)
  }
  return fastest / calls
}

/**
 * Measures every case and returns one row per case, each wrapped case with
 * its ratio to the bare call.
 *
 * @example
 * ```ts
 * import { run } from './task-overhead.js'
 * for (const row of await run()) console.log(row.name, row.usPerCall, row.ratio)
 * ```
 */
export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-'))
  const airlock = new Airlock({
    policy: definePolicy({ preset: 'balanced' }, { env: {} }),
    keys: KeyRing.generate(),
    controlPlane: new MemoryControlPlane(),
    ledger: { path: join(dir, 'ledger.ndjson') },
    logger: { level: 'silent' },
  })
  try {
    const task = airlock.task(noop, { name: 'noop' })
    const flow = airlock.flow('bench', async () => {
      for (let i = 0; i < TASKS_PER_FLOW; i++) await task(i)
    })

    const bare = await best(BARE_CALLS, async () => {
      for (let i = 0; i < BARE_CALLS; i++) await noop(i)
    })
    const inFlow = await best(TASKS_PER_FLOW, async () => {
      const result = await flow.run({})
      if (result.state !== 'Success') throw new Error(`bench flow ended ${result.state}`)
    })
    const alone = await best(LONE_CALLS, async () => {
      for (let i = 0; i < LONE_CALLS; i++) await task(i)
    })
    const emitsOnly = await best(TASKS_PER_FLOW, async () => {
      const sent: Promise<unknown>[] = []
      for (let i = 0; i < TASKS_PER_FLOW; i++) {
        for (const state of STATES) sent.push(airlock.emit({ kind: 'task-run-state', runId: 'bench', taskName: 'noop', taskRunId: `t${i}`, state }))
      }
      await Promise.all(sent)
    })
    return [
      { name: BARE, usPerCall: bare },
      { name: 'wrapped no-op, in a flow (events awaited at the end of the run)', usPerCall: inFlow, baseline: BARE, ratio: inFlow / bare },
      { name: 'wrapped no-op, alone (each call awaits its events)', usPerCall: alone, baseline: BARE, ratio: alone / bare },
      { name: 'reference: the 3 emits of a task, without the runtime', usPerCall: emitsOnly, baseline: BARE, ratio: emitsOnly / bare },
    ]
  } finally {
    await airlock.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const rows = await run()
  console.log(`ledger on (temp dir), MemoryControlPlane, policy balanced; best of ${PASSES}; Node ${process.version}, ${process.arch}\n`)
  const width = Math.max(...rows.map((r) => r.name.length))
  console.log(`${'case'.padEnd(width)}  ${'µs/call'.padStart(9)}  ratio`)
  for (const row of rows) {
    const ratio = row.ratio === undefined ? '' : `${row.ratio.toFixed(0)}x the bare call`
    console.log(`${row.name.padEnd(width)}  ${row.usPerCall.toFixed(2).padStart(9)}  ${ratio}`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
