import { describe, expect, it } from 'vitest'
import { SpanList } from '../../src/scrub/span-list.js'

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Span = [start: number, end: number, rule: number]

// The rule as written: leftmost first, at one start the longest, then the lowest rule; overlaps merge into the winner.
function reference(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0] || b[1] - a[1] || a[2] - b[2])
  const out: Span[] = []
  for (const [start, end, rule] of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && start < last[1]) last[1] = Math.max(last[1], end)
    else out.push([start, end, rule])
  }
  return out
}

function resolved(list: SpanList, spans: readonly Span[]): Span[] {
  list.reset()
  for (const [start, end, rule] of spans) list.add(start, end, rule)
  list.resolve()
  return Array.from({ length: list.count }, (_, k): Span => [list.start[k]!, list.end[k]!, list.rule[k]!])
}

describe('SpanList.resolve', () => {
  it('merges as the rule says, for few and many spans, in ascending runs (one per rule, as rules report) or in any order', () => {
    const rand = rng(3)
    const list = new SpanList()
    for (let round = 0; round < 600; round++) {
      const count = round % 3 === 0 ? 1 + Math.floor(rand() * 32) : 33 + Math.floor(rand() * 3_000)
      const rules = 1 + Math.floor(rand() * 6)
      const spans: Span[] = []
      for (let rule = 0; rule < rules; rule++) {
        let at = 0
        for (let k = 0; k < count / rules; k++) {
          at += Math.floor(rand() * 40)
          spans.push([at, at + 1 + Math.floor(rand() * 30), rule])
        }
      }
      if (round % 2 === 1) spans.sort(() => rand() - 0.5)
      expect(resolved(list, spans)).toEqual(reference(spans))
    }
  })

  it('keeps working after its arrays grew and were swapped by a sort', () => {
    const list = new SpanList()
    const descending: Span[] = Array.from({ length: 5_000 }, (_, k) => [50_000 - 10 * k, 50_000 - 10 * k + 5, k % 3])
    expect(resolved(list, descending)).toEqual(reference(descending))
    const few: Span[] = [
      [4, 10, 2],
      [6, 14, 0],
      [4, 10, 1],
    ]
    expect(resolved(list, few)).toEqual([[4, 14, 1]])
    expect(resolved(list, descending.slice(0, 100))).toEqual(reference(descending.slice(0, 100)))
  })
})
