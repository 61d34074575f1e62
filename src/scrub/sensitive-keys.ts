import { InvalidArgumentError } from '../errors.js'
import { DEFAULT_SENSITIVE_KEYS } from '../policy/detector-ids.js'

// Results are cached per key name; key sets repeat from record to record.
const CACHE_LIMIT = 4096

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
  readonly #cache = new Map<string, boolean>()

  constructor(extra: readonly string[] = []) {
    const names: readonly unknown[] = extra
    if (!Array.isArray(names) || names.some((name) => typeof name !== 'string' || name === '')) {
      throw new InvalidArgumentError('sensitive key names must be an array of non-empty strings')
    }
    this.#wordLists = [...DEFAULT_SENSITIVE_KEYS, ...(names as readonly string[])].map(splitWords).filter((words) => words.length > 0)
    this.names = [...new Set(this.#wordLists.map((words) => words.join('')))]
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
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear()
    this.#cache.set(key, result)
    return result
  }

  #compute(key: string): boolean {
    const words = splitWords(key)
    if (words.length === 0) return false
    const joined = words.join('')
    for (const name of this.names) {
      if (endsWithName(joined, name)) return true
      for (let i = 0; i < words.length; i++) {
        let run = ''
        for (let j = i; j < words.length && run.length <= name.length + 1; j++) {
          run += words[j]
          if (sameName(run, name)) return true
        }
      }
    }
    return false
  }
}

function sameName(candidate: string, name: string): boolean {
  return candidate === name || candidate === `${name}s` || (name.endsWith('s') && candidate === name.slice(0, -1))
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
