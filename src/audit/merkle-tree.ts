import { sha256, sha256Into } from '../internal/sha256.js'

/*
 * The ledger as a Merkle tree, hashed as RFC 9162 (Certificate Transparency
 * v2) section 2.1 says: a leaf is SHA-256(0x00 || data), an interior node
 * SHA-256(0x01 || left || right), and a tree of n leaves splits at the largest
 * power of two below n. Leaf i (0-based) is the entry of seq i + 1, and its
 * data is the 32 bytes of that entry's `hash` (the SHA-256 of its canonical
 * JSON without `hash`): the tree is built over the entries as they already
 * are, so ledgers written before it get one too.
 */

/** The SHA-256 of an empty tree (RFC 9162: the hash of the empty string). */
export const EMPTY_TREE_ROOT = Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex')

const leafInput = Buffer.alloc(33)
const nodeInput = Buffer.alloc(65)
nodeInput[0] = 1

/**
 * The RFC 9162 leaf hash of an entry: SHA-256(0x00 || the 32 bytes of its `hash`).
 *
 * @example
 * ```ts
 * const leaf = ledgerLeafHash(entry.hash)   // 32 bytes
 * ```
 */
export function ledgerLeafHash(entryHashHex: string): Buffer {
  leafInput.write(entryHashHex, 1, 32, 'hex')
  return sha256(leafInput)
}

/**
 * The RFC 9162 interior node hash: SHA-256(0x01 || left || right).
 *
 * @example
 * ```ts
 * const parent = merkleNodeHash(left, right)
 * ```
 */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  nodeInput.set(left, 1)
  nodeInput.set(right, 33)
  return sha256(nodeInput)
}

/**
 * The roots of the perfect subtrees a tree of `size` leaves is made of,
 * largest (leftmost) first: one per set bit of `size`. Enough to add leaves
 * and to compute the root, in O(log n) memory. Internal to src/audit.
 *
 * @example
 * ```ts
 * const range = new MerkleRange()
 * for (const entry of entries) range.push(ledgerLeafHash(entry.hash))
 * range.root()   // the RFC 9162 root of the whole ledger
 * ```
 */
export class MerkleRange {
  #size: number
  readonly #peaks: Buffer[]

  constructor(size = 0, peaks: readonly Buffer[] = []) {
    if (!Number.isSafeInteger(size) || size < 0 || peaks.length !== popcount(size)) {
      throw new RangeError(`a tree of ${size} leaves has ${popcount(size)} peaks, not ${peaks.length}`)
    }
    this.#size = size
    this.#peaks = peaks.map((peak) => Buffer.from(peak))
  }

  /** Leaves so far. */
  get size(): number {
    return this.#size
  }

  /** The peaks, largest first. */
  get peaks(): readonly Buffer[] {
    return this.#peaks
  }

  /** Adds a leaf hash: merges equal-sized peaks, as many as the new size's trailing zeros. */
  push(leaf: Buffer): void {
    this.pushSubtree(0, leaf)
  }

  /**
   * Adds the root of a perfect subtree of 2^`height` leaves, the next ones
   * after those the range holds: what {@link foldLeaves} makes. The range's
   * size must be a multiple of 2^`height`, so the subtree sits where the
   * whole tree has one; then its peaks merge as if each leaf had been pushed.
   *
   * @throws {RangeError} when the size is not such a multiple.
   */
  pushSubtree(height: number, root: Buffer): void {
    const width = 2 ** height
    if (this.#size % width !== 0) throw new RangeError(`a subtree of ${width} leaves cannot follow ${this.#size} leaves`)
    let node = root
    for (let above = this.#size / width; above % 2 === 1; above = Math.floor(above / 2)) node = merkleNodeHash(this.#peaks.pop()!, node)
    this.#peaks.push(node)
    this.#size += width
  }

  /** The tree's root: the peaks folded from the right. */
  root(): Buffer {
    if (this.#peaks.length === 0) return Buffer.from(EMPTY_TREE_ROOT)
    let root = this.#peaks[this.#peaks.length - 1]!
    for (let i = this.#peaks.length - 2; i >= 0; i--) root = merkleNodeHash(this.#peaks[i]!, root)
    return root
  }

  /** A copy that grows on its own. */
  clone(): MerkleRange {
    return new MerkleRange(this.#size, this.#peaks)
  }
}

/**
 * Writes {@link ledgerLeafHash} of an entry hash given as its 32 bytes into
 * `target` at `offset`. Internal to src/audit.
 *
 * @example
 * ```ts
 * ledgerLeafHashInto(link.hash, leaves, i * 32)
 * ```
 */
export function ledgerLeafHashInto(entryHash: Uint8Array, target: Buffer, offset: number): void {
  leafInput.set(entryHash, 1)
  sha256Into(leafInput, target, offset)
}

/**
 * Folds consecutive leaf hashes (32 bytes each), the first of them leaf
 * `first` of the whole tree, into perfect subtrees, left to right, each the
 * largest that starts where the whole tree has a subtree of its size and
 * ends within the leaves: the roots and heights {@link MerkleRange.pushSubtree}
 * takes, in order. A thread that holds a stretch of the ledger does the
 * stretch's node hashing; the range's owner then merges a few roots. The
 * nodes are hashed in place: `leaves` holds scraps afterwards. Internal to
 * src/audit.
 *
 * @example
 * ```ts
 * const { roots, heights } = foldLeaves(leaves, range.size)
 * roots.forEach((root, i) => range.pushSubtree(heights[i]!, root))
 * ```
 */
export function foldLeaves(leaves: Buffer, first: number): { roots: Buffer[]; heights: number[] } {
  const count = Math.floor(leaves.length / 32)
  const roots: Buffer[] = []
  const heights: number[] = []
  for (let at = 0; at < count; ) {
    let height = 0
    while ((first + at) % 2 ** (height + 1) === 0 && 2 ** (height + 1) <= count - at) height++
    // Level by level, each pair's parent over the pair's left half, until one node is left at `at`.
    for (let width = 2 ** height; width > 1; width /= 2) {
      for (let i = 0; i < width / 2; i++) {
        const left = (at + 2 * i) * 32
        // A loop, not Buffer#copy: for 64 bytes, copy's checks cost more than the copying.
        for (let b = 0; b < 64; b++) nodeInput[1 + b] = leaves[left + b]!
        sha256Into(nodeInput, leaves, (at + i) * 32)
      }
    }
    roots.push(Buffer.from(leaves.subarray(at * 32, at * 32 + 32)))
    heights.push(height)
    at += 2 ** height
  }
  return { roots, heights }
}

/**
 * Reads the root of a perfect subtree: `level` 0 is a leaf, and `index` counts
 * the subtrees of that level from the left (leaves `index·2^level` to
 * `(index+1)·2^level - 1`). Internal to src/audit.
 */
export type PerfectNodeReader = (level: number, index: number) => Promise<Buffer>

/**
 * RFC 9162 MTH(D[start:end]) for a range a proof needs: `start` is a multiple
 * of the largest power of two not above `end - start`, so the range is a
 * perfect subtree, or one followed by a smaller such range. O(log n) reads.
 */
async function rangeHash(start: number, end: number, read: PerfectNodeReader): Promise<Buffer> {
  const width = end - start
  if ((width & (width - 1)) === 0 && start % width === 0) {
    const level = Math.log2(width)
    return read(level, start / width)
  }
  const k = largestPowerOfTwoBelow(width)
  return merkleNodeHash(await rangeHash(start, start + k, read), await rangeHash(start + k, end, read))
}

/**
 * The RFC 9162 inclusion proof (audit path) of leaf `index` in the tree of
 * the first `size` leaves, bottom up: PATH(m, D[n]) of section 2.1.3.1. Reads
 * O(log n) nodes. Internal to src/audit.
 *
 * @example
 * ```ts
 * const path = await inclusionPath(41, 1000, (level, index) => index.node(level, index))
 * ```
 */
export async function inclusionPath(index: number, size: number, read: PerfectNodeReader): Promise<Buffer[]> {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size} leaves`)
  const path: Buffer[] = []
  let start = 0
  let end = size
  const siblings: (() => Promise<Buffer>)[] = []
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start)
    const [s, e] = [start, end]
    if (index < start + k) {
      siblings.push(() => rangeHash(s + k, e, read))
      end = start + k
    } else {
      siblings.push(() => rangeHash(s, s + k, read))
      start = start + k
    }
  }
  // Found top down; the proof lists them bottom up.
  for (let i = siblings.length - 1; i >= 0; i--) path.push(await siblings[i]!())
  return path
}

/**
 * The RFC 9162 consistency proof between the trees of the first `from` and
 * `to` leaves: PROOF(m, D[n]) of section 2.1.4.1, O(log n) reads. Internal
 * to src/audit.
 *
 * @example
 * ```ts
 * const proof = await consistencyPath(1000, 5000, read)
 * ```
 */
export async function consistencyPath(from: number, to: number, read: PerfectNodeReader): Promise<Buffer[]> {
  if (!(from >= 1 && from <= to)) throw new RangeError(`no consistency proof from ${from} leaves to ${to}`)
  const found: (() => Promise<Buffer>)[] = []
  let start = 0
  let end = to
  let m = from
  let complete = true
  for (;;) {
    const n = end - start
    if (m === n) {
      if (!complete) {
        const [s, e] = [start, end]
        found.push(() => rangeHash(s, e, read))
      }
      break
    }
    const k = largestPowerOfTwoBelow(n)
    const [s, e] = [start, end]
    if (m <= k) {
      found.push(() => rangeHash(s + k, e, read))
      end = start + k
    } else {
      found.push(() => rangeHash(s, s + k, read))
      start = start + k
      m -= k
      complete = false
    }
  }
  const proof: Buffer[] = []
  for (let i = found.length - 1; i >= 0; i--) proof.push(await found[i]!())
  return proof
}

/**
 * Checks an inclusion proof as RFC 9162 section 2.1.3.2 says: whether `leaf`
 * at `index` and `path` hash up to `root` of a tree of `size` leaves.
 *
 * @example
 * ```ts
 * verifyInclusion(ledgerLeafHash(entry.hash), entry.seq - 1, size, path, root)   // true or false
 * ```
 */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false
  let fn = index
  let sn = size - 1
  let r: Uint8Array = leaf
  for (const p of path) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = merkleNodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && Buffer.from(r).equals(root)
}

/**
 * Checks a consistency proof as RFC 9162 section 2.1.4.2 says: whether the
 * tree of `to` leaves with root `toRoot` extends the tree of `from` leaves
 * with root `fromRoot`.
 *
 * @example
 * ```ts
 * verifyConsistency(1000, 5000, oldRoot, newRoot, proof)   // true or false
 * ```
 */
export function verifyConsistency(from: number, to: number, fromRoot: Uint8Array, toRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || from > to) return false
  if (from === to) return proof.length === 0 && Buffer.from(fromRoot).equals(toRoot)
  if (proof.length === 0) return false
  const path: Uint8Array[] = (from & (from - 1)) === 0 ? [fromRoot, ...proof] : [...proof]
  let fn = from - 1
  let sn = to - 1
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  let fr: Uint8Array = path[0]!
  let sr: Uint8Array = path[0]!
  for (const c of path.slice(1)) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      fr = merkleNodeHash(c, fr)
      sr = merkleNodeHash(c, sr)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      sr = merkleNodeHash(sr, c)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && Buffer.from(fr).equals(fromRoot) && Buffer.from(sr).equals(toRoot)
}

/** Set bits of a safe integer (above 2^32 too). */
export function popcount(n: number): number {
  let count = 0
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2
  return count
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}
