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
    const start = this.start
    const end = this.end
    const rule = this.rule
    if (n <= 32) {
      // Insertion sort: spans are few and usually already in order.
      for (let i = 1; i < n; i++) {
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
    } else {
      const order = Array.from({ length: n }, (_, i) => i)
      order.sort((a, b) => start[a]! - start[b]! || end[b]! - end[a]! || rule[a]! - rule[b]!)
      const s2 = Int32Array.from(order, (i) => start[i]!)
      const e2 = Int32Array.from(order, (i) => end[i]!)
      const r2 = Int32Array.from(order, (i) => rule[i]!)
      start.set(s2)
      end.set(e2)
      rule.set(r2)
    }
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

function before(s: number, e: number, r: number, s2: number, e2: number, r2: number): boolean {
  if (s !== s2) return s < s2
  if (e !== e2) return e > e2
  return r < r2
}
