import { randomInt } from 'node:crypto'
import { AirlockError } from '../errors.js'
import { DETECTOR_IDS, type DetectorId } from '../policy/detector-ids.js'
import type { MatchSink } from '../scrub/aho-corasick.js'
import { base62, bech32WithChecksum, crc32 } from '../scrub/detector-checks.js'
import { DETECTORS } from '../scrub/detectors.js'
import { maskEverywhere } from '../scrub/process-secrets.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { InvalidArgumentError } from '../errors.js'
import { SensitiveKeyMatcher } from '../scrub/sensitive-keys.js'
import { REGISTERED_SECRET_RULE } from '../scrub/transform.js'

/**
 * What a canary imitates: a built-in detector's kind, or `high-entropy`, a
 * random string with no recognisable format, which only registration
 * (`scrubber.register`) can catch.
 *
 * @example
 * ```ts
 * const kind: CanaryKind = 'github-token'
 * ```
 */
export type CanaryKind = DetectorId | 'high-entropy'

/**
 * One canary: a fake secret, valid in its format (checksums included), that
 * carries a unique random `marker`, so a leak is attributable to this
 * canary and two runs never share one.
 *
 * Plant `value`; assert that `secret` never reaches the control plane. They
 * differ where the SDK keeps a harmless part: a URL's host stays when its
 * credentials go, so for `url-credentials` the `secret` is the password.
 *
 * Wire format v1 (what `airlock audit scan --canaries FILE` reads): a JSON
 * array of these objects, i.e. `JSON.stringify(generateCanaries())`.
 *
 * @example
 * ```ts
 * const canary: Canary = {
 *   kind: 'url-credentials', rule: 'url-credentials',
 *   value: 'postgres://canary:Q3xZ8pLm2Rk4Tw7Y@db.example.internal:5432/app',
 *   secret: 'Q3xZ8pLm2Rk4Tw7Y', marker: 'Q3xZ8pLm2Rk4',
 * }
 * ```
 */
export interface Canary {
  readonly kind: CanaryKind
  /** The ledger rule expected to catch it: its detector's id, or `registered-secret` for `high-entropy`. */
  readonly rule: DetectorId | typeof REGISTERED_SECRET_RULE
  /** What to plant. */
  readonly value: string
  /** What must never reach the control plane: `value`, or its secret part. Contains `marker`. */
  readonly secret: string
  /** The canary's unique random part. */
  readonly marker: string
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const DIGITS = '0123456789'
const HEX = '0123456789abcdef'
const ALNUM = UPPER + LOWER + DIGITS
// Printable ASCII without space and backslash, for the punctuated high-entropy canary's random part.
const PUNCTUATED = ALNUM + '!#$%&()*+,-./:;<=>?@[]^_{|}~'
const MARKER_LENGTH = 12
const MAX_TRIES = 16

function pick(alphabet: string, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)]
  return out
}

/** A canary whose value is its secret. */
function whole(kind: DetectorId, value: string, marker: string): Canary {
  return { kind, rule: kind, value, secret: value, marker }
}

function part(kind: DetectorId, value: string, secret: string, marker: string): Canary {
  return { kind, rule: kind, value, secret, marker }
}

function luhnCompleted(body: string): string {
  let sum = 0
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48
    // The check digit will sit to the right, so the rightmost body digit is doubled.
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2
    sum += d
  }
  return body + String((10 - (sum % 10)) % 10)
}

function ibanOf(country: string, bban: string): string {
  const digits = `${bban}${country}00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55))
  let remainder = 0
  for (let i = 0; i < digits.length; i++) remainder = (remainder * 10 + (digits.charCodeAt(i) - 48)) % 97
  return `${country}${String(98 - remainder).padStart(2, '0')}${bban}`
}

const JWT_HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')
const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const BASE64 = ALNUM + '+/'

/** `prefix` + 30 random base62 characters + their CRC-32 in base62, as GitHub and npm tokens are made. */
function checksummed(prefix: string, random: string): string {
  return `${prefix}${random}${base62(crc32(random), 6)}`
}

function randomBase64(bytes: number): string {
  let out = ''
  for (let i = 0; i < bytes; i++) out += String.fromCharCode(randomInt(256))
  return Buffer.from(out, 'latin1').toString('base64')
}

/** A random number in [low, high]. */
function between(low: number, high: number): number {
  return low + randomInt(high - low + 1)
}

const MAKERS: Readonly<Record<DetectorId, () => Canary>> = {
  'aws-access-key-id': () => {
    const m = pick(UPPER + DIGITS, MARKER_LENGTH)
    return whole('aws-access-key-id', `AKIA${m}${pick(UPPER + DIGITS, 4)}`, m)
  },
  'github-token': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('github-token', checksummed('ghp_', `${m}${pick(ALNUM, 18)}`), m)
  },
  'slack-token': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('slack-token', `xoxb-${pick(DIGITS, 12)}-${pick(DIGITS, 13)}-${m}${pick(ALNUM, 12)}`, m)
  },
  'slack-webhook': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const token = `${m}${pick(ALNUM, 12)}`
    return part('slack-webhook', `https://hooks.slack.com/services/T${pick(UPPER + DIGITS, 10)}/B${pick(UPPER + DIGITS, 10)}/${token}`, token, m)
  },
  'stripe-key': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('stripe-key', `sk_live_${m}${pick(ALNUM, 12)}`, m)
  },
  'google-api-key': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('google-api-key', `AIza${m}${pick(ALNUM, 23)}`, m)
  },
  'openai-key': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('openai-key', `sk-proj-${m}${pick(ALNUM, 36)}`, m)
  },
  'anthropic-key': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('anthropic-key', `sk-ant-api03-${m}${pick(ALNUM, 36)}`, m)
  },
  'npm-token': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('npm-token', checksummed('npm_', `${m}${pick(ALNUM, 18)}`), m)
  },
  'gitlab-token': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('gitlab-token', `glpat-${m}${pick(ALNUM, 8)}`, m)
  },
  'pem-private-key': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const body = `MIIE${m}${pick(ALNUM, 48)}`
    return part('pem-private-key', `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`, body, m)
  },
  jwt: () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const payload = Buffer.from(`{"sub":"canary","iat":${1_700_000_000 + randomInt(100_000_000)}}`).toString('base64url')
    return whole('jwt', `${JWT_HEADER}.${payload}.${m}${pick(ALNUM, 31)}`, m)
  },
  'url-credentials': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const password = `${m}${pick(ALNUM, 4)}`
    return part('url-credentials', `postgres://canary:${password}@db.example.internal:5432/app`, password, m)
  },
  email: () => {
    const m = pick(LOWER + DIGITS, MARKER_LENGTH)
    return whole('email', `${m}.canary@example.com`, m)
  },
  'credit-card': () => {
    const m = pick(DIGITS, MARKER_LENGTH)
    return whole('credit-card', luhnCompleted(`4${m}${pick(DIGITS, 2)}`), m)
  },
  iban: () => {
    const m = pick(DIGITS, MARKER_LENGTH)
    return whole('iban', ibanOf('DE', `${m}${pick(DIGITS, 6)}`), m)
  },
  // Four octets hold 24 random bits only, so the address itself is the marker.
  ipv4: () => {
    const address = `10.${randomInt(256)}.${randomInt(256)}.${1 + randomInt(254)}`
    return whole('ipv4', address, address)
  },
  ipv6: () => {
    const m = [pick(HEX, 4), pick(HEX, 4), pick(HEX, 4), pick(HEX, 4)].join(':')
    return whole('ipv6', `fd${pick(HEX, 2)}:${m}:${pick(HEX, 4)}:${pick(HEX, 4)}:${pick(HEX, 4)}`, m)
  },
  'home-path': () => {
    const m = pick(LOWER + DIGITS, MARKER_LENGTH)
    return part('home-path', `/home/${m}/projects/etl.py`, m, m)
  },
  'authorization-header': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const token = `${m}${pick(ALNUM, 20)}`
    return part('authorization-header', `Bearer ${token}`, token, m)
  },
  'secret-assignment': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const value = `${m}${pick(ALNUM, 8)}`
    return part('secret-assignment', `password=${value}`, value, m)
  },
  'aws-secret-access-key': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const secret = `${m}${pick(BASE64, 28)}`
    return part('aws-secret-access-key', `aws_access_key_id=AKIA${pick(UPPER + DIGITS, 16)} aws_secret_access_key=${secret}`, secret, m)
  },
  'azure-storage-key': () => {
    const key = randomBase64(64)
    const m = key.slice(0, MARKER_LENGTH)
    return part('azure-storage-key', `DefaultEndpointsProtocol=https;AccountName=canary;AccountKey=${key};EndpointSuffix=core.windows.net`, key, m)
  },
  'azure-client-secret': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('azure-client-secret', `${pick(ALNUM, 3)}${pick(DIGITS, 1)}Q~${m}${pick(ALNUM + '_~.-', 22)}`, m)
  },
  'azure-devops-token': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('azure-devops-token', `${m}${pick(ALNUM, 64)}AZDO${pick(ALNUM, 4)}`, m)
  },
  'google-oauth-token': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('google-oauth-token', `ya29.${m}${pick(ALNUM + '_-', 60)}`, m)
  },
  'gcp-service-account': () => {
    const m = pick(HEX, MARKER_LENGTH)
    const keyId = `${m}${pick(HEX, 28)}`
    const file = JSON.stringify({
      type: 'service_account',
      project_id: 'canary-project',
      private_key_id: keyId,
      client_email: 'canary@canary-project.iam.gserviceaccount.com',
      client_id: pick(DIGITS, 21),
    })
    return part('gcp-service-account', file, keyId, m)
  },
  'twilio-key': () => {
    const m = pick(HEX, MARKER_LENGTH)
    return whole('twilio-key', `SK${m}${pick(HEX, 20)}`, m)
  },
  'sendgrid-key': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('sendgrid-key', `SG.${m}${pick(ALNUM + '_-', 10)}.${pick(ALNUM + '_-', 43)}`, m)
  },
  'discord-token': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const id = Buffer.from(`${between(1, 9)}${pick(DIGITS, 17)}`).toString('base64url')
    return whole('discord-token', `${id}.${pick(ALNUM + '_-', 6)}.${m}${pick(ALNUM + '_-', 26)}`, m)
  },
  'mailchimp-key': () => {
    const m = pick(HEX, MARKER_LENGTH)
    return whole('mailchimp-key', `${m}${pick(HEX, 20)}-us${between(1, 21)}`, m)
  },
  'pypi-token': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('pypi-token', `pypi-AgEIcHlwaS5vcmc${m}${pick(ALNUM + '_-', 60)}`, m)
  },
  'telegram-bot-token': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    return whole('telegram-bot-token', `${between(1, 9)}${pick(DIGITS, 9)}:AA${m}${pick(ALNUM + '_-', 21)}`, m)
  },
  'age-secret-key': () => {
    const m = pick(BECH32, MARKER_LENGTH)
    const key = bech32WithChecksum('age-secret-key-', `${m}${pick(BECH32, 40)}`).toUpperCase()
    return whole('age-secret-key', key, m.toUpperCase())
  },
  'base64-private-key': () => {
    const body = `MIIE${pick(ALNUM, 60)}`
    const wrapped = Buffer.from(`-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`).toString('base64')
    return part('base64-private-key', `PRIVATE_KEY_B64=${wrapped}`, wrapped, wrapped.slice(44, 44 + MARKER_LENGTH))
  },
  'connection-string-password': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const password = `${m}${pick(ALNUM, 4)} ${pick(ALNUM, 4)}`
    return part('connection-string-password', `Server=db.example.internal;Database=app;User Id=canary;Password=${password};`, password, m)
  },
  'curl-credentials': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const password = `${m}${pick(ALNUM, 6)}`
    return part('curl-credentials', `curl -sS -u canary:${password} https://api.example.com/v1/status`, password, m)
  },
  'netrc-password': () => {
    const m = pick(ALNUM, MARKER_LENGTH)
    const password = `${m}${pick(ALNUM, 6)}`
    return part('netrc-password', `machine api.example.com\n  login canary\n  password ${password}`, password, m)
  },
  // An SSN, a phone number and a MAC address hold 30 to 46 random bits: each is its own marker.
  'us-ssn': () => {
    let area = between(1, 899)
    if (area === 666) area = 665
    const ssn = `${String(area).padStart(3, '0')}-${String(between(1, 99)).padStart(2, '0')}-${String(between(1, 9999)).padStart(4, '0')}`
    return whole('us-ssn', ssn, ssn)
  },
  'phone-number': () => {
    const phone = `+1 ${between(2, 9)}${pick(DIGITS, 2)} ${between(2, 9)}${pick(DIGITS, 2)} ${pick(DIGITS, 4)}`
    return whole('phone-number', phone, phone)
  },
  'mac-address': () => {
    // Locally administered (second hex digit 2, 6, A or E), so it names no real vendor's device.
    const mac = [`${pick(HEX, 1)}${pick('26ae', 1)}`, ...Array.from({ length: 5 }, () => pick(HEX, 2))].join(':')
    return whole('mac-address', mac, mac)
  },
}

function registered(marker: string, value: string): Canary {
  return { kind: 'high-entropy', rule: REGISTERED_SECRET_RULE, value, secret: value, marker }
}

function highEntropy(): Canary[] {
  const plain = pick(ALNUM, MARKER_LENGTH)
  const punctuated = pick(ALNUM, MARKER_LENGTH)
  return [
    registered(plain, `${plain}${pick(ALNUM, 28)}`),
    // Punctuation, a space, quotes, a backslash and a non-ASCII letter: its URL, JSON and base64 forms all differ from it.
    registered(punctuated, `${punctuated}${pick(PUNCTUATED, 12)} "${pick(PUNCTUATED, 6)}"\\é${pick(PUNCTUATED, 6)}`),
  ]
}

const context = { sensitiveKeys: new SensitiveKeyMatcher() }

/** Whether the canary's own detector reports a span covering its secret. */
function detected(canary: Canary): boolean {
  const detector = DETECTORS.find((d) => d.id === canary.kind)!
  const from = canary.value.indexOf(canary.secret)
  const to = from + canary.secret.length
  let covered = false
  const sink: MatchSink = {
    add(start, end) {
      if (start <= from && end >= to) covered = true
    },
  }
  detector.find(canary.value, sink, 0, context)
  return covered
}

/**
 * Options of {@link generateCanaries}.
 *
 * @example
 * ```ts
 * const unregistered = generateCanaries({ register: false } satisfies GenerateCanariesOptions)
 * ```
 */
export interface GenerateCanariesOptions {
  /** Register the high-entropy canaries with every open Airlock and every Airlock or Scrubber built later. Default `true`. */
  readonly register?: boolean
}

/**
 * Makes a fresh set of canaries: one per built-in detector, in
 * `DETECTOR_IDS` order (an AWS access key id, GitHub, Slack, Stripe, Google,
 * OpenAI, Anthropic, npm and GitLab tokens, a Slack webhook, a PEM private
 * key block, a JWT, URL credentials, an email address, a Luhn-valid card
 * number, a mod-97-valid IBAN, an IPv4 and an IPv6 address, a home path, a
 * `Bearer` value and a `password=` assignment; then an AWS secret access
 * key, Azure storage, client-secret and DevOps keys, a Google OAuth token,
 * a GCP service-account file, Twilio, SendGrid, Discord, Mailchimp, PyPI
 * and Telegram tokens, an age key with its Bech32 checksum, a
 * base64-wrapped private key, a connection-string password, curl and
 * .netrc credentials, an SSN, a phone number and a MAC address; GitHub and
 * npm tokens carry their CRC-32 checksums), then two `high-entropy`
 * strings (one alphanumeric, one with punctuation, quotes, a backslash and
 * a non-ASCII letter, so its URL, JSON and base64 forms all differ).
 *
 * A random string has no format a detector could know, so, like a real
 * secret your app fetches through a `SecretProvider`, the high-entropy
 * canaries are registered with every open `Airlock` and every `Airlock` or
 * `Scrubber` built later in the process: the recipe works as written under
 * any policy. `{ register: false }` leaves them unregistered, to show that a
 * secret nobody registered does leak (then register them yourself with
 * `airlock.scrubber.register(c.value)`).
 *
 * Each is checked against its detector before it is returned. Markers are 12
 * random characters (digits only for cards and IBANs; an IPv6 marker is four
 * hex groups); an IPv4 canary is its own marker, 24 random bits in
 * 10.0.0.0/8, and so are an SSN, a phone number and a MAC address.
 *
 * They look real to secret scanners too: keep generated values out of
 * commits. No test-framework import: works under vitest, jest and node:test.
 *
 * @example
 * ```ts
 * import { generateCanaries, expectNoLeaks } from 'airlock-sdk/testing'
 *
 * const canaries = generateCanaries()   // the high-entropy ones are registered with every Airlock of the process
 * airlock.logger.warn({ note: canaries.map((c) => c.value).join(' ') }, 'planted')
 * await airlock.close()
 * expectNoLeaks(controlPlane, canaries)
 * ```
 */
export function generateCanaries(options: GenerateCanariesOptions = {}): Canary[] {
  assertKnownOptions('generateCanaries', options, ['register'])
  const register = options.register ?? true
  if (typeof register !== 'boolean') throw new InvalidArgumentError('generateCanaries option register must be true or false')
  const canaries: Canary[] = []
  const markers = new Set<string>()
  for (const id of DETECTOR_IDS) {
    for (let tries = 0; ; tries++) {
      if (tries === MAX_TRIES) throw new AirlockError(`generateCanaries could not make a ${id} canary its detector finds`)
      const canary = MAKERS[id]()
      if (!markers.has(canary.marker) && canary.secret.includes(canary.marker) && detected(canary)) {
        markers.add(canary.marker)
        canaries.push(Object.freeze(canary))
        break
      }
    }
  }
  for (;;) {
    const extra = highEntropy()
    if (extra.some((c) => markers.has(c.marker)) || extra[0]!.marker === extra[1]!.marker) continue
    for (const canary of extra) {
      canaries.push(Object.freeze(canary))
      if (register) maskEverywhere(canary.value, 'high-entropy canary')
    }
    return canaries
  }
}
