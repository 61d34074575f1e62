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
