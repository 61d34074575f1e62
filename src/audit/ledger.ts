import { constants as fsConstants, statSync, type Stats } from 'node:fs'
import { open as openFile, mkdir, type FileHandle } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { inspect } from 'node:util'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { KeyObject } from 'node:crypto'
import { z } from 'zod'
import { CanonicalText, canonicalJson, type JsonObject } from '../internal/canonical-json.js'
import { REDACTED } from '../crypto/redacted.js'
import { syncDirectory } from '../internal/durable-file.js'
import { isoNow } from '../internal/iso-now.js'
import { sha256Hex } from '../internal/sha256.js'
import { ClosedError, InvalidArgumentError, LedgerTamperedError, LedgerUnsignedTailError, StorageError } from '../errors.js'
import { ledgerOrigin, signCheckpointNote } from './checkpoint-note.js'
import { entryMembers } from './entry-members.js'
import type { CheckpointTree, LedgerAdoption } from './ledger-checkpoint.js'
import { MerkleRange, ledgerLeafHash } from './merkle-tree.js'
import {
  LEDGER_FORMAT_VERSION,
  MAX_EVENT_BYTES,
  isLedgerEventInput,
  ledgerDeliveryEntrySchema,
  ledgerEventEntrySchema,
  type LedgerDeliveryError,
  type LedgerDeliveryStatus,
  type LedgerEventStatus,
  type LedgerTransform,
} from './ledger-entry.js'
import { toSigningKey, type LedgerKeyInput } from './ledger-signing-key.js'
import { readSignedTail, readTail, repairTornTail, type LedgerTail } from './ledger-tail.js'

/**
 * Options of {@link Ledger.open}.
 *
 * @example
 * ```ts
 * const { privateKey } = await generateLedgerSigningKey()
 * const options: LedgerOptions = { path: 'audit/ledger.ndjson', signingKey: privateKey, checkpointEvery: 10_000 }
 * const ledger = await Ledger.open(options)
 * ```
 */
export interface LedgerOptions {
  /** The NDJSON file. Parent directories are created; an existing file is continued. */
  path: string
  /** An Ed25519 private key. With it, checkpoints are signed every `checkpointEvery` entries and at `close()`. */
  signingKey?: LedgerKeyInput
  /**
   * Sign a checkpoint after this many events. Needs `signingKey`. Without it,
   * only `close()` (and {@link Ledger.checkpoint}) signs. Delivery news and
   * events on the {@link LEDGER_CHANNEL} (the checkpoints' own trip to the
   * control plane) do not count, so sending checkpoints never calls for more.
   */
  checkpointEvery?: number
  /**
   * Called with each checkpoint once it is on disk: how the control plane
   * comes to witness every head (`AirlockBoundary` sends each one as a
   * `ledger-checkpoint` event). A throw is ignored: the checkpoint stands.
   */
  onCheckpoint?: (checkpoint: LedgerCheckpointHead) => void
  /**
   * What to do with entries at the end of the file that no checkpoint of
   * `signingKey` covers: left by a writer that stopped without `close()`, or
   * by an edit that re-chained history and removed checkpoints. By default
   * (`false`) `open` refuses them with {@link LedgerUnsignedTailError}. With
   * `true`, once their hash chain is checked, it signs a checkpoint that
   * records them as adopted (`{from, to}`), which `verifyLedger` and every
   * audit report list. A broken chain is never adopted. Set it for one
   * `open`, after checking the entries (`airlock audit verify`, `airlock
   * audit report`), not as a standing setting: it would adopt an edit as
   * readily as a crash. Needs `signingKey`.
   */
  adoptUnsignedTail?: boolean
}

/**
 * What {@link Ledger.append} records: the event exactly as it goes out, and what the policy did to it.
 *
 * @example
 * ```ts
 * const input: LedgerEventInput = { channel: 'logs', eventId: event.id, policyHash: policy.hash, event,
 *   transforms: [{ path: 'fields.user', rule: 'email', action: 'redact' }], status: 'queued' }
 * await ledger.append(input)
 * ```
 */
export interface LedgerEventInput {
  channel: string
  eventId: string
  /** The hash of the policy that shaped the event. */
  policyHash: string
  /**
   * The JSON object as sent. It is copied when `append` is called; later
   * changes do not reach the ledger. Or its canonical JSON already made
   * (`CanonicalText`), when the caller also sends those exact bytes.
   */
  event: JsonObject | CanonicalText
  /** `[{path, rule, action}]`. Never original values. */
  transforms: readonly LedgerTransform[]
  status: LedgerEventStatus
  /** For `status: 'failed'`: the error class or code and HTTP status. Never a message. */
  error?: LedgerDeliveryError
}

/**
 * What {@link Ledger.appendDelivery} records about events appended earlier.
 *
 * @example
 * ```ts
 * const news: LedgerDeliveryInput = { eventIds: batch.map((e) => e.id), status: 'retrying', error: { code: 'ERR_DELIVERY', status: 503 } }
 * await ledger.appendDelivery(news)
 * ```
 */
export interface LedgerDeliveryInput {
  /** The events of one transport batch (1 to 10,000). */
  eventIds: readonly string[]
  status: LedgerDeliveryStatus
  /** For `retrying` and `failed`: the error class or code and HTTP status. Never a message. */
  error?: LedgerDeliveryError
}

/**
 * Where an entry landed.
 *
 * @example
 * ```ts
 * const { seq, hash }: LedgerAppendResult = await ledger.append(input)   // hash: 64 hex digits, the next entry's prev
 * ```
 */
export interface LedgerAppendResult {
  seq: number
  hash: string
  /** The byte offset just past the entry's line: where the next entry starts. */
  end: number
}

/**
 * Told what became of an entry queued with {@link Ledger.enqueue}: one call
 * of one method, in ledger order with the other entries' listeners.
 *
 * @example
 * ```ts
 * const listener: LedgerListener = {
 *   durable: ({ seq }) => console.log(`entry ${seq} is on disk`),
 *   failed: (reason) => console.error('never written', reason),
 * }
 * ledger.enqueue(input, listener)
 * ```
 */
export interface LedgerListener {
  /** The entry's line is on disk (written and synced). */
  durable(result: LedgerAppendResult): void
  /** The entry will never be on disk: its group's write failed, or an earlier one did. */
  failed(reason: StorageError): void
}

const eventInputSchema = ledgerEventEntrySchema.omit({ v: true, kind: true, seq: true, time: true, prev: true, hash: true })
const deliveryInputSchema = ledgerDeliveryEntrySchema.omit({ v: true, kind: true, seq: true, time: true, prev: true, hash: true })

/**
 * The channel of the events that carry the ledger's checkpoints to the
 * control plane: they do not count toward `checkpointEvery`.
 *
 * @example
 * ```ts
 * await ledger.append({ channel: LEDGER_CHANNEL, eventId: event.id, policyHash, event, transforms: [], status: 'queued' })
 * ```
 */
export const LEDGER_CHANNEL = 'ledger'

/**
 * A signed checkpoint as it left the writer: the entry's seq, and the C2SP
 * signed note with what it says (origin, tree size, root).
 *
 * @example
 * ```ts
 * const head: LedgerCheckpointHead = await ledger.checkpoint()
 * console.log(`${head.origin} has ${head.size} entries under root ${head.root}`)
 * ```
 */
export interface LedgerCheckpointHead {
  /** The seq of the checkpoint entry: `size + 1`. */
  readonly seq: number
  readonly origin: string
  /** The entries the tree covers. */
  readonly size: number
  /** The RFC 9162 root, 64 hex digits. */
  readonly root: string
  readonly final: boolean
  /** The signed note, verbatim. */
  readonly note: string
}

const optionsSchema = z.strictObject({
  path: z.string().min(1),
  onCheckpoint: z.custom<(checkpoint: LedgerCheckpointHead) => void>((value) => typeof value === 'function', 'expected a function').optional(),
  signingKey: z.unknown().optional(),
  checkpointEvery: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  adoptUnsignedTail: z.boolean().optional(),
})

/**
 * What {@link Ledger.stats} reports.
 *
 * @example
 * ```ts
 * const { entries, commits }: LedgerStats = ledger.stats()
 * ```
 */
export interface LedgerStats {
  /** Entries this writer made durable since `open`. */
  readonly entries: number
  /** Group commits (one synced write each) that made them durable. */
  readonly commits: number
}

/** An entry encoded into the next group commit's bytes, waiting for them to be on disk. */
interface Pending {
  readonly result: LedgerAppendResult
  readonly listener: LedgerListener
}

// A second writer on the same file would fork the chain. This catches it
// within a process; across processes, one writer per file is the caller's job.
const openPaths = new Set<string>()

/**
 * The append-only, hash-chained NDJSON ledger of everything sent to the
 * control plane (docs/design.md, invariant 3). Line format: {@link LedgerEntry}.
 *
 * Appends are totally ordered by call order: `seq` is assigned when `append`
 * is called. Writes use group commit: an append resolves once its line is
 * written and `fdatasync`ed, and appends made while a sync is in flight share
 * the next single write and sync. A crash can lose only entries whose
 * promises have not resolved, and may leave the last line torn: bytes after
 * the last `\n` that no append ever resolved for. The next `open` cuts them
 * off, with the warning `AIRLOCK_LEDGER_REPAIRED` saying how many bytes; a
 * damaged line that ends in `\n` is never cut, and `open` refuses it with
 * {@link LedgerTamperedError} naming its seq.
 *
 * When a write or sync fails, the file's tail is unknown, so the ledger
 * refuses every later append with the same {@link StorageError}.
 *
 * So that the ledger holds everything the wire saw, even across a crash,
 * append an event as `queued` and await it before sending, then record the
 * outcome with {@link Ledger.appendDelivery}.
 *
 * With a signing key, `open` signs over nothing its key has not signed
 * before: it finds the last checkpoint that key signed and checks the chain
 * from there to the end. Entries after it (a crashed writer's, or an edited
 * and re-chained history's) are refused with {@link LedgerUnsignedTailError},
 * unless `adoptUnsignedTail` asks to adopt them in a signed, recorded
 * checkpoint. A file that ends with the key's closing checkpoint costs two
 * lines to check. Without a signing key nothing is signed, and `open` reads
 * only the last line: such a ledger detects accidental damage, not edits.
 * One writer per file; a second `open` of the same path in this process is
 * refused.
 *
 * @example
 * ```ts
 * import { Ledger } from 'airlock-sdk'
 *
 * const ledger = await Ledger.open({ path: 'audit/ledger.ndjson' })
 * const event = {
 *   v: 1, id: 'e6290974-df2b-433f-a4a7-dcf9c7ea8514', kind: 'parameters', time: '2026-11-21T04:21:09.301Z',
 *   policyHash: 'ph1.5wiaWxUMelC4NRlHncu-FW_vq5kta4DINw0rIuvm4kE', runId: 'r1', flowName: 'etl',
 *   parameters: { email: '[REDACTED:email]', rows: 3 },
 * }
 * const { seq } = await ledger.append({
 *   channel: 'parameters', eventId: event.id, policyHash: event.policyHash, event,
 *   transforms: [{ path: 'email', rule: 'email', action: 'redact' }],
 *   status: 'queued',
 * })
 * await ledger.appendDelivery({ eventIds: [event.id], status: 'failed', error: { code: 'ERR_DELIVERY', status: 503 } })
 * await ledger.close()
 * ```
 */
export class Ledger {
  /** The absolute path of the file. */
  readonly path: string
  /**
   * The entries this writer adopted when it opened (`adoptUnsignedTail`),
   * and the seq of the checkpoint that records it; undefined when it adopted
   * none.
   */
  readonly adopted: LedgerAdoption | undefined
  /**
   * The last entry when this writer opened the file (`seq` 0, the genesis
   * hash and `end` 0 for a new one): where a reader of what came before
   * stops, such as the outbox resuming delivery after a restart.
   */
  readonly openedAt: LedgerAppendResult
  readonly #fd: FileHandle
  /** The lines of the entries appended since the last group commit began, encoded as they were appended. */
  #group: EntryLines
  // The buffer of the last group written, kept for the group after the one being encoded.
  #spare: Buffer | undefined
  readonly #signer: { key: KeyObject; kid: string } | undefined
  readonly #checkpointEvery: number | undefined
  readonly #onCheckpoint: ((checkpoint: LedgerCheckpointHead) => void) | undefined
  /** The Merkle tree of every entry committed, and the origin: kept only by a writer that signs. */
  #tree: CheckpointTree | undefined
  #seq: number
  #head: string
  /** The offset just past the last entry appended: synced or not, where the next one starts. */
  #end: number
  #sinceCheckpoint = 0
  #commits = 0
  #committedEntries = 0
  #pending: Pending[] = []
  #committing: Promise<void> | undefined
  #failure: StorageError | undefined
  #closing: Promise<void> | undefined

  /**
   * What this writer has done since `open`: entries made durable and the
   * group commits (one synced write each) that did it, so
   * `entries / commits` is the mean group size.
   *
   * @example
   * ```ts
   * const { entries, commits } = ledger.stats()
   * console.log(`${entries} entries in ${commits} syncs, ${(entries / Math.max(commits, 1)).toFixed(1)} per sync`)
   * ```
   */
  stats(): LedgerStats {
    return { entries: this.#committedEntries, commits: this.#commits }
  }

  private constructor(
    path: string,
    fd: FileHandle,
    size: number,
    tail: LedgerTail,
    signer: { key: KeyObject; kid: string } | undefined,
    checkpointEvery: number | undefined,
    adopting: { from: number; to: number } | undefined,
    tree: CheckpointTree | undefined,
    onCheckpoint: ((checkpoint: LedgerCheckpointHead) => void) | undefined,
  ) {
    this.#tree = tree
    this.#onCheckpoint = onCheckpoint
    this.path = path
    this.#fd = fd
    this.#end = size
    this.#group = new EntryLines(undefined)
    this.openedAt = Object.freeze({ seq: tail.seq, hash: tail.hash, end: size })
    this.#seq = tail.seq
    this.#head = tail.hash
    this.#signer = signer
    this.#checkpointEvery = checkpointEvery
    this.adopted = adopting === undefined ? undefined : { ...adopting, bySeq: tail.seq + 1 }
  }

  /**
   * Opens (or creates) a ledger. An existing file is continued from its last
   * entry. Without a signing key only the last line is read; with one, the
   * entries after the key's last checkpoint are checked too (see the class
   * comment), and with `adoptUnsignedTail` those no checkpoint of the key
   * covers are adopted in a signed checkpoint, written before `open`
   * resolves. Parent directories are created, and the file is created with
   * mode 0600.
   *
   * @throws {InvalidArgumentError} on bad options, a key that is not Ed25519,
   *   or a path this process already has open.
   * @throws {LedgerTamperedError} when the last line is torn or not intact,
   *   or, with a signing key, the chain after the key's last checkpoint is
   *   broken; `seq` names the first bad entry.
   * @throws {LedgerUnsignedTailError} with a signing key, when entries no
   *   checkpoint of the key covers end the file and `adoptUnsignedTail` is
   *   not set; `seq` names the first of them.
   * @throws {StorageError} when the file cannot be created, read or written.
   *
   * @example
   * ```ts
   * const ledger = await Ledger.open({ path: 'audit/ledger.ndjson', signingKey: privateJwk, checkpointEvery: 10_000 })
   * // after a crash, and once `airlock audit verify` and `airlock audit report` say the entries are as sent:
   * const resumed = await Ledger.open({ path: 'audit/ledger.ndjson', signingKey: privateJwk, adoptUnsignedTail: true })
   * resumed.adopted   // { from: 42, to: 57, bySeq: 58 }, or undefined when there was nothing to adopt
   * ```
   */
  static async open(options: LedgerOptions): Promise<Ledger> {
    const { checkpointEvery, adoptUnsignedTail = false, path: given } = checkLedgerOptions(options, 'Ledger.open')
    const signer = options.signingKey === undefined ? undefined : await toSigningKey(options.signingKey)
    const path = resolve(given)
    if (openPaths.has(path)) throw new InvalidArgumentError(`the ledger ${path} is already open in this process`)
    openPaths.add(path)
    let fd: FileHandle | undefined
    try {
      // Like the ledger file, the directories made for it are the owner's only.
      await mkdir(dirname(path), { recursive: true, mode: 0o700 })
      fd = await openFile(path, SYNCED_APPEND ?? 'a+', 0o600)
      await syncDirectory(dirname(path))
      const dropped = await repairTornTail(fd)
      if (dropped > 0) {
        process.emitWarning(`airlock ledger ${path}: dropped ${dropped} bytes a crash left half-written at its end; nothing in them was sent`, {
          code: 'AIRLOCK_LEDGER_REPAIRED',
        })
      }
      const { size } = await fd.stat()
      if (signer === undefined) return new Ledger(path, fd, size, await readTail(fd, path), undefined, checkpointEvery, undefined, undefined, undefined)
      const tail = await readSignedTail(fd, path, signer)
      if (tail.unsigned !== undefined && !adoptUnsignedTail) throw new LedgerUnsignedTailError(path, tail.unsigned, tail.signedThrough)
      const ledger = new Ledger(path, fd, size, tail, signer, checkpointEvery, tail.unsigned, tail.tree, options.onCheckpoint)
      if (ledger.adopted !== undefined) await ledger.#adopt(ledger.adopted)
      return ledger
    } catch (err) {
      openPaths.delete(path)
      await fd?.close()
      if (err instanceof LedgerTamperedError || err instanceof LedgerUnsignedTailError) throw err
      throw ioError(`cannot open the ledger ${path}`, err)
    }
  }

  /**
   * Records an event. `seq` is assigned now, synchronously (the method awaits
   * nothing before that; it is async so every error is a rejection), and the
   * promise resolves once the line is on disk.
   *
   * @throws {InvalidArgumentError} (as a rejection) when the input does not
   *   match the entry schema or `event` is not JSON.
   * @throws {ClosedError} after `close()`.
   * @throws {StorageError} when this or an earlier write failed.
   *
   * @example
   * ```ts
   * await ledger.append({ channel: 'logs', eventId: id, policyHash, event, transforms: [], status: 'sent' })
   * ```
   */
  async append(input: LedgerEventInput): Promise<LedgerAppendResult> {
    return this.queue(input)
  }

  /**
   * {@link Ledger.append}, with its refusals thrown now: the input is checked
   * and given its `seq` synchronously, and only durability is awaited. A
   * caller that refuses to lose its turn in the ledger's order (the
   * boundary, which puts a `withheld` event in place of one the ledger
   * refuses) uses this.
   *
   * @throws {InvalidArgumentError} (synchronously) when the input does not match the entry schema or `event` is not JSON.
   * @throws {ClosedError} (synchronously) after `close()`; {StorageError} when an earlier write failed.
   * @example
   * ```ts
   * let durable: Promise<LedgerAppendResult>
   * try {
   *   durable = ledger.queue(input)
   * } catch (err) {
   *   durable = ledger.queue(withheldInstead(input, err))
   * }
   * ```
   */
  queue(input: LedgerEventInput): Promise<LedgerAppendResult> {
    return this.#enqueued(this.#eventBody(input))
  }

  /**
   * {@link Ledger.queue} for a caller with an entry per event on a hot path:
   * the entry is chained and encoded now, and where it landed is returned at
   * once; `listener` hears when it is on disk (or never will be), without a
   * promise per entry.
   *
   * @throws {InvalidArgumentError} (synchronously) when the input does not match the entry schema or `event` is not JSON.
   * @throws {ClosedError} (synchronously) after `close()`; {StorageError} when an earlier write failed.
   * @example
   * ```ts
   * const { seq } = ledger.enqueue(input, { durable: () => send(seq), failed: (reason) => report(reason) })
   * ```
   */
  enqueue(input: LedgerEventInput, listener: LedgerListener): LedgerAppendResult {
    return this.#enqueue(this.#eventBody(input), listener)
  }

  #eventBody(input: LedgerEventInput): Record<string, unknown> {
    this.#checkOpen()
    let checked = input
    if (!isLedgerEventInput(input)) {
      const parsed = eventInputSchema.safeParse(input)
      if (!parsed.success) throw invalidInput('append', parsed.error)
      checked = parsed.data
    }
    const event = checked.event
    const eventText = event instanceof CanonicalText ? event.text : canonicalJson(event, 'event')
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: a short text needs no count.
    if (eventText.length * 3 > MAX_EVENT_BYTES && Buffer.byteLength(eventText) > MAX_EVENT_BYTES) {
      throw new InvalidArgumentError(`event is larger than ${MAX_EVENT_BYTES} bytes of JSON`)
    }
    const body: Record<string, unknown> = {
      channel: checked.channel,
      eventId: checked.eventId,
      policyHash: checked.policyHash,
      event: event instanceof CanonicalText ? event : new CanonicalText(eventText),
      // Serialized now: the caller's arrays may change after this returns; the ledger must not.
      transforms: new CanonicalText(canonicalJson(checked.transforms, 'transforms')),
      status: checked.status,
      kind: 'event',
    }
    if (checked.error !== undefined) body.error = new CanonicalText(canonicalJson(checked.error, 'error'))
    return body
  }

  /**
   * Records news about events appended earlier: delivered, failed for now
   * (`retrying`), or failed for good. Entries are never rewritten; this is a
   * new entry.
   *
   * @throws {InvalidArgumentError}, {ClosedError}, {StorageError}: as for {@link Ledger.append}.
   *
   * @example
   * ```ts
   * await ledger.appendDelivery({ eventIds: [id], status: 'failed', error: { code: 'http-503', status: 503 } })
   * ```
   */
  async appendDelivery(input: LedgerDeliveryInput): Promise<LedgerAppendResult> {
    this.#checkOpen()
    const parsed = deliveryInputSchema.safeParse(input)
    if (!parsed.success) throw invalidInput('appendDelivery', parsed.error)
    return this.#enqueued({ ...parsed.data, kind: 'delivery' })
  }

  /**
   * Writes what is pending, signs a final checkpoint when a signing key was
   * given, and closes the file. Idempotent.
   *
   * @throws {StorageError} when a write failed; the file is closed anyway.
   *
   * @example
   * ```ts
   * await ledger.close()
   * ```
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      // A checkpoint over no entries would vouch for nothing, and name no ledger.
      if (this.#signer !== undefined && this.#failure === undefined && this.#seq > 0) this.#enqueueCheckpoint(true).catch(() => {})
      this.#closing = this.#finish()
    }
    return this.#closing
  }

  /** Whether this writer signs checkpoints (it was given a signing key). */
  get signs(): boolean {
    return this.#signer !== undefined
  }

  /** Path and whether it signs; never the key. */
  toString(): string {
    return `Ledger(${this.path}, signing: ${this.#signer === undefined ? 'off' : REDACTED})`
  }

  /** Path and whether it signs; never the key. */
  toJSON(): { type: 'Ledger'; path: string; signing: boolean } {
    return { type: 'Ledger', path: this.path, signing: this.#signer !== undefined }
  }

  [inspect.custom](): string {
    return this.toString()
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw new ClosedError(`the ledger ${this.path} is closed`)
    if (this.#failure !== undefined) throw this.#failure
  }

  /**
   * Signs a checkpoint over every entry so far, now, and resolves once it is
   * on disk. `close()` signs the closing one; this is for a head to hand out
   * before then (the boundary sends one to the control plane as it closes).
   *
   * @throws {InvalidArgumentError} without a signing key.
   * @throws {ClosedError}, {StorageError}: as for {@link Ledger.append}.
   * @example
   * ```ts
   * const { origin, size, root, note } = await ledger.checkpoint()
   * ```
   */
  async checkpoint(): Promise<LedgerCheckpointHead> {
    this.#checkOpen()
    if (this.#signer === undefined) throw new InvalidArgumentError('checkpoint needs a signingKey: an unsigned checkpoint would prove nothing')
    if (this.#seq === 0) throw new InvalidArgumentError('the ledger is empty: a checkpoint over no entries would vouch for nothing')
    return this.#enqueueCheckpoint(false)
  }

  #enqueue(body: Record<string, unknown>, listener: LedgerListener): LedgerAppendResult {
    const result = this.#push(body, false, undefined, listener)
    if (this.#signer !== undefined && this.#checkpointEvery !== undefined && body.kind === 'event' && body.channel !== LEDGER_CHANNEL) {
      if (++this.#sinceCheckpoint >= this.#checkpointEvery) this.#enqueueCheckpoint(false).catch(() => {})
    }
    return result
  }

  // For the promise-returning appends: the promise is the listener.
  #enqueued(body: Record<string, unknown>): Promise<LedgerAppendResult> {
    return new Promise((resolve, reject) => this.#enqueue(body, { durable: resolve, failed: reject }))
  }

  #enqueueCheckpoint(final: boolean, adopted?: { from: number; to: number }): Promise<LedgerCheckpointHead> {
    this.#sinceCheckpoint = 0
    const body: Record<string, unknown> = { kind: 'checkpoint' }
    // If it fails, #failure rejects what follows.
    const pushed = new Promise<LedgerAppendResult>((resolve, reject) => this.#push(body, final, adopted, { durable: resolve, failed: reject }))
    return pushed.then(({ seq }) => {
      const note = body.note as string
      const head = { seq, origin: this.#tree!.origin, size: seq - 1, root: headRoot(note), final, note }
      try {
        this.#onCheckpoint?.(head)
      } catch {
        // The checkpoint is on disk whatever a listener does.
      }
      return head
    })
  }

  /**
   * Signs the checkpoint that adopts `from`..`to`, the entries just before it,
   * and waits until it is on disk: once `open` resolves, the adoption is on
   * record. A process warning says so too, for whoever reads the logs.
   */
  async #adopt({ from, to, bySeq }: LedgerAdoption): Promise<void> {
    await this.#enqueueCheckpoint(false, { from, to })
    const which = from === to ? `entry ${from}` : `entries ${from} to ${to}`
    process.emitWarning(
      `airlock ledger ${this.path}: adopted ${which}, which no checkpoint of this signing key covered, in the signed checkpoint at seq ${bySeq}`,
      { code: 'AIRLOCK_LEDGER_ADOPTED' },
    )
  }

  // The entry is chained, signed when it is a checkpoint, and encoded now, in call order: what waits for the group
  // commit is its bytes in the group's buffer, not an object per entry for the garbage collector to carry along.
  #push(body: Record<string, unknown>, final: boolean, adopted: { from: number; to: number } | undefined, listener: LedgerListener): LedgerAppendResult {
    const seq = ++this.#seq
    body.v = LEDGER_FORMAT_VERSION
    body.seq = seq
    body.time = isoNow()
    body.prev = this.#head
    let result: LedgerAppendResult
    try {
      if (body.kind === 'checkpoint') this.#sign(body, final, adopted)
      this.#end += this.#group.add(body)
      const hash = body.hash as string
      this.#head = hash
      this.#grow(hash)
      result = { seq, hash, end: this.#end }
    } catch (err) {
      // Its seq is spent and the chain's head unknown: nothing may follow it.
      throw (this.#failure ??= ioError(`encoding an entry of the ledger ${this.path} failed; it refuses further appends`, err))
    }
    this.#pending.push({ result, listener })
    this.#committing ??= this.#commitLoop()
    return result
  }

  async #commitLoop(): Promise<void> {
    // A turn of the event loop's grace lets every append made before it (a
    // Promise.all, or the Pending, Running and Success of a task that ends
    // in microtasks) share the first fsync instead of waiting for a second.
    await nextTurn()
    while (this.#pending.length > 0) {
      const batch = this.#pending
      const lines = this.#group
      this.#pending = []
      // Appends made while this group is written are encoded into the other buffer.
      this.#group = new EntryLines(this.#spare)
      this.#spare = undefined
      if (this.#failure !== undefined) {
        tellFailed(batch, this.#failure)
        continue
      }
      try {
        await writeAll(this.#fd, lines.bytes())
        if (SYNCED_APPEND === undefined) await this.#fd.datasync()
      } catch (err) {
        this.#failure = ioError(`writing the ledger ${this.path} failed; it refuses further appends`, err)
        tellFailed(batch, this.#failure)
        continue
      }
      // A group far larger than usual keeps no buffer of its size alive after it.
      if (lines.buffer.length <= MAX_KEPT_SCRATCH) this.#spare = lines.buffer
      this.#commits++
      this.#committedEntries += batch.length
      for (const item of batch) {
        try {
          item.listener.durable(item.result)
        } catch {
          // A listener's fault is its own: the entries after it are on disk all the same.
        }
      }
    }
    this.#committing = undefined
  }

  /** Adds an entry to the Merkle tree, when this writer signs. The first entry names the ledger. */
  #grow(hash: string): void {
    if (this.#signer === undefined) return
    if (this.#tree === undefined) this.#tree = { range: new MerkleRange(), origin: ledgerOrigin(hash) }
    this.#tree.range.push(ledgerLeafHash(hash))
  }

  /** Fills a checkpoint's `note` and `range`: the signed head of the tree of every entry before it. */
  #sign(body: Record<string, unknown>, final: boolean, adopted: { from: number; to: number } | undefined): void {
    const { range, origin } = this.#tree!
    body.note = signCheckpointNote(this.#signer!.key, { origin, size: range.size, root: range.root(), final: final, adopted })
    body.range = range.peaks.map((peak) => peak.toString('hex'))
  }

  async #finish(): Promise<void> {
    while (this.#committing !== undefined) await this.#committing
    openPaths.delete(this.path)
    try {
      await this.#fd.close()
    } catch (err) {
      this.#failure ??= ioError(`closing the ledger ${this.path} failed`, err)
    }
    if (this.#failure !== undefined) throw this.#failure
  }
}

/**
 * The lines of one commit, as the bytes written: each entry's canonical JSON
 * with `hash` (the SHA-256 of that JSON without `hash`) in its sorted place,
 * then `\n`. Members are canonicalized once (`event` arrives as canonical
 * text) and the members before `hash` and after it are encoded once each,
 * straight into the buffer: the hash is taken over those bytes and the line
 * is made of them, so a large event is neither serialized nor encoded again.
 */
class EntryLines {
  #buffer: Buffer
  #used = 0

  constructor(scratch: Buffer | undefined) {
    this.#buffer = scratch ?? Buffer.allocUnsafe(INITIAL_SCRATCH)
  }

  /** The buffer written into, to be reused once what {@link EntryLines.bytes} returned is written. */
  get buffer(): Buffer {
    return this.#buffer
  }

  /** Appends `body`'s line, setting `body.hash`; returns the line's length in bytes. */
  add(body: Record<string, unknown>): number {
    const { head, tail } = entryMembers(body)
    const separator = head !== '' && tail !== '' ? 1 : 0
    const before = head === '' ? '"hash":"' : ',"hash":"'
    const after = tail === '' ? '"' : '",'
    const hashMember = before.length + HASH_HEX_LENGTH + after.length
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.#reserve(3 * (head.length + tail.length) + hashMember + 3)
    const buffer = this.#buffer
    const start = this.#used
    // The JSON without `hash` first, `{head,tail}`, so it is hashed in one call over bytes that are then part of the
    // line; then `tail}` moves right to make room for the hash member.
    let at = start
    buffer[at++] = OPEN_BRACE
    at += buffer.write(head, at, 'utf8')
    const headEnd = at
    if (separator === 1) buffer[at++] = COMMA
    const tailStart = at
    at += buffer.write(tail, at, 'utf8')
    buffer[at++] = CLOSE_BRACE
    const hash = sha256Hex(buffer.subarray(start, at))
    const shift = hashMember - separator
    buffer.copyWithin(tailStart + shift, tailStart, at)
    buffer.write(before + hash + after, headEnd, 'latin1')
    at += shift
    buffer[at++] = NEWLINE
    body.hash = hash
    this.#used = at
    return at - start
  }

  /** Every line added so far. */
  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#used)
  }

  #reserve(more: number): void {
    if (this.#used + more <= this.#buffer.length) return
    const grown = Buffer.allocUnsafe(Math.max(2 * this.#buffer.length, this.#used + more))
    this.#buffer.copy(grown, 0, 0, this.#used)
    this.#buffer = grown
  }
}

function tellFailed(batch: readonly Pending[], reason: StorageError): void {
  for (const item of batch) {
    try {
      item.listener.failed(reason)
    } catch {
      // As for durable: the other listeners hear it all the same.
    }
  }
}

/** Appends `bytes` at the end of the file. */
async function writeAll(fd: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0
  // A short write (a full disk, a signal): the rest.
  while (offset < bytes.length) offset += (await fd.write(bytes, offset, bytes.length - offset)).bytesWritten
}

// Where the platform has O_DSYNC (Linux, macOS), the ledger is opened with
// it ('a+' and O_DSYNC): a write returns once its bytes are as durable as
// after fdatasync (the kernel flushes them, and the file size, before it
// returns), so a commit is one call on the thread pool instead of a write
// and then an fdatasync. Elsewhere (Windows), the commit writes, then syncs.
const SYNCED_APPEND =
  fsConstants.O_DSYNC === undefined ? undefined : fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_DSYNC

const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const NEWLINE = 0x0a
const COMMA = 0x2c
const HASH_HEX_LENGTH = 64
const INITIAL_SCRATCH = 64 * 1024
const MAX_KEPT_SCRATCH = 16 * 1024 * 1024

/** The root a note signs, as hex. */
function headRoot(note: string): string {
  return Buffer.from(note.split('\n')[2]!, 'base64').toString('hex')
}

function invalidInput(method: string, error: z.ZodError): InvalidArgumentError {
  // Paths and expectations only: zod issues do not quote the input.
  const problems = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
  return new InvalidArgumentError(`Ledger.${method} input is invalid: ${problems.join('; ')}`)
}

/**
 * Checks ledger options now, synchronously: their shape (no unknown key), the
 * options that need a signing key, and a path that is a directory or other
 * non-file. `new Airlock` calls it, so a misspelt `pth` or a directory fails
 * there, not later as a warning. Internal to airlock-sdk.
 *
 * @internal
 * @throws {InvalidArgumentError} naming each problem.
 *
 * @example
 * ```ts
 * checkLedgerOptions({ pth: 'audit/ledger.ndjson' }, 'Airlock option ledger')   // throws: unknown key "pth"
 * ```
 */
export function checkLedgerOptions(options: unknown, owner: string): z.infer<typeof optionsSchema> {
  const parsed = optionsSchema.safeParse(options)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new InvalidArgumentError(`${owner} is invalid: ${problems.join('; ')}; its options are ${Object.keys(optionsSchema.shape).join(', ')}`)
  }
  const { checkpointEvery, adoptUnsignedTail, signingKey, path } = parsed.data
  if (checkpointEvery !== undefined && signingKey === undefined) {
    throw new InvalidArgumentError('checkpointEvery needs a signingKey: unsigned checkpoints would prove nothing')
  }
  if (adoptUnsignedTail === true && signingKey === undefined) {
    throw new InvalidArgumentError('adoptUnsignedTail needs a signingKey: adopting entries means signing a checkpoint over them')
  }
  let found: Stats | undefined
  try {
    found = statSync(path)
  } catch {
    // Absent (created on open) or unreadable (open says why).
  }
  if (found !== undefined && !found.isFile()) {
    throw new InvalidArgumentError(`${owner} path ${path} is ${found.isDirectory() ? 'a directory' : 'not a regular file'}; give the path of a file, such as ${join(path, 'ledger.ndjson')}`)
  }
  return parsed.data
}

function ioError(message: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return new StorageError(`${message}${code === undefined ? '' : ` (${code})`}`, { cause: err })
}
