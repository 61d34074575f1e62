import { canonicalText } from '../crypto/canonical-text.js'
import type { PathRuleDecision, PathRuleSet } from '../policy/path-rule-set.js'
import { WITHHELD_MARKER, redactedMarker } from './markers.js'
import { isNormalizedObject } from './normalize.js'
import { SENSITIVE_RULE, type TextScrubber } from './text-scrubber.js'
import {
  MAX_TRANSFORM_PATH_LENGTH,
  SENSITIVE_KEY_RULE,
  joinTransformPath,
  renderPathSegment,
  type ScrubTransform,
  type TransformAction,
} from './transform.js'
import { ErrorNode, MarkerNode, ReferenceNode, type ErrorNodeChanges, type Normalized, type NormalizedObject } from './value-nodes.js'

/**
 * How one walk treats the normalized tree.
 *
 * @example
 * ```ts
 * const options: WalkOptions = { secretsOnly: false, rules: redactPathRuleSet(policy.logs.redactPaths), defer: true }
 * ```
 */
export interface WalkOptions {
  /**
   * Replace registered secrets only: no detectors, no custom patterns, no
   * sensitive keys. For what the policy lets pass as is (`allow`, the `full`
   * exception mode, `permissive`). Bounds still hold.
   */
  readonly secretsOnly?: boolean
  /**
   * Path rules (parameter rules, redact paths), asked at each node before
   * anything else happens to it; see `PathRuleSet`.
   */
  readonly rules?: PathRuleSet | undefined
  /**
   * Hand errors, result references and values to encrypt back to the caller
   * as {@link DeferredNode}s instead of writing them: the boundary applies
   * the exceptions and locations policies and the value cipher to them
   * (asynchronously) and fills their slots. Without it, an error is written
   * as its fields, scrubbed (local log output), a reference as its JSON, and
   * an `encrypt` rule redacts (fail closed).
   */
  readonly defer?: boolean
}

/**
 * A node the walker left for the caller (see {@link WalkOptions.defer}):
 * its output slot is `parent[key]`, holding `null` until filled.
 *
 * @example
 * ```ts
 * for (const job of result.deferred) job.parent[job.key] = await settle(job)
 * ```
 */
export interface DeferredNode {
  /** `error`: apply the exceptions policy; `reference`: the locations policy; `encrypt`: encrypt `text`. */
  readonly kind: 'error' | 'reference' | 'encrypt'
  readonly error?: ErrorNode
  readonly reference?: ReferenceNode
  /** `encrypt`: the canonical text of the value. */
  readonly text?: string
  /** The transform path of the slot, keys scrubbed. */
  readonly path: string
  /** The container holding the slot (for the root, the {@link WalkResult} itself, key `value`). */
  readonly parent: Record<string | number, unknown>
  readonly key: string | number
}

/**
 * What a walk produced: the scrubbed copy, what was done (paths hold
 * scrubbed keys only, bounded in length), and what was left to the caller.
 *
 * @example
 * ```ts
 * const { value, transforms, deferred }: WalkResult = walker.run(tree, { defer: true })
 * ```
 */
export interface WalkResult {
  value: unknown
  readonly transforms: ScrubTransform[]
  readonly deferred: DeferredNode[]
}

// Integers this large may be card numbers or other identifiers; smaller ones cannot match any detector.
const SCRUBBED_INTEGER = 1e12
const DROP = Symbol('drop')
const ERROR_FIELDS = ['name', 'message', 'stack', 'code'] as const


/**
 * The one walker (docs/design.md, invariant 7): it takes a normalized tree (see
 * `Normalizer`) and returns the copy that may leave. At each node, in order:
 *
 * 1. path rules decide first (`allow`: registered secrets only from here
 *    down; `scrub`; `hash`: a keyed fingerprint of the value's canonical
 *    text; `encrypt`; `redact`: `[REDACTED:<rule>]`; `drop`: the key goes);
 * 2. a value under a key that names a secret (`password`, `apiKey`) is
 *    replaced whole, unless a rule decided it;
 * 3. otherwise strings are scrubbed then cut to `maxStringLength`, integers
 *    of 13 digits or more are scrubbed as text, keys are scrubbed, errors
 *    and references are deferred or written, markers are written.
 *
 * Transform paths are built from scrubbed keys and bounded in length, so a
 * secret used as a key reaches neither the wire nor the ledger through a
 * path. The walker never mutates the tree. It is reused from call to call
 * (its stacks are fields, not per-call closures) and is not re-entrant.
 *
 * @example
 * ```ts
 * const walker = new Walker(engine)
 * walker.run(normalizer.run({ user: { email: 'ada@example.com' } }), {}).value // { user: { email: '[REDACTED:email]' } }
 * ```
 */
export class Walker {
  /** True while a walk is in progress. */
  busy = false
  readonly #engine: TextScrubber
  // Scrubbed keys and indexes, rendered only when a transform is recorded; and
  // the raw keys, kept only while rules are asked.
  readonly #path: (string | number)[] = []
  readonly #raw: (string | number)[] = []
  #transforms: ScrubTransform[] = []
  #deferred: DeferredNode[] = []
  #defer = false

  constructor(engine: TextScrubber) {
    this.#engine = engine
  }

  /** Walks `tree`; never throws: a failure gives the withheld marker. */
  run(tree: Normalized, options: WalkOptions): WalkResult {
    this.busy = true
    const result: WalkResult = { value: undefined, transforms: [], deferred: [] }
    this.#transforms = result.transforms
    this.#deferred = result.deferred
    this.#defer = options.defer === true
    try {
      result.value = this.#value(tree, options.secretsOnly === true, options.rules, result as unknown as Record<string, unknown>, 'value')
      return result
    } catch {
      // The tree is plain data; a throw here is a bug, and must not let anything through.
      return { value: WITHHELD_MARKER, transforms: [{ path: '$', rule: 'walker-error', action: 'withhold' }], deferred: [] }
    } finally {
      this.#path.length = 0
      this.#raw.length = 0
      this.busy = false
    }
  }

  #value(node: Normalized, secretsOnly: boolean, rules: PathRuleSet | undefined, parent: Record<string | number, unknown>, key: string | number): unknown {
    switch (typeof node) {
      case 'string':
        return this.#string(node, secretsOnly)
      case 'number':
        return !secretsOnly && Number.isInteger(node) && Math.abs(node) >= SCRUBBED_INTEGER ? this.#integer(node) : node
      case 'boolean':
      case 'undefined':
        return node
    }
    if (node === null) return null
    if (Array.isArray(node)) return this.#array(node as readonly Normalized[], secretsOnly, rules)
    if (node instanceof ErrorNode) return this.#error(node, secretsOnly, rules, parent, key)
    if (node instanceof ReferenceNode) return this.#reference(node, secretsOnly, rules, parent, key)
    if (node instanceof MarkerNode) {
      this.#record(node.rule, node.action)
      return node.text
    }
    return this.#object(node as NormalizedObject, secretsOnly, rules)
  }

  #string(text: string, secretsOnly: boolean): string {
    const engine = this.#engine
    const scrubbed = engine.scrubBounded(text, secretsOnly)
    if (engine.hitCount !== 0) this.#recordHits()
    if (engine.truncated) this.#record('max-string-length', 'truncate')
    return scrubbed
  }

  #integer(value: number): string | number {
    const text = String(value)
    const scrubbed = this.#engine.scrubText(text, false)
    if (scrubbed === text) return value
    this.#recordHits()
    return scrubbed
  }

  #array(items: readonly Normalized[], secretsOnly: boolean, rules: PathRuleSet | undefined): unknown[] {
    const out: unknown[] = []
    const path = this.#path
    for (let i = 0; i < items.length; i++) {
      path.push(i)
      const item = this.#entry(items[i], i, false, secretsOnly, rules, out as unknown as Record<number, unknown>, out.length)
      if (item !== DROP) out.push(item)
      path.pop()
    }
    return out
  }

  #object(object: NormalizedObject, secretsOnly: boolean, rules: PathRuleSet | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const engine = this.#engine
    const path = this.#path
    for (const key of Object.keys(object)) {
      const verdict = engine.scrubKey(key, secretsOnly)
      let safeKey = verdict.text
      // Two keys may scrub to the same text ("ada@x.io" and "bob@x.io"): keep both.
      if (safeKey !== key) {
        const base = safeKey
        for (let n = 2; Object.hasOwn(out, safeKey); n++) safeKey = `${base}#${n}`
      }
      path.push(safeKey)
      if (verdict.rules.length !== 0) this.#recordRules(verdict.rules)
      const sensitive = !secretsOnly && engine.sensitiveKeys.matches(key)
      const item = this.#entry(object[key], key, sensitive, secretsOnly, rules, out, safeKey)
      if (item !== DROP) define(out, safeKey, item)
      path.pop()
    }
    return out
  }

  // One child: rules first, then the sensitive-key rule, then the value itself.
  #entry(
    child: Normalized,
    rawKey: string | number,
    sensitiveKey: boolean,
    secretsOnly: boolean,
    rules: PathRuleSet | undefined,
    out: Record<string | number, unknown>,
    outKey: string | number,
  ): unknown {
    if (rules === undefined) {
      return sensitiveKey && carriesValue(child) ? this.#sensitive(child) : this.#value(child, secretsOnly, undefined, out, outKey)
    }
    const raw = this.#raw
    raw.push(rawKey)
    try {
      const decision = rules.decide(raw, isLeaf(child))
      if (decision !== undefined && decision.action !== 'scrub') return this.#decided(decision, child, out, outKey)
      if (sensitiveKey && carriesValue(child)) return this.#sensitive(child)
      // After an explicit or default `scrub`, ordinary scrubbing from here down.
      return this.#value(child, secretsOnly, decision === undefined ? rules : undefined, out, outKey)
    } finally {
      raw.pop()
    }
  }

  #decided(decision: PathRuleDecision, child: Normalized, out: Record<string | number, unknown>, outKey: string | number): unknown {
    const { action, rule } = decision
    switch (action) {
      case 'allow':
        return this.#value(child, true, undefined, out, outKey)
      case 'drop':
        this.#record(rule, 'drop')
        return DROP
      case 'hash': {
        const fingerprint = this.#engine.fingerprint(canonicalText(plain(child)))
        this.#record(rule, fingerprint === undefined ? 'redact' : 'hash')
        return fingerprint ?? redactedMarker(rule)
      }
      case 'encrypt':
        if (this.#defer) {
          this.#record(rule, 'encrypt')
          this.#deferred.push({ kind: 'encrypt', text: canonicalText(plain(child)), path: this.#pathString(), parent: out, key: outKey })
          return null
        }
        this.#record(rule, 'redact')
        return redactedMarker(rule)
      default:
        this.#record(rule, 'redact')
        return redactedMarker(rule)
    }
  }

  #sensitive(child: Normalized): string | typeof DROP {
    const engine = this.#engine
    const action = engine.ruleActions[SENSITIVE_RULE]!
    if (action === 'remove') {
      this.#record(SENSITIVE_KEY_RULE, 'remove')
      return DROP
    }
    if (typeof child === 'string' || typeof child === 'number') {
      this.#record(SENSITIVE_KEY_RULE, action)
      return engine.replaceWhole(SENSITIVE_RULE, String(child))
    }
    // A whole object under a sensitive key: no length to mask, no text to hash.
    this.#record(SENSITIVE_KEY_RULE, 'redact')
    return engine.marker(SENSITIVE_RULE)
  }

  #error(node: ErrorNode, secretsOnly: boolean, rules: PathRuleSet | undefined, parent: Record<string | number, unknown>, key: string | number): unknown {
    if (this.#defer) {
      const ruled = rules === undefined ? node : this.#ruledError(node, rules)
      this.#deferred.push({ kind: 'error', error: ruled, path: this.#pathString(), parent, key })
      return null
    }
    return this.#object(localError(node), secretsOnly, rules)
  }

  #reference(node: ReferenceNode, secretsOnly: boolean, rules: PathRuleSet | undefined, parent: Record<string | number, unknown>, key: string | number): unknown {
    if (this.#defer) {
      this.#deferred.push({ kind: 'reference', reference: node, path: this.#pathString(), parent, key })
      return null
    }
    return this.#object(node.json, secretsOnly, rules)
  }

  // An error goes to the exceptions policy whole; path rules that name its
  // fields (`err.message`, `err.cause.stack`) still apply first.
  #ruledError(node: ErrorNode, rules: PathRuleSet): ErrorNode {
    const raw = this.#raw
    const path = this.#path
    const changes: ErrorNodeChanges = {}
    let changed = false
    for (const field of ERROR_FIELDS) {
      const value = node[field]
      if (value === undefined) continue
      raw.push(field)
      path.push(field)
      const decision = rules.decide(raw, isLeaf(value))
      if (decision !== undefined && decision.action !== 'allow' && decision.action !== 'scrub') {
        // Inside an error a rule can only take away: drop it, or a marker in its place.
        const drop = decision.action === 'drop'
        this.#record(decision.rule, drop ? 'drop' : 'redact')
        changes[field] = drop ? undefined : redactedMarker(decision.rule)
        changed = true
      }
      path.pop()
      raw.pop()
    }
    if (node.cause instanceof ErrorNode) {
      raw.push('cause')
      path.push('cause')
      const cause = this.#ruledError(node.cause, rules)
      path.pop()
      raw.pop()
      if (cause !== node.cause) {
        changes.cause = cause
        changed = true
      }
    }
    if (node.errors !== undefined) {
      raw.push('errors')
      path.push('errors')
      const errors: Normalized[] = []
      for (let i = 0; i < node.errors.length; i++) {
        const item = node.errors[i]
        if (!(item instanceof ErrorNode)) {
          errors.push(item)
          continue
        }
        raw.push(i)
        path.push(i)
        const ruled = this.#ruledError(item, rules)
        path.pop()
        raw.pop()
        if (ruled !== item) changed = true
        errors.push(ruled)
      }
      path.pop()
      raw.pop()
      if (changed) changes.errors = errors
    }
    return changed ? node.with(changes) : node
  }

  #recordHits(): void {
    const engine = this.#engine
    const path = this.#pathString()
    for (let i = 0; i < engine.hitCount; i++) {
      const rule = engine.hits[i]!
      this.#transforms.push({ path, rule: engine.ruleIds[rule]!, action: engine.ruleActions[rule]! })
    }
  }

  #recordRules(rules: readonly number[]): void {
    const engine = this.#engine
    const path = this.#pathString()
    for (const rule of rules) this.#transforms.push({ path, rule: engine.ruleIds[rule]!, action: engine.ruleActions[rule]! })
  }

  #record(rule: string, action: TransformAction): void {
    this.#transforms.push({ path: this.#pathString(), rule, action })
  }

  #pathString(): string {
    const path = this.#path
    if (path.length === 0) return '$'
    let out = ''
    for (const segment of path) {
      out = joinTransformPath(out, renderPathSegment(segment))
      // joinTransformPath bounds the length: nothing more fits.
      if (out.endsWith('…') && out.length >= MAX_TRANSFORM_PATH_LENGTH) break
    }
    return out
  }
}

/**
 * An error as local output writes it: `name`, `message`, `stack`, `code`,
 * `cause`, `errors`, then its other own properties, each walked (and so
 * scrubbed) like any field.
 *
 * @example
 * ```ts
 * localError(node) // { name: 'TypeError', message: 'bad input', stack: '…' }
 * ```
 */
export function localError(node: ErrorNode): NormalizedObject {
  const out = Object.create(null) as Record<string, Normalized>
  if (node.name !== undefined) out.name = node.name
  out.message = node.message
  if (node.stack !== undefined) out.stack = node.stack
  if (node.code !== undefined) out.code = node.code
  if (node.cause !== undefined) out.cause = node.cause
  if (node.errors !== undefined) out.errors = node.errors
  if (node.props !== undefined) for (const key of Object.keys(node.props)) if (!(key in out)) out[key] = node.props[key]
  return out
}

/**
 * A normalized value as plain JSON-ready data, for hashing or encrypting
 * whole: an error as its fields (with `type`), a reference as its JSON, a
 * marker as its text.
 *
 * @example
 * ```ts
 * canonicalText(plain(normalizer.run({ card: '4111 1111 1111 1111' })))
 * ```
 */
export function plain(node: Normalized): unknown {
  if (typeof node !== 'object' || node === null) return node
  if (Array.isArray(node)) return (node as readonly Normalized[]).map(plain)
  if (node instanceof MarkerNode) return node.text
  if (node instanceof ReferenceNode) return plain(node.json)
  if (node instanceof ErrorNode) return { type: node.type, ...(plain(localError(node)) as Record<string, unknown>) }
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(node)) define(out, key, plain((node as NormalizedObject)[key]))
  return out
}

// Whether path rules see the node as a value, not a container to walk into.
function isLeaf(node: Normalized): boolean {
  return !(Array.isArray(node) || isNormalizedObject(node))
}

// null, undefined, booleans and '' say nothing secret; they keep their value.
function carriesValue(item: Normalized): boolean {
  return item !== null && item !== undefined && typeof item !== 'boolean' && item !== ''
}

// `out[key] = v` would set the prototype for "__proto__"; define it as an own property.
function define(out: Record<string, unknown>, key: string, item: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true })
  else out[key] = item
}
