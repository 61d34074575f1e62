// The quick start: a small ETL flow on embedded defaults. Results stay on
// local disk under encrypted locations; the control plane is an NDJSON file;
// the ledger records exactly what left, under signed checkpoints; a text
// report sums it up.
//
//   npm run demo
//
// Everything is written under .airlock/demo/ (set AIRLOCK_DEMO_DIR to move it).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import {
  Airlock,
  FileControlPlane,
  KeyRing,
  LocalResult,
  cacheValidators,
  definePolicy,
  verifyLedger,
} from '../src/index.js'
import { buildLedgerReport, formatReportText, generateLedgerSigningKey } from '../src/audit/index.js'

const home = process.env.AIRLOCK_DEMO_DIR ?? join('.airlock', 'demo')
await rm(home, { recursive: true, force: true })
await mkdir(home, { recursive: true })

// In production: KeyRing.fromFile('keys.json') or KeyRing.fromEnv().
const keys = KeyRing.generate()
const controlPlanePath = join(home, 'control-plane.ndjson')
const ledgerPath = join(home, 'ledger.ndjson')

// The ledger signs its checkpoints. Without a signing key it would detect
// accidental damage only: its hash chain uses no secret, so whoever can write
// the file could edit it and recompute every hash. In production:
// `airlock keys generate --ledger-key ledger.key.json`, the private half kept
// with the worker, the public half (ledger.key.json.pub.json) given to auditors.
const ledgerKeys = await generateLedgerSigningKey()
const publicKeyPath = join(home, 'ledger.pub.json')
await writeFile(publicKeyPath, JSON.stringify(ledgerKeys.publicKey, null, 2))

const airlock = new Airlock({
  policy: definePolicy({ preset: 'balanced' }),
  keys,
  controlPlane: new FileControlPlane({ path: controlPlanePath }),
  ledger: { path: ledgerPath, signingKey: ledgerKeys.privateKey },
  logger: { level: 'warn' },
})

// A secret the tasks use: registered, so it is masked wherever it appears.
const warehousePassword = 'wh-pa55-7f3a9c1e'
airlock.scrubber.register(warehousePassword, { name: 'warehouse-password' })

const results = new LocalResult({
  dir: join(home, 'results'),
  location: '{flowName}/{taskName}/{taskRunId}.json',
  locationCipher: keys,
})

// Existing functions, unchanged: the wrapper adds states, results and caching.
async function extract(customerEmail: string): Promise<{ email: string; orders: number[] }> {
  return { email: customerEmail, orders: [120, 80, 45] }
}
async function transform(data: { email: string; orders: number[] }): Promise<{ email: string; total: number }> {
  return { email: data.email, total: data.orders.reduce((a, b) => a + b, 0) }
}
async function load(row: { email: string; total: number }): Promise<number> {
  if (row.total > 200) {
    // An error whose message carries data that must not leave.
    throw new Error(`warehouse rejected ${row.email} (login ${warehousePassword})`)
  }
  return row.total
}

const extractTask = airlock.task(extract, { name: 'extract', result: results, checkpoint: true, cacheFor: '1h', cacheValidator: cacheValidators.allInputs })
const transformTask = airlock.task(transform, { name: 'transform', result: results, checkpoint: true })
const loadTask = airlock.task(load, { name: 'load', retries: 1, retryDelay: 10 })

const etl = airlock.flow('etl', async ({ customerEmail }: { customerEmail: string; region: string }) => {
  airlock.logger.warn({ customerEmail }, `starting a load for ${customerEmail}`)
  const data = await extractTask(customerEmail)
  return loadTask(await transformTask(data))
})

const run = await etl.run({ customerEmail: 'ada@example.com', region: 'eu-west-1' })
await airlock.close()

// What stayed local, and what left.
const stayed = run.taskRuns.filter((t) => t.result !== undefined)
const wire = (await readFile(controlPlanePath, 'utf8')).trim().split('\n')
// An auditor needs the public key only: the chain, every checkpoint signature, and the closing checkpoint.
const verified = await verifyLedger(ledgerPath, { publicKey: ledgerKeys.publicKey })
const report = formatReportText(await buildLedgerReport(ledgerPath, { publicKey: ledgerKeys.publicKey }))
const reportPath = join(home, 'report.txt')
await writeFile(reportPath, report)

console.log(`flow run ${run.flowRunId}: ${run.state}${run.state === 'Failed' ? ' (on purpose: the load task throws)' : ''}`)
console.log(`\nwritten locally (never sent): ${stayed.length} results under ${relative('.', join(home, 'results'))}`)
for (const task of stayed) console.log(`  ${task.taskName}: ${String(task.result?.plainLocation)}`)
console.log(`\nsent to the control plane (${relative('.', controlPlanePath)}): ${wire.length} events, for example:`)
for (const line of wire) {
  const event = JSON.parse(line) as { kind: string; state?: string; result?: unknown; failure?: unknown; parameters?: unknown; msg?: string }
  if (event.kind === 'parameters') console.log(`  parameters: ${JSON.stringify(event.parameters)}`)
  else if (event.result !== undefined) console.log(`  ${event.state} result: ${JSON.stringify(event.result).slice(0, 100)}…`)
  else if (event.failure !== undefined && event.kind === 'task-run-state') console.log(`  Failed: ${JSON.stringify(event.failure)}`)
  else if (event.kind === 'log') console.log(`  log: ${event.msg}`)
}
console.log(
  `\nledger ${relative('.', ledgerPath)}: ${
    verified.ok
      ? `intact, ${verified.entries} entries, ${verified.checkpoints} signed checkpoint(s) verified with ${relative('.', publicKeyPath)}`
      : verified.empty
        ? 'empty'
        : `NOT intact at seq ${verified.firstBadSeq}: ${verified.reason}`
  }`,
)
console.log(`\n${report.trimEnd()}\n`)
console.log(`audit report: ${relative('.', reportPath)}`)
console.log(`verify it yourself: npx tsx src/cli/main.ts audit verify ${relative('.', ledgerPath)} --public-key ${relative('.', publicKeyPath)}`)
if (!verified.ok) process.exitCode = 1
