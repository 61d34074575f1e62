import type { ParameterAction } from './schema.js'

/**
 * What a path rule does to the value it names (and everything under it):
 * a parameter action, or `redact` for a log redact path.
 *
 * @example
 * ```ts
 * const decision: PathRuleDecision = { action: 'drop', rule: 'debug.*' }
 * ```
 */
export interface PathRuleDecision {
  /** The action, as in `parameters.rules`. */
  readonly action: ParameterAction
  /** The rule's id in transforms: the glob or path as written in the policy, or `parameters.default`. */
  readonly rule: string
}

/**
 * Path rules as the one walker asks them, node by node, on the normalized
 * value: `parameters.rules` (with `parameters.default` at the leaves) and
 * `logs.redactPaths`. Paths are the raw keys and indexes from the root,
 * never re-split strings, so a key holding a dot cannot pose as a path.
 *
 * `decide(path, leaf)` answers for the node at `path`: a decision covers
 * that node and everything under it, and the walker does not ask again
 * below it; `undefined` means "walk on" (into a container's children, or
 * on to ordinary scrubbing for a leaf). A leaf is a value with no children
 * to walk into: a string, number, boolean, null, an error or a result
 * reference.
 *
 * @example
 * ```ts
 * const rules: PathRuleSet = parameterRuleSet(policy.parameters)
 * rules.decide(['db', 'password'], true)   // { action: 'drop', rule: '**.password' }
 * rules.decide(['db'], false)              // undefined: a rule may decide something below db
 * ```
 */
export interface PathRuleSet {
  decide(path: readonly (string | number)[], leaf: boolean): PathRuleDecision | undefined
}

/**
 * A path's keys with every key that holds dots split at them:
 * OpenTelemetry attribute keys are dotted paths in one key
 * (`http.request.header.cookie`), and rules over them name those segments.
 *
 * @example
 * ```ts
 * splitDottedKeys(['http.request.method', 0]) // ['http', 'request', 'method', 0]
 * ```
 */
export function splitDottedKeys(keys: readonly (string | number)[]): readonly (string | number)[] {
  // Most paths hold no dotted key: those are returned as they are, without a copy.
  if (!keys.some((key) => typeof key === 'string' && key.includes('.'))) return keys
  const out: (string | number)[] = []
  for (const key of keys) {
    if (typeof key === 'string' && key.includes('.')) out.push(...key.split('.'))
    else out.push(key)
  }
  return out
}
