import { RE2JS, RE2JSException } from 're2js'
import { UnsafePatternError } from '../errors.js'

/** The parts of a `scrub.patterns[]` entry that decide how it compiles. */
export interface CustomPatternSource {
  /** An RE2 regular expression. */
  readonly pattern: string
  /** Match ignoring case. */
  readonly caseInsensitive?: boolean | undefined
}

/**
 * Compiles a custom scrub pattern with re2js, a linear-time RE2 engine: the
 * time to scan a string grows with its length only, so no input, however
 * hostile, can make a policy pattern hang the scrubber (no ReDoS). The price
 * is RE2's syntax: no backreferences (`\1`) and no lookarounds (`(?=`,
 * `(?!`, `(?<=`). A pattern that matches the empty string is refused too,
 * since it would match at every position of every value.
 *
 * A policy from {@link definePolicy} or {@link loadPolicy} has already been
 * checked, so this only throws for a pattern that bypassed validation.
 * Compile once per policy, not per value.
 *
 * Internal to airlock-sdk: the compiled pattern is re2js's type, which the
 * published declarations do not name.
 *
 * @internal
 * @throws UnsafePatternError when RE2 cannot compile the pattern or it matches the empty string.
 * @example
 * ```ts
 * const re = compileCustomPattern({ pattern: 'EMP-[0-9]{6}', caseInsensitive: true })
 * re.test('ticket emp-123456') // true
 * const m = re.matcher('EMP-000001 and EMP-000002')
 * while (m.find()) console.log(m.start(), m.end())
 * ```
 */
export function compileCustomPattern(source: CustomPatternSource): RE2JS {
  const outcome = compile(source.pattern, source.caseInsensitive)
  if (typeof outcome === 'string') throw new UnsafePatternError(outcome)
  return outcome
}

/**
 * Why a custom pattern is refused, or `undefined` when it compiles. The
 * schema uses it so a policy with a bad pattern fails validation with the
 * pattern's path. The reason names the construct RE2 rejected, never the
 * whole pattern.
 *
 * @example
 * ```ts
 * customPatternProblem('(a)\\1') // 'RE2 does not support this pattern: invalid escape sequence: `\1` (...)'
 * customPatternProblem('EMP-[0-9]{6}') // undefined
 * ```
 */
export function customPatternProblem(pattern: string, caseInsensitive?: boolean): string | undefined {
  const outcome = compile(pattern, caseInsensitive)
  return typeof outcome === 'string' ? outcome : undefined
}

function compile(pattern: string, caseInsensitive: boolean | undefined): RE2JS | string {
  let compiled: RE2JS
  try {
    compiled = RE2JS.compile(pattern, flagsOf(caseInsensitive))
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err
    return `RE2 does not support this pattern: ${describeRe2Error(err)}`
  }
  if (compiled.testExact('')) {
    return 'expected a pattern that cannot match the empty string; this one would match at every position'
  }
  return compiled
}

function flagsOf(caseInsensitive: boolean | undefined): number {
  return caseInsensitive === true ? RE2JS.CASE_INSENSITIVE : 0
}

const MAX_DETAIL = 80

function describeRe2Error(err: RE2JSException): string {
  // re2js messages read "error parsing regexp: <what>: `<fragment>`"; the
  // fragment is the offending construct, trimmed so a huge pattern stays out.
  const detail = err.message.replace(/^error parsing regexp: /, '')
  const hint = /\\[1-9]|\(\?[=!<]/.test(detail)
    ? ' (backreferences and lookarounds need backtracking, which RE2 excludes so matching stays linear-time)'
    : ''
  return (detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL)}…` : detail) + hint
}
