import { InvalidArgumentError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import type { PayloadAction, PayloadPolicy } from './schema.js'

/**
 * Which rule of `payloads.rules` names a payload, and its action.
 *
 * @example
 * ```ts
 * const { action, rule }: PayloadRuleMatch = matchPayloadRule(policy.payloads, 'temporal:json/plain')
 * console.log(rule === undefined ? `default: ${action}` : `${rule}: ${action}`)
 * ```
 */
export interface PayloadRuleMatch {
  /** The action the policy names for the payload. */
  readonly action: PayloadAction
  /** The matching rule's glob as written; `undefined` when `payloads.default` applied. */
  readonly rule: string | undefined
}

// A payload name is `<engine>:<name>`: 1-64 lowercase engine characters, then
// 1-1024 characters that are not control characters.
const ENGINE_PREFIX = /^[a-z][a-z0-9-]{0,63}:/
const MAX_NAME_LENGTH = 1024

function isPayloadName(name: unknown): name is string {
  if (typeof name !== 'string') return false
  const prefix = ENGINE_PREFIX.exec(name)
  if (prefix === null) return false
  const rest = name.length - prefix[0].length
  if (rest < 1 || rest > MAX_NAME_LENGTH) return false
  for (let i = prefix[0].length; i < name.length; i++) {
    const unit = name.charCodeAt(i)
    if (unit < 0x20 || unit === 0x7f) return false
  }
  return true
}

interface CompiledRule {
  readonly glob: string
  readonly match: PayloadRuleMatch
}

// Keyed by the frozen `payloads` section of a resolved policy: compiled once per policy.
const compiled = new WeakMap<PayloadPolicy, readonly CompiledRule[]>()

/**
 * The action `payloads` names for the payload called `name`
 * (`<engine>:<name>`, as each adapter documents its names: `temporal:json/plain`,
 * `restate:Greeter/greet/input`, `restate:journal`). Rules are tried in
 * their order and the first whose glob matches the whole name wins; in a
 * glob `*` stands for any run of characters (`/` and `:` included) and
 * every other character for itself. No rule: `payloads.default`.
 *
 * This is the policy's word only. What an adapter then does also depends on
 * the payload (over `offloadAbove`, or holding a registered secret) and on
 * what it can do (offload needs a `Result`).
 *
 * @throws InvalidArgumentError when `name` is not shaped `<engine>:<name>`.
 * @example
 * ```ts
 * const payloads = definePolicy({ payloads: { rules: { 'temporal:binary/*': 'clear' } } }).payloads
 * matchPayloadRule(payloads, 'temporal:binary/null')   // { action: 'clear', rule: 'temporal:binary/*' }
 * matchPayloadRule(payloads, 'temporal:json/plain')    // { action: 'encrypt', rule: undefined }
 * ```
 */
export function matchPayloadRule(payloads: PayloadPolicy, name: string): PayloadRuleMatch {
  if (!isPayloadName(name)) {
    throw new InvalidArgumentError(`a payload name is <engine>:<name> (for example temporal:json/plain), got ${describeType(name)}`)
  }
  let rules = compiled.get(payloads)
  if (rules === undefined) {
    rules = Object.entries(payloads.rules).map(([glob, action]) => ({ glob, match: Object.freeze({ action, rule: glob }) }))
    compiled.set(payloads, rules)
  }
  for (const rule of rules) if (globMatches(rule.glob, name)) return rule.match
  return { action: payloads.default, rule: undefined }
}

// Wildcard matching in O(glob x name) time, without a regular expression:
// a glob with many stars must not be able to make matching backtrack
// exponentially. On a mismatch, the last star takes one more character.
function globMatches(glob: string, name: string): boolean {
  let g = 0
  let n = 0
  let star = -1
  let resume = 0
  while (n < name.length) {
    if (g < glob.length && glob[g] === '*') {
      star = g++
      resume = n
    } else if (g < glob.length && glob[g] === name[n]) {
      g++
      n++
    } else if (star !== -1) {
      g = star + 1
      n = ++resume
    } else {
      return false
    }
  }
  while (g < glob.length && glob[g] === '*') g++
  return g === glob.length
}
