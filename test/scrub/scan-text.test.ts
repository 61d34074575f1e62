import { describe, expect, it } from 'vitest'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'
import { DETECTOR_IDS } from '../../src/policy/detector-ids.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { CANARY_RULE, LeakMatcher, type LeakMatch } from '../../src/scrub/scan-text.js'
import { Scrubber } from '../../src/scrub/scrubber.js'
import { generateCanaries } from '../../src/testing/generate-canaries.js'
import {
  AWKWARD_SECRETS,
  CHARACTER_ESCAPES,
  ESCAPES_BEFORE_A_TOKEN,
  SECRET_ENCODERS,
  inJson,
  placed,
  withEscapedCharacters,
} from '../support/escaped-forms.js'

const keys = KeyRing.generate()

function rules(matches: readonly LeakMatch[]): string[] {
  return [...new Set(matches.map((m) => m.rule))].sort()
}

describe('LeakMatcher', () => {
  it('runs every built-in detector, whatever a policy would say', () => {
    const matcher = new LeakMatcher()
    const canaries = generateCanaries().filter((c) => c.kind !== 'high-entropy')
    expect(canaries.map((c) => c.kind)).toEqual([...DETECTOR_IDS])
    for (const canary of canaries) {
      const text = `see ${canary.value} here`
      const own = matcher.scan(text).filter((m) => m.rule === canary.kind)
      expect(own.length, canary.kind).toBeGreaterThan(0)
      expect(own.some((m) => text.slice(m.start, m.end).includes(canary.secret)), canary.kind).toBe(true)
    }
  })

  it('reports nothing in clean text, and every rule of overlapping matches', () => {
    const matcher = new LeakMatcher()
    expect(matcher.scan('')).toEqual([])
    expect(matcher.scan('loaded 42 rows from orders in 1.5s, run 7f3c2a1e-0b9d-4c8e-9f21-3a4b5c6d7e8f at 2026-11-21T09:00:00.000Z')).toEqual([])
    // The email is inside a secret assignment: both rules fire.
    expect(rules(matcher.scan('token=ada@example.com'))).toEqual(['email', 'secret-assignment'])
  })

  it('does not flag what the SDK wrote: markers, tokens, fingerprints and masks', async () => {
    const matcher = new LeakMatcher()
    const location = await new LocationCipher(keys).encrypt('s3://bucket/ada@example.com/out.json')
    const value = await new ValueCipher(keys).encrypt('{"password":"hunter22"}')
    const fingerprint = new Fingerprinter(keys).fingerprint('ada@example.com')
    const sdkOutput = [
      'password=[REDACTED:secret-assignment]',
      '{"token": "[REDACTED:sensitive-key]", "api_key": "[REDACTED:parameters.default]"}',
      'postgres://[REDACTED:url-credentials]@db.internal:5432/app',
      'Authorization: [REDACTED:authorization-header]',
      '/home/[REDACTED:home-path]/app.js',
      'password="********" token=****',
      `token=${fingerprint}`,
      `"secret": "${fingerprint}"`,
      `location ${location}`,
      `token: ${value}`,
      `"dsn": "${value}"`,
      'value [airlock:withheld] and [airlock:truncated 120 chars] and [airlock:refused]',
    ]
    for (const text of sdkOutput) expect(matcher.scan(text), text).toEqual([])
    expect(matcher.isSdkOutput(fingerprint)).toBe(true)
    expect(matcher.isSdkOutput(value)).toBe(true)
    expect(matcher.isSdkOutput('********')).toBe(true)
    expect(matcher.isSdkOutput('[REDACTED:x] [REDACTED:y]')).toBe(false) // the space between is not SDK output
  })

  it('still flags text that only looks like SDK output, or that adds to it', async () => {
    const matcher = new LeakMatcher()
    const github = `ghp_${'a1B2c3D4e5'.repeat(4)}`
    const token = await new LocationCipher(keys).encrypt('x')
    const [header, , iv, , tag] = token.slice('alk1.'.length).split('.')
    // A "token" whose header names another algorithm, and whose ciphertext part is a GitHub token.
    const foreignHeader = Buffer.from('{"alg":"none","enc":"A256GCM","kid":"k"}').toString('base64url')
    expect(rules(matcher.scan(`alk1.${foreignHeader}..${iv}.${github}.${tag}`))).toContain('github-token')
    expect(rules(matcher.scan(`alk1.${github}`))).toContain('github-token')
    expect(rules(matcher.scan(`fp1.${github}`))).toContain('github-token')
    // A real header with the wrong shape around it (no empty key part) is not a token either.
    expect(rules(matcher.scan(`alk1.${header}.${iv}.${github}.${tag}`))).toContain('github-token')
    expect(rules(matcher.scan('password="**x**"'))).toEqual(['secret-assignment'])
    expect(rules(matcher.scan('"token": "[REDACTED:sensitive-key]tail"'))).toEqual(['secret-assignment'])
  })

  it('finds canaries exactly and JSON-escaped, and says which', () => {
    const matcher = new LeakMatcher({ canaries: ['canary-one-4f9a', { secret: 'two "quoted" canary', kind: 'custom', marker: 'quoted' }] })
    expect(matcher.scan('a canary-one-4f9a b')).toEqual([{ rule: CANARY_RULE, start: 2, end: 17, canary: 0 }])
    const escaped = JSON.stringify('x two "quoted" canary y')
    expect(matcher.scan(escaped)).toEqual([{ rule: CANARY_RULE, start: 3, end: 24, canary: 1 }])
    expect(matcher.scan('canary-one-4f9')).toEqual([])
  })

  it('finds registered secrets in every encoding the Scrubber masks, as the Scrubber does', () => {
    const secret = 'p@ss wörd/+="x"'
    const matcher = new LeakMatcher({ registered: [secret] })
    const scrubber = new Scrubber({ policy: definePolicy({ preset: 'permissive' }, { env: {} }).scrub })
    scrubber.register(secret)
    const planted = [
      secret,
      encodeURIComponent(secret),
      encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
      Buffer.from(secret).toString('base64'),
      Buffer.from(secret).toString('base64url'),
      JSON.stringify(secret).slice(1, -1),
      `Basic ${Buffer.from(`user:${secret}`).toString('base64')}`,
    ]
    for (const text of planted) {
      expect(matcher.scan(`x ${text} y`).map((m) => m.rule), text).toContain('registered-secret')
      expect(scrubber.scrubString(`x ${text} y`), text).toContain('[REDACTED:registered-secret]')
    }
  })

  it('matches a registered-secret canary in its encodings too, reported as that canary', () => {
    const value = 'Qx7 "canary"/é'
    const matcher = new LeakMatcher({ canaries: [{ secret: value, kind: 'high-entropy', marker: 'Qx7', rule: 'registered-secret' }] })
    expect(matcher.scan(`b64 ${Buffer.from(value).toString('base64')}`)).toEqual([expect.objectContaining({ rule: CANARY_RULE, canary: 0 })])
    expect(matcher.scan(`url ${encodeURIComponent(value)}`)).toEqual([expect.objectContaining({ rule: CANARY_RULE, canary: 0 })])
  })

  it('reports canaries and registered secrets inside SDK markers too', () => {
    const matcher = new LeakMatcher({ canaries: ['needle-4f9a1c'], registered: ['hunter2-hunter2'] })
    expect(rules(matcher.scan('[REDACTED:needle-4f9a1c] [REDACTED:hunter2-hunter2]'))).toEqual(['canary', 'registered-secret'])
  })

  it('with detectors off, looks for canaries and registered secrets only', () => {
    const matcher = new LeakMatcher({ canaries: ['needle-4f9a1c'], detectors: false })
    expect(matcher.detectors).toBe(false)
    expect(matcher.scan('mail ada@example.com needle-4f9a1c')).toEqual([{ rule: CANARY_RULE, start: 21, end: 34, canary: 0 }])
  })

  it('finds the token of every detector right after any escape sequence, in JSON text, where it is', () => {
    const matcher = new LeakMatcher()
    for (const canary of generateCanaries().filter((c) => c.kind !== 'high-entropy')) {
      for (const escape of ESCAPES_BEFORE_A_TOKEN) {
        const text = inJson(escape, canary.value)
        const from = text.indexOf(canary.secret)
        const own = matcher.scan(text).filter((m) => m.rule === canary.rule)
        expect(own.some((m) => m.start <= from && m.end >= from + canary.secret.length), `${canary.kind} after ${escape}`).toBe(true)
        // Each match is reported once, at the range of the original it came from.
        const ranges = own.map((m) => `${m.start}-${m.end}`)
        expect(new Set(ranges).size, `${canary.kind} after ${escape}`).toBe(ranges.length)
        for (const m of own) expect(m.end).toBeLessThanOrEqual(text.length)
      }
    }
  })

  it('finds the token of every detector whose own characters are escaped, over all of it', () => {
    const matcher = new LeakMatcher()
    for (const canary of generateCanaries().filter((c) => c.kind !== 'high-entropy')) {
      for (const escape of CHARACTER_ESCAPES) {
        const escaped = withEscapedCharacters(canary.secret, escape)
        const text = `{"msg":"got ${canary.value.replace(canary.secret, () => escaped)} (200)"}`
        const from = text.indexOf(escaped)
        const own = matcher.scan(text).filter((m) => m.rule === canary.rule)
        expect(own.some((m) => m.start <= from && m.end >= from + escaped.length), `${canary.kind} as ${escaped}`).toBe(true)
      }
    }
  })

  it('finds a registered secret in every encoding of the platform and the SDK, as the Scrubber masks it', () => {
    for (const secret of AWKWARD_SECRETS) {
      const matcher = new LeakMatcher({ registered: [secret], detectors: false })
      const canary = new LeakMatcher({ canaries: [{ secret, rule: 'registered-secret' }], detectors: false })
      const scrubber = new Scrubber({ policy: definePolicy({ preset: 'permissive' }, { env: {} }).scrub })
      scrubber.register(secret)
      for (const encoder of SECRET_ENCODERS) {
        const { text, start, end } = placed(encoder, secret)
        const what = `${encoder.name} of ${JSON.stringify(secret)}`
        expect(matcher.scan(text), what).toEqual([{ rule: 'registered-secret', start, end }])
        expect(canary.scan(text), what).toEqual([{ rule: CANARY_RULE, start, end, canary: 0 }])
        expect(matcher.scan(scrubber.scrubString(text)), what).toEqual([])
      }
    }
  })

  it('does not flag SDK output inside escaped text', () => {
    const matcher = new LeakMatcher()
    for (const text of [
      '{"msg":"{\\"password\\":\\"[REDACTED:sensitive-key]\\"}"}',
      'q=%7B%22token%22%3A%22%5BREDACTED%3Asecret-assignment%5D%22%7D',
      '{"msg":"x\\n[REDACTED:aws-access-key-id] \\u0041[REDACTED:github-token]"}',
    ]) {
      expect(matcher.scan(text), text).toEqual([])
    }
  })

  it('refuses bad options with ERR_INVALID_ARGUMENT, never quoting a value', () => {
    const cases: unknown[] = [
      null,
      { canaries: 'abcdef' },
      { canaries: ['abc'] },
      { canaries: [{ kind: 'x' }] },
      { registered: ['abcd'] },
      { registered: [42] },
    ]
    for (const options of cases) {
      let thrown: unknown
      try {
        new LeakMatcher(options as never)
      } catch (err) {
        thrown = err
      }
      expect(thrown, JSON.stringify(options)).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
      expect((thrown as Error).message).not.toMatch(/abcd/)
    }
    expect(() => new LeakMatcher({ registered: ['abc'] })).toThrow(/registered\[0\] to be at least 5 characters, got 3/)
  })
})

describe('LeakMatcher detector switches', () => {
  it('runs no detector a policy map sets to false, and every other one (issue 14, item 6)', () => {
    const text = 'peer 10.20.30.40 mailed ada@example.com'
    const rules = (m: LeakMatcher): string[] => m.scan(text).map((f) => f.rule).sort()
    expect(rules(new LeakMatcher())).toEqual(['email', 'ipv4'])
    const following = new LeakMatcher({ detectors: { ipv4: false, email: 'mask' } })
    expect(rules(following)).toEqual(['email'])
    expect(following.off).toEqual(['ipv4'])
    expect(() => new LeakMatcher({ detectors: { ipv5: false } as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
