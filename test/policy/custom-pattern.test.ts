import { describe, expect, it } from 'vitest'
import { PolicyError, UnsafePatternError } from '../../src/errors.js'
import { compileCustomPattern } from '../../src/policy/custom-pattern.js'
import { definePolicy } from '../../src/policy/define-policy.js'

const noEnv = { env: {} }

function patternIssues(pattern: string): PolicyError['issues'] {
  try {
    definePolicy({ scrub: { patterns: [{ id: 'custom', pattern }] } }, noEnv)
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError)
    return (err as PolicyError).issues
  }
  throw new Error('expected a PolicyError, nothing was thrown')
}

describe('custom patterns', () => {
  it('compiles to an re2js pattern that finds matches', () => {
    const re = compileCustomPattern({ pattern: 'EMP-[0-9]{6}' })
    const m = re.matcher('ids EMP-000001 and EMP-123456.')
    const found: string[] = []
    while (m.find()) found.push(m.group() ?? '')
    expect(found).toEqual(['EMP-000001', 'EMP-123456'])
    expect(re.test('emp-000001')).toBe(false)
  })

  it('honours caseInsensitive', () => {
    expect(compileCustomPattern({ pattern: 'EMP-[0-9]{6}', caseInsensitive: true }).test('emp-000001')).toBe(true)
  })

  it.each([
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
    ['(?=secret)\\w+', 'invalid or unsupported Perl syntax: `(?=`'],
    ['(?!public)\\w+', 'invalid or unsupported Perl syntax: `(?!`'],
    ['(?<=key=)\\w+', '(?<='],
  ])('refuses %j at validation, at the pattern\'s path, saying RE2 does not support it', (pattern, detail) => {
    const issues = patternIssues(pattern)
    expect(issues).toHaveLength(1)
    expect(issues[0]!.path).toBe('scrub.patterns.0.pattern')
    expect(issues[0]!.message).toMatch(/^RE2 does not support this pattern: /)
    expect(issues[0]!.message).toContain(detail)
  })

  it('refuses a pattern that does not parse', () => {
    expect(patternIssues('[a-z')[0]!.message).toBe('RE2 does not support this pattern: missing closing ]: `[a-z`')
  })

  it('refuses a pattern that matches the empty string', () => {
    expect(patternIssues('x*')).toEqual([
      {
        path: 'scrub.patterns.0.pattern',
        message:
          'expected a pattern that cannot match the empty string; this one would match at every position, got "x*"',
      },
    ])
  })

  it('compileCustomPattern throws UnsafePatternError for a pattern that skipped validation', () => {
    let caught: unknown
    try {
      compileCustomPattern({ pattern: '(a)\\1' })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(UnsafePatternError)
    expect((caught as UnsafePatternError).code).toBe('ERR_PATTERN_UNSAFE')
  })

  it('runs a catastrophic-backtracking pattern over 1 MB to the end (RE2: no backtracking)', () => {
    // (a+)+$ takes exponential time on a backtracking engine for this input:
    // it would never finish within the test's timeout. re2js is linear; the
    // bound against a benign input of the same size is in bench/hostile-input.ts.
    const policy = definePolicy({ scrub: { patterns: [{ id: 'redos', pattern: '(a+)+$' }] } }, noEnv)
    const re = compileCustomPattern(policy.scrub.patterns[0]!)
    const input = 'a'.repeat(1e6) + 'b'
    expect(re.test(input)).toBe(false)
    expect(re.matcher(input).find()).toBe(false)
  })
})
