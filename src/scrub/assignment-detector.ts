/*
 * The detectors that read a value after a name: secret-assignment (a value
 * assigned, compared or passed under a name that says it is secret),
 * connection-string-password, curl-credentials, netrc-password and
 * authorization-header. Hand-written scanners: the forms are many (`=`,
 * `:=`, `=>`, `@"…"`, a value on the next line, a value nested in
 * `{"$eq": …}`, a value before `== password`), and a regular expression
 * for all of them would need nested quantifiers. Each scanner reads forward
 * only, and every look ahead or back is bounded by a constant, so the scan
 * stays linear (the LINEAR-TIME RULE of detectors.ts). Internal to src/scrub.
 */
import { AhoCorasick, foldAsciiCase, type MatchSink } from './aho-corasick.js'
import { isPlaceholder, looksRandom } from './detector-checks.js'
import type { SensitiveKeyMatcher } from './sensitive-keys.js'
import { splitWords } from './sensitive-keys.js'

/*
 * A value is read to its natural end (a closing quote, the end of its line, a separator), however
 * long: a bound there would redact the first part of a long secret and leak the rest. The scan
 * stays linear because it resumes past every value it reads, looks back no further than the last
 * name or value it read, and keeps each far delimiter it searched for while it is ahead.
 */
const MAX_KEY = 64
const MAX_ELEMENTS = 16
const MAX_NESTING = 3

// Step 1: a key, optionally quoted (also as `\"key\"` inside a JSON string), optionally `$key`
// (PHP, Perl, shell). What follows it is read by hand. A key is at most 64 characters.
// A name starts a token, or follows the dashes of a command-line option (`--password=…`, `-token=…`).
export const ASSIGNMENT_KEY = /(?:(?<![A-Za-z0-9_.$-])|(?<=(?:^|[^A-Za-z0-9_.$-])--?))(\\?["'`]?)\$?([A-Za-z_][A-Za-z0-9_.-]{0,63})\1/g
// An XML element named like a secret: <password>…</password>.
export const ASSIGNMENT_TAG = /<([A-Za-z_][A-Za-z0-9_.:-]{0,63})>/g

/*
 * Last words that make a name about a secret rather than the secret itself:
 * `LLM_SECRET_NAME`, `secret_length`, `credentialsId`, `passwordLabel`,
 * `token_url`, `password_required`. English compounds put the head last, so
 * the last word decides. `session_id` stays a secret: a session id is the
 * session's bearer credential.
 */
const NOT_SECRET_HEADS = new Set([
  'name', 'names', 'id', 'ids', 'length', 'len', 'size', 'label', 'labels', 'type', 'types', 'path', 'paths', 'file', 'files',
  'filename', 'filepath', 'dir', 'directory', 'folder', 'url', 'urls', 'uri', 'endpoint', 'host', 'env', 'var', 'variable', 'field', 'fields',
  'prompt', 'hint', 'policy', 'policies', 'rotation', 'expiry', 'expires', 'expiration', 'expired', 'ttl', 'age', 'count', 'enabled',
  'disabled', 'required', 'changed', 'updated', 'created', 'reset', 'min', 'max', 'format', 'pattern', 'regex', 'strength',
  'version', 'provider', 'providers', 'manager', 'store', 'source', 'ref', 'arn', 'location', 'header', 'param', 'prefix', 'suffix',
  'mode', 'method', 'methods', 'timeout', 'lifetime', 'duration', 'flag', 'exists', 'valid', 'validation', 'validator', 'placeholder',
  'description', 'desc', 'title', 'help', 'message', 'msg', 'error', 'errors', 'status', 'state', 'kind', 'class', 'scope', 'scopes',
  'audience', 'issuer', 'algorithm', 'alg', 'usage', 'limit', 'retries', 'attempts', 'index', 'input', 'form', 'dialog', 'button',
  'link', 'page', 'view', 'screen', 'component', 'module', 'handler', 'callback', 'service', 'client', 'lookup', 'reference', 'refs',
  'generator', 'length', 'chars', 'policy', 'rules', 'rule', 'check', 'checker', 'hasher', 'encoder', 'decoder', 'parser', 'loader',
  'mount', 'volume', 'namespace', 'region', 'bucket', 'table', 'column', 'schema', 'template', 'count', 'counter', 'metric', 'metrics',
  'event', 'events', 'log', 'logs', 'level', 'date', 'time', 'timestamp', 'at', 'by', 'set', 'sets', 'list', 'map', 'config', 'settings',
  'option', 'options', 'enum', 'constant', 'const', 'visible', 'visibility', 'shown', 'show', 'hide', 'hidden', 'toggle', 'icon',
])

// Names that say "secret" only where text assigns them (`PASS=…`, `db_pass: …`, `mysql_pw=…`); as a
// structured key `pass` is more often a test count than a password, so they are not sensitive keys.
const TEXT_ONLY_NAMES = new Set(['pass', 'pw', 'pword', 'passwort', 'contrasena', 'contraseña', 'senha', 'motdepasse', 'secrete'])
/**
 * The keywords that start secret-assignment: the sensitive key names'
 * spellings (`api_key`, `api-key`, …), each name's stem (`credential` for
 * `credentials`: {@link keyNamesSecret} takes the singular too, so a text
 * naming only `credential=` must start it), and the words text uses for a
 * password.
 *
 * @example
 * ```ts
 * assignmentKeywords(new SensitiveKeyMatcher()).includes('credential') // true
 * ```
 */
export function assignmentKeywords(keys: SensitiveKeyMatcher): string[] {
  return [...new Set([...keys.spellings(), ...nameStems(keys)])]
}

// Each name without a trailing `s`, and the words text uses for a password: every name that
// keyNamesSecret accepts holds one of them in its letters and digits, lower-cased and joined.
function nameStems(keys: SensitiveKeyMatcher): string[] {
  return [...keys.names.map((name) => (name.endsWith('s') ? name.slice(0, -1) : name)), ...TEXT_ONLY_NAMES]
}
// The shell's working directories, not passwords.
const NOT_SECRET_KEYS = new Set(['pwd', 'oldpwd'])

/**
 * Whether a name in text names a secret value: a sensitive key name (see
 * `SensitiveKeyMatcher`) whose last word is not about the secret
 * (`passwordLabel`), or a name whose last word is one text uses for a
 * password (`PASS`, `db_pass`).
 *
 * @example
 * ```ts
 * keyNamesSecret('MYSQL_PWD', keys)       // true
 * keyNamesSecret('LLM_SECRET_NAME', keys) // false
 * ```
 */
export function keyNamesSecret(key: string, keys: SensitiveKeyMatcher): boolean {
  // Most keys name no secret: the matcher's own cache answers them, with no allocation here.
  if (!keys.matches(key) && !endsWithTextOnlyName(key)) return false
  let verdicts = verdictsByMatcher.get(keys)
  if (verdicts === undefined) verdictsByMatcher.set(keys, (verdicts = new Map<string, boolean>()))
  const cached = verdicts.get(key)
  if (cached !== undefined) return cached
  const verdict = decide(key, keys)
  if (key.length <= 64) {
    if (verdicts.size >= 4096) verdicts.clear()
    verdicts.set(key, verdict)
  }
  return verdict
}

// Keys repeat from string to string: each matcher (each policy's names) keeps its verdicts.
const verdictsByMatcher = new WeakMap<SensitiveKeyMatcher, Map<string, boolean>>()

function decide(key: string, keys: SensitiveKeyMatcher): boolean {
  const sensitive = keys.matches(key)
  if (!sensitive && !endsWithTextOnlyName(key)) return false
  const words = splitWords(key)
  if (words.length === 0) return false
  const last = words[words.length - 1]!
  if (words.length === 1 && NOT_SECRET_KEYS.has(last)) return false
  if (NOT_SECRET_HEADS.has(last) && !(last === 'id' && words[words.length - 2] === 'session')) return false
  return sensitive || TEXT_ONLY_NAMES.has(last)
}

// The last two characters of each name, lower-case, as one number: most keys are ruled out by a lookup, with nothing allocated.
const TEXT_ONLY_TAILS = new Set([...TEXT_ONLY_NAMES].map((name) => tailCode(name, name.length)))

function tailCode(key: string, n: number): number {
  return (lowerAscii(key.charCodeAt(n - 2)) << 16) | lowerAscii(key.charCodeAt(n - 1))
}

function lowerAscii(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c
}

function endsWithTextOnlyName(key: string): boolean {
  if (key.length < 2 || !TEXT_ONLY_TAILS.has(tailCode(key, key.length))) return false
  const lower = key.slice(-12).toLowerCase()
  for (const name of TEXT_ONLY_NAMES) if (lower.endsWith(name)) return true
  return false
}

function isQuoteOrEscape(c: number): boolean {
  return c === 34 || c === 39 || c === 96 || c === 92
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11
}

function skipBlanks(text: string, i: number, limit = 16): number {
  const stop = Math.min(text.length, i + limit)
  while (i < stop && isBlank(text.charCodeAt(i))) i++
  return i
}

/** A value found: `[start, end)` of what to redact, `next` where the scan resumes. */
interface Found {
  start: number
  end: number
  next: number
}

/*
 * The operators an assignment, a default or a comparison writes between a
 * name and its value, longest first: `:::=`, `::=`, `:=` (Go, make),
 * `=>` (Ruby, Perl, PHP), `?=`, `.=`, `+=`, `||=`, `??=`, `<-` (R), `->`,
 * `===`, `!==`, `==`, `!=`, `=`, `:`.
 */
const OPERATORS = [':::=', '::=', '??=', '||=', '===', '!==', ':=', '=>', '?=', '.=', '+=', '<-', '->', '==', '!=', '=', ':']

// The operators by their first character, longest first: a key costs one lookup, and most are followed by no operator.
const OPERATORS_BY_START = new Map<number, string[]>()
for (const op of OPERATORS) {
  const start = op.charCodeAt(0)
  const list = OPERATORS_BY_START.get(start) ?? []
  OPERATORS_BY_START.set(start, [...list, op])
}

function operatorAt(text: string, i: number): string | null {
  const candidates = OPERATORS_BY_START.get(text.charCodeAt(i))
  if (candidates === undefined) return null
  for (const op of candidates) if (text.startsWith(op, i)) return op
  return null
}

/**
 * Reads a quoted value at `i` (`"…"`, `'…'`, `` `…` ``, `\"…\"`, with an
 * optional `@` (Objective-C) or string prefix `r`, `b`, `u`, `f`), to its
 * closing quote or the end of its line (a backquoted one may span lines).
 * Returns the content's span, or null; null too when it runs past `limit`
 * characters (a quoted key is short).
 */
function readQuoted(text: string, i: number, limit = Infinity): Found | null {
  const n = text.length
  let at = i
  const c0 = text.charCodeAt(at)
  if (c0 === 64 /* @ */ || ((c0 | 32) === 114 || (c0 | 32) === 98 || (c0 | 32) === 117 || (c0 | 32) === 102)) {
    const next = text.charCodeAt(at + 1)
    if (next === 34 || next === 39) at++
  }
  let escaped = false
  if (text.charCodeAt(at) === 92 /* \ */ && (text.charCodeAt(at + 1) === 34 || text.charCodeAt(at + 1) === 39)) {
    escaped = true
    at++
  }
  const quote = text.charCodeAt(at)
  if (quote !== 34 && quote !== 39 && quote !== 96) return null
  const start = at + 1
  const stop = Math.min(n, start + limit)
  for (let j = start; j < stop; j++) {
    const c = text.charCodeAt(j)
    if ((c === 10 || c === 13) && quote !== 96) return { start, end: j, next: j }
    if (c === 92 /* \ */) {
      if (escaped && text.charCodeAt(j + 1) === quote) return { start, end: j, next: j + 2 }
      j++
      continue
    }
    if (c === quote && !escaped) return { start, end: j, next: j + 1 }
  }
  if (stop < n) return null
  // Never closed: the value runs to the end of the text, so none of it is kept.
  return { start, end: n, next: n }
}

// A bare value: to whitespace or a quote, and to `;` or `|`; a `,` or `&` ends it only before
// another `name=` (a list of pairs), and closing brackets the value did not open are not its own.
// A bracket it opens and never closes ends it where the brackets last balanced (`os.environ["T"]`
// is code, `$(dirname $0)/…` a placeholder); a value that opens one first and never closes it
// (`(x`, `[pw=hunter2`) is its whole run, so nothing in it is left, and the scan resumes past it
// (else every name inside the run would read it again, to its end).
function readBare(text: string, i: number): Found | null {
  const n = text.length
  // A slot with spaces in it is one value: `<your token here>`, `{{ .Values.pw }}`, `${{ secrets.T }}`.
  const slot = slotEnd(text, i)
  if (slot !== -1 && !continuesValue(text, slot)) return { start: i, end: slot, next: slot }
  let j = i
  let depth = 0
  let lastBalanced = i
  for (; j < n; j++) {
    const c = text.charCodeAt(j)
    if (isSpace(c) || c === 34 || c === 39 || c === 96 || c === 59 /* ; */) break
    if ((c === 44 /* , */ || c === 38 /* & */) && startsPair(text, j + 1)) break
    if (c === 60 /* < */ && text.charCodeAt(j + 1) === 47 /* / */) break
    if (c === 92 /* \ */ && isEscapedBreak(text.charCodeAt(j + 1))) break // an escaped newline or quote in a JSON string
    if (c === 40 || c === 91 || c === 123) depth++
    else if (c === 41 || c === 93 || c === 125) {
      if (depth === 0) break
      depth--
    }
    if (depth === 0) lastBalanced = j + 1
  }
  let end = depth === 0 || lastBalanced === i ? j : lastBalanced
  // A separator right after the value belongs to the text around it.
  while (end > i && (text.charCodeAt(end - 1) === 44 || text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 58)) end--
  if (end <= i) return null
  return { start: i, end, next: j }
}

// `n`, `r`, `t`, `"` or `'` after a backslash.
function isEscapedBreak(c: number): boolean {
  return c === 110 || c === 114 || c === 116 || c === 34 || c === 39
}

const SLOTS: readonly (readonly [string, string])[] = [
  ['${{', '}}'],
  ['{{', '}}'],
  ['<', '>'],
  ['[', ']'],
]

// Where a template slot opened at `i` closes (past its closer), on the same line within 128 characters; -1 if none.
function slotEnd(text: string, i: number): number {
  const c = text.charCodeAt(i)
  if (c !== 36 /* $ */ && c !== 123 /* { */ && c !== 60 /* < */ && c !== 91 /* [ */) return -1
  if (c === 36 && text.charCodeAt(i + 1) !== 123) return -1
  for (const [open, close] of SLOTS) {
    if (!text.startsWith(open, i)) continue
    const stop = Math.min(text.length, i + 128)
    for (let j = i + open.length; j < stop; j++) {
      const c = text.charCodeAt(j)
      if (c === 10 || c === 13) return -1
      if (text.startsWith(close, j)) return j + close.length
    }
    return -1
  }
  return -1
}

// Whether a `name=` or `name:` (a following pair) starts at `i`, after at most one blank.
function startsPair(text: string, i: number): boolean {
  let j = i
  if (isBlank(text.charCodeAt(j))) j++
  const start = j
  const first = text.charCodeAt(j)
  if (!((first >= 65 && first <= 90) || (first >= 97 && first <= 122) || first === 95)) return false
  while (j < text.length && j - start < 64 && (isWordChar(text.charCodeAt(j)) || text.charCodeAt(j) === 45 || text.charCodeAt(j) === 46)) j++
  const c = text.charCodeAt(j)
  return c === 61 || c === 58
}

// A scheme word before a credential: `Bearer abc`, `Api-Token abc`, `token abc`. Letters and dashes only.
const SCHEME = /^[A-Za-z][A-Za-z-]{1,23}$/
const SCHEME_WORDS = new Set([
  'bearer', 'basic', 'token', 'api-token', 'apitoken', 'api-key', 'apikey', 'key', 'digest', 'negotiate', 'ntlm', 'oauth', 'ssws',
  'splunk', 'deepl-auth-key', 'hmac', 'jwt', 'sso-key', 'klaviyo-api-key', 'gensdk', 'pat', 'secret',
])

/**
 * Reads the value that starts at `i` (after the operator and blanks), in
 * any of its forms, and reports what to redact. `depth` bounds nesting.
 * Returns where the scan goes on, or -1 when there was no value.
 */
function readValue(text: string, i: number, sink: MatchSink, rule: number, depth: number, multiword: boolean): number {
  const n = text.length
  if (i >= n) return -1
  const c = text.charCodeAt(i)
  // Nested: `{"$eq": "…"}`, `{ value: … }`: the first member's value is read (and any other member named like a secret by the outer scan).
  if (c === 123 /* { */ && depth < MAX_NESTING) {
    let j = skipBlanks(text, i + 1)
    const quoted = readQuoted(text, j, MAX_KEY + 2)
    let keyEnd: number
    if (quoted !== null) keyEnd = quoted.next
    else {
      const k = j
      while (j < n && j - k < 64 && (isWordChar(text.charCodeAt(j)) || text.charCodeAt(j) === 36 || text.charCodeAt(j) === 45)) j++
      keyEnd = j === k ? -1 : j
    }
    if (keyEnd !== -1) {
      j = skipBlanks(text, keyEnd)
      if (text.charCodeAt(j) === 58 /* : */ || text.startsWith('=>', j)) {
        j = skipBlanks(text, j + (text.charCodeAt(j) === 58 ? 1 : 2))
        const next = readValue(text, j, sink, rule, depth + 1, false)
        if (next !== -1) return next
      }
    }
  }
  // A list: `["a", "b"]`: every element.
  if (c === 91 /* [ */ && depth < MAX_NESTING) {
    let j = skipBlanks(text, i + 1)
    let any = false
    for (let k = 0; k < MAX_ELEMENTS && j < n; k++) {
      const next = readValue(text, j, sink, rule, depth + 1, false)
      if (next === -1) break
      any = true
      j = skipBlanks(text, next)
      if (text.charCodeAt(j) !== 44 /* , */) break
      j = skipBlanks(text, j + 1)
    }
    // `[x]hunter2`: characters glued to the closing bracket are the value going on, and all of it goes.
    if (any && text.charCodeAt(j) === 93 /* ] */ && continuesValue(text, j + 1)) return redactGlued(text, i, j + 1, sink, rule)
    if (any) return j
  }
  const quoted = readQuoted(text, i)
  if (quoted !== null) {
    // `"abc"def` is one word to a shell, and `"[x]"hunter2` leaves nothing behind either.
    if (quoted.next > quoted.end && continuesValue(text, quoted.next)) return redactGlued(text, quoted.start, quoted.next, sink, rule)
    const value = text.slice(quoted.start, quoted.end)
    if (!isPlaceholder(value, true) && !schemeOnlyPlaceholder(value) && !isCredentialFreeUrl(value)) sink.add(quoted.start, quoted.end, rule)
    return quoted.next
  }
  const bare = readBare(text, i)
  if (bare === null) return -1
  let end = bare.end
  let next = bare.next
  let value = text.slice(bare.start, end)
  // `Api-Token 22cb…`, `Bearer …`: the scheme and the credential after it, together.
  // Both forms start with a letter: most values (`$P`, `hunter2!`, digits) are ruled out by their first character.
  const letter = isAsciiLetter(value.charCodeAt(0))
  if (letter && text.charCodeAt(end) === 32 && SCHEME.test(value) && SCHEME_WORDS.has(value.toLowerCase())) {
    const credential = readBare(text, end + 1)
    // A scheme and nothing that could be a credential (`Basic ...`): an example.
    if (credential === null) return next
    {
      const token = text.slice(credential.start, credential.end)
      if (isPlaceholder(token, false)) return credential.next
      end = credential.end
      next = credential.next
      value = text.slice(bare.start, end)
    }
  } else if (letter && multiword && bare.end === bare.next && /^[A-Za-z]{1,24}$/.test(value) && !isPlaceholder(value, false)) {
    // An unquoted passphrase (`password = open sesame`): a first word of letters only, then the rest
    // of a short line holding no other assignment or quote. A first word with digits or symbols is a
    // whole token already (`password=hunter2 retrying`).
    const rest = restOfLine(text, bare.next)
    if (rest > bare.next) {
      end = rest
      next = rest
      value = text.slice(bare.start, end)
    }
  }
  if (!isPlaceholder(value, false) && !isCredentialFreeUrl(value)) sink.add(bare.start, end, rule)
  return next
}

// Whether a value character follows at `at`, glued to a closing quote or bracket: the value
// goes on (`"abc"def`, `[x]hunter2`) rather than ending there.
function continuesValue(text: string, at: number): boolean {
  if (at >= text.length) return false
  const c = text.charCodeAt(at)
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || GLUED_VALUE_PUNCTUATION.includes(text[at]!)
}

const GLUED_VALUE_PUNCTUATION = '!#$%*+-/=?@^_~'

// Redacts from `start` through the bare run that begins at `glued`: one value, never a part of one.
function redactGlued(text: string, start: number, glued: number, sink: MatchSink, rule: number): number {
  const rest = readBare(text, glued)
  const end = rest === null ? glued : rest.end
  sink.add(start, end, rule)
  return rest === null ? glued : rest.next
}

// `scheme://host[:port][/path]` and nothing else: no userinfo, query or fragment.
const PLAIN_URL = /^[A-Za-z][A-Za-z0-9+.-]{1,20}:\/\/[A-Za-z0-9.:[\]_-]{1,255}(?:\/[A-Za-z0-9._~%/-]{0,1024})?$/

/**
 * Whether a value is a URL that carries no credential: no userinfo (url-credentials reads that), no
 * query or fragment (a `token=` there is an assignment of its own), and no path segment that looks
 * random (a capability URL: `/hooks/8f3kQ…`). `MONGO_NO_AUTH = "mongodb://localhost:27017/db"`
 * names an address, not a secret.
 */
function isCredentialFreeUrl(value: string): boolean {
  if (value.length > 1300 || !PLAIN_URL.test(value)) return false
  const authority = value.indexOf('://') + 3
  const path = value.indexOf('/', authority)
  if (path === -1) return true
  for (const segment of value.slice(path + 1).split('/')) {
    if (segment.length >= 16 && looksRandom(segment, 0, segment.length, 3.5)) return false
  }
  return true
}

// `Bearer XXXX`, `Token ${T}` inside quotes: a scheme, a space and a placeholder.
function schemeOnlyPlaceholder(value: string): boolean {
  const space = value.indexOf(' ')
  if (space === -1) return false
  const scheme = value.slice(0, space)
  return SCHEME_WORDS.has(scheme.toLowerCase()) && isPlaceholder(value.slice(space + 1).trim(), false)
}

const MAX_REST = 80

// The end of a bare value's line when what follows the first word is words only (at most 80
// characters, no `=`, `:`, quote or bracket): `open sesame`, `correct horse battery staple`.
function restOfLine(text: string, from: number): number {
  const n = text.length
  const stop = Math.min(n, from + MAX_REST + 1)
  let last = from
  let words = 0
  for (let j = from; j < stop; j++) {
    const c = text.charCodeAt(j)
    if (c === 10 || c === 13) return words === 0 ? from : last
    if (c === 61 || c === 58 || c === 34 || c === 39 || c === 96 || c === 59 || c === 44 || c === 38 || c === 123 || c === 125 || c === 60 || c === 62 || c === 92 || c === 91 || c === 93 || c === 35 || c === 40 || c === 41) return from
    if (!isBlank(c)) {
      // Words of letters only: `--feature color` or `/path` is a command line going on, not a passphrase.
      if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return from
      if (isBlank(text.charCodeAt(j - 1))) words++
      last = j + 1
    }
  }
  return stop === n && words > 0 && words <= 5 ? last : from
}

/**
 * secret-assignment. For each name in the text that names a secret (see
 * {@link keyNamesSecret}), reads the value it is given, whatever the
 * language writes between them: `=`, `:`, `:=`, `::=`, `?=`, `.=`, `=>`,
 * `<-`, `==` and `!=` (a comparison is as telling), a type (`var token
 * string = "…"`, `token: String = "…"`), a subscript (`secret[] = "…"`), a
 * call (`secret("…")`, `setProperty("TOKEN", "…")`), or nothing before a
 * quoted value (`password "…"`). The value may be quoted in any style, bare
 * (with spaces to the end of a short line), on the next line, nested one to
 * three levels (`{"$eq": "…"}`, `["…", "…"]`), or written before the name
 * (`"…" == password`). Placeholders and variables are left whole.
 */
export function findAssignments(text: string, sink: MatchSink, rule: number, keys: SensitiveKeyMatcher): void {
  const stems = stemsOf(keys)
  const re = ASSIGNMENT_KEY
  re.lastIndex = 0
  // Nothing before `floor` is read again: the end of the last value found.
  let floor = 0
  // After a name that names no secret, the scan goes on from the next stem (see stemsOf): the
  // names between, most of a text that merely mentions a secret word, are never read. After a
  // value it reads the next name as it comes (in `a=…; password=…` that is usually the next key).
  let skip = false
  for (;;) {
    if (skip && stems !== null) {
      const hit = stems.firstEnd(text, re.lastIndex, NAME_SEPARATORS)
      if (hit === -1) break
      const from = nameStartBefore(text, hit, re.lastIndex)
      if (from > re.lastIndex) re.lastIndex = from
    }
    const m = re.exec(text)
    if (m === null) break
    const key = m[2]!
    skip = !keyNamesSecret(key, keys)
    if (skip) continue
    const keyEnd = re.lastIndex
    const quotedKey = m[1] !== ''
    valueBefore(text, m.index, floor, sink, rule)
    // Never look back past this key again, found or not: each character is looked back over once.
    floor = Math.max(floor, m.index)
    const next = readAfterKey(text, keyEnd, quotedKey && openedCall(text, m.index), sink, rule)
    if (next !== -1) {
      floor = Math.max(floor, next)
      if (next > re.lastIndex) re.lastIndex = next
    }
  }
  findTags(text, sink, rule, keys)
}

/*
 * Where a name may name a secret. keyNamesSecret holds only for a name whose letters and digits,
 * lower-cased and joined (`_`, `-` and `.` left out), hold the stem of a sensitive key name (the
 * name without a trailing `s`) or a word text uses for a password: one automaton over those, with
 * `_`, `-` and `.` passed over, finds the next such stem. Per matcher (each policy's names); null
 * when a stem is empty (a name `s`), which every name holds: then every name is read.
 */
const NAME_SEPARATORS = new Uint8Array(128)
for (const c of '_-.') NAME_SEPARATORS[c.charCodeAt(0)] = 1

const stemsByMatcher = new WeakMap<SensitiveKeyMatcher, AhoCorasick | null>()

function stemsOf(keys: SensitiveKeyMatcher): AhoCorasick | null {
  let stems = stemsByMatcher.get(keys)
  if (stems === undefined) {
    const words = nameStems(keys)
    stems = words.includes('') ? null : AhoCorasick.build(words.map((text) => ({ text, tag: 1 })), foldAsciiCase)
    stemsByMatcher.set(keys, stems)
  }
  return stems
}

function isNameChar(c: number): boolean {
  return isWordChar(c) || c === 45 || c === 46
}

/*
 * Where to look for the name holding the stem that ends at `end`: the start of its run of name
 * characters, less the quote, backslash and `$` that may open a name, and never before `floor`
 * (the scan's position). A name is at most 64 characters after at most two dashes, so the run is
 * looked back over no further than that: a longer run holds no name there, and the scan is sent
 * to the stem's end. Each look back is bounded by a constant.
 */
function nameStartBefore(text: string, end: number, floor: number): number {
  const limit = Math.max(floor, end - MAX_KEY - 2)
  let i = end - 1
  while (i > limit && isNameChar(text.charCodeAt(i - 1))) i--
  if (i === limit && i > floor && isNameChar(text.charCodeAt(i - 1))) return end
  for (let k = 0; k < 3 && i > floor; k++) {
    const c = text.charCodeAt(i - 1)
    if (c !== 36 /* $ */ && !isQuoteOrEscape(c)) break
    i--
  }
  return i
}

// Whether the quoted name at `keyStart` is a call's first argument: `setProperty("TOKEN", …)`.
function openedCall(text: string, keyStart: number): boolean {
  let i = keyStart
  while (i > 0 && keyStart - i < 8 && isBlank(text.charCodeAt(i - 1))) i--
  return text.charCodeAt(i - 1) === 40 /* ( */
}

// A string type between a name and its `=`: Go, Kotlin, Swift, TypeScript, Rust, C, Objective-C.
// Sticky, and tried only where a type can start (see TYPE_STARTS): read in place, nothing sliced.
const TYPED = /(?::[ \t]{0,4})?(?:string|String|str|&str|&'static str|\[\]byte|CharSequence|NSString \*|char \*|const char \*|SecureString)[ \t]{1,4}=(?!=)/y
const TYPE_STARTS = new Set([...':s&[CNcS'].map((c) => c.charCodeAt(0)))

// Reads what follows a key; returns where the scan resumes, or -1 when nothing was read.
function readAfterKey(text: string, keyEnd: number, callArgument: boolean, sink: MatchSink, rule: number): number {
  const n = text.length
  let i = keyEnd
  // A quoted key in a subscript: `$config['db_password'] = …`, `os.environ["TOKEN"] = …`.
  if (text.charCodeAt(i) === 93 /* ] */ && (text.charCodeAt(keyEnd - 1) === 39 || text.charCodeAt(keyEnd - 1) === 34)) i++
  // A subscript: `secret[]`, `secrete[25]`.
  if (text.charCodeAt(i) === 91 /* [ */) {
    const close = text.indexOf(']', i)
    if (close !== -1 && close - i <= 8) i = close + 1
  }
  // A call: `secret("…")`, `secret.assign("…", 17)`.
  if (text.charCodeAt(i) === 40 /* ( */ || (text.startsWith('.assign(', i) && (i += 7) > 0)) {
    const j = skipBlanks(text, i + 1)
    const quoted = readQuoted(text, j)
    if (quoted === null) return -1
    const value = text.slice(quoted.start, quoted.end)
    if (!isPlaceholder(value, true)) sink.add(quoted.start, quoted.end, rule)
    return quoted.next
  }
  let j = skipBlanks(text, i, 8)
  const blanks = j > i
  // A type between the name and `=`: `var token string = "…"`, `token: String = "…"`, `char *secret = "…"`.
  const first = text.charCodeAt(j)
  if (TYPE_STARTS.has(first)) {
    TYPED.lastIndex = j
    if (TYPED.test(text)) j = TYPED.lastIndex - 1
  }
  let op = operatorAt(text, j)
  // `setProperty("TOKEN", "…")`, `put("password", "…")`: a quoted name, a comma, the value.
  if (op === null && callArgument && text.charCodeAt(j) === 44 /* , */) op = ','
  if (op === null) {
    // No operator: only a quoted value right after blanks counts (`password "…";`).
    if (!blanks || text.charCodeAt(j) === 96) return -1
    const quoted = readQuoted(text, j)
    if (quoted === null) return -1
    const value = text.slice(quoted.start, quoted.end)
    if (!isPlaceholder(value, true)) sink.add(quoted.start, quoted.end, rule)
    return quoted.next
  }
  // `password: string;` in a type, `key -> value` in a map are still assignments; `a::b` is not.
  if (op === ':' && text.charCodeAt(j + 1) === 58) return -1
  j = skipBlanks(text, j + op.length, 8)
  // The value on the next line: `password:\n  hunter2`, `<password>\n  hunter2`.
  if (j < n && (text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13)) {
    if (op !== ':' && op !== '=') return -1
    j += text.startsWith('\r\n', j) ? 2 : 1
    j = skipBlanks(text, j, 16)
    const token = readBare(text, j)
    // A line that is itself `name:` or `name =` is the next key, not this one's value.
    if (token !== null && (text.charCodeAt(token.end) === 58 || text.charCodeAt(skipBlanks(text, token.next)) === 61)) return -1
    // So is `NEXT_KEY=` or `next.key=value` (an env or properties file whose value above was empty).
    if (token !== null && NEXT_ASSIGNMENT.test(text.slice(token.start, token.end))) return -1
    if (text.charCodeAt(j) === 45 /* - */ && isBlank(text.charCodeAt(j + 1))) j = skipBlanks(text, j + 1)
  }
  return readValue(text, j, sink, rule, 0, op === '=' || op === ':' || op === ':=' || op === '=>')
}

// A name with a separator in it (`API_KEY`, `jdbc.url`), then `=`: base64 padding (`c2VjcmV0cw=`) has no separator.
const NEXT_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9]{0,63}[_.][A-Za-z0-9_.-]{0,63}=/

// `"…" == password`, `if ("…" !== my_password)`: a quoted value before a comparison, on the same
// line. The look back stops at `floor` (the last secret name or value read), so no character is
// looked back over twice, and a long value is found whole.
function valueBefore(text: string, keyStart: number, floor: number, sink: MatchSink, rule: number): boolean {
  let i = keyStart
  while (i > floor && isBlank(text.charCodeAt(i - 1)) && keyStart - i < 8) i--
  let opStart = i
  while (opStart > floor && i - opStart < 3 && (text.charCodeAt(opStart - 1) === 61 || text.charCodeAt(opStart - 1) === 33)) opStart--
  if (i - opStart < 2) return false
  const op = text.slice(opStart, i)
  if (op !== '==' && op !== '===' && op !== '!=' && op !== '!==') return false
  let close = opStart
  while (close > floor && isBlank(text.charCodeAt(close - 1)) && opStart - close < 8) close--
  const quote = text.charCodeAt(close - 1)
  if (quote !== 34 && quote !== 39) return false
  for (let j = close - 2; j >= floor; j--) {
    const c = text.charCodeAt(j)
    if (c === 10 || c === 13) return false
    if (c === quote && text.charCodeAt(j - 1) !== 92) {
      const value = text.slice(j + 1, close - 1)
      if (!isPlaceholder(value, true)) sink.add(j + 1, close - 1, rule)
      return true
    }
  }
  return false
}

// `<password>hunter2</password>`, the value possibly on its own line, however long. The next `</`
// is found once and kept while ahead: many open tags before one far `</` cost one search.
function findTags(text: string, sink: MatchSink, rule: number, keys: SensitiveKeyMatcher): void {
  let close = text.indexOf('</')
  if (close === -1) return
  const re = ASSIGNMENT_TAG
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    const name = m[1]!
    if (!keyNamesSecret(name.slice(name.lastIndexOf(':') + 1), keys)) continue
    const start = re.lastIndex
    if (close < start) close = text.indexOf('</', start)
    if (close === -1) return
    if (!text.startsWith(name, close + 2)) continue
    let a = start
    let b = close
    while (a < b && isSpace(text.charCodeAt(a))) a++
    while (b > a && isSpace(text.charCodeAt(b - 1))) b--
    if (b > a && !isPlaceholder(text.slice(a, b), true)) sink.add(a, b, rule)
    re.lastIndex = close
  }
}

// connection-string-password: `Password=…;`, `Pwd=…` in ODBC, ADO.NET and JDBC-style strings. The
// value runs to `;` (it may hold spaces and `=`), or is braced `{…}` or quoted.
export const CONNECTION_PASSWORD = /p(?<![A-Za-z0-9_]p)(?:assword|wd|asswd)[ \t]{0,4}=[ \t]{0,4}/gi
// What ends a bare value: the `;` it needs after it, or a line end or a quote, which it cannot hold.
const BARE_VALUE_STOPS = [';', '\n', '\r', '"', "'"]

/**
 * connection-string-password: the value of `Password=` or `Pwd=` in a
 * `name=value;` string, up to its `;` (or its closing brace or quote),
 * however long, so a password with spaces or `=` in it goes whole. Needs a
 * `;`: right after the value, or shortly before the name; text with no `;`
 * around is an assignment, secret-assignment's business. Every delimiter
 * is found by a native search and kept while it is ahead, so names far from
 * any delimiter cost no read to it, and each value read is passed over.
 */
export function findConnectionPasswords(text: string, sink: MatchSink, rule: number): void {
  const n = text.length
  let semicolon = text.indexOf(';')
  if (semicolon === -1) return
  const re = CONNECTION_PASSWORD
  re.lastIndex = 0
  // The next position of each BARE_VALUE_STOPS character (n: none left), at or after the last value read.
  const stops = [-1, -1, -1, -1, -1]
  // Where the braced value read last closed (n: never), valid for every later start before it (see closingBrace).
  let braceClose = -1
  // The last `;` before the name; `semicolon` is the first at or after it.
  let lastSemicolon = -1
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    while (semicolon !== -1 && semicolon < m.index) {
      lastSemicolon = semicolon
      semicolon = text.indexOf(';', semicolon + 1)
    }
    const namedNear = lastSemicolon !== -1 && m.index - lastSemicolon <= 200
    if (!namedNear && semicolon === -1) return
    const i = re.lastIndex
    const c = text.charCodeAt(i)
    let start = i
    let end: number
    let after: number // where the value's closing brace or quote ends
    if (c === 123 /* { */) {
      start = i + 1
      if (braceClose < start) braceClose = closingBrace(text, start)
      end = braceClose
      after = end + 1
    } else if (c === 34 || c === 39) {
      const quoted = readQuoted(text, i)!
      start = quoted.start
      end = quoted.end
      after = quoted.next
    } else {
      end = n
      for (let k = 0; k < stops.length; k++) {
        if (stops[k]! < i) {
          const at = text.indexOf(BARE_VALUE_STOPS[k]!, i)
          stops[k] = at === -1 ? n : at
        }
        if (stops[k]! < end) end = stops[k]!
      }
      after = end
      while (end > start && isBlank(text.charCodeAt(end - 1))) end--
    }
    // Only a `;` after the value, or one shortly before the name, marks a connection string.
    if (text.charCodeAt(skipBlanks(text, after)) !== 59 && !namedNear) continue
    if (end > start && !isPlaceholder(text.slice(start, end), false)) sink.add(start, end, rule)
    re.lastIndex = Math.max(re.lastIndex, end)
  }
}

/*
 * Where the ODBC braced value starting at `start` (after its `{`) closes: at the first `}` not
 * part of an escaped `}}`, that is, at the last `}` of the first run of an odd number of them; the
 * end of the text if none. The answer is the same from every start before it that follows a `{`
 * (such a start never falls inside a run of `}`), so it is kept for the next names.
 */
function closingBrace(text: string, start: number): number {
  for (let at = text.indexOf('}', start); at !== -1; at = text.indexOf('}', at)) {
    let run = at
    while (text.charCodeAt(run) === 125) run++
    if ((run - at) % 2 === 1) return run - 1
    at = run
  }
  return text.length
}

// curl-credentials: `curl … -u user:pass`, `--user=…`, in any quoting, on the command's line or a
// continuation line (`\` at the end). The whole credential goes: the user of an API is often its key.
export const CURL = /(?<![A-Za-z0-9_-])curl(?![A-Za-z0-9_-])/gi
const CURL_USER = /(?:^|[ \t\n\r])(?:-u|--user)(?:=|[ \t]{0,5})/y
const MAX_COMMAND = 4096

/**
 * curl-credentials: the argument of `-u`/`--user` in a curl command (the
 * command runs to the first line end not escaped by `\`, at most 4,096
 * characters). Left alone when the password part is a placeholder or a
 * variable (`$PASS`, `${{ secrets.P }}`, `$(cat f)`, `<password>`), or when
 * there is no password at all (`-u "myusername"`: curl prompts).
 */
export function findCurlCredentials(text: string, sink: MatchSink, rule: number): void {
  const re = CURL
  re.lastIndex = 0
  while (re.exec(text) !== null) {
    const stop = commandEnd(text, re.lastIndex)
    // A command cut by the length bound, not by its line's end: an argument read there goes on to
    // its own end, so a credential straddling the bound is redacted whole.
    const wordStop = stop < text.length && text.charCodeAt(stop) !== 10 ? text.length : stop
    let resume = stop
    for (let i = re.lastIndex; i < stop; i++) {
      const c = text.charCodeAt(i)
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) continue
      const opt = CURL_USER
      opt.lastIndex = i
      if (!opt.test(text)) continue
      const arg = readShellWord(text, opt.lastIndex, wordStop)
      if (arg !== null && curlCredential(arg.value)) sink.add(arg.start, arg.end, rule)
      i = arg === null ? opt.lastIndex : arg.end
      resume = Math.max(resume, i)
    }
    re.lastIndex = Math.max(re.lastIndex, resume)
  }
}

function commandEnd(text: string, from: number): number {
  const stop = Math.min(text.length, from + MAX_COMMAND)
  for (let i = from; i < stop; i++) {
    const c = text.charCodeAt(i)
    if (c === 10 && text.charCodeAt(i - 1) !== 92 && !(text.charCodeAt(i - 1) === 13 && text.charCodeAt(i - 2) === 92)) return i
  }
  return stop
}

// A shell word: quoted and bare parts up to unquoted whitespace. `value` is it unquoted.
function readShellWord(text: string, i: number, stop: number): { start: number; end: number; value: string } | null {
  let j = i
  let value = ''
  while (j < stop) {
    const c = text.charCodeAt(j)
    if (c === 34 || c === 39) {
      const close = text.indexOf(text[j]!, j + 1)
      if (close === -1 || close >= stop) return null
      value += text.slice(j + 1, close)
      j = close + 1
    } else if (isSpace(c)) break
    else {
      value += text[j]
      j++
    }
  }
  return j === i ? null : { start: i, end: j, value }
}

function curlCredential(arg: string): boolean {
  const colon = arg.indexOf(':')
  if (colon === -1) return false
  const user = arg.slice(0, colon)
  const password = arg.slice(colon + 1)
  if (password === '') return user !== '' && !isPlaceholder(user, true, true) && user.length >= 8
  if (isPlaceholder(password, false, true)) return false
  // `user:pass`, `xxx:yyy`, `test:test`: both halves the same word, or both placeholders.
  return !(user === password && user.length < 8)
}

function wordAt(text: string, start: number, end: number, word: string): boolean {
  return end - start === word.length && text.startsWith(word, start)
}

// netrc-password: `machine <host> login <user> password <secret>` (or `default …`), across lines.
export const NETRC = /(?<![A-Za-z0-9_-])(?:machine[ \t\r\n]{1,16}[^\s]{1,253}|default)(?![A-Za-z0-9_-])/g
const NETRC_TOKENS = 8

/**
 * netrc-password: the `password` token's value among the next few tokens
 * after `machine <host>` (also `account`, which .netrc uses for a second
 * secret). A `login` must come too, so prose with "machine" in it is not
 * read as a .netrc.
 */
export function findNetrcPasswords(text: string, sink: MatchSink, rule: number): void {
  const re = NETRC
  re.lastIndex = 0
  while (re.exec(text) !== null) {
    let i = re.lastIndex
    let login = false
    let resume = re.lastIndex
    const found: [number, number][] = []
    for (let t = 0; t < NETRC_TOKENS; t++) {
      while (i < text.length && isSpace(text.charCodeAt(i)) && i - re.lastIndex < 256) i++
      const start = i
      while (i < text.length && !isSpace(text.charCodeAt(i)) && i - start < 256) i++
      if (i === start) break
      // Words are compared in place: most entries read are near misses, and a slice per word was most of their cost.
      if (wordAt(text, start, i, 'machine') || wordAt(text, start, i, 'default')) {
        i = start // the next entry: read it from its own name
        break
      }
      if (wordAt(text, start, i, 'login')) login = true
      if (wordAt(text, start, i, 'password') || wordAt(text, start, i, 'account')) {
        while (i < text.length && isBlank(text.charCodeAt(i)) && i - start < 300) i++
        const vs = i
        // A quote or backslash ends it too: the .netrc is usually quoted or escaped in a log line.
        // However long, it goes whole; the scan resumes past it.
        while (i < text.length && !isSpace(text.charCodeAt(i)) && !isQuoteOrEscape(text.charCodeAt(i))) i++
        if (i > vs) found.push([vs, i])
        resume = i
        t++
      }
    }
    if (login) for (const [a, b] of found) if (!isPlaceholder(text.slice(a, b), false)) sink.add(a, b, rule)
    // Go on after the last value read, not after the tokens looked at: the next entry may be among them.
    re.lastIndex = resume
  }
}
