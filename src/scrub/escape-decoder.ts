import type { MatchSink } from './aho-corasick.js'

/**
 * How many times a string is decoded, at most: JSON inside JSON inside JSON
 * (`\\\\n` reads as a newline after three decodings), or JSON inside a URL
 * inside JSON. Each level costs one more scan of the string, so the bound
 * keeps the scrubber's work a constant multiple of a plain scan.
 *
 * @example
 * ```ts
 * decoder.begin('x\\\\\\\\nAKIA…', false)
 * while (decoder.next()) console.log(decoder.level) // 1, 2, 3
 * ```
 */
export const MAX_DECODE_LEVELS = 3

const PERCENT = 37
const PLUS = 43
const SPACE = 32

/**
 * What `separated` reads an escape of a letter, digit, `_`, `-` or `.` as:
 * a space, in place of the unit `decoded` has there.
 *
 * @example
 * ```ts
 * gate.widen(decodedFound, SEPARATOR_UNIT, separatedFound) // what the separated view may hold
 * ```
 */
export const SEPARATOR_UNIT = SPACE

// Hex digit values, -1 for anything else.
const HEX = new Int8Array(128).fill(-1)
for (let c = 48; c <= 57; c++) HEX[c] = c - 48
for (let c = 65; c <= 70; c++) HEX[c] = c - 55
for (let c = 97; c <= 102; c++) HEX[c] = c - 87

// The one-character backslash escapes of JSON and JavaScript, by the character after the backslash.
const SIMPLE_ESCAPES = new Int32Array(128).fill(-1)
for (const [escape, unit] of [
  ['n', 10],
  ['t', 9],
  ['a', 7], // Python's and Go's
  ['r', 13],
  ['b', 8],
  ['f', 12],
  ['v', 11],
  ['0', 0],
  ['"', 34],
  ["'", 39],
  ['\\', 92],
  ['/', 47],
] as const) {
  SIMPLE_ESCAPES[escape.charCodeAt(0)] = unit
}

// What the decoding pass stops at: the start of an escape, and '+' (a space in a form body).
const SPECIAL = new Uint8Array(128)
SPECIAL[92] = 1 // \
SPECIAL[37] = 1 // %
SPECIAL[43] = 1 // +

// Characters that extend a token on either side in some detector's boundary
// check (`(?<![A-Za-z0-9_-])`, `(?<![0-9A-Za-z.])`, a card group glued to a
// word). An escape that decodes to one of them is a space in `separated`.
const TOKEN_CHARACTER = new Uint8Array(128)
for (let c = 48; c <= 57; c++) TOKEN_CHARACTER[c] = 1
for (let c = 65; c <= 90; c++) TOKEN_CHARACTER[c] = 1
for (let c = 97; c <= 122; c++) TOKEN_CHARACTER[c] = 1
TOKEN_CHARACTER[95] = 1 // _
TOKEN_CHARACTER[45] = 1 // -
TOKEN_CHARACTER[46] = 1 // .

function hexAt(text: string, i: number): number {
  const c = text.charCodeAt(i) // NaN past the end, which fails the test
  return c < 128 ? HEX[c]! : -1
}

// The value of `count` hex digits at `i`, or -1.
function hexRun(text: string, i: number, count: number): number {
  let value = 0
  for (let k = 0; k < count; k++) {
    const h = hexAt(text, i + k)
    if (h < 0) return -1
    value = value * 16 + h
  }
  return value
}

// The byte of the `%XX` at `i`, or -1.
function percentByte(text: string, i: number): number {
  return text.charCodeAt(i) === PERCENT ? hexRun(text, i + 1, 2) : -1
}

/**
 * Decoded views of a string that holds escape sequences, each with a map
 * back to the original, so a match found in a view can be replaced in the
 * original, escape sequences and all. Text that carries text (a log message
 * holding serialized JSON, an exception quoting a response body, a URL in a
 * query parameter) hides tokens from detectors: in `x\nAKIA…` the `n` of the
 * escape reads as a letter glued to the key, and in `p%40ss` a registered
 * secret `p@ss` is not spelled out. A view undoes that.
 *
 * Decoded, level by level (up to {@link MAX_DECODE_LEVELS}, stopping when a
 * level changes nothing, so `\\n`, JSON inside JSON, decodes twice):
 *
 * - JSON and JavaScript backslash escapes: `\n \t \r \b \f \v \0 \" \' \\ \/`,
 *   `\uXXXX` (a surrogate pair as two of them), `\u{X…}` and `\xXX`; and
 *   Python's and Go's `\a` and `\UXXXXXXXX`;
 * - percent escapes: `%XX` sequences read as UTF-8; a byte that starts or
 *   continues no valid UTF-8 sequence reads as Latin-1, as `unescape` reads
 *   it (that is how `escape()` writes `é`); and `escape()`'s `%uXXXX`.
 *
 * Anything else is left as it is: `\q`, `\u12`, `%G1`, a lone `%`, a
 * trailing `\`. Each level is one left-to-right pass (linear in the length,
 * as each escape reads a bounded number of characters past its start), and
 * a string with no `\` or `%` (nor `+`, when a form view is asked for)
 * costs two `indexOf` calls and allocates nothing.
 *
 * Each level offers up to three views of one length, sharing one map:
 *
 * - `decoded`, what the text says: where registered secrets, canaries,
 *   detectors and custom patterns run (`gh\u0070_…` is a GitHub token);
 * - `separated`, `decoded` with every escape that decodes to a letter, digit,
 *   `_`, `-` or `.` read as a space instead: the escape is a boundary, as
 *   `\n` is, so `\u0041AKIA…` shows detectors a key that starts after the
 *   escape. The same string as `decoded` when there is no such escape (no
 *   serializer or URL encoder writes one), and then not scanned twice.
 *   Detectors and custom patterns run on it;
 * - `formDecoded`, the previous level read as an HTML form body, `+` as a
 *   space (`URLSearchParams`): only when asked for (a registered secret
 *   holds a space) and the text holds a `+`.
 *
 * Each decoded code unit maps to the range of the original it came from
 * (both halves of a surrogate pair written as one escape share one range);
 * the ranges of a view's units are ascending and tile the original. A span
 * `[start, end)` of a view maps to {@link EscapeDecoder.originStart}
 * `(start)` .. {@link EscapeDecoder.originEnd}`(end)`: from the first unit's
 * range start to the last unit's range end, so an escape inside or at the
 * edge of a match is covered whole.
 *
 * The map keeps one record per escape, not one per unit: between two
 * escapes, units were copied one for one. Scratch buffers are reused from
 * string to string, and grow to the longest string decoded. Internal to
 * airlock-sdk: shared by the Scrubber's engine and the leak scan, so both
 * see the same views.
 *
 * @example
 * ```ts
 * const decoder = new EscapeDecoder()
 * decoder.begin('{"a":"x\\nAKIAIOSFODNN7EXAMPLE"}', false)
 * while (decoder.next()) {
 *   decoder.decoded // '{"a":"x\nAKIAIOSFODNN7EXAMPLE"}', with a real newline
 *   decoder.originStart(8) // 9: the key starts after the two-character escape
 * }
 * ```
 */
export class EscapeDecoder {
  /** The current level's text, escapes decoded; null when the level decoded nothing and holds a form view only. */
  decoded: string | null = null
  /**
   * Whether an escape of this level decoded to a letter, digit, `_`, `-` or
   * `.`, so that {@link EscapeDecoder.separated} differs from `decoded`.
   */
  separates = false
  /** The previous level with `+` read as a space and escapes decoded, or null. */
  formDecoded: string | null = null
  /** The current level: 1 after the first successful {@link EscapeDecoder.next}, 0 before. */
  level = 0

  #text = ''
  #formView = false
  #finished = true
  /** What each level decoded, to map its units back one level at a time. */
  readonly #levels = Array.from({ length: MAX_DECODE_LEVELS }, () => new LevelMap())
  // The units of the level last decoded: one byte each while they all fit one (most text), else two (#units).
  #bytes = Buffer.alloc(0)
  #units = new Uint16Array(0)
  #unitBytes = Buffer.alloc(0)
  // Scratch for the form view, which differs from `decoded` in a few units and must leave it intact.
  #spareBytes = Buffer.alloc(0)
  #spare = new Uint16Array(0)
  #spareUnitBytes = Buffer.alloc(0)
  // Whether a unit of the level last decoded needs more than a byte, so that its units are in #units.
  #wide = false
  #plusUnits = new Int32Array(0)
  // What the escape parsed last decodes to: one unit, or a surrogate pair.
  #unit = 0
  #lowUnit = -1
  /** Whether the last level decoded an escape to '+', which a form view of it would read as a space. */
  #decodedPlus = false
  // The separated view of the current level once asked for (a caller that needs no scan of it never pays for it).
  #separated: string | null = null
  #decodedLength = 0
  readonly #sink = new OriginSink(this)

  /**
   * Starts on `text`; {@link EscapeDecoder.next} then builds its levels one
   * by one. With `formView`, levels also offer `formDecoded`.
   */
  begin(text: string, formView: boolean): void {
    this.#text = text
    this.#formView = formView
    this.#finished = false
    this.level = 0
    this.decoded = null
    this.#dropSeparated()
    this.formDecoded = null
  }

  /**
   * `decoded` with escapes of letters, digits, `_`, `-` and `.` read as
   * spaces; the same string when there are none (see
   * {@link EscapeDecoder.separates}), null when `decoded` is. Built on
   * first use at each level: one more string as long as the text.
   */
  get separated(): string | null {
    if (this.decoded === null || !this.separates) return this.decoded
    this.#separated ??= this.#separatedView(this.#decodedLength, this.#levels[this.level - 1]!)
    return this.#separated
  }

  /**
   * Builds the next level from the last `decoded` (the original first).
   * Returns false, and drops the views, when there is none: no escape
   * decoded, or {@link MAX_DECODE_LEVELS} reached.
   */
  next(): boolean {
    if (this.#finished) return false
    const source = this.level === 0 ? this.#text : this.decoded
    if (source === null || this.level === MAX_DECODE_LEVELS) return this.#finish()
    const escapes = source.indexOf('\\') !== -1 || source.indexOf('%') !== -1
    const plus = this.#formView && source.indexOf('+') !== -1
    const map = this.#levels[this.level]!
    if (!(escapes && this.#decodeLevel(source, plus, map))) {
      // A '+' the last level did not decode was read as a space in its form view already.
      if (!plus || (this.level > 0 && !this.#decodedPlus)) return this.#finish()
      // Nothing decodes, but '+' does in a form body: this level is the form view alone, on the same positions.
      map.reset()
      this.decoded = null
      this.#dropSeparated()
      this.formDecoded = source.replaceAll('+', ' ')
      this.level++
      this.#finished = true // the next level would decode the same nothing
      return true
    }
    this.level++
    return true
  }

  /** Where the unit at `index` of the current views starts in the original. */
  originStart(index: number): number {
    let at = index
    for (let k = this.level - 1; k >= 0; k--) at = this.#levels[k]!.sourceStart(at)
    return at
  }

  /** Where the unit before `end` of the current views ends in the original: the exclusive end of a span ending at `end`. */
  originEnd(end: number): number {
    let at = end
    for (let k = this.level - 1; k >= 0; k--) at = this.#levels[k]!.sourceEnd(at)
    return at
  }

  /**
   * A sink that maps each span of the current views back to the original,
   * then hands it to `target`. The same object every call: set up once
   * before a loop over levels.
   */
  mapInto(target: MatchSink): MatchSink {
    this.#sink.target = target
    return this.#sink
  }

  #finish(): false {
    this.#finished = true
    this.#text = ''
    this.decoded = null
    this.#dropSeparated()
    this.formDecoded = null
    this.#sink.target = NO_SINK
    return false
  }

  // Decodes `source` (the current level) into the next one, recording its escapes in `map`.
  // Returns false when no escape decoded. One pass writes the code units into a reused buffer,
  // which becomes a string once, and records only the escapes, not a position per unit:
  // concatenating a string per escape, or keeping a map entry per unit, costs several times
  // more on long text that is all escapes. Units go into a one-byte buffer until one needs two
  // bytes; then what was written is widened once and the pass goes on in a two-byte one, so
  // most text is written, and made a string, one byte a unit with no copy in between.
  #decodeLevel(source: string, plus: boolean, map: LevelMap): boolean {
    const n = source.length
    if (this.#bytes.length < n) this.#bytes = Buffer.allocUnsafe(Math.max(n, 2 * this.#bytes.length))
    if (plus && this.#plusUnits.length < n) this.#plusUnits = new Int32Array(n)
    map.reset()
    let out: Uint8Array | Uint16Array = this.#bytes
    let wide = false
    const plusUnits = this.#plusUnits
    let units = 0
    let tokens = 0
    let pluses = 0
    let decodedPlus = false
    let i = 0
    while (i < n) {
      const c = source.charCodeAt(i)
      if (c < 128 ? SPECIAL[c] === 0 : c < 256 || wide) {
        out[units++] = c
        i++
        continue
      }
      if (c >= 128) {
        out = this.#widened(units, n)
        wide = true
        continue
      }
      const length = c === PLUS ? 0 : c === PERCENT ? this.#percentEscape(source, i) : this.#backslashEscape(source, i)
      if (length === 0) {
        if (c === PLUS && plus) plusUnits[pluses++] = units
        out[units++] = c
        i++
        continue
      }
      const unit = this.#unit
      if (unit < 128 && TOKEN_CHARACTER[unit] === 1) tokens++
      else if (unit === PLUS) decodedPlus = true
      if (!wide && (unit >= 256 || this.#lowUnit !== -1)) {
        out = this.#widened(units, n)
        wide = true
      }
      const first = units
      out[units++] = unit
      if (this.#lowUnit !== -1) out[units++] = this.#lowUnit
      map.add(i, i + length, first, units)
      i += length
    }
    if (map.count === 0) return false
    this.#decodedPlus = decodedPlus
    this.#wide = wide
    this.decoded = this.#viewOf(units)
    this.#dropSeparated()
    this.separates = tokens > 0
    this.#decodedLength = units
    this.formDecoded = pluses === 0 ? null : this.#withSpaces(units, plusUnits, pluses)
    return true
  }

  // The two-byte unit buffer, at least `length` long, holding the first `count` units written to the one-byte one.
  #widened(count: number, length: number): Uint16Array {
    if (this.#units.length < length) {
      this.#units = new Uint16Array(Math.max(length, 2 * this.#units.length))
      this.#unitBytes = Buffer.from(this.#units.buffer)
    }
    this.#units.set(this.#bytes.subarray(0, count))
    return this.#units
  }

  #dropSeparated(): void {
    this.separates = false
    this.#separated = null
  }

  // The decoded units with a space for each escape that decoded to a token character, made in place:
  // `decoded` is a string already, and the next level decodes from that string, not from the buffer.
  #separatedView(length: number, map: LevelMap): string {
    const out = this.#wide ? this.#units : this.#bytes
    for (let j = 0; j < map.count; j++) {
      const at = map.unitStarts[j]!
      const unit = out[at]!
      if (unit < 128 && TOKEN_CHARACTER[unit] === 1) out[at] = SPACE
    }
    return this.#viewOf(length)
  }

  // The first `length` decoded units as a string. Node's UTF-16 decoding copies code units as they
  // are, lone surrogates included (TextDecoder would replace them). A view whose units all fit a
  // byte (most text) is a one-byte string: half the memory, and the detectors' regular expressions
  // run faster on it.
  #viewOf(length: number): string {
    return this.#wide ? this.#unitBytes.toString('utf16le', 0, 2 * length) : this.#bytes.toString('latin1', 0, length)
  }

  // The decoded units with a space at each of the first `count` of `positions`, in a copy: the
  // separated view is made from the decoded units afterwards.
  #withSpaces(length: number, positions: Int32Array, count: number): string {
    if (!this.#wide) {
      if (this.#spareBytes.length < length) this.#spareBytes = Buffer.allocUnsafe(Math.max(length, 2 * this.#spareBytes.length))
      const spare = this.#spareBytes
      this.#bytes.copy(spare, 0, 0, length)
      for (let k = 0; k < count; k++) spare[positions[k]!] = SPACE
      return spare.toString('latin1', 0, length)
    }
    if (this.#spare.length < length) {
      this.#spare = new Uint16Array(Math.max(length, 2 * this.#spare.length))
      this.#spareUnitBytes = Buffer.from(this.#spare.buffer)
    }
    const spare = this.#spare
    spare.set(this.#units.subarray(0, length))
    for (let k = 0; k < count; k++) spare[positions[k]!] = SPACE
    return this.#spareUnitBytes.toString('utf16le', 0, 2 * length)
  }

  // The length of the backslash escape at `i` (0 when there is none), its value in #unit and #lowUnit.
  #backslashEscape(text: string, i: number): number {
    this.#lowUnit = -1
    const kind = text.charCodeAt(i + 1)
    if (kind < 128 && SIMPLE_ESCAPES[kind]! >= 0) {
      this.#unit = SIMPLE_ESCAPES[kind]!
      return 2
    }
    if (kind === 120 /* x */) {
      const value = hexRun(text, i + 2, 2)
      if (value < 0) return 0
      this.#unit = value
      return 4
    }
    if (kind === 85 /* U */) {
      // Python's and Go's \UXXXXXXXX.
      const value = hexRun(text, i + 2, 8)
      if (value < 0 || value > 0x10ffff) return 0
      this.#setCodePoint(value)
      return 10
    }
    if (kind !== 117 /* u */) return 0
    if (text.charCodeAt(i + 2) !== 123 /* { */) {
      const value = hexRun(text, i + 2, 4)
      if (value < 0) return 0
      this.#unit = value
      return 6
    }
    // \u{X…}: one to six hex digits, at most 10FFFF.
    let codePoint = 0
    let j = i + 3
    for (let h; j < i + 9 && (h = hexAt(text, j)) >= 0; j++) codePoint = codePoint * 16 + h
    if (j === i + 3 || text.charCodeAt(j) !== 125 /* } */ || codePoint > 0x10ffff) return 0
    this.#setCodePoint(codePoint)
    return j + 1 - i
  }

  // The length of the percent escape at `i` (0 when there is none), its value in #unit and #lowUnit.
  #percentEscape(text: string, i: number): number {
    this.#lowUnit = -1
    const lead = hexRun(text, i + 1, 2)
    if (lead < 0) {
      if (text.charCodeAt(i + 1) !== 117 /* u */) return 0
      const value = hexRun(text, i + 2, 4)
      if (value < 0) return 0
      this.#unit = value
      return 6
    }
    this.#unit = lead
    if (lead < 0x80) return 3
    // A UTF-8 sequence: the lead byte says how many continuation bytes follow, and bounds the
    // first one (no overlong forms, no surrogates, nothing past 10FFFF).
    let more: number
    let low = 0x80
    let high = 0xbf
    if (lead >= 0xc2 && lead <= 0xdf) more = 1
    else if (lead >= 0xe0 && lead <= 0xef) {
      more = 2
      if (lead === 0xe0) low = 0xa0
      else if (lead === 0xed) high = 0x9f
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      more = 3
      if (lead === 0xf0) low = 0x90
      else if (lead === 0xf4) high = 0x8f
    } else return 3 // a continuation byte or an invalid lead: Latin-1
    let codePoint = lead & (more === 1 ? 0x1f : more === 2 ? 0x0f : 0x07)
    for (let k = 1; k <= more; k++) {
      const byte = percentByte(text, i + 3 * k)
      if (byte < low || byte > high) return 3 // not valid UTF-8: the lead byte alone, as Latin-1
      codePoint = (codePoint << 6) | (byte & 0x3f)
      low = 0x80
      high = 0xbf
    }
    this.#setCodePoint(codePoint)
    return 3 * (more + 1)
  }

  #setCodePoint(codePoint: number): void {
    if (codePoint <= 0xffff) {
      this.#unit = codePoint
      return
    }
    const offset = codePoint - 0x10000
    this.#unit = 0xd800 + (offset >> 10)
    this.#lowUnit = 0xdc00 + (offset & 0x3ff)
  }
}

/*
 * The escapes one level decoded, in order: where each starts and ends in the
 * text it decoded (the source), and which units of the decoded text it
 * became. Everything between two escapes was copied unit for unit, so these
 * few records map any unit back, with a binary search; a cursor makes the
 * ascending lookups of a scan's matches cost O(1) each, amortized.
 */
class LevelMap {
  count = 0
  sourceStarts = new Int32Array(16)
  sourceEnds = new Int32Array(16)
  unitStarts = new Int32Array(16)
  unitEnds = new Int32Array(16)
  #cursor = 0

  reset(): void {
    this.count = 0
    this.#cursor = 0
  }

  add(sourceStart: number, sourceEnd: number, unitStart: number, unitEnd: number): void {
    if (this.count === this.unitStarts.length) this.#grow()
    const j = this.count++
    this.sourceStarts[j] = sourceStart
    this.sourceEnds[j] = sourceEnd
    this.unitStarts[j] = unitStart
    this.unitEnds[j] = unitEnd
  }

  /** Where decoded unit `unit` starts in the source. */
  sourceStart(unit: number): number {
    const j = this.#lastEscapeFrom(unit)
    if (j < 0) return unit
    return unit < this.unitEnds[j]! ? this.sourceStarts[j]! : this.sourceEnds[j]! + unit - this.unitEnds[j]!
  }

  /** Where decoded unit `end - 1` ends in the source. */
  sourceEnd(end: number): number {
    const j = this.#lastEscapeFrom(end - 1)
    if (j < 0) return end
    return end - 1 < this.unitEnds[j]! ? this.sourceEnds[j]! : this.sourceEnds[j]! + end - this.unitEnds[j]!
  }

  // The last escape whose units start at or before `unit`, or -1: galloping from the cursor, then bisecting.
  #lastEscapeFrom(unit: number): number {
    const starts = this.unitStarts
    const count = this.count
    let low = -1 // starts[low] <= unit, or -1
    let high = count // starts[high] > unit, or count
    const cursor = this.#cursor
    if (cursor < count) {
      if (starts[cursor]! <= unit) {
        low = cursor
        let step = 1
        while (low + step < count && starts[low + step]! <= unit) {
          low += step
          step *= 2
        }
        high = Math.min(low + step, count)
      } else high = cursor
    }
    while (high - low > 1) {
      const middle = (low + high) >>> 1
      if (starts[middle]! <= unit) low = middle
      else high = middle
    }
    if (low >= 0) this.#cursor = low
    return low
  }

  #grow(): void {
    this.sourceStarts = doubled(this.sourceStarts)
    this.sourceEnds = doubled(this.sourceEnds)
    this.unitStarts = doubled(this.unitStarts)
    this.unitEnds = doubled(this.unitEnds)
  }
}

function doubled(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(array.length * 2)
  grown.set(array)
  return grown
}

const NO_SINK: MatchSink = { add() {} }

// Maps spans of the decoder's current views back to the original.
class OriginSink implements MatchSink {
  target: MatchSink = NO_SINK
  readonly #decoder: EscapeDecoder

  constructor(decoder: EscapeDecoder) {
    this.#decoder = decoder
  }

  add(start: number, end: number, rule: number): void {
    if (end <= start) return
    this.target.add(this.#decoder.originStart(start), this.#decoder.originEnd(end), rule)
  }
}
