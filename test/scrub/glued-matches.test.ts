import { describe, expect, it } from 'vitest'
import { presets } from '../../src/policy/presets.js'
import { LeakMatcher } from '../../src/scrub/scan-text.js'
import { Scrubber } from '../../src/scrub/scrubber.js'

const scrubber = new Scrubber({ policy: { ...presets.balanced.scrub, maxStringLength: 1_000_000 } })

// One value per detector that wants a boundary on either side, and the part of it that must never be left.
const SAMPLES: readonly (readonly [detector: string, text: string, secret: string])[] = [
  ['ipv4', '10.1.2.3', '10.1.2.3'],
  ['ipv6', '2001:db8:85a3::8a2e:370:7334', '2001:db8:85a3::8a2e:370:7334'],
  ['email', 'ada.lovelace@example.com', 'ada.lovelace@example.com'],
  ['url-credentials', 'https://ada:s3cr3tPass@db.example.com', 's3cr3tPass'],
  ['aws-access-key-id', 'AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
  ['github-token', `ghp_${'a1B2c3D4e5'.repeat(3)}abcdef`, `${'a1B2c3D4e5'.repeat(3)}abcdef`],
  ['npm-token', `npm_${'Zq9mK2pL7x'.repeat(3)}abcdef`, `${'Zq9mK2pL7x'.repeat(3)}abcdef`],
  ['stripe-key', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', '4eC39HqLyjWDarjtT1zdp7dc'],
  ['slack-token', 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', '1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'],
  ['google-api-key', 'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe', 'SyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe'],
  ['openai-key', 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z', 'Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'],
  ['gitlab-token', 'glpat-Xy7kQ2mN9pL4vR8sT1wZ', 'Xy7kQ2mN9pL4vR8sT1wZ'],
  [
    'jwt',
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0',
  ],
  ['credit-card', '4111 1111 1111 1111', '4111 1111 1111 1111'],
  ['iban', 'GB82 WEST 1234 5698 7654 32', 'GB82 WEST 1234 5698 7654 32'],
  ['authorization-header', 'Bearer abcdefghijklmnop1234', 'abcdefghijklmnop1234'],
  ['mac-address', '00:1A:2B:3C:4D:5E', '00:1A:2B:3C:4D:5E'],
  // No boundary before it: a token glued before it is hidden, not it.
  ['slack-webhook', 'https://hooks.slack.com/services/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', 'Xy7kQ2mN9pL4vR8sT1wZa2bC'],
]

// A word, a space or a separator between two values: each is found on its own, as a control.
describe('matches glued to other matches', () => {
  it('each sample alone is redacted by its detector (the control)', () => {
    for (const [detector, text, secret] of SAMPLES) {
      const out = scrubber.scrubString(`x ${text} y`)
      expect(out, detector).not.toContain(secret)
      expect(out, detector).toContain(`[REDACTED:${detector}]`)
    }
  })

  // Glued, two values may read as one longer token, which every detector leaves alone (a token
  // inside a longer one is not a match). What must never happen: one redacted, the other left
  // whole beside it. (A URL's host is kept by design, and a value glued to a scheme word, as in
  // `…EXAMPLEhttps://`, is glued to a word: url-credentials is left out of the pairs.)
  it('for every ordered pair glued together: when one is redacted, the other is not left whole beside it', () => {
    const leaks: string[] = []
    let found = 0
    const samples = SAMPLES.filter(([detector]) => detector !== 'url-credentials')
    for (const [first, a] of samples) {
      for (const [second, b] of samples) {
        const text = `id ${a}${b} end`
        const out = scrubber.scrubString(text)
        if (out === text) continue
        found++
        if (out.includes(a) || out.includes(b)) leaks.push(`${first}+${second}: ${out}`)
      }
    }
    expect(leaks).toEqual([])
    // Most pairs are told apart: the property is not met by leaving everything alone.
    expect(found).toBeGreaterThan(samples.length * samples.length * 0.5)
  })

  it('the examples of the report: an address before an AWS key id, before a bearer token', () => {
    expect(new Scrubber().scrub('10.1.2.3AKIAIOSFODNN7EXAMPLE').value).toBe('[REDACTED:ipv4][REDACTED:aws-access-key-id]')
    expect(new Scrubber().scrub('10.1.2.3Bearer abcdefghijklmnop1234').value).not.toContain('abcdefghijklmnop1234')
  })

  it('a registered secret glued to a token hides it no longer', () => {
    const s = new Scrubber()
    s.register('hunter2-hunter2')
    expect(s.scrubString('hunter2-hunter2AKIAIOSFODNN7EXAMPLE')).toBe('[REDACTED:registered-secret][REDACTED:aws-access-key-id]')
  })

  it('a token glued to an ordinary word is still left alone', () => {
    for (const [detector, text] of SAMPLES) {
      if (!/^[A-Za-z0-9]/.test(text) || !/[A-Za-z0-9]$/.test(text)) continue
      if (['authorization-header', 'credit-card', 'iban', 'email', 'url-credentials', 'slack-webhook'].includes(detector)) continue
      const glued = `see x${text}z now`
      expect(scrubber.scrubString(glued), detector).toBe(glued)
    }
  })

  it('in a decoded view too: an escape glues a key to an address only once decoded', () => {
    for (const text of ['10.1.2.3%41KIAIOSFODNN7EXAMPLE', '{"m":"10.1.2.3\\u0041KIAIOSFODNN7EXAMPLE"}']) {
      const out = scrubber.scrubString(text)
      expect(out, text).toContain('[REDACTED:aws-access-key-id]')
      expect(out, text).not.toContain('KIAIOSFODNN7EXAMPLE')
      expect(new LeakMatcher().scan(text).map((m) => m.rule), text).toContain('aws-access-key-id')
    }
  })

  it('in text of any width: Latin-1, wider units, lone surrogates and astral characters around and between matches', () => {
    for (const around of ['', 'é', 'ÿ€', '\ud800', '😀', '\udc00é']) {
      const text = `${around} 10.1.2.3AKIAIOSFODNN7EXAMPLE ${around}x 10.9.8.7ghp_${'a1B2c3D4e5'.repeat(3)}abcdef${around}`
      const out = scrubber.scrubString(text)
      expect(out, JSON.stringify(text)).toBe(
        `${around} [REDACTED:ipv4][REDACTED:aws-access-key-id] ${around}x [REDACTED:ipv4][REDACTED:github-token]${around}`,
      )
      expect(new LeakMatcher().scan(text).map((m) => m.rule).sort(), JSON.stringify(text)).toEqual(['aws-access-key-id', 'github-token', 'ipv4', 'ipv4'])
    }
  })

  it('the leak scan finds the glued value too', () => {
    const matcher = new LeakMatcher()
    const rules = matcher.scan('10.1.2.3AKIAIOSFODNN7EXAMPLE').map((m) => m.rule)
    expect(rules).toContain('ipv4')
    expect(rules).toContain('aws-access-key-id')
  })
})
