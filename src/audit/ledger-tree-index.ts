import { open, stat, type FileHandle } from 'node:fs/promises'
import { LedgerTamperedError, StorageError } from '../errors.js'
import { GENESIS_HASH, checkLedgerLine, type LedgerEntry } from './ledger-entry.js'
import { ledgerLeafHash, merkleNodeHash, popcount } from './merkle-tree.js'
import { readLedgerFrom } from './read-ledger-from.js'

/** One node: its 32-byte hash, then (for a leaf) the byte offset just past its entry's line, as a big-endian u64. */
const RECORD_BYTES = 40
const HASH_BYTES = 32
/** Records appended per write while catching up. */
const WRITE_RECORDS = 4096

/**
 * The nodes of a ledger's Merkle tree, kept next to it (`<ledger>.tree`) so
 * proofs cost O(log n) reads, not a pass over the ledger. Every perfect
 * subtree's root is stored once, in the order it completes as leaves are
 * added (the post-order of a Merkle mountain range), so the file only ever
 * grows at its end: leaf i sits at record `2i - popcount(i)`, and the root
 * of level l, index k at that of its last leaf plus l. A leaf's record also
 * holds where its entry's line ends, so an entry is found in O(1).
 *
 * The file is derived data, never trusted: {@link LedgerTreeIndex.open}
 * checks its last leaf against the ledger (and starts over if they differ),
 * catches up with entries added since, and the prover checks every proof
 * against the signed root before handing it out. Internal to src/audit.
 *
 * @example
 * ```ts
 * const index = await LedgerTreeIndex.open('audit/ledger.ndjson')
 * const leaf = await index.node(0, 41)    // the leaf of seq 42
 * await index.close()
 * ```
 */
export class LedgerTreeIndex {
  readonly #ledgerPath: string
  readonly #fd: FileHandle
  #size = 0

  private constructor(ledgerPath: string, fd: FileHandle) {
    this.#ledgerPath = ledgerPath
    this.#fd = fd
  }

  /** Leaves (entries) the index holds. */
  get size(): number {
    return this.#size
  }

  /**
   * Opens the index of `ledgerPath`, creating it or catching it up with the
   * ledger: a pass over the entries it does not hold yet, checking their
   * chain as the outbox does.
   *
   * @throws {LedgerTamperedError} when an entry is not intact or does not follow the one before.
   * @throws {StorageError} when a file cannot be read or written.
   */
  static async open(ledgerPath: string, options: { rebuild?: boolean } = {}): Promise<LedgerTreeIndex> {
    let fd: FileHandle
    try {
      fd = await open(`${ledgerPath}.tree`, 'a+', 0o600)
    } catch (err) {
      throw storageError(`cannot open the tree index of ${ledgerPath}`, err)
    }
    const index = new LedgerTreeIndex(ledgerPath, fd)
    try {
      await index.#catchUp(options.rebuild === true)
      return index
    } catch (err) {
      await fd.close()
      throw err
    }
  }

  /**
   * The root of the perfect subtree `index` of `level` (level 0: leaf `index`).
   *
   * @example
   * ```ts
   * const root = await index.node(3, 0)   // the root of leaves 0-7
   * ```
   */
  async node(level: number, index: number): Promise<Buffer> {
    const last = (index + 1) * 2 ** level - 1
    if (last >= this.#size) throw new RangeError(`the index holds ${this.#size} leaves, not leaf ${last}`)
    return (await this.#record(position(last) + level)).subarray(0, HASH_BYTES)
  }

  /**
   * The line of entry `seq` (without its newline), read from the ledger.
   *
   * @example
   * ```ts
   * const line = await index.line(42)
   * ```
   */
  async line(seq: number): Promise<Buffer> {
    const start = seq === 1 ? 0 : await this.#lineEnd(seq - 1)
    const end = await this.#lineEnd(seq)
    const bytes = Buffer.alloc(end - start - 1)
    const file = await open(this.#ledgerPath, 'r')
    try {
      await readFully(file, bytes, start)
    } finally {
      await file.close()
    }
    return bytes
  }

  async close(): Promise<void> {
    await this.#fd.close()
  }

  async #lineEnd(seq: number): Promise<number> {
    return Number((await this.#record(position(seq - 1))).readBigUInt64BE(HASH_BYTES))
  }

  async #record(at: number): Promise<Buffer> {
    const record = Buffer.alloc(RECORD_BYTES)
    await readFully(this.#fd, record, at * RECORD_BYTES)
    return record
  }

  async #catchUp(rebuild: boolean): Promise<void> {
    const { size: bytes } = await this.#fd.stat()
    let leaves = rebuild ? 0 : leavesWithin(Math.floor(bytes / RECORD_BYTES))
    let prev = GENESIS_HASH
    if (leaves > 0) {
      this.#size = leaves
      // The last leaf must still be the ledger's entry of that seq; if not, the ledger changed: start over.
      const entry = await this.#entryOrUndefined(leaves)
      const leaf = await this.node(0, leaves - 1)
      if (entry === undefined || !ledgerLeafHash(entry.hash).equals(leaf)) leaves = 0
      else prev = entry.hash
    }
    const records = nodesOf(leaves)
    if (records * RECORD_BYTES !== bytes) await this.#fd.truncate(records * RECORD_BYTES)
    this.#size = leaves
    const peaks: { level: number; hash: Buffer }[] = []
    for (let rest = leaves, done = 0; rest > 0; ) {
      const level = Math.floor(Math.log2(rest))
      peaks.push({ level, hash: await this.node(level, done / 2 ** level) })
      done += 2 ** level
      rest -= 2 ** level
    }
    const from = leaves === 0 ? 0 : await this.#lineEnd(leaves)
    const { size: end } = await stat(this.#ledgerPath)
    let pending: Buffer[] = []
    const flush = async (): Promise<void> => {
      const bytes = Buffer.concat(pending)
      pending = []
      let offset = 0
      while (offset < bytes.length) offset += (await this.#fd.write(bytes, offset)).bytesWritten
    }
    for await (const { entry, end: lineEnd } of readLedgerFrom(this.#ledgerPath, { offset: from, seq: leaves + 1, prev }, end)) {
      const record = Buffer.alloc(RECORD_BYTES)
      let hash = ledgerLeafHash(entry.hash)
      hash.copy(record)
      record.writeBigUInt64BE(BigInt(lineEnd), HASH_BYTES)
      pending.push(record)
      let level = 0
      while (peaks.length > 0 && peaks[peaks.length - 1]!.level === level) {
        hash = merkleNodeHash(peaks.pop()!.hash, hash)
        level++
        const node = Buffer.alloc(RECORD_BYTES)
        hash.copy(node)
        pending.push(node)
      }
      peaks.push({ level, hash })
      if (pending.length >= WRITE_RECORDS) await flush()
    }
    await flush()
    this.#size = leavesWithin(Math.floor((await this.#fd.stat()).size / RECORD_BYTES))
  }

  async #entryOrUndefined(seq: number): Promise<LedgerEntry | undefined> {
    try {
      const entry = checkLedgerLine(await this.line(seq))
      return typeof entry === 'string' || entry.seq !== seq ? undefined : entry
    } catch (err) {
      if (err instanceof LedgerTamperedError) throw err
      return undefined
    }
  }
}

/** The record of leaf i. */
function position(leaf: number): number {
  return 2 * leaf - popcount(leaf)
}

/** Records of a tree of n leaves. */
function nodesOf(leaves: number): number {
  return 2 * leaves - popcount(leaves)
}

/** The most leaves whose records fit in `records`. */
function leavesWithin(records: number): number {
  // nodesOf(n) is 2n less at most 53 (the set bits of n), so the answer is at most (records + 53) / 2.
  let leaves = Math.floor((records + 53) / 2)
  while (leaves > 0 && nodesOf(leaves) > records) leaves--
  return leaves
}

async function readFully(fd: FileHandle, into: Buffer, position: number): Promise<void> {
  let offset = 0
  while (offset < into.length) {
    const { bytesRead } = await fd.read(into, offset, into.length - offset, position + offset)
    if (bytesRead === 0) throw new StorageError('a ledger or its tree index ended before a record it names')
    offset += bytesRead
  }
}

function storageError(message: string, err: unknown): StorageError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return new StorageError(`${message}${code === undefined ? '' : ` (${code})`}`, { cause: err })
}
