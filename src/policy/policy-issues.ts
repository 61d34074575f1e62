import { z } from 'zod'
import type { PolicyIssue } from '../errors.js'

/** Longest excerpt of a found value or key quoted in a message. */
const MAX_QUOTED = 40

/**
 * Turns zod issues into {@link PolicyIssue}s: one per problem, each with a
 * dotted path and a message of the form `expected <what>, got <found>`.
 * Zod's own messages ("Invalid input") do not say what was found, so every
 * issue code is phrased here; found values are quoted at most 40 characters
 * long, so a huge or sensitive-looking value never lands in a message whole.
 *
 * @internal
 * @example
 * ```ts
 * const result = policySchema.safeParse(input, { reportInput: true })
 * if (!result.success) throw new PolicyError(policyIssuesFromZod(result.error.issues, policySchema))
 * ```
 */
export function policyIssuesFromZod(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): PolicyIssue[] {
  return issues.flatMap((issue) => convert(issue, schema))
}

function convert(issue: z.core.$ZodIssue, schema: z.ZodType): PolicyIssue[] {
  const path = issue.path
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, path)
      return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: unknownKeyMessage(key, known) }))
    }
    case 'invalid_key': {
      const key = issue.path.at(-1)
      const reasons = issue.issues.map((inner) => expectation(inner)).join('; ')
      return [{ path: formatPath(path), message: `invalid key: ${reasons}, got ${describeFound(key)}` }]
    }
    default:
      return [{ path: formatPath(path), message: withFound(expectation(issue), issue) }]
  }
}

/** What the issue expected, as a phrase starting with "expected" when zod tells us enough to say so. */
function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${typeName(issue.expected)}`
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${quoteValue(issue.values[0])}`
        : `expected one of ${issue.values.map(quoteValue).join(' | ')}`
    case 'too_small':
      return `expected ${bound(issue.origin, issue.minimum, issue.inclusive === true, 'small')}`
    case 'too_big':
      return `expected ${bound(issue.origin, issue.maximum, issue.inclusive === true, 'big')}`
    case 'invalid_union': {
      const alternatives = issue.errors.map((branch) => branch[0]).filter((first) => first?.path.length === 0)
      if (alternatives.length === 0 || alternatives.length !== issue.errors.length) return issue.message
      return `expected ${alternatives.map((first) => expectation(first!).replace(/^expected /, '')).join(' or ')}`
    }
    case 'invalid_format':
      return issue.message.startsWith('expected') ? issue.message : `expected a string in ${issue.format} format`
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`
    default:
      return issue.message
  }
}

function withFound(expected: string, issue: z.core.$ZodIssue): string {
  // Messages from our own refinements explain themselves when they do not start with "expected".
  if (!expected.startsWith('expected')) return expected
  return `${expected}, got ${describeFound(issue.input)}`
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  record: 'an object',
}

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected
}

function bound(origin: string, limit: number | bigint, inclusive: boolean, side: 'small' | 'big'): string {
  const n = Number(limit)
  switch (origin) {
    case 'string':
      if (side === 'small' && n === 1) return 'a non-empty string'
      return side === 'small' ? `a string of at least ${n} characters` : `a string of at most ${n} characters`
    case 'array':
      return side === 'small' ? `at least ${n} items` : `at most ${n} items`
    default: {
      const op = side === 'small' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<'
      return `a number ${op} ${n}`
    }
  }
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = closest(key, known)
  if (suggestion !== undefined) return `unknown key; did you mean ${JSON.stringify(suggestion)}?`
  if (known.length === 0) return 'unknown key'
  return `unknown key; expected one of ${known.join(', ')}`
}

/** The known key within edit distance 2 of a misspelt one, if exactly one is that close. */
function closest(key: string, known: readonly string[]): string | undefined {
  if (key.length > 64) return undefined
  const near = known.filter((candidate) => editDistance(key.toLowerCase(), candidate.toLowerCase()) <= 2)
  return near.length === 1 ? near[0] : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution)
    }
    previous = current
  }
  return previous[b.length]!
}

/** The keys the schema allows at `path`, for suggesting the one a typo meant. */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = schema
  for (const segment of path) {
    node = node === undefined ? undefined : child(unwrap(node), segment)
  }
  if (node === undefined) return []
  const target = unwrap(node)
  if (target instanceof z.ZodObject) return Object.keys(target.shape)
  if (target instanceof z.ZodRecord && target.keyType instanceof z.ZodEnum) {
    return target.keyType.options.map(String)
  }
  return []
}

function child(node: z.ZodType, segment: PropertyKey): z.ZodType | undefined {
  if (node instanceof z.ZodObject) return (node.shape as Record<string, z.ZodType>)[String(segment)]
  if (node instanceof z.ZodArray) return node.element as z.ZodType
  if (node instanceof z.ZodRecord) return node.valueType as z.ZodType
  return undefined
}

function unwrap(node: z.ZodType): z.ZodType {
  return node instanceof z.ZodOptional ? unwrap(node.unwrap() as z.ZodType) : node
}

/**
 * `scrub.patterns.0.pattern`; keys that are not plain words are quoted,
 * as in `parameters.rules["db.*"]`, so the path stays unambiguous.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += out === '' ? String(segment) : `.${segment}`
    else if (typeof segment === 'string' && /^[A-Za-z0-9_$-]+$/.test(segment) && segment.length <= MAX_QUOTED) {
      out += out === '' ? segment : `.${segment}`
    } else out += `[${quoteString(String(segment))}]`
  }
  return out
}

/** A short, safe description of a found value: `"ful"`, `99`, `null`, `a list of 3 items`, `nothing`. */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (typeof value === 'string') return value === '' ? 'an empty string' : quoteString(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}

function quoteString(value: string): string {
  if (value.length <= MAX_QUOTED) return JSON.stringify(value)
  return `${JSON.stringify(value.slice(0, MAX_QUOTED))}… (${value.length} characters)`
}

function quoteValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
