import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors.js'
import { presets } from '../../src/policy/presets.js'
import { Scrubber } from '../../src/scrub/scrubber.js'
import { SensitiveKeyMatcher, splitWords } from '../../src/scrub/sensitive-keys.js'

describe('SensitiveKeyMatcher', () => {
  const keys = new SensitiveKeyMatcher()

  it('ignores case and separators', () => {
    for (const key of ['apiKey', 'API-KEY', 'api_key', 'ApiKey', 'api.key', 'APIKEY', 'x-api-key', 'API_KEYS']) {
      expect(keys.matches(key), key).toBe(true)
    }
  })

  it('matches whole words inside compound keys', () => {
    for (const key of ['db_password', 'dbPassword', 'x-auth-token', 'XAuthToken', 'sessionId', 'session_id', 'passwordHash', 'client.secret', 'Set-Cookie', 'credential']) {
      expect(keys.matches(key), key).toBe(true)
    }
  })

  it('matches all-lower-case compounds that end with a sensitive name', () => {
    for (const key of ['dbpassword', 'authtoken', 'clientsecret', 'tokens']) expect(keys.matches(key), key).toBe(true)
  })

  it('decides as the straightforward word-by-word comparison does, for random keys', () => {
    let seed = 9
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 2 ** 32
    }
    const parts = ['pass', 'word', 'Password', 'PASSWORD', 'Token', 'tokens', 'auth', 'Author', 'API', 'Key', 'keys', 'secret', 'Credential', 'dsn', 'ssn', 's', 'a', 'B', 'X', '1', '_', '-', '.', ' ', 'é', '\u212a']
    for (const matcher of [new SensitiveKeyMatcher(), new SensitiveKeyMatcher(['employee_ssn', 's', 'api keys'])]) {
      const names = matcher.names
      for (let round = 0; round < 20_000; round++) {
        let key = ''
        for (let n = Math.floor(rand() * 7); n > 0; n--) key += parts[Math.floor(rand() * parts.length)]
        expect(matcher.matches(key), JSON.stringify(key)).toBe(wordByWord(key, names))
      }
    }
    expect(keys.matches(`${'aB'.repeat(100_000)}Dsn`)).toBe(true)
    expect(keys.matches(`${'aB'.repeat(100_000)}Author`)).toBe(false)
  })

  it('does not match words that merely start with a sensitive name', () => {
    for (const key of ['author', 'authority', 'Author_Name', 'tokenizer', 'secretary', 'passport', 'tokenize_ms', 'id', '']) {
      expect(keys.matches(key), key).toBe(false)
    }
  })

  it('documents its blind spot: an all-lower-case compound with the sensitive word first', () => {
    expect(keys.matches('sessionid')).toBe(false)
    expect(new SensitiveKeyMatcher(['sessionid']).matches('sessionid')).toBe(true)
  })

  it('takes extra names from the policy, with the same rules', () => {
    const extended = new SensitiveKeyMatcher(['employee_ssn'])
    expect(extended.matches('employeeSSN')).toBe(true)
    expect(extended.matches('EMPLOYEE-SSN')).toBe(true)
    expect(keys.matches('employeeSSN')).toBe(false)
  })

  it('gives keyword spellings for free text', () => {
    expect(keys.spellings()).toEqual(expect.arrayContaining(['api_key', 'api-key', 'apikey', 'api.key', 'password']))
  })

  it('splits keys into words', () => {
    expect(splitWords('XAuthToken')).toEqual(['x', 'auth', 'token'])
    expect(splitWords('APIKey')).toEqual(['api', 'key'])
    expect(splitWords('db__password-2')).toEqual(['db', 'password', '2'])
  })

  it('rejects a malformed list', () => {
    expect(() => new SensitiveKeyMatcher([''])).toThrow(InvalidArgumentError)
    expect(() => new SensitiveKeyMatcher('password' as never)).toThrow(InvalidArgumentError)
  })
})

describe('sensitive keys in the walker', () => {
  it('redacts the whole value under a sensitive key at any depth, with separator variants', () => {
    const scrubber = new Scrubber({ policy: { ...presets.balanced.scrub, sensitiveKeys: ['employee_ssn'] } })
    const input = {
      level1: { level2: [{ level3: { 'API-KEY': 'k-1', db_password: 'p-2', Author: 'ada', employeeSSN: 123456789 } }] },
      headers: new Map<string, unknown>([['X-Auth-Token', { nested: 'object' }]]),
      session: null,
      token: '',
    }
    const { value, transforms } = scrubber.scrub(input)
    expect(value).toEqual({
      level1: {
        level2: [
          {
            level3: {
              'API-KEY': '[REDACTED:sensitive-key]',
              db_password: '[REDACTED:sensitive-key]',
              Author: 'ada',
              employeeSSN: '[REDACTED:sensitive-key]',
            },
          },
        ],
      },
      headers: { 'X-Auth-Token': '[REDACTED:sensitive-key]' },
      session: null,
      token: '',
    })
    expect(transforms).toEqual([
      { path: 'level1.level2[0].level3.API-KEY', rule: 'sensitive-key', action: 'redact' },
      { path: 'level1.level2[0].level3.db_password', rule: 'sensitive-key', action: 'redact' },
      { path: 'level1.level2[0].level3.employeeSSN', rule: 'sensitive-key', action: 'redact' },
      { path: 'headers.X-Auth-Token', rule: 'sensitive-key', action: 'redact' },
    ])
  })
})

// The rules of SensitiveKeyMatcher as its comment states them, one word run at a time.
function wordByWord(key: string, names: readonly string[]): boolean {
  const words = splitWords(key)
  if (words.length === 0) return false
  const same = (candidate: string, name: string): boolean =>
    candidate === name || candidate === `${name}s` || (name.endsWith('s') && candidate === name.slice(0, -1))
  const joined = words.join('')
  for (const name of names) {
    if (joined.endsWith(name) || joined.endsWith(`${name}s`) || (name.endsWith('s') && joined.endsWith(name.slice(0, -1)))) return true
    for (let i = 0; i < words.length; i++) {
      for (let j = i + 1; j <= words.length; j++) if (same(words.slice(i, j).join(''), name)) return true
    }
  }
  return false
}
