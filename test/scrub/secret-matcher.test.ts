import { describe, expect, it } from 'vitest'
import type { MatchSink } from '../../src/scrub/aho-corasick.js'
import { SecretMatcher, secretEncodings } from '../../src/scrub/secret-matcher.js'

class Spans implements MatchSink {
  readonly found: [number, number][] = []
  add(start: number, end: number): void {
    this.found.push([start, end])
  }
}

// Whether every character of `needle` inside `text` lies in some reported span.
function covered(matcher: SecretMatcher, text: string, needle: string): boolean {
  const at = text.indexOf(needle)
  expect(at).toBeGreaterThanOrEqual(0)
  const spans = new Spans()
  matcher.find(text, spans, 0)
  for (let i = at; i < at + needle.length; i++) if (!spans.found.some(([s, e]) => s <= i && i < e)) return false
  return true
}

const SECRET = 'p@ss w/rd+"q"\\x-Ω9'

describe('SecretMatcher', () => {
  const matcher = new SecretMatcher()
  matcher.add(SECRET)

  it('finds the raw value', () => {
    expect(covered(matcher, `login with ${SECRET} now`, SECRET)).toBe(true)
  })

  it('finds its URL-encoded forms: upper- and lower-case hex, and form encoding', () => {
    const url = encodeURIComponent(SECRET)
    expect(covered(matcher, `GET /x?pw=${url}&y=1`, url)).toBe(true)
    const lower = url.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())
    expect(covered(matcher, `GET /x?pw=${lower}`, lower)).toBe(true)
    const form = url.replace(/%20/g, '+')
    expect(covered(matcher, `pw=${form}`, form)).toBe(true)
  })

  it('finds its JSON-escaped forms, once and twice', () => {
    const once = JSON.stringify(SECRET).slice(1, -1)
    expect(covered(matcher, `{"pw":"${once}"}`, once)).toBe(true)
    const twice = JSON.stringify(once).slice(1, -1)
    expect(covered(matcher, `"{\\"pw\\":\\"${twice}\\"}"`, twice)).toBe(true)
    const ascii = once.replace('Ω', '\\u03a9') // as Python's json.dumps writes it
    expect(covered(matcher, `{"pw": "${ascii}"}`, ascii)).toBe(true)
  })

  it('finds its escape() form, as written and with lower-case hex, where a decoding would read its Latin-1 bytes as UTF-8', () => {
    const mojibake = new SecretMatcher()
    mojibake.add('Ã©tÃ© s3cret') // escape() writes %C3%A9: valid UTF-8 for é, not what was registered
    const escaped = escape('Ã©tÃ© s3cret')
    expect(escaped).toBe('%C3%A9t%C3%A9%20s3cret')
    expect(covered(mojibake, `c=${escaped};`, escaped)).toBe(true)
    expect(covered(mojibake, `c=${escaped.toLowerCase()};`, escaped.toLowerCase())).toBe(true)
    expect(covered(matcher, `c=${escape(SECRET)};`, escape(SECRET))).toBe(true)
  })

  it('finds base64 and base64url, padded or not', () => {
    const b64 = Buffer.from(SECRET).toString('base64')
    const b64url = Buffer.from(SECRET).toString('base64url')
    expect(covered(matcher, `blob ${b64} end`, b64)).toBe(true)
    expect(covered(matcher, `blob ${b64url} end`, b64url)).toBe(true)
  })

  it('finds it in base64 of JSON, where its quotes and backslash are escaped, at every byte alignment', () => {
    for (const prefix of ['{"pw":"', '{"p":"', '{"pwd":"']) {
      const blob = Buffer.from(`${prefix}${JSON.stringify(SECRET).slice(1, -1)}"}`).toString('base64url')
      const spans = new Spans()
      matcher.find(`eyJhbGciOiJub25lIn0.${blob}.`, spans, 0)
      expect(spans.found.length, prefix).toBeGreaterThan(0)
    }
  })

  it('finds the secret inside a larger base64 blob at every byte alignment', () => {
    for (const prefix of ['', 'u:', 'user:', 'ab']) {
      const blob = Buffer.from(`${prefix}${SECRET};tail`).toString('base64')
      const spans = new Spans()
      matcher.find(`Authorization: Basic ${blob}`, spans, 0)
      expect(spans.found.length, `prefix ${JSON.stringify(prefix)}`).toBeGreaterThan(0)
    }
  })

  it('finds nothing in unrelated text, and nothing before anything is registered', () => {
    const spans = new Spans()
    matcher.find('an ordinary log line with p@ss and rd+ in it', spans, 0)
    expect(spans.found).toEqual([])
    const empty = new SecretMatcher()
    empty.find(SECRET, spans, 0)
    expect(spans.found).toEqual([])
  })

  it('rebuilds after a registration, and counts distinct values', () => {
    const m = new SecretMatcher()
    expect(m.add('first-secret-1')).toBe(true)
    expect(covered(m, 'x first-secret-1', 'first-secret-1')).toBe(true)
    expect(m.add('second-secret-2')).toBe(true)
    expect(m.add('second-secret-2')).toBe(false)
    expect(m.size).toBe(2)
    expect(covered(m, 'y second-secret-2', 'second-secret-2')).toBe(true)
  })

  it('lists the encodings without duplicates', () => {
    const forms = secretEncodings('plainvalue123')
    expect(new Set(forms).size).toBe(forms.length)
    expect(forms).toContain('plainvalue123')
    expect(forms).toContain(Buffer.from('plainvalue123').toString('base64'))
  })
})
