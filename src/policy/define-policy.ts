import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { PolicyError } from '../errors.js'
import type { PolicyIssue } from '../errors.js'
import { deepFreeze } from './deep-freeze.js'
import { DETECTOR_PACKS, PACK_IDS } from './detector-ids.js'
import { readPolicyEnv } from './env-overrides.js'
import { policyHash } from './policy-hash.js'
import { policyInputSchema } from './policy-input.js'
import type { PolicyInput } from './policy-input.js'
import { formatPath, policyIssuesFromZod } from './policy-issues.js'
import { presets } from './presets.js'
import { policySchema } from './schema.js'
import type { Policy } from './schema.js'

/**
 * A validated, deeply frozen policy, carrying its {@link policyHash} as a
 * non-enumerable `hash` (so it stays out of `JSON.stringify`, spreads and
 * the hash's own input).
 *
 * @example
 * ```ts
 * const policy: ResolvedPolicy = definePolicy({ preset: 'strict' })
 * policy.hash                    // 'ph1.…'
 * 'hash' in JSON.parse(JSON.stringify(policy))   // false
 * ```
 */
export type ResolvedPolicy = Policy & { readonly hash: string }

export type { PolicyInput }

/**
 * Options of {@link definePolicy} and {@link loadPolicy}.
 *
 * @example
 * ```ts
 * definePolicy({ preset: 'strict' }, { env: {} })   // ignores AIRLOCK_* switches, as a test wants
 * loadPolicy('airlock.policy.yaml', { env: { AIRLOCK_LOG_LEVEL: 'error' } })
 * ```
 */
export interface DefinePolicyOptions {
  /** Where the deploy-time switches are read from; default `process.env`. Pass `{}` to ignore the environment. */
  readonly env?: NodeJS.ProcessEnv
}

/**
 * Builds a policy: the chosen preset (default `balanced`), then `input`
 * merged over it, then the environment's switches (see
 * {@link POLICY_ENV_VARS}), then validation of the result.
 *
 * Merging: objects merge field by field at every depth, so
 * `{ logs: { level: 'warn' } }` keeps the preset's other `logs` fields, and
 * `scrub.detectors` and `scrub.packs` merge id by id; a pack the input names
 * sets each of its detectors the input does not name itself, and the
 * resolved `scrub.detectors` lists every detector's effective setting. Arrays (`scrub.patterns`,
 * `scrub.sensitiveKeys`, `logs.redactPaths`) and rule sets (`parameters.rules`, `payloads.rules`, `telemetry.attributes.rules`) replace
 * the preset's value whole: rules are ordered (the first match wins), so
 * splicing two rule sets would make their order a guess. A field set to
 * `undefined` counts as not given.
 *
 * @throws InvalidArgumentError for an options object with a key other than `env`.
 * @throws PolicyError listing every problem at once, each with its dotted
 *   path (`exceptions.mode`) or environment variable, what was expected and
 *   what was found.
 * @example
 * ```ts
 * import { definePolicy } from 'airlock-sdk'
 *
 * const policy = definePolicy({
 *   preset: 'balanced',
 *   parameters: { rules: { region: 'allow', 'db.password': 'drop' } },
 *   scrub: { packs: { network: false }, detectors: { ipv4: true }, patterns: [{ id: 'employee-id', pattern: 'EMP-[0-9]{6}' }] },
 * })
 * policy.exceptions.mode // 'scrubbed'
 * policy.scrub.detectors['mac-address'] // false: the network pack is off
 * policy.scrub.detectors.ipv4           // true: named by id, which wins over its pack
 * policy.hash            // 'ph1.…'
 * ```
 */
export function definePolicy(input?: PolicyInput, options?: DefinePolicyOptions): ResolvedPolicy {
  if (options !== undefined) assertKnownOptions('definePolicy', options, ['env'])
  return resolvePolicy(input === undefined ? {} : input, options?.env ?? process.env, undefined)
}

/**
 * {@link definePolicy} for input of unknown shape (a parsed file), with
 * errors naming `source`.
 */
export function resolvePolicy(input: unknown, env: NodeJS.ProcessEnv, source: string | undefined): ResolvedPolicy {
  const issues: PolicyIssue[] = inputShapeIssues(input, [])
  const parsed = policyInputSchema.safeParse(input, { reportInput: true })
  if (!parsed.success) {
    const reported = new Set(issues.map((issue) => issue.path))
    const fromSchema = policyIssuesFromZod(parsed.error.issues, policyInputSchema)
    issues.push(...fromSchema.filter((issue) => !reported.has(issue.path)))
  }
  const fromEnv = readPolicyEnv(env)
  issues.push(...fromEnv.issues)
  if (!parsed.success || issues.length > 0) throw new PolicyError(issues, source)

  const { preset = 'balanced', $schema: _editorHint, ...overrides } = parsed.data
  const merged = withPacksApplied(mergeOver(mergeOver(presets[preset], overrides, ''), fromEnv.overrides, ''), overrides.scrub)
  // Re-validated as a whole: the input schema checked each field, this checks the result.
  const resolved = policySchema.safeParse(merged, { reportInput: true })
  if (!resolved.success) throw new PolicyError(policyIssuesFromZod(resolved.error.issues, policySchema), source)

  const policy = resolved.data
  Object.defineProperty(policy, 'hash', { value: policyHash(policy), enumerable: false })
  return deepFreeze(policy) as ResolvedPolicy
}

/**
 * Writes the packs the input names into `scrub.detectors`: each detector of
 * such a pack takes the pack's setting, unless the input names the detector
 * itself (an id is more specific than its pack, whatever order they are
 * written in). A pack the input does not name changes nothing: the preset's
 * detector settings stand. So the resolved policy lists every detector's
 * effective setting, as it always has.
 */
function withPacksApplied(merged: unknown, input: PolicyInput['scrub']): unknown {
  const packs = input?.packs
  if (packs === undefined || !isPlainObject(merged) || !isPlainObject(merged.scrub) || !isPlainObject(merged.scrub.detectors)) return merged
  const detectors: Record<string, unknown> = { ...merged.scrub.detectors }
  const named = input?.detectors ?? {}
  for (const pack of PACK_IDS) {
    const setting = packs[pack]
    if (setting === undefined) continue
    for (const id of DETECTOR_PACKS[pack]) if (named[id] === undefined) detectors[id] = setting
  }
  return { ...merged, scrub: { ...merged.scrub, detectors } }
}

/** Paths whose value replaces the preset's instead of merging into it. */
const REPLACED_WHOLE: ReadonlySet<string> = new Set(['parameters.rules', 'payloads.rules', 'telemetry.attributes.rules'])

function mergeOver(base: unknown, override: unknown, path: string): unknown {
  if (override === undefined) return base
  if (!isPlainObject(base) || !isPlainObject(override) || REPLACED_WHOLE.has(path)) return override
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(override)) {
    merged[key] = mergeOver(base[key], value, path === '' ? key : `${path}.${key}`)
  }
  return merged
}

// What parsed JSON or YAML and object literals make; not an array, a Map, a Date or a class instance.
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Deep enough for every policy field (`scrub.patterns.0.id`), shallow enough that hostile nesting cannot overflow the stack. */
const MAX_WALK_DEPTH = 8

/**
 * What zod lets through without a word, refused: an own `__proto__` key (as
 * `JSON.parse` makes), which zod drops from records, silently losing a
 * parameter rule; and an object that is not plain (a Map, a Date), which zod
 * reads as an empty section, silently keeping the preset's.
 */
function inputShapeIssues(value: unknown, path: PropertyKey[]): PolicyIssue[] {
  if (typeof value !== 'object' || value === null || path.length > MAX_WALK_DEPTH) return []
  if (!Array.isArray(value) && !isPlainObject(value)) {
    return [{ path: formatPath(path), message: `expected a mapping of policy fields, got ${describeType(value)}` }]
  }
  const issues: PolicyIssue[] = []
  for (const key of Object.keys(value)) {
    const childPath = [...path, Array.isArray(value) ? Number(key) : key]
    if (key === '__proto__') {
      issues.push({ path: formatPath(childPath), message: 'unknown key; "__proto__" is reserved' })
    } else {
      issues.push(...inputShapeIssues((value as Record<string, unknown>)[key], childPath))
    }
  }
  return issues
}
