import { createHash } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { AirlockError, ClosedError, DeliveryError, EventInvalidError, InvalidArgumentError } from '../errors.js'
import type { OutboundEvent } from './events.js'
import { outboundEventSchema } from './events.js'
import { syncDirectorySync } from '../internal/durable-file.js'

/** The next batch to deliver: event ids and their wire JSON, index for index. */
export interface SpillBatch {
  /** The ids of the batch's events, in order. Frozen: safe to hand to listeners. */
  readonly ids: readonly string[]
  /** Each event's JSON, exactly as it goes on the wire. */
  readonly lines: readonly string[]
}

interface HeldBatch extends SpillBatch {
  /** The segment the batch came from, or the segment number reserved for it when it came from memory. */
  readonly seq: number
  readonly fromMemory: boolean
}

interface LoadedSegment {
  readonly seq: number
  readonly ids: string[]
  readonly lines: string[]
  /** How many of its events were acknowledged. */
  offset: number
}

const SEGMENT_NAME = /^(\d{16})\.ndjson$/
const CURSOR_FILE = 'cursor.json'
const DESTINATION_FILE = 'destination.json'
const LOCK_FILE = 'lock'

/**
 * A FIFO of outbound events that holds at most `maxQueue` of them in memory
 * and spills the rest to disk, for a transport that cannot deliver right now
 * (DESIGN.md, invariant 5: a control plane that is down delays events, it does
 * not lose them).
 *
 * Order is strict across memory and disk: segments on disk are always older
 * than the events in memory, and a batch taken from memory reserves a segment
 * number when it is formed, so if it is still undelivered at `close()` it is
 * written ahead of every segment spilled after it. One batch is out at a time.
 *
 * On-disk format, version 1 (the directory is created with mode 0700, every
 * file with mode 0600):
 * - `0000000000000001.ndjson`, ...: segments, one event's wire JSON per line,
 *   delivered in numeric order. A segment is written to `<name>.tmp`, fsynced,
 *   renamed into place and the directory fsynced, so it is whole or absent;
 *   leftover `.tmp` files are deleted on open.
 * - `cursor.json`: `{"v":1,"segment":N,"acked":K}`, the first K events of the
 *   oldest segment N were acknowledged. It applies only while N is the oldest
 *   segment. A segment is deleted once all its events are acknowledged.
 * - `destination.json`: `{"v":1,"sha256":HEX}`, the SHA-256 of the
 *   destination the events were queued for. Opening a directory that holds
 *   undelivered events for another destination fails, so a backlog queued for
 *   one control plane is never sent to another.
 * - `lock`: the pid of the process that has the directory open.
 *
 * Guarantees: events accepted by {@link SpillQueue.push} stay in memory until
 * they spill or {@link SpillQueue.close} writes them out; a process that
 * crashes without `close()` loses what was only in memory (at most
 * `maxQueue` events plus the batch in flight), never what was spilled. An
 * acknowledgement that was not yet recorded when the process stopped makes
 * the next process deliver that batch again (at least once); it forms the
 * same batch from the same segment, so its idempotency key is the same.
 *
 * Disk is touched with synchronous calls: each spill, acknowledgement and
 * recovery step is then atomic with respect to the event loop, and it only
 * happens while the control plane is behind.
 *
 * @example
 * ```ts
 * const queue = new SpillQueue({ dir: '.airlock/spill', maxQueue: 10_000, destination: 'https://cp.example.com/v1/events' })
 * queue.push(events)
 * const batch = queue.next(100)   // the same batch until it is acknowledged
 * if (batch) { await deliver(batch.lines); queue.ack() }
 * queue.close()                   // what is left is on disk for the next process
 * ```
 */
export class SpillQueue {
  /** The absolute path of the spill directory. */
  readonly dir: string
  readonly #maxQueue: number
  #memoryIds: string[] = []
  #memoryLines: string[] = []
  /** Segment numbers on disk, oldest first. */
  readonly #segments: number[] = []
  #head: LoadedSegment | undefined
  #batch: HeldBatch | undefined
  #nextSeq = 1
  #size = 0
  #closed = false

  /**
   * Opens (or creates) the spill directory, takes its lock and recovers what
   * a previous process left in it.
   *
   * @throws {InvalidArgumentError} on bad options, when another live process
   *   holds the directory, or when its backlog was queued for another destination.
   * @throws {EventInvalidError} when a segment holds a line that is not a valid
   *   outbound event: it is not sent, and not silently skipped either.
   */
  constructor(options: { dir: string; maxQueue: number; destination: string }) {
    if (typeof options?.dir !== 'string' || options.dir === '') {
      throw new InvalidArgumentError('SpillQueue needs { dir }, the directory to spill events to')
    }
    if (!Number.isSafeInteger(options.maxQueue) || options.maxQueue < 1) {
      throw new InvalidArgumentError(`SpillQueue needs { maxQueue } as a positive integer; found ${String(options.maxQueue)}`)
    }
    if (typeof options.destination !== 'string' || options.destination === '') {
      throw new InvalidArgumentError('SpillQueue needs { destination }, a string naming where its events go')
    }
    this.dir = resolve(options.dir)
    this.#maxQueue = options.maxQueue
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      this.#lock()
    } catch (err) {
      throw unusable(this.dir, err)
    }
    try {
      this.#recover(createHash('sha256').update(options.destination).digest('hex'))
    } catch (err) {
      this.#unlock()
      throw unusable(this.dir, err)
    }
  }

  /** Events held and not yet acknowledged: in memory, on disk, and the batch out. */
  get size(): number {
    return this.#size
  }

  /**
   * Appends events in order. When more than `maxQueue` are in memory, all of
   * them spill to a new segment before this returns. All or nothing: if an
   * event cannot be serialized or the spill fails, none of `events` is held.
   *
   * @throws {EventInvalidError} when an event has no string id or is not JSON-serializable.
   * @throws {DeliveryError} when the spill to disk fails (e.g. `ENOSPC`).
   */
  push(events: readonly OutboundEvent[]): void {
    if (this.#closed) throw new ClosedError('SpillQueue is closed')
    if (!Array.isArray(events)) throw new InvalidArgumentError(`send() needs an array of outbound events; found ${typeof events}`)
    const ids = this.#memoryIds
    const lines = this.#memoryLines
    const before = ids.length
    try {
      for (let i = 0; i < events.length; i++) {
        const event = events[i] as OutboundEvent | undefined
        const id: unknown = event?.id
        if (typeof id !== 'string' || id === '') {
          throw new EventInvalidError(`outbound event ${i} of the batch needs a string id; found ${typeof id}`)
        }
        lines.push(serialize(event, i))
        ids.push(id)
      }
      if (ids.length > this.#maxQueue) this.#spill()
    } catch (err) {
      ids.length = before
      lines.length = before
      throw err
    }
    this.#size += events.length
  }

  /**
   * The batch to deliver next, up to `max` events, oldest first; `undefined`
   * when nothing is held. It returns the same batch until {@link SpillQueue.ack}.
   *
   * @throws {DeliveryError} when a segment cannot be read.
   */
  next(max: number): SpillBatch | undefined {
    if (this.#closed) return undefined
    if (this.#batch !== undefined) return this.#batch
    if (this.#segments.length > 0) {
      const head = this.#head ?? this.#loadHead()
      const end = Math.min(head.offset + max, head.lines.length)
      this.#batch = {
        ids: Object.freeze(head.ids.slice(head.offset, end)),
        lines: head.lines.slice(head.offset, end),
        seq: head.seq,
        fromMemory: false,
      }
    } else if (this.#memoryIds.length > 0) {
      const count = Math.min(max, this.#memoryIds.length)
      this.#batch = {
        ids: Object.freeze(this.#memoryIds.splice(0, count)),
        lines: this.#memoryLines.splice(0, count),
        seq: this.#nextSeq++,
        fromMemory: true,
      }
    }
    return this.#batch
  }

  /**
   * Settles the batch returned by {@link SpillQueue.next}: delivered, or
   * rejected for good. Its events are forgotten, on disk too.
   *
   * @throws {DeliveryError} when the acknowledgement cannot be recorded on disk.
   */
  ack(): void {
    const batch = this.#batch
    if (batch === undefined) throw new InvalidArgumentError('SpillQueue.ack() needs a batch from next() first')
    this.#batch = undefined
    this.#size -= batch.ids.length
    if (batch.fromMemory) return
    const head = this.#head as LoadedSegment
    head.offset += batch.ids.length
    try {
      if (head.offset < head.lines.length) {
        // No directory fsync: if the rename is lost in a crash, the old cursor
        // makes the next process resend this batch, with the same key.
        writeFileAtomically(this.#path(CURSOR_FILE), JSON.stringify({ v: 1, segment: head.seq, acked: head.offset }), false)
        return
      }
      this.#head = undefined
      this.#segments.shift()
      // Segment first: a cursor left behind names a segment that is gone and
      // is ignored, and the next open numbers new segments past it.
      unlinkSync(this.#segmentPath(head.seq))
      removeIfPresent(this.#path(CURSOR_FILE))
    } catch (err) {
      throw diskError('record a delivery in', this.dir, err)
    }
  }

  /**
   * Writes what is still held to disk (the batch out first, under the segment
   * number reserved for it, then memory) and releases the directory. The next
   * `SpillQueue` on the same directory delivers it, in order. Idempotent.
   *
   * @throws {DeliveryError} when the events cannot be written; the lock is released anyway.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    try {
      if (this.#batch?.fromMemory === true) this.#writeSegment(this.#batch.seq, this.#batch.lines)
      if (this.#memoryLines.length > 0) this.#writeSegment(this.#nextSeq++, this.#memoryLines)
      this.#memoryIds = []
      this.#memoryLines = []
    } catch (err) {
      throw diskError('write undelivered events to', this.dir, err)
    } finally {
      this.#unlock()
    }
  }

  #spill(): void {
    try {
      this.#writeSegment(this.#nextSeq, this.#memoryLines)
    } catch (err) {
      throw diskError(`spill ${this.#memoryLines.length} events to`, this.dir, err)
    }
    this.#segments.push(this.#nextSeq++)
    this.#memoryIds = []
    this.#memoryLines = []
  }

  #loadHead(): LoadedSegment {
    const seq = this.#segments[0] as number
    let lines: string[]
    try {
      lines = readLines(this.#segmentPath(seq))
    } catch (err) {
      throw diskError('read a segment from', this.dir, err)
    }
    // Recovered segments were validated on open; the rest were written by this process.
    this.#head = { seq, ids: lines.map(idOf), lines, offset: 0 }
    return this.#head
  }

  #recover(destination: string): void {
    const names = readdirSync(this.dir)
    for (const name of names) {
      // A .tmp file is a write that never completed. For a segment, its events
      // were still in that process's memory, and were lost with it.
      if (name.endsWith('.tmp')) unlinkSync(this.#path(name))
    }
    const seqs = names
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((digits): digits is string => digits !== undefined)
      .map(Number)
      .sort((a, b) => a - b)
    this.#checkDestination(destination, seqs.length > 0)
    const cursor = this.#readCursor()
    this.#nextSeq = Math.max(0, cursor?.segment ?? 0, ...seqs) + 1
    for (const seq of seqs) {
      const path = this.#segmentPath(seq)
      const lines = readLines(path)
      for (let i = 0; i < lines.length; i++) validateLine(lines[i] as string, path, i + 1)
      const isHead = this.#segments.length === 0
      const acked = isHead && cursor?.segment === seq ? Math.min(cursor.acked, lines.length) : 0
      if (acked === lines.length) {
        unlinkSync(path)
        continue
      }
      if (isHead) this.#head = { seq, ids: lines.map(idOf), lines, offset: acked }
      this.#segments.push(seq)
      this.#size += lines.length - acked
    }
  }

  #checkDestination(destination: string, hasBacklog: boolean): void {
    const path = this.#path(DESTINATION_FILE)
    let recorded: unknown
    try {
      recorded = (JSON.parse(readFileSync(path, 'utf8')) as { sha256?: unknown }).sha256
    } catch {
      recorded = undefined
    }
    if (recorded === destination) return
    if (hasBacklog) {
      throw new InvalidArgumentError(
        `spill directory ${this.dir} holds undelivered events queued for another destination${
          recorded === undefined ? ' (its destination.json is missing or unreadable)' : ''
        }; open it with that destination to deliver them, or delete ${path} to send them to this one`,
      )
    }
    writeFileAtomically(path, JSON.stringify({ v: 1, sha256: destination }), true)
  }

  #readCursor(): { segment: number; acked: number } | undefined {
    let cursor: { v?: unknown; segment?: unknown; acked?: unknown }
    try {
      cursor = JSON.parse(readFileSync(this.#path(CURSOR_FILE), 'utf8')) as typeof cursor
    } catch {
      // No cursor, or an unreadable one: deliver the oldest segment from its
      // start. That may repeat a batch; it never skips one.
      return undefined
    }
    const { v, segment, acked } = cursor
    if (v !== 1 || !Number.isSafeInteger(segment) || !Number.isSafeInteger(acked) || (acked as number) < 0) return undefined
    return { segment: segment as number, acked: acked as number }
  }

  #writeSegment(seq: number, lines: readonly string[]): void {
    writeFileAtomically(this.#segmentPath(seq), lines.join('\n') + '\n', true)
  }

  #lock(): void {
    const path = this.#path(LOCK_FILE)
    if (createExclusive(path)) return
    const holder = readPid(path)
    if (!isAlive(holder)) {
      // The process that held it is gone.
      removeIfPresent(path)
      if (createExclusive(path)) return
    }
    throw new InvalidArgumentError(
      `spill directory ${this.dir} is in use by ${Number.isNaN(holder) ? 'another process' : `process ${holder}`}; give each control plane its own spillDir`,
    )
  }

  #unlock(): void {
    removeIfPresent(this.#path(LOCK_FILE))
  }

  #segmentPath(seq: number): string {
    return this.#path(`${String(seq).padStart(16, '0')}.ndjson`)
  }

  #path(name: string): string {
    return join(this.dir, name)
  }
}

function serialize(event: unknown, index: number): string {
  let line: string | undefined
  try {
    line = JSON.stringify(event)
  } catch (err) {
    throw new EventInvalidError(`outbound event ${index} of the batch is not JSON-serializable`, { cause: err })
  }
  if (typeof line !== 'string') throw new EventInvalidError(`outbound event ${index} of the batch is not JSON-serializable`)
  return line
}

function validateLine(line: string, path: string, lineNumber: number): void {
  let event: unknown
  try {
    event = JSON.parse(line)
  } catch {
    throw new EventInvalidError(`spill segment ${path} line ${lineNumber} is not JSON; inspect or remove the file`)
  }
  const parsed = outboundEventSchema.safeParse(event)
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || '(root)'
    throw new EventInvalidError(
      `spill segment ${path} line ${lineNumber} is not a valid outbound event (at ${where}); inspect or remove the file`,
    )
  }
}

function idOf(line: string): string {
  return (JSON.parse(line) as { id: string }).id
}

function readLines(path: string): string[] {
  const text = readFileSync(path, 'utf8')
  // Segments are written whole and end with a newline; one that does not was cut or edited.
  if (text !== '' && !text.endsWith('\n')) {
    throw new EventInvalidError(`spill segment ${path} does not end with a newline; inspect or remove the file`)
  }
  const lines = text.split('\n')
  lines.pop()
  return lines
}

/** Writes `text` to `path` so that it is either the old file or the whole new one. */
function writeFileAtomically(path: string, text: string, syncDir: boolean): void {
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    try {
      writeFileSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
    if (syncDir) syncDirectorySync(resolve(path, '..'))
  } catch (err) {
    removeIfPresent(tmp)
    throw err
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

function createExclusive(path: string): boolean {
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 })
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

function readPid(path: string): number {
  try {
    return Number(readFileSync(path, 'utf8'))
  } catch {
    return Number.NaN
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, and belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Typed errors pass through; a raw file-system error becomes an {@link InvalidArgumentError} naming its code. */
function unusable(dir: string, err: unknown): Error {
  if (err instanceof AirlockError) return err
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'error'
  return new InvalidArgumentError(`spill directory ${dir} is not usable: ${code}`, { cause: err })
}

function diskError(action: string, dir: string, err: unknown): DeliveryError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'error'
  return new DeliveryError(`could not ${action} spill directory ${dir}: ${code}`, { cause: err })
}
