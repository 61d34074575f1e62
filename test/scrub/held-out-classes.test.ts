import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { presets } from '../../src/policy/presets.js'
import { Scrubber } from '../../src/scrub/scrubber.js'
import type { ScrubTransform } from '../../src/scrub/transform.js'

// One test per class of miss or false positive the held-out corpus (test/corpus/held-out-corpus.ts)
// found, each with inputs of its own, so the class is held and not the corpus's strings.
const scrubber = new Scrubber({ policy: { ...presets.balanced.scrub, maxStringLength: 1_000_000 } })

function scrub(text: string): { text: string; rules: string[] } {
  const transforms: ScrubTransform[] = []
  const out = scrubber.scrubString(text, transforms)
  return { text: out, rules: transforms.map((t) => t.rule) }
}

function expectRedacted(input: string, secret: string, rule: string): void {
  const { text, rules } = scrub(input)
  expect(text, `${rule} in ${JSON.stringify(input)}`).not.toContain(secret)
  expect(rules).toContain(rule)
}

function expectUntouched(input: string): void {
  const { text, rules } = scrub(input)
  expect(rules, `no rule should fire on ${JSON.stringify(input)}`).toEqual([])
  expect(text).toBe(input)
}

const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const random = (n: number): string => randomBytes(n).toString('base64url').slice(0, n)

describe('classes the held-out corpus found', () => {
  it('google-api-key: a whole 39-character token only, and not a placeholder', () => {
    const key = `AIza${random(35)}`
    expectRedacted(`maps key ${key} loaded`, key, 'google-api-key')
    // Inside a longer run (base64 text, a hash) `AIza` is a coincidence.
    expectUntouched(`blob=${random(30)}${key}${random(12)}`)
    expectUntouched(`prefix${key.slice(0, 20)}`)
    const { rules } = scrub(`mapsKey: "AIza${'b'.repeat(35)}"`)
    expect(rules).not.toContain('google-api-key')
  })

  it('azure-storage-key: a SHA digest after its algorithm (lockfiles, Subresource Integrity) is not a key', () => {
    const digest = randomBytes(64).toString('base64')
    expect(digest).toHaveLength(88)
    expectUntouched(`"integrity": "sha512-${digest}"`)
    expectUntouched(`<script src="/app.js" integrity="sha384-${digest}"></script>`)
    expectRedacted(`storage key ${digest} rotated`, digest, 'azure-storage-key')
  })

  it('pem-private-key: a closed block with no key material is documentation; an open one is still redacted', () => {
    for (const body of ['', '...', '****', 'XXXXXXXX', '\\n...\\n']) {
      expectUntouched(`-----BEGIN EC PRIVATE KEY-----\n${body}\n-----END EC PRIVATE KEY-----`)
    }
    expect(scrub('{"key":"-----BEGIN PRIVATE KEY-----\\n***\\n-----END PRIVATE KEY-----\\n"}').rules).not.toContain('pem-private-key')
    const material = random(48)
    expectRedacted(`-----BEGIN EC PRIVATE KEY-----\n${material}\n-----END EC PRIVATE KEY-----`, material, 'pem-private-key')
    expectRedacted('key:\n-----BEGIN PRIVATE KEY-----\n****', '-----BEGIN PRIVATE KEY-----', 'pem-private-key')
  })

  it('slack-token: a placeholder body or one masked with #### is documentation; a random body that spells "fake" is a token', () => {
    expectUntouched('token: xoxp-XXXXXXXXXXXX-XXXXXXXXXXXX-XXXXXXXXXXXXXXXX')
    expectUntouched('bot: xoxb-xxxxxxxxxxxxx-xxxxxxxxxxxxx')
    const { rules } = scrub('"t": "xoxb-1029384756-5647382910-************"')
    expect(rules).not.toContain('slack-token')
    const token = 'xoxb-4820193746-7731029485-q7FaKeZ2mN8pL4vR9tX1cB'
    expectRedacted(`SLACK=${token}`, token, 'slack-token')
  })

  it('jwt: a header serialized with whitespace (`{\\n  "alg"…`, `{ "alg"…`) starts a token too', () => {
    const payload = b64url({ sub: 'svc-42', exp: 1924992000 })
    for (const header of [b64url('{\n  "alg": "RS256",\n  "typ": "JWT"\n}'), b64url('{ "alg": "HS256" }'), b64url('{\r\n"alg":"ES256"}'), b64url('{\t"alg":"none"}')]) {
      const token = `${header}.${payload}.${random(43)}`
      expectRedacted(`Authorization: ${token}`, token, 'jwt')
    }
    // The same prefixes on text that is not JSON stay.
    expectUntouched(`ewogIGhlbGxvIHdvcmxk.${b64url('plain words here')}.abc`)
  })

  it('github-token: an installation token in the JWT form (ghs_<id>_<JWT>) goes whole', () => {
    const jwt = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ iat: 1700000000, iss: '98765' })}.${random(43)}`
    const token = `ghs_98765_${jwt}`
    expectRedacted(`GITHUB_TOKEN=${token}`, '98765_', 'github-token')
    expect(scrub(`x ${token} y`).text).toBe('x [REDACTED:github-token] y')
  })

  it('secret-assignment: the line after an empty `NAME=` is the next assignment, not its value', () => {
    expectUntouched('DB_PASSWORD=\nDB_HOST_NAME=db.internal')
    expectUntouched('mail.smtp.password=\nmail.smtp.host=smtp.internal')
    // A value on the next line, where the syntax has one, is still read.
    expectRedacted('password:\n  s3cr3t-V4lue-77', 's3cr3t-V4lue-77', 'secret-assignment')
  })

  it('secret-assignment: a URL with no credential in it, under a name that sounds secret, is an address', () => {
    expectUntouched('KAFKA_NO_AUTH="kafka://broker-1.internal:9092/events"')
    expectUntouched('token_service: https://sts.internal.example.org/v2/issue')
    // A capability URL (a random path segment) or a query string still goes.
    const capability = random(24)
    expectRedacted(`WEBHOOK_SECRET="https://hooks.example.org/in/${capability}"`, capability, 'secret-assignment')
    expectRedacted('AUTH_TOKEN=https://api.example.org/v1?sig=Zk29fLq81mXw', 'sig=Zk29fLq81mXw', 'secret-assignment')
  })

  it('secret-assignment: command-line options (`--password=…`, `-token=…`)', () => {
    expectRedacted('pg_dump --username=etl --password=Tr0ub4dor3x --host=db', 'Tr0ub4dor3x', 'secret-assignment')
    expectRedacted('deploy -token=9fK2mQ7xL1pZ', '9fK2mQ7xL1pZ', 'secret-assignment')
    expectRedacted('cli --api-key=ak_51Hx9Qz2 run', 'ak_51Hx9Qz2', 'secret-assignment')
    expectUntouched('restic --password-file=/run/secrets/restic backup')
  })
})

describe('secret-assignment: a value glued to a closing quote or bracket goes on', () => {
  const scrubber = new Scrubber({ policy: presets.balanced.scrub })

  it.each([
    ['password=[x]hunter2xyz9', 'hunter2xyz9'],
    ['password=[PASSWORD]hunter2xyz9 ok', 'hunter2xyz9'],
    ['password="abc"hunter2xyz9 ok', 'hunter2xyz9'],
    ["PASSWORD='s3'cr3tvalue9 next", 'cr3tvalue9'],
    ['token: ["a1"]Zq8mPl2vX9rT4w', 'Zq8mPl2vX9rT4w'],
  ])('%s', (text, secret) => {
    expect(scrubber.scrubString(text)).not.toContain(secret)
  })
})
