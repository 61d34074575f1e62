import type { MatchSink } from './aho-corasick.js'

/**
 * The matches found in one string, as parallel typed arrays reused from call
 * to call, so a scan that finds nothing allocates nothing.
 *
 * {@link SpanList.resolve} turns overlapping matches into disjoint spans,
 * deterministically: leftmost first; at the same start the longest; at the
 * same start and length the lowest rule number (registered secrets are rule 0,
 * so they win ties, then detectors in `DETECTOR_IDS` order, then custom
 * patterns). A later match that overlaps the winner is merged into it, and
 * when it reaches further the winner's span grows to cover it: a secret is
 * never half-redacted because another rule claimed its first characters.
 *
 * @example
 * ```ts
 * const spans = new SpanList()
 * spans.add(4, 10, 2)
 * spans.add(6, 14, 0)
 * spans.resolve() // one span: [4, 14) under rule 2
 * ```
 */
export class SpanList implements MatchSink {
  /** Number of spans held. */
  count = 0
  start = new Int32Array(16)
  end = new Int32Array(16)
  rule = new Int32Array(16)
  #scratchStart = new Int32Array(0)
  #scratchEnd = new Int32Array(0)
  #scratchRule = new Int32Array(0)

  /** Forgets every span; keeps the storage. */
  reset(): void {
    this.count = 0
  }

  add(start: number, end: number, rule: number): void {
    if (end <= start) return
    if (this.count === this.start.length) this.#grow()
    const i = this.count++
    this.start[i] = start
    this.end[i] = end
    this.rule[i] = rule
  }

  /** Sorts and merges in place; afterwards spans are disjoint and ascending. */
  resolve(): void {
    const n = this.count
    if (n < 2) return
    if (n <= 32) this.#insertionSort()
    else this.#mergeSort()
    const start = this.start
    const end = this.end
    const rule = this.rule
    let kept = 0
    for (let i = 1; i < n; i++) {
      if (start[i]! < end[kept]!) {
        if (end[i]! > end[kept]!) end[kept] = end[i]!
      } else {
        kept++
        start[kept] = start[i]!
        end[kept] = end[i]!
        rule[kept] = rule[i]!
      }
    }
    this.count = kept + 1
  }

  // Spans are few and usually already in order.
  #insertionSort(): void {
    const start = this.start
    const end = this.end
    const rule = this.rule
    for (let i = 1; i < this.count; i++) {
      const s = start[i]!
      const e = end[i]!
      const r = rule[i]!
      let j = i - 1
      while (j >= 0 && before(s, e, r, start[j]!, end[j]!, rule[j]!)) {
        start[j + 1] = start[j]!
        end[j + 1] = end[j]!
        rule[j + 1] = rule[j]!
        j--
      }
      start[j + 1] = s
      end[j + 1] = e
      rule[j + 1] = r
    }
  }

  // A natural merge sort: each rule reports its matches in ascending order, so
  // the spans arrive as a few ascending runs, merged pairwise in a few linear
  // passes (one when already sorted). Typed arrays and no comparator calls, so
  // the hundreds of thousands of matches of a hostile string sort in milliseconds.
  #mergeSort(): void {
    const n = this.count
    if (this.#scratchStart.length < n) {
      this.#scratchStart = new Int32Array(this.start.length)
      this.#scratchEnd = new Int32Array(this.start.length)
      this.#scratchRule = new Int32Array(this.start.length)
    }
    let fromStart = this.start
    let fromEnd = this.end
    let fromRule = this.rule
    let toStart = this.#scratchStart
    let toEnd = this.#scratchEnd
    let toRule = this.#scratchRule
    for (;;) {
      let i = 0
      let runs = 0
      while (i < n) {
        const mid = runEnd(fromStart, fromEnd, fromRule, i, n)
        runs++
        if (runs === 1 && mid === n) {
          this.#adopt(fromStart, fromEnd, fromRule)
          return
        }
        const stop = mid === n ? n : runEnd(fromStart, fromEnd, fromRule, mid, n)
        let a = i
        let b = mid
        for (let k = i; k < stop; k++) {
          const takeA =
            b >= stop ||
            (a < mid && !before(fromStart[b]!, fromEnd[b]!, fromRule[b]!, fromStart[a]!, fromEnd[a]!, fromRule[a]!))
          const from = takeA ? a++ : b++
          toStart[k] = fromStart[from]!
          toEnd[k] = fromEnd[from]!
          toRule[k] = fromRule[from]!
        }
        i = stop
      }
      const swapStart = fromStart
      const swapEnd = fromEnd
      const swapRule = fromRule
      fromStart = toStart
      fromEnd = toEnd
      fromRule = toRule
      toStart = swapStart
      toEnd = swapEnd
      toRule = swapRule
    }
  }

  // Makes the sorted arrays the live ones; the others become scratch space.
  #adopt(start: Int32Array<ArrayBuffer>, end: Int32Array<ArrayBuffer>, rule: Int32Array<ArrayBuffer>): void {
    if (start === this.start) return
    this.#scratchStart = this.start
    this.#scratchEnd = this.end
    this.#scratchRule = this.rule
    this.start = start
    this.end = end
    this.rule = rule
  }

  #grow(): void {
    const size = this.start.length * 2
    const start = new Int32Array(size)
    const end = new Int32Array(size)
    const rule = new Int32Array(size)
    start.set(this.start)
    end.set(this.end)
    rule.set(this.rule)
    this.start = start
    this.end = end
    this.rule = rule
  }
}

// The end of the ascending run that starts at `i`.
function runEnd(start: Int32Array<ArrayBuffer>, end: Int32Array<ArrayBuffer>, rule: Int32Array<ArrayBuffer>, i: number, n: number): number {
  let j = i + 1
  while (j < n && !before(start[j]!, end[j]!, rule[j]!, start[j - 1]!, end[j - 1]!, rule[j - 1]!)) j++
  return j
}

function before(s: number, e: number, r: number, s2: number, e2: number, r2: number): boolean {
  if (s !== s2) return s < s2
  if (e !== e2) return e > e2
  return r < r2
}
