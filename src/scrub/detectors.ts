import { isIPv6 } from 'node:net'
import { DETECTOR_IDS, type DetectorId } from '../policy/detector-ids.js'
import type { MatchSink } from './aho-corasick.js'
import {
  ASSIGNMENT_KEY,
  ASSIGNMENT_TAG,
  CONNECTION_PASSWORD,
  CURL,
  NETRC,
  findAssignments,
  findConnectionPasswords,
  findCurlCredentials,
  findNetrcPasswords,
} from './assignment-detector.js'
import { isBase64UrlJsonObject, isPlaceholder, looksRandom, startsLikeJsonObject, tokenChecksumValid } from './detector-checks.js'
import { findPiiPatterns } from './pii-detectors.js'
import type { SensitiveKeyMatcher } from './sensitive-keys.js'
import * as tokens from './token-detectors.js'

/**
 * What a detector may consult besides the text.
 *
 * @example
 * ```ts
 * const context: DetectorContext = { sensitiveKeys: new SensitiveKeyMatcher(policy.scrub.sensitiveKeys) }
 * ```
 */
export interface DetectorContext {
  /** Decides whether a key in `key=value` text names a secret. */
  readonly sensitiveKeys: SensitiveKeyMatcher
}

/**
 * One built-in detector. A detector only runs on a string that passed its
 * prefilter, checked for every detector in one automaton pass:
 *
 * - it runs when one of its `keywords` occurs in the string (ASCII case
 *   ignored), as gitleaks does: `ghp_` for GitHub tokens, `@` for email
 *   addresses, `-----begin` for PEM blocks;
 * - a detector with a count (numbers have no keyword good enough) also runs
 *   when the string holds at least `minDigits` digits, `minDots` dots and
 *   `minColons` colons (IPv6: the keyword `::`, or 7 colons).
 *
 * `keywords: 'sensitive-keys'` means the spellings of the sensitive key names.
 *
 * @example
 * ```ts
 * const email = DETECTORS.find((d) => d.id === 'email')!
 * email.keywords // ['@']
 * email.find('mail ada@example.com', spans, 1, context) // spans gets [5, 20)
 * ```
 */
export interface Detector {
  /** The stable id, as in `DETECTOR_IDS`, `[REDACTED:<id>]` and ledger transforms. */
  readonly id: DetectorId
  /** What it finds, for docs and reports. */
  readonly description: string
  /** Lower-case keywords. */
  readonly keywords: readonly string[] | 'sensitive-keys'
  readonly minDigits: number
  readonly minDots: number
  readonly minColons: number
  /** The regular expressions it runs, exposed so tests can audit them for linear time. */
  readonly patterns: readonly RegExp[]
  /** Reports each match as `[start, end)`: the part to replace, which may be less than the whole match. */
  find(text: string, sink: MatchSink, rule: number, context: DetectorContext): void
}

/*
 * LINEAR-TIME RULE for every built-in regular expression (rules 1 and 2
 * audited by test/scrub/detectors.test.ts). JavaScript's engine backtracks, so:
 *
 * 1. No nested quantifiers: no quantified group contains a quantifier
 *    (`(a+)+`, `(?:\.[0-9]{1,3}){3}`). Repeated structure is written out or
 *    scanned by hand (credit cards, IBANs).
 * 2. An unbounded quantifier is followed only by something its class cannot
 *    match (end of pattern, a lookahead on the same class, a literal it
 *    excludes), so a run is split exactly one way. Where two adjacent
 *    quantifiers overlap, the first is bounded by a small constant (64). A
 *    lazy `[\s\S]*?` up to a terminator is two searches instead (PEM), and
 *    "up to the last '@'" is a run then a look back (URL credentials).
 * 3. A match can start only at a literal keyword or where a lookbehind says a
 *    token begins, so a failed attempt costs a bounded number of steps and the
 *    whole scan stays O(length x constant).
 * 4. The code driving a regex never goes back over what it has read: after a
 *    match or a refusal it resumes past it, and a look around a match is
 *    bounded (64, 254, 600 characters) or remembered from the previous one.
 *    A value after a name is read to its end however long (a bound there
 *    redacts the first part of a long secret and leaks the rest), which is
 *    linear because the scan then resumes past it; a far delimiter is found
 *    by a native search and kept while it is ahead.
 *    (secret-assignment once resumed inside each value it refused: 1,024
 *    steps per two characters of `a=a=…`; emails once looked back to the
 *    start of the string for a dot.) The worst inputs found are in
 *    bench/scrubber.ts, each within a few times the cost of prose.
 *
 * User patterns are not held to this rule: they run on re2js, which is
 * linear-time by construction.
 */

const AWS_KEY = /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])/g
// 36 characters after the prefix (30 random, 6 of checksum) today; a longer run is taken whole, so
// no tail of a token in a future format is left behind.
const GITHUB = /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])/g
// Server-to-server tokens in GitHub's newer form: the installation id, then a JWT (`ghs_12345_eyJ….….…`).
const GITHUB_JWT_TOKEN = /(?<![A-Za-z0-9_])gh[su]_[0-9]{1,20}_eyJ[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{0,1024}/g
const SLACK_TOKEN = /(?<![A-Za-z0-9])(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{10,}/g
const SLACK_WEBHOOK = /https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{8,}/g
const STRIPE = /(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,})(?![A-Za-z0-9_])/g
// Exactly 39 characters: a longer run that holds `AIza` is something else (base64 text, a hash).
const GOOGLE = /(?<![0-9A-Za-z_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g
const OPENAI = /(?<![A-Za-z0-9_-])sk-(?!ant-)[A-Za-z0-9_-]{20,}/g
const ANTHROPIC = /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g
const NPM = /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])/g
// Routable tokens end in `.` + 9 characters, which belong to the token too. Runner registration
// tokens carry the fixed prefix GR1348941.
const GITLAB = /(?<![A-Za-z0-9_])(?:gl(?:pat|dt|rt|ptt|ft|cbt|oas|soat|imt|agent|ffct|wt)-[A-Za-z0-9_-]{20,}|GR1348941[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])/g
const GITLAB_ROUTING_SUFFIX = /\.[0-9a-z]{9}(?![A-Za-z0-9_-])/y
// Cheap entry points for the hand-written scanners: 8 digits (optionally
// split once) starting 2-6 for cards; two letters and two digits for IBANs.
const CARD_CANDIDATE = /[2-6][0-9]{3}[ -]?[0-9]{4}/g
const IBAN_CANDIDATE = /[A-Za-z]{2}[0-9]{2}/g
// A block runs from BEGIN to the first END after it (two searches, not one lazy `[\s\S]*?`).
// An unterminated block is redacted to the end of the string: a truncated key is still key material.
const PEM_BEGIN = /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g
const PEM_END = /-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g
// A JWT's header; what follows it (`.payload.signature`) is read by hand. The header and the payload
// must be base64url JSON objects: `eyJ…` alone, or parts that decode to anything else, are not a JWT.
// Like PEM blocks, a token cut short at the end of the string (header, dot, part of the payload) is
// redacted to the end: its claims are still there, and a scrubber that scans only a prefix of a
// long string must not half-leak a token straddling that prefix's end.
// A header serialized with whitespace after its brace (`{\n  "alg"…`, `{ "alg"…`) starts ewo, ew0, ewk or eyA.
const JWT = /(?<![A-Za-z0-9_-])(?:eyJ|ewo|ew0|ewk|eyA)[A-Za-z0-9_-]{8,}(?![A-Za-z0-9_-])/g
const JWT_PART = /[A-Za-z0-9_-]*/y
// The characters a userinfo may hold, after '://' (sticky). The userinfo ends at the last '@' among them
// or right after them: a password may hold an unescaped '@'.
const URL_USERINFO_RUN = /[^\s/?#"'<>\\]{1,512}/y
const IPV4 = /(?<![0-9A-Za-z.])[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?![0-9]|\.[0-9])/g
// A segment starting with '[' is a marker already: stripping twice changes nothing.
const HOME_PATH = /(?:\/home\/|\/Users\/|[A-Za-z]:(?:\\{1,2}|\/)Users(?:\\{1,2}|\/))([^/\\\s:"'<>|*?[][^/\\\s:"'<>|*?]*)/gi
// A scheme word, then the credential. `Token` and the API-key schemes need a credential with a digit
// (prose says "token expired"); every credential passes a placeholder gate (`Bearer XXXX`, `$API_KEY`).
const AUTHORIZATION =
  /(?<![A-Za-z0-9-])([Bb]earer|BEARER|[Bb]asic|BASIC|[Tt]oken|TOKEN|[Aa]pi-?[Tt]oken|[Aa]pi-?[Kk]ey|API-?KEY|SSWS|[Dd]igest)[ \t]+([A-Za-z0-9._~+/$<>{}[\]*=:@-]{3,1024})/g
// The rest of a credential longer than AUTHORIZATION reads (sticky): it goes whole, none of it left.
const AUTHORIZATION_REST = /[A-Za-z0-9._~+/$<>{}[\]*=:@-]*/y
const AUTHORIZATION_READ = 1024
function runRegex(re: RegExp, text: string, sink: MatchSink, rule: number): void {
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) sink.add(m.index, m.index + m[0].length, rule)
}

// Each '://' reads at most 513 characters, and never past the next '/': so never past the next '://'.
function findUrlCredentials(text: string, sink: MatchSink, rule: number): void {
  const run = URL_USERINFO_RUN
  for (let scheme = text.indexOf('://'); scheme !== -1; scheme = text.indexOf('://', scheme + 1)) {
    const start = scheme + 3
    run.lastIndex = start
    if (!run.test(text)) continue
    let at = run.lastIndex // the character after the run may be an '@' too
    while (at > start && text.charCodeAt(at) !== 64 /* @ */) at--
    if (at > start && !userinfoIsPlaceholder(text.slice(start, at))) sink.add(start, at, rule)
  }
}

// `https://user:${PASSWORD}@host`, `https://$TOKEN@host`, `ftp://<user>:<password>@host`: variables and
// template slots, left whole. The password decides when there is one, else the user part.
function userinfoIsPlaceholder(userinfo: string): boolean {
  const colon = userinfo.indexOf(':')
  if (colon === -1) return /[$<{[%]/.test(userinfo) && isPlaceholder(userinfo, false)
  const password = userinfo.slice(colon + 1)
  return password !== '' && isPlaceholder(password, false)
}

function findPemBlocks(text: string, sink: MatchSink, rule: number): void {
  const begin = PEM_BEGIN
  const end = PEM_END
  begin.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = begin.exec(text)) !== null) {
    end.lastIndex = begin.lastIndex
    const closing = end.exec(text)
    const stop = closing !== null ? end.lastIndex : text.length
    // `-----BEGIN PRIVATE KEY-----\n...\n-----END…`, `***`, `xxx`, nothing: documentation, not a key.
    // An unterminated block is redacted whatever it holds.
    if (closing === null || !isPlaceholderBody(text.slice(begin.lastIndex, closing.index))) sink.add(m.index, stop, rule)
    begin.lastIndex = stop
  }
}

// A block body with no key material: blanks, escaped newlines (`\n` in JSON) and a placeholder.
function isPlaceholderBody(body: string): boolean {
  const bare = body.replace(/\\[nr]|\s/g, '')
  return bare === '' || (bare.length <= 64 && isPlaceholder(bare, true))
}

// A Slack token whose body is a placeholder (`xoxb-xxxxxxxxx-…`), or cut short before a mask
// (`xoxp-5723…-####`): documentation. The ids left visible are workspace and user ids, not the secret.
function findSlackTokens(text: string, sink: MatchSink, rule: number): void {
  const re = SLACK_TOKEN
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    const after = text.charCodeAt(re.lastIndex)
    const masked = m[0].endsWith('-') && (after === 35 /* # */ || after === 42 /* * */)
    const body = m[0].slice(m[0].indexOf('-') + 1).replace(/-/g, '')
    // A random body that happens to spell a placeholder word (`…1lFaKe`) is still a token.
    const placeholder = isPlaceholder(body, true) && !looksRandom(body, 0, body.length, 3)
    if (!masked && !placeholder) sink.add(m.index, re.lastIndex, rule)
  }
}

// Anchored on each '@': the local part is read leftwards, the domain rightwards,
// each within its bound, so every character is read a bounded number of times.
function findEmails(text: string, sink: MatchSink, rule: number): void {
  // How far the look back for a URL (see insideUrlUserinfo) has read, and the last stop it saw.
  let scanned = 0
  let lastStop = -1
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at
    while (start > 0 && at - start < 64 && isLocalPart(text.charCodeAt(start - 1))) start--
    if (start === at || (start > 0 && isLocalPart(text.charCodeAt(start - 1)))) continue
    let end = at + 1
    while (end < text.length && end - at <= 253 && isDomainPart(text.charCodeAt(end))) end++
    // The address ends at its top-level domain: 2-24 letters after the last dot.
    while (end > at + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--
    let dot = end - 1
    while (dot > at + 1 && text.charCodeAt(dot) !== 46) dot--
    if (dot <= at + 1 || !topLevelDomain(text, dot + 1, end)) continue
    // Starts only grow (a local part holds no '@'), so the stops are found in one pass over the text.
    for (let k = Math.max(scanned, 2); k < start; k++) if (isUrlLookbackStop(text.charCodeAt(k))) lastStop = k
    scanned = start
    // `scheme://user@host`: the userinfo belongs to url-credentials, which keeps the host.
    if (!insideUrlUserinfo(text, start, lastStop)) sink.add(start, end, rule)
  }
}

function isLocalPart(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 // . _ % + -
}

function isDomainPart(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 45
}

// 2-24 letters, or an internationalized one in punycode (`xn--p1ai`).
function topLevelDomain(text: string, start: number, end: number): boolean {
  const length = end - start
  if (length >= 2 && length <= 24 && lettersOnly(text, start, end)) return true
  return length >= 5 && length <= 63 && text.startsWith('xn--', start) && (text.charCodeAt(start) | 32) === 120
}

function lettersOnly(text: string, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (!isLetter(text.charCodeAt(k))) return false
  return true
}

// A userinfo may hold '@' itself (an unescaped password), so only a space, a quote or a '/' ends the look back.
function isUrlLookbackStop(c: number): boolean {
  return c === 47 /* / */ || c <= 32 || c === 34 || c === 39
}

// Whether the local part at `start` sits in `scheme://…`: the nearest stop before it, within 600
// characters, is the '/' of '://'. `lastStop` is that nearest stop (at index 2 or more), or -1.
function insideUrlUserinfo(text: string, start: number, lastStop: number): boolean {
  if (lastStop < 2 || lastStop < start - 600) return false
  return text.charCodeAt(lastStop) === 47 && text.charCodeAt(lastStop - 1) === 47 && text.charCodeAt(lastStop - 2) === 58 /* : */
}

function findIpv4(text: string, sink: MatchSink, rule: number): void {
  const re = IPV4
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    if (octetsValid(m[0])) sink.add(m.index, m.index + m[0].length, rule)
  }
}

function octetsValid(quad: string): boolean {
  let value = 0
  for (let i = 0; i <= quad.length; i++) {
    const c = i < quad.length ? quad.charCodeAt(i) : 46
    if (c === 46) {
      if (value > 255) return false
      value = 0
    } else value = value * 10 + (c - 48)
  }
  return true
}

// Anchored on each ':': the token around it, of hex digits, colons and dots, is checked by node:net.
function findIpv6(text: string, sink: MatchSink, rule: number): void {
  const n = text.length
  for (let colon = text.indexOf(':'); colon !== -1; ) {
    let start = colon
    while (start > 0 && isIpv6Part(text.charCodeAt(start - 1))) start--
    let end = colon + 1
    while (end < n && isIpv6Part(text.charCodeAt(end))) end++
    const next = end < n ? text.indexOf(':', end) : -1
    if (end - start <= 45 && !(start > 0 && isAlnum(text.charCodeAt(start - 1))) && !(end < n && isAlnum(text.charCodeAt(end)))) {
      let last = end
      // A sentence may end right after the address: "listening on ::1."
      while (last > start && (text.charCodeAt(last - 1) === 46 || (text.charCodeAt(last - 1) === 58 && text.charCodeAt(last - 2) !== 58))) last--
      if (groupsFit(text, start, last)) {
        const candidate = text.slice(start, last)
        if (/[0-9A-Fa-f]/.test(candidate) && isIPv6(candidate)) sink.add(start, last, rule)
      }
    }
    colon = next
  }
}

function isIpv6Part(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 58 || c === 46
}

// Whether [start, end) has the shape of an address: two colons or more, and groups of at most four
// hex digits, but for a dotted IPv4 tail. Checked before node:net is asked, and with nothing
// allocated: a run of hex letters and colons that is no address (`123456789:AAbb…`) costs a read.
function groupsFit(text: string, start: number, end: number): boolean {
  let colonCount = 0
  let group = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c === 58) {
      colonCount++
      group = 0
    } else if (c === 46) return colonCount >= 2 && end - i <= 12 // the IPv4 tail: isIPv6 checks it
    else if (++group > 4) return false
  }
  return colonCount >= 2
}

function findHomePaths(text: string, sink: MatchSink, rule: number): void {
  const re = HOME_PATH
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    const end = m.index + m[0].length
    sink.add(end - m[1]!.length, end, rule)
  }
}

function findAuthorization(text: string, sink: MatchSink, rule: number): void {
  const re = AUTHORIZATION
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    const scheme = m[1]!.toLowerCase()
    // `Token`, `Api-Key`, `SSWS` and `Digest` are schemes only in an Authorization header; elsewhere
    // "token abc123" is prose, or a token another detector names better.
    if (scheme !== 'bearer' && scheme !== 'basic' && !/authorization/i.test(text.slice(Math.max(0, m.index - 32), m.index))) continue
    let raw = m[2]!
    if (raw.length === AUTHORIZATION_READ) {
      AUTHORIZATION_REST.lastIndex = re.lastIndex
      AUTHORIZATION_REST.test(text)
      raw = text.slice(re.lastIndex - raw.length, AUTHORIZATION_REST.lastIndex)
      re.lastIndex = AUTHORIZATION_REST.lastIndex
    }
    const credential = trimCredential(raw)
    if (credential === '' || isPlaceholder(credential, false)) continue
    let accept: boolean
    if (scheme === 'basic') accept = looksLikeBasicCredential(credential)
    else if (scheme === 'bearer') accept = looksLikeBearerToken(credential)
    else if (scheme === 'digest') accept = /response="?[0-9a-f]{32}/.test(text.slice(m.index, m.index + 1024))
    else accept = credential.length >= 8 && /[0-9]/.test(credential) && looksLikeBearerToken(credential)
    if (!accept) continue
    if (scheme === 'digest') {
      // Digest carries a response hash, not a reusable token: only the hash goes.
      const at = text.indexOf('response=', m.index)
      const start = at + 9 + (text.charCodeAt(at + 9) === 34 ? 1 : 0)
      sink.add(start, start + 32, rule)
      continue
    }
    sink.add(m.index, re.lastIndex - (raw.length - credential.length), rule)
  }
}

// The credential without what closes the text around it: a quote, a bracket or a separator.
function trimCredential(raw: string): string {
  // Which brackets it opens, looked up once: a credential has no length bound.
  const opens = { '}': raw.includes('{'), ']': raw.includes('['), '>': raw.includes('<') }
  let end = raw.length
  while (end > 0 && /[>\]})*,.:;]/.test(raw[end - 1]!)) {
    const c = raw[end - 1]!
    // A closing bracket the credential opened is its own: `${TOKEN}` stays whole for the placeholder gate.
    if ((c === '}' || c === ']' || c === '>') && opens[c]) break
    end--
  }
  return raw.slice(0, end)
}

// "bearer of bad news" is prose; a token has a digit or a symbol, or is long.
function looksLikeBearerToken(token: string): boolean {
  return token.length >= 20 || /[0-9._~+/=-]/.test(token)
}

// Basic carries base64("user:password"); "basic configuration" decodes to noise.
function looksLikeBasicCredential(value: string): boolean {
  if (!/^[A-Za-z0-9+/]+=*$/.test(value)) return false
  const decoded = Buffer.from(value, 'base64').toString('latin1')
  return decoded.includes(':') && /^[\x20-\x7e]+$/.test(decoded)
}

// A routable token's `.` + 9 characters belong to it: `glpat-….01abcdefg`.
function findGitlabTokens(text: string, sink: MatchSink, rule: number): void {
  const re = GITLAB
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    let end = re.lastIndex
    GITLAB_ROUTING_SUFFIX.lastIndex = end
    if (GITLAB_ROUTING_SUFFIX.test(text)) end = GITLAB_ROUTING_SUFFIX.lastIndex
    sink.add(m.index, end, rule)
    re.lastIndex = end
  }
}

function headerNamesAlgorithm(header: string): boolean {
  try {
    return 'alg' in (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as object)
  } catch {
    return false
  }
}

function findJwts(text: string, sink: MatchSink, rule: number): void {
  const re = JWT
  const part = JWT_PART
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    const headerEnd = re.lastIndex
    if (text.charCodeAt(headerEnd) !== 46 /* . */) continue
    part.lastIndex = headerEnd + 1
    part.test(text)
    const payloadEnd = part.lastIndex
    // The shape first, the decoding after: a payload too short to be a JSON object, or not followed by
    // a dot, rules a header out without decoding it (a header with a short payload costs a read).
    if (payloadEnd < text.length && (text.charCodeAt(payloadEnd) !== 46 || payloadEnd - headerEnd - 1 < 4)) continue
    if (!isBase64UrlJsonObject(m[0])) continue
    const payload = text.slice(headerEnd + 1, payloadEnd)
    // Cut short: a header that says `alg`, a dot, and whatever of the payload is left, to the end.
    if (payloadEnd === text.length) {
      if (startsLikeJsonObject(payload) || headerNamesAlgorithm(m[0])) sink.add(m.index, payloadEnd, rule)
      continue
    }
    if (text.charCodeAt(payloadEnd) !== 46 || !isBase64UrlJsonObject(payload)) continue
    part.lastIndex = payloadEnd + 1
    part.test(text)
    sink.add(m.index, part.lastIndex, rule)
    re.lastIndex = part.lastIndex
  }
}

// GitHub classic and npm tokens carry a CRC-32 of their random part. A valid checksum always
// counts; an invalid one (a made-up token, a test suite's fixture) counts unless the body is a
// placeholder (`ghp_xxxx…`, `ghp_<token>`): with a prefix this specific, a scrubber errs toward
// redaction.
function checksummedToken(re: RegExp, prefixLength: (token: string) => number): Detector['find'] {
  return (text, sink, rule) => {
    re.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(text)) !== null) {
      const token = m[0]
      const prefix = prefixLength(token)
      const valid = prefix > 0 && tokenChecksumValid(token, prefix)
      // A fine-grained token has no public checksum: its prefix and length are the signal.
      if (valid || prefix === 0 || !isPlaceholder(token.slice(prefix), true)) sink.add(m.index, m.index + token.length, rule)
    }
  }
}

const SERVICE_ACCOUNT_TYPE = /"type"[ \t\r\n]{0,8}:[ \t\r\n]{0,8}"service_account"/g
const MAX_SERVICE_ACCOUNT = 65_536
const MAX_TYPE_OFFSET = 4096
const MAX_PARSE_FAILURES = 16

/*
 * GCP service-account key files: the JSON object holding
 * `"type": "service_account"`, redacted whole when it parses (the format's
 * validity check). The object opens at the nearest `{` before the type
 * (a key file's first field, and its other values are strings) and closes
 * at the brace that matches it, strings skipped. The forward reads share
 * one budget of four times the text, so hostile text costs linear time at
 * worst. An object that does not parse (cut short, a Python dict) is left
 * to the other detectors: its private key is a PEM block, its key fields
 * are sensitive names.
 */
function findServiceAccounts(text: string, sink: MatchSink, rule: number): void {
  const re = SERVICE_ACCOUNT_TYPE
  re.lastIndex = 0
  let budget = 4 * text.length + MAX_SERVICE_ACCOUNT
  let floor = 0
  // The last `{` before the type, found by one forward sweep: types come in ascending order.
  let swept = 0
  let open = -1
  let failures = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null && budget > 0 && failures < MAX_PARSE_FAILURES) {
    for (; swept < m.index; swept++) if (text.charCodeAt(swept) === 123) open = swept
    if (open < floor || m.index - open > MAX_TYPE_OFFSET) continue
    const close = matchingBrace(text, open)
    budget -= (close === -1 ? MAX_SERVICE_ACCOUNT : close - open) + (m.index - open)
    if (close === -1) continue
    // A key file holds its key and its account: without them there is nothing to parse for.
    const body = text.slice(open, close + 1)
    if (!body.includes('"private_key') && !body.includes('"client_email"')) continue
    try {
      const value: unknown = JSON.parse(body)
      if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'service_account') {
        sink.add(open, close + 1, rule)
        floor = close + 1
        re.lastIndex = floor
      }
    } catch {
      // Not JSON: not this detector's. A failed parse costs a thrown error, so a string gets a few.
      failures++
    }
  }
}

// The index of the `}` closing the object opened at `open`, strings skipped; -1 past the bound.
function matchingBrace(text: string, open: number): number {
  let depth = 0
  let inString = false
  const stop = Math.min(text.length, open + MAX_SERVICE_ACCOUNT)
  for (let i = open; i < stop; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 123) depth++
    else if (c === 125 && --depth === 0) return i
  }
  return -1
}

// Scratch space for the hand-written scanners; the scrubber is single-threaded.
const MAX_GROUPS = 64
const groupStart = new Int32Array(MAX_GROUPS)
const groupEnd = new Int32Array(MAX_GROUPS)

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}

function isWordLike(text: string, at: number): boolean {
  if (at < 0 || at >= text.length) return false
  const c = text.charCodeAt(at)
  if (isAlnum(c) || c === 95) return true
  // A decimal point joins numbers: "1234567890123.45" is not a card.
  return c === 46 && (isDigit(text.charCodeAt(at - 1)) || isDigit(text.charCodeAt(at + 1)))
}

/**
 * Cards: runs of digit groups separated by one space or dash. A candidate is
 * one group of 13-19 digits, or consecutive groups of 4-6 digits (the last
 * 1-6) totalling 13-19, that passes the Luhn check and starts with 2-6 (the
 * card networks' ranges; excludes millisecond timestamps). Groups glued to
 * letters are not candidates, so UUIDs and hex ids never match.
 */
function findCards(text: string, sink: MatchSink, rule: number): void {
  const n = text.length
  const candidates = CARD_CANDIDATE
  candidates.lastIndex = 0
  let m: RegExpExecArray | null
  // Never look back past the previous run: each character is read a bounded number of times.
  let floor = 0
  while ((m = candidates.exec(text)) !== null) {
    // Back to the start of the run of digit groups the candidate sits in.
    let i = m.index
    while (i > floor && isDigit(text.charCodeAt(i - 1))) i--
    while (i >= floor + 2 && isSeparator(text.charCodeAt(i - 1)) && isDigit(text.charCodeAt(i - 2))) {
      i--
      while (i > floor && isDigit(text.charCodeAt(i - 1))) i--
    }
    const leadTainted = isWordLike(text, i - 1)
    let groups = 0
    let j = i
    for (;;) {
      const s = j
      while (j < n && isDigit(text.charCodeAt(j))) j++
      groupStart[groups] = s
      groupEnd[groups] = j
      groups++
      const sep = j < n ? text.charCodeAt(j) : 0
      if (groups < MAX_GROUPS && isSeparator(sep) && j + 1 < n && isDigit(text.charCodeAt(j + 1))) j++
      else break
    }
    const trailTainted = isWordLike(text, j)
    const first = leadTainted ? 1 : 0
    const last = trailTainted ? groups - 1 : groups
    for (let a = first; a < last; a++) {
      const lead = text.charCodeAt(groupStart[a]!)
      if (lead < 50 || lead > 54) continue // first digit 2-6
      let digits = 0
      let best = -1
      for (let b = a; b < last; b++) {
        const size = groupEnd[b]! - groupStart[b]!
        digits += size
        if (digits > 19) break
        if (b > a) {
          const prevSize = groupEnd[b - 1]! - groupStart[b - 1]!
          if (prevSize < 4 || prevSize > 6 || size > 6) break
        }
        if (digits >= 13 && luhnValid(text, groupStart[a]!, groupEnd[b]!)) best = b
      }
      if (best >= 0) {
        sink.add(groupStart[a]!, groupEnd[best]!, rule)
        a = best
      }
    }
    floor = Math.max(j, m.index + 1)
    candidates.lastIndex = floor
  }
}

function isSeparator(c: number): boolean {
  return c === 32 || c === 45
}

function luhnValid(text: string, start: number, end: number): boolean {
  let sum = 0
  let double = false
  for (let k = end - 1; k >= start; k--) {
    const c = text.charCodeAt(k)
    if (!isDigit(c)) continue
    let d = c - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

/**
 * IBANs: a country code of the IBAN registry, two check digits, then letters
 * and digits to that country's fixed length, optionally in groups separated
 * by single spaces or dashes; valid under ISO 13616's mod-97 check (check
 * digits 02-98). The country and its length matter: on the mod-97 check
 * alone, one random token in 97 that starts with two letters and two digits
 * (`SK78d5a2…`, `Kt52rZTW…`) would pass for an IBAN.
 */
function findIbans(text: string, sink: MatchSink, rule: number): void {
  const candidates = IBAN_CANDIDATE
  candidates.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = candidates.exec(text)) !== null) {
    const i = m.index
    candidates.lastIndex = i > 0 && isAlnum(text.charCodeAt(i - 1)) ? i + 1 : findIbansInRun(text, i, sink, rule)
  }
}

// Scratch rings for findIbansInRun, indexed by a sequence number modulo RING: an IBAN spans at
// most 34 alphanumerics, so a candidate or group end is never needed after 64 more of either.
const RING = 64
const candidateCount = new Int32Array(RING) // alphanumerics before it in the run
const candidateLength = new Int32Array(RING) // the length its country's IBANs have
const candidatePos = new Int32Array(RING)
const candidateLead = new Int32Array(RING) // its first four characters' remainder mod 97
const candidateBbanValue = new Int32Array(RING) // the run's remainder up to its BBAN
const candidateBbanDigits = new Int32Array(RING) // how many digits that covers
const endCount = new Int32Array(RING)
const endPos = new Int32Array(RING)
const endValue = new Int32Array(RING)
const endDigits = new Int32Array(RING)
// 10^k mod 97, for k up to twice an IBAN's length.
const POW10_MOD97 = Int32Array.from({ length: 70 }, (_, k) => {
  let p = 1
  for (let i = 0; i < k; i++) p = (p * 10) % 97
  return p
})

/*
 * One pass over a run of alphanumeric groups separated by single spaces,
 * from `i` (where a group starts), checking every candidate in it; returns
 * where the run ends. The run is read as one number (letters as two digits,
 * A=10), its remainder mod 97 kept as it goes: the remainder of any slice
 * follows from the remainders at its ends, so each candidate (a group
 * starting with two letters and check digits 02-98) is checked against each
 * group end 15-34 alphanumerics after it, longest first, in O(1), and no
 * character is read twice. A match hides the candidates inside it.
 */
function findIbansInRun(text: string, i: number, sink: MatchSink, rule: number): number {
  const n = text.length
  let count = 0 // alphanumerics read
  let value = 0 // their remainder mod 97
  let digits = 0 // how many digits they make
  let ends = 0 // group ends seen
  let pending = 0 // candidates seen
  let next = 0 // the first candidate not yet checked
  let hidden = 0 // candidates before this count are inside a match
  let j = i
  for (;;) {
    const length = ibanLength(text, j)
    if (length !== 0) {
      const slot = pending++ & (RING - 1)
      candidateLength[slot] = length
      let lead = 0
      for (let k = j; k < j + 4; k++) lead = mod97Step(lead, text.charCodeAt(k))
      candidateCount[slot] = count
      candidatePos[slot] = j
      candidateLead[slot] = lead
      // Two letters and two digits make six digits.
      candidateBbanValue[slot] = (value * POW10_MOD97[6]! + lead) % 97
      candidateBbanDigits[slot] = digits + 6
    }
    let c: number
    while (j < n && isAlnum((c = text.charCodeAt(j)))) {
      value = mod97Step(value, c)
      digits += isDigit(c) ? 1 : 2
      count++
      j++
      // The oldest candidate can have no group end left to see: check it.
      if (next < pending && count - candidateCount[next & (RING - 1)]! > 34) {
        hidden = checkIbanCandidate(next++ & (RING - 1), hidden, ends, sink, rule)
      }
    }
    const slot = ends++ & (RING - 1)
    endCount[slot] = count
    endPos[slot] = j
    endValue[slot] = value
    endDigits[slot] = digits
    // Groups are separated by single spaces or dashes (`DE89 3704 …`, `DE89-3704-…`).
    if (!(j + 1 < n && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 45) && isAlnum(text.charCodeAt(j + 1)))) break
    j++
  }
  while (next < pending) hidden = checkIbanCandidate(next++ & (RING - 1), hidden, ends, sink, rule)
  return j
}

// The length of the IBANs of the country whose code starts at `j`, when check digits 02-98
// follow it; 0 when no IBAN starts there.
function ibanLength(text: string, j: number): number {
  if (j + 3 >= text.length || !isLetter(text.charCodeAt(j)) || !isLetter(text.charCodeAt(j + 1))) return 0
  const d1 = text.charCodeAt(j + 2)
  const d2 = text.charCodeAt(j + 3)
  if (!isDigit(d1) || !isDigit(d2)) return 0
  const check = (d1 - 48) * 10 + (d2 - 48)
  if (check < 2 || check > 98) return 0
  return IBAN_LENGTHS[((text.charCodeAt(j) | 32) - 97) * 26 + ((text.charCodeAt(j + 1) | 32) - 97)]!
}

// IBAN length by country code (index: first letter * 26 + second), from the
// SWIFT IBAN registry and the countries that use IBANs outside it (much of
// Africa, Iran); 0 for a code with no IBAN.
const IBAN_LENGTHS = (() => {
  const lengths = new Uint8Array(26 * 26)
  const byCountry =
    'AD24 AE23 AL28 AO25 AT20 AZ28 BA20 BE16 BF28 BG22 BH22 BI27 BJ28 BR29 BY28 CF27 CG27 CH21 CI28 CM27 CR22 CV25 CY28 CZ24 ' +
    'DE22 DJ27 DK18 DO28 DZ26 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GA27 GB22 GE22 GI23 GL18 GQ27 GR27 GT28 GW25 HN28 HR21 HU28 ' +
    'IE22 IL23 IQ23 IR26 IS26 IT27 JO30 KM27 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MA28 MC27 MD24 ME22 MG27 MK19 ML28 ' +
    'MN20 MR27 MT31 MU30 MZ25 NE28 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 ' +
    'SM27 SN28 SO23 ST25 SV28 TD27 TG28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30'
  for (const entry of byCountry.split(' ')) lengths[(entry.charCodeAt(0) - 65) * 26 + (entry.charCodeAt(1) - 65)] = Number(entry.slice(2))
  return lengths
})()

// Checks the candidate in ring slot `c` against the group ends 15-34 alphanumerics after it,
// longest first; reports a match, and returns the count up to which later candidates are hidden.
function checkIbanCandidate(c: number, hidden: number, ends: number, sink: MatchSink, rule: number): number {
  const a = candidateCount[c]!
  if (a < hidden) return hidden
  const wanted = candidateLength[c]!
  for (let k = ends - 1; k >= 0 && k >= ends - RING; k--) {
    const e = k & (RING - 1)
    const length = endCount[e]! - a
    if (length > wanted) continue
    if (length < wanted) break
    // The first four characters move to the end: BBAN, then country code and check digits.
    const bban = mod97(endValue[e]! - candidateBbanValue[c]! * POW10_MOD97[endDigits[e]! - candidateBbanDigits[c]!]!)
    if ((bban * POW10_MOD97[6]! + candidateLead[c]!) % 97 === 1) {
      sink.add(candidatePos[c]!, endPos[e]!, rule)
      return endCount[e]!
    }
  }
  return hidden
}

function mod97(x: number): number {
  const r = x % 97
  return r < 0 ? r + 97 : r
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}

function mod97Step(remainder: number, c: number): number {
  if (isDigit(c)) return (remainder * 10 + (c - 48)) % 97
  const value = (c >= 97 ? c - 32 : c) - 55 // A=10 .. Z=35
  return (remainder * 100 + value) % 97
}

interface DetectorSpec {
  description: string
  keywords?: readonly string[] | 'sensitive-keys'
  minDigits?: number
  minDots?: number
  minColons?: number
  patterns: readonly RegExp[]
  find: Detector['find']
}

function regexFind(re: RegExp): Detector['find'] {
  return (text, sink, rule) => runRegex(re, text, sink, rule)
}

const checksummedGithub = checksummedToken(GITHUB, (token) => (token.startsWith('github_pat_') ? 0 : 4))

const SPECS: Record<DetectorId, DetectorSpec> = {
  'aws-access-key-id': {
    description: 'AWS access key ids (AKIA…, ASIA…, 20 characters)',
    keywords: ['akia', 'asia', 'abia', 'acca', 'a3t'],
    patterns: [AWS_KEY],
    // `AKIAXXXXXXXXXXXXXXXX` is documentation.
    find: (text, sink, rule) => {
      AWS_KEY.lastIndex = 0
      let m: RegExpExecArray | null
      while ((m = AWS_KEY.exec(text)) !== null) if (!isPlaceholder(m[0].slice(4), true)) sink.add(m.index, m.index + 20, rule)
    },
  },
  'github-token': {
    description: 'GitHub tokens: ghp_, gho_, ghu_, ghs_, ghr_, fine-grained github_pat_, and ghs_<id>_<JWT> installation tokens',
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    patterns: [GITHUB, GITHUB_JWT_TOKEN],
    find: (text, sink, rule, context) => {
      checksummedGithub(text, sink, rule, context)
      runRegex(GITHUB_JWT_TOKEN, text, sink, rule)
    },
  },
  'slack-token': {
    description: 'Slack tokens: xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-, xoxo-, xapp-; placeholders (xoxb-xxxx…, a body masked with ####) left alone',
    keywords: ['xoxa-', 'xoxb-', 'xoxe-', 'xoxo-', 'xoxp-', 'xoxr-', 'xoxs-', 'xapp-'],
    patterns: [SLACK_TOKEN],
    find: findSlackTokens,
  },
  'slack-webhook': {
    description: 'Slack incoming-webhook and workflow URLs (hooks.slack.com/services/…)',
    keywords: ['hooks.slack.com'],
    patterns: [SLACK_WEBHOOK],
    find: regexFind(SLACK_WEBHOOK),
  },
  'stripe-key': {
    description: 'Stripe secret and restricted keys (sk_live_, sk_test_, sk_prod_, rk_live_, rk_test_, rk_prod_) and webhook secrets (whsec_)',
    keywords: ['sk_live_', 'sk_test_', 'sk_prod_', 'rk_live_', 'rk_test_', 'rk_prod_', 'whsec_'],
    patterns: [STRIPE],
    find: regexFind(STRIPE),
  },
  'google-api-key': {
    description: 'Google API keys (AIza + 35 characters, a whole token, not a placeholder)',
    keywords: ['aiza'],
    patterns: [GOOGLE],
    // `AIzaaaaa…` is a placeholder.
    find: (text, sink, rule) => {
      GOOGLE.lastIndex = 0
      let m: RegExpExecArray | null
      while ((m = GOOGLE.exec(text)) !== null) if (looksRandom(m[0], 4, 39, 3.5)) sink.add(m.index, m.index + 39, rule)
    },
  },
  'openai-key': {
    description: 'OpenAI API keys (sk-…, sk-proj-…, sk-svcacct-…)',
    keywords: ['sk-'],
    patterns: [OPENAI],
    find: regexFind(OPENAI),
  },
  'anthropic-key': {
    description: 'Anthropic API keys (sk-ant-…)',
    keywords: ['sk-ant-'],
    patterns: [ANTHROPIC],
    find: regexFind(ANTHROPIC),
  },
  'npm-token': {
    description: 'npm access tokens (npm_ + 36 characters)',
    keywords: ['npm_'],
    patterns: [NPM],
    find: checksummedToken(NPM, () => 4),
  },
  'gitlab-token': {
    description:
      'GitLab tokens (glpat-, gldt-, glrt-, glptt-, glft-, glcbt-, gloas-, glsoat-, glimt-, glagent-, glffct-, glwt-, routable ones with their .suffix) and runner registration tokens (GR1348941…)',
    keywords: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glft-', 'glcbt-', 'gloas-', 'glsoat-', 'glimt-', 'glagent-', 'glffct-', 'glwt-', 'gr1348941'],
    patterns: [GITLAB, GITLAB_ROUTING_SUFFIX],
    find: findGitlabTokens,
  },
  'pem-private-key': {
    description: 'PEM and OpenSSH private key blocks, BEGIN to END (to the end of the string when END is missing); a closed block whose body is empty or a placeholder (..., ***, xxx) left alone',
    keywords: ['-----begin'],
    patterns: [PEM_BEGIN, PEM_END],
    find: findPemBlocks,
  },
  jwt: {
    description: 'JSON Web Tokens (eyJ….eyJ….…, and headers serialized with whitespace: ewo…, eyA…) whose header and payload are base64url JSON objects, and a token cut short at the end of the string',
    keywords: ['eyj', 'ewo', 'ew0', 'ewk', 'eya'],
    patterns: [JWT, JWT_PART],
    find: findJwts,
  },
  'url-credentials': {
    description: 'credentials in URLs (scheme://user:pass@host): the userinfo is replaced, the host kept',
    keywords: ['://'],
    patterns: [URL_USERINFO_RUN],
    find: findUrlCredentials,
  },
  email: {
    description: 'email addresses',
    keywords: ['@'],
    patterns: [],
    find: findEmails,
  },
  'credit-card': {
    description: 'payment card numbers: 13-19 digits, optionally grouped by spaces or dashes, Luhn-valid, starting 2-6',
    minDigits: 13,
    patterns: [CARD_CANDIDATE],
    find: findCards,
  },
  iban: {
    description: 'IBANs (ISO 13616), compact or in groups, mod-97 checked',
    minDigits: 10,
    patterns: [IBAN_CANDIDATE],
    find: findIbans,
  },
  ipv4: {
    description: 'IPv4 addresses (dotted quads with octets 0-255; v1.2.3.4 and five-part versions excluded)',
    minDigits: 4,
    minDots: 3,
    patterns: [IPV4],
    find: findIpv4,
  },
  ipv6: {
    description: 'IPv6 addresses, full and compressed, validated by node:net',
    keywords: ['::'],
    minColons: 7,
    patterns: [],
    find: findIpv6,
  },
  'home-path': {
    description: 'the user segment of home directories (/home/<user>, /Users/<user>, C:\\Users\\<user>)',
    keywords: ['/home/', '/users/', '\\users\\'],
    patterns: [HOME_PATH],
    find: findHomePaths,
  },
  'authorization-header': {
    description: 'Authorization credentials after a scheme (Bearer, Basic, Token, Api-Token, Api-Key, SSWS; Digest responses), scheme included; placeholders left alone',
    keywords: ['bearer', 'basic', 'token', 'api-key', 'apikey', 'ssws', 'digest'],
    patterns: [AUTHORIZATION],
    find: findAuthorization,
  },
  'secret-assignment': {
    description:
      'values given to names that say secret, in text: password=…, api_key: …, "token": "…", token := …, pass => …, @"…", the next line, {"$eq": …}, "…" == password; placeholders and variables left alone',
    keywords: 'sensitive-keys',
    patterns: [ASSIGNMENT_KEY, ASSIGNMENT_TAG],
    find: (text, sink, rule, context) => findAssignments(text, sink, rule, context.sensitiveKeys),
  },
  'aws-secret-access-key': {
    description: 'AWS secret access keys: 40 random base64 characters within 200 characters after "aws" or "secret access key"',
    keywords: ['aws', 'secret_access_key', 'secretaccesskey', 'secret-access-key', 'secret access key'],
    patterns: [tokens.AWS_SECRET],
    find: tokens.findAwsSecret,
  },
  'azure-storage-key': {
    description: 'Azure storage account and Service Bus keys: AccountKey=, SharedAccessKey=, SharedSecretValue= values and bare 88-character keys',
    keywords: ['accountkey', 'sharedaccesskey', 'sharedsecretvalue', '=='],
    patterns: [tokens.AZURE_STORAGE_ASSIGNED, tokens.AZURE_STORAGE_BARE],
    find: tokens.findAzureStorageKey,
  },
  'azure-client-secret': {
    description: 'Azure AD (Entra ID) client secrets (…8Q~…, 40 characters)',
    keywords: ['q~'],
    patterns: [tokens.AZURE_CLIENT_SECRET],
    find: tokens.findAzureClientSecret,
  },
  'azure-devops-token': {
    description: 'Azure DevOps personal access tokens: 84 characters with AZDO, and legacy 52-character base32 ones after a context word',
    keywords: ['azdo', 'azure', 'devops', 'ado_pat', 'personal_access', 'personalaccess', 'visualstudio', 'vsts', '$token'],
    patterns: [tokens.AZURE_DEVOPS, tokens.AZURE_DEVOPS_LEGACY],
    find: tokens.findAzureDevopsToken,
  },
  'google-oauth-token': {
    description: 'Google OAuth access tokens (ya29.), client secrets (GOCSPX-) and refresh tokens (1//0…)',
    keywords: ['ya29.', 'gocspx-', '1//0'],
    patterns: [tokens.GOOGLE_OAUTH],
    find: tokens.findGoogleOAuth,
  },
  'gcp-service-account': {
    description: 'Google Cloud service-account key files: the whole JSON object holding "type": "service_account", when it parses',
    keywords: ['service_account'],
    patterns: [],
    find: findServiceAccounts,
  },
  'twilio-key': {
    description: 'Twilio API key SIDs (SK + 32 hex), and account SIDs and auth tokens after "twilio"',
    keywords: ['sk', 'twilio'],
    patterns: [tokens.TWILIO_KEY, tokens.TWILIO_CONTEXTUAL],
    find: tokens.findTwilio,
  },
  'sendgrid-key': {
    description: 'SendGrid API keys (SG.….…)',
    keywords: ['sg.'],
    patterns: [tokens.SENDGRID],
    find: tokens.findSendgrid,
  },
  'discord-token': {
    description: 'Discord bot tokens (whose first part decodes to the bot id) and webhook URL tokens',
    keywords: ['discord'],
    minDots: 2,
    patterns: [tokens.DISCORD_BOT, tokens.DISCORD_WEBHOOK],
    find: tokens.findDiscord,
  },
  'mailchimp-key': {
    description: 'Mailchimp API keys (32 hex characters and a data center, -us1 … -us99)',
    keywords: ['-us'],
    patterns: [tokens.MAILCHIMP],
    find: tokens.findMailchimp,
  },
  'pypi-token': {
    description: 'PyPI upload tokens (pypi-AgE…)',
    keywords: ['pypi-age'],
    patterns: [tokens.PYPI],
    find: tokens.findPypi,
  },
  'telegram-bot-token': {
    description: 'Telegram bot tokens (bot id, a colon, 35 random characters)',
    minDigits: 5,
    minColons: 1,
    patterns: [tokens.TELEGRAM],
    find: tokens.findTelegram,
  },
  'age-secret-key': {
    description: 'age secret keys (AGE-SECRET-KEY-1…, Bech32-checksummed)',
    keywords: ['age-secret-key-1'],
    patterns: [tokens.AGE_KEY],
    find: tokens.findAgeKey,
  },
  'base64-private-key': {
    description: 'PEM private keys wrapped in base64 (LS0tLS1CRUdJTi…): the whole run, when its head decodes to a PRIVATE KEY header',
    keywords: ['ls0tls1crudjt'],
    patterns: [tokens.BASE64_PEM],
    find: tokens.findBase64PrivateKey,
  },
  'connection-string-password': {
    description: 'passwords in connection strings (Password=…; Pwd=…;), spaces and braces included',
    keywords: ['password', 'pwd', 'passwd'],
    patterns: [CONNECTION_PASSWORD],
    find: findConnectionPasswords,
  },
  'curl-credentials': {
    description: 'credentials of curl -u / --user, in any quoting, across continuation lines',
    keywords: ['curl'],
    patterns: [CURL],
    find: findCurlCredentials,
  },
  'netrc-password': {
    description: '.netrc passwords (machine … login … password …)',
    keywords: ['machine'],
    patterns: [NETRC],
    find: findNetrcPasswords,
  },
  'us-ssn': {
    description: 'US social security numbers: 3-2-4 digits with one consistent separator and valid parts; 9 bare digits only after "ssn" or "social security"',
    minDigits: 9,
    patterns: [],
    find: (text, sink, rule) => findPiiPatterns('us-ssn', text, sink, rule),
  },
  'phone-number': {
    description: 'phone numbers: international (+CC …), North American ((415) 555-0132, 415-555-0132), national with a trunk 0 (090-1234-5678), and bare digits after "phone", "tel", "mobile"',
    minDigits: 7,
    patterns: [],
    find: (text, sink, rule) => findPiiPatterns('phone-number', text, sink, rule),
  },
  'mac-address': {
    description: 'MAC addresses (00:1A:2B:3C:4D:5E, 00-1A-…, Cisco 0012.3456.789A); not broadcast or all-zero',
    keywords: [':', '-', '.'],
    patterns: [],
    find: (text, sink, rule) => findPiiPatterns('mac-address', text, sink, rule),
  },
}

/**
 * The built-in detectors, one per id in `DETECTOR_IDS` and in that order
 * (the order breaks ties between overlapping matches). Each is switched and
 * given an action by `policy.scrub.detectors[id]`.
 *
 * @example
 * ```ts
 * import { DETECTORS } from 'airlock-sdk'
 *
 * for (const d of DETECTORS) console.log(d.id, '-', d.description)
 * ```
 */
export const DETECTORS: readonly Detector[] = DETECTOR_IDS.map((id) => {
  const spec = SPECS[id]
  return Object.freeze({
    id,
    description: spec.description,
    keywords: spec.keywords ?? [],
    minDigits: spec.minDigits ?? 0,
    minDots: spec.minDots ?? 0,
    minColons: spec.minColons ?? 0,
    patterns: spec.patterns,
    find: spec.find,
  })
})

// The detectors that read a value after a name: a vendor's own format is a better name for what
// they find, so they lose ties (see DETECTORS_BY_PRECEDENCE).
const NAME_VALUE_DETECTORS: readonly DetectorId[] = [
  'authorization-header',
  'connection-string-password',
  'curl-credentials',
  'netrc-password',
  'secret-assignment',
]

/**
 * The built-in detectors in the order that breaks ties between matches of
 * the same span: `DETECTORS`' order, except that the detectors reading a
 * value after a name (secret-assignment, authorization-header, connection
 * strings, curl, .netrc) come last, so `aws_secret_access_key=<key>` is
 * named `aws-secret-access-key`, not `secret-assignment`, although the
 * newer id was added after it. Internal: the Scrubber numbers its rules in
 * this order.
 *
 * @example
 * ```ts
 * DETECTORS_BY_PRECEDENCE.at(-1)!.id // 'secret-assignment'
 * ```
 */
export const DETECTORS_BY_PRECEDENCE: readonly Detector[] = [
  ...DETECTORS.filter((d) => !NAME_VALUE_DETECTORS.includes(d.id)),
  ...NAME_VALUE_DETECTORS.map((id) => DETECTORS.find((d) => d.id === id)!),
]
