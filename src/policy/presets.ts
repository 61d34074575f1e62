import { deepFreeze } from './deep-freeze.js'
import { DETECTOR_IDS, PACK_IDS } from './detector-ids.js'
import type { DetectorId, PackId } from './detector-ids.js'
import type { Policy, ScrubPolicy } from './schema.js'

/**
 * The names of the built-in presets.
 *
 * @example
 * ```ts
 * for (const name of PRESET_NAMES) console.log(name, presets[name].parameters.default)   // allow, scrub, hash
 * ```
 */
export const PRESET_NAMES = ['permissive', 'balanced', 'strict'] as const

/**
 * One built-in preset's name.
 *
 * @example
 * ```ts
 * const preset: PresetName = process.env.NODE_ENV === 'production' ? 'strict' : 'balanced'
 * const policy = definePolicy({ preset })
 * ```
 */
export type PresetName = (typeof PRESET_NAMES)[number]

function everyDetector(on: boolean): Record<DetectorId, boolean> {
  return Object.fromEntries(DETECTOR_IDS.map((id) => [id, on])) as Record<DetectorId, boolean>
}

function everyPack(on: boolean): Record<PackId, boolean> {
  return Object.fromEntries(PACK_IDS.map((id) => [id, on])) as Record<PackId, boolean>
}

/** What every preset shares: size limits that keep scrubbing bounded. */
function scrubSection(detectorsOn: boolean): ScrubPolicy {
  return {
    action: 'redact',
    detectors: everyDetector(detectorsOn),
    packs: everyPack(detectorsOn),
    patterns: [],
    sensitiveKeys: [],
    minSecretLength: 5,
    maxDepth: 32,
    maxStringLength: 8192,
    maxNodes: 10_000,
  }
}

const permissive: Policy = {
  version: 1,
  parameters: { default: 'allow', rules: {} },
  logs: { ship: true, level: 'info', redactPaths: [], scrubLocal: false, maxRecordBytes: 16_384 },
  exceptions: { mode: 'full', stack: 'scrubbed', maxCauseDepth: 5 },
  locations: { mode: 'plain' },
  inlineValues: { mode: 'allow' },
  states: { messages: 'allow', names: 'allow' },
  payloads: { default: 'clear', rules: {}, offloadAbove: 1_048_576 },
  telemetry: { spans: true, attributes: { default: 'allow', rules: {} } },
  scrub: scrubSection(false),
  checkpointing: true,
}

const balanced: Policy = {
  version: 1,
  parameters: { default: 'scrub', rules: {} },
  logs: { ship: true, level: 'info', redactPaths: [], scrubLocal: true, maxRecordBytes: 16_384 },
  exceptions: { mode: 'scrubbed', stack: 'drop', maxCauseDepth: 5 },
  locations: { mode: 'encrypt' },
  inlineValues: { mode: 'refuse' },
  states: { messages: 'scrub', names: 'allow' },
  payloads: { default: 'encrypt', rules: {}, offloadAbove: 262_144 },
  telemetry: { spans: true, attributes: { default: 'scrub', rules: {} } },
  scrub: scrubSection(true),
  checkpointing: true,
}

const strict: Policy = {
  version: 1,
  parameters: { default: 'hash', rules: {} },
  logs: { ship: true, level: 'warn', redactPaths: [], scrubLocal: true, maxRecordBytes: 16_384 },
  exceptions: { mode: 'type', stack: 'drop', maxCauseDepth: 5 },
  locations: { mode: 'encrypt' },
  inlineValues: { mode: 'refuse' },
  states: { messages: 'scrub', names: 'allow' },
  payloads: { default: 'encrypt', rules: {}, offloadAbove: 65_536 },
  telemetry: { spans: true, attributes: { default: 'hash', rules: {} } },
  scrub: scrubSection(true),
  checkpointing: true,
}

/**
 * The three built-in policies, fully resolved and deeply frozen. Start from
 * one with {@link definePolicy}`({ preset, ...overrides })` rather than
 * copying it; docs/policy.md lists every field's value in each.
 *
 * - `permissive`: the classic hybrid model. Everything is sent as is; only
 *   registered secrets are masked (no detector runs, locations are plain,
 *   engine payloads are clear unless they hold a registered secret).
 * - `balanced` (the default): parameter values, log strings, span
 *   attributes, state messages and exception messages are scrubbed; stacks
 *   are dropped; locations and engine payloads are encrypted (payloads over
 *   256 KiB offloaded); inline values are refused.
 * - `strict`: deny by default. Parameters and span attributes are hashed
 *   unless a rule allows them, exceptions carry their type only, logs ship
 *   at `warn` and above, payloads over 64 KiB are offloaded.
 *
 * Registered secrets are masked under every preset; no field turns that off.
 *
 * @example
 * ```ts
 * import { presets, definePolicy } from 'airlock-sdk'
 *
 * presets.strict.exceptions.mode        // 'type'
 * Object.isFrozen(presets.balanced.logs) // true
 * const policy = definePolicy({ preset: 'strict', parameters: { rules: { region: 'allow' } } })
 * ```
 */
export const presets: Readonly<Record<PresetName, Policy>> = deepFreeze({ permissive, balanced, strict })
