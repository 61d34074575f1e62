import { z } from 'zod'
import { InvalidArgumentError, LedgerTamperedError } from '../errors.js'
import type { AssertTypesMatch, TypesMatch } from '../internal/types-match.js'
import { parseCheckpointNote, type ParsedCheckpointNote } from './checkpoint-note.js'
import { checkLedgerLine } from './ledger-entry.js'
import type { LedgerTreeIndex } from './ledger-tree-index.js'

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')
const size = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)

/**
 * Schema of {@link LedgerInclusionProof}.
 *
 * @internal
 * @example
 * ```ts
 * const proof = ledgerInclusionProofSchema.parse(JSON.parse(await readFile('proof.json', 'utf8')))
 * ```
 */
export const ledgerInclusionProofSchema = z.strictObject({
  type: z.literal('airlock-ledger-inclusion-proof'),
  v: z.literal(1),
  seq: size,
  entry: z.string().min(1),
  treeSize: size,
  path: z.array(hex64).max(64),
  checkpoint: z.string().min(1),
})

/**
 * Schema of {@link LedgerConsistencyProof}.
 *
 * @internal
 * @example
 * ```ts
 * const proof = ledgerConsistencyProofSchema.parse(JSON.parse(await readFile('proof.json', 'utf8')))
 * ```
 */
export const ledgerConsistencyProofSchema = z.strictObject({
  type: z.literal('airlock-ledger-consistency-proof'),
  v: z.literal(1),
  from: z.string().min(1),
  to: z.string().min(1),
  path: z.array(hex64).max(128),
})

/**
 * One entry of a ledger, shown on its own: its line, the RFC 9162 audit path
 * from its leaf (leaf index `seq - 1`) to the root of the first `treeSize`
 * entries, and the signed checkpoint note of that root. Whoever holds the
 * ledger's public key checks it with `verifyLedgerProof`, without the rest of
 * the ledger: the other entries show only as hashes.
 *
 * @example
 * ```json
 * {"type":"airlock-ledger-inclusion-proof","v":1,"seq":42,"entry":"{\"channel\":…}","treeSize":1000,"path":["9f2c…","…"],"checkpoint":"airlock.ledger/5f91…\n1000\n…"}
 * ```
 */
export interface LedgerInclusionProof {
  type: 'airlock-ledger-inclusion-proof'
  v: 1
  /** The entry shown. */
  seq: number
  /** Its line, verbatim, without the newline. */
  entry: string
  /** The entries the checkpoint's tree covers. */
  treeSize: number
  /** The RFC 9162 audit path, hex hashes, leaf to root. */
  path: string[]
  /** The signed checkpoint note of the root. */
  checkpoint: string
}
type _LedgerInclusionProofMatches = AssertTypesMatch<TypesMatch<LedgerInclusionProof, z.infer<typeof ledgerInclusionProofSchema>>>

/**
 * That the ledger at the `to` checkpoint extends the ledger at the `from`
 * checkpoint (nothing before was changed, removed or reordered): both
 * signed notes, and the RFC 9162 consistency proof between their roots.
 *
 * @example
 * ```json
 * {"type":"airlock-ledger-consistency-proof","v":1,"from":"airlock.ledger/5f91…\n1000\n…","to":"airlock.ledger/5f91…\n5000\n…","path":["…"]}
 * ```
 */
export interface LedgerConsistencyProof {
  type: 'airlock-ledger-consistency-proof'
  v: 1
  /** The earlier signed checkpoint note. */
  from: string
  /** The later signed checkpoint note. */
  to: string
  /** The RFC 9162 consistency proof between their roots, hex hashes. */
  path: string[]
}
type _LedgerConsistencyProofMatches = AssertTypesMatch<TypesMatch<LedgerConsistencyProof, z.infer<typeof ledgerConsistencyProofSchema>>>

/**
 * The v2 checkpoint of `treeSize` entries (the entry of seq `treeSize + 1`),
 * or the last one in the index when `treeSize` is undefined. Internal to
 * src/audit.
 *
 * @throws {InvalidArgumentError} when there is no such checkpoint.
 * @throws {LedgerTamperedError} when the entry there is not intact.
 * @example
 * ```ts
 * const { note, parsed } = await checkpointAt(index, 1000)
 * ```
 */
export async function checkpointAt(index: LedgerTreeIndex, treeSize: number | undefined): Promise<{ note: string; parsed: ParsedCheckpointNote }> {
  if (treeSize !== undefined && (!Number.isSafeInteger(treeSize) || treeSize < 1 || treeSize >= index.size)) {
    throw new InvalidArgumentError(`the ledger has no checkpoint of ${treeSize} entries: it holds ${index.size} entries`)
  }
  for (let seq = treeSize === undefined ? index.size : treeSize + 1; seq >= 2; seq--) {
    const entry = checkLedgerLine(await index.line(seq))
    if (typeof entry === 'string') throw new LedgerTamperedError(seq, entry)
    if (entry.kind === 'checkpoint' && entry.v === 2) {
      const parsed = parseCheckpointNote(entry.note)
      if (typeof parsed === 'string') throw new LedgerTamperedError(seq, parsed)
      return { note: entry.note, parsed }
    }
    if (treeSize !== undefined) break
  }
  throw new InvalidArgumentError(
    treeSize === undefined
      ? 'the ledger holds no signed note checkpoint (format v2): it was written without a signing key, or only by an older writer'
      : `entry ${treeSize + 1} of the ledger is not a signed note checkpoint of ${treeSize} entries`,
  )
}
