import type { KeyObject } from 'node:crypto'
import { compactVerify, decodeProtectedHeader } from 'jose'
import { z } from 'zod'
import type { AssertTypesMatch, TypesMatch } from '../internal/types-match.js'
import { noteSignedBy, parseCheckpointNote } from './checkpoint-note.js'
import { CHECKPOINT_TYP, escapeControl, type LedgerCheckpointEntry, type LedgerJwsCheckpointEntry, type LedgerNoteCheckpointEntry } from './ledger-entry.js'
import type { MerkleRange } from './merkle-tree.js'

/**
 * A stretch of entries no checkpoint of their writer's key covered (the
 * writer stopped without `close()`, or the file was edited), which a later
 * writer holding the key adopted: it checked their chain, then signed a
 * checkpoint (`bySeq`) that names them. The adopting checkpoint vouches
 * that the chain was intact when it was adopted, not that its writer wrote
 * it. `Ledger.open` adopts only when asked (`adoptUnsignedTail: true`), and
 * `verifyLedger` lists every adoption, so an audit sees each one.
 *
 * @example
 * ```ts
 * const adoption: LedgerAdoption = { from: 5, to: 9, bySeq: 10 }
 * // "entries 5–9 were not signed by their writer; adopted at seq 10"
 * ```
 */
export interface LedgerAdoption {
  /** The first adopted entry. */
  readonly from: number
  /** The last adopted entry: always the one just before the adopting checkpoint. */
  readonly to: number
  /** The seq of the checkpoint that adopted them. */
  readonly bySeq: number
}

/*
 * The checkpoint JWS payload, canonical JSON, in two versions. Both are read;
 * the writer picks the lowest that says what it means.
 *
 * v1 `{"final":bool,"head":<hex>,"seq":<n>,"v":1}`: the chain up to entry
 *    `seq`, whose hash is `head`, is as written. Every ordinary checkpoint.
 * v2 `{"adopted":{"from":<a>,"to":<seq>},"final":false,"head":…,"seq":…,"v":2}`:
 *    the same, and entries `a` to `seq` were adopted (see LedgerAdoption).
 *    Only adopting checkpoints use it. A verifier that knows v1 only fails
 *    them as malformed, rather than pass an adoption without showing it.
 */
const v1Payload = z.strictObject({
  v: z.literal(1),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  head: z.string(),
  final: z.boolean(),
})
const v2Payload = z.strictObject({
  v: z.literal(2),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  head: z.string(),
  final: z.boolean(),
  adopted: z.strictObject({
    from: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    to: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  }),
})
const payloadSchema = z.discriminatedUnion('v', [v1Payload, v2Payload])

/**
 * What a checkpoint signs: the position in the chain (`seq`, `head`: the
 * entry before the checkpoint), whether `close()` wrote it, and, for an
 * adopting checkpoint, the adopted range. Internal to src/audit.
 *
 * @example
 * ```ts
 * const payload: CheckpointPayload = { v: 1, seq: 41, head: entry41.hash, final: true }
 * ```
 */
export type CheckpointPayload =
  | { v: 1; seq: number; head: string; final: boolean }
  | { v: 2; seq: number; head: string; final: boolean; adopted: { from: number; to: number } }
type _CheckpointPayloadMatches = AssertTypesMatch<TypesMatch<CheckpointPayload, z.infer<typeof payloadSchema>>>

/**
 * A key that checks checkpoints, and what to make of checkpoints another
 * key signed: `fail` them (an audit with one public key), or treat them as
 * `unsigned` entries (a writer looking for its own last checkpoint: another
 * key's signature covers nothing for it). Internal to src/audit.
 *
 * @example
 * ```ts
 * const verifier: CheckpointVerifier = { key: publicKey, kid: await ledgerKeyId(publicKey), otherKeys: 'fail' }
 * ```
 */
export interface CheckpointVerifier {
  readonly key: KeyObject
  readonly kid: string
  readonly otherKeys: 'fail' | 'unsigned'
}

/**
 * A checkpoint whose payload names its own position: `verified` when its
 * signature was checked with the verifier's key. Internal to src/audit.
 *
 * @example
 * ```ts
 * const checked = await checkCheckpoint(entry, verifier)
 * if (typeof checked !== 'string' && checked.verified) console.log('signed by this key')
 * ```
 */
export interface CheckedCheckpoint {
  readonly payload: CheckpointPayload
  readonly verified: boolean
}

/**
 * Checks a checkpoint entry: its payload must be well formed and name the
 * entry before it (`seq - 1`, and `prev` as `head`), and an adopted range
 * must end there. With a verifier, its signature is checked: a checkpoint
 * of another key fails, or passes unverified when `otherKeys` is
 * `unsigned`; one that names the verifier's key must verify with it.
 * Returns the checkpoint, or what is wrong with it. Internal to src/audit.
 *
 * @example
 * ```ts
 * const checked = await checkCheckpoint(entry, { key, kid, otherKeys: 'fail' })
 * if (typeof checked === 'string') console.error(checked)
 * ```
 */
export async function checkCheckpoint(
  entry: LedgerCheckpointEntry,
  verifier: CheckpointVerifier | undefined,
  tree: CheckpointTree | undefined,
): Promise<CheckedCheckpoint | string> {
  if (entry.v === 2) return checkNoteCheckpoint(entry, verifier, tree)
  const payload = decodeCheckpoint(entry)
  if (payload === undefined) return 'the checkpoint JWS is malformed'
  if (payload.seq !== entry.seq - 1 || payload.head !== entry.prev) {
    return 'the checkpoint signs another position in the chain: it was moved or copied'
  }
  if (payload.v === 2 && (payload.adopted.to !== payload.seq || payload.adopted.from > payload.adopted.to)) {
    return 'the checkpoint adopts a range that does not end at the entry before it'
  }
  if (verifier === undefined) return { payload, verified: false }
  let header: ReturnType<typeof decodeProtectedHeader> | undefined
  try {
    header = decodeProtectedHeader(entry.jws)
  } catch {
    header = undefined
  }
  const ours = header?.kid === verifier.kid
  if (verifier.otherKeys === 'unsigned' && !ours) return { payload, verified: false }
  if (header === undefined) return 'the checkpoint JWS header is malformed'
  if (header.alg !== 'EdDSA' || header.typ !== CHECKPOINT_TYP) {
    return 'the checkpoint JWS is not an airlock EdDSA checkpoint'
  }
  try {
    await compactVerify(entry.jws, verifier.key, { algorithms: ['EdDSA'] })
  } catch {
    if (ours) return `the checkpoint names key ${verifier.kid}, but its signature does not verify with that key: it was forged or altered`
    return typeof header.kid === 'string'
      ? `the checkpoint was signed by key ${escapeControl(header.kid)}, not by the given public key ${verifier.kid}`
      : 'the checkpoint signature does not verify with the given public key'
  }
  return { payload, verified: true }
}

/**
 * The Merkle tree of the entries before a checkpoint, and the ledger's
 * origin, as a reader that went over them knows it: what a v2 checkpoint
 * must sign. `undefined` for a reader that does not keep the tree (one
 * continuing after a v1 checkpoint); then only the note's own form and
 * position are checked. Internal to src/audit.
 *
 * @example
 * ```ts
 * const tree: CheckpointTree = { range, origin: ledgerOrigin(first.hash) }
 * ```
 */
export interface CheckpointTree {
  readonly range: MerkleRange
  readonly origin: string
}

function checkNoteCheckpoint(entry: LedgerNoteCheckpointEntry, verifier: CheckpointVerifier | undefined, tree: CheckpointTree | undefined): CheckedCheckpoint | string {
  const note = parseCheckpointNote(entry.note)
  if (typeof note === 'string') return note
  if (note.size !== entry.seq - 1 || note.size === 0) return 'the checkpoint signs another position in the ledger: it was moved or copied'
  if (note.adopted !== undefined && (note.adopted.to !== note.size || note.adopted.from > note.adopted.to || note.adopted.from < 1)) {
    return 'the checkpoint adopts a range that does not end at the entry before it'
  }
  if (tree !== undefined) {
    if (note.origin !== tree.origin) return `the checkpoint names another ledger (${escapeControl(note.origin)}): it was copied from elsewhere, or the first entry changed`
    if (tree.range.size !== note.size) return 'the checkpoint signs another position in the ledger: it was moved or copied'
    if (!tree.range.root().equals(note.root)) {
      return 'the checkpoint signs another Merkle root than the entries before it hash to: an entry before it was changed, inserted or removed'
    }
    const peaks = tree.range.peaks
    if (entry.range.length !== peaks.length || entry.range.some((hex, i) => hex !== peaks[i]!.toString('hex'))) {
      return "the checkpoint's range is not the tree of the entries before it"
    }
  }
  const payload: CheckpointPayload =
    note.adopted === undefined
      ? { v: 1, seq: note.size, head: entry.prev, final: note.final }
      : { v: 2, seq: note.size, head: entry.prev, final: note.final, adopted: { from: note.adopted.from, to: note.adopted.to } }
  if (verifier === undefined) return { payload, verified: false }
  const signed = noteSignedBy(note, verifier.key)
  if (signed === 'verified') return { payload, verified: true }
  if (signed === 'invalid') return `the checkpoint names key ${verifier.kid}, but its signature does not verify with that key: it was forged or altered`
  if (verifier.otherKeys === 'unsigned') return { payload, verified: false }
  const ids = note.signatures.map((signature) => signature.keyId.toString('hex')).join(', ')
  return `the checkpoint was signed by key ID ${ids}, not by the given public key ${verifier.kid}`
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The checkpoint's payload, read without checking the signature. */
function decodeCheckpoint(entry: LedgerJwsCheckpointEntry): CheckpointPayload | undefined {
  try {
    const encoded = entry.jws.split('.')[1]!
    const parsed = payloadSchema.safeParse(JSON.parse(utf8.decode(Buffer.from(encoded, 'base64url'))))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

/**
 * An adoption in words, as reports and the CLI print it.
 *
 * @example
 * ```ts
 * describeAdoption({ from: 5, to: 9, bySeq: 10 })   // 'entries 5–9 were not signed by their writer; adopted at seq 10'
 * describeAdoption({ from: 5, to: 5, bySeq: 6 })    // 'entry 5 was not signed by its writer; adopted at seq 6'
 * ```
 */
export function describeAdoption(adoption: LedgerAdoption): string {
  const { from, to, bySeq } = adoption
  return from === to
    ? `entry ${from} was not signed by its writer; adopted at seq ${bySeq}`
    : `entries ${from}–${to} were not signed by their writer; adopted at seq ${bySeq}`
}
