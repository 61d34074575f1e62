import { InvalidArgumentError } from '../errors.js'
import { splitDottedKeys, type PathRuleDecision, type PathRuleSet } from './path-rule-set.js'
import type { ParameterAction, Policy } from './schema.js'

/** The `parameters` section of a policy. */
export type ParameterPolicy = Policy['parameters']

/** A path to one value inside a flow run's parameters: `'db.password'` or `['db', 'password']`. */
export type ParameterKeyPath = string | readonly (string | number)[]

const ANY_DEPTH = 0
const ANY_SEGMENT = 1
const LITERAL = 2
const WILDCARD = 3

interface GlobSegment {
  readonly kind: typeof ANY_DEPTH | typeof ANY_SEGMENT | typeof LITERAL | typeof WILDCARD
  /** LITERAL: the key itself. */
  readonly literal: string
  /** WILDCARD: the text between the `*`s, e.g. `['', '_token']` for `*_token`. */
  readonly parts: readonly string[]
}

/**
 * Which rule decided a parameter, and its action.
 *
 * @example
 * ```ts
 * const { action, rule }: ParameterRuleMatch = matchParameterRule(policy.parameters, 'db.password')
 * console.log(rule === undefined ? `default: ${action}` : `${rule}: ${action}`)
 * ```
 */
export interface ParameterRuleMatch {
  /** The action to apply to the value. */
  readonly action: ParameterAction
  /** The matching rule's key (its glob) as written in the policy; `undefined` when `parameters.default` applied. */
  readonly rule: string | undefined
}

interface CompiledRule {
  readonly segments: readonly GlobSegment[]
  /** Built once, so a match allocates nothing. */
  readonly match: ParameterRuleMatch
  readonly decision: PathRuleDecision
}

interface CompiledRules {
  readonly rules: readonly CompiledRule[]
  readonly fallback: ParameterRuleMatch
  readonly defaultDecision: PathRuleDecision
}

// Keyed by the frozen `parameters` object of a resolved policy, so globs are
// compiled once per policy and dropped with it.
const compiledByPolicy = new WeakMap<ParameterPolicy, CompiledRules>()

/**
 * Which rule decides the parameter value at `keyPath`, and its action.
 *
 * Each rule key is a dotted glob: `*` matches exactly one segment (a whole
 * key, or any part of one as in `*_token`), `**` matches any number of
 * segments, including none. A rule covers the value it names and everything
 * nested under it, so `db: encrypt` also decides `db.password`. Rules are
 * tried in insertion (file) order and the first match wins; put specific
 * rules before general ones. When none matches, `parameters.default` applies
 * and `rule` is `undefined`.
 * Matching is case-sensitive; array indexes are segments (`items.0.name`),
 * and a glob cannot name a key that itself contains a dot (pass the path as
 * an array to reach such a key with `*`).
 *
 * Globs are compiled on the first call and cached for the frozen policies
 * {@link definePolicy} returns, so calling this per parameter is cheap.
 *
 * @throws InvalidArgumentError when a rule's glob is malformed (only possible for a policy that skipped validation).
 * @example
 * ```ts
 * import { definePolicy, matchParameterRule } from 'airlock-sdk'
 *
 * const policy = definePolicy({
 *   preset: 'strict',
 *   parameters: { rules: { region: 'allow', 'db.host': 'allow', db: 'encrypt', '**.password': 'drop' } },
 * })
 * matchParameterRule(policy.parameters, 'region')            // { action: 'allow', rule: 'region' }
 * matchParameterRule(policy.parameters, ['db', 'port'])      // { action: 'encrypt', rule: 'db' }
 * matchParameterRule(policy.parameters, 'svc.auth.password') // { action: 'drop', rule: '**.password' }
 * matchParameterRule(policy.parameters, 'batchSize')         // { action: 'hash', rule: undefined }: strict's default
 * ```
 */
export function matchParameterRule(parameters: ParameterPolicy, keyPath: ParameterKeyPath): ParameterRuleMatch {
  const compiled = compiledRulesOf(parameters)
  const path = typeof keyPath === 'string' ? keyPath.split('.') : keyPath
  const index = firstMatch(compiled.rules, path)
  return index === -1 ? compiled.fallback : compiled.rules[index]!.match
}

/**
 * `parameters.rules` and `parameters.default` as the walker asks them, node
 * by node (see {@link PathRuleSet}). A node gets the action of the first
 * rule, in file order, that names it or one of its ancestors, exactly as
 * {@link matchParameterRule} says; a container is settled whole by that rule
 * only when no earlier rule could name something below it, so
 * `{ 'db.host': 'allow', db: 'encrypt' }` allows `db.host` and encrypts
 * every other value under `db` on its own. A leaf no rule names gets
 * `parameters.default`, under the rule id `parameters.default`.
 *
 * @example
 * ```ts
 * const rules = parameterRuleSet(definePolicy({ parameters: { rules: { 'db.host': 'allow', db: 'encrypt' } } }).parameters)
 * rules.decide(['db'], false)          // undefined: walk into db
 * rules.decide(['db', 'host'], true)   // { action: 'allow', rule: 'db.host' }
 * rules.decide(['db', 'port'], true)   // { action: 'encrypt', rule: 'db' }
 * rules.decide(['batch'], true)        // { action: 'scrub', rule: 'parameters.default' } under balanced
 * ```
 *
 * With `dottedKeys`, a key holding dots counts as that many segments, as
 * OpenTelemetry attribute keys do (`http.request.header.authorization` is
 * named by `http.request.header.*`): for `telemetry.attributes`, whose keys
 * are never nested objects.
 */
export function parameterRuleSet(parameters: ParameterPolicy, options: { readonly dottedKeys?: boolean } = {}): PathRuleSet {
  const compiled = compiledRulesOf(parameters)
  const dotted = options.dottedKeys === true
  return {
    decide(keys: readonly (string | number)[], leaf: boolean): PathRuleDecision | undefined {
      const path = dotted ? splitDottedKeys(keys) : keys
      const index = firstMatch(compiled.rules, path)
      if (index === -1) return leaf ? compiled.defaultDecision : undefined
      if (!leaf && earlierRuleBelow(compiled.rules, index, path)) return undefined
      return compiled.rules[index]!.decision
    },
  }
}

/** The rule id a leaf that no rule names is recorded under. */
const DEFAULT_RULE_ID = 'parameters.default'

function firstMatch(rules: readonly CompiledRule[], path: readonly (string | number)[]): number {
  for (let i = 0; i < rules.length; i++) {
    if (matchesPathOrAncestor(rules[i]!.segments, 0, path, 0)) return i
  }
  return -1
}

// Whether a rule before `index` could name a node strictly below `path`: then
// the node's own rule cannot settle it whole.
function earlierRuleBelow(rules: readonly CompiledRule[], index: number, path: readonly (string | number)[]): boolean {
  for (let i = 0; i < index; i++) {
    if (matchesBelow(rules[i]!.segments, 0, path, 0)) return true
  }
  return false
}

/**
 * Why a rule key is not a valid glob, or `undefined` when it is. The schema
 * uses it to reject malformed rule keys with their path.
 *
 * @example
 * ```ts
 * parameterGlobProblem('db.*')  // undefined
 * parameterGlobProblem('db..x') // 'expected dot-separated non-empty segments, ...'
 * ```
 */
export function parameterGlobProblem(glob: string): string | undefined {
  const segments = glob.split('.')
  if (segments.some((segment) => segment === '')) {
    return 'expected dot-separated non-empty segments, like db.password, *.token or **.secret'
  }
  if (segments.some((segment) => segment.includes('**') && segment !== '**')) {
    return 'expected ** to stand alone as a whole segment, like **.secret'
  }
  return undefined
}

function compiledRulesOf(parameters: ParameterPolicy): CompiledRules {
  const cached = compiledByPolicy.get(parameters)
  if (cached !== undefined) return cached
  const compiled: CompiledRules = {
    rules: Object.entries(parameters.rules).map(([glob, action]) => ({
      segments: compileGlob(glob),
      match: Object.freeze({ action, rule: glob }),
      decision: Object.freeze({ action, rule: glob }),
    })),
    fallback: Object.freeze({ action: parameters.default, rule: undefined }),
    defaultDecision: Object.freeze({ action: parameters.default, rule: DEFAULT_RULE_ID }),
  }
  // A mutable policy could change under the cache; only frozen ones are cached.
  if (Object.isFrozen(parameters) && Object.isFrozen(parameters.rules)) compiledByPolicy.set(parameters, compiled)
  return compiled
}

function compileGlob(glob: string): GlobSegment[] {
  const problem = parameterGlobProblem(glob)
  if (problem !== undefined) {
    throw new InvalidArgumentError(`parameters.rules key ${JSON.stringify(glob.slice(0, 40))}: ${problem}`)
  }
  const segments: GlobSegment[] = []
  for (const text of glob.split('.')) {
    // Consecutive `**` are one `**`; collapsing keeps matching polynomial.
    if (text === '**' && segments.at(-1)?.kind === ANY_DEPTH) continue
    segments.push(compileSegment(text))
  }
  return segments
}

function compileSegment(text: string): GlobSegment {
  if (text === '**') return { kind: ANY_DEPTH, literal: '', parts: [] }
  if (text === '*') return { kind: ANY_SEGMENT, literal: '', parts: [] }
  if (!text.includes('*')) return { kind: LITERAL, literal: text, parts: [] }
  return { kind: WILDCARD, literal: '', parts: text.split('*') }
}

/** True when the glob matches `path` itself or one of its ancestors. */
function matchesPathOrAncestor(
  segments: readonly GlobSegment[],
  segmentIndex: number,
  path: readonly (string | number)[],
  pathIndex: number,
): boolean {
  let si = segmentIndex
  let pi = pathIndex
  while (si < segments.length) {
    const segment = segments[si]!
    if (segment.kind === ANY_DEPTH) {
      for (let skip = pi; skip <= path.length; skip++) {
        if (matchesPathOrAncestor(segments, si + 1, path, skip)) return true
      }
      return false
    }
    if (pi === path.length || !segmentMatches(segment, path[pi]!)) return false
    si++
    pi++
  }
  return true
}

/**
 * True when the glob can match some path that extends `path` by one segment
 * or more: it has segments left once `path` is used up, or a `**` on the way.
 * Errs towards true, which only makes the walker look closer.
 */
function matchesBelow(
  segments: readonly GlobSegment[],
  segmentIndex: number,
  path: readonly (string | number)[],
  pathIndex: number,
): boolean {
  let si = segmentIndex
  let pi = pathIndex
  while (pi < path.length) {
    if (si === segments.length) return false
    const segment = segments[si]!
    // `**` can take the rest of the path and more; whatever follows it can
    // then be met by some key below.
    if (segment.kind === ANY_DEPTH) return true
    if (!segmentMatches(segment, path[pi]!)) return false
    si++
    pi++
  }
  return si < segments.length
}

function segmentMatches(segment: GlobSegment, key: string | number): boolean {
  switch (segment.kind) {
    case ANY_SEGMENT:
      return true
    case LITERAL:
      return segment.literal === (typeof key === 'number' ? String(key) : key)
    case WILDCARD:
      return wildcardMatches(segment.parts, typeof key === 'number' ? String(key) : key)
    default:
      return false // ANY_DEPTH never reaches here: matchesPathOrAncestor expands it
  }
}

/**
 * `*`-only glob matching in O(key length × parts): the first part must be a
 * prefix, the last a suffix, and each middle part is taken at its leftmost
 * occurrence, which is always optimal when `*` is the only wildcard.
 */
function wildcardMatches(parts: readonly string[], key: string): boolean {
  const first = parts[0]!
  const last = parts[parts.length - 1]!
  if (key.length < first.length + last.length || !key.startsWith(first) || !key.endsWith(last)) return false
  const end = key.length - last.length
  let position = first.length
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!
    const at = key.indexOf(part, position)
    if (at === -1 || at + part.length > end) return false
    position = at + part.length
  }
  return true
}
