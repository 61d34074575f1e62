import { createReadStream } from 'node:fs'
import type { KeyObject } from 'node:crypto'
import { compactVerify, decodeProtectedHeader } from 'jose'
import { z } from 'zod'
import { StorageError } from '../errors.js'
import {
  GENESIS_HASH,
  LEDGER_FORMAT_VERSION,
  CHECKPOINT_TYP,
  MAX_LINE_BYTES,
  parseLedgerLine,
  type LedgerCheckpointEntry,
  type LedgerEntry,
} from './ledger-entry.js'
import { ledgerKeyId, toVerifyKey, type LedgerKeyInput } from './ledger-signing-key.js'

/** Options of {@link verifyLedger}. */
export interface VerifyLedgerOptions {
  /**
   * The Ed25519 public key that signed the checkpoints. With it, every
   * checkpoint's signature is checked and the ledger must end with the
   * closing checkpoint; without it, truncation of whole trailing lines cannot
   * be detected.
   */
  publicKey?: LedgerKeyInput
  /** Called with the number of entries checked so far, every {@link PROGRESS_EVERY} entries. */
  onProgress?: (entriesSoFar: number) => void
  /**
   * Called with each entry once it has been checked, in order. Entries before
   * the first bad one are all passed; the result says whether the rest held.
   */
  onEntry?: (entry: LedgerEntry) => void
}

/** What {@link verifyLedger} found. */
export type VerifyLedgerResult =
  | {
      ok: true
      /** Number of entries (lines), checkpoints included; also the last seq. */
      entries: number
      /** The last entry's hash: {@link GENESIS_HASH} for an empty ledger. */
      head: string
      /** Number of checkpoint entries. */
      checkpoints: number
      /** Whether checkpoint signatures were checked (a public key was given). */
      signaturesChecked: boolean
    }
  | {
      ok: false
      /** The seq the first failing line should have had; also its line number. */
      firstBadSeq: number
      /** What is wrong, for a person. */
      reason: string
      /** Number of intact entries before it: `firstBadSeq - 1`. */
      entries: number
    }

/** How often, in entries, {@link VerifyLedgerOptions.onProgress} is called. */
export const PROGRESS_EVERY = 100_000

const checkpointPayloadSchema = z.strictObject({
  v: z.literal(LEDGER_FORMAT_VERSION),
  seq: z.number().int().min(0),
  head: z.string(),
  final: z.boolean(),
})
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Verifies a ledger file, streaming it line by line in constant memory, and
 * names the first bad entry. It returns a result rather than throwing, so the
 * CLI can print it; to throw instead,
 * `throw new LedgerTamperedError(result.firstBadSeq, result.reason)`.
 *
 * Each line must be intact on its own ({@link parseLedgerLine}: UTF-8, JSON,
 * schema, hash, canonical form), end in `\n`, have `seq` one more than the
 * line before (1 for the first), and have `prev` equal to the previous line's
 * `hash` ({@link GENESIS_HASH} for the first). A checkpoint's JWS payload must
 * name the entry before it. This finds any edit, deletion, insertion,
 * reordering, or a torn last line.
 *
 * What a hash chain cannot prove on its own: that nothing was cut from the
 * end, or that the whole file was not rewritten with fresh hashes. Signed
 * checkpoints close both gaps. With `publicKey`, each checkpoint signature
 * must verify with it, and the last entry must be the closing checkpoint
 * `close()` signs; a ledger without one (never signed, cut short, or still
 * open or crashed) fails, with the number of entries after the last
 * checkpoint in the reason. Verify without a key to check the chain of a
 * ledger that is still being written.
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
 * if (!result.ok) console.error(`entry ${result.firstBadSeq}: ${result.reason}`)
 * ```
 */
export async function verifyLedger(path: string, options: VerifyLedgerOptions = {}): Promise<VerifyLedgerResult> {
  const publicKey = options.publicKey === undefined ? undefined : toVerifyKey(options.publicKey)
  const kid = publicKey === undefined ? undefined : await ledgerKeyId(publicKey)
  let expected = 1
  let head = GENESIS_HASH
  let checkpoints = 0
  let lastCheckpoint: { seq: number; final: boolean } | undefined
  const fail = (reason: string): VerifyLedgerResult => ({ ok: false, firstBadSeq: expected, reason, entries: expected - 1 })

  for await (const line of readLines(path)) {
    if (line === TOO_LONG) return fail(`the line is longer than ${MAX_LINE_BYTES} bytes`)
    if (!line.terminated) return fail('the last line has no newline: it is torn (a crash mid-write) or was cut')
    const parsed = parseLedgerLine(line.bytes)
    if (!parsed.ok) return fail(parsed.reason)
    const entry = parsed.entry
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
    if (entry.kind === 'checkpoint') {
      const checked = await checkCheckpoint(entry, publicKey, kid)
      if (typeof checked === 'string') return fail(checked)
      checkpoints++
      lastCheckpoint = { seq: entry.seq, final: checked.final }
    }
    head = entry.hash
    options.onEntry?.(entry)
    if (expected % PROGRESS_EVERY === 0) options.onProgress?.(expected)
    expected++
  }

  const entries = expected - 1
  if (publicKey !== undefined) {
    if (lastCheckpoint === undefined) {
      return fail(`none of the ${entries} entries is a signed checkpoint: the ledger was written without a signing key, or its checkpoints were cut off`)
    }
    if (lastCheckpoint.seq !== entries) {
      return fail(
        `${entries - lastCheckpoint.seq} entries after the last checkpoint (seq ${lastCheckpoint.seq}) are not covered by a signature, and a closed ledger ends with a closing checkpoint: entries after seq ${entries} may have been cut off (or the ledger is still open, or its writer crashed)`,
      )
    }
    if (!lastCheckpoint.final) {
      return fail(`the last entry is a periodic checkpoint, not the closing one: entries after seq ${entries} may have been cut off (or the writer crashed)`)
    }
  }
  return { ok: true, entries, head, checkpoints, signaturesChecked: publicKey !== undefined }
}

type CheckpointPayload = z.infer<typeof checkpointPayloadSchema>

/** The checkpoint's payload when it holds, else what is wrong with it. */
async function checkCheckpoint(
  entry: LedgerCheckpointEntry,
  publicKey: KeyObject | undefined,
  kid: string | undefined,
): Promise<CheckpointPayload | string> {
  const payload = decodeCheckpoint(entry)
  if (payload === undefined) return 'the checkpoint JWS is malformed'
  if (payload.seq !== entry.seq - 1 || payload.head !== entry.prev) {
    return 'the checkpoint signs another position in the chain: it was moved or copied'
  }
  if (publicKey === undefined) return payload
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(entry.jws)
  } catch {
    return 'the checkpoint JWS header is malformed'
  }
  if (header.alg !== 'EdDSA' || header.typ !== CHECKPOINT_TYP) {
    return 'the checkpoint JWS is not an airlock EdDSA checkpoint'
  }
  try {
    await compactVerify(entry.jws, publicKey, { algorithms: ['EdDSA'] })
  } catch {
    return header.kid !== undefined && header.kid !== kid
      ? `the checkpoint was signed by key ${header.kid}, not by the given public key ${kid}`
      : 'the checkpoint signature does not verify with the given public key'
  }
  return payload
}

/** The checkpoint's payload, read without checking the signature. */
function decodeCheckpoint(entry: LedgerCheckpointEntry): CheckpointPayload | undefined {
  try {
    const encoded = entry.jws.split('.')[1]!
    const parsed = checkpointPayloadSchema.safeParse(JSON.parse(utf8.decode(Buffer.from(encoded, 'base64url'))))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

const TOO_LONG = Symbol('line too long')

/**
 * The file's lines as bytes, split on `\n` only (so a stray `\r` stays in the
 * line and fails it), each flagged with whether its newline was there.
 * Holds one chunk plus one line at a time.
 *
 * @throws {StorageError} when the file cannot be read.
 */
async function* readLines(path: string): AsyncGenerator<{ bytes: Buffer; terminated: boolean } | typeof TOO_LONG> {
  let carry: Buffer[] = []
  let carried = 0
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      let start = 0
      let newline: number
      while ((newline = chunk.indexOf(0x0a, start)) !== -1) {
        const piece = chunk.subarray(start, newline)
        if (carried + piece.length > MAX_LINE_BYTES) {
          yield TOO_LONG
          return
        }
        yield { bytes: carried === 0 ? piece : Buffer.concat([...carry, piece]), terminated: true }
        carry = []
        carried = 0
        start = newline + 1
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start)
        carried += rest.length
        if (carried > MAX_LINE_BYTES) {
          yield TOO_LONG
          return
        }
        carry.push(rest)
      }
    }
  } catch (err) {
    // Only the stream's own errors land here: a consumer that stops early
    // ends this generator through return(), not throw().
    const code = (err as NodeJS.ErrnoException).code
    throw new StorageError(`cannot read the ledger ${path}${code === undefined ? '' : ` (${code})`}`, { cause: err })
  }
  if (carried > 0) yield { bytes: Buffer.concat(carry), terminated: false }
}
