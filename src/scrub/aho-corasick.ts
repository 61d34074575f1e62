import { InvalidArgumentError } from '../errors.js'

/**
 * One pattern of an {@link AhoCorasick} automaton.
 *
 * @example
 * ```ts
 * const pattern: AhoCorasickPattern = { text: 'ghp_', tag: 1 << 3 }
 * ```
 */
export interface AhoCorasickPattern {
  /** The literal to find; matched over UTF-16 code units. */
  readonly text: string
  /** Bits reported by {@link AhoCorasick.scanTags} when the pattern occurs; OR-ed for equal patterns. */
  readonly tag: number
  /** Bits 32 to 63 of the tag, reported in `scanTags`'s `high[0]`: a caller with more than 32 flags. 0 when absent. */
  readonly highTag?: number
}

/**
 * Receives matches: `[start, end)` in code units, and the caller's rule number.
 *
 * @example
 * ```ts
 * const sink: MatchSink = { add: (start, end, rule) => spans.push([start, end, rule]) }
 * ```
 */
export interface MatchSink {
  add(start: number, end: number, rule: number): void
}

/**
 * Maps a code unit to the one it is matched as, so equal-after-folding units
 * share a transition. Called at build time only, never while scanning. It must
 * map code units of 128 and above to themselves.
 *
 * @example
 * ```ts
 * const foldDigits: CodeUnitFold = (unit) => (unit >= 49 && unit <= 57 ? 48 : unit) // every digit matches as 0
 * ```
 */
export type CodeUnitFold = (unit: number) => number

/**
 * Folds ASCII letters to lower case: keywords match ignoring case.
 *
 * @example
 * ```ts
 * AhoCorasick.build([{ text: 'bearer', tag: 1 }], foldAsciiCase).scanTags('BEARER x', null, null) // 1
 * ```
 */
export const foldAsciiCase: CodeUnitFold = (unit) => (unit >= 65 && unit <= 90 ? unit + 32 : unit)

/**
 * No folding: exact matching.
 *
 * @example
 * ```ts
 * AhoCorasick.build([{ text: 'Secret', tag: 1 }], foldNone).scanTags('secret', null, null) // 0
 * ```
 */
export const foldNone: CodeUnitFold = (unit) => unit

// Dense transition rows cost `alphabet` Uint16 entries each: a small
// automaton is dense throughout (a step is one array read). A big one keeps
// dense rows for its first levels only, which random-looking text visits at
// nearly every position, so they must stay in cache; its deeper states, which
// text reaches rarely, are packed records (see SPARSE_STRIDE). Row entries are
// 16-bit, so dense rows may only point at the first 65,535 states; the dense
// depth is chosen so that they do.
const SMALL_AUTOMATON = 1 << 18
const MAX_DENSE_DEPTH = 2
const DENSE_BUDGET = 1 << 20
const MAX_ROW_TARGET = 0xffff

// A sparse state is 4 Int32s, one cache-line read: failure state, length of
// the longest pattern ending here, then its child. `child` >= 0 is the class
// of its only child, whose state follows; NO_CHILD; or MANY_CHILDREN, whose
// list sits in childClass/childTarget from childStart[state].
const SPARSE_STRIDE = 4
const NO_CHILD = -1
const MANY_CHILDREN = -2

// The gram prefilter of findLongest (see AhoCorasick). A gram is a pattern's
// first GRAM code units (fewer when a pattern is shorter; none below
// MIN_GRAM, where a gram would pass almost any text). The scan hashes the
// gram ending at each position by shifting a 6-bit code per unit into one
// int32 by ceil(32 / gram) bits: after `gram` shifts a unit has left the
// int32, so the hash depends on the last `gram` units alone, with no mask.
// It is lossy (classes past 63 share codes; the oldest unit keeps 4 bits
// when gram is 5): a collision costs a run of the automaton, never a miss.
const GRAM = 5
const MIN_GRAM = 3
// The Bloom filter: 64-bit blocks (two Int32 words) of which each gram sets 2
// bits in each word. The first word rejects almost every text position with
// one memory read; the second, in the same cache line, is only read for the
// ~1% the first lets through. 32 bits per gram keeps both together to ~0.03%
// false positives on random text, and the filter for 10,000 secrets (~50,000
// grams) at 256 KiB; the floor keeps small filters in L1 cache with fewer
// false positives still. The block comes from the high bits of one product
// of the hash, the first word's bits from its low bits (`1 << x` shifts by
// x's low 5 bits): they never overlap, even at the largest size.
const BLOOM_BITS_PER_GRAM = 32
const MIN_BLOOM_BITS = 1 << 14
const MAX_BLOOM_BITS = 1 << 25
const BLOCK_MIX = 0x9e3779b1 | 0
const SECOND_MIX = 0x85ebca6b | 0

/**
 * A multi-pattern matcher: one automaton (Aho-Corasick, 1975) finds every
 * occurrence of every pattern in a single left-to-right pass over the text,
 * at a cost per code unit that does not grow with the number of patterns.
 * That is why registered secrets use it instead of a regex alternation, whose
 * cost grows with every secret added.
 *
 * Layout, chosen for scan speed: states are numbered breadth-first; the
 * shallow states (all of them for small sets) get a full DFA row, so a step is
 * one array read; deep states, which text rarely reaches, keep their few
 * children and a failure link. Code units are mapped to a compact alphabet
 * first, and a unit that occurs in no pattern sends the scan straight back to
 * the root.
 *
 * {@link AhoCorasick.findLongest} puts a gram prefilter in front of the
 * automaton (the Rabin-Karp / Wu-Manber family of multi-pattern filters)
 * when every pattern is at least 3 code units long: every occurrence begins
 * with one of a known set of grams (each pattern's first 5 units, or fewer
 * when a pattern is shorter), so a rolling hash of the gram ending at each
 * position is looked up in a Bloom filter of those grams, and the automaton
 * runs only from positions the filter passes, for as long as a pattern
 * prefix stays open. Without it, random-looking text keeps a big automaton
 * in deep, cache-cold states at nearly every position; with it, such text
 * costs about one bit test per code unit, however many patterns there are.
 * The filter has false positives (a wasted run), never false negatives, so
 * findLongest reports exactly what the automaton alone would. It is still
 * one left-to-right pass: each run starts at most a gram behind the filter,
 * so even text the filter passes everywhere has each unit read by the
 * automaton at most 5 times.
 *
 * The automaton is immutable; build a new one to add patterns.
 *
 * @example
 * ```ts
 * const ac = AhoCorasick.build([{ text: 'ghp_', tag: 1 }, { text: '@', tag: 2 }], foldAsciiCase)
 * ac.scanTags('mail GHP_xyz@example.com') // 3
 * ac.findLongest('x ghp_ y', { add: (start, end) => console.log(start, end) }, 0) // 2 6
 * ```
 */
export class AhoCorasick {
  /** The number of distinct patterns after folding. */
  readonly patternCount: number
  /** The number of automaton states. */
  readonly stateCount: number
  readonly #classes: Uint16Array
  readonly #alphabet: number
  readonly #denseCount: number
  readonly #delta: Uint16Array
  /** Longest pattern ending at each dense state. */
  readonly #denseOut: Int32Array
  readonly #denseHasOutput: boolean
  readonly #sparse: Int32Array
  readonly #childStart: Int32Array
  readonly #childClass: Uint16Array
  readonly #childTarget: Int32Array
  /** Bits 0-31 of the tags of the patterns ending at each state. */
  readonly #outTag: Int32Array
  /** Bits 32-63. */
  readonly #outHighTag: Int32Array
  /** Gram length of the prefilter; 0 when findLongest runs the automaton over all the text. */
  readonly #gram: number
  readonly #gramCodes: Uint8Array
  readonly #bloom: Int32Array
  readonly #blockShift: number
  /** States shallower than a gram: with BFS numbering, the first ones. */
  readonly #shallowStates: number

  private constructor(parts: {
    patternCount: number
    stateCount: number
    classes: Uint16Array
    alphabet: number
    denseCount: number
    delta: Uint16Array
    denseOut: Int32Array
    sparse: Int32Array
    childStart: Int32Array
    childClass: Uint16Array
    childTarget: Int32Array
    outTag: Int32Array
    outHighTag: Int32Array
    gram: number
    gramCodes: Uint8Array
    bloom: Int32Array
    blockShift: number
    shallowStates: number
  }) {
    this.patternCount = parts.patternCount
    this.stateCount = parts.stateCount
    this.#classes = parts.classes
    this.#alphabet = parts.alphabet
    this.#denseCount = parts.denseCount
    this.#delta = parts.delta
    this.#denseOut = parts.denseOut
    this.#denseHasOutput = parts.denseOut.some((length) => length !== 0)
    this.#sparse = parts.sparse
    this.#childStart = parts.childStart
    this.#childClass = parts.childClass
    this.#childTarget = parts.childTarget
    this.#outTag = parts.outTag
    this.#outHighTag = parts.outHighTag
    this.#gram = parts.gram
    this.#gramCodes = parts.gramCodes
    this.#bloom = parts.bloom
    this.#blockShift = parts.blockShift
    this.#shallowStates = parts.shallowStates
  }

  /**
   * Builds the automaton. Empty patterns are ignored. Cost: linear in the
   * total pattern length, plus a sort of the patterns.
   *
   * @example
   * ```ts
   * const secrets = AhoCorasick.build(values.map((text) => ({ text, tag: 0 })), foldNone)
   * ```
   */
  static build(patterns: readonly AhoCorasickPattern[], fold: CodeUnitFold = foldNone): AhoCorasick {
    const list: readonly AhoCorasickPattern[] = patterns
    if (!Array.isArray(list)) throw new InvalidArgumentError('AhoCorasick.build expects an array of patterns')

    // 1. Fold, merge duplicates, sort: a sorted list builds the trie by
    //    longest-common-prefix alone, with no child lookups.
    const tags = new Map<string, number>()
    const highTags = new Map<string, number>()
    let totalLength = 0
    let shortest = Infinity
    for (const pattern of list as readonly (AhoCorasickPattern | undefined)[]) {
      if (typeof pattern?.text !== 'string' || !Number.isInteger(pattern.tag) || !Number.isInteger(pattern.highTag ?? 0)) {
        throw new InvalidArgumentError('each AhoCorasick pattern needs a string text and an integer tag')
      }
      if (pattern.text === '') continue
      const folded = foldString(pattern.text, fold)
      const previous = tags.get(folded)
      if (previous === undefined) totalLength += folded.length
      if (folded.length < shortest) shortest = folded.length
      tags.set(folded, (previous ?? 0) | pattern.tag)
      highTags.set(folded, (highTags.get(folded) ?? 0) | (pattern.highTag ?? 0))
    }
    const sorted = [...tags.keys()].sort()

    // 2. The trie, states numbered in insertion (depth-first) order.
    const capacity = totalLength + 1
    const parent = new Int32Array(capacity)
    const unit = new Uint16Array(capacity)
    const depth = new Int32Array(capacity)
    const ownLength = new Int32Array(capacity)
    const ownTag = new Int32Array(2 * capacity)
    let count = 1
    let maxDepth = 0
    const path = new Int32Array(longest(sorted) + 1)
    let previous = ''
    for (const text of sorted) {
      const shared = commonPrefix(previous, text)
      for (let i = shared; i < text.length; i++) {
        const node = count++
        parent[node] = path[i]!
        unit[node] = text.charCodeAt(i)
        depth[node] = i + 1
        path[i + 1] = node
      }
      const end = path[text.length]!
      ownLength[end] = text.length
      ownTag[2 * end] = tags.get(text)!
      ownTag[2 * end + 1] = highTags.get(text)!
      if (text.length > maxDepth) maxDepth = text.length
      previous = text
    }

    // 3. The alphabet: every distinct unit gets a class; class 0 is "in no pattern".
    //    Lower-case letters and digits, the bulk of log text, get the first
    //    classes, so the part of a row that text reads spans few cache lines.
    const units = new Set<number>()
    for (let node = 1; node < count; node++) units.add(unit[node]!)
    const classOfUnit = new Map<number, number>()
    for (const u of [...units].sort((a, b) => textRank(a) - textRank(b) || a - b)) classOfUnit.set(u, classOfUnit.size + 1)
    const alphabet = classOfUnit.size + 1
    const classes = new Uint16Array(65536)
    for (let u = 0; u < 65536; u++) {
      const cls = classOfUnit.get(u < 128 ? fold(u) : u)
      if (cls !== undefined) classes[u] = cls
    }

    // 4. Renumber breadth-first (counting sort by depth).
    const perDepth = new Int32Array(maxDepth + 2)
    for (let node = 0; node < count; node++) perDepth[depth[node]! + 1]!++
    for (let d = 1; d <= maxDepth + 1; d++) perDepth[d]! += perDepth[d - 1]!
    const renumbered = new Int32Array(count)
    for (let node = 0; node < count; node++) renumbered[node] = perDepth[depth[node]!]!++

    const bfsParent = new Int32Array(count)
    const bfsClass = new Uint16Array(count)
    const outLength = new Int32Array(count)
    const outTag = new Int32Array(count)
    const outHighTag = new Int32Array(count)
    for (let node = 0; node < count; node++) {
      const id = renumbered[node]!
      bfsParent[id] = node === 0 ? 0 : renumbered[parent[node]!]!
      bfsClass[id] = node === 0 ? 0 : classOfUnit.get(unit[node]!)!
      outLength[id] = ownLength[node]!
      outTag[id] = ownTag[2 * node]!
      outHighTag[id] = ownTag[2 * node + 1]!
    }

    // 5. Children as compressed rows: childStart[s] .. childStart[s + 1].
    const childStart = new Int32Array(count + 1)
    for (let s = 1; s < count; s++) childStart[bfsParent[s]! + 1]!++
    for (let s = 1; s <= count; s++) childStart[s]! += childStart[s - 1]!
    const childClass = new Uint16Array(Math.max(count - 1, 0))
    const childTarget = new Int32Array(Math.max(count - 1, 0))
    const cursor = childStart.slice(0, count)
    for (let s = 1; s < count; s++) {
      const at = cursor[bfsParent[s]!]!++
      childClass[at] = bfsClass[s]!
      childTarget[at] = s
    }

    // 6. Failure links, outputs and dense rows, breadth-first: everything a
    //    state's row needs (its failure state's row) is finished before it.
    // perDepth[d] now counts the states of depth d or less.
    const upTo = (d: number): number => (d > maxDepth ? count : perDepth[d]!)
    let denseCount = 1
    if (count <= MAX_ROW_TARGET && count * alphabet <= SMALL_AUTOMATON) denseCount = count
    else {
      for (let d = MAX_DENSE_DEPTH; d >= 0; d--) {
        if (upTo(d + 1) <= MAX_ROW_TARGET && upTo(d) * alphabet <= DENSE_BUDGET) {
          denseCount = upTo(d)
          break
        }
      }
    }
    const delta = new Uint16Array(denseCount * alphabet)
    const fail = new Int32Array(count)
    const step = (from: number, cls: number): number => {
      let s = from
      while (s >= denseCount) {
        for (let j = childStart[s]!; j < childStart[s + 1]!; j++) if (childClass[j] === cls) return childTarget[j]!
        s = fail[s]!
      }
      return delta[s * alphabet + cls]!
    }
    for (let s = 0; s < count; s++) {
      for (let j = childStart[s]!; j < childStart[s + 1]!; j++) {
        const child = childTarget[j]!
        const target = s === 0 ? 0 : step(fail[s]!, childClass[j]!)
        fail[child] = target
        if (outLength[child] === 0) outLength[child] = outLength[target]!
        outTag[child]! |= outTag[target]!
        outHighTag[child]! |= outHighTag[target]!
      }
      if (s < denseCount) {
        const row = s * alphabet
        if (s !== 0) delta.copyWithin(row, fail[s]! * alphabet, fail[s]! * alphabet + alphabet)
        for (let j = childStart[s]!; j < childStart[s + 1]!; j++) delta[row + childClass[j]!] = childTarget[j]!
      }
    }

    const sparse = new Int32Array((count - denseCount) * SPARSE_STRIDE)
    for (let s = denseCount; s < count; s++) {
      const at = (s - denseCount) * SPARSE_STRIDE
      const children = childStart[s + 1]! - childStart[s]!
      sparse[at] = fail[s]!
      sparse[at + 1] = outLength[s]!
      sparse[at + 2] = children === 0 ? NO_CHILD : children === 1 ? childClass[childStart[s]!]! : MANY_CHILDREN
      sparse[at + 3] = children === 1 ? childTarget[childStart[s]!]! : 0
    }

    // 7. The gram prefilter: one Bloom filter entry per state of depth `gram`,
    //    that is per distinct gram, hashed as the scan will hash it.
    const gram = Math.min(GRAM, shortest)
    const shift = gramShift(gram)
    const filtered = gram >= MIN_GRAM && sorted.length > 0
    const gramCodes = new Uint8Array(filtered ? 65536 : 0)
    let bloom = new Int32Array(0)
    let blockShift = 0
    if (filtered) {
      for (let u = 0; u < 65536; u++) gramCodes[u] = gramCode(classes[u]!)
      const grams = upTo(gram) - upTo(gram - 1)
      let bits = MIN_BLOOM_BITS
      while (bits < grams * BLOOM_BITS_PER_GRAM && bits < MAX_BLOOM_BITS) bits *= 2
      bloom = new Int32Array(bits >>> 5)
      blockShift = 32 - Math.log2(bits >>> 6)
      for (let s = upTo(gram - 1); s < upTo(gram); s++) {
        // The scan shifts each unit in at the bottom: the last unit lands lowest.
        let h = 0
        for (let k = 0, node = s; k < gram; k++, node = bfsParent[node]!) h |= gramCode(bfsClass[node]!) << (k * shift)
        const x = Math.imul(h, BLOCK_MIX)
        const y = Math.imul(h, SECOND_MIX)
        const block = (x >>> blockShift) << 1
        bloom[block]! |= (1 << x) | (1 << (x >>> 5))
        bloom[block + 1]! |= (1 << (y >>> 27)) | (1 << (y >>> 22))
      }
    }

    return new AhoCorasick({
      gram: filtered ? gram : 0,
      gramCodes,
      bloom,
      blockShift,
      shallowStates: filtered ? upTo(gram - 1) : 0,
      patternCount: sorted.length,
      stateCount: count,
      classes,
      alphabet,
      denseCount,
      delta,
      denseOut: outLength.slice(0, denseCount),
      sparse,
      childStart,
      childClass,
      childTarget,
      outTag,
      outHighTag,
    })
  }

  /**
   * Reports, for every position where some pattern ends, the longest pattern
   * ending there, as `sink.add(start, end, rule)`. Every occurrence of every
   * pattern lies inside one reported span.
   *
   * @example
   * ```ts
   * ac.findLongest(text, spans, REGISTERED_SECRET_RULE)
   * ```
   */
  findLongest(text: string, sink: MatchSink, rule: number): void {
    if (this.#gram !== 0) {
      this.#findLongestFiltered(text, sink, rule)
      return
    }
    if (!this.#denseHasOutput) {
      this.#findLongestDeep(text, sink, rule)
      return
    }
    const classes = this.#classes
    const delta = this.#delta
    const denseOut = this.#denseOut
    const sparse = this.#sparse
    const alphabet = this.#alphabet
    const denseCount = this.#denseCount
    let state = 0
    for (let i = 0, n = text.length; i < n; i++) {
      const cls = classes[text.charCodeAt(i)]!
      if (cls === 0) {
        state = 0
        continue
      }
      state = state < denseCount ? delta[state * alphabet + cls]! : this.#sparseStep(state, cls)
      const length = state < denseCount ? denseOut[state]! : sparse[(state - denseCount) * SPARSE_STRIDE + 1]!
      if (length !== 0) sink.add(i + 1 - length, i + 1, rule)
    }
  }

  // findLongest behind the gram prefilter. Why it reports exactly what the
  // plain scan reports: an occurrence starting at s begins with a gram, which
  // the Bloom filter never rejects, so a run starts at s unless one is
  // already going. A run starts from the root, so it tracks every occurrence
  // starting at or after its start; it stops at x only once its state is
  // shallower than a gram, when every occurrence starting at or before
  // x - gram + 1 has ended (and was reported, as the longest ending there).
  // The filter resumes with the grams starting after x - gram + 1. Runs
  // overlap by less than a gram, shorter than any pattern, so no end is
  // reported twice.
  #findLongestFiltered(text: string, sink: MatchSink, rule: number): void {
    const codes = this.#gramCodes
    const bloom = this.#bloom
    const blockShift = this.#blockShift
    const gram = this.#gram
    const shift = gramShift(gram)
    const n = text.length
    let h = 0
    let i = 0
    for (; i < gram - 1 && i < n; i++) h = (h << shift) | codes[text.charCodeAt(i)]!
    for (; i < n; i++) {
      h = (h << shift) | codes[text.charCodeAt(i)]!
      const x = Math.imul(h, BLOCK_MIX)
      const block = (x >>> blockShift) << 1
      const first = (1 << x) | (1 << (x >>> 5))
      if ((bloom[block]! & first) !== first) continue
      const y = Math.imul(h, SECOND_MIX)
      const second = (1 << (y >>> 27)) | (1 << (y >>> 22))
      if ((bloom[block + 1]! & second) !== second) continue
      i = this.#run(text, i + 1 - gram, i, sink, rule)
      // The next gram tested ends at i + 1: hash its first units again.
      h = 0
      for (let k = i + 2 - gram; k <= i; k++) h = (h << shift) | codes[text.charCodeAt(k)]!
    }
  }

  // Runs the automaton from the root at `start`: at least through `tested`
  // (stopping sooner would make the filter test, and pass, the same gram
  // again), then for as long as a gram-long pattern prefix is open. Returns
  // the last position fed.
  #run(text: string, start: number, tested: number, sink: MatchSink, rule: number): number {
    const classes = this.#classes
    const delta = this.#delta
    const denseOut = this.#denseOut
    const sparse = this.#sparse
    const alphabet = this.#alphabet
    const denseCount = this.#denseCount
    const shallowStates = this.#shallowStates
    let state = 0
    for (let i = start, n = text.length; i < n; i++) {
      const cls = classes[text.charCodeAt(i)]!
      if (cls === 0) state = 0
      else {
        state = state < denseCount ? delta[state * alphabet + cls]! : this.#sparseStep(state, cls)
        const length = state < denseCount ? denseOut[state]! : sparse[(state - denseCount) * SPARSE_STRIDE + 1]!
        if (length !== 0) sink.add(i + 1 - length, i + 1, rule)
      }
      if (state < shallowStates && i >= tested) return i
    }
    return text.length - 1
  }

  // findLongest when no dense state has an output (all patterns longer than
  // the dense depth): one read fewer per character on the common path.
  #findLongestDeep(text: string, sink: MatchSink, rule: number): void {
    const classes = this.#classes
    const delta = this.#delta
    const sparse = this.#sparse
    const alphabet = this.#alphabet
    const denseCount = this.#denseCount
    let state = 0
    for (let i = 0, n = text.length; i < n; i++) {
      const cls = classes[text.charCodeAt(i)]!
      if (cls === 0) {
        state = 0
        continue
      }
      if (state < denseCount) {
        state = delta[state * alphabet + cls]!
        if (state < denseCount) continue
      } else state = this.#sparseStep(state, cls)
      if (state >= denseCount) {
        const length = sparse[(state - denseCount) * SPARSE_STRIDE + 1]!
        if (length !== 0) sink.add(i + 1 - length, i + 1, rule)
      }
    }
  }

  /**
   * The OR of the tags of every pattern occurring in `text`: bits 0 to 31
   * returned, bits 32 to 63 (each pattern's `highTag`) written to `high[0]`
   * when `high` is given. When `kinds` and `counts` are given, also counts,
   * for each ASCII code unit, one into `counts[kinds[unit]]` (callers use it
   * for cheap character-class prefilters in the same pass).
   *
   * @example
   * ```ts
   * const hit = keywords.scanTags(text, null, null)
   * if (hit & EMAIL_BIT) runEmailDetector(text)
   * ```
   */
  scanTags(text: string, kinds: Uint8Array | null, counts: Int32Array | null, high: Int32Array | null = null): number {
    const classes = this.#classes
    const delta = this.#delta
    const outTag = this.#outTag
    const outHighTag = this.#outHighTag
    const alphabet = this.#alphabet
    const denseCount = this.#denseCount
    let state = 0
    let tags = 0
    let highTags = 0
    if (kinds !== null && counts !== null) {
      for (let i = 0, n = text.length; i < n; i++) {
        const unit = text.charCodeAt(i)
        if (unit < 128) counts[kinds[unit]!]!++
        const cls = classes[unit]!
        if (cls === 0) {
          state = 0
          continue
        }
        state = state < denseCount ? delta[state * alphabet + cls]! : this.#sparseStep(state, cls)
        tags |= outTag[state]!
        highTags |= outHighTag[state]!
      }
    } else {
      for (let i = 0, n = text.length; i < n; i++) {
        const cls = classes[text.charCodeAt(i)]!
        if (cls === 0) {
          state = 0
          continue
        }
        state = state < denseCount ? delta[state * alphabet + cls]! : this.#sparseStep(state, cls)
        tags |= outTag[state]!
        highTags |= outHighTag[state]!
      }
    }
    if (high !== null) high[0] = highTags
    return tags
  }

  /**
   * The end of the first place, at or after `from`, where a pattern with a
   * non-zero tag occurs once the ASCII code units flagged in `transparent`
   * are left out (-1 when there is none): those neither advance nor reset
   * the automaton, so with `_`, `-` and `.` transparent a pattern `apikey`
   * is found in `api_key` and `Api-Key` (with {@link foldAsciiCase}). The
   * automaton starts afresh at `from`, so a caller that goes on from each
   * end it gets reads the text once.
   *
   * @example
   * ```ts
   * const transparent = new Uint8Array(128)
   * transparent[95] = 1 // _
   * AhoCorasick.build([{ text: 'apikey', tag: 1 }], foldAsciiCase).firstEnd('x API_KEY=1', 0, transparent) // 9
   * ```
   */
  firstEnd(text: string, from: number, transparent: Uint8Array): number {
    const classes = this.#classes
    const delta = this.#delta
    const outTag = this.#outTag
    const alphabet = this.#alphabet
    const denseCount = this.#denseCount
    let state = 0
    for (let i = from, n = text.length; i < n; i++) {
      const unit = text.charCodeAt(i)
      if (unit < 128 && transparent[unit] === 1) continue
      const cls = classes[unit]!
      if (cls === 0) {
        state = 0
        continue
      }
      state = state < denseCount ? delta[state * alphabet + cls]! : this.#sparseStep(state, cls)
      if (outTag[state] !== 0) return i + 1
    }
    return -1
  }

  #sparseStep(from: number, cls: number): number {
    const sparse = this.#sparse
    const denseCount = this.#denseCount
    let state = from
    while (state >= denseCount) {
      const at = (state - denseCount) * SPARSE_STRIDE
      const child = sparse[at + 2]!
      if (child === cls) return sparse[at + 3]!
      if (child === MANY_CHILDREN) {
        for (let j = this.#childStart[state]!, end = this.#childStart[state + 1]!; j < end; j++) {
          if (this.#childClass[j] === cls) return this.#childTarget[j]!
        }
      }
      state = sparse[at]!
    }
    return this.#delta[state * this.#alphabet + cls]!
  }
}

// A class's 6-bit hash code: never 0 (kept for units in no pattern, which no
// gram contains); classes past 63 share codes.
function gramCode(cls: number): number {
  return cls === 0 ? 0 : 1 + ((cls - 1) % 63)
}

// How far the gram hash shifts per unit, so that `gram` shifts push a unit out of the int32.
function gramShift(gram: number): number {
  return Math.ceil(32 / gram)
}

function textRank(unit: number): number {
  if (unit >= 97 && unit <= 122) return 0
  if (unit >= 48 && unit <= 57) return 1
  if (unit < 128) return 2
  return 3
}

function foldString(text: string, fold: CodeUnitFold): string {
  let out: string | undefined
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i)
    const f = u < 128 ? fold(u) : u
    if (f !== u && out === undefined) out = text.slice(0, i)
    if (out !== undefined) out += String.fromCharCode(f)
  }
  return out ?? text
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

function longest(texts: readonly string[]): number {
  let max = 0
  for (const t of texts) if (t.length > max) max = t.length
  return max
}
