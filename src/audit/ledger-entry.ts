import { z } from 'zod'
import { CanonicalText, MAX_JSON_DEPTH, canonicalJson, type JsonObject, type JsonValue } from '../internal/canonical-json.js'
import { sha256Hex as sha256HexOf } from '../internal/sha256.js'
import { HASH_HEX, hashCutOf, hashMemberAt, startsAsCheckpoint } from './ledger-line-bytes.js'
import { MAX_NOTE_LENGTH } from './checkpoint-note.js'

/**
 * The ledger line format version the writer puts in every entry's `v`. v2
 * checkpoints are C2SP signed notes over the ledger's RFC 9162 Merkle tree;
 * v1 checkpoints (a JWS over the hash chain's head) are still read, and a
 * file may go from v1 entries to v2 ones, never back.
 */
export const LEDGER_FORMAT_VERSION = 2

/** Every format version a reader accepts. */
const FORMAT_VERSIONS = z.union([z.literal(1), z.literal(2)])

/** The `typ` header of every checkpoint JWS. */
export const CHECKPOINT_TYP = 'airlock-ledger-checkpoint'

/** The `prev` of the first entry (seq 1): 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64)

/**
 * The longest line a reader accepts, newline excluded. The writer's limits
 * ({@link MAX_EVENT_BYTES}, at most 10,000 transforms) keep every line it
 * writes well below this, so a longer line is damage, not data.
 */
export const MAX_LINE_BYTES = 32 * 1024 * 1024

/** The largest `event` the writer records, in bytes of canonical JSON. */
export const MAX_EVENT_BYTES = 8 * 1024 * 1024

/** The most transforms one entry records. */
const MAX_TRANSFORMS = 10_000

/** What the event entry says became of the event when it was recorded. */
export type LedgerEventStatus = 'sent' | 'queued' | 'failed' | 'withheld'

/** What a later delivery entry says became of earlier events: delivered, failed for now, or failed for good. */
export type LedgerDeliveryStatus = 'sent' | 'retrying' | 'failed'

/** The most event ids one delivery entry names (one transport batch). */
const MAX_DELIVERY_EVENT_IDS = 10_000

// Every shape below is written once and used twice: by the zod schemas the
// writer validates with, and by the verifier's hand-written check
// (`isLedgerEntry`), which must accept exactly what the schemas accept.
const HEX64 = /^[0-9a-f]{64}$/
// docs/design.md names the channels; one of them is `inline values`, hence the space.
const CHANNEL = /^[A-Za-z][A-Za-z0-9_. -]{0,63}$/
const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/
const POLICY_HASH = /^[A-Za-z0-9][A-Za-z0-9_.:+/=-]{0,127}$/
const ERROR_CODE = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/
// A rule is a policy name: a control character in one is a mistake, or an attack on a terminal.
const NO_CONTROL = /^\P{Cc}*$/u
const ACTION = /^[a-z][a-z0-9-]{0,31}$/
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const MAX_PATH_LENGTH = 1024
const MAX_RULE_LENGTH = 256
const MAX_JWS_LENGTH = 4096
/**
 * The longest checkpoint line: its JWS at most, with room for the other
 * members. A writer looking for its last checkpoint skips longer lines
 * unread. Internal to src/audit.
 *
 * @example
 * ```ts
 * if (line.length <= MAX_CHECKPOINT_LINE_BYTES) checkLedgerLine(line)
 * ```
 */
export const MAX_CHECKPOINT_LINE_BYTES = 8192
/** A v2 checkpoint's `range`: one peak per set bit of a tree size below 2^53. */
const MAX_RANGE_PEAKS = 53
const isoDateTime = z.iso.datetime()
// zod checks an ISO datetime with this one pattern; the hand-written check uses it too.
const ISO_DATETIME = isoDateTime.def.pattern!

const hex64 = z.string().regex(HEX64, 'expected 64 lowercase hex characters')
const common = {
  v: FORMAT_VERSIONS,
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  time: isoDateTime,
  prev: hex64,
  hash: hex64,
}

const channel = z.string().regex(CHANNEL, 'expected 1-64 characters of [A-Za-z0-9_. -]')
const eventId = z.string().regex(EVENT_ID, 'expected 1-128 characters of [A-Za-z0-9_.:-]')

/**
 * Why a delivery failed, as a class and a status code only. It has no free
 * text on purpose: an error message can quote what it failed to send.
 */
const ledgerDeliveryErrorSchema = z.strictObject({
  /** An error class or code, e.g. `ERR_DELIVERY`, `ECONNREFUSED`, `timeout`, `attempts-exhausted`. */
  code: z.string().regex(ERROR_CODE, 'expected an error class or code of [A-Za-z0-9_.:-]'),
  /** The HTTP status, where there was one. */
  status: z.number().int().min(100).max(599).optional(),
})

/** One transform the policy applied: where, by which rule, what it did. Never the original value. */
const ledgerTransformSchema = z.strictObject({
  path: z.string().max(MAX_PATH_LENGTH),
  rule: z.string().min(1).max(MAX_RULE_LENGTH).regex(NO_CONTROL, 'expected no control characters'),
  action: z.string().regex(ACTION, 'expected an action name of [a-z0-9-]'),
})

const jsonObject = z.custom<JsonObject>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'expected a JSON object',
)

/**
 * An event handed to the control plane (or withheld), recorded as it went out.
 *
 * @example
 * ```ts
 * const input = ledgerEventEntrySchema.omit({ v: true, kind: true, seq: true, time: true, prev: true, hash: true })
 * ```
 */
export const ledgerEventEntrySchema = z.strictObject({
  ...common,
  kind: z.literal('event'),
  channel,
  eventId,
  policyHash: z.string().regex(POLICY_HASH, 'expected 1-128 characters of [A-Za-z0-9_.:+/=-]'),
  event: jsonObject,
  transforms: z.array(ledgerTransformSchema).max(MAX_TRANSFORMS),
  status: z.enum(['sent', 'queued', 'failed', 'withheld']),
  error: ledgerDeliveryErrorSchema.optional(),
})

/**
 * A later word on earlier events' delivery: entries are never rewritten, so news is appended.
 *
 * @example
 * ```ts
 * ledgerDeliveryEntrySchema.shape.status.options // ['sent', 'retrying', 'failed']
 * ```
 */
export const ledgerDeliveryEntrySchema = z.strictObject({
  ...common,
  kind: z.literal('delivery'),
  eventIds: z.array(eventId).min(1).max(MAX_DELIVERY_EVENT_IDS),
  status: z.enum(['sent', 'retrying', 'failed']),
  error: ledgerDeliveryErrorSchema.optional(),
})

/** v1: a signed statement (a JWS) that the chain up to `prev` is as written. */
const ledgerJwsCheckpointEntrySchema = z.strictObject({
  ...common,
  v: z.literal(1),
  kind: z.literal('checkpoint'),
  jws: z.string().max(MAX_JWS_LENGTH).regex(COMPACT_JWS, 'expected a compact JWS'),
})

/**
 * v2: a C2SP signed note over the RFC 9162 root of the entries before it,
 * and `range`, the roots of the perfect subtrees that tree is made of
 * (largest first), so the next writer can go on growing the tree without
 * reading the ledger again. `range` is not signed; readers check that it
 * hashes to the signed root.
 */
const ledgerNoteCheckpointEntrySchema = z.strictObject({
  ...common,
  v: z.literal(2),
  kind: z.literal('checkpoint'),
  note: z.string().min(1).max(MAX_NOTE_LENGTH),
  range: z.array(hex64).max(MAX_RANGE_PEAKS),
})

const ledgerCheckpointEntrySchema = z.discriminatedUnion('v', [ledgerJwsCheckpointEntrySchema, ledgerNoteCheckpointEntrySchema])

/**
 * The zod schema of one ledger line, shared by the writer, the verifier and
 * the report. See {@link LedgerEntry} for the wire format.
 *
 * @example
 * ```ts
 * const parsed = ledgerEntrySchema.safeParse(JSON.parse(line))
 * if (parsed.success && parsed.data.kind === 'event') console.log(parsed.data.channel)
 * ```
 */
export const ledgerEntrySchema = z.discriminatedUnion('kind', [
  ledgerEventEntrySchema,
  ledgerDeliveryEntrySchema,
  ledgerCheckpointEntrySchema,
])

/** See {@link LedgerEntry}. */
export type LedgerEventEntry = z.infer<typeof ledgerEventEntrySchema>
/** See {@link LedgerEntry}. */
export type LedgerDeliveryEntry = z.infer<typeof ledgerDeliveryEntrySchema>
/** See {@link LedgerEntry}. */
export type LedgerCheckpointEntry = z.infer<typeof ledgerCheckpointEntrySchema>
/** A v1 checkpoint: a JWS over the chain's head. See {@link LedgerEntry}. */
export type LedgerJwsCheckpointEntry = z.infer<typeof ledgerJwsCheckpointEntrySchema>
/** A v2 checkpoint: a C2SP signed note over the Merkle tree. See {@link LedgerEntry}. */
export type LedgerNoteCheckpointEntry = z.infer<typeof ledgerNoteCheckpointEntrySchema>
/** One transform: `{path, rule, action}`. */
export type LedgerTransform = z.infer<typeof ledgerTransformSchema>
/** Why a delivery failed: `{code, status?}`. */
export type LedgerDeliveryError = z.infer<typeof ledgerDeliveryErrorSchema>

/**
 * One line of a ledger file, wire format v2 (v1 lines are read too).
 *
 * A ledger is UTF-8 text, one entry per line, each line ending in `\n`
 * (never `\r\n`). Each line is exactly the {@link canonicalJson} of its entry,
 * so any byte edit, even whitespace, is detectable. Every entry has:
 *
 * - `v`: `2` (`1` in files written before the Merkle tree; a file may
 *   switch from 1 to 2 once, when a newer writer continues it, never back);
 * - `kind`: `'event'`, `'delivery'` or `'checkpoint'`;
 * - `seq`: 1-based and contiguous, so entry `seq` n is line n of the file;
 * - `time`: ISO 8601 UTC (`toISOString()`), taken when `append` was called;
 * - `prev`: the `hash` of entry n-1, or {@link GENESIS_HASH} for entry 1;
 * - `hash`: lowercase hex SHA-256 of the UTF-8 bytes of
 *   `canonicalJson(entry without hash)`.
 *
 * An `event` entry adds `channel`, `eventId`, `policyHash`, `event` (the JSON
 * object as sent), `transforms` (`[{path, rule, action}]`), `status`
 * (`sent | queued | failed | withheld`) and, optionally, `error`
 * (`{code, status?}`). A `delivery` entry adds `eventIds` (the events of one
 * transport batch), `status` (`sent | retrying | failed`) and optionally
 * `error`.
 *
 * A v2 `checkpoint` entry adds `note`, a C2SP signed note in the C2SP
 * checkpoint format (origin `airlock.ledger/<hash of entry 1>`, the tree
 * size `seq - 1`, the RFC 9162 root of entries 1 to `seq - 1` with each leaf
 * the 32 bytes of an entry's `hash`, the extension line `airlock-final` on
 * the checkpoint `close()` writes, `airlock-adopted <from> <to>` on one that
 * adopts entries, then an Ed25519 signature line); and `range`, the hex roots
 * of the perfect subtrees of that tree, largest first (unsigned: readers
 * check it against the root). See `checkpoint-note.ts`.
 *
 * A v1 `checkpoint` entry adds `jws`, a compact JWS (`alg: EdDSA`, `typ: airlock-ledger-checkpoint`, `kid`:
 * the RFC 7638 thumbprint of the public key) whose payload is the canonical
 * JSON `{"final":bool,"head":<prev>,"seq":<seq - 1>,"v":1}`: it signs the
 * chain up to the entry before it. `final` is true for the checkpoint
 * `close()` writes. A checkpoint that adopts entries its writer left
 * unsigned (`adoptUnsignedTail` of `Ledger.open`) has payload v2,
 * `{"adopted":{"from":<first adopted seq>,"to":<seq - 1>},"final":false,"head":…,"seq":…,"v":2}`;
 * v1 checkpoints stay as they are, and verify as before.
 *
 * @example
 * The first line of a ledger, written by an `Airlock` (balanced preset) that
 * sent the parameters `{ email: 'ada@example.com', rows: 3 }`:
 * ```json
 * {"channel":"parameters","event":{"flowName":"etl","id":"e6290974-df2b-433f-a4a7-dcf9c7ea8514","kind":"parameters","parameters":{"email":"[REDACTED:email]","rows":3},"policyHash":"ph1.5wiaWxUMelC4NRlHncu-FW_vq5kta4DINw0rIuvm4kE","runId":"r1","time":"2026-11-21T04:21:09.301Z","v":1},"eventId":"e6290974-df2b-433f-a4a7-dcf9c7ea8514","hash":"2b8cd6deb34c063de81b12a208b7985afbc943a0096206dfe72b029fb5125179","kind":"event","policyHash":"ph1.5wiaWxUMelC4NRlHncu-FW_vq5kta4DINw0rIuvm4kE","prev":"0000000000000000000000000000000000000000000000000000000000000000","seq":1,"status":"sent","time":"2026-11-21T04:21:09.306Z","transforms":[{"action":"redact","path":"email","rule":"email"}],"v":1}
 * ```
 */
export type LedgerEntry = z.infer<typeof ledgerEntrySchema>

/** The outcome of {@link parseLedgerLine}: an intact entry, or why the line is not one. */
export type ParsedLedgerLine = { ok: true; entry: LedgerEntry } | { ok: false; reason: string }

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Reads one line (without its `\n`) and checks everything the line itself can
 * prove: UTF-8, JSON, the schema, and the `hash`, taken over the line's own
 * bytes with the `hash` member cut out. For a line the writer wrote, those
 * bytes are the canonical JSON the hash was made from, so any changed byte,
 * even whitespace, fails it. Chain checks (`seq`, `prev`) and signatures need
 * the neighbours; {@link verifyLedger} does those.
 *
 * @example
 * ```ts
 * const parsed = parseLedgerLine(Buffer.from(line))
 * if (!parsed.ok) console.error(parsed.reason)
 * ```
 */
export function parseLedgerLine(line: Uint8Array): ParsedLedgerLine {
  const checked = checkLedgerLine(Buffer.from(line.buffer, line.byteOffset, line.byteLength))
  return typeof checked === 'string' ? { ok: false, reason: checked } : { ok: true, entry: checked }
}

/**
 * {@link parseLedgerLine} for the verifier's hot loop: the entry, or why the
 * line is not an intact one.
 *
 * Intact lines take the fast path: a hand-written schema check
 * (`isLedgerEntry`, which accepts exactly what {@link ledgerEntrySchema}
 * accepts) and one SHA-256 over the line's bytes ({@link hashCutOf}). Pass
 * `hashCut` when another thread already ran `hashCutOf` on these bytes; the
 * member it found is still checked here against the parsed entry. Pass
 * `head`, the hash `prev` should be, when it is known to be 64 lowercase hex
 * digits: a `prev` equal to it needs no digit-by-digit check. A line that
 * fails the fast path is checked again the slow way, with zod and canonical
 * re-serialization, which says precisely what is wrong.
 *
 * @example
 * ```ts
 * const checked = checkLedgerLine(Buffer.from(line))
 * if (typeof checked === 'string') console.error(checked)
 * ```
 */
export function checkLedgerLine(line: Buffer, hashCut = hashCutOf(line), head?: string): LedgerEntry | string {
  if (line.length > MAX_LINE_BYTES) return `the line is longer than ${MAX_LINE_BYTES} bytes`
  let text: string
  let value: unknown
  try {
    text = utf8.decode(line)
  } catch {
    return 'the line is not valid UTF-8'
  }
  try {
    value = JSON.parse(text)
  } catch {
    return 'the line is not valid JSON'
  }
  if (isLedgerEntry(value, head) && hashMemberAt(line, value, hashCut) && (value.kind !== 'event' || nestsWithin(value.event, 0))) {
    return value
  }
  return recheck(text, value)
}

/** The slow, exact check: it names what is wrong with a line the fast path refused. */
function recheck(text: string, value: unknown): LedgerEntry | string {
  const parsed = ledgerEntrySchema.safeParse(value)
  if (!parsed.success) {
    // Paths and expectations only: zod issues do not quote the input.
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    return escapeControl(`the line does not match the entry schema (${problems.join('; ')})`)
  }
  const entry = parsed.data
  let hash: string
  let serialized: string
  try {
    const { hash: _, ...body } = entry
    const frozen = entry.kind === 'event' ? { ...body, event: new CanonicalText(canonicalJson(entry.event)) } : body
    hash = sha256Hex(canonicalJson(frozen))
    serialized = canonicalJson({ ...frozen, hash: entry.hash })
  } catch {
    return 'the event nests too deeply to be canonical JSON'
  }
  if (hash !== entry.hash) return "the hash does not match the entry's content"
  if (serialized !== text) return 'the line is not in canonical form (bytes were added or changed)'
  return entry
}

/**
 * Whether a line could be a checkpoint, judged from its length and first
 * bytes alone ({@link startsAsCheckpoint}). Lets a reader skip every other
 * line without parsing it; {@link checkLedgerLine} still decides. Internal
 * to src/audit.
 *
 * @example
 * ```ts
 * if (mayBeCheckpoint(line)) checkLedgerLine(line)
 * ```
 */
export function mayBeCheckpoint(line: Buffer): boolean {
  return line.length <= MAX_CHECKPOINT_LINE_BYTES && startsAsCheckpoint(line)
}

/** Whether no array or object sits {@link MAX_JSON_DEPTH} levels deep: what `canonicalJson` refuses. */
function nestsWithin(value: JsonValue, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true
  if (depth >= MAX_JSON_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!nestsWithin(value[i]!, depth + 1)) return false
    return true
  }
  for (const key in value) if (!nestsWithin(value[key]!, depth + 1)) return false
  return true
}

/**
 * {@link ledgerEntrySchema}, by hand: zod costs microseconds an entry, which
 * at a million entries is most of a verification. With {@link hashMemberAt}
 * it accepts exactly what the schema accepts (a test holds the two side by
 * side): the same regexes and limits, strict keys. Two checks are left out
 * because they cost a third of the rest and are made anyway: the digits of
 * `hash` are left to `hashMemberAt`, which requires them to be the line's
 * SHA-256 in lowercase hex, and those of a `prev` equal to `head` were
 * checked as the entry before's `hash`.
 */
function isLedgerEntry(value: unknown, head: string | undefined): value is LedgerEntry {
  if (!isRecord(value)) return false
  if ((value.v !== 1 && value.v !== 2) || !isSeq(value.seq) || !matches(value.time, ISO_DATETIME)) return false
  const { prev, hash } = value
  if (typeof prev !== 'string' || (prev !== head && !HEX64.test(prev))) return false
  if (typeof hash !== 'string' || hash.length !== HASH_HEX) return false
  const error = value.error
  if (error !== undefined && !isDeliveryError(error)) return false
  const optional = error === undefined ? 0 : 1
  switch (value.kind) {
    case 'event':
      return (
        keyCount(value) === 12 + optional &&
        isChannel.test(value.channel) &&
        matches(value.eventId, EVENT_ID) &&
        isPolicyHash.test(value.policyHash) &&
        isRecord(value.event) &&
        isTransforms(value.transforms) &&
        (value.status === 'sent' || value.status === 'queued' || value.status === 'failed' || value.status === 'withheld')
      )
    case 'delivery':
      return (
        keyCount(value) === 8 + optional &&
        isEventIds(value.eventIds) &&
        (value.status === 'sent' || value.status === 'retrying' || value.status === 'failed')
      )
    case 'checkpoint':
      if (value.v === 1) return keyCount(value) === 7 && typeof value.jws === 'string' && value.jws.length <= MAX_JWS_LENGTH && COMPACT_JWS.test(value.jws)
      return keyCount(value) === 8 && typeof value.note === 'string' && value.note.length >= 1 && value.note.length <= MAX_NOTE_LENGTH && isRange(value.range)
    default:
      return false
  }
}

/**
 * The writer's fast check of what `Ledger.append` takes (the event entry
 * without `v`, `kind`, `seq`, `time`, `prev`, `hash`): true only for an
 * input the zod schema accepts too, so a false means "ask zod", which says
 * what is wrong. Internal to src/audit.
 *
 * @example
 * ```ts
 * if (!isLedgerEventInput(input)) eventInputSchema.parse(input)
 * ```
 */
export function isLedgerEventInput(value: unknown): boolean {
  if (!isRecord(value)) return false
  const error = value.error
  if (error !== undefined && !isDeliveryError(error)) return false
  return (
    keyCount(value) === 6 + (error === undefined ? 0 : 1) &&
    isChannel.test(value.channel) &&
    matches(value.eventId, EVENT_ID) &&
    isPolicyHash.test(value.policyHash) &&
    isRecord(value.event) &&
    isTransforms(value.transforms) &&
    (value.status === 'sent' || value.status === 'queued' || value.status === 'failed' || value.status === 'withheld')
  )
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Own enumerable keys, without allocating the array `Object.keys` would. */
function keyCount(record: Record<string, unknown>): number {
  let count = 0
  for (const _ in record) count++
  return count
}

function matches(value: unknown, pattern: RegExp): boolean {
  return typeof value === 'string' && pattern.test(value)
}

/**
 * A pattern test that remembers a few hundred strings that passed. A ledger
 * repeats a handful of channels, policy hashes, rules and actions a million
 * times, and a Set lookup costs a fraction of a regex run.
 */
class Remembered {
  readonly #passed = new Set<string>()
  readonly #test: (value: string) => boolean

  constructor(test: (value: string) => boolean) {
    this.#test = test
  }

  test(value: unknown): boolean {
    if (typeof value !== 'string') return false
    if (this.#passed.has(value)) return true
    if (!this.#test(value)) return false
    if (this.#passed.size < REMEMBERED_LIMIT) this.#passed.add(value)
    return true
  }
}

const REMEMBERED_LIMIT = 256
const isChannel = new Remembered((value) => CHANNEL.test(value))
const isPolicyHash = new Remembered((value) => POLICY_HASH.test(value))
const isAction = new Remembered((value) => ACTION.test(value))
const isRule = new Remembered((value) => value.length >= 1 && value.length <= MAX_RULE_LENGTH && NO_CONTROL.test(value))

function isSeq(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1
}

function isDeliveryError(value: unknown): boolean {
  if (!isRecord(value) || !matches(value.code, ERROR_CODE)) return false
  const status = value.status
  if (status === undefined) return keyCount(value) === 1
  return typeof status === 'number' && Number.isSafeInteger(status) && status >= 100 && status <= 599 && keyCount(value) === 2
}

function isTransforms(value: unknown): boolean {
  if (!Array.isArray(value) || value.length > MAX_TRANSFORMS) return false
  for (let i = 0; i < value.length; i++) {
    const t: unknown = value[i]
    if (!isRecord(t) || keyCount(t) !== 3) return false
    const path = t.path
    if (typeof path !== 'string' || path.length > MAX_PATH_LENGTH || !isRule.test(t.rule) || !isAction.test(t.action)) return false
  }
  return true
}

function isRange(value: unknown): boolean {
  if (!Array.isArray(value) || value.length > MAX_RANGE_PEAKS) return false
  for (let i = 0; i < value.length; i++) if (!matches(value[i], HEX64)) return false
  return true
}

function isEventIds(value: unknown): boolean {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_DELIVERY_EVENT_IDS) return false
  for (let i = 0; i < value.length; i++) if (!matches(value[i], EVENT_ID)) return false
  return true
}

/**
 * Lowercase hex SHA-256 of a string's UTF-8 bytes: how entry hashes are written.
 *
 * @example
 * ```ts
 * sha256Hex('') // 'e3b0c442…b855'
 * ```
 */
export function sha256Hex(text: string): string {
  return sha256HexOf(text)
}

/**
 * Text with control, format (bidi overrides, zero-width) and line-separator
 * characters written as `\uXXXX`. Ledger content is data: printed raw, it
 * could move the cursor, recolour a terminal or reorder what a person reads.
 *
 * @example
 * ```ts
 * escapeControl('a\u001b[2Jb') // 'a\\u001b[2Jb'
 * ```
 */
export function escapeControl(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, escapeCodeUnits)
}

function escapeCodeUnits(char: string): string {
  let out = ''
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`
  return out
}
