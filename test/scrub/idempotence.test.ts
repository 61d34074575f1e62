import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { Scrubber } from '../../src/scrub/scrubber.js'
import { LeakMatcher } from '../../src/scrub/scan-text.js'
import { generateCanaries } from '../../src/testing/generate-canaries.js'
import { corpus } from '../corpus/detector-corpus.js'

// Scrubbing what the scrubber wrote changes nothing: otherwise output scrubbed
// twice on its way out (an error re-thrown through a second hook, a record
// re-logged) comes out mangled (`Password=[[REDACTED:secret-assignment]];`)
// and a leak scan flags the scrubber's own markers.

const { positives } = corpus()
const texts = [
  ...generateCanaries().map((c) => `value ${c.value} end`),
  ...positives.map((p) => p.text),
  'Server=db;User Id=sa;Password=Sup3rS3cret!x;',
  'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123def456ghi789',
  'conn Password=Zq8#mPl2vX9!rT4w; end',
]

const setups = {
  balanced: () => new Scrubber({ policy: definePolicy({ preset: 'balanced' }, { env: {} }).scrub }),
  strict: () => new Scrubber({ policy: definePolicy({ preset: 'strict' }, { env: {} }).scrub }),
  'balanced, hash action, with a key ring': () =>
    new Scrubber({ policy: definePolicy({ preset: 'balanced', scrub: { action: 'hash' } }, { env: {} }).scrub, keys: KeyRing.generate() }),
}

describe.each(Object.entries(setups))('scrubbing is idempotent under %s', (_name, make) => {
  const scrubber = make()
  scrubber.register('Zq8#mPl2vX9!rT4w')

  it.each(texts.map((t) => [t.slice(0, 60), t]))('%s', (_label, text) => {
    const once = scrubber.scrubString(text)
    expect(scrubber.scrubString(once)).toBe(once)
  })

  // Detectors read context (what precedes a key, where an escape or a
  // bracket starts), and a first pass changes that context, so arbitrary
  // glued-together text may lose more on a second pass (fail closed). What
  // must not happen is log-shaped text losing its own markers and
  // fingerprints to a second pass: they survive it verbatim.
  it('never scrubs its own markers and fingerprints again in log-shaped records', () => {
    const key = fc.constantFrom('password', 'Password', 'token', 'user', 'email', 'host', 'Authorization', 'msg', 'apiKey', 'db')
    const separator = fc.constantFrom('=', ': ', ' = ', '":"')
    const value = fc.constantFrom(
      'ada@example.com', 'hunter2xyz9', '10.1.2.3', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123def456ghi789', 'ok',
      'postgres://u:pa55word99@db/x', 'Server=db;User Id=sa;Password=Sup3rS3cret!x;', 'AKIAIOSFODNN7EXAMPLE', '[REDACTED:email]', '42',
    )
    const record = fc.tuple(key, separator, value).map(([k, sep, v]) => `${k}${sep}${v}`)
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 6 }), fc.constantFrom('\n', ', ', ' '), (records, between) => {
        const once = scrubber.scrubString(records.join(between))
        const twice = scrubber.scrubString(once)
        for (const written of ownOutput(once)) expect(count(twice, written)).toBeGreaterThanOrEqual(count(once, written))
      }),
      { numRuns: 1000 },
    )
  })
})

const OWN_OUTPUT = /\[REDACTED:[a-z0-9-]{1,64}\]|fp1\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{43}/g

function ownOutput(text: string): string[] {
  return [...new Set(text.match(OWN_OUTPUT) ?? [])]
}

function count(text: string, piece: string): number {
  return text.split(piece).length - 1
}

describe('what is spared is the scrubber\'s exact output, nothing more', () => {
  const scrubber = setups.balanced()

  it('scans a marker that names no rule of this scrubber as text', () => {
    expect(scrubber.scrubString('password=[REDACTED:hunter2xyz9]')).not.toContain('hunter2xyz9')
  })

  it('redacts a value that reaches past a marker, whole', () => {
    const out = scrubber.scrubString('password=[REDACTED:email]hunter2xyz9')
    expect(out).not.toContain('hunter2xyz9')
  })

  it('still masks a registered secret that sits inside a marker-shaped string', () => {
    scrubber.register('secret-assignment')
    expect(scrubber.scrubString('[REDACTED:secret-assignment]')).not.toContain('secret-assignment')
  })

  it('leaves nothing a leak scan reports in text scrubbed twice', () => {
    const twice = scrubber.scrubString(scrubber.scrubString('Server=db;User Id=sa;Password=Sup3rS3cret!x;'))
    expect(new LeakMatcher().scan(twice)).toEqual([])
  })
})
