// Use 3: prove, from evidence kept locally, what reached the control plane
// and that no secret did. A flow runs with fake secrets (canaries) planted
// in its parameters, logs and errors; then the ledger is verified with the
// auditor's public key, scanned for every canary and every known secret
// format, and written up as one self-contained HTML report.
//
//   npx tsx examples/compliance-audit.ts
//
// Everything is written under .airlock/compliance-audit/ (AIRLOCK_EXAMPLE_DIR moves it).
// Exits 1 if the ledger does not verify or the scan finds anything.
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  Airlock,
  FileControlPlane,
  KeyRing,
  definePolicy,
  verifyLedger,
} from '../src/index.js'
import { buildLedgerReport, formatReportHtml, generateLedgerSigningKey, scanLedger } from '../src/audit/index.js'
import { generateCanaries } from '../src/testing/index.js'

const home = process.env.AIRLOCK_EXAMPLE_DIR ?? join('.airlock', 'compliance-audit')
await rm(home, { recursive: true, force: true })
await mkdir(home, { recursive: true })
const ledgerPath = join(home, 'ledger.ndjson')
const publicKeyPath = join(home, 'ledger.pub.json')
const canariesPath = join(home, 'canaries.json')
const reportPath = join(home, 'report.html')

// The worker signs ledger checkpoints with the private key; the auditor gets
// only the public one, so a ledger rewritten whole (fresh hashes and all) or
// cut short no longer verifies.
const { privateKey, publicKey } = await generateLedgerSigningKey()
await writeFile(publicKeyPath, JSON.stringify(publicKey, null, 2))

const airlock = new Airlock({
  policy: definePolicy({ preset: 'balanced' }),
  keys: KeyRing.generate(),
  controlPlane: new FileControlPlane({ path: join(home, 'control-plane.ndjson') }),
  ledger: { path: ledgerPath, signingKey: privateKey },
  // The worker's own log file; under balanced it is scrubbed like what ships.
  logger: { destination: join(home, 'worker.log') },
})

// One format-valid fake of every secret kind the SDK detects, plus random
// high-entropy strings that no detector can recognise: those are caught only
// because they are registered, as a real database password would be.
const canaries = generateCanaries()
for (const canary of canaries) if (canary.kind === 'high-entropy') airlock.scrubber.register(canary.value)
await writeFile(canariesPath, JSON.stringify(canaries), { mode: 0o600 })

// A flow that leaks by accident, the way real ones do: secrets in its
// parameters, in log lines and in an error message.
const sync = airlock.task(
  async (values: string[]) => {
    for (const value of values) airlock.logger.warn({ attempt: 1 }, `calling the partner API with ${value}`)
    throw new Error(`the partner API rejected ${values.join(', ')}`)
  },
  { name: 'sync' },
)
const nightly = airlock.flow('nightly-sync', async ({ values }: { values: string[] }) => sync(values))
const run = await nightly.run({ values: canaries.map((c) => c.value) })
await airlock.close()
const registered = canaries.filter((c) => c.kind === 'high-entropy').length
console.log(`flow run ${run.flowRunId}: ${run.state} (on purpose: the task throws with the canaries in its message)`)
console.log(`planted ${canaries.length} canaries (${registered} high-entropy, registered) in parameters, logs and an exception\n`)

// 1. Verify: the hash chain, every checkpoint signature, and the closing checkpoint.
const verified = await verifyLedger(ledgerPath, { publicKey })
console.log(
  verified.ok
    ? `1. verify  ${ledgerPath}: intact, ${verified.entries} entries, ${verified.checkpoints} signed checkpoint(s) verified with ${publicKeyPath}`
    : `1. verify  ${ledgerPath}: NOT intact at seq ${verified.firstBadSeq}: ${verified.reason}`,
)

// 2. Scan every event the ledger recorded as sent: every built-in detector
// (whatever the policy said), sensitive key names, and the canaries.
const scan = await scanLedger(ledgerPath, { canaries })
console.log(`2. scan    ${scan.total} findings in ${scan.events} events (every detector, sensitive key names, ${canaries.length} canaries)`)
for (const f of scan.findings) console.log(`   seq ${f.seq} ${f.channel} ${f.path} ${f.rule} ${f.preview}`)

// 3. Report: one HTML file, no script, no network, for the auditor's archive.
const report = await buildLedgerReport(ledgerPath, { publicKey })
const scope = `every built-in detector, sensitive key names and ${canaries.length} canaries`
await writeFile(reportPath, formatReportHtml(report, { scan: { ...scan, scope }, generatedAt: new Date() }))
const perChannel = Object.entries(report.perChannel).map(([channel, n]) => `${channel} ${n}`).join(', ')
const rules = Object.keys(report.transforms).length
console.log(`3. report  ${reportPath}: events per channel ${perChannel}; transforms by ${rules} rules; every field path sent`)

console.log('\nthe same from the command line (airlock, or npx tsx src/cli/main.ts in this repository):')
console.log(`  airlock audit verify ${ledgerPath} --public-key ${publicKeyPath}`)
console.log(`  airlock audit scan ${ledgerPath} --canaries ${canariesPath}`)
console.log(`  airlock audit report ${ledgerPath} --format html --out ${reportPath} --public-key ${publicKeyPath}`)

if (!verified.ok || scan.total > 0) process.exitCode = 1
