import { createPublicKey, type KeyObject } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { LedgerTamperedError, StorageError } from '../errors.js'
import { parseCheckpointNote } from './checkpoint-note.js'
import { checkCheckpoint, type CheckpointTree, type CheckpointVerifier } from './ledger-checkpoint.js'
import {
  GENESIS_HASH,
  MAX_CHECKPOINT_LINE_BYTES,
  MAX_LINE_BYTES,
  checkLedgerLine,
  mayBeCheckpoint,
  type LedgerCheckpointEntry,
  type LedgerNoteCheckpointEntry,
} from './ledger-entry.js'
import { MerkleRange, ledgerLeafHash } from './merkle-tree.js'
import { checkChain, type ChainStart } from './verify-ledger.js'

/**
 * Where a writer continues a ledger: the last entry's `seq` and `hash`
 * (0 and the genesis hash for an empty file). Internal to src/audit.
 *
 * @example
 * ```ts
 * const tail: LedgerTail = await readTail(fd, path)   // { seq: 41, hash: 'f3…' }
 * ```
 */
export interface LedgerTail {
  readonly seq: number
  readonly hash: string
}

/**
 * {@link LedgerTail} for a writer with a signing key: also the last entry
 * a checkpoint of that key covers (`signedThrough`, 0 when none does), and
 * the intact entries after it (`unsigned`), which that writer must not sign
 * over unasked. Internal to src/audit.
 *
 * @example
 * ```ts
 * const tail: SignedLedgerTail = await readSignedTail(fd, path, signer)
 * if (tail.unsigned) console.log(`entries ${tail.unsigned.from}–${tail.unsigned.to} are not signed by this key`)
 * ```
 */
export interface SignedLedgerTail extends LedgerTail {
  readonly signedThrough: number
  readonly unsigned: { readonly from: number; readonly to: number } | undefined
  /** The Merkle tree of every entry, and the origin; undefined for an empty file. */
  readonly tree: CheckpointTree | undefined
}

/** Bytes read at a time from the end of the file. */
const TAIL_CHUNK_BYTES = 64 * 1024
const NEWLINE = 0x0a

/**
 * The tail a writer without a signing key continues from. Only the last line
 * is read: such a writer signs nothing, so it vouches for nothing before it.
 * When the last line is torn or not intact, the whole file is checked to
 * name the first bad seq. Internal to src/audit.
 *
 * @throws {LedgerTamperedError} when the last line is torn or not intact.
 * @throws {StorageError} when the file cannot be read.
 *
 * @example
 * ```ts
 * const { seq, hash } = await readTail(fd, path)
 * ```
 */
export async function readTail(fd: FileHandle, path: string): Promise<LedgerTail> {
  const { size } = await fd.stat()
  if (size === 0) return { seq: 0, hash: GENESIS_HASH }
  const lines = linesFromEnd(fd, size, MAX_LINE_BYTES)
  let last: LineSpan | undefined
  try {
    last = (await lines.next()).value
  } finally {
    await lines.return(undefined)
  }
  if (last?.bytes !== undefined && last.end !== size) {
    const entry = checkLedgerLine(last.bytes)
    if (typeof entry !== 'string') return { seq: entry.seq, hash: entry.hash }
  }
  // Torn or not intact: the whole file is read to name the first bad seq.
  throw await firstBreak(path, (entries) => entries + 1, 'the last line is not an intact entry')
}

/**
 * The tail a writer with a signing key continues from, checked so that its
 * next checkpoint vouches only for what it may vouch for.
 *
 * A checkpoint signs the hash of the entry before it, and that hash commits
 * to the whole chain before: so everything up to the last checkpoint *this
 * key* signed is already vouched for, whatever the file says now, and
 * signing on top of it adds nothing false. What follows that checkpoint is
 * vouched for by nobody yet: a writer that crashed left it, or someone who
 * could write the file but not sign edited history, re-chained it and
 * dropped the checkpoints after the edit. So this finds that checkpoint by
 * reading backwards from the end (skipping, unparsed, every line that
 * cannot be a checkpoint), checks that it follows the line before it, and checks
 * the chain after it with the same pass `verifyLedger` makes. A file that
 * ends with this key's checkpoint costs its last two lines; one this key
 * never signed is read backwards to its start, then forwards. Memory stays
 * at one chunk of {@link TAIL_CHUNK_BYTES} plus a line.
 *
 * A checkpoint another key signed covers nothing here: it is one more
 * unsigned entry. One that names this key but does not verify with it is
 * tampering.
 *
 * Internal to src/audit: `Ledger.open` decides what to do with `unsigned`.
 *
 * @throws {LedgerTamperedError} when the chain after that checkpoint, or its
 *   link to the line before it, is broken; `seq` names the first bad entry.
 * @throws {StorageError} when the file cannot be read.
 *
 * @example
 * ```ts
 * const tail = await readSignedTail(fd, path, await toSigningKey(privateJwk))
 * ```
 */
export async function readSignedTail(fd: FileHandle, path: string, signer: { readonly key: KeyObject; readonly kid: string }): Promise<SignedLedgerTail> {
  const { size } = await fd.stat()
  if (size === 0) return { seq: 0, hash: GENESIS_HASH, signedThrough: 0, unsigned: undefined, tree: undefined }
  const verifier: CheckpointVerifier = { key: createPublicKey(signer.key), kid: signer.kid, otherKeys: 'unsigned' }

  let anchor: { entry: LedgerCheckpointEntry; end: number } | undefined
  const lines = linesFromEnd(fd, size, MAX_CHECKPOINT_LINE_BYTES)
  try {
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const span = next.value
      // A last line without its newline is torn: never an anchor; the pass below names it.
      if (span.bytes === undefined || span.end === size || !mayBeCheckpoint(span.bytes)) continue
      const entry = checkLedgerLine(span.bytes)
      if (typeof entry === 'string' || entry.kind !== 'checkpoint') continue
      const checked = await checkCheckpoint(entry, verifier, undefined)
      if (typeof checked === 'string' || !checked.verified) continue
      if (!(await followsLineBefore(fd, entry, span.start, lines))) {
        throw await firstBreak(path, () => entry.seq, 'the checkpoint does not follow the line before it')
      }
      anchor = { entry, end: span.end }
      break
    }
  } finally {
    await lines.return(undefined)
  }

  // A v2 anchor carries its tree; after a v1 anchor (or none) the tree is built from the file's start, once.
  const tree = anchor?.entry.v === 2 ? treeAfter(anchor.entry) : undefined
  const start: ChainStart =
    anchor === undefined || tree === undefined
      ? { offset: 0, seq: 1, head: GENESIS_HASH }
      : { offset: anchor.end + 1, seq: anchor.entry.seq + 1, head: anchor.entry.hash, tree, version: 2 }
  const anchored = anchor?.entry.seq ?? 0
  if (start.offset === size) return { seq: start.seq - 1, hash: start.head, signedThrough: start.seq - 1, unsigned: undefined, tree }
  const chain = await checkChain(path, { start, verifier })
  if (!chain.ok) {
    throw new LedgerTamperedError(chain.firstBadSeq, `${chain.reason} (a broken chain cannot be adopted: nothing is signed over it)`)
  }
  const signedThrough = Math.max(anchored, chain.lastCheckpoint?.verified === true ? chain.lastCheckpoint.seq : 0)
  const unsigned = chain.entries > signedThrough ? { from: signedThrough + 1, to: chain.entries } : undefined
  return { seq: chain.entries, hash: chain.head, signedThrough, unsigned, tree: chain.tree }
}

/**
 * The tree of a v2 checkpoint's entries and the checkpoint itself, from its
 * `range`, when that range hashes to the root the note signs; else undefined
 * (the tree is then built from the file).
 */
function treeAfter(entry: LedgerNoteCheckpointEntry): CheckpointTree | undefined {
  const note = parseCheckpointNote(entry.note)
  if (typeof note === 'string') return undefined
  let range: MerkleRange
  try {
    range = new MerkleRange(note.size, entry.range.map((hex) => Buffer.from(hex, 'hex')))
  } catch {
    return undefined
  }
  if (!range.root().equals(note.root)) return undefined
  range.push(ledgerLeafHash(entry.hash))
  return { range, origin: note.origin }
}

/**
 * Whether a checkpoint found at `start` is linked to the line before it (the
 * next one `lines` yields): a signed checkpoint copied to the end of a file,
 * or left behind an edited and re-chained history, is not.
 */
async function followsLineBefore(fd: FileHandle, entry: LedgerCheckpointEntry, start: number, lines: AsyncGenerator<LineSpan>): Promise<boolean> {
  if (start === 0) return entry.seq === 1 && entry.prev === GENESIS_HASH
  const before = await lines.next()
  if (before.done === true) return false
  const span = before.value
  if (span.end - span.start > MAX_LINE_BYTES) return false
  const bytes = span.bytes ?? (await readSpan(fd, span))
  const prior = checkLedgerLine(bytes)
  return typeof prior !== 'string' && prior.seq === entry.seq - 1 && prior.hash === entry.prev
}

/**
 * The error naming the first bad seq of the whole file, found by checking
 * it from the start; the `fallback` seq and reason when the chain holds.
 */
async function firstBreak(path: string, fallbackSeq: (entries: number) => number, fallback: string): Promise<LedgerTamperedError> {
  const chain = await checkChain(path, {})
  return chain.ok ? new LedgerTamperedError(fallbackSeq(chain.entries), fallback) : new LedgerTamperedError(chain.firstBadSeq, chain.reason)
}

/** A line found reading backwards. */
interface LineSpan {
  /** The offset of its first byte. */
  readonly start: number
  /** The offset of its `\n`; the file's size for a last line without one. */
  readonly end: number
  /** Its bytes without the `\n`, when it is at most the `maxHeld` asked for. */
  readonly bytes: Buffer | undefined
}

/**
 * The file's lines from the last to the first, read backwards in chunks of
 * {@link TAIL_CHUNK_BYTES}. Lines longer than `maxHeld` come without their
 * bytes, so memory stays at a chunk and `maxHeld`, however long a line is.
 * Each chunk is a fresh buffer, so a line's bytes stay valid after the
 * generator moves on.
 */
async function* linesFromEnd(fd: FileHandle, size: number, maxHeld: number): AsyncGenerator<LineSpan, undefined> {
  if (size === 0) return undefined
  let position = size
  let lineEnd = size
  // The current line's bytes in the chunks already passed, in file order; dropped once past maxHeld.
  let held: Buffer[] = []
  let heldBytes = 0
  let tooLong = false
  const bytesOf = (piece: Buffer): Buffer | undefined => {
    if (tooLong || piece.length + heldBytes > maxHeld) return undefined
    return heldBytes === 0 ? piece : Buffer.concat([piece, ...held])
  }
  while (position > 0) {
    const length = Math.min(TAIL_CHUNK_BYTES, position)
    position -= length
    const chunk = Buffer.alloc(length)
    await readFully(fd, chunk, position)
    let searchEnd = length
    if (position + length === size && chunk[length - 1] === NEWLINE) {
      lineEnd = size - 1
      searchEnd = length - 1
    }
    for (;;) {
      const newline = searchEnd === 0 ? -1 : chunk.lastIndexOf(NEWLINE, searchEnd - 1)
      const piece = chunk.subarray(newline + 1, searchEnd)
      if (newline === -1) {
        if (!tooLong && heldBytes + piece.length <= maxHeld) {
          held.unshift(piece)
          heldBytes += piece.length
        } else {
          tooLong = true
          held = []
        }
        break
      }
      yield { start: position + newline + 1, end: lineEnd, bytes: bytesOf(piece) }
      lineEnd = position + newline
      searchEnd = newline
      held = []
      heldBytes = 0
      tooLong = false
    }
  }
  // The first line of the file: everything before the last newline found.
  const first = Buffer.concat(held)
  yield { start: 0, end: lineEnd, bytes: tooLong ? undefined : first }
  return undefined
}

async function readSpan(fd: FileHandle, span: LineSpan): Promise<Buffer> {
  const bytes = Buffer.alloc(span.end - span.start)
  await readFully(fd, bytes, span.start)
  return bytes
}

async function readFully(fd: FileHandle, into: Buffer, position: number): Promise<void> {
  let offset = 0
  while (offset < into.length) {
    const { bytesRead } = await fd.read(into, offset, into.length - offset, position + offset)
    if (bytesRead === 0) throw new StorageError('the ledger file shrank while its tail was read')
    offset += bytesRead
  }
}

/** The most a crash can leave half-written, here: more than this at the end is damage to report, not a torn write to drop. */
const MAX_TORN_BYTES = 64 * 1024 * 1024

/**
 * Drops what a crash left half-written at the end of the file: a last line
 * with no newline, and any lines before it that are not intact entries (a
 * filesystem may persist a group commit's later blocks before its earlier
 * ones). Returns how many bytes were dropped (0 for a clean file).
 *
 * It is safe because the writer hands nothing to a transport before its
 * entry is synced, and a synced group is whole: whatever a crash tore was
 * never sent. It drops only a trailing run of torn or broken lines, and at
 * most {@link MAX_TORN_BYTES}; damage with an intact entry after it, or
 * more than that, is left for `open` to report with the first bad seq.
 * Internal to src/audit.
 *
 * @throws {StorageError} when the file cannot be read or truncated.
 * @example
 * ```ts
 * const dropped = await repairTornTail(fd)   // then open continues from the last intact entry
 * ```
 */
export async function repairTornTail(fd: FileHandle): Promise<number> {
  const { size } = await fd.stat()
  if (size === 0) return 0
  let cut = size
  const lines = linesFromEnd(fd, size, MAX_LINE_BYTES)
  try {
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const span = next.value
      const intact = span.end !== size && span.bytes !== undefined && typeof checkLedgerLine(span.bytes) !== 'string'
      if (intact) break
      cut = span.start
      if (size - cut > MAX_TORN_BYTES) return 0
    }
  } finally {
    await lines.return(undefined)
  }
  if (cut === size) return 0
  await fd.truncate(cut)
  await fd.datasync()
  return size - cut
}
