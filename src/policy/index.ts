// airlock-sdk/policy: defining, loading and inspecting policies. The root
// export keeps definePolicy and loadPolicy.

export { definePolicy, type ResolvedPolicy, type DefinePolicyOptions } from './define-policy.js'
export { loadPolicy } from './load-policy.js'
export { presets, PRESET_NAMES, type PresetName } from './presets.js'
export { policyHash } from './policy-hash.js'
export { policyJsonSchema } from './policy-json-schema.js'
export type { PolicyInput } from './policy-input.js'
export { POLICY_ENV_VARS, readPolicyEnv } from './env-overrides.js'
export { matchParameterRule, type ParameterRuleMatch } from './parameter-rules.js'
export { matchPayloadRule, type PayloadRuleMatch } from './payload-rules.js'
export type { PathRuleSet, PathRuleDecision } from './path-rule-set.js'
export {
  DETECTOR_IDS,
  DETECTOR_PACKS,
  DEFAULT_SENSITIVE_KEYS,
  PACK_IDS,
  packOf,
  type DetectorId,
  type PackId,
} from './detector-ids.js'
export type {
  Policy,
  ParameterAction,
  ScrubAction,
  PayloadAction,
  LogLevel,
  DetectorSetting,
  CustomPattern,
  ParameterPolicy,
  LogPolicy,
  ExceptionPolicy,
  LocationPolicy,
  InlineValuePolicy,
  StatePolicy,
  PayloadPolicy,
  TelemetryPolicy,
  ScrubPolicy,
} from './schema.js'
