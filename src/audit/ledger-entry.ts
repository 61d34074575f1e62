import { createHash } from 'node:crypto'
import { z } from 'zod'
import { CanonicalText, canonicalJson, type JsonObject } from './canonical-json.js'

/** The ledger line format version written in every entry's `v`. */
export const LEDGER_FORMAT_VERSION = 1

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

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')
const common = {
  v: z.literal(LEDGER_FORMAT_VERSION),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  time: z.iso.datetime(),
  prev: hex64,
  hash: hex64,
}

// DESIGN.md names the channels; one of them is `inline values`, hence the space.
const channel = z.string().regex(/^[A-Za-z][A-Za-z0-9_. -]{0,63}$/, 'expected 1-64 characters of [A-Za-z0-9_. -]')
const eventId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'expected 1-128 characters of [A-Za-z0-9_.:-]')

/**
 * Why a delivery failed, as a class and a status code only. It has no free
 * text on purpose: an error message can quote what it failed to send.
 */
const ledgerDeliveryErrorSchema = z.strictObject({
  /** An error class or code, e.g. `ERR_DELIVERY`, `ECONNREFUSED`, `timeout`, `attempts-exhausted`. */
  code: z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, 'expected an error class or code of [A-Za-z0-9_.:-]'),
  /** The HTTP status, where there was one. */
  status: z.number().int().min(100).max(599).optional(),
})

// A rule is a policy name: a control character in one is a mistake, or an attack on a terminal.
const NO_CONTROL = /^\P{Cc}*$/u

/** One transform the policy applied: where, by which rule, what it did. Never the original value. */
const ledgerTransformSchema = z.strictObject({
  path: z.string().max(1024),
  rule: z.string().min(1).max(256).regex(NO_CONTROL, 'expected no control characters'),
  action: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected an action name of [a-z0-9-]'),
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
  policyHash: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:+/=-]{0,127}$/, 'expected 1-128 characters of [A-Za-z0-9_.:+/=-]'),
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

/** A signed statement that the chain up to `prev` is as written. */
const ledgerCheckpointEntrySchema = z.strictObject({
  ...common,
  kind: z.literal('checkpoint'),
  jws: z
    .string()
    .max(4096)
    .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'expected a compact JWS'),
})

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
/** One transform: `{path, rule, action}`. */
export type LedgerTransform = z.infer<typeof ledgerTransformSchema>
/** Why a delivery failed: `{code, status?}`. */
export type LedgerDeliveryError = z.infer<typeof ledgerDeliveryErrorSchema>

/**
 * One line of a ledger file, wire format v1.
 *
 * A ledger is UTF-8 text, one entry per line, each line ending in `\n`
 * (never `\r\n`). Each line is exactly the {@link canonicalJson} of its entry,
 * so any byte edit, even whitespace, is detectable. Every entry has:
 *
 * - `v`: `1`;
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
 * `error`. A `checkpoint` entry adds `jws`, a compact JWS (`alg: EdDSA`, `typ: airlock-ledger-checkpoint`, `kid`:
 * the RFC 7638 thumbprint of the public key) whose payload is the canonical
 * JSON `{"final":bool,"head":<prev>,"seq":<seq - 1>,"v":1}`: it signs the
 * chain up to the entry before it. `final` is true for the checkpoint
 * `close()` writes.
 *
 * @example
 * ```json
 * {"channel":"parameters","event":{"flowRunId":"r1","parameters":{"email":"[email]"}},"eventId":"e1","hash":"9c1…","kind":"event","policyHash":"sha256:4f…","prev":"0000…","seq":1,"status":"sent","time":"2026-11-21T09:00:00.000Z","transforms":[{"action":"scrub","path":"parameters.email","rule":"email"}],"v":1}
 * ```
 */
export type LedgerEntry = z.infer<typeof ledgerEntrySchema>

/** The outcome of {@link parseLedgerLine}: an intact entry, or why the line is not one. */
export type ParsedLedgerLine = { ok: true; entry: LedgerEntry } | { ok: false; reason: string }

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Reads one line (without its `\n`) and checks everything the line itself can
 * prove: UTF-8, JSON, the schema, the `hash`, and canonical form. Chain checks
 * (`seq`, `prev`) and signatures need the neighbours; {@link verifyLedger}
 * does those.
 *
 * @example
 * ```ts
 * const parsed = parseLedgerLine(Buffer.from(line))
 * if (!parsed.ok) console.error(parsed.reason)
 * ```
 */
export function parseLedgerLine(line: Uint8Array): ParsedLedgerLine {
  if (line.length > MAX_LINE_BYTES) return { ok: false, reason: `the line is longer than ${MAX_LINE_BYTES} bytes` }
  let text: string
  let value: unknown
  try {
    text = utf8.decode(line)
  } catch {
    return { ok: false, reason: 'the line is not valid UTF-8' }
  }
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'the line is not valid JSON' }
  }
  const parsed = ledgerEntrySchema.safeParse(value)
  if (!parsed.success) {
    // Paths and expectations only: zod issues do not quote the input.
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    return { ok: false, reason: escapeControl(`the line does not match the entry schema (${problems.join('; ')})`) }
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
    return { ok: false, reason: `the event nests too deeply to be canonical JSON` }
  }
  if (hash !== entry.hash) return { ok: false, reason: "the hash does not match the entry's content" }
  if (serialized !== text) return { ok: false, reason: 'the line is not in canonical form (bytes were added or changed)' }
  return { ok: true, entry }
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
  return createHash('sha256').update(text, 'utf8').digest('hex')
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
