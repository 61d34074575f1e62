import { z } from 'zod'
import type { AssertTypesMatch, TypesMatch } from '../internal/types-match.js'
import { DETECTOR_IDS, PACK_IDS } from './detector-ids.js'
import type { DetectorId, PackId } from './detector-ids.js'
import { PRESET_NAMES, type PresetName } from './presets.js'
import {
  policySchema,
  type DetectorSetting,
  type ExceptionPolicy,
  type InlineValuePolicy,
  type LocationPolicy,
  type LogPolicy,
  type ParameterPolicy,
  type PayloadPolicy,
  type ScrubPolicy,
  type StatePolicy,
  type TelemetryPolicy,
} from './schema.js'

const { shape } = policySchema
const detectorSetting = shape.scrub.shape.detectors.valueType

// Spelled out per id (rather than a record) so editors reading the JSON
// Schema offer every detector id as a completion.
const detectorsInput = z
  .strictObject(
    Object.fromEntries(DETECTOR_IDS.map((id) => [id, detectorSetting.optional()])) as Record<
      DetectorId,
      z.ZodOptional<typeof detectorSetting>
    >,
  )
  .describe(shape.scrub.shape.detectors.description ?? '')

const packsInput = z
  .strictObject(
    Object.fromEntries(PACK_IDS.map((id) => [id, detectorSetting.optional()])) as Record<PackId, z.ZodOptional<typeof detectorSetting>>,
  )
  .describe(shape.scrub.shape.packs.description ?? '')

/**
 * The zod schema of what a user writes: in a policy file or as the argument
 * of {@link definePolicy}. Every field is optional and overrides the
 * preset's value; `preset` picks the starting point (default `balanced`).
 * Objects are strict at every level, so a misspelt key is an error.
 * `$schema` is accepted and ignored, so a file can point its editor at
 * docs/policy.schema.json.
 *
 * @internal
 * @example
 * ```ts
 * policyInputSchema.safeParse({ preset: 'strict', logs: { level: 'error' } }).success // true
 * ```
 */
export const policyInputSchema = z
  .strictObject({
    $schema: z.string().optional().describe('the JSON Schema this file follows, for editors; ignored'),
    preset: z
      .enum(PRESET_NAMES)
      .optional()
      .describe('the preset the other fields override: permissive, balanced (default) or strict'),
    version: shape.version.optional(),
    parameters: shape.parameters.partial().optional().describe('the JSON of a flow run\'s parameters'),
    logs: shape.logs.partial().optional().describe('log records shipped by the logger'),
    exceptions: shape.exceptions.partial().optional().describe('the message of a Failed state, its stack and cause chain'),
    locations: shape.locations.partial().optional().describe('Result.location of every persisted result'),
    inlineValues: shape.inlineValues.partial().optional().describe('a JSONResult value, which is its own location'),
    states: shape.states.partial().optional().describe('state names and messages; flow, task and run names; tags'),
    payloads: shape.payloads.partial().optional().describe('values an engine keeps in its history: Temporal payloads, Restate journal values'),
    telemetry: shape.telemetry
      .extend({ attributes: shape.telemetry.shape.attributes.partial() })
      .partial()
      .optional()
      .describe('spans exported through OpenTelemetry'),
    scrub: shape.scrub
      .extend({ detectors: detectorsInput, packs: packsInput })
      .partial()
      .optional()
      .describe('how the scrubber finds and replaces sensitive text, in every channel that scrubs'),
    checkpointing: shape.checkpointing.optional(),
  })
  .meta({
    title: 'airlock-sdk policy',
    description:
      'Which workflow metadata may reach the control plane, and in what form. ' +
      'Every field is optional and overrides the chosen preset. See docs/policy.md.',
  })

/**
 * What {@link definePolicy} and policy files accept: a preset name plus
 * any subset of the policy's fields, at any depth. Arrays (`scrub.patterns`,
 * `scrub.sensitiveKeys`, `logs.redactPaths`) and `parameters.rules` are
 * given whole: they replace the preset's value. Readonly so that `as const`
 * objects and frozen policies are accepted as they are.
 *
 * @example
 * ```ts
 * const input: PolicyInput = { preset: 'strict', parameters: { rules: { region: 'allow' } }, logs: { level: 'error' } }
 * const policy = definePolicy(input)
 * ```
 */
export interface PolicyInput {
  /** The JSON Schema this file follows, for editors; ignored. */
  readonly $schema?: string | undefined
  /** The preset the other fields override: `permissive`, `balanced` (the default) or `strict`. */
  readonly preset?: PresetName | undefined
  /** The policy format version. */
  readonly version?: 1 | undefined
  /** The JSON of a flow run's parameters. */
  readonly parameters?: Overrides<ParameterPolicy> | undefined
  /** Log records shipped by the logger. */
  readonly logs?: Overrides<LogPolicy> | undefined
  /** The message of a Failed state, its stack and cause chain. */
  readonly exceptions?: Overrides<ExceptionPolicy> | undefined
  /** `Result.location` of every persisted result. */
  readonly locations?: Overrides<LocationPolicy> | undefined
  /** A `JSONResult` value, which is its own location. */
  readonly inlineValues?: Overrides<InlineValuePolicy> | undefined
  /** State names and messages; flow, task and run names; tags. */
  readonly states?: Overrides<StatePolicy> | undefined
  /** Values an engine keeps in its history: Temporal payloads, Restate journal values. */
  readonly payloads?: Overrides<PayloadPolicy> | undefined
  /** Spans exported through OpenTelemetry. */
  readonly telemetry?:
    | {
        readonly spans?: boolean | undefined
        readonly attributes?: Overrides<TelemetryPolicy['attributes']> | undefined
      }
    | undefined
  /** How the scrubber finds and replaces sensitive text, in every channel that scrubs. */
  readonly scrub?: ScrubOverrides | undefined
  /** Persist the value of every successful task that has a result (`AIRLOCK_CHECKPOINTING`). */
  readonly checkpointing?: boolean | undefined
}
type _PolicyInputMatches = AssertTypesMatch<TypesMatch<PolicyInput, DeepReadonly<z.input<typeof policyInputSchema>>>>

/** The `scrub` section's overrides: each detector and pack may be given alone. */
interface ScrubOverrides extends Overrides<Omit<ScrubPolicy, 'detectors' | 'packs'>> {
  /** Built-in detectors, by id: `false` turns one off, `true` uses `scrub.action`, or name an action; an id named here wins over its pack. */
  readonly detectors?: { readonly [Id in DetectorId]?: DetectorSetting | undefined } | undefined
  /** Detector packs (`credentials`, `pii`, `network`): the setting of every detector of the pack that `detectors` does not name. */
  readonly packs?: { readonly [Id in PackId]?: DetectorSetting | undefined } | undefined
}

/** Any subset of a section's fields, readonly at every depth. */
type Overrides<Section> = { readonly [K in keyof Section]?: DeepReadonly<Section[K]> | undefined }

type DeepReadonly<T> = T extends readonly (infer Item)[]
  ? readonly DeepReadonly<Item>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T
