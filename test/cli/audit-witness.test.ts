import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateLedgerSigningKey, type LedgerSigningKeyPair } from '../../src/audit/ledger-signing-key.js'
import { readLedgerWitness } from '../../src/audit/ledger-witness.js'
import { Ledger } from '../../src/audit/ledger.js'
import { verifyLedger } from '../../src/audit/verify-ledger.js'
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import { FileControlPlane } from '../../src/boundary/file-control-plane.js'
import { runCli } from '../../src/cli/run-cli.js'
import { KeyRing } from '../../src/crypto/key-ring.js'

let dir: string
let ledgerPath: string
let witnessPath: string
let keys: LedgerSigningKeyPair
let publicKeyFile: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-witness-'))
  ledgerPath = join(dir, 'audit', 'worker-1.ndjson')
  witnessPath = join(dir, 'control-plane', 'events.jsonl')
  keys = await generateLedgerSigningKey()
  publicKeyFile = join(dir, 'ledger.pub.json')
  await writeFile(publicKeyFile, JSON.stringify(keys.publicKey))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  const code = await runCli(argv, { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true }, env: {} })
  return { code, out }
}

/** One worker process's run: its Airlock sends to the control plane's file, and signs its ledger. */
async function run(path: string, states: number): Promise<number> {
  const boundary = new AirlockBoundary({
    keys: KeyRing.generate(),
    controlPlane: new FileControlPlane({ path: witnessPath }),
    ledger: { path, signingKey: keys.privateKey, checkpointEvery: 3 },
  })
  for (let i = 0; i < states; i++) await boundary.emit({ kind: 'flow-run-state', runId: `r${i}`, flowName: 'etl', state: 'Running' })
  await boundary.close()
  return (await readFile(path, 'utf8')).split('\n').length - 1
}

const verify = (...extra: string[]) => cli(['audit', 'verify', ledgerPath, '--public-key', publicKeyFile, '--witness', witnessPath, ...extra])

describe('the control plane as witness', () => {
  it('receives every signed head through the door, and an intact ledger of two runs passes', async () => {
    await run(ledgerPath, 4)
    await run(ledgerPath, 5)
    const events = (await readFile(witnessPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; treeSize?: number })
    const heads = events.filter((e) => e.kind === 'ledger-checkpoint')
    expect(heads.length).toBe(4) // per run: one after its third event, one as it closes
    expect(heads.map((h) => h.treeSize)).toEqual([...heads.map((h) => h.treeSize!)].sort((a, b) => a - b))

    const witness = await readLedgerWitness(witnessPath, { publicKey: keys.publicKey })
    expect(witness).toMatchObject({ count: heads.length, problems: [] })
    expect(await verifyLedger(ledgerPath, { publicKey: keys.publicKey, witness })).toMatchObject({ ok: true, witnessed: heads.length })
    const verified = await verify()
    expect(verified.code).toBe(0)
    expect(verified.out).toContain(`${heads.length} heads the witness holds matched`)
    expect(verified.out).toContain(`${heads.length} signed heads, every one matched by the ledgers given`)
  })

  it('fails a ledger missing the whole later run, which the key alone cannot see', async () => {
    const firstRun = await run(ledgerPath, 4)
    const bytes = (await readFile(ledgerPath)).length
    await run(ledgerPath, 5)
    await truncate(ledgerPath, bytes)
    expect((await readFile(ledgerPath, 'utf8')).split('\n').length - 1).toBe(firstRun)
    expect((await cli(['audit', 'verify', ledgerPath, '--public-key', publicKeyFile])).code).toBe(0)
    const result = await verify()
    expect(result.code).toBe(1)
    expect(result.out).toMatch(new RegExp(`the witness saw this ledger at \\d+ entries, and it has only ${firstRun}: it was cut short, or the runs`))
  })

  it('fails a ledger rewritten by someone holding the signing key', async () => {
    await run(ledgerPath, 6)
    const lines = (await readFile(ledgerPath, 'utf8')).split('\n')
    // Keep the first two entries (the same ledger origin), then write another history, signed, and closed.
    await writeFile(ledgerPath, lines.slice(0, 2).map((l) => `${l}\n`).join(''))
    const ledger = await Ledger.open({ path: ledgerPath, signingKey: keys.privateKey, adoptUnsignedTail: true })
    for (let i = 0; i < 12; i++) await ledger.append({ channel: 'states', eventId: `x${i}`, policyHash: 'ph1.forged', event: { i }, transforms: [], status: 'sent' })
    await ledger.close()
    expect(await verifyLedger(ledgerPath, { publicKey: keys.publicKey })).toMatchObject({ ok: true })
    const result = await verify()
    expect(result.code).toBe(1)
    expect(result.out).toMatch(/do not hash to the root the witness saw at that size: the ledger was rewritten/)
  })

  it('fails when a ledger the witness saw is not given, and when a head is not signed by the key', async () => {
    await run(ledgerPath, 4)
    const other = join(dir, 'audit', 'worker-2.ndjson')
    await run(other, 4)
    const result = await verify()
    expect(result.code).toBe(1)
    expect(result.out).toContain(`ledger ${ledgerPath} is intact`)
    expect(result.out).toMatch(/heads of the ledger airlock\.ledger\/[0-9a-f]{64}, up to \d+ entries, which no ledger given is: a ledger is missing/)
    expect((await cli(['audit', 'verify', join(dir, 'audit'), '--public-key', publicKeyFile, '--witness', witnessPath])).code).toBe(0)

    const events = (await readFile(witnessPath, 'utf8')).replace(/"treeSize":(\d+)/, (_, n: string) => `"treeSize":${Number(n) + 1}`)
    await writeFile(witnessPath, events)
    const tampered = await cli(['audit', 'verify', join(dir, 'audit'), '--public-key', publicKeyFile, '--witness', witnessPath])
    expect(tampered.code).toBe(1)
    expect(tampered.out).toMatch(/disagree with its signed note/)
    expect((await cli(['audit', 'verify', ledgerPath, '--witness', witnessPath])).code).toBe(2)
  })

  it('shows the witness check in the HTML report', async () => {
    await run(ledgerPath, 4)
    const html = join(dir, 'report.html')
    const ok = await cli(['audit', 'report', ledgerPath, '--format', 'html', '--out', html, '--public-key', publicKeyFile, '--witness', witnessPath])
    expect(ok.code).toBe(0)
    expect(await readFile(html, 'utf8')).toMatch(/data-testid="witness" data-checked="true" data-ok="true"/)

    const lines = (await readFile(ledgerPath, 'utf8')).split('\n')
    await writeFile(ledgerPath, lines.slice(0, 3).map((l) => `${l}\n`).join(''))
    const badHtml = join(dir, 'bad.html')
    const bad = await cli(['audit', 'report', ledgerPath, '--format', 'html', '--out', badHtml, '--public-key', publicKeyFile, '--witness', witnessPath])
    expect(bad.code).toBe(1)
    const page = await readFile(badHtml, 'utf8')
    expect(page).toMatch(/data-testid="witness" data-checked="true" data-ok="false"/)
    expect(page).toMatch(/Ledger NOT verified/)

    const plain = join(dir, 'plain.html')
    await cli(['audit', 'report', ledgerPath, '--format', 'html', '--out', plain])
    expect(await readFile(plain, 'utf8')).toMatch(/data-testid="witness" data-checked="false"/)
  })
})
