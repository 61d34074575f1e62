import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { MemorySecretProvider, Secret } from '../../src/crypto/secret.js'
import { InvalidArgumentError, PolicyError } from '../../src/errors.js'
import { presets } from '../../src/policy/presets.js'
import type { ScrubPolicy } from '../../src/policy/schema.js'
import { LeakMatcher } from '../../src/scrub/scan-text.js'
import { SECRET_TOO_SHORT_WARNING, Scrubber } from '../../src/scrub/scrubber.js'
import { DETECTOR_REACH } from '../../src/scrub/text-scrubber.js'
import type { ScrubTransform } from '../../src/scrub/transform.js'
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

function policy(overrides: Partial<ScrubPolicy> = {}): ScrubPolicy {
  return { ...presets.balanced.scrub, ...overrides }
}

// Runs `fn` and returns the process warnings it emitted.
async function warningsOf(fn: () => void): Promise<Error[]> {
  const seen: Error[] = []
  const listener = (w: Error): void => {
    seen.push(w)
  }
  process.on('warning', listener)
  try {
    fn()
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', listener)
  }
  return seen
}

describe('Scrubber', () => {
  it('uses the balanced preset by default and returns the very same string when nothing matched', () => {
    const scrubber = new Scrubber()
    const clean = 'loaded 1200 rows from the orders partition'
    expect(scrubber.scrubString(clean)).toBe(clean)
    expect(scrubber.scrubString('mail ada@example.com')).toBe('mail [REDACTED:email]')
  })

  it('reports transforms with path, rule and action, never the value', () => {
    const scrubber = new Scrubber()
    const transforms: ScrubTransform[] = []
    scrubber.scrubString('ada@example.com and bob@example.com from 10.0.0.1', transforms, 'msg')
    expect(transforms).toEqual([
      { path: 'msg', rule: 'email', action: 'redact' },
      { path: 'msg', rule: 'ipv4', action: 'redact' },
    ])
    expect(JSON.stringify(transforms)).not.toContain('ada')
  })

  it('says whether a key is sensitive exactly when scrub() replaces its value whole', () => {
    const scrubber = new Scrubber({ policy: policy({ sensitiveKeys: ['employee_ssn', 'password'] }) })
    for (const key of ['employeeSSN', 'db_password', 'PASSWORDS', 'author', 'ssn', 'user', '__proto__', '']) {
      const replaced = scrubber.scrub({ [key]: 'probe-value' }).transforms.some((t) => t.rule === 'sensitive-key')
      expect(scrubber.isSensitiveKey(key), key).toBe(replaced)
    }
    expect(scrubber.isSensitiveKey('employeeSSN')).toBe(true)
    expect(scrubber.isSensitiveKey('author')).toBe(false)
    expect(() => scrubber.isSensitiveKey(42 as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  describe('actions', () => {
    const keys = KeyRing.generate()
    const card = '4111 1111 1111 1111'

    it('redact, mask, hash and remove, per detector', () => {
      const scrubber = new Scrubber({
        policy: policy({ detectors: { email: 'mask', 'credit-card': 'hash', ipv4: 'remove' } }),
        keys,
      })
      const transforms: ScrubTransform[] = []
      const out = scrubber.scrubString(`a ada@example.com b ${card} c 10.0.0.1 d`, transforms)
      expect(out).toMatch(new RegExp(`^a \\*{15} b fp1\\.${keys.activeKid}\\.[A-Za-z0-9_-]{43} c  d$`))
      expect(transforms.map((t) => `${t.rule}:${t.action}`)).toEqual(['email:mask', 'credit-card:hash', 'ipv4:remove'])
    })

    it('scrub.action is the default of detectors set to true and of sensitive keys', () => {
      const scrubber = new Scrubber({ policy: policy({ action: 'mask', detectors: { email: true } }) })
      expect(scrubber.scrubString('ada@example.com')).toBe('*'.repeat(15))
      expect(scrubber.scrub({ password: 'hunter22' }).value).toEqual({ password: '********' })
    })

    it('remove drops a sensitive key; hash fingerprints its value', () => {
      const removing = new Scrubber({ policy: policy({ action: 'remove' }) })
      const { value, transforms } = removing.scrub({ user: 'ada', password: 'hunter22' })
      expect(value).toEqual({ user: 'ada' })
      expect(transforms).toEqual([{ path: 'password', rule: 'sensitive-key', action: 'remove' }])
      const hashing = new Scrubber({ policy: policy({ action: 'hash' }), keys })
      expect(hashing.scrub({ token: 'abc-123' }).value).toEqual({ token: expect.stringMatching(/^fp1\./) })
    })

    it('hash is keyed: the same ring agrees with itself, another ring does not', () => {
      const withPolicy = (ring: KeyRing): Scrubber =>
        new Scrubber({ policy: policy({ detectors: { 'credit-card': 'hash' } }), keys: ring })
      const a = withPolicy(keys).scrubString(card)
      expect(withPolicy(KeyRing.fromJSON(keys.export())).scrubString(card)).toBe(a)
      expect(withPolicy(KeyRing.generate()).scrubString(card).split('.')[2]).not.toBe(a.split('.')[2])
    })

    it('hash without a key ring redacts instead, and says so', () => {
      const scrubber = new Scrubber({ policy: policy({ detectors: { 'credit-card': 'hash' } }) })
      const transforms: ScrubTransform[] = []
      expect(scrubber.scrubString(card, transforms)).toBe('[REDACTED:credit-card]')
      expect(transforms).toEqual([{ path: '$', rule: 'credit-card', action: 'redact' }])
    })

    it('a detector set to false does not run', () => {
      const scrubber = new Scrubber({ policy: policy({ detectors: { email: false } }) })
      expect(scrubber.scrubString('ada@example.com')).toBe('ada@example.com')
    })
  })

  describe('registered secrets', () => {
    it('are always redacted, whatever the policy action, and accept Secret instances', () => {
      const scrubber = new Scrubber({ policy: policy({ action: 'mask', detectors: Object.fromEntries(Object.keys(presets.balanced.scrub.detectors).map((id) => [id, false])) }) })
      expect(scrubber.register(new Secret('tok-live-9f8e7d', 'api'))).toEqual({ registered: true })
      expect(scrubber.register('db-pass-1234')).toEqual({ registered: true })
      expect(scrubber.size).toBe(2)
      expect(scrubber.scrubString('a tok-live-9f8e7d b db-pass-1234')).toBe(
        'a [REDACTED:registered-secret] b [REDACTED:registered-secret]',
      )
    })

    it('refuses values shorter than minSecretLength, warning without the value or its length', async () => {
      const scrubber = new Scrubber({ policy: policy({ minSecretLength: 8 }) })
      let result: unknown
      const warnings = await warningsOf(() => {
        result = scrubber.register('ab12x', { name: 'pin' })
      })
      expect(result).toEqual({ registered: false, reason: 'too-short' })
      expect(warnings).toHaveLength(1)
      const warning = warnings[0]! as Error & { code?: string }
      expect(warning.code).toBe(SECRET_TOO_SHORT_WARNING)
      expect(warning.message).toContain('"pin"')
      expect(warning.message).not.toContain('ab12x')
      expect(warning.message).not.toMatch(/\b5\b/)
      expect(scrubber.size).toBe(0)
      expect(scrubber.scrubString('pin ab12x')).toBe('pin ab12x')
    })

    it('are masked in object keys seen before they were registered, in both modes, and keys stay distinct', () => {
      const scrubber = new Scrubber()
      const value = { 'tok-live-9f8e7d': 1, 'ada@example.com': 2, 'bob@example.com': 3 }
      expect(scrubber.scrub(value).value).toEqual({ 'tok-live-9f8e7d': 1, '[REDACTED:email]': 2, '[REDACTED:email]#2': 3 })
      expect(scrubber.maskRegistered(value).value).toEqual(value)
      scrubber.register('tok-live-9f8e7d')
      const scrubbed = scrubber.scrub(value)
      expect(scrubbed.value).toEqual({ '[REDACTED:registered-secret]': 1, '[REDACTED:email]': 2, '[REDACTED:email]#2': 3 })
      expect(scrubbed.transforms).toContainEqual({ path: '["[REDACTED:registered-secret]"]', rule: 'registered-secret', action: 'redact' })
      expect(scrubbed.transforms.filter((t) => t.rule === 'email')).toHaveLength(2)
      expect(scrubber.maskRegistered(value).value).toEqual({ '[REDACTED:registered-secret]': 1, 'ada@example.com': 2, 'bob@example.com': 3 })
    })

    it('rejects what is not a secret with a typed error', () => {
      const scrubber = new Scrubber()
      expect(() => scrubber.register('')).toThrow(InvalidArgumentError)
      expect(() => scrubber.register(42 as never)).toThrow(InvalidArgumentError)
      expect(() => scrubber.register(new Secret(42) as never)).toThrow(InvalidArgumentError)
    })

    it('watch registers every secret a provider resolves, until stopped', async () => {
      const provider = new MemorySecretProvider({ first: 'first-value-1', second: 'second-value-2' })
      const scrubber = new Scrubber()
      const stop = scrubber.watch(provider)
      expect(scrubber.scrubString('first-value-1')).toBe('first-value-1')
      await provider.get('first')
      expect(scrubber.scrubString('first-value-1')).toBe('[REDACTED:registered-secret]')
      stop()
      await provider.get('second')
      expect(scrubber.scrubString('second-value-2')).toBe('second-value-2')
      expect(() => scrubber.watch({} as never)).toThrow(InvalidArgumentError)
    })

    it('win ties against detectors; overlapping matches merge so nothing half-leaks', () => {
      const scrubber = new Scrubber()
      scrubber.register('ada@example.com')
      const transforms: ScrubTransform[] = []
      expect(scrubber.scrubString('to ada@example.com', transforms)).toBe('to [REDACTED:registered-secret]')
      expect(transforms.map((t) => t.rule)).toEqual(['registered-secret'])

      // A registered secret that starts inside a JWT and runs past it: one span, the JWT's rule.
      const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl'
      scrubber.register('c2lnbmF0dXJl-and-more')
      expect(scrubber.scrubString(`x ${jwt}-and-more y`)).toBe('x [REDACTED:jwt] y')
    })
  })

  describe('custom patterns', () => {
    it('run with their own action and id', () => {
      const scrubber = new Scrubber({ policy: policy({ patterns: [{ id: 'employee-id', pattern: 'EMP-[0-9]{6}', caseInsensitive: true, action: 'mask' }] }) })
      const transforms: ScrubTransform[] = []
      expect(scrubber.scrubString('ticket emp-123456 closed', transforms)).toBe('ticket ********** closed')
      expect(transforms).toEqual([{ path: '$', rule: 'employee-id', action: 'mask' }])
    })

    it('cannot hang the process: (a+)+$ against 1 MB of hostile input', () => {
      const scrubber = new Scrubber({
        policy: policy({ patterns: [{ id: 'nested', pattern: '(a+)+$' }], maxStringLength: 4_000_000 }),
      })
      const hostile = `${'a'.repeat(1 << 20)}!`
      // A backtracking engine would not finish within the test's timeout; the linear-time bound is in bench/hostile-input.ts.
      expect(scrubber.scrubString(hostile)).toBe(hostile)
      expect(scrubber.scrubString('a'.repeat(1 << 20))).toBe('[REDACTED:nested]')
    })

    it('refuses a pattern RE2 cannot compile, or an id already taken, naming the path', () => {
      const expectPolicyError = (patterns: ScrubPolicy['patterns'], path: string): void => {
        try {
          new Scrubber({ policy: policy({ patterns }) })
          expect.unreachable('expected a PolicyError')
        } catch (err) {
          expect(err).toBeInstanceOf(PolicyError)
          expect((err as PolicyError).code).toBe('ERR_POLICY_INVALID')
          expect((err as PolicyError).issues.map((i) => i.path)).toEqual([path])
        }
      }
      expectPolicyError([{ id: 'backref', pattern: '(a)\\1' }], 'scrub.patterns.0.pattern')
      expectPolicyError([{ id: 'email', pattern: 'x+' }], 'scrub.patterns.0.id')
      expectPolicyError([{ id: 'same', pattern: 'x+' }, { id: 'same', pattern: 'y+' }], 'scrub.patterns.1.id')
    })
  })

  it('refuses an invalid scrub policy with every problem listed', () => {
    try {
      new Scrubber({ policy: { ...policy(), maxDepth: 0, action: 'shred' } as never })
      expect.unreachable('expected a PolicyError')
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyError)
      expect((err as PolicyError).issues.map((i) => i.path).sort()).toEqual(['scrub.action', 'scrub.maxDepth'])
    }
    expect(() => new Scrubber({ keys: 'not a ring' as never })).toThrow(InvalidArgumentError)
    expect(() => new Scrubber({ policy: presets.balanced as never })).toThrow(/policy\.scrub/)
    expect(() => new Scrubber().scrubString(42 as never)).toThrow(InvalidArgumentError)
  })

  it('truncates after scrubbing, never before', () => {
    const scrubber = new Scrubber({ policy: policy({ maxStringLength: 20 }) })
    scrubber.register('S3CRET-straddles-the-cut')
    const transforms: ScrubTransform[] = []
    const out = scrubber.scrubString('0123456789 S3CRET-straddles-the-cut tail', transforms)
    expect(out).toBe('0123456789 [REDACTED[airlock:truncated 24 chars]')
    expect(out).not.toContain('S3CRET')
    expect(transforms.map((t) => t.rule)).toEqual(['registered-secret', 'max-string-length'])
  })

  it('maskRegistered replaces registered secrets only', () => {
    const scrubber = new Scrubber()
    scrubber.register('s3cr3t-value')
    const { value, transforms } = scrubber.maskRegistered({ dsn: 'pg://app:s3cr3t-value@db', email: 'ada@example.com', password: 'x1' })
    expect(value).toEqual({ dsn: 'pg://app:[REDACTED:registered-secret]@db', email: 'ada@example.com', password: 'x1' })
    expect(transforms).toEqual([{ path: 'dsn', rule: 'registered-secret', action: 'redact' }])
  })

  it('never prints a value: toString, toJSON and inspect', () => {
    const scrubber = new Scrubber()
    scrubber.register('never-print-me-1')
    for (const printed of [String(scrubber), JSON.stringify({ scrubber }), inspect(scrubber)]) {
      expect(printed).toContain('Scrubber([airlock:redacted])')
      expect(printed).not.toContain('never-print-me-1')
    }
  })
})

describe('Scrubber on long strings: bounded work, redaction before the cut', () => {
  const MAX = 1_000
  // Where scanning stops, for secrets whose encodings are shorter than the detectors' reach.
  const SCANNED = MAX + DETECTOR_REACH
  const LENGTH = SCANNED + 5_000
  // No four of these in a row occur in markers or in the filler, so a 4-gram of a value found in the output leaked.
  const ALPHABET = 'QWXZVqwxzv'
  const SECRET = spell(40, 1)
  const GITHUB_TOKEN = `ghp_${spell(36, 2)}`
  const JWT = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${spell(2 * DETECTOR_REACH, 3)}.${spell(43, 4)}`
  const PEM = `-----BEGIN RSA PRIVATE KEY-----\n${spell(2 * DETECTOR_REACH, 5)}\n-----END RSA PRIVATE KEY-----`

  function spell(length: number, seed: number): string {
    let out = ''
    for (let i = 0; i < length; i++) out += ALPHABET[(i * 7 + seed * 3 + ((i * i) >> 2)) % ALPHABET.length]
    return out
  }

  // `value` at `at` in LENGTH characters of filler.
  function planted(value: string, at: number, length = LENGTH): string {
    return ' '.repeat(at) + value + ' '.repeat(Math.max(0, length - at - value.length))
  }

  // No substring of `value` of 4 or more characters is in `out`: checking every 4-gram suffices, a longer one contains one.
  function expectNoPartOf(out: string, value: string, what: string): void {
    for (let i = 0; i + 4 <= value.length; i++) {
      if (out.includes(value.slice(i, i + 4))) expect.fail(`${what}: "${value.slice(i, i + 4)}" (at ${i} of the value) leaked`)
    }
  }

  function scrubber(): Scrubber {
    const s = new Scrubber({ policy: policy({ maxStringLength: MAX }) })
    s.register(SECRET)
    return s
  }

  // Every way a string leaves: scrubString, a walked value, a walked key, and (for secrets) maskRegistered.
  function outputs(s: Scrubber, text: string, secretsToo: boolean): string[] {
    const walked = s.scrub({ msg: text, [text]: 1 }).value as Record<string, unknown>
    const out = [s.scrubString(text), walked.msg as string, ...Object.keys(walked).filter((k) => k !== 'msg')]
    if (secretsToo) out.push(s.maskRegistered(text).value as string)
    return out
  }

  it('redacts a registered secret or a detector match straddling the cut, or the end of the scanned part, whole', () => {
    const s = scrubber()
    for (const [value, secretsToo] of [
      [SECRET, true],
      [GITHUB_TOKEN, false],
    ] as const) {
      for (const point of [MAX, SCANNED]) {
        for (const at of [point - value.length + 1, point - 20, point - 4, point - 1]) {
          for (const out of outputs(s, planted(value, at), secretsToo)) {
            expectNoPartOf(out, value, `${value.slice(0, 8)} at ${at}, cut ${point}`)
            expect(out.length).toBeLessThanOrEqual(MAX + 40)
            expect(out).toMatch(/\[airlock:truncated \d+ chars\]$/)
          }
        }
      }
    }
  })

  it('redacts to the end of the scanned part a JWT or PEM block that starts before the cut and runs past it', () => {
    const s = scrubber()
    for (const [value, rule] of [
      [JWT, 'jwt'],
      [PEM, 'pem-private-key'],
    ] as const) {
      for (const at of [MAX - 60, MAX - 1, 10]) {
        const text = planted(value, at)
        const transforms: ScrubTransform[] = []
        const out = s.scrubString(text, transforms)
        expectNoPartOf(out, value, `${rule} at ${at}`)
        const scrubbedScanned = `${' '.repeat(at)}[REDACTED:${rule}]`
        const kept = scrubbedScanned.slice(0, MAX)
        expect(out).toBe(`${kept}[airlock:truncated ${scrubbedScanned.length - kept.length + text.length - SCANNED} chars]`)
        expect(transforms).toEqual([
          { path: '$', rule, action: 'redact' },
          { path: '$', rule: 'max-string-length', action: 'truncate' },
        ])
      }
    }
  })

  it('scans further for a registered secret longer than the detectors\' reach', () => {
    const s = scrubber()
    const long = spell(DETECTOR_REACH + 2_000, 6)
    s.register(long)
    for (const at of [MAX - 10, 5]) {
      for (const out of outputs(s, planted(long, at, LENGTH + 3_000), true)) expectNoPartOf(out, long, `long secret at ${at}`)
    }
  })

  it('counts in the marker what was cut after scrubbing and what was never scanned', () => {
    const s = scrubber()
    const text = `ada@example.com ${'x'.repeat(20_000)}`
    const transforms: ScrubTransform[] = []
    const out = s.scrubString(text, transforms)
    const scrubbedScanned = `[REDACTED:email] ${'x'.repeat(SCANNED - 16)}`
    expect(out).toBe(`${scrubbedScanned.slice(0, MAX)}[airlock:truncated ${scrubbedScanned.length - MAX + text.length - SCANNED} chars]`)
    expect(transforms.map((t) => t.rule)).toEqual(['email', 'max-string-length'])
  })
})

// No six characters in a row of `secret` are in `out` (all of it, when shorter).
function expectNoPartOf(out: string, secret: string, what: string): void {
  const size = Math.min(6, secret.length)
  for (let i = 0; i + size <= secret.length; i++) {
    if (out.includes(secret.slice(i, i + size))) expect.fail(`${what}: "${secret.slice(i, i + size)}" is left in ${JSON.stringify(out)}`)
  }
}

describe('Scrubber on text that carries escaped text', () => {
  const MARKER = '[REDACTED:registered-secret]'
  const secretsOnly = (): Scrubber => new Scrubber({ policy: presets.permissive.scrub })

  it('removes the token of every detector right after any escape sequence, in JSON text', () => {
    const scrubber = new Scrubber()
    const scan = new LeakMatcher()
    for (const canary of generateCanaries().filter((c) => c.kind !== 'high-entropy')) {
      for (const escape of ESCAPES_BEFORE_A_TOKEN) {
        const what = `${canary.kind} after ${escape}`
        const text = inJson(escape, canary.value)
        expect(text, what).toContain(canary.secret)
        const transforms: ScrubTransform[] = []
        const out = scrubber.scrubString(text, transforms)
        expectNoPartOf(out, canary.secret, what)
        expect(transforms.map((t) => t.rule), what).toContain(canary.rule)
        // What is left is what the leak scan accepts.
        expect(scan.scan(out).filter((m) => m.rule === canary.rule), what).toEqual([])
      }
    }
  })

  it('removes the token of every detector whose own characters are escaped, the first one included', () => {
    const scrubber = new Scrubber()
    for (const canary of generateCanaries().filter((c) => c.kind !== 'high-entropy')) {
      for (const escape of CHARACTER_ESCAPES) {
        const escaped = withEscapedCharacters(canary.secret, escape)
        const what = `${canary.kind} as ${escaped}`
        const text = `{"msg":"got ${canary.value.replace(canary.secret, () => escaped)} (200)"}`
        const transforms: ScrubTransform[] = []
        const out = scrubber.scrubString(text, transforms)
        expectNoPartOf(out, escaped, what)
        expect(transforms.map((t) => t.rule), what).toContain(canary.rule)
      }
    }
  })

  it('still finds what only the text as written shows: a Windows home path whose user starts like an escape', () => {
    const scrubber = new Scrubber()
    expect(scrubber.scrubString('at C:\\Users\\nick\\app.js')).toBe('at C:\\Users\\[REDACTED:home-path]\\app.js')
    expect(scrubber.scrubString('at C:\\\\Users\\\\tom\\\\x.js')).not.toContain('tom')
  })

  it('masks a registered secret in every encoding of the platform and the SDK, and nothing around it', () => {
    for (const secret of AWKWARD_SECRETS) {
      const masking = secretsOnly()
      masking.register(secret)
      const all = new Scrubber()
      all.register(secret)
      for (const encoder of SECRET_ENCODERS) {
        const { text } = placed(encoder, secret)
        const what = `${encoder.name} of ${JSON.stringify(secret)}`
        expect(masking.scrubString(text), what).toBe(encoder.context.replace('%s', MARKER))
        expect(masking.maskRegistered({ v: text }).value, what).toEqual({ v: encoder.context.replace('%s', MARKER) })
        expect(all.scrubString(text), what).not.toContain(encoder.encode(secret))
      }
    }
  })

  it('records one transform per rule per string, however many views found it', () => {
    const scrubber = new Scrubber()
    const key = 'AKIAIOSFODNN7EXAMPLE'
    const transforms: ScrubTransform[] = []
    const out = scrubber.scrubString(`${key} and {"k":"x\\n${key}","j":"\\\\u0041${key}"}`, transforms)
    expect(out).toBe('[REDACTED:aws-access-key-id] and {"k":"x\\n[REDACTED:aws-access-key-id]","j":"\\\\u0041[REDACTED:aws-access-key-id]"}')
    expect(transforms).toEqual([{ path: '$', rule: 'aws-access-key-id', action: 'redact' }])
  })

  it('hashes a token found behind an escape as it hashes the same token anywhere', () => {
    const scrubber = new Scrubber({ policy: policy({ detectors: { 'github-token': 'hash' } }), keys: KeyRing.generate() })
    const token = `ghp_${'a1B2c3D4e5'.repeat(4)}`
    const fingerprint = scrubber.scrubString(token)
    expect(fingerprint).toMatch(/^fp1\./)
    expect(scrubber.scrubString(`{"m":"x\\n${token}"}`)).toBe(`{"m":"x\\n${fingerprint}"}`)
    expect(scrubber.scrubString(`q=x%0A${token}`)).toBe(`q=x%0A${fingerprint}`)
  })

  it('finds what only a view made without a keyword pass of its own shows: a keyword spelt by a separator, a key glued to a match', () => {
    // The separated view runs on the decoded view's keyword pass, widened: 'secret access key' (aws-secret-access-key's
    // keyword) is spelt only once an escape of a letter or `_` reads as a space. The views with matches blanked run on
    // the pass of the view they blank: the key below is glued to an address in the decoded view alone.
    const value = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
    const key = 'AKIAIOSFODNN7EXAMPLE'
    const cases: [string, string, string][] = [
      [`secret\\u0041access key ${value}`, value, 'aws-secret-access-key'],
      [`the secret%5Faccess key is ${value} ok`, value, 'aws-secret-access-key'],
      [`{"m":"a=1","n":"secret\\x41access key: ${value}"}`, value, 'aws-secret-access-key'],
      [`{"m":"from 10.1.2.3\\u0041${key.slice(1)}"}`, key.slice(1), 'aws-access-key-id'],
      [`from 10.1.2.3%41${key.slice(1)} and more`, key.slice(1), 'aws-access-key-id'],
      [`${'filler '.repeat(700)}x%2010.1.2.3%41${key.slice(1)}`, key.slice(1), 'aws-access-key-id'],
    ]
    const scan = new LeakMatcher()
    for (const [text, secret, rule] of cases) {
      const transforms: ScrubTransform[] = []
      const out = new Scrubber().scrubString(text, transforms)
      expectNoPartOf(out, secret, text)
      expect(transforms.map((t) => t.rule), text).toContain(rule)
      expect(scan.scan(text).map((m) => m.rule), text).toContain(rule)
    }
  })

  it('still makes the separated view for custom patterns when no detector keyword is there to start one', () => {
    // Only the separated view reads the escaped `A` as a boundary, and no built-in keyword occurs.
    const scrubber = new Scrubber({ policy: policy({ patterns: [{ id: 'ticket', pattern: '\\bTKT-[A-Z]{6}\\b' }] }) })
    for (const text of ['{"m":"\\u0041TKT-QWERTZ"}', 'q=%41TKT-QWERTZ&x=1', `${'word '.repeat(900)}\\x41TKT-QWERTZ`]) {
      expect(scrubber.scrubString(text), text).not.toContain('QWERTZ')
    }
  })

  it('returns the very string when it holds escapes but nothing to scrub', () => {
    const scrubber = new Scrubber()
    scrubber.register('p@ss word-1')
    for (const text of ['{"a":"line\\nnext \\u00e9"}', '100%25 done, a+b', 'C:\\temp\\x']) expect(scrubber.scrubString(text)).toBe(text)
  })
})

describe('Scrubber.holdsRegisteredSecret', () => {
  it('finds a registered secret anywhere in a long text, in its encodings too, and nothing else', () => {
    const scrubber = new Scrubber()
    const secret = 'Zq8-registered-Kp2x'
    expect(scrubber.holdsRegisteredSecret('nothing registered yet')).toBe(false)
    scrubber.register(secret)
    const filler = 'x'.repeat(300_000)
    expect(scrubber.holdsRegisteredSecret(`${filler}${secret}`)).toBe(true)
    expect(scrubber.holdsRegisteredSecret(`${filler}${Buffer.from(secret).toString('base64')}`)).toBe(true)
    expect(scrubber.holdsRegisteredSecret(`${filler}${encodeURIComponent(`a b ${secret}`)}`)).toBe(true)
    expect(scrubber.holdsRegisteredSecret(`${filler} ada@example.com AKIAIOSFODNN7EXAMPLE`)).toBe(false)
    expect(() => scrubber.holdsRegisteredSecret(42 as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
