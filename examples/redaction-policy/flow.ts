// Use 2: one redaction policy file (policy.yaml, next to this file) covers
// every channel. This runs a small payments flow under it and prints,
// channel by channel, what the tasks saw next to what the control plane got,
// with the rule the ledger says decided it.
//
//   npx tsx examples/redaction-policy/flow.ts
//
// The ledger goes under .airlock/redaction-policy/ (AIRLOCK_EXAMPLE_DIR moves it).
import { mkdir, rm } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  Airlock,
  JSONResult,
  KeyRing,
  LocalResult,
  MemoryControlPlane,
  loadPolicy,
  verifyLedger,
  type OutboundEvent,
} from '../../src/index.js'
import type { LedgerEntry } from '../../src/audit/index.js'
import type { FlowRunStateEvent, LogEvent, ParametersEvent, TaskRunStateEvent } from '../../src/boundary/index.js'
import { matchParameterRule } from '../../src/policy/index.js'

const home = process.env.AIRLOCK_EXAMPLE_DIR ?? join('.airlock', 'redaction-policy')
await rm(home, { recursive: true, force: true })
await mkdir(home, { recursive: true })

// Env switches (AIRLOCK_LOG_LEVEL, ...) would win over the file; the example shows the file alone.
const policyPath = relative('.', fileURLToPath(new URL('policy.yaml', import.meta.url)))
const policy = loadPolicy(policyPath, { env: {} })
const keys = KeyRing.generate()
const controlPlane = new MemoryControlPlane()
const ledgerPath = join(home, 'ledger.ndjson')
// Local log output is kept in memory here, to print it; in production it is stdout or a file.
const localLog: string[] = []
const airlock = new Airlock({
  policy,
  keys,
  controlPlane,
  ledger: { path: ledgerPath },
  logger: { destination: { write: (line: string) => void localLog.push(line.trimEnd()) }, base: null },
})

// ---------------------------------------------------------------- the flow
// What the tasks see: real customer data, as a payments job holds and logs it.

const parameters = {
  region: 'eu-west-1',
  batch: 42,
  customer: { id: 'C-1042', card: '4111 1111 1111 1111', email: 'ada@example.com', note: 'onboarded by EMP-123456' },
  warehouse: { password: 'hunter2-correct-horse' },
  payment_token: 'tok_visa_4f8a2c91',
}
type Customer = (typeof parameters)['customer']
const crmRequest = { req: { headers: { cookie: 'session=9f86d081884c7d65', 'x-forwarded-for': '203.0.113.7' } }, ssn: '078-05-1120' }
const crmRows = Array.from({ length: 100 }, (_, i) => ({ row: i, email: parameters.customer.email }))
const orderRef = 'ORD_7h2k9x4m1q8z'

async function lookUpCustomer(customer: Customer): Promise<Customer> {
  airlock.logger.info({ customerId: customer.id }, 'looking up the customer')
  airlock.logger.warn(crmRequest, `CRM at 10.0.0.12 was slow for ${customer.email}`)
  airlock.logger.warn({ rows: crmRows }, 'CRM sent more rows than asked for')
  return customer
}

async function charge(customer: Customer): Promise<never> {
  throw new Error(`card ${customer.card} declined for ${customer.email}`, { cause: new Error(`gateway refused ${orderRef}`) })
}

async function receipt(customer: Customer): Promise<{ to: string; status: string }> {
  return { to: customer.email, status: 'declined' }
}

// No location cipher on purpose: under `locations: encrypt` the door encrypts it anyway.
const results = new LocalResult({ dir: join(home, 'results'), location: '{flowName}/{taskName}/{taskRunId}.json' })
const lookUpTask = airlock.task(lookUpCustomer, { name: 'look-up', result: results, checkpoint: true })
const chargeTask = airlock.task(charge, { name: 'charge', retries: 1 })
// A JSONResult's value is its own location: the inlineValues rule decides what of it leaves.
const receiptTask = airlock.task(receipt, { name: 'receipt', result: new JSONResult(), checkpoint: true })

// Kept to print next to what was sent; a declined card is an outcome, not a failed run.
let declined: Error | undefined
const payments = airlock.flow(
  'acme-payments',
  async (p: typeof parameters) => {
    const customer = await lookUpTask(p.customer)
    await chargeTask(customer).catch((err: Error) => (declined = err))
    return receiptTask(customer)
  },
  { tags: ['tenant-acme'] },
)
const run = await payments.run(parameters)
await airlock.close()

// ---------------------------------------------------------------- what left, channel by channel

// For each event sent, the ledger says which rule did what at which path (never the value).
const transforms = new Map<string, { path: string; rule: string; action: string }[]>()
const verified = await verifyLedger(ledgerPath, {
  onEntry: (entry: LedgerEntry) => {
    if (entry.kind === 'event') transforms.set(entry.eventId, entry.transforms)
  },
})
const DROPPED = '(dropped)'
const events = controlPlane.events
const rulesAt = (event: OutboundEvent, path: string): string[] =>
  (transforms.get(event.id) ?? []).filter((t) => t.path === path).map((t) => `${t.rule} → ${t.action}`)
// Tokens and fingerprints are long and alike: their prefix and a few characters tell them apart.
const clip = (value: unknown): string => {
  const text = (typeof value === 'string' ? value : JSON.stringify(value))
    .replace(/\b(fp1\.[0-9a-f-]+\.[\w-]{4})[\w-]+/g, '$1…')
    .replace(/\b(alkv?1\.[\w-]{8})[\w.-]+/g, '$1…')
  return text.length > 38 ? `${text.slice(0, 37)}…` : text
}
const row = (what: string, saw: unknown, sent: unknown, why: readonly string[] = []): void => {
  console.log(`  ${what.padEnd(34)} ${clip(saw).padEnd(38)} → ${clip(sent).padEnd(38)} ${[...new Set(why)].join('; ')}`)
}
// Walks what the task saw and what was sent side by side; a key missing on the wire was dropped.
function* leaves(saw: unknown, sent: unknown, path: string): Generator<[string, unknown, unknown]> {
  if (typeof saw !== 'object' || saw === null || typeof sent !== 'object' || sent === null) {
    yield [path, saw, sent]
    return
  }
  for (const [key, value] of Object.entries(saw)) {
    const child = Array.isArray(saw) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`
    yield* leaves(value, Object.hasOwn(sent, key) ? (sent as Record<string, unknown>)[key] : DROPPED, child)
  }
}
const taskEvents = (taskName: string): TaskRunStateEvent[] => {
  const id = run.taskRuns.find((t) => t.taskName === taskName)?.taskRunId
  return events.filter((e): e is TaskRunStateEvent => e.kind === 'task-run-state' && e.taskRunId === id)
}

console.log(`policy ${policyPath} (${policy.hash}); flow run ${run.state}\n`)
console.log(`  ${'channel / path'.padEnd(34)} ${'what the task saw'.padEnd(38)}   ${'what the control plane got'.padEnd(38)} rule → action`)

console.log('parameters')
const sentParameters = events.find((e): e is ParametersEvent => e.kind === 'parameters')!
for (const [path, saw, sent] of leaves(parameters, sentParameters.parameters, '')) {
  const { rule, action } = matchParameterRule(policy.parameters, path)
  row(path, saw, sent, [`${rule ?? 'parameters.default'} → ${action}`, ...rulesAt(sentParameters, path)])
}

const shippedLogs = events.filter((e): e is LogEvent => e.kind === 'log')
const [slowLog, rowsLog] = shippedLogs
console.log(`logs (${localLog.length} records written locally, ${shippedLogs.length} shipped)`)
row('info: looking up the customer', 'written locally', 'not shipped', [`logs.level → ${policy.logs.level}`])
row('msg', `CRM at 10.0.0.12 was slow for ${parameters.customer.email}`, slowLog!.msg, [...rulesAt(slowLog!, 'msg'), 'ipv4 → off'])
for (const [path, saw, sent] of leaves(crmRequest, slowLog!.fields, 'fields')) row(path, saw, sent, rulesAt(slowLog!, path))
row('fields.rows', `${crmRows.length} rows, ${JSON.stringify(crmRows).length} bytes`, rowsLog!.truncated === true ? 'msg only, truncated: true' : rowsLog!.fields, rulesAt(rowsLog!, '$'))
const localSlow = localLog.map((line) => JSON.parse(line) as { msg: string }).find((r) => r.msg.startsWith('CRM at'))
row('local output (scrubLocal)', `CRM at 10.0.0.12 was slow for ${parameters.customer.email}`, localSlow?.msg, ['logs.scrubLocal → true'])

console.log(`exceptions (mode ${policy.exceptions.mode}, stack ${policy.exceptions.stack})`)
const failed = taskEvents('charge').find((e) => e.state === 'Failed')!
row('failure.message', declined?.message, failed.failure?.message, rulesAt(failed, 'failure.message'))
row('failure.stack (first frame)', declined?.stack?.split('\n')[1]?.trim(), failed.failure?.stack?.split('\n')[0]?.trim(), rulesAt(failed, 'failure.stack'))
row('failure.causes[0].message', (declined?.cause as Error | undefined)?.message, failed.failure?.causes?.[0]?.message, rulesAt(failed, 'failure.causes[0].message'))

console.log('locations')
const written = taskEvents('look-up').find((e) => e.state === 'Success')!
row('result.location', run.taskRuns.find((t) => t.taskName === 'look-up')?.result?.plainLocation, written.result?.location, rulesAt(written, 'result.location'))

console.log('inline values')
const inline = taskEvents('receipt').find((e) => e.state === 'Success')!
row('result.location', JSON.stringify(run.value), inline.result?.location, rulesAt(inline, 'result.location'))

console.log('states')
const pending = events.find((e): e is FlowRunStateEvent => e.kind === 'flow-run-state' && e.state === 'Pending')!
row('flowName', payments.name, pending.flowName, rulesAt(pending, 'flowName'))
row('tags[0]', 'tenant-acme', pending.tags?.[0], rulesAt(pending, 'tags[0]'))
row('taskName', 'charge', failed.taskName, rulesAt(failed, 'taskName'))
const retrying = taskEvents('charge').find((e) => e.state === 'Retrying')!
row('Retrying message', 'attempt 1 failed; retry 1 of 1 …', retrying.message ?? DROPPED, rulesAt(retrying, 'message'))

// Every rule that fired in the run, counted: the scrub section's detectors and patterns show up here too.
const fired = new Map<string, number>()
for (const { rule, action } of [...transforms.values()].flat()) fired.set(`${rule} → ${action}`, (fired.get(`${rule} → ${action}`) ?? 0) + 1)
console.log(`\nrules that fired (${events.length} events):`)
console.log(`  ${[...fired].map(([rule, n]) => `${rule} ×${n}`).join('\n  ')}`)
console.log(`\nledger ${ledgerPath}: ${verified.ok ? `intact, ${verified.entries} entries` : `NOT intact at seq ${verified.firstBadSeq}`}`)
