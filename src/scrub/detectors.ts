import { isIPv6 } from 'node:net'
import { DETECTOR_IDS, type DetectorId } from '../policy/detector-ids.js'
import type { MatchSink } from './aho-corasick.js'
import type { SensitiveKeyMatcher } from './sensitive-keys.js'

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
 *    (secret-assignment once resumed inside each value it refused: 1,024
 *    steps per two characters of `a=a=…`; emails once looked back to the
 *    start of the string for a dot.) The worst inputs found are in
 *    bench/scrubber.ts, each within a few times the cost of prose.
 *
 * User patterns are not held to this rule: they run on re2js, which is
 * linear-time by construction.
 */

const AWS_KEY = /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])/g
const GITHUB = /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g
const SLACK_TOKEN = /(?<![A-Za-z0-9])(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{10,}/g
const SLACK_WEBHOOK = /https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{8,}/g
const STRIPE = /(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,})/g
const GOOGLE = /AIza[0-9A-Za-z_-]{35}/g
const OPENAI = /(?<![A-Za-z0-9_-])sk-(?!ant-)[A-Za-z0-9_-]{20,}/g
const ANTHROPIC = /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g
const NPM = /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36,}/g
const GITLAB = /(?<![A-Za-z0-9_])gl(?:pat|dt|rt|ptt|ft|cbt|oas|soat|imt|agent)-[A-Za-z0-9_-]{20,}/g
// Cheap entry points for the hand-written scanners: 8 digits (optionally
// split once) starting 2-6 for cards; two letters and two digits for IBANs.
const CARD_CANDIDATE = /[2-6][0-9]{3}[ -]?[0-9]{4}/g
const IBAN_CANDIDATE = /[A-Za-z]{2}[0-9]{2}/g
// A block runs from BEGIN to the first END after it (two searches, not one lazy `[\s\S]*?`).
// An unterminated block is redacted to the end of the string: a truncated key is still key material.
const PEM_BEGIN = /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g
const PEM_END = /-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g
// Like PEM blocks, a token cut short at the end of the string (header, or header and part of the
// payload) is redacted to the end: its claims are still there, and a scrubber that scans only a
// prefix of a long string must not half-leak a token straddling that prefix's end.
const JWT =
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*|\.[A-Za-z0-9_-]*$|$)/g
// The characters a userinfo may hold, after '://' (sticky). The userinfo ends at the last '@' among them
// or right after them: a password may hold an unescaped '@'.
const URL_USERINFO_RUN = /[^\s/?#"'<>\\]{1,512}/y
const IPV4 = /(?<![0-9A-Za-z.])[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?![0-9]|\.[0-9])/g
// A segment starting with '[' is a marker already: stripping twice changes nothing.
const HOME_PATH = /(?:\/home\/|\/Users\/|[A-Za-z]:(?:\\{1,2}|\/)Users(?:\\{1,2}|\/))([^/\\\s:"'<>|*?[][^/\\\s:"'<>|*?]*)/gi
const AUTHORIZATION = /(?<![A-Za-z0-9])(?:[Bb]earer|BEARER|[Bb]asic|BASIC)[ \t]+([A-Za-z0-9._~+/-]{8,}=*)/g
// An assignment is read in two steps, so a key that names no secret costs
// only its own characters: `a=a=a=…` after a sensitive word must not read a
// 1024-character value at every `=` (rule 4 above).
// Step 1: a key, optionally quoted, then = or :, then blanks.
const ASSIGNMENT_KEY = /(?<![A-Za-z0-9_.-])(\\?["']?)([A-Za-z_][A-Za-z0-9_.-]{0,63})\1[ \t]{0,8}[:=][ \t]{0,8}/g
// Step 2, after a sensitive key only, right where step 1 ended: a
// double-quoted, escaped-double-quoted, single-quoted or bare value.
const ASSIGNMENT_VALUE =
  /"((?:[^"\\\r\n]|\\.){1,1024})"|\\"((?:[^"\\\r\n]|\\[^"]){1,1024})\\"|'([^'\r\n]{1,1024})'|((?:[Bb]earer |[Bb]asic |[Tt]oken |[Dd]igest )?[^\s,;&"'<>{}[\]\\]{1,1024})/y

// Values that say nothing secret: `password: null`, `auth=false`.
const INERT_VALUES = new Set(['null', 'true', 'false', 'undefined', 'none', 'nil'])

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
    if (at > start) sink.add(start, at, rule)
  }
}

function findPemBlocks(text: string, sink: MatchSink, rule: number): void {
  const begin = PEM_BEGIN
  const end = PEM_END
  begin.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = begin.exec(text)) !== null) {
    end.lastIndex = begin.lastIndex
    const stop = end.test(text) ? end.lastIndex : text.length
    sink.add(m.index, stop, rule)
    begin.lastIndex = stop
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
    if (dot <= at + 1 || end - dot - 1 < 2 || end - dot - 1 > 24 || !lettersOnly(text, dot + 1, end)) continue
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
      const candidate = text.slice(start, last)
      if (colons(candidate) >= 2 && /[0-9A-Fa-f]/.test(candidate) && isIPv6(candidate)) sink.add(start, last, rule)
    }
    colon = next
  }
}

function isIpv6Part(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 58 || c === 46
}

function colons(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 58) n++
  return n
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
    const credential = m[1]!
    const isBasic = m[0][1] === 'a' || m[0][1] === 'A' // Basic, not Bearer
    if (isBasic ? looksLikeBasicCredential(credential) : looksLikeBearerToken(credential)) {
      sink.add(m.index, m.index + m[0].length, rule)
    }
  }
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

// Step 1 reads each character a bounded number of times. Step 2 runs once
// per sensitive key: a value it finds is skipped whole; a quoted value it
// cannot close stops before the next quote of its kind (where it would have
// closed), so failed reads of one quoting style never overlap: at most three
// (", \" and ') cover any character.
function findAssignments(text: string, sink: MatchSink, rule: number, context: DetectorContext): void {
  const keys = ASSIGNMENT_KEY
  const values = ASSIGNMENT_VALUE
  keys.lastIndex = 0
  // `test`, not `exec`: most keys name no secret (`a=a=…` has one every two
  // characters), and `exec` would allocate a match array and two captures for
  // each. The key is read back from where the match ends instead.
  while (keys.test(text)) {
    const end = keys.lastIndex
    // Not a secret key: go on right after the `=`, where its value may hold one (`note=password=x`).
    if (!context.sensitiveKeys.matches(assignedKey(text, end))) continue
    values.lastIndex = end
    const v = values.exec(text)
    if (v === null) continue
    const value = v[1] ?? v[2] ?? v[3] ?? v[4]!
    const closing = v[1] !== undefined || v[3] !== undefined ? 1 : v[2] !== undefined ? 2 : 0
    const valueEnd = values.lastIndex - closing
    const valueStart = valueEnd - value.length
    if (!INERT_VALUES.has(value.toLowerCase())) sink.add(valueStart, valueEnd, rule)
    keys.lastIndex = values.lastIndex
  }
}

// The key of an ASSIGNMENT_KEY match that ends at `end`, read backwards: the
// blanks, the `=` or `:`, the blanks, the closing quote (and its backslash),
// then the key's own characters. None of those can be a key character, so
// the key is exactly the run of key characters found (the regex already
// checked its first character, its length and what precedes it).
function assignedKey(text: string, end: number): string {
  let j = end
  while (isBlank(text.charCodeAt(j - 1))) j--
  j-- // the `=` or `:`
  while (isBlank(text.charCodeAt(j - 1))) j--
  let c = text.charCodeAt(j - 1)
  if (c === 34 || c === 39) {
    j--
    if (text.charCodeAt(j - 1) === 92) j--
  }
  const keyEnd = j
  while (j > 0 && isKeyChar((c = text.charCodeAt(j - 1)))) j--
  return text.slice(j, keyEnd)
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9
}

// [A-Za-z0-9_.-]
function isKeyChar(c: number): boolean {
  return isAlnum(c) || c === 95 || c === 46 || c === 45
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
 * IBANs: two letters, two check digits, then up to 30 letters and digits,
 * optionally in space-separated groups; 15-34 characters in all, valid under
 * ISO 13616's mod-97 check (check digits 02-98).
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
    if (isIbanLead(text, j)) {
      const slot = pending++ & (RING - 1)
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
    if (!(j + 1 < n && text.charCodeAt(j) === 32 && isAlnum(text.charCodeAt(j + 1)))) break
    j++
  }
  while (next < pending) hidden = checkIbanCandidate(next++ & (RING - 1), hidden, ends, sink, rule)
  return j
}

function isIbanLead(text: string, j: number): boolean {
  if (j + 3 >= text.length || !isLetter(text.charCodeAt(j)) || !isLetter(text.charCodeAt(j + 1))) return false
  const d1 = text.charCodeAt(j + 2)
  const d2 = text.charCodeAt(j + 3)
  if (!isDigit(d1) || !isDigit(d2)) return false
  const check = (d1 - 48) * 10 + (d2 - 48)
  return check >= 2 && check <= 98
}

// Checks the candidate in ring slot `c` against the group ends 15-34 alphanumerics after it,
// longest first; reports a match, and returns the count up to which later candidates are hidden.
function checkIbanCandidate(c: number, hidden: number, ends: number, sink: MatchSink, rule: number): number {
  const a = candidateCount[c]!
  if (a < hidden) return hidden
  for (let k = ends - 1; k >= 0 && k >= ends - RING; k--) {
    const e = k & (RING - 1)
    const length = endCount[e]! - a
    if (length > 34) continue
    if (length < 15) break
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

const SPECS: Record<DetectorId, DetectorSpec> = {
  'aws-access-key-id': {
    description: 'AWS access key ids (AKIA…, ASIA…, 20 characters)',
    keywords: ['akia', 'asia', 'abia', 'acca', 'a3t'],
    patterns: [AWS_KEY],
    find: regexFind(AWS_KEY),
  },
  'github-token': {
    description: 'GitHub tokens: ghp_, gho_, ghu_, ghs_, ghr_ and fine-grained github_pat_',
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    patterns: [GITHUB],
    find: regexFind(GITHUB),
  },
  'slack-token': {
    description: 'Slack tokens: xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-, xoxo-, xapp-',
    keywords: ['xoxa-', 'xoxb-', 'xoxe-', 'xoxo-', 'xoxp-', 'xoxr-', 'xoxs-', 'xapp-'],
    patterns: [SLACK_TOKEN],
    find: regexFind(SLACK_TOKEN),
  },
  'slack-webhook': {
    description: 'Slack incoming-webhook and workflow URLs (hooks.slack.com/services/…)',
    keywords: ['hooks.slack.com'],
    patterns: [SLACK_WEBHOOK],
    find: regexFind(SLACK_WEBHOOK),
  },
  'stripe-key': {
    description: 'Stripe secret and restricted keys (sk_live_, sk_test_, rk_live_, rk_test_) and webhook secrets (whsec_)',
    keywords: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_', 'whsec_'],
    patterns: [STRIPE],
    find: regexFind(STRIPE),
  },
  'google-api-key': {
    description: 'Google API keys (AIza + 35 characters)',
    keywords: ['aiza'],
    patterns: [GOOGLE],
    find: regexFind(GOOGLE),
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
    find: regexFind(NPM),
  },
  'gitlab-token': {
    description: 'GitLab tokens (glpat-, gldt-, glrt-, glptt-, glft-, glcbt-, gloas-, glsoat-, glimt-, glagent-)',
    keywords: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glft-', 'glcbt-', 'gloas-', 'glsoat-', 'glimt-', 'glagent-'],
    patterns: [GITLAB],
    find: regexFind(GITLAB),
  },
  'pem-private-key': {
    description: 'PEM and OpenSSH private key blocks, BEGIN to END (to the end of the string when END is missing)',
    keywords: ['-----begin'],
    patterns: [PEM_BEGIN, PEM_END],
    find: findPemBlocks,
  },
  jwt: {
    description: 'JSON Web Tokens (eyJ….….…), and a token cut short at the end of the string',
    keywords: ['eyj'],
    patterns: [JWT],
    find: regexFind(JWT),
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
    description: 'Bearer and Basic credentials, scheme included',
    keywords: ['bearer', 'basic'],
    patterns: [AUTHORIZATION],
    find: findAuthorization,
  },
  'secret-assignment': {
    description: 'values assigned to sensitive key names in text: password=…, api_key: …, "token": "…"',
    keywords: 'sensitive-keys',
    patterns: [ASSIGNMENT_KEY, ASSIGNMENT_VALUE],
    find: findAssignments,
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
