import { createHash } from 'node:crypto'
import { sha256Hex, sha256Is } from '../internal/sha256.js'
import type { LedgerEntry } from './ledger-entry.js'

/*
 * What a ledger line's bytes show without parsing it: where its `hash`
 * member is, whether that hash covers the rest of the line, and, for a line
 * a signature goes on to vouch for, where its chain members are. The line
 * format itself (the schema, canonical JSON) is ledger-entry.ts.
 */

// Where the writer puts `hash` in a line. Top-level keys are sorted, and no
// key of an event or delivery entry sorts between `hash` and `kind`, so there
// the member sits just before `,"kind":"`; a checkpoint's `hash` is its first
// member, just before `"jws"`. The cut is the member with one comma: 74 bytes.
const HASH_MEMBER = Buffer.from(',"hash":"')
const AFTER_HASH = Buffer.from('","kind":"')
const CHECKPOINT_HASH_MEMBER = Buffer.from('{"hash":"')
const CHECKPOINT_AFTER_HASH = Buffer.from('","jws":"')
const NOTE_CHECKPOINT_AFTER_HASH = Buffer.from('","kind":"')
/** Hex digits of a SHA-256: an entry's `hash` and `prev`. */
export const HASH_HEX = 64
const HASH_CUT = HASH_MEMBER.length + HASH_HEX + 1

/*
 * Why hashing the line's own bytes, with the `hash` member cut out, detects
 * every edit that re-serializing the parsed entry did.
 *
 * The writer's line for entry E is L = canonicalJson(E), and E.hash = h =
 * SHA-256(D) with D = canonicalJson(E without hash). So L is D with the member
 * `"hash":"h"` spliced in at one place: before the top-level `,"kind":"` of an
 * event or delivery entry, first in a checkpoint. `hashCutOf` finds a member
 * `hash` in the line as read, L', cuts it out and requires SHA-256 of the
 * rest, D', to be the hex it holds; `hashMemberAt` requires that hex to be
 * the parsed `hash`, h, and the member to be followed by `,"kind":"` (for a
 * checkpoint: to open the line and be followed by `,"jws":"`).
 *
 * An edit that changes h breaks the chain where the chain, or a signed
 * checkpoint, names h: the next entry's `prev`. So take an L' that passes with
 * the written h. Then D' = D: anything else is a second preimage of h, which
 * SHA-256 does not allow. So L' is D with `,"hash":"h"` inserted at the cut,
 * and it equals L unless the cut is elsewhere. It is not:
 * - the cut is followed by `,"kind":"`. In valid JSON (L' parsed) a `"` right
 *   after `,` is never string content (content writes `"` as `\"`), so those
 *   bytes are a real member `kind` of the object holding the cut member;
 * - that object is the top level: D has no top-level `hash`, so with the
 *   member inserted anywhere deeper, L' parses without one and fails the schema;
 * - D holds one top-level `kind` (it is canonical: no duplicate keys), so the
 *   cut is exactly where the writer put `hash`. For a checkpoint the cut is at
 *   a fixed offset, and the same follows at once.
 * Hence L' = L byte for byte: every edit of a written line (a value,
 * whitespace, an escape, key order, an added duplicate key, which
 * `JSON.parse` would have let win) fails here or breaks the chain at the same
 * seq as before.
 *
 * What this no longer refuses: a line forged with a freshly computed hash, in
 * a byte form other than canonical. It carries no meaning a canonical forgery
 * could not, and a canonical forgery passed the old check too: forgeries are
 * caught by the chain and the signatures, not by the line on its own.
 */

/**
 * Whether the member {@link hashCutOf} found at `cut` is the parsed entry's
 * own `hash`, at the place the writer puts it (see the argument above).
 * Internal to src/audit.
 *
 * @example
 * ```ts
 * if (!hashMemberAt(line, entry, hashCutOf(line))) return recheck(text, entry)
 * ```
 */
export function hashMemberAt(line: Buffer, entry: Pick<LedgerEntry, 'kind' | 'v' | 'hash'>, cut: number): boolean {
  let hex: number
  if (entry.kind === 'checkpoint') {
    const after = entry.v === 1 ? CHECKPOINT_AFTER_HASH : NOTE_CHECKPOINT_AFTER_HASH
    if (cut !== 1 || !bytesAt(line, 0, CHECKPOINT_HASH_MEMBER) || !bytesAt(line, CHECKPOINT_HASH_MEMBER.length + HASH_HEX, after)) {
      return false
    }
    hex = CHECKPOINT_HASH_MEMBER.length
  } else {
    if (!bytesAt(line, cut, HASH_MEMBER) || !bytesAt(line, cut + HASH_MEMBER.length + HASH_HEX, AFTER_HASH)) return false
    hex = cut + HASH_MEMBER.length
  }
  return textAt(line, hex, entry.hash)
}

/**
 * Where the line's `hash` member starts, when SHA-256 of the line with the
 * member cut out is the hex the member holds; else -1. It looks for the
 * member where the writer puts it (first, when the line starts with
 * `{"hash":"`, else the last `,"hash":"`), parses nothing and trusts nothing:
 * {@link checkLedgerLine} then checks that the member found is the parsed
 * entry's own, at its canonical place. The verifier runs this on a second
 * thread too (`LedgerLineWorkers`).
 *
 * @example
 * ```ts
 * const cut = hashCutOf(Buffer.from(line)) // -1: the hash does not cover the line
 * ```
 */
export function hashCutOf(line: Buffer): number {
  let cut: number
  let hex: number
  if (bytesAt(line, 0, CHECKPOINT_HASH_MEMBER)) {
    cut = 1
    hex = CHECKPOINT_HASH_MEMBER.length
  } else {
    cut = line.lastIndexOf(HASH_MEMBER)
    if (cut === -1) return -1
    hex = cut + HASH_MEMBER.length
  }
  if (cut + HASH_CUT > line.length) return -1
  return textAt(line, hex, hashWithout(line, cut)) ? cut : -1
}

/**
 * Whether a line opens as a checkpoint's canonical form does: with its
 * `hash` member, while events and deliveries have keys that sort before it
 * (`channel`, `error`, `eventIds`). Internal to src/audit.
 *
 * @example
 * ```ts
 * if (startsAsCheckpoint(line)) checkLedgerLine(line)
 * ```
 */
export function startsAsCheckpoint(line: Buffer): boolean {
  return bytesAt(line, 0, CHECKPOINT_HASH_MEMBER)
}

// Byte loops, not Buffer#compare or toString: for a few dozen bytes, the calls cost more than the comparing.
function bytesAt(line: Buffer, at: number, expected: Buffer): boolean {
  if (at < 0 || at + expected.length > line.length) return false
  for (let i = 0; i < expected.length; i++) if (line[at + i] !== expected[i]) return false
  return true
}

/**
 * Whether `line` holds the characters of `expected` (ASCII) at `at`. Internal to src/audit.
 *
 * @example
 * ```ts
 * textAt(line, link.prevAt, head)   // the line's prev is head
 * ```
 */
export function textAt(line: Buffer, at: number, expected: string): boolean {
  if (at + expected.length > line.length) return false
  for (let i = 0; i < expected.length; i++) if (line[at + i] !== expected.charCodeAt(i)) return false
  return true
}

/**
 * The last `member` (`,"name":`) in `bytes[start, end)`, found by jumping
 * between the name's first letter (memrchr) rather than Buffer#lastIndexOf,
 * which compares at every byte: a third of the cost over a line's tail.
 */
function lastIndexOfMember(bytes: Buffer, start: number, end: number, member: Buffer): number {
  const letter = member[2]!
  const last = end - member.length + 2
  for (let at = last < start ? -1 : bytes.lastIndexOf(letter, last); at >= start + 2; at = bytes.lastIndexOf(letter, at - 1)) {
    if (bytesAt(bytes, at - 2, member)) return at - 2
  }
  return -1
}

/** Lines up to this long are copied once and hashed in one call; longer ones, rare, are streamed. */
const SCRATCH_BYTES = 64 * 1024
/** Word size for {@link withoutHashMember}'s alignment. */
const WORD = 8
// Its own ArrayBuffer, so its offset 0 is word-aligned.
const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES + WORD)

/**
 * `bytes[start, end)` with the {@link HASH_CUT} bytes at `cut` left out, as a
 * view of a scratch buffer that the next call overwrites; the line must be
 * at most {@link SCRATCH_BYTES} long. The line is copied whole, while it is
 * still in the cache from being searched, and the part before the member
 * moved up to meet the part after it, in one builtin call each.
 *
 * The copy lands at the same offset modulo the word size as its source: out
 * of shared memory (the verifier's chunks), V8 copies a word at a time only
 * between alike-aligned places and a byte at a time otherwise, three to four
 * times slower for a ledger line.
 */
function withoutHashMember(bytes: Buffer, start: number, cut: number, end: number): Buffer {
  const at = (bytes.byteOffset + start) % WORD
  scratch.set(bytes.subarray(start, end), at)
  scratch.copyWithin(at + HASH_CUT, at, at + cut - start)
  return scratch.subarray(at + HASH_CUT, at + end - start)
}

/** Whether SHA-256 of `bytes[start, end)` with the {@link HASH_CUT} bytes at `cut` left out is `digest`. */
function hashWithoutIs(bytes: Buffer, start: number, cut: number, end: number, digest: Buffer): boolean {
  if (end - start > SCRATCH_BYTES) {
    return createHash('sha256').update(bytes.subarray(start, cut)).update(bytes.subarray(cut + HASH_CUT, end)).digest().equals(digest)
  }
  return sha256Is(withoutHashMember(bytes, start, cut, end), digest)
}

/** SHA-256 of the line with the {@link HASH_CUT} bytes at `cut` left out, in hex. */
function hashWithout(line: Buffer, cut: number): string {
  if (line.length > SCRATCH_BYTES) return createHash('sha256').update(line.subarray(0, cut)).update(line.subarray(cut + HASH_CUT)).digest('hex')
  return sha256Hex(withoutHashMember(line, 0, cut, line.length))
}

const KIND_MEMBER = Buffer.from(',"kind":"')
const PREV_MEMBER = Buffer.from(',"prev":"')
const AFTER_PREV = Buffer.from('","seq":')
const V_MEMBER = Buffer.from(',"v":')
const QUOTE = 0x22
const COMMA = 0x2c
const CLOSE_BRACE = 0x7d
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39
/** Digits of the largest seq: 2^53 - 1 has 16. */
const MAX_SEQ_DIGITS = 16

/**
 * What {@link linkLedgerLine} found in an event or delivery line: its `hash`
 * as 32 bytes, where its `prev` hex digits are in the chunk, its `seq` and
 * its format version `v`. Make one with {@link newLedgerLineLink} and reuse
 * it: linking a line fills it in. Internal to src/audit.
 */
export interface LedgerLineLink {
  readonly hash: Buffer
  prevAt: number
  seq: number
  v: number
}

/**
 * An empty {@link LedgerLineLink} for {@link linkLedgerLine} to fill. Internal to src/audit.
 *
 * @example
 * ```ts
 * const link = newLedgerLineLink()
 * ```
 */
export function newLedgerLineLink(): LedgerLineLink {
  return { hash: Buffer.alloc(32), prevAt: -1, seq: -1, v: -1 }
}

/*
 * Why a signed verification may link event and delivery lines from their
 * bytes, parsing none of them.
 *
 * `linkLedgerLine` reads a line L' and accepts it when: it does not open as a
 * checkpoint; its last `,"kind":"` comes right after a member `,"hash":"x"`
 * (at c, 74 bytes, x 64 lowercase hex digits); SHA-256 of L' without those
 * 74 bytes (call that D') is the 32 bytes x spells; and L' ends with
 * `,"v":1}` or `,"v":2}`. It reads `prev` from the first `,"prev":"` after
 * that `kind`, and `seq` right after it, both inside the line. The caller
 * chains the lines (each `seq` one more, each `prev` the lowercase hex of
 * the hash before) and hashes x's bytes into the Merkle tree. (Where D' is
 * hashed, a copy of the line with the part before c moved up to meet the part
 * after the member, changes nothing: those are D's bytes, in order.)
 *
 * `verifyLedger` uses this only with a public key, and accepts what it found
 * only if the whole ledger then verifies: its last line is the closing
 * checkpoint, parsed in full, whose signature holds over the chain's head
 * (v1) or over the root of every entry before it (v2). Any failure, and the
 * ledger is verified again with every line parsed ({@link checkLedgerLine}),
 * whose verdict is returned. So it remains to show that a ledger accepted
 * this way is, line for line, the one the writer signed; then the parsing
 * pass would have accepted it too, with the same result.
 *
 * Let line k be accepted, and suppose its x is the writer's hash h of entry
 * E (shown below). The writer's line is L = canonicalJson(E), and h =
 * SHA-256(D) with D = canonicalJson(E without hash). D' = D, or D' would be
 * a second preimage of h. So L' is D with `,"hash":"h"` inserted at c, and
 * D, from c on, reads `,"kind":"` with no other `,"kind":"` after it. In D,
 * canonical JSON, every `"` delimits a string (content writes it `\"`), and
 * a `"` after `,` opens one, since no letter follows a closing `"`: so each
 * `,"kind":"` in D is a member `kind` of some object. The top-level one is
 * D's last: the members that sort after `kind` (`policyHash`, `prev`, `seq`,
 * `status`, `time`, `transforms`, `v`) hold strings, numbers and transforms
 * of `action`, `path` and `rule`, and no member `kind`. So c is where the
 * writer put `hash`, and L' = L. In L, after the top-level `kind` come its
 * string value, `policyHash` (a string, for an event) and the top-level
 * `prev` and `seq`, and `v` is the last member: so what was read is what the
 * writer wrote. (Reading only has to be right on the writer's lines: on any
 * other line, the check below fails, whatever was read.)
 *
 * x is the writer's h, by induction from the end. The closing checkpoint is
 * parsed and checked in full: its `prev` names the hash of the line before
 * it, and its signature covers that hash (v1) or the tree over every line's
 * x (v2, where another x anywhere gives another root, or SHA-256 collides).
 * Once line k is shown to be the writer's, its `prev`, read correctly as
 * above, is the writer's hash of line k - 1, and the chain check made it
 * equal to line k - 1's x. Every checkpoint on the way is parsed in full.
 *
 * Without a key nothing vouches for x, and a line forged with a fresh hash
 * need not even be JSON: so without one, and when building entries for a
 * report, every line is parsed.
 */

/**
 * Reads an event or delivery line's chain members from its bytes (see the
 * argument above), into `link`: the line `chunk[start, end)`, without its
 * `\n`. False for a checkpoint, and for any line whose bytes are not what
 * the writer writes; the caller then parses it. Offsets into the chunk
 * rather than a view of the line: a view costs more than some lines' checks.
 * Internal to src/audit.
 *
 * @example
 * ```ts
 * const link = newLedgerLineLink()
 * if (linkLedgerLine(chunk, start, end, link) && link.seq === expected && hexOf(chunk, link.prevAt, head)) head.set(link.hash)
 * ```
 */
export function linkLedgerLine(chunk: Buffer, start: number, end: number, link: LedgerLineLink): boolean {
  if (end - start < HASH_CUT || bytesAt(chunk, start, CHECKPOINT_HASH_MEMBER)) return false
  // The last `,"kind":"`, right after the `hash` member: one search, from the end.
  const kind = lastIndexOfMember(chunk, start, end, KIND_MEMBER)
  const cut = kind - HASH_CUT
  if (cut <= start || !bytesAt(chunk, cut, HASH_MEMBER) || chunk[kind - 1] !== QUOTE) return false
  if (chunk[end - 1] !== CLOSE_BRACE || !bytesAt(chunk, end - 7, V_MEMBER)) return false
  const v = chunk[end - 2]! - DIGIT_0
  if (v !== 1 && v !== 2) return false
  // A writer's line names `prev` after `kind` (and `policyHash`), then `seq`.
  const prev = chunk.indexOf(PREV_MEMBER, kind + KIND_MEMBER.length)
  const digits = prev + PREV_MEMBER.length + HASH_HEX + AFTER_PREV.length
  if (prev === -1 || digits >= end || !bytesAt(chunk, digits - AFTER_PREV.length, AFTER_PREV)) return false
  let at = digits
  let seq = 0
  for (; chunk[at] !== COMMA; at++) {
    const byte = chunk[at]
    if (at >= end || byte === undefined || byte < DIGIT_0 || byte > DIGIT_9 || at - digits === MAX_SEQ_DIGITS) return false
    seq = seq * 10 + (byte - DIGIT_0)
  }
  if (at === digits || chunk[digits] === DIGIT_0 || !Number.isSafeInteger(seq)) return false
  if (!hexDecode(chunk, cut + HASH_MEMBER.length, link.hash) || !hashWithoutIs(chunk, start, cut, end, link.hash)) return false
  link.prevAt = prev + PREV_MEMBER.length
  link.seq = seq
  link.v = v
  return true
}

const HEX_DIGITS = Buffer.from('0123456789abcdef')
/** Each byte's value as a lowercase hex digit, -1 for any other byte. */
const HEX_VALUE = new Int8Array(256).fill(-1)
HEX_DIGITS.forEach((digit, value) => (HEX_VALUE[digit] = value))

/** Decodes the 64 lowercase hex digits at `at` into the 32 bytes of `target`; false for any other byte. */
function hexDecode(source: Buffer, at: number, target: Buffer): boolean {
  if (at + HASH_HEX > source.length) return false
  let bad = 0
  for (let i = 0; i < 32; i++) {
    const high = HEX_VALUE[source[at + 2 * i]!]!
    const low = HEX_VALUE[source[at + 2 * i + 1]!]!
    bad |= high | low
    target[i] = (high << 4) | low
  }
  return bad >= 0
}

/**
 * Whether `source` holds at `at` the 64 lowercase hex digits of the 32 bytes
 * `hash`: a `prev` checked against the hash before it without a string made
 * of either. Internal to src/audit.
 *
 * @example
 * ```ts
 * if (!hexOf(chunk, link.prevAt, head)) return null   // the chain breaks here
 * ```
 */
export function hexOf(source: Uint8Array, at: number, hash: Uint8Array): boolean {
  if (at < 0 || at + HASH_HEX > source.length) return false
  let differ = 0
  for (let i = 0; i < 32; i++) {
    const byte = hash[i]!
    differ |= (source[at + 2 * i]! ^ HEX_DIGITS[byte >> 4]!) | (source[at + 2 * i + 1]! ^ HEX_DIGITS[byte & 15]!)
  }
  return differ === 0
}
