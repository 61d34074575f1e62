// Writes the frozen vectors of the ledger format v2 (C2SP signed-note
// checkpoints over an RFC 9162 Merkle tree) and of its proofs:
//   ledger-v2.ndjson          a ledger of 10 events, checkpoints every 4, closed
//   ledger-v2.pub.json        the Ed25519 public key (a test key: use it for nothing else)
//   ledger-v2.proofs.json     an inclusion proof of entry 3 against the closing
//                             checkpoint, a consistency proof from the first
//                             checkpoint to the closing one, and the C2SP
//                             verifier key of the ledger
// Signatures and times change every run, so the vectors are read back, never
// re-made: run this only to add the vectors of a new format version.
//   npx tsx test/vectors/generate-ledger-proofs.ts
//
// ledger-v1.ndjson and ledger-v1.pub.json are the v1 format (JWS
// checkpoints over the hash chain, with an adoption-free reopen), written by
// the v1 writer (commit e215329) before v2 existed; no writer makes them now.
import { createPublicKey, type JsonWebKey } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ledgerVerifierKey, parseCheckpointNote } from '../../src/audit/checkpoint-note.js'
import { generateLedgerSigningKey } from '../../src/audit/ledger-signing-key.js'
import { Ledger } from '../../src/audit/ledger.js'
import { proveLedgerConsistency } from '../../src/audit/prove-ledger-consistency.js'
import { proveLedgerInclusion } from '../../src/audit/prove-ledger-inclusion.js'

const dir = await mkdtemp(join(tmpdir(), 'airlock-vectors-'))
const path = join(dir, 'ledger.ndjson')
const keys = await generateLedgerSigningKey()
const ledger = await Ledger.open({ path, signingKey: keys.privateKey, checkpointEvery: 4 })
for (let i = 1; i <= 10; i++) {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
  const event = { v: 1, kind: 'flow-run-state', id, runId: 'r1', time: '2026-11-21T00:00:00.000Z', policyHash: 'ph1.test', flowName: 'etl', state: 'Running' }
  await ledger.append({ channel: 'states', eventId: id, policyHash: 'ph1.test', event, transforms: [], status: 'queued' })
}
await ledger.close()
const inclusion = await proveLedgerInclusion(path, { seq: 3 })
const consistency = await proveLedgerConsistency(path, { fromTreeSize: 4 })
const origin = (parseCheckpointNote(inclusion.checkpoint) as { origin: string }).origin
const verifierKey = ledgerVerifierKey(createPublicKey({ key: keys.publicKey as JsonWebKey, format: 'jwk' }), origin)

const out = new URL('.', import.meta.url).pathname
await writeFile(join(out, 'ledger-v2.ndjson'), await readFile(path))
await writeFile(join(out, 'ledger-v2.pub.json'), JSON.stringify(keys.publicKey, null, 2) + '\n')
await writeFile(
  join(out, 'ledger-v2.proofs.json'),
  JSON.stringify({ description: 'airlock ledger v2 proofs of ledger-v2.ndjson (README, Ledger proofs). A test key: never use it for anything else.', verifierKey, inclusion, consistency }, null, 2) + '\n',
)
await rm(dir, { recursive: true, force: true })
