import { open } from 'node:fs/promises'
import { LedgerTamperedError, StorageError } from '../errors.js'
import { MAX_LINE_BYTES, checkLedgerLine, type LedgerEntry } from './ledger-entry.js'

/**
 * Where reading a ledger picks up: the byte offset of a line, the `seq` the
 * entry there must have, and the `hash` its `prev` must be.
 *
 * @example
 * ```ts
 * const from: LedgerReadStart = { offset: 18_233, seq: 42, prev: 'a3f0…' }
 * ```
 */
export interface LedgerReadStart {
  readonly offset: number
  readonly seq: number
  readonly prev: string
}

/**
 * One entry read back, with the byte offset just past its line.
 *
 * @example
 * ```ts
 * for await (const { entry, end } of readLedgerFrom(path, from, size)) console.log(entry.seq, end)
 * ```
 */
export interface ReadEntry {
  readonly entry: LedgerEntry
  readonly end: number
}

const CHUNK_BYTES = 256 * 1024
const NEWLINE = 0x0a

/**
 * Reads a ledger's entries from `start` up to byte `end` (the durable end
 * the writer reported), checking each as `verifyLedger` does (its hash, its
 * schema) and that each follows the one before it (`seq` and `prev`): the
 * outbox resumes delivery from here, and must never send what the chain
 * does not vouch for. Memory stays at a chunk and a line.
 *
 * @throws {LedgerTamperedError} naming the first entry that is not intact or does not follow.
 * @throws {StorageError} when the file cannot be read, or ends before `end`.
 * @example
 * ```ts
 * for await (const { entry } of readLedgerFrom('audit/ledger.ndjson', { offset: 0, seq: 1, prev: GENESIS_HASH }, size)) {
 *   if (entry.kind === 'event') resend(entry.event)
 * }
 * ```
 */
export async function* readLedgerFrom(path: string, start: LedgerReadStart, end: number): AsyncGenerator<ReadEntry, void> {
  if (end <= start.offset) return
  let handle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    throw new StorageError(`cannot read the ledger ${path}`, { cause: err })
  }
  try {
    let position = start.offset
    let seq = start.seq
    let prev = start.prev
    let carry: Buffer = Buffer.alloc(0)
    while (position < end) {
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, end - position))
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position)
      if (bytesRead === 0) throw new StorageError(`the ledger ${path} ends before byte ${end}`)
      const data = carry.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([carry, chunk.subarray(0, bytesRead)])
      const lineStart = position - carry.length
      position += bytesRead
      let from = 0
      for (let newline = data.indexOf(NEWLINE); newline !== -1; newline = data.indexOf(NEWLINE, from)) {
        const checked = checkLedgerLine(data.subarray(from, newline))
        if (typeof checked === 'string') throw new LedgerTamperedError(seq, checked)
        if (checked.seq !== seq || checked.prev !== prev) throw new LedgerTamperedError(seq, 'the entry does not follow the one before it')
        yield { entry: checked, end: lineStart + newline + 1 }
        seq++
        prev = checked.hash
        from = newline + 1
      }
      carry = Buffer.from(data.subarray(from))
      if (carry.length > MAX_LINE_BYTES) throw new LedgerTamperedError(seq, `the line is longer than ${MAX_LINE_BYTES} bytes`)
    }
    if (carry.length > 0) throw new LedgerTamperedError(seq, 'the last line read has no newline')
  } finally {
    await handle.close()
  }
}
