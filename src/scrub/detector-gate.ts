import { AhoCorasick, foldAsciiCase, type AhoCorasickPattern, type MatchSink } from './aho-corasick.js'
import { assignmentKeywords } from './assignment-detector.js'
import type { Detector, DetectorContext } from './detectors.js'

/**
 * A detector to gate and the rule number its matches are added under.
 *
 * @example
 * ```ts
 * const gated: GatedDetector = { detector: DETECTORS[0], rule: 1 }
 * ```
 */
export interface GatedDetector {
  readonly detector: Detector
  readonly rule: number
}

interface Entry {
  readonly detector: Detector
  readonly rule: number
  /** The keyword bit, or 0 for a detector with no keyword. */
  readonly bit: number
  /** Which tag word holds `bit`: 0 for bits 0-31 (the automaton's `tag`), 1 for 32-63 (its `highTag`). */
  readonly word: number
  /** Whether character counts can also start it. */
  readonly counted: boolean
}

// Character kinds counted in the keyword pass, for detectors that have no keyword.
const KIND_DIGIT = 1
const KIND_DOT = 2
const KIND_COLON = 3
// Keyword bits: the automaton's two tag words.
const KEYWORD_BITS = 64
const KINDS = new Uint8Array(128)
for (let c = 48; c <= 57; c++) KINDS[c] = KIND_DIGIT
KINDS[46] = KIND_DOT
KINDS[58] = KIND_COLON

// A count no text reaches: what a widened count is when the replacement unit is itself counted.
const UNLIMITED = 0x7fffffff

/**
 * What the keyword pass of a {@link DetectorGate} found in one text: the
 * keyword bits (the automaton's two tag words) and the counts of digits,
 * dots and colons. Kept so a view made from that text (the same length,
 * some units replaced) can run its detectors without a pass of its own
 * (see {@link DetectorGate.widen}).
 *
 * @example
 * ```ts
 * const found = new KeywordFindings()
 * gate.scan('token ghp_…', found)
 * gate.runFound('token ghp_…', found, spans)
 * ```
 */
export class KeywordFindings {
  low = 0
  high = 0
  digits = 0
  dots = 0
  colons = 0

  clear(): void {
    this.low = 0
    this.high = 0
    this.digits = 0
    this.dots = 0
    this.colons = 0
  }
}

/**
 * Runs detectors only on strings that may hold their match, as gitleaks
 * does: one Aho-Corasick pass over a string finds every detector keyword
 * (ASCII case ignored) and counts digits, dots and colons; then a detector
 * runs when one of its keywords occurred, or, for one with minimum counts
 * (numbers have no keyword good enough), when the counts reach them. Most
 * strings hold no keyword, so most detectors never run. Everything per
 * detector (its keyword bit, whether it is counted) is computed once, here.
 * Internal to airlock-sdk: shared by the Scrubber's engine and the leak scan.
 *
 * @example
 * ```ts
 * const context = { sensitiveKeys: new SensitiveKeyMatcher() }
 * const gate = new DetectorGate(DETECTORS.map((detector, rule) => ({ detector, rule })), context)
 * gate.run('mail ada@example.com', spans) // only the detectors keyed on '@' (and counted ones whose counts are met) run
 * ```
 */
export class DetectorGate {
  // By keyword bit (0-31 the low word, 32-63 the high one): the detectors that bit starts.
  readonly #byBit: readonly (readonly Entry[])[]
  // Detectors that character counts can start, and the least counts any of them needs.
  readonly #counted: readonly Entry[]
  readonly #minDigits: number
  readonly #minDots: number
  readonly #minColons: number
  readonly #keywords: AhoCorasick | null
  readonly #counts = new Int32Array(4)
  readonly #highTags = new Int32Array(1)
  readonly #context: DetectorContext
  readonly #patterns: readonly AhoCorasickPattern[]
  readonly #found = new KeywordFindings()
  // By replacement unit: the bits of the keywords that hold it (see widen).
  readonly #holding = new Map<number, Int32Array>()

  /** `keywords: 'sensitive-keys'` takes the spellings of `context.sensitiveKeys`. */
  constructor(detectors: readonly GatedDetector[], context: DetectorContext) {
    const entries: Entry[] = []
    const keywords: AhoCorasickPattern[] = []
    // One bit per keyword detector, in the automaton's two 32-bit tag words (35 detectors have keywords): with one
    // word, bits wrapped and secret-assignment ran on every Slack token keyword, netrc on every `ghp_`.
    let nextBit = 0
    for (const { detector, rule } of detectors) {
      const words =
        detector.keywords === 'sensitive-keys' ? assignmentKeywords(context.sensitiveKeys) : detector.keywords
      // Past 64, bits are shared: a detector then also runs on another's keywords, which costs time and misses nothing.
      const index = words.length === 0 ? -1 : nextBit++ % KEYWORD_BITS
      const bit = index === -1 ? 0 : 1 << (index & 31)
      const word = index >= 32 ? 1 : 0
      for (const text of words) keywords.push(word === 0 ? { text, tag: bit } : { text, tag: 0, highTag: bit })
      entries.push({ detector, rule, bit, word, counted: detector.minDigits + detector.minDots + detector.minColons > 0 })
    }
    const byBit: Entry[][] = Array.from({ length: KEYWORD_BITS }, () => [])
    for (const entry of entries) if (entry.bit !== 0) byBit[entry.word * 32 + 31 - Math.clz32(entry.bit)]!.push(entry)
    this.#byBit = byBit
    this.#counted = entries.filter((entry) => entry.counted)
    this.#minDigits = Math.min(...this.#counted.map((e) => e.detector.minDigits))
    this.#minDots = Math.min(...this.#counted.map((e) => e.detector.minDots))
    this.#minColons = Math.min(...this.#counted.map((e) => e.detector.minColons))
    this.#keywords = entries.length === 0 ? null : AhoCorasick.build(keywords, foldAsciiCase)
    this.#context = context
    this.#patterns = keywords
  }

  /** Runs on `text` every detector its keywords or counts let through; each adds its matches to `sink` under its rule. */
  run(text: string, sink: MatchSink): void {
    this.scan(text, this.#found)
    this.runFound(text, this.#found, sink)
  }

  /**
   * The keyword pass alone: which keywords occur in `text` and how many
   * digits, dots and colons it holds, into `found`.
   */
  scan(text: string, found: KeywordFindings): void {
    if (this.#keywords === null) {
      found.clear()
      return
    }
    const counts = this.#counts
    counts.fill(0)
    found.low = this.#keywords.scanTags(text, KINDS, counts, this.#highTags)
    found.high = this.#highTags[0]!
    found.digits = counts[KIND_DIGIT]!
    found.dots = counts[KIND_DOT]!
    found.colons = counts[KIND_COLON]!
  }

  /**
   * Makes `into` what `found`, the findings of a text, says of that text
   * with any of its units replaced by `unit` (the decoder's separated view:
   * escapes read as spaces; a view with matches blanked: NUL): without a
   * scan, and never less than a scan of it would find. A replaced unit can
   * only end keyword occurrences, except in keywords that hold `unit`, and
   * only lower the counts, unless `unit` is counted: those bits are added,
   * those counts made unlimited.
   */
  widen(found: KeywordFindings, unit: number, into: KeywordFindings): void {
    let holding = this.#holding.get(unit)
    if (holding === undefined) {
      holding = this.#keywordsHolding(unit)
      this.#holding.set(unit, holding)
    }
    const kind = unit < 128 ? KINDS[unit]! : 0
    into.low = found.low | holding[0]!
    into.high = found.high | holding[1]!
    into.digits = kind === KIND_DIGIT ? UNLIMITED : found.digits
    into.dots = kind === KIND_DOT ? UNLIMITED : found.dots
    into.colons = kind === KIND_COLON ? UNLIMITED : found.colons
  }

  /**
   * Runs on `text` every detector `found` lets through: the findings of
   * {@link DetectorGate.scan} on `text`, or {@link DetectorGate.widen}ed
   * from those of the text `text` was made from. With findings wider than
   * `text`'s own, a detector may run and find nothing; none is skipped.
   */
  runFound(text: string, found: KeywordFindings, sink: MatchSink): void {
    if (this.#keywords === null) return
    const low = found.low
    const high = found.high
    const digits = found.digits
    const dots = found.dots
    const colons = found.colons
    // Only the keywords found and the counts met are visited: most strings start nothing, and cost the scan alone.
    // The order detectors add matches in does not matter: the span list sorts and resolves them.
    this.#runBits(low, 0, text, sink)
    this.#runBits(high, 32, text, sink)
    if (digits < this.#minDigits || dots < this.#minDots || colons < this.#minColons) return
    for (const entry of this.#counted) {
      const d = entry.detector
      // A keyword already started it.
      if (((entry.word === 0 ? low : high) & entry.bit) !== 0) continue
      if (digits >= d.minDigits && dots >= d.minDots && colons >= d.minColons) d.find(text, sink, entry.rule, this.#context)
    }
  }

  // The keyword bits (low word, high word) of the keywords that hold `unit`, ASCII case ignored as the scan ignores it.
  #keywordsHolding(unit: number): Int32Array {
    const folded = foldAsciiCase(unit)
    let low = 0
    let high = 0
    for (const keyword of this.#patterns) {
      let holds = false
      for (let i = 0; i < keyword.text.length && !holds; i++) holds = foldAsciiCase(keyword.text.charCodeAt(i)) === folded
      if (!holds) continue
      low |= keyword.tag
      high |= keyword.highTag ?? 0
    }
    return Int32Array.of(low, high)
  }

  #runBits(word: number, base: number, text: string, sink: MatchSink): void {
    for (let bits = word; bits !== 0; bits &= bits - 1) {
      const bit = 31 - Math.clz32(bits & -bits)
      for (const entry of this.#byBit[base + bit]!) entry.detector.find(text, sink, entry.rule, this.#context)
    }
  }
}
