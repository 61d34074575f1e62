import { InvalidArgumentError, LedgerTamperedError } from '../errors.js'
import { checkLedgerLine } from './ledger-entry.js'
import { checkpointAt, type LedgerInclusionProof } from './ledger-proof.js'
import { LedgerTreeIndex } from './ledger-tree-index.js'
import { inclusionPath, ledgerLeafHash, verifyInclusion } from './merkle-tree.js'

/**
 * Options of {@link proveLedgerInclusion}.
 *
 * @example
 * ```ts
 * const options: ProveLedgerInclusionOptions = { seq: 42, treeSize: 1000 }
 * ```
 */
export interface ProveLedgerInclusionOptions {
  /** The entry to show. */
  seq: number
  /** The checkpoint to prove it against, by the entries it covers; by default the ledger's last checkpoint. */
  treeSize?: number
}

/**
 * An inclusion proof for one entry of a ledger against one of its signed
 * checkpoints (see {@link LedgerInclusionProof}): it shows that entry, and
 * of the others only hashes. Check it with `verifyLedgerProof` and the
 * ledger's public key.
 *
 * The proof costs O(log n) reads of the tree index kept next to the ledger
 * (`<ledger>.tree`); the first proof of a ledger builds that index in one
 * pass, and later ones catch it up with the entries added since. The proof
 * is checked against the checkpoint's signed root before it is returned: an
 * index that went stale is rebuilt, and a ledger whose entries do not hash
 * to the root its checkpoint signs is refused.
 *
 * @throws {InvalidArgumentError} when `seq` is not covered by the checkpoint, or there is no such checkpoint.
 * @throws {LedgerTamperedError} when the ledger does not match its checkpoint.
 * @throws {StorageError} when the ledger or its index cannot be read or written.
 *
 * @example
 * ```ts
 * import { proveLedgerInclusion } from 'airlock-sdk'
 *
 * const proof = await proveLedgerInclusion('audit/ledger.ndjson', { seq: 42 })
 * await writeFile('seq-42.proof.json', JSON.stringify(proof))
 * ```
 */
export async function proveLedgerInclusion(path: string, options: ProveLedgerInclusionOptions): Promise<LedgerInclusionProof> {
  const { seq, treeSize } = options
  if (!Number.isSafeInteger(seq) || seq < 1) throw new InvalidArgumentError(`seq must be a positive integer, found ${String(seq)}`)
  for (const rebuild of [false, true]) {
    const index = await LedgerTreeIndex.open(path, { rebuild })
    try {
      const { note, parsed } = await checkpointAt(index, treeSize)
      if (seq > parsed.size) {
        throw new InvalidArgumentError(`entry ${seq} is not covered by the checkpoint of ${parsed.size} entries; prove it against a later one`)
      }
      const line = await index.line(seq)
      const entry = checkLedgerLine(line)
      if (typeof entry === 'string') throw new LedgerTamperedError(seq, entry)
      const path = await inclusionPath(seq - 1, parsed.size, (level, at) => index.node(level, at))
      if (verifyInclusion(ledgerLeafHash(entry.hash), seq - 1, parsed.size, path, parsed.root)) {
        return {
          type: 'airlock-ledger-inclusion-proof',
          v: 1,
          seq,
          entry: line.toString('utf8'),
          treeSize: parsed.size,
          path: path.map((node) => node.toString('hex')),
          checkpoint: note,
        }
      }
    } finally {
      await index.close()
    }
  }
  throw new LedgerTamperedError(seq, 'the entries do not hash to the root the checkpoint signs: the ledger was changed after it was signed')
}
