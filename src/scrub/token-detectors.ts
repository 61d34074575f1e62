/*
 * Finders of vendor credentials that detectors.ts lists in its SPECS: each
 * is one regular expression obeying the LINEAR-TIME RULE of detectors.ts,
 * plus a check on each candidate (a checksum or JSON where the format has
 * one, an entropy gate where it has none), plus, for formats too plain to
 * be told from other text alone, a context keyword that must come shortly
 * before. Internal to src/scrub.
 */
import type { MatchSink } from './aho-corasick.js'
import { bech32Valid, isPlaceholder, looksRandom } from './detector-checks.js'

/** A finder: reports `[start, end)` spans to redact. */
export type Find = (text: string, sink: MatchSink, rule: number) => void

/**
 * Runs `re` (global) over `text` and reports the span of group `group` (0:
 * the whole match) of each match `accept` lets through. Resumes after each
 * match, as every regex driver here does (rule 4).
 */
export function findChecked(re: RegExp, text: string, sink: MatchSink, rule: number, accept: (m: RegExpExecArray) => boolean, group = 0): void {
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    if (!accept(m)) continue
    const part = m[group]!
    const start = group === 0 ? m.index : m.index + m[0].indexOf(part)
    sink.add(start, start + part.length, rule)
  }
}

const keywordRegexes = new Map<string, RegExp>()

// One case-insensitive alternation per word list, built once: the engine scans for it in one pass.
function keywordRegex(words: readonly string[]): RegExp {
  const key = words.join('\u0000')
  let re = keywordRegexes.get(key)
  if (re === undefined) {
    re = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi')
    keywordRegexes.set(key, re)
  }
  return re
}

/**
 * Positions, ascending, where any of `words` (lower-case) occurs in `text`,
 * ASCII case ignored: the context keywords a plain format needs before it.
 */
export function keywordPositions(text: string, words: readonly string[]): number[] {
  const re = keywordRegex(words)
  re.lastIndex = 0
  const found: number[] = []
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) found.push(m.index)
  return found
}

/**
 * Reports each match of `re` that starts within `window` characters after
 * a context keyword (one of `words`) and passes `accept`. Only the windows
 * after keywords are scanned: overlapping windows are merged, and each
 * merged window is searched as a slice of the text reaching `reach` (the
 * longest match) past its end, so a search never runs on to the end of the
 * text when the window holds no match. Linear, and cheap when keywords are
 * rare. The slice keeps one code unit before the window: `re` may look
 * behind and ahead one unit, no more.
 */
function findNearKeyword(
  re: RegExp,
  reach: number,
  words: readonly string[],
  window: number,
  text: string,
  sink: MatchSink,
  rule: number,
  accept: (m: RegExpExecArray) => boolean,
): void {
  const keys = keywordPositions(text, words)
  for (let k = 0; k < keys.length; ) {
    const from = keys[k]! + 1
    let limit = keys[k]! + window
    for (k++; k < keys.length && keys[k]! < limit; k++) limit = keys[k]! + window
    const sliceStart = from - 1
    const part = text.slice(sliceStart, Math.min(text.length, limit + reach + 2))
    re.lastIndex = 1
    let m: RegExpExecArray | null
    while ((m = re.exec(part)) !== null && sliceStart + m.index <= limit) {
      if (accept(m)) sink.add(sliceStart + m.index, sliceStart + m.index + m[0].length, rule)
    }
  }
}

function hasUpperLowerDigit(text: string): boolean {
  return /[A-Z]/.test(text) && /[a-z]/.test(text) && /[0-9]/.test(text)
}

// AWS secret access keys: 40 characters of base64 with no prefix of their own, so one counts only
// within 200 characters after `aws` or an access key id, and only mixed case with a digit (not a
// 40-character hex commit id) and random-looking.
export const AWS_SECRET = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g
// Not the key id's own prefix: a near-miss `AKIA…` would open a window at every token.
const AWS_CONTEXT = ['aws', 'secret_access_key', 'secretaccesskey', 'secret-access-key', 'secret access key']
export const findAwsSecret: Find = (text, sink, rule) =>
  findNearKeyword(AWS_SECRET, 40, AWS_CONTEXT, 200, text, sink, rule, (m) => hasUpperLowerDigit(m[0]) && looksRandom(m[0], 0, 40, 3.5))

// Azure storage and Service Bus keys: the value of AccountKey=, SharedAccessKey= or SharedSecretValue=
// (base64 of 32 or 64 random bytes), and a bare 88-character key (64 bytes, `==`-padded).
export const AZURE_STORAGE_ASSIGNED = /(?<![A-Za-z0-9])(?:AccountKey|SharedAccessKey|SharedSecretValue|accountkey|sharedaccesskey)[ \t]{0,4}=[ \t]{0,4}([A-Za-z0-9+/]{20,100}={0,2})(?![A-Za-z0-9+/=])/gi
// What a bare key is; found by bareAzureKeyStarts, which the tests hold to finding exactly its matches.
export const AZURE_STORAGE_BARE = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])/g
export const findAzureStorageKey: Find = (text, sink, rule) => {
  // A key found after its name is not reported again as a bare key.
  const named = new Set<number>()
  findChecked(AZURE_STORAGE_ASSIGNED, text, sink, rule, (m) => {
    const ok = looksRandom(m[1]!, 0, m[1]!.length, 3.5)
    if (ok) named.add(m.index + m[0].length - m[1]!.length)
    return ok
  }, 1)
  for (const start of bareAzureKeyStarts(text)) {
    const key = text.slice(start, start + 88)
    if (!named.has(start) && !isSubresourceDigest(text, start) && Buffer.from(key, 'base64').length === 64 && looksRandom(key, 0, 86, 4.5)) sink.add(start, start + 88, rule)
  }
}

const BASE64_CHARACTER = new Uint8Array(128)
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_CHARACTER[c.charCodeAt(0)] = 1

function isBase64Character(c: number): boolean {
  return c < 128 && BASE64_CHARACTER[c] === 1
}

/**
 * Where each match of {@link AZURE_STORAGE_BARE} starts, ascending: the
 * same matches, found from each `==` (by indexOf) and read back over at
 * most 87 characters, instead of by the expression, whose lookbehind makes
 * the engine try every position of the text (several times slower on long
 * text). A match is a run of exactly 86 key characters with none before it,
 * then `==` with neither a key character nor `=` after: runs end at `=`,
 * so matches never overlap, and each character is read back over once.
 */
export function bareAzureKeyStarts(text: string): number[] {
  const starts: number[] = []
  for (let pad = text.indexOf('=='); pad !== -1; pad = text.indexOf('==', pad + 1)) {
    const after = text.charCodeAt(pad + 2) // NaN at the end, which is neither
    if (after === 61 || isBase64Character(after)) continue
    let start = pad
    while (start > pad - 87 && start > 0 && isBase64Character(text.charCodeAt(start - 1))) start--
    if (pad - start === 86) starts.push(start)
  }
  return starts
}

// A SHA-512 digest in base64 is 88 characters ending `==` too: lockfiles and Subresource Integrity
// write it after its algorithm (`sha512-…`), which no key carries.
function isSubresourceDigest(text: string, start: number): boolean {
  return /sha(?:256|384|512)-$/i.test(text.slice(Math.max(0, start - 7), start))
}

// Azure AD client secrets: three characters, a digit, `Q~`, then 31-34 more.
export const AZURE_CLIENT_SECRET = /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g
export const findAzureClientSecret: Find = (text, sink, rule) =>
  findChecked(AZURE_CLIENT_SECRET, text, sink, rule, (m) => looksRandom(m[0], 0, m[0].length, 3.5))

// Azure DevOps personal access tokens: the current 84-character form carries `AZDO` at 76-79; the
// legacy one is 52 characters of lower-case base32, so it counts only after a context keyword.
export const AZURE_DEVOPS = /(?<![A-Za-z0-9])[A-Za-z0-9]{84}(?![A-Za-z0-9])/g
export const AZURE_DEVOPS_LEGACY = /(?<![A-Za-z0-9])[a-z2-7]{52}(?![A-Za-z0-9])/g
const AZURE_DEVOPS_CONTEXT = ['azure', 'devops', 'ado_pat', 'personal_access', 'personalaccess', 'visualstudio', 'vsts', '$token']
export const findAzureDevopsToken: Find = (text, sink, rule) => {
  if (text.includes('AZDO')) findChecked(AZURE_DEVOPS, text, sink, rule, (m) => m[0].startsWith('AZDO', 76) && looksRandom(m[0], 0, 76, 4))
  findNearKeyword(AZURE_DEVOPS_LEGACY, 52, AZURE_DEVOPS_CONTEXT, 120, text, sink, rule, (m) => /[2-7].*[2-7]/.test(m[0]) && looksRandom(m[0], 0, 52, 3.8))
}

// Google OAuth: access tokens (ya29.), client secrets (GOCSPX-) and refresh tokens (1//0…).
export const GOOGLE_OAUTH = /(?<![A-Za-z0-9_-])(?:ya29\.[A-Za-z0-9_-]{20,}|GOCSPX-[A-Za-z0-9_-]{28}|1\/\/0[A-Za-z0-9_-]{40,})(?![A-Za-z0-9_-])/g
export const findGoogleOAuth: Find = (text, sink, rule) =>
  findChecked(GOOGLE_OAUTH, text, sink, rule, (m) => looksRandom(m[0], 5, m[0].length, 3.5))

// Twilio API key SIDs (SK + 32 hex) anywhere; account SIDs and 32-hex auth tokens after `twilio`.
export const TWILIO_KEY = /(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])/g
export const TWILIO_CONTEXTUAL = /(?<![A-Za-z0-9])(?:AC)?[0-9a-f]{32}(?![A-Za-z0-9])/g
export const findTwilio: Find = (text, sink, rule) => {
  // The keyword `sk` also starts this detector on `task` and `sk-`: the key's own prefix, case and
  // all, is looked for first, a search many times cheaper than the expression's scan (its lookbehind
  // keeps the engine from skipping ahead), which a text without it cannot match.
  if (text.includes('SK')) findChecked(TWILIO_KEY, text, sink, rule, (m) => looksRandom(m[0], 2, 34, 3))
  findNearKeyword(TWILIO_CONTEXTUAL, 34, ['twilio'], 200, text, sink, rule, (m) => looksRandom(m[0], m[0].length - 32, m[0].length, 3))
}

// SendGrid: SG. then two base64url parts (22 and 43); some suites write the 66 characters without the inner dot.
export const SENDGRID = /(?<![A-Za-z0-9_.-])SG\.[A-Za-z0-9_=-]{16,32}\.[A-Za-z0-9_=-]{30,64}(?![A-Za-z0-9_=.-])|(?<![A-Za-z0-9_.-])SG\.[A-Za-z0-9_=.-]{60,80}(?![A-Za-z0-9_=.-])/g
export const findSendgrid: Find = (text, sink, rule) => findChecked(SENDGRID, text, sink, rule, (m) => looksRandom(m[0], 3, m[0].length, 3.5))

// Discord bot tokens: base64 of the bot's numeric id, a timestamp part, an HMAC part. The first part
// must decode to the digits of an id (17-20 of them): the format's own validity check. Webhook URLs
// lose their token.
export const DISCORD_BOT = /[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}(?![A-Za-z0-9_.-])/g
export const DISCORD_WEBHOOK = /discord(?:app)?\.com\/api\/webhooks\/[0-9]{17,20}\/([A-Za-z0-9_-]{60,68})(?![A-Za-z0-9_-])/gi
export const findDiscord: Find = (text, sink, rule) => {
  findChecked(DISCORD_BOT, text, sink, rule, (m) => !/[A-Za-z0-9_.-]/.test(text[m.index - 1] ?? ' ') && /^[1-9][0-9]{16,19}$/.test(Buffer.from(m[0].slice(0, m[0].indexOf('.')), 'base64url').toString('latin1')))
  // Two dots start this detector (bot tokens have no keyword), so most texts it reads name no webhook host:
  // the name is looked for first, a search several times cheaper than the webhook expression's scan.
  if (DISCORD_NAME.test(text)) findChecked(DISCORD_WEBHOOK, text, sink, rule, (m) => looksRandom(m[1]!, 0, m[1]!.length, 3.5), 1)
}
const DISCORD_NAME = /discord/i

// Mailchimp API keys: 32 hex characters, then the data center (-us1 … -us99).
export const MAILCHIMP = /(?<![A-Za-z0-9])[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])/g
export const findMailchimp: Find = (text, sink, rule) => findChecked(MAILCHIMP, text, sink, rule, (m) => looksRandom(m[0], 0, 32, 3))

// PyPI upload tokens: `pypi-` and a macaroon whose base64 starts `AgE` (pypi.org, test.pypi.org).
export const PYPI = /(?<![A-Za-z0-9_-])pypi-AgE[A-Za-z0-9_-]{50,}(?![A-Za-z0-9_-])/g
export const findPypi: Find = (text, sink, rule) => findChecked(PYPI, text, sink, rule, () => true)

// Telegram bot tokens: the bot's numeric id, a colon, 35 characters of base64url (starting `AA` today);
// in the Bot API's URLs right after `bot` (`/bot123456:AA…/sendMessage`).
// The regex starts with its digit class, so the engine skips ahead to digits, and only at the first
// digit of a run (a start inside the run would read the same 35 characters again, once per digit);
// the rest of the left boundary (not glued to a word, except `/bot`) is checked in code.
export const TELEGRAM = /[0-9](?<![0-9][0-9])[0-9]{4,15}:[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g
export const findTelegram: Find = (text, sink, rule) => {
  findChecked(TELEGRAM, text, sink, rule, (m) => {
    if (!telegramStarts(text, m.index)) return false
    const secret = m[0].slice(m[0].indexOf(':') + 1)
    return hasUpperLowerDigit(secret) && looksRandom(secret, 0, 35, 3.5)
  })
}

function telegramStarts(text: string, at: number): boolean {
  if (at === 0) return true
  const c = text.charCodeAt(at - 1)
  const glued = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58 || c === 46 || c === 45
  if (!glued) return true
  // The Bot API's URLs: `/bot<token>/…`, `bot<token>` at the start.
  return text.startsWith('bot', at - 3) && (at === 3 || text.charCodeAt(at - 4) === 47)
}

// age identities: Bech32 with a checksum. A valid checksum always counts; an invalid one (a suite's
// made-up key) counts unless it is a placeholder (`AGE-SECRET-KEY-1QQQQ…`).
export const AGE_KEY = /AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7Lqpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}(?![A-Za-z0-9])/g
export const findAgeKey: Find = (text, sink, rule) =>
  findChecked(AGE_KEY, text, sink, rule, (m) => bech32Valid(m[0]) || !isPlaceholder(m[0].slice(16), true))

// PEM private keys wrapped in base64 (a Kubernetes secret, an env var): `LS0tLS1CRUdJTi` is
// base64 of `-----BEGIN`. The decoded head must say PRIVATE KEY; the whole run goes.
export const BASE64_PEM = /LS0tLS1CRUdJTi[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+=])/g
export const findBase64PrivateKey: Find = (text, sink, rule) =>
  findChecked(BASE64_PEM, text, sink, rule, (m) => /^-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY/.test(Buffer.from(m[0].slice(0, 80), 'base64').toString('latin1')))
