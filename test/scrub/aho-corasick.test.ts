import { describe, expect, it } from 'vitest'
import { AhoCorasick, foldAsciiCase, foldNone, type MatchSink } from '../../src/scrub/aho-corasick.js'
import { InvalidArgumentError } from '../../src/errors.js'

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

function randomString(rand: () => number, alphabet: string, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rand() * alphabet.length)]
  return out
}

class Collect implements MatchSink {
  readonly spans: string[] = []
  add(start: number, end: number, rule: number): void {
    this.spans.push(`${start}-${end}-${rule}`)
  }
}

// The reference: at every end position, the longest pattern ending there, by brute force.
function naiveLongest(text: string, patterns: readonly string[], rule: number): string[] {
  const out: string[] = []
  for (let end = 1; end <= text.length; end++) {
    let longest = 0
    for (const p of patterns) if (p.length > longest && end >= p.length && text.slice(end - p.length, end) === p) longest = p.length
    if (longest > 0) out.push(`${end - longest}-${end}-${rule}`)
  }
  return out
}

describe('AhoCorasick', () => {
  it('reports, for each end position, the longest pattern ending there', () => {
    const ac = AhoCorasick.build(['he', 'she', 'his', 'hers'].map((text) => ({ text, tag: 0 })))
    const sink = new Collect()
    ac.findLongest('ushers', sink, 7)
    expect(sink.spans).toEqual(['1-4-7', '2-6-7']) // "she" ends at 4 (covers "he"), "hers" ends at 6
  })

  it('agrees with a brute-force matcher on a small, fully dense automaton', () => {
    const rand = rng(1)
    const patterns = Array.from({ length: 40 }, () => randomString(rand, 'abc', 1 + Math.floor(rand() * 6)))
    const ac = AhoCorasick.build(patterns.map((text) => ({ text, tag: 0 })))
    for (let round = 0; round < 50; round++) {
      const text = randomString(rand, 'abcd', 200)
      const sink = new Collect()
      ac.findLongest(text, sink, 0)
      expect(sink.spans).toEqual(naiveLongest(text, patterns, 0))
    }
  })

  it('agrees with a brute-force matcher on a big automaton with sparse deep states', () => {
    // 6,000 patterns of 20-40 characters over 60 symbols: far past the dense budget.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz01234567'
    const rand = rng(2)
    const patterns = Array.from({ length: 6000 }, () => randomString(rand, alphabet, 20 + Math.floor(rand() * 21)))
    // Patterns sharing long prefixes and suffixes exercise multi-child sparse states and deep failure links.
    for (let i = 0; i < 200; i++) patterns.push(patterns[i]!.slice(0, 12) + randomString(rand, 'xyz', 10))
    for (let i = 0; i < 200; i++) patterns.push(patterns[i]!.slice(5))
    const ac = AhoCorasick.build(patterns.map((text) => ({ text, tag: 0 })))
    expect(ac.stateCount).toBeGreaterThan(100_000)
    for (let round = 0; round < 30; round++) {
      let text = randomString(rand, alphabet + '  ', 300)
      for (let k = 0; k < 4; k++) {
        const p = patterns[Math.floor(rand() * patterns.length)]!
        const at = Math.floor(rand() * text.length)
        text = text.slice(0, at) + p + text.slice(at)
      }
      const sink = new Collect()
      ac.findLongest(text, sink, 3)
      expect(sink.spans).toEqual(naiveLongest(text, patterns, 3))
    }
  })

  it('matches non-ASCII patterns by UTF-16 code unit', () => {
    const ac = AhoCorasick.build([{ text: 'pässwörd€', tag: 0 }, { text: '😀x', tag: 0 }])
    const sink = new Collect()
    ac.findLongest('a pässwörd€ b 😀x', sink, 0)
    expect(sink.spans).toEqual(['2-11-0', '14-17-0'])
  })

  it('ORs the tags of every pattern present, ignoring ASCII case when folded', () => {
    const ac = AhoCorasick.build(
      [
        { text: 'ghp_', tag: 1 },
        { text: '@', tag: 2 },
        { text: 'bearer', tag: 4 },
      ],
      foldAsciiCase,
    )
    expect(ac.scanTags('GHP_abc and BEARER x', null, null)).toBe(5)
    expect(ac.scanTags('mail ada@example.com', null, null)).toBe(2)
    expect(ac.scanTags('nothing here', null, null)).toBe(0)
    const exact = AhoCorasick.build([{ text: 'ghp_', tag: 1 }], foldNone)
    expect(exact.scanTags('GHP_', null, null)).toBe(0)
  })

  it('reports bits 32 to 63 of the tags in high[0]', () => {
    const ac = AhoCorasick.build(
      [
        { text: 'ghp_', tag: 1 },
        { text: 'curl', tag: 0, highTag: 1 },
        { text: 'machine', tag: 0, highTag: 1 << 31 },
      ],
      foldAsciiCase,
    )
    const high = new Int32Array(1)
    expect(ac.scanTags('ghp_ only', null, null, high)).toBe(1)
    expect(high[0]).toBe(0)
    expect(ac.scanTags('CURL machine', null, null, high)).toBe(0)
    expect(high[0]).toBe(1 | (1 << 31))
  })

  it('counts character kinds in the same pass', () => {
    const ac = AhoCorasick.build([{ text: 'x', tag: 1 }])
    const kinds = new Uint8Array(128)
    for (let c = 48; c <= 57; c++) kinds[c] = 1
    const counts = new Int32Array(2)
    ac.scanTags('a1b22c333 é4', kinds, counts)
    expect(counts[1]).toBe(7)
  })

  it('ignores empty patterns and merges duplicates', () => {
    const ac = AhoCorasick.build([
      { text: '', tag: 1 },
      { text: 'abc', tag: 2 },
      { text: 'abc', tag: 4 },
    ])
    expect(ac.patternCount).toBe(1)
    expect(ac.scanTags('xabcx', null, null)).toBe(6)
  })

  it('firstEnd: each end of a pattern once the transparent units are left out, as brute force finds them', () => {
    const rand = rng(23)
    const transparent = new Uint8Array(128)
    transparent[95] = 1 // _
    transparent[45] = 1 // -
    for (let round = 0; round < 200; round++) {
      const patterns = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => randomString(rand, 'abAB', 1 + Math.floor(rand() * 4)))
      const text = randomString(rand, 'abAB_- c', 60)
      const ac = AhoCorasick.build(patterns.map((text) => ({ text, tag: 1 })), foldAsciiCase)
      const ends: number[] = []
      for (let end = ac.firstEnd(text, 0, transparent); end !== -1; end = ac.firstEnd(text, end, transparent)) ends.push(end)
      // Brute force: the units read since the last end found (transparent ones left out), and a pattern ending each.
      let run = ''
      const expected: number[] = []
      for (let i = 0; i < text.length; i++) {
        const c = text[i]!
        if (c === '_' || c === '-') continue
        run = c === ' ' ? '' : run + c.toLowerCase()
        if (patterns.some((p) => run.endsWith(p.toLowerCase()))) {
          expected.push(i + 1)
          run = ''
        }
      }
      expect(ends, `${JSON.stringify(patterns)} in ${JSON.stringify(text)}`).toEqual(expected)
    }
  })

  it('rejects malformed input with a typed error', () => {
    expect(() => AhoCorasick.build('abc' as never)).toThrow(InvalidArgumentError)
    expect(() => AhoCorasick.build([{ text: 3, tag: 0 }] as never)).toThrow(InvalidArgumentError)
  })
})
