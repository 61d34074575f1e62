import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DETECTOR_IDS } from '../../src/policy/detector-ids.js'
import { presets } from '../../src/policy/presets.js'
import { DETECTORS } from '../../src/scrub/detectors.js'
import { Scrubber } from '../../src/scrub/scrubber.js'
import { SensitiveKeyMatcher } from '../../src/scrub/sensitive-keys.js'
import { AZURE_STORAGE_BARE, bareAzureKeyStarts } from '../../src/scrub/token-detectors.js'
import type { ScrubTransform } from '../../src/scrub/transform.js'

const scrubber = new Scrubber({ policy: { ...presets.balanced.scrub, maxStringLength: 1_000_000 } })

function scrub(text: string): { text: string; rules: string[] } {
  const transforms: ScrubTransform[] = []
  const out = scrubber.scrubString(text, transforms)
  return { text: out, rules: transforms.map((t) => t.rule) }
}

function expectRedacted(input: string, secret: string, rule: string): string {
  const { text, rules } = scrub(input)
  expect(text, `${rule} in ${JSON.stringify(input)}`).not.toContain(secret)
  expect(text).toContain(`[REDACTED:${rule}]`)
  expect(rules).toContain(rule)
  return text
}

function expectUntouched(input: string): void {
  const { text, rules } = scrub(input)
  expect(rules, `no rule should fire on ${JSON.stringify(input)}`).toEqual([])
  expect(text).toBe(input)
}

function luhnComplete(body: string): string {
  for (let d = 0; d < 10; d++) {
    const candidate = body + String(d)
    let sum = 0
    for (let i = 0; i < candidate.length; i++) {
      let v = Number(candidate[candidate.length - 1 - i])
      if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2
      sum += v
    }
    if (sum % 10 === 0) return candidate
  }
  throw new Error('unreachable')
}

describe('DETECTORS', () => {
  it('has one detector per DETECTOR_IDS entry, in that order', () => {
    expect(DETECTORS.map((d) => d.id)).toEqual([...DETECTOR_IDS])
  })

  it('obeys the linear-time rule: no built-in regex has a quantified group containing a quantifier', () => {
    for (const detector of DETECTORS) {
      for (const re of detector.patterns) expect(nestedQuantifiers(re.source), `${detector.id}: ${re.source}`).toEqual([])
    }
    // The auditor itself must catch what it is for.
    expect(nestedQuantifiers('(a+)+$')).not.toEqual([])
    expect(nestedQuantifiers('(?:\\.[0-9]{1,3}){3}')).not.toEqual([])
    expect(nestedQuantifiers('(?:[^"\\\\]|\\\\.){1,9}')).toEqual([])
  })

  it('obeys the linear-time rule: no unbounded quantifier is followed by what its class can match', () => {
    for (const detector of DETECTORS) {
      for (const re of detector.patterns) expect(overlappingQuantifiers(re.source), `${detector.id}: ${re.source}`).toEqual([])
    }
    // The auditor itself must catch what it is for, and pass what the rule allows.
    expect(overlappingQuantifiers('\\s*\\s*$')).not.toEqual([])
    expect(overlappingQuantifiers('[a-z]+[a-z0-9]')).not.toEqual([])
    expect(overlappingQuantifiers(':\\/\\/([^\\s/]{1,512})@')).not.toEqual([])
    expect(overlappingQuantifiers('BEGIN[\\s\\S]*?(?:END|$)')).not.toEqual([])
    expect(overlappingQuantifiers('a=[^\\s=]+=*')).toEqual([])
    expect(overlappingQuantifiers('[A-Z ]{0,40}PRIVATE')).toEqual([])
    expect(overlappingQuantifiers('[a-z]+(?:\\.[a-z]+|@)')).toEqual([])
  })

  it('finishes on hostile input: each keyword and digit pattern repeated 100,000 times', () => {
    const hostile = [
      'a',
      '1',
      '1 ',
      '1-',
      '4111 ',
      'AB12 ',
      '@',
      'a@',
      'a.',
      ':',
      '1:',
      '::',
      'f:',
      '1.',
      '://',
      '://a',
      'eyJ',
      'eyJa.',
      '-----BEGIN PRIVATE KEY-----',
      '-----BEGIN ',
      'password=',
      'password',
      '"token":',
      '\\"token\\":\\"',
      'Bearer ',
      'Basic ',
      '/home/',
      'C:\\Users\\',
      'ghp_',
      'sk-',
      'AKIA',
      'xoxb-',
    ]
    for (const unit of hostile) {
      const text = unit.repeat(Math.ceil(100_000 / unit.length))
      expect(typeof scrubber.scrubString(text)).toBe('string')
    }
  })

  it('cannot be slowed down: the inputs that once took seconds per megabyte finish', () => {
    const whole = new Scrubber({ policy: { ...presets.balanced.scrub, maxStringLength: 8_000_000 } })
    const hostile = [
      // secret-assignment read a 1024-character value at every `a=` after a sensitive word: 1.8 s per 2 MB.
      `password a=${'a='.repeat(1 << 21)}`,
      // email looked back to the start of the string for a dot at every '@': 90 s per 2 MB.
      '://a@'.repeat(1 << 18),
      // iban read 34 characters and ran up to five checksums at every group.
      'AB12 '.repeat(1 << 18),
      // Values are read to their end: a run that opens a bracket and never closes it, many open tags before
      // one far `</`, a credential of closing brackets were each read to the end once per name inside them.
      'password=('.repeat(1 << 18),
      `${'<password>'.repeat(1 << 18)}</x>`,
      `Bearer ${']'.repeat(1 << 21)}`,
      `${';Pwd={'.repeat(1 << 18)}`,
    ]
    // Each finishes (the timing bound against a benign input is in bench/hostile-input.ts) and is scrubbed as a whole.
    for (const text of hostile) expect(whole.scrubString(text).length, text.slice(0, 12)).toBeGreaterThan(0)
  })
})

describe('a value longer than any bound a scan has', () => {
  // 10,000 characters that no detector takes for a placeholder; a leak shows as any 12 of them in a row.
  const long = Array.from({ length: 10_000 }, (_, i) => 'aB3xQ9kL7mZ2pW5'[(i * 7 + (i >> 4)) % 15]).join('')
  const leaked = (out: string): string[] => {
    const pieces: string[] = []
    for (let k = 0; k + 12 <= long.length; k += 37) if (out.includes(long.slice(k, k + 12))) pieces.push(long.slice(k, k + 12))
    return pieces
  }
  const forms: [string, string][] = [
    [`Password=${long}`, 'secret-assignment'],
    [`Password=${long} and more`, 'secret-assignment'],
    [`Server=db;Password=${long};Encrypt=yes`, 'connection-string-password'],
    [`Password=${long};Server=db`, 'connection-string-password'],
    [`Server=db;Pwd={${long}};`, 'connection-string-password'],
    [`Server=db;Password="${long}";`, 'connection-string-password'],
    [`password: "${long}"`, 'secret-assignment'],
    [`password: "${long}`, 'secret-assignment'],
    [`{"token": "${long}", "user": "ada"}`, 'secret-assignment'],
    [`if ("${long}" == password) {}`, 'secret-assignment'],
    [`<password>${long}</password>`, 'secret-assignment'],
    [`machine example.com login ada password ${long}`, 'netrc-password'],
    [`curl -u ada:${long} https://example.com`, 'curl-credentials'],
    [`curl -s -u "ada:${long}" https://example.com`, 'curl-credentials'],
    [`sent Bearer ${long}`, 'authorization-header'],
  ]

  it.each(forms)('is redacted whole, none of it left: %#', (input, rule) => {
    const { text, rules } = scrub(input)
    expect(leaked(text), `${rule}: ${text.slice(0, 120)}`).toEqual([])
    expect(rules).toContain(rule)
    expect(text.length).toBeLessThan(200)
  })
})

describe('each detector', () => {
  it('secret-assignment: a name in the singular of a plural sensitive name starts it alone', () => {
    // keyNamesSecret takes `credential` for `credentials`; the gate once started the detector only on the plural.
    expectRedacted('credential=hunter2xyz', 'hunter2xyz', 'secret-assignment')
    expectRedacted('db_credential: hunter2xyz', 'hunter2xyz', 'secret-assignment')
  })

  it('secret-assignment: only names holding a sensitive word are read, wherever they stand among others', () => {
    const rand = rng(41)
    const word = (): string => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => 'xqzv'[Math.floor(rand() * 4)]!.repeat(1 + Math.floor(rand() * 3))).join('_')
    for (let round = 0; round < 100; round++) {
      const names = Array.from({ length: 40 }, word)
      const secretAt = Math.floor(rand() * names.length)
      const key = ['api__key', 'DB_PASSWORD', '--token', '$secret', '"auth_token"', 'x.credentials', 'MYSQL_PWD'][round % 7]!
      names[secretAt] = `${key}=Hx7pQ2vL9w`
      const text = names.map((n, i) => (i === secretAt ? n : `${n}=v${i}`)).join(rand() < 0.5 ? ' ' : ', ')
      const { text: out } = scrub(`password: none ${text}`)
      expect(out, text).not.toContain('Hx7pQ2vL9w')
      expect(out).toContain('v1')
    }
  })

  it('aws-access-key-id', () => {
    expectRedacted('key=AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE', 'aws-access-key-id')
    expectRedacted('ASIAY34FZKBOKMUTVV7A in use', 'ASIAY34FZKBOKMUTVV7A', 'aws-access-key-id')
    expectUntouched('AKIAIOSFODNN7EXAMPL is one short')
    expectUntouched('the akiaiosfodnn7example is lower case')
  })

  it('github-token', () => {
    const classic = `ghp_${'a1B2c3D4e5'.repeat(3)}abcdef`
    expectRedacted(`token ${classic}`, classic, 'github-token')
    const fine = `github_pat_11ABCDEFG0${'x'.repeat(12)}_${'Y7'.repeat(29)}a`
    expectRedacted(`GH=${fine}`, fine, 'github-token')
    expectUntouched('ghp_short and gho_ alone')
  })

  it('slack-token and slack-webhook', () => {
    const bot = 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'
    expectRedacted(`slack ${bot}`, bot, 'slack-token')
    const hook = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'
    expectRedacted(`post to ${hook}`, 'XXXXXXXXXXXXXXXXXXXXXXXX', 'slack-webhook')
    expectUntouched('the xoxb- prefix alone')
  })

  it('stripe-key (secret and restricted, live and test; publishable keys are public)', () => {
    for (const key of ['sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'rk_live_4eC39HqLyjWDarjtT1zdp7dc', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc']) {
      expectRedacted(`stripe ${key}`, key, 'stripe-key')
    }
    expectUntouched('pk_live_4eC39HqLyjWDarjtT1zdp7dc is publishable')
  })

  it('google-api-key', () => {
    const key = 'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe'
    expectRedacted(`maps ${key}`, key, 'google-api-key')
    expectUntouched('AIza alone')
  })

  it('openai-key and anthropic-key, told apart', () => {
    const openai = 'sk-proj-AbCdEf0123456789_ghIJKLmnop-qrstuv'
    expectRedacted(`OPENAI ${openai}`, openai, 'openai-key')
    const legacy = `sk-${'Ab1'.repeat(16)}`
    expectRedacted(legacy, legacy, 'openai-key')
    const anthropic = 'sk-ant-api03-AbCdEf0123456789_ghIJKLmnop-qrstuvWXYZ'
    const text = expectRedacted(`claude ${anthropic}`, anthropic, 'anthropic-key')
    expect(text).not.toContain('openai-key')
    expectUntouched('task-queue-for-the-nightly-warehouse-load')
  })

  it('npm-token and gitlab-token', () => {
    const npm = `npm_${'aB3'.repeat(12)}`
    expectRedacted(`//registry.npmjs.org/:_authToken=${npm}`, npm, 'npm-token')
    const gitlab = 'glpat-AbCdEf0123456789xyZW'
    expectRedacted(`PRIVATE-TOKEN ${gitlab}`, gitlab, 'gitlab-token')
    expectUntouched('npm_config and glpat- alone')
  })

  it('pem-private-key: the whole block, and an unterminated block to the end', () => {
    const body = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7'
    const block = `-----BEGIN RSA PRIVATE KEY-----\n${body}\n${body}\n-----END RSA PRIVATE KEY-----`
    const text = expectRedacted(`key:\n${block}\nafter`, body, 'pem-private-key')
    expect(text).toBe('key:\n[REDACTED:pem-private-key]\nafter')
    expect(expectRedacted(`-----BEGIN OPENSSH PRIVATE KEY-----\n${body}`, body, 'pem-private-key')).toBe(
      '[REDACTED:pem-private-key]',
    )
    expectUntouched(`-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----`)
  })

  it('jwt', () => {
    const part = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url')
    const jwt = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: '1234567890', name: 'Ada' })}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`
    expectRedacted(`cookie=${jwt};`, jwt, 'jwt')
    expectUntouched('eyJ alone, and eyJhbGciOiJIUzI1NiJ9 without dots')
  })

  it('url-credentials: the userinfo goes, the host stays', () => {
    const { text, rules } = scrub('dsn postgres://app:p@ss:w0rd@db.internal:5432/orders')
    expect(text).toBe('dsn postgres://[REDACTED:url-credentials]@db.internal:5432/orders')
    expect(rules).toEqual(['url-credentials'])
    expectUntouched('see https://example.com/a@b and https://example.com?x=a@b')
  })

  it('email', () => {
    expectRedacted('from ada.lovelace+flows@example.co.uk.', 'ada.lovelace+flows@example.co.uk', 'email')
    expectUntouched('ping @ada, or ada@localhost')
  })

  it('credit-card: Luhn-valid, grouped or not; never UUIDs, timestamps or Luhn failures', () => {
    const visa = luhnComplete('411111111111111')
    expectRedacted(`card ${visa}`, visa, 'credit-card')
    expectRedacted('card 4111 1111 1111 1111 exp 12/29', '4111 1111 1111 1111', 'credit-card')
    expectRedacted('card 4111-1111-1111-1111', '4111-1111-1111-1111', 'credit-card')
    expectRedacted('amex 3782 822463 10005', '3782 822463 10005', 'credit-card')
    const luhnFailing = `${visa.slice(0, 15)}${(Number(visa[15]) + 1) % 10}`
    expectUntouched(`order ${luhnFailing}`)
    expectUntouched('run 12345678-1234-1234-1234-123456789012 and 550e8400-e29b-41d4-a716-446655440000')
    expectUntouched(`at ${luhnComplete('171456789012')} ms`) // a Luhn-valid 13-digit millisecond timestamp
    expectUntouched(`ref ORD${visa}`)
  })

  it('iban: compact or grouped, mod-97 checked', () => {
    expectRedacted('pay DE89 3704 0044 0532 0130 00 today', 'DE89 3704 0044 0532 0130 00', 'iban')
    expectRedacted('iban=GB82WEST12345698765432', 'GB82WEST12345698765432', 'iban')
    expectUntouched('pay DE88 3704 0044 0532 0130 00 today')
  })

  it('ipv4: dotted quads; versions with a v, three- and five-part versions are not', () => {
    expectRedacted('from 10.0.0.1 and 192.168.1.254.', '192.168.1.254', 'ipv4')
    // Decision: a bare four-part "version" is indistinguishable from an address and is redacted.
    expectRedacted('node 1.2.3.4', '1.2.3.4', 'ipv4')
    expectUntouched('v1.2.3.4, release 1.2.3, build 1.2.3.4.5, and 999.1.1.1')
  })

  it('ipv6: full, compressed and with a zone; not times, MACs or C++ scopes', () => {
    expectRedacted('peer 2001:db8::8a2e:370:7334 up', '2001:db8::8a2e:370:7334', 'ipv6')
    expectRedacted('listening on [::1]:8080', '::1', 'ipv6')
    expectRedacted('full 2001:0db8:85a3:0000:0000:8a2e:0370:7334', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'ipv6')
    expect(scrub('link fe80::1%eth0').text).toBe('link [REDACTED:ipv6]%eth0')
    expectUntouched('at 12:30:45, std::vector, and :: alone')
    // A MAC address is not an IPv6 address: mac-address names it.
    expect(scrub('mac 00:1a:2b:3c:4d:5e').rules).toEqual(['mac-address'])
  })

  it('home-path: the user segment only', () => {
    expect(scrub('open /home/ada/flows/etl.py').text).toBe('open /home/[REDACTED:home-path]/flows/etl.py')
    expect(scrub('at /Users/Ada/x').text).toBe('at /Users/[REDACTED:home-path]/x')
    expect(scrub('C:\\Users\\bob\\AppData').text).toBe('C:\\Users\\[REDACTED:home-path]\\AppData')
    expect(scrub('{"p":"C:\\\\Users\\\\bob\\\\x"}').text).toBe('{"p":"C:\\\\Users\\\\[REDACTED:home-path]\\\\x"}')
    expectUntouched('/homework/notes and /var/lib/x')
  })

  it('authorization-header: Bearer and Basic credentials; not prose', () => {
    expectRedacted('Authorization: Bearer abc.def-123_ghi', 'abc.def-123_ghi', 'authorization-header')
    const basic = Buffer.from('ada:s3cret').toString('base64')
    expectRedacted(`authorization: Basic ${basic}`, basic, 'authorization-header')
    expectUntouched('the bearer of bad news wrote the basic configuration')
  })

  it('twilio-key, discord-token and phone-number find what their cheaper first looks must let through', () => {
    // `sk` (in `task`), two dots and digits start these detectors; each then looks for what its
    // expression cannot match without (`SK`, the name `discord` in any case, `(`) before scanning.
    const sid = `SK${'0123456789abcdef'.repeat(2)}`
    expectRedacted(`task started with ${sid} as key`, sid, 'twilio-key')
    const hook = 'Rz9B09dB7cXxtldzXXfmJY0opIzgeANtGJw08vx5PXrP8BpbOeE5lZ7wx8vVcyacYkEl'
    for (const host of ['discord.com', 'DISCORD.COM', 'DiscordApp.com']) {
      expectRedacted(`v1.2.3 posting to https://${host}/api/webhooks/144147826297622273/${hook} now`, hook, 'discord-token')
    }
    expectRedacted('call me at (415) 555-0132 today', '555-0132', 'phone-number')
    expectUntouched('task started at v1.2.3 with no key, 415 5550 132')
  })

  it('azure-storage-key: bare keys are found from their padding, exactly where the expression finds them (property)', () => {
    const run = (k: number): string => 'aB3+/'.repeat(18).slice(0, k)
    const fragment = fc.oneof(
      fc.integer({ min: 84, max: 89 }).map(run),
      fc.integer({ min: 0, max: 5 }).map(run),
      fc.constantFrom('==', '=', '===', ' ', '-', '"', 'é', '\n'),
    )
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 12 }), (parts) => {
        const text = parts.join('')
        expect(bareAzureKeyStarts(text)).toEqual([...text.matchAll(AZURE_STORAGE_BARE)].map((m) => m.index))
      }),
      { numRuns: 3000 },
    )
    const key = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 73 + 41) % 256)).toString('base64')
    expect(key).toHaveLength(88)
    expectRedacted(`key ${key} end`, key, 'azure-storage-key')
    expectRedacted(`${key}`, key, 'azure-storage-key')
    expectUntouched(`key x${key} end`)
  })

  it('secret-assignment: values after sensitive keys, in every quoting', () => {
    expectRedacted('db password=hunter22 ok', 'hunter22', 'secret-assignment')
    expectRedacted('api_key: abc123xyz', 'abc123xyz', 'secret-assignment')
    expectRedacted('{"token": "xyz\\"q"}', 'xyz', 'secret-assignment')
    expectRedacted("DB_PASSWORD='x y z'", 'x y z', 'secret-assignment')
    expectRedacted('"{\\"password\\":\\"p1w2\\"}"', 'p1w2', 'secret-assignment')
    expectRedacted('x-auth-token: t0k3n', 't0k3n', 'secret-assignment')
    expectRedacted('note=password=abc123', 'abc123', 'secret-assignment')
    // A scheme and its credential go together: the header's own detector names them.
    expectRedacted('authorization=Token abcdef123456', 'abcdef123456', 'authorization-header')
    expect(scrub('password=hunter22').text).toBe('password=[REDACTED:secret-assignment]')
    expectUntouched('author=ada authority: high password: null auth=false')
  })

  it('secret-assignment: a key that names no secret is skipped, and what follows its = is still read', () => {
    expectRedacted('a=a=a=password=hunter22', 'hunter22', 'secret-assignment')
    expectRedacted('note="password=hunter22"', 'hunter22', 'secret-assignment')
    expectRedacted(`password ${'a='.repeat(2000)}token=s3cr3t-v4lue`, 's3cr3t-v4lue', 'secret-assignment')
    expectRedacted('token="never closed\napi_key=zz9-zz9', 'zz9-zz9', 'secret-assignment')
    expectRedacted(`token="${'x'.repeat(1100)}" secret='q7-q7-q7'`, 'q7-q7-q7', 'secret-assignment')
    expectUntouched(`password ${'a='.repeat(100)}`)
  })

  it('jwt: a token cut short at the end of the string is redacted to the end', () => {
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')
    const payload = Buffer.from('{"sub":"ada@example.com","name":"Ada"}').toString('base64url')
    expect(scrub(`got ${header}.${payload.slice(0, 20)}`).text).toBe('got [REDACTED:jwt]')
    expect(scrub(`got ${header}.`).text).toBe('got [REDACTED:jwt]')
    // A header with no payload is not a token: it carries no claims.
    expectUntouched(`got ${header}`)
    expectUntouched(`got ${header}.x and more`)
  })

  it('email: an address within 600 characters after :// is the URL\'s userinfo; farther, an address', () => {
    const near = `pg://${'a,'.repeat(250)}ada@example.com/db`
    expect(scrub(near)).toEqual({ text: 'pg://[REDACTED:url-credentials]@example.com/db', rules: ['url-credentials'] })
    const far = `pg://${'a,'.repeat(350)}ada@example.com/db`
    expect(scrub(far).rules).toEqual(['email'])
    expect(scrub(far).text).not.toContain('ada@')
    const many = Array.from({ length: 40 }, (_, i) => `u${i}@example.com`).join(',')
    const { text } = scrub(`${many} https://app:pw@db.internal/x ${many}`)
    expect(text).not.toMatch(/u\d+@/)
    expect(text).toContain('https://[REDACTED:url-credentials]@db.internal/x')
  })

  it('iban: finds exactly what checking every candidate against every group end finds', () => {
    const iban = DETECTORS.find((d) => d.id === 'iban')!
    const rand = rng(5)
    const parts = ['DE', 'GB', 'AB', 'x', '89', '82', '12', '00', '3', '7', ' ', ' ', ' ', '  ', '-', 'WEST', 'DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432']
    for (let round = 0; round < 5_000; round++) {
      let text = ''
      for (let n = 1 + Math.floor(rand() * 40); n > 0; n--) text += parts[Math.floor(rand() * parts.length)]
      const found: string[] = []
      iban.find(text, { add: (start, end) => found.push(`${start}-${end}`) }, 0, { sensitiveKeys: scrubberKeys })
      expect(found, JSON.stringify(text)).toEqual(referenceIbans(text))
    }
  })
})

const scrubberKeys = new SensitiveKeyMatcher()

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

// The registry lengths of the countries the random texts above use (`AB` is no country).
const REFERENCE_IBAN_LENGTHS: Readonly<Record<string, number>> = { DE: 22, GB: 22 }

/**
 * IBANs the straightforward way: at each group start (not glued to a letter
 * or digit) with a country code and check digits 02-98, walk up to 34 letters
 * and digits across single spaces or dashes, and take the group end at the
 * country's IBAN length whose mod-97 remainder is 1; go on after a match,
 * else one further.
 */
function referenceIbans(text: string): string[] {
  const alnum = (i: number): boolean => i >= 0 && i < text.length && /[A-Za-z0-9]/.test(text[i]!)
  const out: string[] = []
  for (let i = 0; i < text.length; i++) {
    if (alnum(i - 1) || !/^[A-Za-z]{2}[0-9]{2}/.test(text.slice(i, i + 4))) continue
    const check = Number(text.slice(i + 2, i + 4))
    const wanted = REFERENCE_IBAN_LENGTHS[text.slice(i, i + 2).toUpperCase()]
    if (check < 2 || check > 98 || wanted === undefined) continue
    const ends: { count: number; end: number }[] = []
    let count = 0
    let j = i
    while (j < text.length && count < 34) {
      if (alnum(j)) {
        count++
        j++
      } else if ((text[j] === ' ' || text[j] === '-') && alnum(j - 1) && alnum(j + 1)) {
        ends.push({ count, end: j })
        j++
      } else break
    }
    if (!alnum(j)) ends.push({ count, end: j })
    const match = ends.reverse().find(({ count: length }) => length === wanted && mod97(text.slice(i, j).replace(/[ -]/g, '').slice(0, length)) === 1)
    if (match !== undefined) {
      out.push(`${i}-${match.end}`)
      i = match.end - 1
    }
  }
  return out
}

function mod97(iban: string): number {
  const digits = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Za-z]/g, (c) => String(c.toUpperCase().charCodeAt(0) - 55))
  let remainder = 0
  for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97
  return remainder
}

/**
 * Finds an unbounded quantifier (or one allowing more than 64) followed by an
 * atom that can match a character of its class (`\s*\s*`, `[a-z]+[a-z0-9]`,
 * `[^/]{1,512}@`): the backtracking engine then tries every split of a run.
 * Atoms are literals, escapes and classes, compared over ASCII plus "some
 * other character"; a group without alternation or quantifier is looked
 * through, anything else (alternation, a quantified group, a lookaround, a
 * backreference, an anchor) ends the comparison. Returns offsets.
 */
function overlappingQuantifiers(source: string): number[] {
  const found: number[] = []
  // What may precede the next atom: the class of a loosely quantified atom, or null.
  let loose: boolean[] | null = null
  const groups: { plain: boolean; alternation: boolean }[] = []
  let i = 0
  while (i < source.length) {
    const at = i
    const c = source[i]!
    let set: boolean[] | null = null
    if (c === '(') {
      const lookaround = source.startsWith('(?=', i) || source.startsWith('(?!', i) || source.startsWith('(?<=', i) || source.startsWith('(?<!', i)
      groups.push({ plain: !lookaround, alternation: false })
      i += source.startsWith('(?:', i) ? 3 : lookaround ? (source[i + 2] === '<' ? 4 : 3) : 1
      if (lookaround) loose = null
      continue
    }
    if (c === ')') {
      const group = groups.pop()!
      i++
      const quantifier = readQuantifier(source, i)
      i += quantifier.length
      if (!group.plain || group.alternation || quantifier.length > 0) loose = null
      continue
    }
    if (c === '|') {
      if (groups.length > 0) groups[groups.length - 1]!.alternation = true
      loose = null
      i++
      continue
    }
    if (c === '^' || c === '$') {
      loose = null
      i++
      continue
    }
    if (c === '[') {
      let close = i + 1
      while (source[close] !== ']') close += source[close] === '\\' ? 2 : 1
      set = classSet(source.slice(i + 1, close))
      i = close + 1
    } else if (c === '\\') {
      set = /[1-9bB]/.test(source[i + 1]!) ? null : escapeSet(source[i + 1]!)
      i += 2
    } else {
      set = c === '.' ? charSet((code) => code !== 10 && code !== 13) : charSet((code) => code === c.charCodeAt(0))
      i++
    }
    const quantifier = readQuantifier(source, i)
    i += quantifier.length
    if (set === null) {
      loose = null
      continue
    }
    if (loose !== null && set.some((inSet, code) => inSet && loose![code])) found.push(at)
    loose = quantifier.max > 64 ? set : null
  }
  return found
}

const OTHER = 128 // index of "some character outside ASCII" in a set

function charSet(has: (code: number) => boolean, other = false): boolean[] {
  const set = Array.from({ length: 128 }, (_, code) => has(code))
  set.push(other)
  return set
}

function escapeSet(e: string): boolean[] {
  const space = (code: number): boolean => code === 32 || (code >= 9 && code <= 13)
  const word = (code: number): boolean => /[A-Za-z0-9_]/.test(String.fromCharCode(code))
  const digit = (code: number): boolean => code >= 48 && code <= 57
  switch (e) {
    case 's':
      return charSet(space, true)
    case 'S':
      return charSet((code) => !space(code), true)
    case 'd':
      return charSet(digit)
    case 'D':
      return charSet((code) => !digit(code), true)
    case 'w':
      return charSet(word)
    case 'W':
      return charSet((code) => !word(code), true)
    case 'n':
      return charSet((code) => code === 10)
    case 'r':
      return charSet((code) => code === 13)
    case 't':
      return charSet((code) => code === 9)
    default:
      return charSet((code) => code === e.charCodeAt(0))
  }
}

// The set of a class body (between the brackets).
function classSet(body: string): boolean[] {
  const negated = body.startsWith('^')
  const set = charSet(() => false)
  let i = negated ? 1 : 0
  while (i < body.length) {
    let item: boolean[]
    let low = -1
    if (body[i] === '\\') {
      item = escapeSet(body[i + 1]!)
      if (/[^sSdDwW]/.test(body[i + 1]!)) low = item.indexOf(true)
      i += 2
    } else {
      low = body.charCodeAt(i)
      item = charSet((code) => code === low)
      i++
    }
    if (low >= 0 && body[i] === '-' && i + 1 < body.length) {
      const high = body[i + 1] === '\\' ? escapeSet(body[i + 2]!).indexOf(true) : body.charCodeAt(i + 1)
      item = charSet((code) => code >= low && code <= high)
      i += body[i + 1] === '\\' ? 3 : 2
    }
    item.forEach((inItem, code) => {
      if (inItem) set[code] = true
    })
  }
  return negated ? set.map((inSet, code) => (code === OTHER ? true : !inSet)) : set
}

function readQuantifier(source: string, at: number): { length: number; max: number } {
  const c = source[at]
  let length = 0
  let max = 1
  if (c === '*' || c === '+') {
    length = 1
    max = Infinity
  } else if (c === '?') {
    length = 1
  } else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at))
    if (m !== null) {
      length = m[0].length
      max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3])
    }
  }
  if (length > 0 && source[at + length] === '?') length++
  return { length, max }
}

/**
 * Finds quantified groups that contain a quantifier, the shape of
 * catastrophic backtracking, in a regex source. Returns their offsets.
 */
function nestedQuantifiers(source: string): number[] {
  const found: number[] = []
  const stack: boolean[] = [false]
  let i = 0
  const isQuantifierAt = (at: number): boolean => {
    const c = source[at]
    return c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(source.slice(at)))
  }
  while (i < source.length) {
    const c = source[i]!
    if (c === '\\') {
      i += 2
    } else if (c === '[') {
      i++
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1
      i++
    } else if (c === '(') {
      stack.push(false)
      i++
      if (source[i] === '?') {
        i++
        while (source[i] === '<' || source[i] === '=' || source[i] === '!' || source[i] === ':') i++
      }
    } else if (c === ')') {
      const inner = stack.pop()!
      i++
      if (isQuantifierAt(i)) {
        if (inner) found.push(i)
        stack[stack.length - 1] = true
      } else if (inner) stack[stack.length - 1] = true
    } else if (isQuantifierAt(i)) {
      stack[stack.length - 1] = true
      i += source[i] === '{' ? source.indexOf('}', i) - i + 1 : 1
      if (source[i] === '?') i++
    } else i++
  }
  return found
}

describe('iban: a country of the registry, at its length', () => {
  const scrubber = new Scrubber()
  // Check digits that make `bban` under `country` pass mod-97, as a bank computes them.
  const withCheckDigits = (country: string, bban: string): string => {
    const check = 98 - mod97(`${country}00${bban}`)
    return `${country}${String(check).padStart(2, '0')}${bban}`
  }

  it('redacts a valid IBAN of its country length, and leaves a token that only passes mod-97', () => {
    const real = withCheckDigits('SK', '12000000198742637541')
    expect(real).toHaveLength(24)
    expect(scrubber.scrubString(`to ${real} today`)).toBe('to [REDACTED:iban] today')
    // The shapes random API keys take: mod-97 valid, but a length SK does not have, or no country at all.
    for (const token of [withCheckDigits('SK', 'd5a2f7c0d9c4802fca7150563cb586'), withCheckDigits('KT', 'rZTW7qhRGNKEMpcD0000'), withCheckDigits('SK', '1200000019874263754')]) {
      expect(mod97(token)).toBe(1)
      expect(scrubber.scrubString(`key ${token} (200)`)).not.toContain('[REDACTED:iban]')
    }
  })
})
