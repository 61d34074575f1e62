import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/internal/canonical-json.js'
import { parseCheckpointNote } from '../../src/audit/checkpoint-note.js'
import { sha256Hex } from '../../src/audit/ledger-entry.js'
import { generateLedgerSigningKey, type LedgerSigningKeyPair } from '../../src/audit/ledger-signing-key.js'
import { Ledger, type LedgerEventInput } from '../../src/audit/ledger.js'
import { consistencyPath, inclusionPath, verifyConsistency, verifyInclusion } from '../../src/audit/merkle-tree.js'
import { proveLedgerConsistency } from '../../src/audit/prove-ledger-consistency.js'
import { proveLedgerInclusion } from '../../src/audit/prove-ledger-inclusion.js'
import { verifyLedgerProof } from '../../src/audit/verify-ledger-proof.js'
import { verifyLedger } from '../../src/audit/verify-ledger.js'

// RFC 9162 section 2.1.1, written from the definition, independent of src/.
const sha = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest()
const leafOf = (data: Buffer): Buffer => sha(Buffer.of(0), data)
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha()
  if (leaves.length === 1) return leafOf(leaves[0]!)
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  return sha(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)))
}
const data = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => createHash('sha256').update(`entry ${i}`).digest())
const reader = (leaves: Buffer[]) => (level: number, index: number) => Promise.resolve(mth(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)))

describe('the RFC 9162 tree', () => {
  it('makes inclusion proofs that verify for every leaf of trees of 1 to 33 leaves, and no others', async () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = data(n)
      const root = mth(leaves)
      for (let m = 0; m < n; m++) {
        const path = await inclusionPath(m, n, reader(leaves))
        expect(verifyInclusion(leafOf(leaves[m]!), m, n, path, root)).toBe(true)
        expect(verifyInclusion(leafOf(leaves[(m + 1) % n]!), m, n, path, root)).toBe(n === 1)
        expect(verifyInclusion(leafOf(leaves[m]!), m, n, path, mth([...leaves, leaves[0]!]))).toBe(false)
      }
    }
  })

  it('makes consistency proofs that verify between every pair of sizes up to 33, and fail for another history', async () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = data(n)
      for (let m = 1; m <= n; m++) {
        const proof = await consistencyPath(m, n, reader(leaves))
        expect(verifyConsistency(m, n, mth(leaves.slice(0, m)), mth(leaves), proof)).toBe(true)
        const rewritten = [...leaves]
        rewritten[m - 1] = Buffer.alloc(32, 7)
        expect(verifyConsistency(m, n, mth(rewritten.slice(0, m)), mth(leaves), proof)).toBe(false)
      }
    }
  })
})

let dir: string
let path: string
let keys: LedgerSigningKeyPair
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-proofs-'))
  path = join(dir, 'ledger.ndjson')
  keys = await generateLedgerSigningKey()
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function sample(i: number): LedgerEventInput {
  return { channel: 'parameters', eventId: `e${i}`, policyHash: 'ph1.test', event: { runId: 'r1', i, amount: i * 10 }, transforms: [], status: 'sent' }
}

/** `count` events, a checkpoint every `every`, then the closing one. */
async function write(file: string, count: number, every = 4): Promise<void> {
  const ledger = await Ledger.open({ path: file, signingKey: keys.privateKey, checkpointEvery: every })
  for (let i = 0; i < count; i++) await ledger.append(sample(i))
  await ledger.close()
}

async function lines(file = path): Promise<string[]> {
  return (await readFile(file, 'utf8')).slice(0, -1).split('\n')
}

describe('proveLedgerInclusion and verifyLedgerProof', () => {
  it('proves every entry against the last checkpoint and an earlier one, checked with the public key alone', async () => {
    await write(path, 10) // 4 events, cp 5, 4 events, cp 10, 2 events, closing cp 13
    expect(await verifyLedger(path, { publicKey: keys.publicKey })).toMatchObject({ ok: true, entries: 13 })
    for (let seq = 1; seq <= 12; seq++) {
      const proof = await proveLedgerInclusion(path, { seq })
      expect(proof).toMatchObject({ seq, treeSize: 12 })
      const result = verifyLedgerProof(JSON.parse(JSON.stringify(proof)), { publicKey: keys.publicKey })
      expect(result).toMatchObject({ ok: true, type: 'inclusion', treeSize: 12, entry: { seq } })
    }
    const early = await proveLedgerInclusion(path, { seq: 3, treeSize: 4 })
    expect(early.treeSize).toBe(4)
    expect(verifyLedgerProof(early, { publicKey: keys.publicKey })).toMatchObject({ ok: true, entry: { seq: 3 } })
    await expect(proveLedgerInclusion(path, { seq: 7, treeSize: 4 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(proveLedgerInclusion(path, { seq: 3, treeSize: 5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })

  it('fails a proof whose entry was edited, even with its hash recomputed, or checked with another key', async () => {
    await write(path, 6)
    const proof = await proveLedgerInclusion(path, { seq: 2 })
    const edited = { ...proof, entry: proof.entry.replace('"amount":10', '"amount":11') }
    expect(verifyLedgerProof(edited, { publicKey: keys.publicKey })).toMatchObject({ ok: false, reason: expect.stringMatching(/not intact/) })

    const entry = JSON.parse(proof.entry) as Record<string, unknown>
    const { hash: _, ...body } = entry
    const rehashed = { ...body, event: { ...(body.event as object), amount: 11 } }
    const forged = { ...proof, entry: canonicalJson({ ...rehashed, hash: sha256Hex(canonicalJson(rehashed)) }) }
    expect(verifyLedgerProof(forged, { publicKey: keys.publicKey })).toMatchObject({ ok: false, reason: expect.stringMatching(/do not hash to the root/) })

    const other = await generateLedgerSigningKey()
    expect(verifyLedgerProof(proof, { publicKey: other.publicKey })).toMatchObject({ ok: false, reason: expect.stringMatching(/not signed by the given public key/) })
    const moved = { ...proof, seq: 3 }
    expect(verifyLedgerProof(moved, { publicKey: keys.publicKey }).ok).toBe(false)
  })

  it('refuses to prove from a ledger edited after it was signed, and catches its index up with entries added later', async () => {
    await write(path, 6)
    await proveLedgerInclusion(path, { seq: 1 }) // builds the index
    const edited = await lines()
    const entry = JSON.parse(edited[1]!) as Record<string, unknown>
    const { hash: _, ...body } = entry
    const rehashed = { ...body, event: { ...(body.event as object), amount: 99 } }
    edited[1] = canonicalJson({ ...rehashed, hash: sha256Hex(canonicalJson(rehashed)) })
    const original = await readFile(path)
    await writeFile(path, edited.map((l) => `${l}\n`).join(''))
    await expect(proveLedgerInclusion(path, { seq: 2 })).rejects.toMatchObject({ code: 'ERR_LEDGER_TAMPERED' })

    await writeFile(path, original)
    await write(path, 3)
    const proof = await proveLedgerInclusion(path, { seq: 11 })
    expect(verifyLedgerProof(proof, { publicKey: keys.publicKey })).toMatchObject({ ok: true, treeSize: (await lines()).length - 1 })
  })
})

describe('proveLedgerConsistency', () => {
  it('proves the last checkpoint extends each earlier one, and fails for a rewritten history under the same key', async () => {
    await write(path, 10)
    for (const from of [4, 9, 12]) {
      const proof = await proveLedgerConsistency(path, { fromTreeSize: from })
      expect(verifyLedgerProof(proof, { publicKey: keys.publicKey })).toMatchObject({ ok: true, type: 'consistency', fromTreeSize: from, toTreeSize: 12 })
    }
    const proof = await proveLedgerConsistency(path, { fromTreeSize: 4 })
    // The same first entries (so the same ledger origin), then another history, signed with the same key.
    const rewritten = join(dir, 'rewritten.ndjson')
    await writeFile(rewritten, (await lines()).slice(0, 2).map((l) => `${l}\n`).join(''))
    const ledger = await Ledger.open({ path: rewritten, signingKey: keys.privateKey, checkpointEvery: 4, adoptUnsignedTail: true })
    for (let i = 0; i < 8; i++) await ledger.append(sample(100 + i))
    await ledger.close()
    const forged = await proveLedgerConsistency(rewritten, { fromTreeSize: 2 })
    expect(parseCheckpointNote(forged.to)).toMatchObject({ origin: (parseCheckpointNote(proof.to) as { origin: string }).origin })
    expect(verifyLedgerProof({ ...proof, to: forged.to }, { publicKey: keys.publicKey })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not extend/),
    })
    expect(verifyLedgerProof({ ...proof, from: proof.to, to: proof.from }, { publicKey: keys.publicKey }).ok).toBe(false)
    expect(verifyLedgerProof(proof, { publicKey: keys.publicKey, checkpoint: forged.to }).ok).toBe(false)
  })
})
