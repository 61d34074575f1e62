import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { matchParameterRule, parameterRuleSet, parameterGlobProblem } from '../../src/policy/parameter-rules.js'

const noEnv = { env: {} }

function rules(r: Record<string, 'allow' | 'scrub' | 'hash' | 'encrypt' | 'redact' | 'drop'>) {
  return definePolicy({ preset: 'strict', parameters: { rules: r } }, noEnv).parameters
}

describe('matchParameterRule', () => {
  it('falls back to parameters.default with no rule', () => {
    expect(matchParameterRule(rules({}), 'anything')).toEqual({ action: 'hash', rule: undefined })
    expect(matchParameterRule(rules({ region: 'allow' }), 'regions')).toEqual({ action: 'hash', rule: undefined })
  })

  it('matches literal paths, given as a dotted string or as segments', () => {
    const p = rules({ 'db.password': 'drop' })
    expect(matchParameterRule(p, 'db.password')).toEqual({ action: 'drop', rule: 'db.password' })
    expect(matchParameterRule(p, ['db', 'password'])).toEqual({ action: 'drop', rule: 'db.password' })
    expect(matchParameterRule(p, 'db').rule).toBeUndefined()
    expect(matchParameterRule(p, 'db.passwords').rule).toBeUndefined()
    expect(matchParameterRule(p, 'DB.password').rule).toBeUndefined()
  })

  it('lets a rule on a key decide everything nested under it', () => {
    const p = rules({ db: 'encrypt' })
    expect(matchParameterRule(p, 'db').action).toBe('encrypt')
    expect(matchParameterRule(p, 'db.credentials.password').action).toBe('encrypt')
  })

  it('* matches exactly one segment', () => {
    const p = rules({ '*.token': 'redact' })
    expect(matchParameterRule(p, 'github.token').action).toBe('redact')
    expect(matchParameterRule(p, 'token').action).toBe('hash')
    expect(matchParameterRule(p, 'a.b.token').action).toBe('hash')
  })

  it('* within a segment matches part of a key', () => {
    const p = rules({ '*_token': 'redact', 'api*key': 'drop', 'x*y*z': 'allow' })
    expect(matchParameterRule(p, 'refresh_token').action).toBe('redact')
    expect(matchParameterRule(p, '_token').action).toBe('redact')
    expect(matchParameterRule(p, 'token').action).toBe('hash')
    expect(matchParameterRule(p, 'apikey').action).toBe('drop')
    expect(matchParameterRule(p, 'api_secret_key').action).toBe('drop')
    expect(matchParameterRule(p, 'xyz').action).toBe('allow')
    expect(matchParameterRule(p, 'x-y-z').action).toBe('allow')
    expect(matchParameterRule(p, 'xzy').action).toBe('hash')
    expect(matchParameterRule(p, 'xy').action).toBe('hash')
  })

  it('** matches any depth, including none', () => {
    const p = rules({ '**.password': 'drop', 'a.**.z': 'allow' })
    expect(matchParameterRule(p, 'password').action).toBe('drop')
    expect(matchParameterRule(p, 'svc.auth.password').action).toBe('drop')
    expect(matchParameterRule(p, 'password_hint').action).toBe('hash')
    expect(matchParameterRule(p, 'a.z').action).toBe('allow')
    expect(matchParameterRule(p, 'a.b.c.z').action).toBe('allow')
    expect(matchParameterRule(p, 'a.b.c').action).toBe('hash')
    expect(matchParameterRule(p, 'a.**.**.z')).toEqual(matchParameterRule(p, 'a.q.z'))
  })

  it('treats array indexes as segments', () => {
    const p = rules({ 'items.*.name': 'allow', 'items.0': 'drop' })
    expect(matchParameterRule(p, ['items', 3, 'name']).action).toBe('allow')
    expect(matchParameterRule(p, ['items', 0]).action).toBe('drop')
    expect(matchParameterRule(p, 'items.0.price').action).toBe('drop')
  })

  it('lets the first matching rule in insertion order win', () => {
    const specificFirst = rules({ 'db.host': 'allow', db: 'encrypt' })
    expect(matchParameterRule(specificFirst, 'db.host')).toEqual({ action: 'allow', rule: 'db.host' })
    expect(matchParameterRule(specificFirst, 'db.port')).toEqual({ action: 'encrypt', rule: 'db' })
    const generalFirst = rules({ db: 'encrypt', 'db.host': 'allow' })
    expect(matchParameterRule(generalFirst, 'db.host')).toEqual({ action: 'encrypt', rule: 'db' })
  })

  it('returns the same match object for repeated calls on a frozen policy', () => {
    const p = rules({ region: 'allow' })
    expect(matchParameterRule(p, 'region')).toBe(matchParameterRule(p, 'region'))
  })

  it('sees changes to a mutable parameters object, which it does not cache', () => {
    const p = { default: 'allow' as const, rules: { a: 'drop' as const } as Record<string, 'drop' | 'hash'> }
    expect(matchParameterRule(p, 'a').action).toBe('drop')
    p.rules = { a: 'hash' }
    expect(matchParameterRule(p, 'a').action).toBe('hash')
  })

  it('throws InvalidArgumentError for a malformed glob that skipped validation', () => {
    expect(() => matchParameterRule({ default: 'allow', rules: { 'a..b': 'drop' } }, 'a')).toThrow(InvalidArgumentError)
  })
})

describe('parameterGlobProblem', () => {
  it.each(['a', 'a.b', '*', '**', '*.x', '**.x.*', 'x_*', 'items.0'])('accepts %j', (glob) => {
    expect(parameterGlobProblem(glob)).toBeUndefined()
  })

  it.each(['', '.a', 'a.', 'a..b', 'a**', '***', 'a.**b'])('refuses %j', (glob) => {
    expect(parameterGlobProblem(glob)).toMatch(/^expected /)
  })
})

describe('parameterRuleSet', () => {
  const rules = (input: Record<string, 'allow' | 'scrub' | 'hash' | 'encrypt' | 'redact' | 'drop'>, fallback: 'scrub' | 'hash' = 'scrub') =>
    parameterRuleSet(definePolicy({ parameters: { default: fallback, rules: input } }, { env: {} }).parameters)

  it('agrees with matchParameterRule on every leaf', () => {
    const policy = definePolicy(
      { parameters: { default: 'hash', rules: { 'db.host': 'allow', db: 'encrypt', '**.password': 'drop', 'items.*.sku': 'allow' } } },
      { env: {} },
    )
    const set = parameterRuleSet(policy.parameters)
    for (const path of [['db', 'host'], ['db', 'port'], ['db', 'password'], ['svc', 'password'], ['items', 0, 'sku'], ['batch']]) {
      const match = matchParameterRule(policy.parameters, path)
      expect(set.decide(path, true), path.join('.')).toEqual({ action: match.action, rule: match.rule ?? 'parameters.default' })
    }
  })

  it('settles a container whole only when no earlier rule could name something below it', () => {
    expect(rules({ 'db.host': 'allow', db: 'encrypt' }).decide(['db'], false)).toBeUndefined()
    expect(rules({ db: 'encrypt', 'db.host': 'allow' }).decide(['db'], false)).toEqual({ action: 'encrypt', rule: 'db' })
    expect(rules({ '**.password': 'drop', db: 'encrypt' }).decide(['db'], false)).toBeUndefined()
    expect(rules({ 'cache.*': 'drop', db: 'encrypt' }).decide(['db'], false)).toEqual({ action: 'encrypt', rule: 'db' })
  })

  it('leaves a container no rule names to be walked, and gives a leaf the default', () => {
    const set = rules({ 'a.b': 'redact' }, 'hash')
    expect(set.decide(['x'], false)).toBeUndefined()
    expect(set.decide(['x'], true)).toEqual({ action: 'hash', rule: 'parameters.default' })
  })
})
