import { describe, expect, it } from 'vitest'
import { AhoCorasick, foldAsciiCase, foldNone, type MatchSink } from '../../src/scrub/aho-corasick.js'
import { SecretMatcher, secretEncodings } from '../../src/scrub/secret-matcher.js'

// The gram prefilter in front of the automaton must not lose a single match:
// these tests compare findLongest, and the registered-secret matcher built on
// it, with a naive indexOf matcher over thousands of random patterns and texts.

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

function randomString(rand: () => number, alphabet: readonly string[], length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rand() * alphabet.length)]
  return out
}

function between(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1))
}

class Collect implements MatchSink {
  readonly spans: string[] = []
  add(start: number, end: number): void {
    this.spans.push(`${start}-${end}`)
  }
}

function findLongest(ac: AhoCorasick, text: string): string[] {
  const sink = new Collect()
  ac.findLongest(text, sink, 0)
  return sink.spans
}

// The reference: every occurrence of every pattern by indexOf, then, for each
// end position in order, the longest occurrence ending there.
function naiveLongest(text: string, patterns: readonly string[]): string[] {
  const longest = new Int32Array(text.length + 1)
  for (const p of patterns) {
    if (p === '') continue
    for (let at = text.indexOf(p); at !== -1; at = text.indexOf(p, at + 1)) {
      const end = at + p.length
      if (p.length > longest[end]!) longest[end] = p.length
    }
  }
  const out: string[] = []
  for (let end = 1; end <= text.length; end++) if (longest[end] !== 0) out.push(`${end - longest[end]!}-${end}`)
  return out
}

// Patterns that stress the automaton and the prefilter together: shared
// prefixes, patterns inside patterns, overlapping pairs, runs of one unit.
function trickyPatterns(rand: () => number, alphabet: readonly string[], count: number, minLength: number, maxLength: number): string[] {
  const patterns: string[] = []
  while (patterns.length < count) {
    const kind = rand()
    const other = patterns[Math.floor(rand() * patterns.length)]
    if (other !== undefined && kind < 0.15) {
      patterns.push(other.slice(0, between(rand, Math.min(minLength, other.length), other.length))) // a prefix
    } else if (other !== undefined && kind < 0.3) {
      patterns.push(other.slice(0, between(rand, minLength, maxLength) - 1) + randomString(rand, alphabet, 1)) // shares a prefix
    } else if (other !== undefined && kind < 0.4) {
      patterns.push(other.slice(Math.max(0, other.length - between(rand, minLength, other.length)))) // a suffix
    } else if (other !== undefined && kind < 0.5) {
      const tail = other.slice(Math.floor(other.length / 2))
      patterns.push(tail + randomString(rand, alphabet, Math.max(0, between(rand, minLength, maxLength) - tail.length))) // overlaps `other`
    } else if (kind < 0.55) {
      patterns.push(alphabet[0]!.repeat(between(rand, minLength, maxLength)))
    } else {
      patterns.push(randomString(rand, alphabet, between(rand, minLength, maxLength)))
    }
  }
  return patterns
}

// Text made of patterns, pieces of patterns, overlapping patterns and noise.
function trickyText(rand: () => number, alphabet: readonly string[], patterns: readonly string[], length: number): string {
  let text = ''
  while (text.length < length) {
    const p = patterns[Math.floor(rand() * patterns.length)]!
    const kind = rand()
    if (kind < 0.3) text += p
    else if (kind < 0.45) text += p.slice(0, Math.max(1, p.length - 1)) // a near miss
    else if (kind < 0.6 && text.length > 0) text = text.slice(0, text.length - Math.floor(rand() * Math.min(p.length, text.length))) + p // overlapping the text before
    else text += randomString(rand, alphabet, between(rand, 1, 12))
  }
  return text
}

const LETTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789']

describe('findLongest with the gram prefilter agrees with a naive indexOf matcher', () => {
  it('on tiny alphabets, where patterns overlap everywhere (grams of 3, 4 and 5 units)', () => {
    const rand = rng(101)
    let compared = 0
    for (let round = 0; round < 240; round++) {
      const alphabet = [...'abcd'.slice(0, between(rand, 2, 4))]
      const minLength = between(rand, 3, 7)
      const patterns = trickyPatterns(rand, alphabet, between(rand, 1, 60), minLength, minLength + between(rand, 0, 10))
      const ac = AhoCorasick.build(patterns.map((text) => ({ text, tag: 0 })))
      for (let t = 0; t < 5; t++) {
        const text = trickyText(rand, [...alphabet, ' '], patterns, between(rand, 0, 300))
        expect(findLongest(ac, text), `round ${round}`).toEqual(naiveLongest(text, patterns))
        compared++
      }
    }
    expect(compared).toBe(1200)
  })

  it('on thousands of secret-like patterns, with a big automaton and sparse deep states', () => {
    const rand = rng(202)
    for (let round = 0; round < 6; round++) {
      const patterns = trickyPatterns(rand, LETTERS, 3000, 5, 40)
      const ac = AhoCorasick.build(patterns.map((text) => ({ text, tag: 0 })))
      expect(ac.stateCount).toBeGreaterThan(20_000)
      for (let t = 0; t < 40; t++) {
        const text = trickyText(rand, [...LETTERS, ' ', '-', '='], patterns, between(rand, 200, 3000))
        expect(findLongest(ac, text), `round ${round}, text ${t}`).toEqual(naiveLongest(text, patterns))
      }
    }
  })

  it('on alphabets of more than 63 classes, non-ASCII units and surrogate halves', () => {
    const rand = rng(303)
    const wide = [...LETTERS, ...'+/=%\\"é€ü中文', '😀', '\ud800', '\udfff', ...Array.from({ length: 40 }, (_, i) => String.fromCharCode(0x400 + i))]
    for (let round = 0; round < 30; round++) {
      const patterns = trickyPatterns(rand, wide, between(rand, 10, 400), between(rand, 3, 6), 20)
      const ac = AhoCorasick.build(patterns.map((text) => ({ text, tag: 0 })))
      for (let t = 0; t < 10; t++) {
        const text = trickyText(rand, [...wide, ' '], patterns, between(rand, 0, 800))
        expect(findLongest(ac, text), `round ${round}`).toEqual(naiveLongest(text, patterns))
      }
    }
  })

  it('with patterns too short for a gram, which scan without the prefilter', () => {
    const rand = rng(404)
    for (let round = 0; round < 60; round++) {
      const patterns = trickyPatterns(rand, [...'abc'], between(rand, 1, 30), 1, 6)
      patterns.push(randomString(rand, [...'abc'], between(rand, 1, 2)))
      const ac = AhoCorasick.build(patterns.map((text) => ({ text, tag: 0 })), foldNone)
      const text = trickyText(rand, [...'abcd '], patterns, 200)
      expect(findLongest(ac, text)).toEqual(naiveLongest(text, patterns))
    }
  })

  it('when folding: the filter hashes folded units', () => {
    const rand = rng(505)
    const alphabet = [...'aAbBcC']
    for (let round = 0; round < 100; round++) {
      const patterns = trickyPatterns(rand, alphabet, between(rand, 1, 40), 5, 12)
      const ac = AhoCorasick.build(patterns.map((text) => ({ text, tag: 0 })), foldAsciiCase)
      const text = trickyText(rand, [...alphabet, ' '], patterns, 300)
      expect(findLongest(ac, text)).toEqual(naiveLongest(text.toLowerCase(), patterns.map((p) => p.toLowerCase())))
    }
  })
})

describe('SecretMatcher agrees with a naive indexOf matcher over every encoding', () => {
  // The base64url fold of SecretMatcher, applied to the text and the patterns alike.
  const foldBase64 = (s: string): string => s.replace(/-/g, '+').replace(/_/g, '/')

  it('finds every occurrence of every registered encoding, and nothing else, among thousands of secrets', () => {
    const rand = rng(606)
    const symbols = [...LETTERS, ...'-_+/=%"\\ :@.é€😀']
    const matcher = new SecretMatcher()
    const secrets: string[] = []
    for (let i = 0; i < 2000; i++) {
      const base = secrets[Math.floor(rand() * secrets.length)]
      // Some secrets share a prefix with another, or contain another.
      const value =
        base !== undefined && rand() < 0.2
          ? base.slice(0, between(rand, 5, base.length)) + randomString(rand, symbols, between(rand, 0, 8))
          : randomString(rand, symbols, between(rand, 5, 40))
      if (matcher.add(value)) secrets.push(value)
    }
    const patterns = secrets.flatMap((value) => secretEncodings(value)).map(foldBase64)
    for (let t = 0; t < 150; t++) {
      let text = ''
      while (text.length < 2000) {
        const value = secrets[Math.floor(rand() * secrets.length)]!
        const forms = secretEncodings(value)
        const form = forms[Math.floor(rand() * forms.length)]!
        // Encodings are written in either base64 alphabet, bare or inside a larger blob.
        const written = rand() < 0.5 ? form : form.replace(/\+/g, '-').replace(/\//g, '_')
        text += randomString(rand, symbols, between(rand, 0, 30)) + (rand() < 0.8 ? written : written.slice(1))
      }
      const sink = new Collect()
      matcher.find(text, sink, 0)
      expect(sink.spans, `text ${t}`).toEqual(naiveLongest(foldBase64(text), patterns))
    }
  })
})
