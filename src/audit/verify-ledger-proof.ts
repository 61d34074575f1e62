import { noteSignedBy, parseCheckpointNote, type ParsedCheckpointNote } from './checkpoint-note.js'
import { checkLedgerLine, escapeControl, type LedgerEntry } from './ledger-entry.js'
import { ledgerInclusionProofSchema, ledgerConsistencyProofSchema } from './ledger-proof.js'
import { toVerifyKey, type LedgerKeyInput } from './ledger-signing-key.js'
import { ledgerLeafHash, verifyConsistency, verifyInclusion } from './merkle-tree.js'
import type { KeyObject } from 'node:crypto'

/**
 * What {@link verifyLedgerProof} found.
 *
 * @example
 * ```ts
 * const result: VerifyLedgerProofResult = verifyLedgerProof(proof, { publicKey })
 * if (result.ok && result.type === 'inclusion') console.log(result.entry.seq, 'is in', result.origin)
 * ```
 */
export type VerifyLedgerProofResult =
  | {
      ok: true
      type: 'inclusion'
      /** The ledger the entry is in. */
      origin: string
      treeSize: number
      /** The entry shown, checked. */
      entry: LedgerEntry
    }
  | {
      ok: true
      type: 'consistency'
      origin: string
      fromTreeSize: number
      toTreeSize: number
    }
  | { ok: false; reason: string }

/**
 * Checks a proof `proveLedgerInclusion` or `proveLedgerConsistency` made,
 * with the ledger's public key only: no ledger needed. An inclusion proof
 * holds when its entry is intact on its own (its hash covers its line), its
 * leaf and audit path hash up to the root of its checkpoint, and that
 * checkpoint is signed by the key. A consistency proof holds when both
 * checkpoints are signed by the key, name the same ledger, and the RFC 9162
 * proof shows the later tree extends the earlier one. Pass `checkpoint`, a
 * note the auditor already holds (from a witness, or an earlier proof), to
 * also require the proof's (earlier, for consistency) checkpoint to be that
 * very note's tree.
 *
 * It returns a result rather than throwing on a bad proof.
 *
 * @throws {InvalidArgumentError} when `publicKey` is not an Ed25519 public key.
 *
 * @example
 * ```ts
 * import { verifyLedgerProof } from 'airlock-sdk'
 *
 * const result = verifyLedgerProof(JSON.parse(await readFile('seq-42.proof.json', 'utf8')), { publicKey })
 * if (!result.ok) console.error(result.reason)
 * ```
 */
export function verifyLedgerProof(proof: unknown, options: { publicKey: LedgerKeyInput; checkpoint?: string }): VerifyLedgerProofResult {
  const key = toVerifyKey(options.publicKey)
  const fail = (reason: string): VerifyLedgerProofResult => ({ ok: false, reason })
  const kind = typeof proof === 'object' && proof !== null ? (proof as { type?: unknown }).type : undefined
  if (kind === 'airlock-ledger-inclusion-proof') {
    const parsed = ledgerInclusionProofSchema.safeParse(proof)
    if (!parsed.success) return fail(`the inclusion proof is malformed (${problems(parsed.error)})`)
    const { seq, entry: line, treeSize, path, checkpoint } = parsed.data
    const note = signedNote(checkpoint, key)
    if (typeof note === 'string') return fail(note)
    if (note.size !== treeSize) return fail(`the proof says its checkpoint covers ${treeSize} entries; the checkpoint says ${note.size}`)
    const expected = expectedCheckpoint(options.checkpoint, note)
    if (expected !== undefined) return fail(expected)
    const entry = checkLedgerLine(Buffer.from(line, 'utf8'))
    if (typeof entry === 'string') return fail(`the entry is not intact: ${entry}`)
    if (entry.seq !== seq) return fail(`the proof is for seq ${seq}, but its entry is seq ${entry.seq}`)
    const nodes = path.map((hex) => Buffer.from(hex, 'hex'))
    if (!verifyInclusion(ledgerLeafHash(entry.hash), seq - 1, treeSize, nodes, note.root)) {
      return fail(`the entry and its audit path do not hash to the root the checkpoint signs: the entry was changed, or it is not entry ${seq} of that ledger`)
    }
    return { ok: true, type: 'inclusion', origin: note.origin, treeSize, entry }
  }
  if (kind === 'airlock-ledger-consistency-proof') {
    const parsed = ledgerConsistencyProofSchema.safeParse(proof)
    if (!parsed.success) return fail(`the consistency proof is malformed (${problems(parsed.error)})`)
    const from = signedNote(parsed.data.from, key)
    if (typeof from === 'string') return fail(`the earlier checkpoint: ${from}`)
    const to = signedNote(parsed.data.to, key)
    if (typeof to === 'string') return fail(`the later checkpoint: ${to}`)
    if (from.origin !== to.origin) return fail('the two checkpoints are of different ledgers')
    const expected = expectedCheckpoint(options.checkpoint, from)
    if (expected !== undefined) return fail(expected)
    if (from.size > to.size) return fail(`the earlier checkpoint covers more entries (${from.size}) than the later one (${to.size})`)
    const nodes = parsed.data.path.map((hex) => Buffer.from(hex, 'hex'))
    if (!verifyConsistency(from.size, to.size, from.root, to.root, nodes)) {
      return fail(`the ledger of ${to.size} entries does not extend the one of ${from.size}: its history was rewritten`)
    }
    return { ok: true, type: 'consistency', origin: from.origin, fromTreeSize: from.size, toTreeSize: to.size }
  }
  return fail('not an airlock ledger proof (expected type airlock-ledger-inclusion-proof or airlock-ledger-consistency-proof)')
}

function signedNote(note: string, key: KeyObject): ParsedCheckpointNote | string {
  const parsed = parseCheckpointNote(note)
  if (typeof parsed === 'string') return parsed
  const signed = noteSignedBy(parsed, key)
  if (signed === 'verified') return parsed
  return signed === 'invalid'
    ? 'the checkpoint names the given public key, but its signature does not verify: it was forged or altered'
    : 'the checkpoint is not signed by the given public key'
}

function expectedCheckpoint(held: string | undefined, note: ParsedCheckpointNote): string | undefined {
  if (held === undefined) return undefined
  const parsed = parseCheckpointNote(held)
  if (typeof parsed === 'string') return `the checkpoint given to check against: ${parsed}`
  if (parsed.origin !== note.origin || parsed.size !== note.size || !parsed.root.equals(note.root)) {
    return `the proof's checkpoint (${escapeControl(note.origin)}, ${note.size} entries) is not the one given to check against (${parsed.size} entries)`
  }
  return undefined
}

function problems(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')
}
