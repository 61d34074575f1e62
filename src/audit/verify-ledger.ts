import { open, type FileHandle } from 'node:fs/promises'
import { InvalidArgumentError, StorageError } from '../errors.js'
import { GENESIS_HASH, MAX_LINE_BYTES, checkLedgerLine, type LedgerEntry } from './ledger-entry.js'
import { ledgerOrigin } from './checkpoint-note.js'
import { checkCheckpoint, type CheckpointTree, type CheckpointVerifier, type LedgerAdoption } from './ledger-checkpoint.js'
import type { LedgerWitness } from './ledger-witness.js'
import { EMPTY_TREE_ROOT, MerkleRange, ledgerLeafHash } from './merkle-tree.js'
import { ledgerKeyId, toVerifyKey, type LedgerKeyInput } from './ledger-signing-key.js'
import { LedgerLineWorkers, type ChunkSummary, type LineWork } from './ledger-line-workers.js'

/**
 * Options of {@link verifyLedger}.
 *
 * @example
 * ```ts
 * const options: VerifyLedgerOptions = { publicKey, onProgress: (n) => console.error(`${n} entries checked`) }
 * await verifyLedger('audit/ledger.ndjson', options)
 * ```
 */
export interface VerifyLedgerOptions {
  /**
   * The Ed25519 public key that signed the checkpoints. With it, every
   * checkpoint's signature is checked and the ledger must end with the
   * closing checkpoint; without it, truncation of whole trailing lines cannot
   * be detected, nor a ledger rewritten with fresh hashes.
   */
  publicKey?: LedgerKeyInput
  /**
   * The heads the control plane received (`readLedgerWitness`). With it, the
   * ledger must hold every head of its origin: each one's tree size reached
   * and its root matched. A ledger the witness holds no head of fails too.
   * Needs `publicKey`.
   */
  witness?: LedgerWitness
  /** Called with the number of entries checked so far, every {@link PROGRESS_EVERY} entries. */
  onProgress?: (entriesSoFar: number) => void
  /**
   * Called with each entry once it has been checked, in order. Entries before
   * the first bad one are all passed; the result says whether the rest held.
   */
  onEntry?: (entry: LedgerEntry) => void
}

/**
 * What {@link verifyLedger} found: intact, empty, or broken at `firstBadSeq`.
 * Only an intact ledger has `ok: true`; an empty file is not evidence of
 * anything, so it is `ok: false` with `empty: true`.
 *
 * @example
 * ```ts
 * const result: VerifyLedgerResult = await verifyLedger('audit/ledger.ndjson', { publicKey })
 * if (result.ok) {
 *   console.log(`${result.entries} entries, head ${result.head}`)
 *   for (const a of result.adopted) console.log(`entries ${a.from}–${a.to} were not signed by their writer; adopted at seq ${a.bySeq}`)
 * } else if (result.empty) console.log('the ledger is empty')
 * else throw new LedgerTamperedError(result.firstBadSeq, result.reason)
 * ```
 */
export type VerifyLedgerResult =
  | {
      ok: true
      /** Number of entries (lines), checkpoints included; also the last seq. */
      entries: number
      /** The last entry's hash. */
      head: string
      /** Number of checkpoint entries. */
      checkpoints: number
      /** Whether checkpoint signatures were checked (a public key was given). */
      signaturesChecked: boolean
      /**
       * The first {@link ADOPTED_LIST_LIMIT} stretches of entries a later
       * writer adopted (see {@link LedgerAdoption}), in ledger order; none
       * for a ledger every writer closed. Read from the checkpoints'
       * payloads: with `signaturesChecked`, signed by the key.
       */
      adopted: LedgerAdoption[]
      /** Number of adopting checkpoints: at least `adopted.length`. */
      adoptions: number
      /** The ledger's origin (what its checkpoints name), once it has an entry. */
      origin?: string | undefined
      /** The RFC 9162 root of all its entries, hex. */
      root?: string
      /** With a witness: how many of its heads the ledger was checked against. */
      witnessed?: number | undefined
    }
  | {
      ok: false
      /** True for a file with no entries at all; then `firstBadSeq` is 1 and `entries` 0. */
      empty: boolean
      /** The seq the first failing line should have had; also its line number. */
      firstBadSeq: number
      /** What is wrong, for a person. */
      reason: string
      /** Number of intact entries before it: `firstBadSeq - 1`. */
      entries: number
    }

/** How often, in entries, {@link VerifyLedgerOptions.onProgress} is called. */
export const PROGRESS_EVERY = 100_000

/**
 * At most this many adoptions are listed in a result; `adoptions` counts them all.
 *
 * @example
 * ```ts
 * if (result.ok && result.adoptions > ADOPTED_LIST_LIMIT) console.log('more adoptions than listed')
 * ```
 */
export const ADOPTED_LIST_LIMIT = 1000

/** Why an empty file does not verify: the reason of an `empty` result. */
const EMPTY_REASON =
  'the ledger is empty: it holds no entries, so it shows nothing about what was sent (a ledger cut to nothing looks the same)'

/**
 * Verifies a ledger file, streaming it line by line in constant memory, and
 * names the first bad entry. It returns a result rather than throwing, so the
 * CLI can print it; to throw instead,
 * `throw new LedgerTamperedError(result.firstBadSeq, result.reason)`.
 *
 * Each line must be intact on its own ({@link parseLedgerLine}: UTF-8, JSON,
 * schema, and a hash over the line's own bytes, so any byte changed in a
 * written line fails it), end in `\n`, have `seq` one more than the line
 * before (1 for the first), and have `prev` equal to the previous line's
 * `hash` ({@link GENESIS_HASH} for the first). A checkpoint's JWS payload must
 * name the entry before it. This finds any edit, deletion, insertion,
 * reordering, or a torn last line. An empty file is reported as `empty`,
 * not intact.
 *
 * A large file's lines are checked on worker threads (one per core, at most
 * four), which also hash them into subtrees of the Merkle tree, while this
 * one links the chunks into the chain and the tree. With `publicKey` (and no
 * `onEntry`), event and delivery lines are not even parsed: they are linked
 * from their bytes, which is sound only for a ledger whose signatures then
 * hold (ledger-line-bytes.ts has the argument), so a ledger that fails is
 * verified again with every line parsed, and that verdict is returned.
 * With `onEntry`, this thread parses every line itself and the workers only
 * hash them.
 *
 * What a hash chain cannot prove on its own: that nothing was cut from the
 * end, or that the file was not edited and its hashes recomputed. The chain
 * uses no secret, so anyone who can write the file can do that: without a
 * key, this detects accidental damage only. Signed checkpoints close both
 * gaps. With `publicKey`, each checkpoint signature must verify with it, and
 * the last entry must be the closing checkpoint `close()` signs; a ledger
 * without one (never signed, cut short, or still open or crashed) fails,
 * with the number of entries after the last checkpoint in the reason. Verify
 * without a key to check the chain of a ledger that is still being written.
 *
 * Entries a later writer adopted (its predecessor stopped without closing;
 * see `adoptUnsignedTail` of `Ledger.open`) are listed in `adopted`: signed,
 * but not by the writer that wrote them.
 *
 * When the chain breaks because an entry was rewritten with a fresh hash,
 * the break shows at the next entry (its `prev` no longer matches): the
 * reason says that entry or an earlier one changed.
 *
 * @throws {StorageError} when the file cannot be read.
 * @throws {InvalidArgumentError} when `publicKey` is not an Ed25519 public key.
 *
 * @example
 * ```ts
 * import { verifyLedger } from 'airlock-sdk'
 *
 * const result = await verifyLedger('audit/ledger.ndjson', { publicKey })
 * if (!result.ok) console.error(result.empty ? 'the ledger is empty' : `entry ${result.firstBadSeq}: ${result.reason}`)
 * ```
 */
export async function verifyLedger(path: string, options: VerifyLedgerOptions = {}): Promise<VerifyLedgerResult> {
  // With a key and no entries wanted, lines are linked from their bytes, which only a ledger that then verifies in
  // full may rely on (ledger-line-bytes.ts says why); any failure is looked at again with every line parsed, so the
  // verdict and its reason are the parsing pass's, always.
  if (options.publicKey === undefined || options.onEntry !== undefined) return verifyOnce(path, options, false)
  let reported = 0
  const { onProgress } = options
  const progress = onProgress && ((entries: number) => entries > reported && onProgress((reported = entries)))
  const linked = await verifyOnce(path, { ...options, onProgress: progress }, true)
  return linked.ok ? linked : verifyOnce(path, { ...options, onProgress: progress }, false)
}

async function verifyOnce(path: string, options: VerifyLedgerOptions, linkLines: boolean): Promise<VerifyLedgerResult> {
  const publicKey = options.publicKey === undefined ? undefined : toVerifyKey(options.publicKey)
  const verifier: CheckpointVerifier | undefined =
    publicKey === undefined ? undefined : { key: publicKey, kid: await ledgerKeyId(publicKey), otherKeys: 'fail' }
  const { witness } = options
  if (witness !== undefined && verifier === undefined) throw new InvalidArgumentError('a witness needs the publicKey its heads are signed with')
  const rootsAt = witness === undefined ? undefined : new Set([...witness.heads.values()].flatMap((heads) => heads.map((h) => h.size)))
  const chain = await checkChain(path, { verifier, onEntry: options.onEntry, onProgress: options.onProgress, rootsAt, linkLines })
  if (!chain.ok) return { ...chain, empty: false }
  const { entries, head, checkpoints, lastCheckpoint, adopted, adoptions, tree, roots } = chain
  const fail = (reason: string): VerifyLedgerResult => ({ ok: false, empty: false, firstBadSeq: entries + 1, reason, entries })
  if (entries === 0) return { ok: false, empty: true, firstBadSeq: 1, reason: EMPTY_REASON, entries: 0 }
  if (verifier !== undefined) {
    if (lastCheckpoint === undefined) {
      return fail(
        `none of the ${entries} entries is a signed checkpoint: the ledger was written without a signing key, its checkpoints were cut off, or its writer crashed before its first checkpoint`,
      )
    }
    if (lastCheckpoint.seq !== entries) {
      return fail(
        `${entries - lastCheckpoint.seq} entries after the last checkpoint (seq ${lastCheckpoint.seq}) are not covered by a signature, and a closed ledger ends with a closing checkpoint: entries after seq ${entries} may have been cut off (or the ledger is still open, or its writer crashed; once they are checked, a writer holding the key can adopt them on record with adoptUnsignedTail)`,
      )
    }
    if (!lastCheckpoint.final) {
      return fail(`the last entry is a periodic checkpoint, not the closing one: entries after seq ${entries} may have been cut off (or the writer crashed)`)
    }
  }
  let witnessed: number | undefined
  if (witness !== undefined) {
    const heads = witness.heads.get(tree!.origin) ?? []
    if (heads.length === 0) {
      return fail(`the witness holds no head of this ledger (${tree!.origin}): the control plane never saw its checkpoints, so nothing vouches that it is the ledger that was written`)
    }
    for (const { size, root } of heads) {
      if (size > entries) {
        return fail(`the witness saw this ledger at ${size} entries, and it has only ${entries}: it was cut short, or the runs that wrote entries after seq ${entries} are missing`)
      }
      if (!roots.get(size)!.equals(root)) {
        const reason = `the first ${size} entries do not hash to the root the witness saw at that size: the ledger was rewritten`
        return { ok: false, empty: false, firstBadSeq: size, reason, entries }
      }
    }
    witnessed = heads.length
  }
  const root = (tree?.range.root() ?? EMPTY_TREE_ROOT).toString('hex')
  return { ok: true, entries, head, checkpoints, signaturesChecked: verifier !== undefined, adopted, adoptions, origin: tree?.origin, root, witnessed }
}

/**
 * Where a pass over the chain starts: the byte offset of a line, the `seq`
 * that line must have and the hash its `prev` must name. Internal to
 * src/audit.
 *
 * @example
 * ```ts
 * const start: ChainStart = { offset: 0, seq: 1, head: GENESIS_HASH }   // the whole file
 * ```
 */
export interface ChainStart {
  readonly offset: number
  readonly seq: number
  readonly head: string
  /**
   * The Merkle tree of the entries before `seq` and the ledger's origin, when
   * known (always, from the file's start); without it, v2 checkpoints are
   * checked for their form, position and signature, not their root.
   */
  readonly tree?: CheckpointTree | undefined
  /** The format version of the entry before `seq` (1 from the file's start). */
  readonly version?: number
}

/**
 * What {@link checkChain} found: the last seq and hash, checkpoints and
 * adoptions; or the first bad seq. Internal to src/audit.
 *
 * @example
 * ```ts
 * const chain: ChainResult = await checkChain(path, {})
 * if (chain.ok) console.log(chain.entries, chain.head)
 * ```
 */
export type ChainResult =
  | {
      ok: true
      /** The last seq: `start.seq - 1` when nothing followed the start. */
      entries: number
      head: string
      checkpoints: number
      /** The last checkpoint met, with whether it was signed by the verifier's key. */
      lastCheckpoint: { seq: number; final: boolean; verified: boolean } | undefined
      adopted: LedgerAdoption[]
      adoptions: number
      /** The Merkle tree of every entry and the ledger's origin; undefined when the start had no tree. */
      tree: CheckpointTree | undefined
      /** The root of the tree at each size asked for in `rootsAt` that the ledger reached. */
      roots: Map<number, Buffer>
    }
  | { ok: false; firstBadSeq: number; reason: string; entries: number }

/**
 * The hash-chain check itself, from `start` (the file's first line by
 * default) to the end: {@link verifyLedger} runs it over a whole file, and
 * `Ledger.open` over the entries after its key's last checkpoint, so the
 * two can never disagree on what an intact line is. Internal to src/audit.
 *
 * @throws {StorageError} when the file cannot be read.
 *
 * @example
 * ```ts
 * const chain = await checkChain(path, { start: { offset, seq: 42, head }, verifier })
 * ```
 */
export async function checkChain(
  path: string,
  options: {
    start?: ChainStart
    verifier?: CheckpointVerifier | undefined
    onEntry?: ((entry: LedgerEntry) => void) | undefined
    onProgress?: ((entriesSoFar: number) => void) | undefined
    /** Tree sizes whose roots to return (a witness's heads). */
    rootsAt?: ReadonlySet<number> | undefined
    /**
     * Link event and delivery lines from their bytes (`linkLedgerLine`)
     * instead of parsing them. Only for a verification that a signature then
     * vouches for, and that verifies again with every line parsed when
     * anything fails: see the argument in ledger-line-bytes.ts.
     */
    linkLines?: boolean | undefined
  },
): Promise<ChainResult> {
  const { start = { offset: 0, seq: 1, head: GENESIS_HASH }, verifier, onEntry, onProgress, rootsAt, linkLines } = options
  let expected = start.seq
  let head = start.head
  // From the file's start the tree is built here; from elsewhere, only when the caller knows it.
  const range = start.seq === 1 ? new MerkleRange() : start.tree?.range.clone()
  let tree: CheckpointTree | undefined = start.seq === 1 ? undefined : start.tree && { range: range!, origin: start.tree.origin }
  let version = start.version ?? 1
  const roots = new Map<number, Buffer>()
  let checkpoints = 0
  let lastCheckpoint: { seq: number; final: boolean; verified: boolean } | undefined
  const adopted: LedgerAdoption[] = []
  let adoptions = 0
  const fail = (reason: string): ChainResult => ({ ok: false, firstBadSeq: expected, reason, entries: expected - 1 })

  /** The checkpoint rules, for a checkpoint that is intact and follows the chain: a reason it fails, or undefined. */
  const checkpointAt = async (entry: Extract<LedgerEntry, { kind: 'checkpoint' }>): Promise<string | undefined> => {
    if (entry.v === 2 && range !== undefined && tree === undefined) return 'a checkpoint first: a v2 checkpoint signs the entries before it, and there are none'
    const checked = await checkCheckpoint(entry, verifier, tree)
    if (typeof checked === 'string') return checked
    const { payload, verified } = checked
    if (payload.v === 2) {
      // An audit with the key holds the signer to what the writer does: adopt exactly what followed its last checkpoint.
      const after = lastCheckpoint?.seq ?? start.seq - 1
      if (verifier?.otherKeys === 'fail' && payload.adopted.from !== after + 1) {
        return `the checkpoint adopts entries from seq ${payload.adopted.from}, but the last checkpoint before it is seq ${after}`
      }
      if (adopted.length < ADOPTED_LIST_LIMIT) adopted.push({ from: payload.adopted.from, to: payload.adopted.to, bySeq: entry.seq })
      adoptions++
    }
    checkpoints++
    lastCheckpoint = { seq: entry.seq, final: payload.final, verified }
    return undefined
  }
  /** Adds a subtree of accepted entries to the tree. `firstHash`: the hash of the chain's first entry so far, which names the ledger. */
  const grow = (height: number, root: Buffer, firstHash: string): void => {
    if (range === undefined) return
    range.pushSubtree(height, root)
    tree ??= { range, origin: ledgerOrigin(firstHash) }
    if (rootsAt?.has(range.size) === true) roots.set(range.size, range.root())
  }
  /** Reports progress at each multiple of PROGRESS_EVERY from `from` to `to`. */
  const progress = (from: number, to: number): void => {
    if (onProgress === undefined) return
    for (let seq = Math.ceil(from / PROGRESS_EVERY) * PROGRESS_EVERY; seq <= to; seq += PROGRESS_EVERY) if (seq > 0) onProgress(seq)
  }

  // Without onEntry, nobody needs the entries themselves: worker threads check whole chunks and this one links them.
  const check = onEntry !== undefined ? 'cuts' : linkLines === true ? 'link' : 'parse'
  const chunks = await LedgerChunks.open(path, start.offset, { check, rootsAt: rootsAt === undefined ? undefined : [...rootsAt] })
  try {
    for (let chunk = await chunks.next(); chunk !== undefined; chunk = await chunks.next()) {
      const { lines, cuts, summary } = chunk
      if (summary != null && summary.firstSeq === expected && summary.firstPrev === head && summary.firstV >= version) {
        // Every line intact and linked to the one before it (the worker checked): link the first, grow the tree, check the checkpoints.
        const { count, firstSeq, subtrees, heights, stops } = summary
        let grown = 0
        const growTo = (end: number): void => {
          for (; grown < end; grown++) grow(heights[grown]!, Buffer.from(subtrees.buffer, subtrees.byteOffset + grown * 32, 32), summary.firstHash)
        }
        for (let at = 0; at < stops.length; at += 4) {
          const [index, from, to, subtreesBefore] = [stops[at]!, stops[at + 1]!, stops[at + 2]!, stops[at + 3]!]
          growTo(subtreesBefore)
          progress(expected, firstSeq + index - 1)
          expected = firstSeq + index
          if (from < 0) continue
          const entry = checkLedgerLine(lines.subarray(from, to))
          if (typeof entry === 'string') return fail(entry)
          const reason = entry.kind === 'checkpoint' ? await checkpointAt(entry) : undefined
          if (reason !== undefined) return fail(reason)
        }
        growTo(heights.length)
        progress(expected, firstSeq + count - 1)
        expected = firstSeq + count
        head = summary.lastHash
        version = summary.lastV
      } else {
        for (let i = 0, from = 0; from < lines.length; i++) {
          const newline = lines.indexOf(NEWLINE, from)
          const line = lines.subarray(from, newline)
          from = newline + 1
          const entry = checkLedgerLine(line, cuts?.[i], head)
          if (typeof entry === 'string') return fail(entry)
          if (entry.seq !== expected) {
            return fail(`expected seq ${expected}, found seq ${entry.seq}: an entry was deleted, inserted or moved`)
          }
          if (entry.prev !== head) {
            return fail(
              expected === 1
                ? 'prev of the first entry is not the genesis hash: entries were cut from the start'
                : `prev does not match the hash of seq ${expected - 1}: that entry or an earlier one was changed or replaced`,
            )
          }
          if (entry.v < version) return fail(`a v${entry.v} entry after a v${version} one: the format never goes back`)
          version = entry.v
          if (entry.kind === 'checkpoint') {
            const reason = await checkpointAt(entry)
            if (reason !== undefined) return fail(reason)
          }
          head = entry.hash
          if (range !== undefined) grow(0, ledgerLeafHash(head), head)
          onEntry?.(entry)
          progress(expected, expected)
          expected++
        }
      }
      if (chunk.end === TOO_LONG) return fail(`the line is longer than ${MAX_LINE_BYTES} bytes`)
      if (chunk.end === TORN) return fail('the last line has no newline: it is torn (a crash mid-write) or was cut')
    }
  } finally {
    await chunks.close()
  }
  return { ok: true, entries: expected - 1, head, checkpoints, lastCheckpoint, adopted, adoptions, tree, roots }
}

const TOO_LONG = Symbol('line too long')
const TORN = Symbol('last line without a newline')
const NEWLINE = 0x0a
/** Bytes read at a time: large enough that reading costs little per line. */
const CHUNK_BYTES = 4 * 1024 * 1024
/** Chunks read ahead of the one being linked when no worker threads check them. */
const CHUNKS_AHEAD = 3
/** Below this size, starting worker threads costs more than they save. */
const WORKER_MIN_BYTES = 8 * CHUNK_BYTES

/** Whole lines of the file, in order, with what a worker thread found. */
interface Chunk {
  /** Whole lines, each with its `\n`. Valid until the next {@link LedgerChunks.next}. */
  lines: Buffer
  /** `hashCutOf` of each line, from a worker thread; undefined when the lines are to be hashed here. */
  cuts: Int32Array | undefined
  /** What a worker thread found when it checked every line; null when a line failed there, undefined when none checked. */
  summary: ChunkSummary | null | undefined
  /** How the file ends after these lines, when it ends badly: a torn last line, or a line too long. */
  end: typeof TOO_LONG | typeof TORN | undefined
}

/**
 * The file in chunks of whole lines, split on `\n` only (so a stray `\r`
 * stays in its line and fails it). Lines are views into shared memory,
 * never copied; a line costs no promise, only a chunk does. For a large
 * file, {@link LedgerLineWorkers} check the chunks ahead of the one being
 * linked (every line, or only its hash when the caller parses each line
 * itself), while the next ones are read. Holds a chunk of
 * {@link CHUNK_BYTES} per worker and {@link CHUNKS_AHEAD} more; a chunk
 * grows to hold a line of up to {@link MAX_LINE_BYTES} when a line is longer
 * than that.
 */
class LedgerChunks {
  readonly #file: FileHandle
  readonly #path: string
  readonly #workers: LedgerLineWorkers | undefined
  readonly #work: Pick<LineWork, 'check' | 'rootsAt'>
  readonly #aheadLimit: number
  readonly #ahead: Promise<{ chunk: Chunk; buffer: Buffer } | undefined>[] = []
  readonly #free: Buffer[] = []
  /** The buffer of the chunk being checked: free once the next chunk is asked for. */
  #checking: Buffer | undefined
  /** Bytes after the last `\n` read: the start of the next chunk. A view into the last buffer read. */
  #carry: Buffer = Buffer.alloc(0)
  /** Reads run one after another: each starts by copying what the one before carried. */
  #reads: Promise<unknown> = Promise.resolve()
  /** Where the next read starts. */
  #position: number
  #done = false

  private constructor(file: FileHandle, path: string, workers: LedgerLineWorkers | undefined, work: Pick<LineWork, 'check' | 'rootsAt'>, offset: number) {
    this.#file = file
    this.#path = path
    this.#workers = workers
    this.#work = work
    this.#aheadLimit = CHUNKS_AHEAD + (workers?.size ?? 0)
    this.#position = offset
  }

  /**
   * Opens the file to read from `offset`, the start of a line. `work`: what
   * worker threads do with each chunk ({@link LineWork}): check every line,
   * when the caller needs no entries, or only hash them.
   *
   * @throws {StorageError} when the file cannot be opened.
   */
  static async open(path: string, offset: number, work: Pick<LineWork, 'check' | 'rootsAt'>): Promise<LedgerChunks> {
    let file: FileHandle
    try {
      file = await open(path, 'r')
    } catch (err) {
      throw readError(path, err)
    }
    let size: number
    try {
      ;({ size } = await file.stat())
    } catch (err) {
      await file.close()
      throw readError(path, err)
    }
    return new LedgerChunks(file, path, size - offset >= WORKER_MIN_BYTES ? LedgerLineWorkers.borrow() : undefined, work, offset)
  }

  /**
   * The next chunk, or `undefined` after the last. The chunk before it may
   * no longer be used.
   *
   * @throws {StorageError} when the file cannot be read.
   */
  async next(): Promise<Chunk | undefined> {
    // A buffer grown for a long line is let go: long lines are rare, and memory stays at four chunks.
    if (this.#checking?.length === CHUNK_BYTES) this.#free.push(this.#checking)
    while (this.#ahead.length <= this.#aheadLimit) {
      const ahead = this.#readAndHash()
      // A read that fails while an earlier chunk is checked is thrown when its chunk is asked for.
      ahead.catch(() => {})
      this.#ahead.push(ahead)
    }
    const next = await this.#ahead.shift()!
    this.#checking = next?.buffer
    return next?.chunk
  }

  /** Stops reading and hashing, and closes the file. */
  async close(): Promise<void> {
    this.#done = true
    this.#workers?.giveBack()
    await this.#reads.catch(() => {})
    await this.#file.close()
  }

  async #readAndHash(): Promise<{ chunk: Chunk; buffer: Buffer } | undefined> {
    const read = this.#reads.then(() => this.#read())
    this.#reads = read
    const next = await read
    if (next !== undefined && this.#workers !== undefined && next.chunk.lines.length > 0) {
      const answer = await this.#workers.check({ ...this.#work, shared: next.buffer.buffer as SharedArrayBuffer, length: next.chunk.lines.length })
      if (answer instanceof Int32Array) next.chunk.cuts = answer
      else next.chunk.summary = answer
    }
    return next
  }

  /** Reads until the buffer holds a `\n`, the file ends, or a line is too long. */
  async #read(): Promise<{ chunk: Chunk; buffer: Buffer } | undefined> {
    if (this.#done) return undefined
    const carried = this.#carry.length
    let buffer = this.#free.pop() ?? shared(CHUNK_BYTES)
    if (buffer.length <= carried) buffer = shared(Math.min(carried * 2, MAX_LINE_BYTES + 1))
    this.#carry.copy(buffer, 0)
    let filled = carried
    for (;;) {
      let bytesRead: number
      try {
        ;({ bytesRead } = await this.#file.read(buffer, filled, buffer.length - filled, this.#position))
      } catch (err) {
        throw readError(this.#path, err)
      }
      this.#position += bytesRead
      filled += bytesRead
      const last = buffer.subarray(0, filled).lastIndexOf(NEWLINE)
      if (last !== -1) {
        this.#carry = buffer.subarray(last + 1, filled)
        return { chunk: { lines: buffer.subarray(0, last + 1), cuts: undefined, summary: undefined, end: undefined }, buffer }
      }
      if (filled > MAX_LINE_BYTES) return this.#end(TOO_LONG, buffer)
      if (bytesRead === 0) return filled === 0 ? this.#end(undefined, buffer) : this.#end(TORN, buffer)
      if (filled === buffer.length) {
        const grown = shared(Math.min(buffer.length * 2, MAX_LINE_BYTES + 1))
        buffer.copy(grown, 0, 0, filled)
        buffer = grown
      }
    }
  }

  #end(end: typeof TOO_LONG | typeof TORN | undefined, buffer: Buffer): { chunk: Chunk; buffer: Buffer } | undefined {
    this.#done = true
    return end === undefined ? undefined : { chunk: { lines: buffer.subarray(0, 0), cuts: undefined, summary: undefined, end }, buffer }
  }
}

function shared(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size))
}

function readError(path: string, err: unknown): StorageError {
  const code = (err as NodeJS.ErrnoException).code
  return new StorageError(`cannot read the ledger ${path}${code === undefined ? '' : ` (${code})`}`, { cause: err })
}
