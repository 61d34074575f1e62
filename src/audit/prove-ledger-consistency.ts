import { InvalidArgumentError, LedgerTamperedError } from '../errors.js'
import { checkpointAt, type LedgerConsistencyProof } from './ledger-proof.js'
import { LedgerTreeIndex } from './ledger-tree-index.js'
import { consistencyPath, verifyConsistency } from './merkle-tree.js'

/**
 * Options of {@link proveLedgerConsistency}.
 *
 * @example
 * ```ts
 * const options: ProveLedgerConsistencyOptions = { fromTreeSize: 1000 }
 * ```
 */
export interface ProveLedgerConsistencyOptions {
  /** The earlier checkpoint, by the entries it covers. */
  fromTreeSize: number
  /** The later checkpoint; by default the ledger's last. */
  toTreeSize?: number
}

/**
 * A consistency proof between two checkpoints of a ledger (see
 * {@link LedgerConsistencyProof}): the later ledger extends the earlier one,
 * nothing in it changed. O(log n) reads of the tree index, as
 * `proveLedgerInclusion` explains.
 *
 * @throws {InvalidArgumentError} when a checkpoint is missing, or `from` is after `to`.
 * @throws {LedgerTamperedError} when the ledger does not match its checkpoints.
 * @throws {StorageError} when the ledger or its index cannot be read or written.
 *
 * @example
 * ```ts
 * import { proveLedgerConsistency } from 'airlock-sdk'
 *
 * const proof = await proveLedgerConsistency('audit/ledger.ndjson', { fromTreeSize: 1000 })
 * ```
 */
export async function proveLedgerConsistency(path: string, options: ProveLedgerConsistencyOptions): Promise<LedgerConsistencyProof> {
  for (const rebuild of [false, true]) {
    const index = await LedgerTreeIndex.open(path, { rebuild })
    try {
      const from = await checkpointAt(index, options.fromTreeSize)
      const to = await checkpointAt(index, options.toTreeSize)
      if (from.parsed.size > to.parsed.size) {
        throw new InvalidArgumentError(`the checkpoint of ${from.parsed.size} entries is after the one of ${to.parsed.size}`)
      }
      const path = await consistencyPath(from.parsed.size, to.parsed.size, (level, at) => index.node(level, at))
      if (verifyConsistency(from.parsed.size, to.parsed.size, from.parsed.root, to.parsed.root, path)) {
        return { type: 'airlock-ledger-consistency-proof', v: 1, from: from.note, to: to.note, path: path.map((node) => node.toString('hex')) }
      }
    } finally {
      await index.close()
    }
  }
  throw new LedgerTamperedError(options.fromTreeSize + 1, 'the entries do not hash to the roots the checkpoints sign: the ledger was changed after they were signed')
}
