import { describe, expect, it } from 'vitest'
import { DetectorGate, KeywordFindings, type GatedDetector } from '../../src/scrub/detector-gate.js'
import { DETECTORS, type Detector } from '../../src/scrub/detectors.js'
import { SensitiveKeyMatcher } from '../../src/scrub/sensitive-keys.js'
import { SpanList } from '../../src/scrub/span-list.js'

const context = { sensitiveKeys: new SensitiveKeyMatcher() }

function detector(id: string): Detector {
  return DETECTORS.find((d) => d.id === id)!
}

/** The real detector, with every call to its `find` recorded. */
function recorded(id: string, rule: number, calls: string[]): GatedDetector {
  const real = detector(id)
  return {
    detector: { ...real, find: (text, spans, r, ctx) => (calls.push(id), real.find(text, spans, r, ctx)) },
    rule,
  }
}

function spansOf(spans: SpanList): [number, number, number][] {
  const out: [number, number, number][] = []
  for (let k = 0; k < spans.count; k++) out.push([spans.start[k]!, spans.end[k]!, spans.rule[k]!])
  return out
}

describe('DetectorGate', () => {
  it('runs a detector only when one of its keywords occurs, case ignored, and adds matches under its rule', () => {
    const calls: string[] = []
    const gate = new DetectorGate([recorded('email', 7, calls), recorded('github-token', 9, calls)], context)
    const spans = new SpanList()
    gate.run('plain text, nothing here', spans)
    expect(calls).toEqual([])
    gate.run('mail ada@example.com', spans)
    expect(calls).toEqual(['email'])
    expect(spansOf(spans)).toEqual([[5, 20, 7]])
    calls.length = 0
    gate.run('GHP_ is a keyword too @', new SpanList())
    expect(calls).toEqual(['email', 'github-token'])
  })

  it('runs a counted detector once the counts of digits, dots and colons reach its minimums', () => {
    const calls: string[] = []
    const gate = new DetectorGate([recorded('ipv4', 1, calls)], context)
    gate.run('1.2.3', new SpanList())
    expect(calls).toEqual([])
    const spans = new SpanList()
    gate.run('host 10.0.0.1 up', spans)
    expect(calls).toEqual(['ipv4'])
    expect(spansOf(spans)).toEqual([[5, 13, 1]])
  })

  it('gates secret-assignment on the sensitive key spellings of its context', () => {
    const calls: string[] = []
    const gate = new DetectorGate([recorded('secret-assignment', 3, calls)], { sensitiveKeys: new SensitiveKeyMatcher(['pin']) })
    gate.run('user=ada', new SpanList())
    expect(calls).toEqual([])
    const spans = new SpanList()
    gate.run('PIN=8841', spans)
    expect(calls).toEqual(['secret-assignment'])
    expect(spans.count).toBe(1)
  })

  it('runs every built-in keyword detector on its own keywords only: more than 32 of them get bits of their own', () => {
    const calls: string[] = []
    const keyed = DETECTORS.filter((d) => d.keywords === 'sensitive-keys' || d.keywords.length > 0)
    expect(keyed.length).toBeGreaterThan(32)
    const gate = new DetectorGate(
      keyed.map((d, i) => recorded(d.id, i + 1, calls)),
      context,
    )
    // Keywords of the first detectors, which shared a bit with the last ones when bits wrapped at 32.
    for (const d of keyed.slice(0, 4)) {
      calls.length = 0
      const keyword = (d.keywords as readonly string[])[0]!
      gate.run(`x ${keyword} y`, new SpanList())
      expect(calls).toContain(d.id)
      expect(calls).not.toContain('secret-assignment')
      expect(calls).not.toContain('curl-credentials')
      expect(calls).not.toContain('netrc-password')
    }
    calls.length = 0
    gate.run('curl machine password', new SpanList())
    expect(calls).toEqual(expect.arrayContaining(['curl-credentials', 'netrc-password', 'secret-assignment', 'connection-string-password']))
  })

  it('does nothing without detectors', () => {
    const spans = new SpanList()
    new DetectorGate([], context).run('mail ada@example.com 10.0.0.1', spans)
    expect(spans.count).toBe(0)
  })

  it('widens the findings of a text to what any view of it with units replaced may hold, and runs from them', () => {
    const calls: string[] = []
    // aws-secret-access-key has a keyword with a space in it ('secret access key'): a view that reads a letter as a
    // space can hold it where the text it came from did not.
    const gate = new DetectorGate([recorded('aws-secret-access-key', 1, calls), recorded('ipv4', 2, calls)], context)
    const found = new KeywordFindings()
    gate.scan('secretXaccess key 10.0.0.1', found)
    const separated = new KeywordFindings()
    gate.widen(found, 32, separated)
    const keyword = 'secret access key'
    const scanned = new KeywordFindings()
    gate.scan(`${keyword} 10.0.0.1`, scanned)
    expect(separated.low & scanned.low).toBe(scanned.low)
    expect(separated.digits).toBe(found.digits)
    gate.runFound('secret access key 10.0.0.1', separated, new SpanList())
    expect(calls).toEqual(expect.arrayContaining(['aws-secret-access-key', 'ipv4']))
    // NUL is in no keyword: blanking adds no bit. A counted unit makes its count unlimited.
    const blanked = new KeywordFindings()
    gate.widen(found, 0, blanked)
    expect([blanked.low, blanked.high]).toEqual([found.low, found.high])
    gate.widen(found, 46, blanked)
    expect(blanked.dots).toBeGreaterThan(1e9)
  })

  it('never finds less by widening than by scanning the view: random texts, units replaced at random', () => {
    // Built-in detectors, and sensitive key names of the caller's that hold a space, a digit and a dot.
    const gate = new DetectorGate(
      DETECTORS.map((detector, rule) => ({ detector, rule })),
      { sensitiveKeys: new SensitiveKeyMatcher(['pass word', 'key2', 'db.secret']) },
    )
    const pieces = ['secret', 'access', 'key', ' ', 'ghp_', 'AKIA', 'pass', 'word', '0', '9', '.', ':', 'x', '@', '://', '-----BEGIN', 'db', 'eyJ', '\u0041', '%41', '_', '-']
    let seed = 7
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    const found = new KeywordFindings()
    const widened = new KeywordFindings()
    const direct = new KeywordFindings()
    for (let round = 0; round < 3000; round++) {
      let text = ''
      while (text.length < 60) text += pieces[random(pieces.length)]
      gate.scan(text, found)
      for (const unit of [32, 0, 48, 46, 58, 97]) {
        const units = [...text]
        for (let k = 0; k < 1 + random(6); k++) units[random(units.length)] = String.fromCharCode(unit)
        const view = units.join('')
        gate.widen(found, unit, widened)
        gate.scan(view, direct)
        const where = JSON.stringify({ text, view })
        expect((widened.low & direct.low) >>> 0, where).toBe(direct.low >>> 0)
        expect((widened.high & direct.high) >>> 0, where).toBe(direct.high >>> 0)
        expect(widened.digits, where).toBeGreaterThanOrEqual(direct.digits)
        expect(widened.dots, where).toBeGreaterThanOrEqual(direct.dots)
        expect(widened.colons, where).toBeGreaterThanOrEqual(direct.colons)
      }
    }
  })
})
