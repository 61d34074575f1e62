import { describe, expect, it } from 'vitest'
import { definePolicy } from '../../src/policy/define-policy.js'
import { matchPayloadRule } from '../../src/policy/payload-rules.js'

const payloads = (rules: Record<string, 'encrypt' | 'offload' | 'clear'>, fallback: 'encrypt' | 'clear' = 'encrypt') =>
  definePolicy({ payloads: { default: fallback, rules } }, { env: {} }).payloads

describe('matchPayloadRule', () => {
  it('takes the first rule in file order whose glob matches the whole name, else the default', () => {
    const policy = payloads({ 'temporal:binary/null': 'clear', 'temporal:binary/*': 'offload', 'restate:*/input': 'clear' })
    expect(matchPayloadRule(policy, 'temporal:binary/null')).toEqual({ action: 'clear', rule: 'temporal:binary/null' })
    expect(matchPayloadRule(policy, 'temporal:binary/plain')).toEqual({ action: 'offload', rule: 'temporal:binary/*' })
    expect(matchPayloadRule(policy, 'restate:Greeter/greet/input')).toEqual({ action: 'clear', rule: 'restate:*/input' })
    expect(matchPayloadRule(policy, 'restate:Greeter/greet/output')).toEqual({ action: 'encrypt', rule: undefined })
    expect(matchPayloadRule(policy, 'temporal:json/plain')).toEqual({ action: 'encrypt', rule: undefined })
    // A glob matches the whole name, not a part of it.
    expect(matchPayloadRule(payloads({ 'temporal:json': 'clear' }), 'temporal:json/plain').rule).toBeUndefined()
  })

  it('reads every character but * literally, regular-expression characters included', () => {
    const policy = payloads({ 'temporal:json.plain': 'clear', 'restate:a+b(c)/[x]': 'clear' })
    expect(matchPayloadRule(policy, 'temporal:jsonXplain').rule).toBeUndefined()
    expect(matchPayloadRule(policy, 'temporal:json.plain').rule).toBe('temporal:json.plain')
    expect(matchPayloadRule(policy, 'restate:a+b(c)/[x]').rule).toBe('restate:a+b(c)/[x]')
    expect(matchPayloadRule(policy, 'restate:aab(c)/x').rule).toBeUndefined()
  })

  it('answers for a glob of many stars against a long name (a backtracking regular expression would not return)', () => {
    const policy = payloads({ [`restate:${'*a'.repeat(60)}b`]: 'clear' })
    expect(matchPayloadRule(policy, `restate:${'a'.repeat(1000)}`).rule).toBeUndefined()
    expect(matchPayloadRule(policy, `restate:${'a'.repeat(1000)}b`).rule).toBe(`restate:${'*a'.repeat(60)}b`)
  })

  it('refuses a name that is not <engine>:<name>', () => {
    const policy = payloads({})
    for (const bad of ['json/plain', 'Temporal:x', 'temporal:', 'temporal:a\nb', 42]) {
      expect(() => matchPayloadRule(policy, bad as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
  })
})
