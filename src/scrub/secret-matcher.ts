import { AhoCorasick, type CodeUnitFold, type MatchSink } from './aho-corasick.js'

// Base64 cores shorter than this would match ordinary text by chance.
const MIN_BASE64_CORE = 6

/**
 * Folds base64url's `-` and `_` onto base64's `+` and `/`, so one pattern
 * catches a value in both alphabets. The price, redacting `a-b` where only
 * `a+b` was registered, errs on the side of sending less.
 *
 * @example
 * ```ts
 * AhoCorasick.build([{ text: 'a+b/c', tag: 0 }], foldBase64Alphabet).scanTags('a-b_c', null, null) // found
 * ```
 */
export const foldBase64Alphabet: CodeUnitFold = (unit) => (unit === 45 ? 43 : unit === 95 ? 47 : unit)

/**
 * The forms a registered secret is caught in besides itself: URL-encoded
 * (upper- and lower-case hex, and form encoding with `+` for spaces),
 * `escape()`d, JSON-escaped (once and twice, for JSON inside a JSON string,
 * and with non-ASCII characters as `\uXXXX`), and base64
 * and base64url of its UTF-8 bytes, padded and unpadded, and of its
 * JSON-escaped form's bytes (base64 of JSON) when that differs.
 *
 * Other percent and backslash encodings (`URLSearchParams`, a URL's
 * userinfo, a location template's segments, mixed-case hex, encodings
 * nested in each other) are not listed: the scrubber and the leak scan also
 * look for the secret in the decoded views of each string (see
 * `EscapeDecoder`), which spell every one of them out. These listed forms
 * are still matched in the string as it is, so a secret is caught where a
 * decoding is ambiguous (`%C3%A9` is `é` in UTF-8, but `escape('Ã©')`).
 *
 * Base64 is also registered at the two other byte alignments, keeping only
 * the characters that depend on the secret alone: so the secret is caught
 * inside a larger encoded blob, such as `Basic base64(user:secret)`.
 *
 * @example
 * ```ts
 * secretEncodings('p@ss word') // ['p@ss word', 'p%40ss%20word', 'p%40ss+word', 'cEBzcyB3b3Jk', ...]
 * ```
 */
export function secretEncodings(value: string): string[] {
  const forms = new Set<string>([value])
  try {
    const url = encodeURIComponent(value)
    forms.add(url)
    forms.add(url.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()))
    forms.add(url.replace(/%20/g, '+'))
  } catch {
    // A lone surrogate has no URL encoding; the other forms still apply.
  }
  // escape() writes Latin-1 as %XX and the rest of the BMP as %uXXXX.
  const escaped = escape(value)
  forms.add(escaped)
  forms.add(escaped.replace(/%u[0-9A-F]{4}|%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()))
  const json = JSON.stringify(value).slice(1, -1)
  forms.add(json)
  forms.add(JSON.stringify(json).slice(1, -1))
  // Serializers that escape everything outside ASCII (Python's json.dumps) write \u00e9 for é.
  forms.add(json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))

  addBase64(forms, Buffer.from(value, 'utf8'))
  // Base64 of JSON (a JWT's claims, an engine's payload) holds the JSON-escaped form's bytes.
  if (json !== value) addBase64(forms, Buffer.from(json, 'utf8'))
  return [...forms]
}

function addBase64(forms: Set<string>, bytes: Buffer): void {
  const whole = bytes.toString('base64')
  forms.add(whole)
  forms.add(whole.replace(/=+$/, ''))
  for (let offset = 0; offset < 3; offset++) {
    const shifted = offset === 0 ? whole : Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64')
    // Character j encodes bits [6j, 6j + 6): keep those inside the secret's bits.
    const first = Math.ceil((8 * offset) / 6)
    const last = Math.floor((8 * (offset + bytes.length)) / 6)
    if (last - first >= MIN_BASE64_CORE) forms.add(shifted.slice(first, last))
  }
}

/**
 * The registered-secret matcher: one Aho-Corasick automaton over every
 * registered value and its {@link secretEncodings}. Registering is cheap;
 * the automaton is rebuilt on the next scan after a registration, never per
 * scan, and a scan costs about the same per character with 10 secrets or
 * 10,000, on random-looking text too: with values of at least 3 code units
 * (5 by default, see `scrub.minSecretLength`), the automaton's gram
 * prefilter keeps it out of its deep states wherever no secret can start.
 *
 * @example
 * ```ts
 * const matcher = new SecretMatcher()
 * matcher.add('hunter2-hunter2')
 * matcher.find('pw=hunter2-hunter2', spans, 0) // spans gets [3, 18)
 * ```
 */
export class SecretMatcher {
  readonly #values = new Set<string>()
  #automaton: AhoCorasick | null = null
  #longest = 0
  #spaced = false

  /** How many distinct values are registered. */
  get size(): number {
    return this.#values.size
  }

  /**
   * The registered values from the `from`-th on, in the order they were
   * registered: what a mirror of this matcher in another thread still lacks.
   *
   * @example
   * ```ts
   * const fresh = matcher.valuesFrom(mirroredCount)
   * ```
   */
  valuesFrom(from: number): string[] {
    const out: string[] = []
    let i = 0
    for (const value of this.#values) if (i++ >= from) out.push(value)
    return out
  }

  /**
   * The length of the longest pattern (value or encoding) in code units, 0
   * when none: no match is longer, so a scan of a string's prefix finds every
   * match that starts at least this far before the prefix ends.
   */
  get longest(): number {
    return this.#longest
  }

  /**
   * Whether some registered value holds a space: only then can a form body
   * (`+` for a space) spell one out, so only then is a form view scanned.
   */
  get spaced(): boolean {
    return this.#spaced
  }

  /** Registers a value. Returns false when it was already registered. */
  add(value: string): boolean {
    if (this.#values.has(value)) return false
    this.#values.add(value)
    if (value.includes(' ')) this.#spaced = true
    this.#automaton = null
    for (const text of secretEncodings(value)) if (text.length > this.#longest) this.#longest = text.length
    return true
  }

  /** Reports every occurrence of any registered value or encoding into `sink`. */
  find(text: string, sink: MatchSink, rule: number): void {
    if (this.#values.size === 0) return
    this.#automaton ??= this.#build()
    this.#automaton.findLongest(text, sink, rule)
  }

  #build(): AhoCorasick {
    const patterns: { text: string; tag: number }[] = []
    for (const value of this.#values) for (const text of secretEncodings(value)) patterns.push({ text, tag: 0 })
    return AhoCorasick.build(patterns, foldBase64Alphabet)
  }
}
