// Use 1: wrap the async functions of an existing ETL job as tasks, without
// touching their bodies. The wrapper adds states, persisted and encrypted
// results, retries, output caching and checkpointing; the control plane sees
// states and alk1. tokens, never the data or where it lives.
//
//   npx tsx examples/wrap-existing-tasks.ts
//
// Results go to S3 when AIRLOCK_EXAMPLE_S3_ENDPOINT and AIRLOCK_EXAMPLE_S3_BUCKET
// name an S3-compatible store (s3rver, MinIO), else to local disk. Everything
// else is written under .airlock/wrap-existing-tasks/ (AIRLOCK_EXAMPLE_DIR moves it).
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import {
  Airlock,
  KeyRing,
  LocalResult,
  MemoryControlPlane,
  S3Result,
  cacheValidators,
  definePolicy,
  type Result,
} from '../src/index.js'
import type { TaskRunStateEvent } from '../src/boundary/index.js'

// ---------------------------------------------------------------- the existing job
// Three plain async functions, as they were before airlock. Nothing below
// this block changes them.

interface Order {
  id: string
  customer: string
  region: string
  amount: number
}

async function fetchOrders(day: string): Promise<Order[]> {
  return [
    { id: `${day}-1`, customer: 'ada@example.com', region: 'eu', amount: 120 },
    { id: `${day}-2`, customer: 'grace@example.com', region: 'us', amount: 80 },
    { id: `${day}-3`, customer: 'ada@example.com', region: 'eu', amount: 45 },
  ]
}

async function totalsByRegion(orders: Order[]): Promise<Record<string, number>> {
  const totals: Record<string, number> = {}
  for (const order of orders) totals[order.region] = (totals[order.region] ?? 0) + order.amount
  return totals
}

// Stands in for a warehouse that drops the first connection of the night, as
// real ones do under load: the retry below is what gets the job through.
let warehouseConnections = 0
async function loadTotals(totals: Record<string, number>): Promise<number> {
  warehouseConnections++
  if (warehouseConnections === 1) throw new Error('ECONNRESET: the warehouse closed the connection')
  return Object.keys(totals).length
}

// ---------------------------------------------------------------- airlock around it

const home = process.env.AIRLOCK_EXAMPLE_DIR ?? join('.airlock', 'wrap-existing-tasks')
await rm(home, { recursive: true, force: true })
await mkdir(home, { recursive: true })

// In production: KeyRing.fromFile('keys.json') or KeyRing.fromEnv().
const keys = KeyRing.generate()
const controlPlane = new MemoryControlPlane()
const airlock = new Airlock({
  policy: definePolicy({ preset: 'balanced' }),
  keys,
  controlPlane,
  ledger: { path: join(home, 'ledger.ndjson') },
  logger: { level: 'warn' },
})

// One template for every task: the task run id keeps runs apart. The
// location cipher turns it into an alk1. token before it can leave; the
// payload cipher means the bucket (or disk) only ever holds ciphertext.
const location = '{flowName}/{taskName}/{taskRunId}.json'
const endpoint = process.env.AIRLOCK_EXAMPLE_S3_ENDPOINT
const bucket = process.env.AIRLOCK_EXAMPLE_S3_BUCKET
let results: Result
if (endpoint !== undefined && bucket !== undefined) {
  results = new S3Result({
    bucket,
    location,
    // s3rver's well-known credentials; against AWS, leave clientConfig out and the SDK's default chain applies.
    clientConfig: { region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
    locationCipher: keys,
    payloadCipher: keys,
  })
  console.log(`results: S3Result, bucket ${bucket} at ${endpoint}`)
} else {
  results = new LocalResult({ dir: join(home, 'results'), location, locationCipher: keys, payloadCipher: keys })
  console.log(`results: LocalResult under ${join(home, 'results')} (set AIRLOCK_EXAMPLE_S3_ENDPOINT and AIRLOCK_EXAMPLE_S3_BUCKET for S3)`)
}

// The same functions, wrapped. Fetching is the slow part, so its output is
// cached for an hour per input (the day); every task checkpoints its value,
// so a later run (or a person) can pick it up from storage.
const extract = airlock.task(fetchOrders, {
  name: 'extract',
  result: results,
  checkpoint: true,
  cacheFor: '1h',
  cacheValidator: cacheValidators.allInputs,
})
const transform = airlock.task(totalsByRegion, { name: 'transform', result: results, checkpoint: true })
const load = airlock.task(loadTotals, { name: 'load', result: results, checkpoint: true, retries: 2, retryDelay: 50 })

const etl = airlock.flow('orders-etl', async ({ day }: { day: string }) => load(await transform(await extract(day))))

// Twice with the same day: the second run's extract comes from the cache,
// read back from storage. The cache index is in memory here; a
// ResultCacheStore keeps it in the bucket, for every worker and later process.
const runs = [await etl.run({ day: '2026-11-21' }), await etl.run({ day: '2026-11-21' })]
await airlock.close()

// ---------------------------------------------------------------- what happened

const states = controlPlane.events.filter((e): e is TaskRunStateEvent => e.kind === 'task-run-state')
for (const [i, run] of runs.entries()) {
  console.log(`\nrun ${i + 1} (${run.flowRunId}): ${run.state}, ${String(run.value)} regions loaded`)
  for (const task of run.taskRuns) {
    const path = states.filter((e) => e.taskRunId === task.taskRunId).map((e) => e.state)
    console.log(`  ${task.taskName.padEnd(9)} ${path.join(' → ')}`)
  }
}

// The plain locations are known here, in your process, and nowhere else.
console.log('\nstayed in your storage (plain locations, never sent):')
const plainLocations = runs.flatMap((run) => run.taskRuns.flatMap((t) => t.result?.plainLocation ?? []))
for (const plain of new Set(plainLocations)) console.log(`  ${plain}`)

console.log('\nwhat left for the control plane (result references):')
for (const event of states) {
  if (event.result === undefined) continue
  const { type, location: token, ...ids } = event.result
  const where = Object.entries(ids).map(([k, v]) => `${k}=${String(v)} `).join('')
  console.log(`  ${event.taskName.padEnd(9)} ${event.state.padEnd(8)} type=${type} ${where}location=${token.slice(0, 16)}…${token.slice(-8)}`)
}
// A Retrying state references the task's inputs, persisted for the retry at
// a location of their own, so every reference is checked, not only the values'.
const wire = JSON.stringify(controlPlane.events)
const tokensOnly = states.every((e) => e.result === undefined || e.result.location.startsWith('alk1.'))
const leaked = plainLocations.filter((plain) => wire.includes(plain))
console.log(`\n${controlPlane.events.length} events sent; every location an alk1. token: ${tokensOnly ? 'yes' : 'NO'}; plain locations among them: ${leaked.length === 0 ? 'none' : leaked.join(', ')}`)
