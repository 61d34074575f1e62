import type { PolicyIssue } from '../errors.js'
import { describeFound } from './policy-issues.js'
import { logLevelSchema } from './schema.js'
import type { LogLevel } from './schema.js'

/**
 * The environment variables airlock-sdk reads, for the switches an operator
 * flips at deploy time without editing the policy file. An unset variable
 * changes nothing; a set one wins over the preset and the policy file.
 *
 * | variable | overrides | accepted values |
 * |---|---|---|
 * | `AIRLOCK_POLICY` | which file {@link loadPolicy} reads | a path to a `.json`, `.yaml` or `.yml` file |
 * | `AIRLOCK_SHIP_LOGS` | `logs.ship` | `true`, `false`, `1`, `0` |
 * | `AIRLOCK_LOG_LEVEL` | `logs.level` | `trace`, `debug`, `info`, `warn`, `error`, `fatal` |
 * | `AIRLOCK_CHECKPOINTING` | `checkpointing` | `true`, `false`, `1`, `0` |
 *
 * Values are matched ignoring case and surrounding spaces. Anything else,
 * including an empty value, is an error naming the variable: a typo in a
 * deploy switch must not be guessed at.
 *
 * @example
 * ```ts
 * import { POLICY_ENV_VARS } from 'airlock-sdk'
 * POLICY_ENV_VARS.includes('AIRLOCK_SHIP_LOGS') // true
 * ```
 */
export const POLICY_ENV_VARS = [
  'AIRLOCK_POLICY',
  'AIRLOCK_SHIP_LOGS',
  'AIRLOCK_LOG_LEVEL',
  'AIRLOCK_CHECKPOINTING',
] as const

/** The policy fields the environment can set. */
export interface PolicyEnvOverrides {
  readonly logs?: { readonly ship?: boolean; readonly level?: LogLevel }
  readonly checkpointing?: boolean
}

/** The overrides read from the environment, and every malformed variable. */
export interface PolicyEnvReading {
  readonly overrides: PolicyEnvOverrides
  readonly issues: readonly PolicyIssue[]
}

/**
 * Reads the deploy-time switches from `env`. Never throws: malformed
 * variables come back as issues (path = the variable's name) so they are
 * reported together with every other problem in one {@link PolicyError}.
 *
 * @example
 * ```ts
 * const { overrides, issues } = readPolicyEnv({ AIRLOCK_SHIP_LOGS: 'false', AIRLOCK_LOG_LEVEL: 'loud' })
 * overrides // { logs: { ship: false } }
 * issues    // [{ path: 'AIRLOCK_LOG_LEVEL', message: 'expected one of "trace" | ... , got "loud"' }]
 * ```
 */
export function readPolicyEnv(env: NodeJS.ProcessEnv): PolicyEnvReading {
  const issues: PolicyIssue[] = []
  const ship = readBoolean(env, 'AIRLOCK_SHIP_LOGS', issues)
  const level = readLogLevel(env, issues)
  const checkpointing = readBoolean(env, 'AIRLOCK_CHECKPOINTING', issues)
  const logs = { ...(ship !== undefined && { ship }), ...(level !== undefined && { level }) }
  const overrides: PolicyEnvOverrides = {
    ...(Object.keys(logs).length > 0 && { logs }),
    ...(checkpointing !== undefined && { checkpointing }),
  }
  return { overrides, issues }
}

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1'])
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0'])

function readBoolean(env: NodeJS.ProcessEnv, name: string, issues: PolicyIssue[]): boolean | undefined {
  const raw = env[name]
  if (raw === undefined) return undefined
  const word = raw.trim().toLowerCase()
  if (TRUE_WORDS.has(word)) return true
  if (FALSE_WORDS.has(word)) return false
  issues.push({ path: name, message: `expected true, false, 1 or 0, got ${describeFound(raw)}` })
  return undefined
}

function readLogLevel(env: NodeJS.ProcessEnv, issues: PolicyIssue[]): LogLevel | undefined {
  const raw = env.AIRLOCK_LOG_LEVEL
  if (raw === undefined) return undefined
  const parsed = logLevelSchema.safeParse(raw.trim().toLowerCase())
  if (parsed.success) return parsed.data
  const expected = logLevelSchema.options.map((level) => JSON.stringify(level)).join(' | ')
  issues.push({ path: 'AIRLOCK_LOG_LEVEL', message: `expected one of ${expected}, got ${describeFound(raw)}` })
  return undefined
}
