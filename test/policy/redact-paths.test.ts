import { describe, expect, it } from 'vitest'
import { definePolicy } from '../../src/policy/define-policy.js'
import { redactPathProblem, redactPathRuleSet } from '../../src/policy/redact-paths.js'

describe('redact paths', () => {
  it('reads pino\'s syntax: dots, brackets, quotes, indexes and wildcards', () => {
    const rules = redactPathRuleSet(['req.headers.cookie', 'users[*].email', 'headers["x-api-key"]', "a['b.c']", '*.password', 'list[0]'])
    const hit = { action: 'redact', rule: 'redact-path' }
    expect(rules.decide(['req', 'headers', 'cookie'], true)).toEqual(hit)
    expect(rules.decide(['users', 3, 'email'], true)).toEqual(hit)
    expect(rules.decide(['headers', 'x-api-key'], true)).toEqual(hit)
    expect(rules.decide(['a', 'b.c'], true)).toEqual(hit)
    expect(rules.decide(['db', 'password'], true)).toEqual(hit)
    expect(rules.decide(['list', 0], true)).toEqual(hit)
  })

  it('names exactly one node: not its parent, not what is below it, and a dotted key is not a path', () => {
    const rules = redactPathRuleSet(['user.ssn'])
    expect(rules.decide(['user'], false)).toBeUndefined()
    expect(rules.decide(['user', 'ssn', 'x'], true)).toBeUndefined()
    expect(rules.decide(['user.ssn'], true)).toBeUndefined()
    expect(rules.decide(['other', 'ssn'], true)).toBeUndefined()
  })

  it('with dottedKeys, names flat dotted keys as the segments they spell, and every key below the node a path names', () => {
    const rules = redactPathRuleSet(['http.request.header', 'user.ssn', 'a["b.c"]'], { dottedKeys: true })
    const hit = { action: 'redact', rule: 'redact-path' }
    expect(rules.decide(['http.request.header.cookie'], true)).toEqual(hit)
    expect(rules.decide(['http.request', 'header.authorization'], true)).toEqual(hit)
    expect(rules.decide(['http', 'request', 'header'], false)).toEqual(hit)
    expect(rules.decide(['user.ssn'], true)).toEqual(hit)
    expect(rules.decide(['a', 'b.c'], true)).toEqual(hit)
    expect(rules.decide(['http.request.method'], true)).toBeUndefined()
    expect(rules.decide(['user'], false)).toBeUndefined()
    expect(rules.decide(['users.ssn'], true)).toBeUndefined()
  })

  it('rejects a malformed path with what was expected, in the policy and when compiled', () => {
    for (const bad of ['', 'a..b', 'a.', '.a', 'a[', 'a]', 'a["b]', 'a[]', 'a[b]c', 'a[[b]]']) {
      expect(redactPathProblem(bad), bad).toEqual(expect.any(String))
      expect(() => redactPathRuleSet([bad])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
    expect(() => definePolicy({ logs: { redactPaths: ['ok.path', 'bad..path'] } }, { env: {} })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_INVALID', message: expect.stringContaining('logs.redactPaths.1') as unknown }),
    )
  })
})
