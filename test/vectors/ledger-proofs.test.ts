// The frozen ledger vectors: what v1 and v2 writers wrote must verify, and
// prove, in every later version; and a v2 writer continues a v1 ledger.
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ledgerVerifierKey, parseCheckpointNote } from '../../src/audit/checkpoint-note.js'
import { generateLedgerSigningKey, toVerifyKey } from '../../src/audit/ledger-signing-key.js'
import { Ledger } from '../../src/audit/ledger.js'
import { proveLedgerInclusion } from '../../src/audit/prove-ledger-inclusion.js'
import { verifyLedgerProof } from '../../src/audit/verify-ledger-proof.js'
import { verifyLedger } from '../../src/audit/verify-ledger.js'
import { runCli } from '../../src/cli/run-cli.js'

const vector = (name: string): string => new URL(`./${name}`, import.meta.url).pathname
const json = async (name: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(vector(name), 'utf8')) as Record<string, unknown>

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-ledger-vectors-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('ledger format vectors', () => {
  it('verifies the frozen v1 ledger (JWS checkpoints) with its key, and fails it with another', async () => {
    const publicKey = await json('ledger-v1.pub.json')
    expect(await verifyLedger(vector('ledger-v1.ndjson'), { publicKey })).toMatchObject({ ok: true, entries: 11, checkpoints: 4, signaturesChecked: true })
    expect((await verifyLedger(vector('ledger-v1.ndjson'), { publicKey: await json('ledger-v2.pub.json') })).ok).toBe(false)
  })

  it('verifies the frozen v2 ledger and its proofs, through the API and the CLI', async () => {
    const publicKey = await json('ledger-v2.pub.json')
    expect(await verifyLedger(vector('ledger-v2.ndjson'), { publicKey })).toMatchObject({ ok: true, entries: 13, checkpoints: 3 })
    const { inclusion, consistency, verifierKey } = (await json('ledger-v2.proofs.json')) as { inclusion: unknown; consistency: unknown; verifierKey: string }
    expect(verifyLedgerProof(inclusion, { publicKey })).toMatchObject({ ok: true, type: 'inclusion', treeSize: 12, entry: { seq: 3 } })
    expect(verifyLedgerProof(consistency, { publicKey })).toMatchObject({ ok: true, type: 'consistency', fromTreeSize: 4, toTreeSize: 12 })
    const origin = (parseCheckpointNote((inclusion as { checkpoint: string }).checkpoint) as { origin: string }).origin
    expect(ledgerVerifierKey(toVerifyKey(publicKey), origin)).toBe(verifierKey)

    const out = { text: '' }
    const io = { stdout: { write: (t: string) => (out.text += t) }, stderr: { write: () => true }, env: {} }
    expect(await runCli(['audit', 'check-proof', vector('ledger-v2.proofs.json'), '--public-key', vector('ledger-v2.pub.json')], io)).toBe(1) // not a proof itself
    expect(await runCli(['audit', 'verify', vector('ledger-v2.ndjson'), '--public-key', vector('ledger-v2.pub.json')], io)).toBe(0)
  })

  it('continues a v1 ledger as v2: the tree covers the v1 entries too, and proofs reach them', async () => {
    // A new key continues it: the v1 checkpoints are another key's, so the whole file is this writer's unsigned tail, adopted on record.
    const path = join(dir, 'ledger.ndjson')
    await copyFile(vector('ledger-v1.ndjson'), path)
    const keys = await generateLedgerSigningKey()
    const ledger = await Ledger.open({ path, signingKey: keys.privateKey, adoptUnsignedTail: true })
    await ledger.append({ channel: 'states', eventId: 'e-v2', policyHash: 'ph1.test', event: { v2: true }, transforms: [], status: 'sent' })
    await ledger.close()
    const text = await readFile(path, 'utf8')
    expect(text.split('\n').slice(11, 14).map((l) => (JSON.parse(l) as { v: number }).v)).toEqual([2, 2, 2])
    // v1 checkpoints of another key: verified without a key (their form and position), and the v2 ones with the new key
    expect(await verifyLedger(path)).toMatchObject({ ok: true, entries: 14 })
    const proof = await proveLedgerInclusion(path, { seq: 2 })
    expect(verifyLedgerProof(proof, { publicKey: keys.publicKey })).toMatchObject({ ok: true, treeSize: 13, entry: { seq: 2, v: 1 } })
  })
})
