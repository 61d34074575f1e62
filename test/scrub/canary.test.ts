import { describe, expect, it } from 'vitest'
import { DETECTOR_IDS } from '../../src/policy/detector-ids.js'
import { presets } from '../../src/policy/presets.js'
import type { Policy } from '../../src/policy/schema.js'
import { scrubError } from '../../src/scrub/scrub-error.js'
import { Scrubber } from '../../src/scrub/scrubber.js'
import type { ScrubTransform } from '../../src/scrub/transform.js'

/*
 * The canary matrix: format-valid fakes of every detector kind, plus a
 * registered secret in all its encodings, planted in every kind of place a
 * value can hide, then run through scrub and scrubError under the balanced
 * and strict presets. Nothing planted may survive in the JSON that would
 * leave, and each plant must be accounted for by a transform of its rule.
 */

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

const rand = rng(20261121)
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const DIGITS = '0123456789'
const ALNUM = UPPER + LOWER + DIGITS

function pick(alphabet: string, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rand() * alphabet.length)]
  return out
}

function luhn(prefix: string, length: number): string {
  const body = prefix + pick(DIGITS, length - prefix.length - 1)
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

function iban(country: string, bban: string): string {
  const rearranged = `${bban}${country}00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55))
  let remainder = 0
  for (const digit of rearranged) remainder = (remainder * 10 + Number(digit)) % 97
  const check = String(98 - remainder).padStart(2, '0')
  return `${country}${check}${bban}`.replace(/(.{4})/g, '$1 ').trim()
}

const b64url = (text: string): string => Buffer.from(text).toString('base64url')

interface Canary {
  /** The rule expected to catch it. */
  readonly rule: string
  /** What is planted. */
  readonly planted: string
  /** What must not survive (the planted text, or its secret part). */
  readonly secret: string
}

function detectorCanaries(): Canary[] {
  const whole = (rule: string, planted: string): Canary => ({ rule, planted, secret: planted })
  const pem = `${pick(ALNUM, 64)}`
  const password = pick(ALNUM, 18)
  const user = `u${pick(LOWER, 11)}`
  const bearer = pick(ALNUM, 32)
  const assigned = pick(ALNUM, 20)
  const list: Canary[] = [
    whole('aws-access-key-id', `AKIA${pick(UPPER + DIGITS, 16)}`),
    whole('github-token', `ghp_${pick(ALNUM, 36)}`),
    whole('slack-token', `xoxb-${pick(DIGITS, 12)}-${pick(DIGITS, 13)}-${pick(ALNUM, 24)}`),
    whole('slack-webhook', `https://hooks.slack.com/services/T${pick(UPPER, 8)}/B${pick(UPPER, 8)}/${pick(ALNUM, 24)}`),
    whole('stripe-key', `sk_live_${pick(ALNUM, 24)}`),
    whole('google-api-key', `AIza${pick(ALNUM + '_-', 35)}`),
    whole('openai-key', `sk-proj-${pick(ALNUM, 40)}`),
    whole('anthropic-key', `sk-ant-api03-${pick(ALNUM, 40)}`),
    whole('npm-token', `npm_${pick(ALNUM, 36)}`),
    whole('gitlab-token', `glpat-${pick(ALNUM, 20)}`),
    { rule: 'pem-private-key', planted: `-----BEGIN PRIVATE KEY-----\n${pem}\n-----END PRIVATE KEY-----`, secret: pem },
    whole('jwt', `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(`{"sub":"${pick(ALNUM, 12)}"}`)}.${pick(ALNUM + '_-', 43)}`),
    { rule: 'url-credentials', planted: `postgres://app:${password}@db.internal:5432/orders`, secret: password },
    whole('email', `${pick(LOWER, 10)}.${pick(LOWER, 6)}@example-${pick(LOWER, 6)}.com`),
    whole('credit-card', luhn('4', 16)),
    whole('iban', iban('DE', pick(DIGITS, 18))),
    whole('ipv4', `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`),
    whole('ipv6', `2001:db8:${pick('0123456789abcdef', 4)}::${pick('123456789abcdef', 4)}`),
    { rule: 'home-path', planted: `/home/${user}/projects/etl.py`, secret: user },
    { rule: 'authorization-header', planted: `Authorization: Bearer ${bearer}`, secret: bearer },
    { rule: 'secret-assignment', planted: `db password=${assigned}`, secret: assigned },
    ...newerDetectorCanaries(),
  ]
  expect(new Set(list.map((c) => c.rule))).toEqual(new Set(DETECTOR_IDS))
  return list
}

// The detectors added with the packs (issue 18), one planted value each.
function newerDetectorCanaries(): Canary[] {
  const whole = (rule: string, planted: string): Canary => ({ rule, planted, secret: planted })
  const hex = (n: number): string => pick('0123456789abcdef', n)
  const awsSecret = `${pick(ALNUM, 36)}/${pick(ALNUM, 3)}`
  const storageKey = Buffer.from(pick(ALNUM, 64)).toString('base64').slice(0, 86) + '=='
  const keyId = hex(40)
  const connection = `${pick(ALNUM, 10)} ${pick(ALNUM, 6)}`
  const curl = pick(ALNUM, 16)
  const netrc = pick(ALNUM, 16)
  const wrappedKey = Buffer.from(`-----BEGIN RSA PRIVATE KEY-----\n${pick(ALNUM, 64)}\n-----END RSA PRIVATE KEY-----\n`).toString('base64')
  const botId = Buffer.from(`1${pick(DIGITS, 17)}`).toString('base64url')
  return [
    { rule: 'aws-secret-access-key', planted: `export AWS_SECRET_ACCESS_KEY=${awsSecret}`, secret: awsSecret },
    { rule: 'azure-storage-key', planted: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${storageKey};EndpointSuffix=core.windows.net`, secret: storageKey },
    whole('azure-client-secret', `${pick(ALNUM, 3)}8Q~${pick(ALNUM, 34)}`),
    whole('azure-devops-token', `${pick(ALNUM, 76)}AZDO${pick(ALNUM, 4)}`),
    whole('google-oauth-token', `ya29.${pick(ALNUM, 70)}`),
    {
      rule: 'gcp-service-account',
      planted: JSON.stringify({ type: 'service_account', project_id: 'p', private_key_id: keyId, client_email: 'x@p.iam.gserviceaccount.com' }),
      secret: keyId,
    },
    whole('twilio-key', `SK${hex(32)}`),
    whole('sendgrid-key', `SG.${pick(ALNUM, 22)}.${pick(ALNUM, 43)}`),
    whole('discord-token', `${botId}.${pick(ALNUM, 6)}.${pick(ALNUM, 27)}`),
    whole('mailchimp-key', `${hex(32)}-us14`),
    whole('pypi-token', `pypi-AgEIcHlwaS5vcmc${pick(ALNUM, 70)}`),
    whole('telegram-bot-token', `${pick('123456789', 1)}${pick(DIGITS, 9)}:AA${pick(ALNUM, 33)}`),
    whole('age-secret-key', `AGE-SECRET-KEY-1${pick('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58)}`),
    { rule: 'base64-private-key', planted: `TLS_KEY=${wrappedKey}`, secret: wrappedKey },
    { rule: 'connection-string-password', planted: `Server=db;Database=app;User Id=app;Password=${connection};`, secret: connection },
    { rule: 'curl-credentials', planted: `curl -u app:${curl} https://api.example.com`, secret: curl },
    { rule: 'netrc-password', planted: `machine api.example.com login app password ${netrc}`, secret: netrc },
    whole('us-ssn', `${pick('12345678', 1)}${pick(DIGITS, 2)}-${pick('123456789', 2)}-${pick('123456789', 4)}`),
    whole('phone-number', `+1 ${pick('23456789', 1)}${pick(DIGITS, 2)} ${pick('23456789', 1)}${pick(DIGITS, 2)} ${pick(DIGITS, 4)}`),
    whole('mac-address', Array.from({ length: 6 }, () => pick('0123456789abcdef', 2)).join(':').replace(/^../, '02')),
  ]
}

const REGISTERED = `Rg!${pick(ALNUM, 20)}/+= "q"\\é!`

function registeredCanaries(): Canary[] {
  const forms = {
    raw: REGISTERED,
    url: encodeURIComponent(REGISTERED),
    base64: Buffer.from(REGISTERED).toString('base64'),
    base64url: Buffer.from(REGISTERED).toString('base64url'),
    json: JSON.stringify(REGISTERED).slice(1, -1),
  }
  expect(new Set(Object.values(forms)).size).toBe(5)
  return Object.values(forms).map((form) => ({ rule: 'registered-secret', planted: form, secret: form }))
}

const CANARIES = [...detectorCanaries(), ...registeredCanaries()]

function expectNoCanary(output: unknown, context: string): void {
  const json = JSON.stringify(output)
  for (const canary of CANARIES) {
    expect(json, `${canary.rule} leaked (${context})`).not.toContain(canary.secret)
    expect(json, `${canary.rule} leaked JSON-escaped (${context})`).not.toContain(JSON.stringify(canary.secret).slice(1, -1))
  }
}

function expectTransform(transforms: readonly ScrubTransform[], path: string, rule: string): void {
  expect(
    transforms.some((t) => t.path === path && t.rule === rule),
    `no ${rule} transform at ${path}; got ${JSON.stringify(transforms.filter((t) => t.path === path))}`,
  ).toBe(true)
}

// Every place a value can hide in a structured value, with the path each plant ends up at.
function plantEverywhere(): { value: unknown; expected: [string, string][] } {
  const expected: [string, string][] = []
  const map = new Map<string, unknown>()
  const set = new Set<string>()
  const value = {
    messages: [] as string[],
    nested: [] as unknown[],
    map,
    set,
    errors: [] as Error[],
    causes: [] as Error[],
    aggregates: [] as AggregateError[],
    thrown: [] as string[],
  }
  CANARIES.forEach((canary, i) => {
    value.messages.push(`event: ${canary.planted} happened`)
    expected.push([`messages[${i}]`, canary.rule])
    value.nested.push({ deep: { er: { list: [{ note: `see ${canary.planted}` }] } } })
    expected.push([`nested[${i}].deep.er.list[0].note`, canary.rule])
    map.set(`k${i}`, `v ${canary.planted}`)
    expected.push([`map.k${i}`, canary.rule])
    set.add(`s${i} ${canary.planted}`)
    expected.push([`set[${i}]`, canary.rule])
    value.errors.push(new Error(`failed: ${canary.planted}`))
    expected.push([`errors[${i}].message`, canary.rule])
    value.causes.push(new Error('outer', { cause: new Error(`inner ${canary.planted}`) }))
    expected.push([`causes[${i}].cause.message`, canary.rule])
    value.aggregates.push(new AggregateError([new Error(`agg ${canary.planted}`)], 'many'))
    expected.push([`aggregates[${i}].errors[0].message`, canary.rule])
    value.thrown.push(`thrown ${canary.planted}`)
    expected.push([`thrown[${i}]`, canary.rule])
  })
  return { value, expected }
}

const SETTINGS: [string, Policy][] = [
  ['balanced', presets.balanced],
  ['strict', presets.strict],
]

describe.each(SETTINGS)('the canary matrix under %s', (name, policy) => {
  function scrubber(): Scrubber {
    const s = new Scrubber({ policy: { ...policy.scrub, maxStringLength: 100_000 } })
    expect(s.register(REGISTERED, { name: 'canary' })).toEqual({ registered: true })
    return s
  }

  it('scrub: no canary survives anywhere, and each plant has a transform of its rule', () => {
    const { value, expected } = plantEverywhere()
    const result = scrubber().scrub(value)
    expectNoCanary(result.value, `${name} scrub`)
    for (const [path, rule] of expected) expectTransform(result.transforms, path, rule)
    expect(JSON.stringify(result.transforms)).not.toContain(REGISTERED.slice(0, 10))
  })

  it('scrubError: messages, causes, AggregateErrors, thrown strings and objects', async () => {
    const s = scrubber()
    const variants: [string, Policy['exceptions']][] = [
      ['policy', policy.exceptions],
      ['with a scrubbed stack', { ...policy.exceptions, stack: 'scrubbed' }],
    ]
    for (const [label, exceptions] of variants) {
      for (const canary of CANARIES) {
        const thrown: [unknown, string][] = [
          [new Error(`failed: ${canary.planted}`), 'message'],
          [new Error('outer', { cause: new Error(`inner ${canary.planted}`) }), 'causes[0].message'],
          [new AggregateError([new Error(`agg ${canary.planted}`)], 'many'), 'causes[0].message'],
          [`thrown ${canary.planted}`, 'message'],
          [{ note: canary.planted }, 'message'],
        ]
        for (const [err, path] of thrown) {
          const out = await scrubError(err, exceptions, { scrubber: s })
          const context = `${name} scrubError ${label}, ${canary.rule} at ${path}`
          expectNoCanary(out, context)
          expectNoCanary(String(out), context)
          if (exceptions.mode === 'scrubbed') expectTransform(out.transforms, path, canary.rule)
          else expect(out.transforms).toContainEqual({ path: 'message', rule: 'exception-mode', action: 'remove' })
        }
      }
    }
  })
})
