import { InvalidArgumentError } from '../errors.js'
import { DEFAULT_SENSITIVE_KEYS } from '../policy/detector-ids.js'

// Results are cached per key name; key sets repeat from record to record.
// Longer keys are not: they rarely repeat, and the cache would keep them alive.
const CACHE_LIMIT = 4096
const CACHED_KEY_LENGTH = 256

/**
 * Decides whether an object key names a secret, so that its value is
 * redacted whole (rule `sensitive-key`). The names are
 * {@link DEFAULT_SENSITIVE_KEYS} plus the policy's `scrub.sensitiveKeys`.
 *
 * A key is split into words at separators (`_ - . space`, any non-letter,
 * non-digit) and at camelCase humps (`APIKey` → `api key`), lower-cased.
 * It matches a name when:
 *
 * 1. a run of consecutive words, joined, equals the name with separators
 *    removed: `db_password`, `x-auth-token`, `sessionId`, `apiKey`, `API-KEY`,
 *    `client.secret.value`; or
 * 2. the whole key, lower-cased and without separators, ends with the name:
 *    `dbpassword`, `authtoken`, `clientsecret` (compounds written without
 *    separators or humps, whose words cannot be told apart).
 *
 * A trailing `s` is allowed either way (`tokens`, `credential` for
 * `credentials`). Matching whole words rather than substrings is deliberate:
 * `author`, `authority`, `tokenizer` and `secretary` do NOT match `auth`,
 * `token` or `secret`. The price: an all-lower-case compound whose sensitive
 * word is not last, like `sessionid`, does not match; write `session_id`,
 * `sessionId`, or add the name to `scrub.sensitiveKeys`.
 *
 * @example
 * ```ts
 * const keys = new SensitiveKeyMatcher(['employee_ssn'])
 * keys.matches('X-Auth-Token')  // true
 * keys.matches('author')        // false
 * keys.matches('employeeSSN')   // true
 * ```
 */
export class SensitiveKeyMatcher {
  /** The names, lower-cased, without separators. */
  readonly names: readonly string[]
  readonly #wordLists: readonly (readonly string[])[]
  /** Each name without a trailing `s`: every way a key can match contains one (see #compute). */
  readonly #stems: readonly string[]
  /** What a run of words may equal: each name, its plural, and its singular when it ends in `s`. */
  readonly #spellingsOfRuns: readonly string[]
  readonly #cache = new Map<string, boolean>()

  constructor(extra: readonly string[] = []) {
    const names: readonly unknown[] = extra
    if (!Array.isArray(names) || names.some((name) => typeof name !== 'string' || name === '')) {
      throw new InvalidArgumentError('sensitive key names must be an array of non-empty strings')
    }
    this.#wordLists = [...DEFAULT_SENSITIVE_KEYS, ...(names as readonly string[])].map(splitWords).filter((words) => words.length > 0)
    this.names = [...new Set(this.#wordLists.map((words) => words.join('')))]
    this.#stems = this.names.map((name) => (name.endsWith('s') ? name.slice(0, -1) : name))
    const runs = this.names.flatMap((name) => [name, `${name}s`, ...(name.endsWith('s') ? [name.slice(0, -1)] : [])])
    this.#spellingsOfRuns = [...new Set(runs)].filter((run) => run !== '')
  }

  /**
   * Spellings of every name to look for in free text, lower-case: joined
   * with nothing, `_`, `-` and `.` (`api_key` gives `apikey`, `api_key`,
   * `api-key`, `api.key`). The `secret-assignment` detector uses them as its
   * keywords.
   *
   * @example
   * ```ts
   * new SensitiveKeyMatcher().spellings().includes('api-key') // true
   * ```
   */
  spellings(): string[] {
    const out = new Set<string>()
    for (const words of this.#wordLists) for (const separator of ['', '_', '-', '.']) out.add(words.join(separator))
    return [...out]
  }

  /** Whether `key` names a secret (see the class comment for the rules). */
  matches(key: string): boolean {
    const cached = this.#cache.get(key)
    if (cached !== undefined) return cached
    const result = this.#compute(key)
    if (key.length > CACHED_KEY_LENGTH) return result
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear()
    this.#cache.set(key, result)
    return result
  }

  // Linear passes and native searches: a key may be megabytes long.
  #compute(key: string): boolean {
    const joined = joinedWords(key)
    // The shell's working directories (PWD, OLDPWD), not passwords: `pwd` names MYSQL_PWD's kind only.
    if (joined === 'pwd' || joined === 'oldpwd') return false
    // Every match (a run of words, or the end of the joined key, equal to a name, its plural or
    // singular) contains a name's stem; most keys contain none.
    if (joined === '' || !includesAny(joined, this.#stems)) return false
    for (const name of this.names) if (endsWithName(joined, name)) return true
    // A run of consecutive words is a slice of `joined` that starts and ends on word boundaries.
    const boundary = wordBoundaries(key, joined.length)
    for (const run of this.#spellingsOfRuns) {
      for (let at = joined.indexOf(run); at !== -1; at = joined.indexOf(run, at + 1)) {
        if (boundary[at] === 1 && boundary[at + run.length] === 1) return true
      }
    }
    return false
  }
}

// splitWords(key).join(''): the ASCII letters (lower-cased) and digits of `key`.
function joinedWords(key: string): string {
  const letters = Buffer.allocUnsafe(key.length)
  let length = 0
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c >= 65 && c <= 90) letters[length++] = c + 32
    else if (isLowerOrDigit(c)) letters[length++] = c
  }
  return letters.toString('latin1', 0, length)
}

// Marks each offset in joinedWords(key) (`length` code units) where a word starts or ends,
// splitting exactly as splitWords does.
function wordBoundaries(key: string, length: number): Uint8Array {
  const boundary = new Uint8Array(length + 1)
  boundary[length] = 1
  let at = 0
  let inWord = false
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    const upper = c >= 65 && c <= 90
    if (!upper && !isLowerOrDigit(c)) {
      inWord = false
      continue
    }
    if (!inWord) boundary[at] = 1
    else if (upper) {
      const next = i + 1 < key.length ? key.charCodeAt(i + 1) : 0
      if (isLowerOrDigit(key.charCodeAt(i - 1)) || (next >= 97 && next <= 122)) boundary[at] = 1
    }
    inWord = true
    at++
  }
  return boundary
}

function includesAny(text: string, parts: readonly string[]): boolean {
  for (const part of parts) if (text.includes(part)) return true
  return false
}

function isLowerOrDigit(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
}

function endsWithName(joined: string, name: string): boolean {
  return joined.endsWith(name) || joined.endsWith(`${name}s`) || (name.endsWith('s') && joined.endsWith(name.slice(0, -1)))
}

/**
 * Splits a key into lower-case words at non-alphanumerics and camelCase humps.
 *
 * @example
 * ```ts
 * splitWords('XAuthToken')   // ['x', 'auth', 'token']
 * splitWords('db_password')  // ['db', 'password']
 * ```
 */
export function splitWords(key: string): string[] {
  const words: string[] = []
  let word = ''
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    const upper = c >= 65 && c <= 90
    const lower = (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
    if (!upper && !lower) {
      if (word !== '') words.push(word)
      word = ''
      continue
    }
    if (upper && word !== '') {
      const prev = key.charCodeAt(i - 1)
      const prevLower = (prev >= 97 && prev <= 122) || (prev >= 48 && prev <= 57)
      const next = i + 1 < key.length ? key.charCodeAt(i + 1) : 0
      const nextLower = next >= 97 && next <= 122
      // A hump: "apiKey" splits before K; "APIKey" splits before K too (upper then upper+lower).
      if (prevLower || nextLower) {
        words.push(word)
        word = ''
      }
    }
    word += upper ? String.fromCharCode(c + 32) : key[i]
  }
  if (word !== '') words.push(word)
  return words
}
