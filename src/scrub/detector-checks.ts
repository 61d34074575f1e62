/*
 * The checks detectors run on a candidate before they report it: validity
 * checks for formats that carry one (checksums, JSON that parses), and
 * entropy and placeholder gates for formats that carry none. Internal to
 * src/scrub. Every check reads its candidate once (linear in its length),
 * and candidates are bounded by the detectors that call them.
 */

/**
 * Shannon entropy of `text[start, end)` in bits per character.
 *
 * @example
 * ```ts
 * entropy('aaaaaaaa', 0, 8)          // 0
 * entropy('wJalrXUtnFEMI/K7MDENG', 0, 21) // about 4.1
 * ```
 */
export function entropy(text: string, start = 0, end = text.length): number {
  const n = end - start
  if (n <= 0) return 0
  const counts = new Map<number, number>()
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  let bits = 0
  for (const count of counts.values()) {
    const p = count / n
    bits -= p * Math.log2(p)
  }
  return bits
}

/**
 * Whether `text[start, end)` looks machine-made rather than typed: entropy
 * at least `minBits` per character, and no character making up half of it.
 * The gate of formats that have no checksum: it turns away
 * `AKIAXXXXXXXXXXXXXXXX`, `xoxb-0000000000-…` and `aaaa…` placeholders while
 * passing random keys (which, over 20 or more base62 characters, carry well
 * over 3.5 bits per character).
 *
 * @example
 * ```ts
 * looksRandom('bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 0, 40, 3) // false
 * looksRandom('bP88Q~rcBcYjzzOhg1Hnn76Wm3jGgakZiZ.8vMgR', 0, 40, 3) // true
 * ```
 */
export function looksRandom(text: string, start: number, end: number, minBits: number): boolean {
  const n = end - start
  if (n <= 0) return false
  const counts = new Map<number, number>()
  let most = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    const count = (counts.get(c) ?? 0) + 1
    counts.set(c, count)
    if (count > most) most = count
  }
  if (most * 2 > n) return false
  let bits = 0
  for (const count of counts.values()) {
    const p = count / n
    bits -= p * Math.log2(p)
  }
  return bits >= minBits
}

/**
 * Whether the base64url text decodes to a JSON object (the header and the
 * payload of a JWT). Standard base64's `+` and `/` are refused: a JWT uses
 * the URL alphabet, so text with them is something else.
 *
 * @example
 * ```ts
 * isBase64UrlJsonObject('eyJhbGciOiJIUzI1NiJ9') // true: {"alg":"HS256"}
 * isBase64UrlJsonObject('eyJ0eXAiOiJhIn0x')     // false: trailing garbage
 * ```
 */
export function isBase64UrlJsonObject(part: string): boolean {
  if (part.length < 4 || !/^[A-Za-z0-9_-]+$/.test(part) || part.length % 4 === 1) return false
  let decoded: string
  try {
    decoded = Buffer.from(part, 'base64url').toString('utf8')
  } catch {
    return false
  }
  if (decoded.charCodeAt(0) !== 123 /* { */) return false
  try {
    const value: unknown = JSON.parse(decoded)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

/**
 * Whether base64url text decodes to the start of a JSON object: `{"` then
 * printable text. For a token cut short, whose end is missing.
 *
 * @example
 * ```ts
 * startsLikeJsonObject('eyJzdWIiOiIxMjM0') // true: {"sub":"1234
 * ```
 */
export function startsLikeJsonObject(part: string): boolean {
  if (part.length < 3) return part === '' || part === 'e' || part === 'ey' || part === 'eyJ'
  const whole = part.length - (part.length % 4)
  const decoded = Buffer.from(part.slice(0, Math.max(whole, 4)), 'base64url').toString('latin1')
  if (!decoded.startsWith('{"') && !decoded.startsWith('{ ') && !decoded.startsWith('{\n')) return false
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i)
    if (c < 32 && c !== 9 && c !== 10 && c !== 13) return false
  }
  return true
}

let crcTable: Uint32Array | null = null

/**
 * CRC-32 (IEEE 802.3, as zlib computes it) of an ASCII string: the checksum
 * GitHub and npm tokens carry. A checksum, not cryptography: it detects
 * typos and random strings, it authenticates nothing.
 *
 * @example
 * ```ts
 * crc32('123456789') // 0xcbf43926
 * ```
 */
export function crc32(ascii: string): number {
  let table = crcTable
  if (table === null) {
    table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      table[n] = c >>> 0
    }
    crcTable = table
  }
  let crc = 0xffffffff
  for (let i = 0; i < ascii.length; i++) crc = table[(crc ^ ascii.charCodeAt(i)) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/**
 * `value` in base62 (digits, then upper, then lower case), left-padded with
 * `0` to `width`: how GitHub and npm tokens write their checksum.
 *
 * @example
 * ```ts
 * base62(61, 2) // '0z'
 * ```
 */
export function base62(value: number, width: number): string {
  let out = ''
  let v = value
  while (v > 0) {
    out = BASE62[v % 62]! + out
    v = Math.floor(v / 62)
  }
  return out.padStart(width, '0')
}

/**
 * Whether a GitHub classic or npm token (`prefix_` + 30 random base62
 * characters + 6 checksum characters) carries its valid checksum: the
 * base62 CRC-32 of the random part.
 *
 * @example
 * ```ts
 * tokenChecksumValid('ghp_' + random30 + base62(crc32(random30), 6), 4) // true
 * ```
 */
export function tokenChecksumValid(token: string, prefixLength: number): boolean {
  if (token.length !== prefixLength + 36) return false
  const random = token.slice(prefixLength, prefixLength + 30)
  return base62(crc32(random), 6) === token.slice(prefixLength + 30)
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const BECH32_GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

function bech32Polymod(hrp: string, data: readonly number[]): number {
  let checksum = 1
  const step = (value: number): void => {
    const top = checksum >>> 25
    checksum = ((checksum & 0x1ffffff) << 5) ^ value
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) checksum ^= BECH32_GENERATORS[i]!
  }
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) >>> 5)
  step(0)
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) & 31)
  for (const value of data) step(value)
  return checksum
}

/**
 * Appends the Bech32 checksum (six characters) to `data`, Bech32 characters
 * after `hrp` and `1`; lower case. For making canaries and test keys.
 *
 * @example
 * ```ts
 * bech32Valid(bech32WithChecksum('a', '')) // true
 * ```
 */
export function bech32WithChecksum(hrp: string, data: string): string {
  const lower = hrp.toLowerCase()
  const values = [...data.toLowerCase()].map((c) => BECH32_CHARSET.indexOf(c))
  const mod = bech32Polymod(lower, [...values, 0, 0, 0, 0, 0, 0]) ^ 1
  let checksum = ''
  for (let i = 0; i < 6; i++) checksum += BECH32_CHARSET[(mod >>> (5 * (5 - i))) & 31]
  return `${lower}1${data.toLowerCase()}${checksum}`
}

/**
 * Whether `text` is a valid Bech32 string (BIP 173): one case throughout, a
 * human-readable part, `1`, then data whose last six characters are its
 * checksum. age secret keys are Bech32 (`AGE-SECRET-KEY-1…`).
 *
 * @example
 * ```ts
 * bech32Valid('A12UEL5L') // true, BIP 173's first test vector
 * ```
 */
export function bech32Valid(text: string): boolean {
  const lower = text.toLowerCase()
  if (lower !== text && text.toUpperCase() !== text) return false
  const separator = lower.lastIndexOf('1')
  if (separator < 1 || separator + 7 > lower.length || lower.length > 120) return false
  const values: number[] = []
  for (let i = separator + 1; i < lower.length; i++) {
    const value = BECH32_CHARSET.indexOf(lower[i]!)
    if (value === -1) return false
    values.push(value)
  }
  const checksum = bech32Polymod(lower.slice(0, separator), values)
  return checksum === 1
}

// Whole values that name no secret: types, null-ish words, and what documentation writes where a
// value goes. Compared lower-cased, without separators.
const PLACEHOLDER_WORDS = new Set([
  'null', 'none', 'nil', 'undefined', 'true', 'false', 'empty', 'unset', 'notset', 'na', 'tbd', 'todo',
  'string', 'str', 'int', 'integer', 'number', 'bool', 'boolean', 'any', 'object', 'bytes', 'char', 'optional', 'required',
  'placeholder', 'redacted', 'hidden', 'masked', 'removed', 'omitted', 'filtered',
  'dummy', 'fake', 'example', 'sample', 'yourpassword', 'yourtoken', 'yourapikey', 'yoursecret', 'yourkey',
  'passwordhere', 'tokenhere', 'keyhere',
])
// Words that are a placeholder in a command line's example (`curl -u user:pass`) yet may well be
// the real password in a configuration (`Password=secret;`, `password: changeme`): only the
// callers that read examples pass `exampleWords`.
const EXAMPLE_WORDS = new Set([
  'password', 'passwd', 'pass', 'pwd', 'secret', 'token', 'apikey', 'key', 'credentials', 'credential', 'test', 'user', 'username',
  'changeme', 'changeit', 'mypassword', 'mysecret', 'mytoken', 'myapikey', 'secretvalue', 'tokenvalue',
])

// Identifiers code reads a secret through, unquoted: `password = env.DB_PASSWORD`, `token: os.environ["T"]`.
const CODE_ROOTS = new Set([
  'env', 'environ', 'process', 'os', 'config', 'conf', 'cfg', 'settings', 'self', 'this', 'args', 'argv', 'params', 'options', 'opts',
  'request', 'req', 'secrets', 'vars', 'values', 'props', 'credentials', 'creds', 'import', 'system', 'context', 'ctx', 'input', 'inputs',
  'vault', 'keyring', 'getenv', 'std', 'runtime', 'app', 'data', 'form', 'body', 'user', 'session', 'auth', 'payload', 'cmd', 'matches',
])

/**
 * Whether an assigned value is a placeholder or a variable rather than a
 * secret, so the detectors that read values after a key (assignments,
 * Authorization schemes, curl, connection strings, .netrc) leave it whole:
 * never half-redacted, never mangled (`${NPM_TOKEN}` stays `${NPM_TOKEN}`).
 *
 * A placeholder is: no letter or digit at all (`***`, `...`); one
 * character repeated, or only `x`, `*`, `#` and separators (`XXXXXXXX`,
 * `xxxx-xxxx`); a reference to a variable or a template slot, whole
 * (`$API_KEY`, `${NPM_TOKEN}`, `$(cat f)`, `{{ .Values.pw }}`, `%DB_PW%`,
 * `%(password)s`, `<your token>`, `[PASSWORD]`, `{0}`, `@db.password@`,
 * `#{pw}`); a word documentation writes in a value's place
 * (`your_password`, `null`, `string`), or one containing `fake`, `dummy`,
 * `placeholder`; with `exampleWords`, also a word an example
 * uses for a password (`pass`, `secret`, `test`, `changeme`). Unquoted, also code that reads a secret
 * (`env.PASSWORD`, `os.getenv("T")`, `get_password()`, `DB_PASSWORD`).
 *
 * A reference with anything else in it is not whole: `${PW:-hunter2}`
 * carries a default value, and is a secret.
 *
 * @example
 * ```ts
 * isPlaceholder('${NPM_TOKEN}', false) // true
 * isPlaceholder('XXXXXXXXXXXX', true)  // true
 * isPlaceholder('hunter22', false)     // false
 * ```
 */
export function isPlaceholder(value: string, quoted: boolean, exampleWords = false): boolean {
  const n = value.length
  if (n === 0) return true
  let alnum = 0
  let xs = 0
  let stars = 0
  let first = -1
  let repeated = true
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    const lower = c | 32
    if ((c >= 48 && c <= 57) || (lower >= 97 && lower <= 122)) {
      alnum++
      if (first === -1) first = lower
      else if (lower !== first) repeated = false
      if (lower === 120 /* x */) xs++
    } else if (c === 42 /* * */ || c === 8226 /* • */) {
      // A run of four masking characters: a preview someone already masked.
      if (++stars >= 4) return true
      continue
    }
    stars = 0
  }
  if (alnum === 0) return true
  // One character repeated (`00000000`, `aaaa`), or only x's between separators (`xxxx-xxxx`).
  if (repeated && alnum >= 3 && alnum * 2 >= n) return true
  if (xs === alnum && xs >= 3) return true
  // Masked in part: a run of eight x's (`bP88Q~xxxxxxxx…`), or x's making most of it.
  if (xs >= 8 && (/[xX]{8}/.test(value) || xs * 5 >= alnum * 3)) return true
  // Each further check runs only where it can apply: scanners call this once per value found.
  if (REFERENCE_STARTS.includes(value[0]!) && isWholeReference(value)) return true
  // The listed words have two letters or more, the words looked for inside four or more.
  if (n <= 64 && alnum >= 2) {
    const words = alnum === n ? value.toLowerCase() : value.toLowerCase().replace(/[^a-z0-9]/g, '')
    if (PLACEHOLDER_WORDS.has(words) || (exampleWords && EXAMPLE_WORDS.has(words))) return true
    if (alnum >= 4 && /fake|dummy|placeholder|yourpassword|yourtoken|yourapi|yoursecret|insertyour|enteryour|replaceme/.test(words)) return true
  }
  return !quoted && /[._([]/.test(value) && isCodeReference(value)
}

const REFERENCE_STARTS = '$%<[@#{:'

// A whole reference: the value is one variable or template slot, and nothing else.
const WHOLE_REFERENCES = [
  /^\$[A-Za-z_][A-Za-z0-9_]{0,127}$/, // $API_KEY
  /^\$[0-9@*#?]$/, // $1, $@
  /^\$\{[A-Za-z_][A-Za-z0-9_.]{0,127}\}$/, // ${NPM_TOKEN}, ${env.X}
  /^\$\{\{[^{}]{1,200}\}\}$/, // ${{ secrets.TOKEN }}
  /^\$\([^()]{1,200}\)$/, // $(cat token.txt)
  /^\{\{[^{}]{1,200}\}\}$/, // {{ .Values.password }}
  /^\{\{\{[^{}]{1,200}\}\}\}$/, // {{{ password }}}
  /^\{[A-Za-z0-9_.]{0,64}\}$/, // {0}, {password}
  /^%[A-Za-z_][A-Za-z0-9_]{0,127}%$/, // %DB_PASSWORD%
  /^%\([A-Za-z_][A-Za-z0-9_]{0,127}\)[sdr]$/, // %(password)s
  /^%[sdr]$/,
  /^<[^<>]{1,200}>$/, // <your token>
  /^\[[^[\]]{1,200}\]$/, // [PASSWORD]
  /^@[A-Za-z_][A-Za-z0-9_.-]{0,127}@$/, // @db.password@
  /^#\{[^{}]{1,200}\}$/, // #{password}
  /^\$\$[A-Za-z_][A-Za-z0-9_]{0,127}$/, // $$PASSWORD (make)
  /^:[a-z_]{1,64}$/, // :password (a bind parameter, a Ruby symbol)
]

function isWholeReference(value: string): boolean {
  if (value.length > 260) return false
  for (const re of WHOLE_REFERENCES) if (re.test(value)) return true
  return false
}

// Unquoted code: `env.DB_PASSWORD`, `os.environ["T"]`, `get_password()`, `DB_PASSWORD` (a constant naming a secret).
function isCodeReference(value: string): boolean {
  if (value.length > 200) return false
  // A call: a callee of letters (no digits: `g7Gw2(x)` is a token with brackets in it).
  const call = /^[a-z_$][A-Za-z_$.]{0,60}\(.{0,100}\)[;,]?$/.test(value) || /^[A-Za-z_$]{1,30}\.[A-Za-z_$.]{1,60}\(.{0,100}\)[;,]?$/.test(value)
  if (call) return true
  const chain = /^([A-Za-z_$][A-Za-z0-9_$]{0,63})((?:\.[A-Za-z_$][A-Za-z0-9_$]{0,63}|\[[^\]]{0,64}\]){1,8})[;,]?$/.exec(value)
  if (chain !== null && CODE_ROOTS.has(chain[1]!.toLowerCase().replace(/^\$/, ''))) return true
  // An upper-case constant naming a secret: `password = DB_PASSWORD`, `token: GITHUB_TOKEN`.
  return /^[A-Z][A-Z0-9]{0,30}(?:_[A-Z0-9]{1,30}){1,6}$/.test(value) && /PASS|SECRET|TOKEN|KEY|PWD|AUTH|CRED/.test(value)
}
