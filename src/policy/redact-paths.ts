import { InvalidArgumentError } from '../errors.js'
import { splitDottedKeys, type PathRuleDecision, type PathRuleSet } from './path-rule-set.js'

/** The rule id of a value a redact path replaced. */
const REDACT_PATH_RULE = 'redact-path'

/** One step of a redact path: a key (or index, as text), or `*` for any one key. */
type Step = { readonly any: true } | { readonly any: false; readonly key: string }

const ANY: Step = Object.freeze({ any: true })
const DECISION: PathRuleDecision = Object.freeze({ action: 'redact', rule: REDACT_PATH_RULE })

/**
 * Why `path` is not a redact path pino would accept, or `undefined` when it
 * is. The syntax is pino's `redact` option's: keys joined by dots,
 * `[index]`, `["any key"]` or `['any key']` in brackets, and `*` (or `[*]`)
 * for any one key, e.g. `req.headers.cookie`, `users[*].email`,
 * `headers["x-api-key"]`, `*.password`.
 *
 * @example
 * ```ts
 * redactPathProblem('req.headers.cookie') // undefined
 * redactPathProblem('req..cookie')        // 'expected a key between dots, …'
 * ```
 */
export function redactPathProblem(path: string): string | undefined {
  const parsed = parse(path)
  return typeof parsed === 'string' ? parsed : undefined
}

/**
 * `logs.redactPaths` as the walker asks them (see {@link PathRuleSet}): a
 * path names exactly one node (a `*` step any one key there), and that node
 * is replaced whole by `[REDACTED:redact-path]`, whatever it holds. Paths
 * are matched against the normalized value's raw keys, so a path reaches
 * through class instances, `toJSON` results and Maps alike.
 *
 * @throws InvalidArgumentError when a path is malformed (see {@link redactPathProblem}).
 * @example
 * ```ts
 * const rules = redactPathRuleSet(['user.ssn', 'req.headers["x-api-key"]'])
 * rules.decide(['user', 'ssn'], true)   // { action: 'redact', rule: 'redact-path' }
 * rules.decide(['user'], false)         // undefined
 * ```
 *
 * With `dottedKeys`, for records whose keys are dotted paths in one key
 * (OpenTelemetry attributes): a key holding dots counts as that many
 * segments, and a path also names every key below the node it names, so
 * `http.request.header` redacts the flat key `http.request.header.cookie`
 * as it would a nested `cookie`. Either reading only ever redacts more.
 */
export function redactPathRuleSet(paths: readonly string[], options: { readonly dottedKeys?: boolean } = {}): PathRuleSet {
  const compiled = paths.map((path) => {
    const parsed = parse(path)
    if (typeof parsed === 'string') throw new InvalidArgumentError(`logs.redactPaths entry ${JSON.stringify(path.slice(0, 80))}: ${parsed}`)
    return parsed
  })
  if (options.dottedKeys === true) {
    return {
      decide(path: readonly (string | number)[]): PathRuleDecision | undefined {
        // A nested container a path names is decided where it stands; below it, only flat dotted keys reach a prefix match.
        for (const steps of compiled) if (matches(steps, path, false)) return DECISION
        const split = splitDottedKeys(path)
        if (split.length === path.length) return undefined
        for (const steps of compiled) if (matches(steps, split, true)) return DECISION
        return undefined
      },
    }
  }
  return {
    decide(path: readonly (string | number)[]): PathRuleDecision | undefined {
      for (const steps of compiled) if (matches(steps, path, false)) return DECISION
      return undefined
    },
  }
}

// Whether `steps` name `path` (or, with `prefix`, a node `path` lies under).
function matches(steps: readonly Step[], path: readonly (string | number)[], prefix: boolean): boolean {
  if (prefix ? steps.length > path.length : steps.length !== path.length) return false
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!
    if (step.any) continue
    const key = path[i]!
    if (step.key !== (typeof key === 'number' ? String(key) : key)) return false
  }
  return true
}

// Parses pino's redact path syntax; returns the steps, or a problem for a person.
function parse(path: string): Step[] | string {
  if (typeof path !== 'string' || path === '') return 'expected a non-empty path such as req.headers.cookie'
  const steps: Step[] = []
  let i = 0
  let expectKey = true
  while (i < path.length) {
    const c = path[i]!
    if (c === '[') {
      const close = bracket(path, i)
      if (typeof close === 'string') return close
      steps.push(close.step)
      i = close.end
      expectKey = false
      continue
    }
    if (c === '.') {
      if (expectKey) return 'expected a key between dots, like req.headers.cookie'
      expectKey = true
      i++
      continue
    }
    if (c === ']') return 'found a ] with no [ before it'
    if (!expectKey) return `expected . or [ after ${JSON.stringify(path.slice(0, i))}`
    let end = i
    while (end < path.length && path[end] !== '.' && path[end] !== '[' && path[end] !== ']') end++
    const key = path.slice(i, end)
    steps.push(key === '*' ? ANY : { any: false, key })
    i = end
    expectKey = false
  }
  if (expectKey) return 'expected a key after the last dot'
  return steps
}

// `[*]`, `[0]`, `[key]`, `["key"]` or `['key']` starting at `open`.
function bracket(path: string, open: number): { step: Step; end: number } | string {
  const quote = path[open + 1]
  if (quote === '"' || quote === "'") {
    const closeQuote = path.indexOf(quote, open + 2)
    if (closeQuote === -1) return `expected a closing ${quote} in brackets`
    if (path[closeQuote + 1] !== ']') return `expected ] right after the closing ${quote}`
    const key = path.slice(open + 2, closeQuote)
    // pino reads a quoted "*" as the wildcard too; so do we, which redacts more, never less.
    return { step: key === '*' ? ANY : { any: false, key }, end: closeQuote + 2 }
  }
  const close = path.indexOf(']', open + 1)
  if (close === -1) return 'expected a ] to close the ['
  const key = path.slice(open + 1, close)
  if (key === '') return 'expected a key or index in brackets, like [0] or ["x-api-key"]'
  if (key.includes('[')) return 'expected brackets not to nest'
  return { step: key === '*' ? ANY : { any: false, key }, end: close + 1 }
}
