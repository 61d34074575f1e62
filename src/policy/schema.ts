import { z } from 'zod'
import type { AssertTypesMatch, TypesMatch } from '../internal/types-match.js'
import { customPatternProblem } from './custom-pattern.js'
import { DETECTOR_IDS, PACK_IDS, type DetectorId, type PackId } from './detector-ids.js'
import { parameterGlobProblem } from './parameter-rules.js'
import { redactPathProblem } from './redact-paths.js'

/**
 * The policy: which metadata may reach the control plane, and in what form.
 * One schema covers every channel in docs/design.md's table. Objects are strict:
 * an unknown or misspelled key is an error, never silently ignored, because
 * a typo in a redaction policy must not quietly widen what leaves.
 *
 * Whatever the policy says, registered secrets are masked in every channel
 * and under every action; no field turns that off.
 *
 * Each schema has a plain TypeScript type beside it, which is what the
 * published declarations show; the schemas themselves are internal (left
 * out of the declarations), and a `TypesMatch` check beside each type fails
 * the build if the two ever differ.
 */

/** What happens to one flow-run parameter. @internal */
export const parameterActionSchema = z
  .enum(['allow', 'scrub', 'hash', 'encrypt', 'redact', 'drop'])
  .describe(
    'allow: sent as is; scrub: detectors applied to the value; hash: keyed fingerprint; ' +
      'encrypt: JWE only the key holder opens; redact: replaced by a marker; drop: the key is removed',
  )

/**
 * One parameter rule's action (also one telemetry attribute rule's):
 * `allow` sends the value as is; `scrub` runs the detectors over it; `hash`
 * sends a keyed fingerprint; `encrypt` sends a JWE only the key holder opens;
 * `redact` sends a marker; `drop` removes the key.
 *
 * @example
 * ```ts
 * const rules: Record<string, ParameterAction> = { region: 'allow', 'customer.card': 'encrypt', '**.password': 'drop' }
 * definePolicy({ parameters: { rules } })
 * ```
 */
export type ParameterAction = 'allow' | 'scrub' | 'hash' | 'encrypt' | 'redact' | 'drop'
type _ParameterActionMatches = AssertTypesMatch<TypesMatch<ParameterAction, z.infer<typeof parameterActionSchema>>>

/** What the scrubber does to a match. @internal */
export const scrubActionSchema = z
  .enum(['redact', 'mask', 'hash', 'remove'])
  .describe('redact: [REDACTED:<rule>]; mask: same length of *; hash: keyed fingerprint; remove: deleted')

/**
 * One scrub rule's action: `redact` writes `[REDACTED:<rule>]`, `mask` the
 * same number of `*`, `hash` a keyed fingerprint; `remove` deletes the match.
 *
 * @example
 * ```ts
 * const action: ScrubAction = 'mask'   // same length of *
 * definePolicy({ scrub: { action, detectors: { email: 'hash' } } })
 * ```
 */
export type ScrubAction = 'redact' | 'mask' | 'hash' | 'remove'
type _ScrubActionMatches = AssertTypesMatch<TypesMatch<ScrubAction, z.infer<typeof scrubActionSchema>>>

/** pino's level names, lowest first. @internal */
export const logLevelSchema = z
  .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
  .describe('a pino level name, lowest first: trace, debug, info, warn, error, fatal')

/**
 * A pino level name, lowest first: `trace`, `debug`, `info`, `warn`,
 * `error`, `fatal`.
 *
 * @example
 * ```ts
 * const level: LogLevel = process.env.CI ? 'warn' : 'info'
 * definePolicy({ logs: { level } })
 * ```
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
type _LogLevelMatches = AssertTypesMatch<TypesMatch<LogLevel, z.infer<typeof logLevelSchema>>>

const positiveInt = z.number().int().positive()

const parametersSchema = z.strictObject({
  default: parameterActionSchema.describe('the action for a parameter no rule matches'),
  rules: z
    .record(
      z.string().superRefine((glob, ctx) => {
        const problem = parameterGlobProblem(glob)
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: glob })
      }),
      parameterActionSchema,
    )
    .describe(
      'per-key actions; keys are dotted paths with globs (* one segment, ** any depth); ' +
        'a rule on a key covers everything nested under it; the first matching rule in file order wins',
    ),
})

/**
 * The `parameters` section: what becomes of each key of a flow run's
 * parameters.
 *
 * @example
 * ```ts
 * const parameters: ParameterPolicy = presets.strict.parameters   // { default: 'hash', rules: {} }
 * ```
 */
export interface ParameterPolicy {
  /** The action for a parameter no rule matches. */
  default: ParameterAction
  /**
   * Per-key actions. Keys are dotted paths with globs (`*` one segment,
   * `**` any depth); a rule on a key covers everything nested under it; the
   * first matching rule in file order wins.
   */
  rules: Record<string, ParameterAction>
}
type _ParameterPolicyMatches = AssertTypesMatch<TypesMatch<ParameterPolicy, z.infer<typeof parametersSchema>>>

const logsSchema = z.strictObject({
  ship: z.boolean().describe('send log records to the control plane at all (AIRLOCK_SHIP_LOGS)'),
  level: logLevelSchema.describe('the lowest level shipped (AIRLOCK_LOG_LEVEL)'),
  redactPaths: z
    .array(
      z.string().superRefine((path, ctx) => {
        const problem = redactPathProblem(path)
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: path })
      }),
    )
    .describe('pino redact paths: the value each names is replaced by [REDACTED:redact-path] before scrubbing, e.g. req.headers.cookie'),
  scrubLocal: z.boolean().describe('scrub local output (stdout, files) as well as the shipped copy'),
  maxRecordBytes: positiveInt.describe('a shipped record over this size is truncated, after scrubbing'),
})

/**
 * The `logs` section: which log records are shipped, and how.
 *
 * @example
 * ```ts
 * const logs: LogPolicy = presets.balanced.logs   // { ship: true, level: 'info', redactPaths: [], scrubLocal: true, maxRecordBytes: 16384 }
 * ```
 */
export interface LogPolicy {
  /** Send log records to the control plane at all (`AIRLOCK_SHIP_LOGS`). */
  ship: boolean
  /** The lowest level shipped (`AIRLOCK_LOG_LEVEL`). */
  level: LogLevel
  /**
   * pino redact paths, e.g. `req.headers.cookie`: the value each names is
   * replaced by `[REDACTED:redact-path]` before scrubbing.
   */
  redactPaths: string[]
  /** Scrub local output (stdout, files) as well as the shipped copy. */
  scrubLocal: boolean
  /** A shipped record over this many bytes is truncated, after scrubbing. */
  maxRecordBytes: number
}
type _LogPolicyMatches = AssertTypesMatch<TypesMatch<LogPolicy, z.infer<typeof logsSchema>>>

/**
 * The deepest `exceptions.maxCauseDepth` a policy may set: a failure's cause
 * chain never nests deeper than this on the wire.
 *
 * @example
 * ```ts
 * definePolicy({ exceptions: { mode: 'scrubbed', stack: 'drop', maxCauseDepth: MAX_CAUSE_DEPTH } })
 * ```
 */
export const MAX_CAUSE_DEPTH = 32

const exceptionsSchema = z.strictObject({
  mode: z
    .enum(['full', 'scrubbed', 'type', 'fingerprint', 'encrypted'])
    .describe(
      'full: message and stack (registered secrets still masked); scrubbed: scrubbed message; type: class and code only; ' +
        'fingerprint: type and a keyed hash; encrypted: type and a JWE of the whole error',
    ),
  stack: z
    .enum(['drop', 'scrubbed', 'frames'])
    .describe('in scrubbed mode: drop the stack, keep it scrubbed, or keep only frame function names'),
  maxCauseDepth: z.number().int().min(0).max(MAX_CAUSE_DEPTH).describe('how deep the cause chain and AggregateError.errors are followed'),
})

/**
 * The `exceptions` section: what leaves of an error (the message of a
 * Failed state, its stack and cause chain).
 *
 * @example
 * ```ts
 * const exceptions: ExceptionPolicy = presets.strict.exceptions   // { mode: 'type', stack: 'drop', maxCauseDepth: 5 }
 * ```
 */
export interface ExceptionPolicy {
  /**
   * `full`: message and stack (registered secrets still masked);
   * `scrubbed`: the scrubbed message; `type`: class and code only;
   * `fingerprint`: type and a keyed hash; `encrypted`: type and a JWE of the
   * whole error.
   */
  mode: 'full' | 'scrubbed' | 'type' | 'fingerprint' | 'encrypted'
  /** In `scrubbed` mode: drop the stack, keep it scrubbed, or keep only the frames' function names. */
  stack: 'drop' | 'scrubbed' | 'frames'
  /** How deep the cause chain and `AggregateError.errors` are followed, 0 to 32. */
  maxCauseDepth: number
}
type _ExceptionPolicyMatches = AssertTypesMatch<TypesMatch<ExceptionPolicy, z.infer<typeof exceptionsSchema>>>

const locationsSchema = z.strictObject({
  mode: z.enum(['encrypt', 'plain']).describe('encrypt: only alk1. tokens leave; plain: real locations leave'),
})

/**
 * The `locations` section: how the location of a persisted result leaves.
 *
 * @example
 * ```ts
 * const locations: LocationPolicy = presets.balanced.locations   // { mode: 'encrypt' }
 * ```
 */
export interface LocationPolicy {
  /** `encrypt`: only `alk1.` tokens leave; `plain`: the real locations leave. */
  mode: 'encrypt' | 'plain'
}
type _LocationPolicyMatches = AssertTypesMatch<TypesMatch<LocationPolicy, z.infer<typeof locationsSchema>>>

const inlineValuesSchema = z.strictObject({
  mode: z
    .enum(['refuse', 'scrub', 'encrypt', 'allow'])
    .describe('a JSONResult value is its location: refuse it, scrub it, encrypt it, or send it'),
})

/**
 * The `inlineValues` section: a `JSONResult` value is its own location, so
 * sending the location sends the value.
 *
 * @example
 * ```ts
 * const inlineValues: InlineValuePolicy = presets.strict.inlineValues   // { mode: 'refuse' }
 * ```
 */
export interface InlineValuePolicy {
  /** Refuse such a value, scrub it, encrypt it, or send it as is. */
  mode: 'refuse' | 'scrub' | 'encrypt' | 'allow'
}
type _InlineValuePolicyMatches = AssertTypesMatch<TypesMatch<InlineValuePolicy, z.infer<typeof inlineValuesSchema>>>

/** What happens to one payload an engine keeps in its history. @internal */
export const payloadActionSchema = z
  .enum(['encrypt', 'offload', 'clear'])
  .describe(
    'encrypt: sealed with the payload cipher; offload: written to a Result, only an encrypted location stays; ' +
      'clear: sent as is, ledgered byte for byte (encrypted instead when it holds a registered secret)',
  )

/**
 * One payload rule's action: `encrypt` seals the payload with the payload
 * cipher; `offload` writes it to a `Result`, so only an encrypted location
 * stays; `clear` sends it as is and ledgers it byte for byte (encrypted
 * instead when it holds a registered secret).
 *
 * @example
 * ```ts
 * definePolicy({ payloads: { rules: { 'temporal:binary/null': 'clear' } } })
 * const action: PayloadAction = 'offload'
 * ```
 */
export type PayloadAction = 'encrypt' | 'offload' | 'clear'
type _PayloadActionMatches = AssertTypesMatch<TypesMatch<PayloadAction, z.infer<typeof payloadActionSchema>>>

const payloadsSchema = z.strictObject({
  default: payloadActionSchema.describe('the action for a payload no rule names'),
  rules: z
    .record(
      z.string().min(1).max(200).describe('a payload name glob: <engine>:<name>, * for any run of characters'),
      payloadActionSchema,
    )
    .describe('per payload name (e.g. temporal:json/plain, restate:Greeter/greet/input); the first matching rule in file order wins'),
  offloadAbove: positiveInt.describe('bytes: a payload larger than this is offloaded, when the adapter has a Result to offload to, unless a rule sends it clear'),
})

/**
 * The `payloads` section: values an engine keeps in its history (Temporal
 * payloads, Restate journal values).
 *
 * @example
 * ```ts
 * const payloads: PayloadPolicy = presets.balanced.payloads   // { default: 'encrypt', rules: {}, offloadAbove: 262144 }
 * ```
 */
export interface PayloadPolicy {
  /** The action for a payload no rule names. */
  default: PayloadAction
  /**
   * Per payload name glob, `<engine>:<name>` with `*` for any run of
   * characters (e.g. `temporal:json/plain`, `restate:Greeter/greet/input`);
   * the first matching rule in file order wins.
   */
  rules: Record<string, PayloadAction>
  /**
   * Bytes: a larger payload is offloaded, when the adapter has a `Result`
   * to offload to, unless a rule sends it clear.
   */
  offloadAbove: number
}
type _PayloadPolicyMatches = AssertTypesMatch<TypesMatch<PayloadPolicy, z.infer<typeof payloadsSchema>>>

const telemetrySchema = z.strictObject({
  spans: z.boolean().describe('export spans at all'),
  attributes: z
    .strictObject({
      default: parameterActionSchema.describe('the action for an attribute no rule names'),
      rules: z
        .record(
          z.string().superRefine((glob, ctx) => {
            const problem = parameterGlobProblem(glob)
            if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: glob })
          }),
          parameterActionSchema,
        )
        .describe('per attribute key, dotted globs as in parameters.rules (http.request.header.*, **.token); first match wins'),
    })
    .describe('span, event, link, resource and scope attributes, as parameters are'),
})

/**
 * The `telemetry` section: spans exported through OpenTelemetry.
 *
 * @example
 * ```ts
 * const telemetry: TelemetryPolicy = presets.strict.telemetry   // attributes hashed unless a rule allows them
 * ```
 */
export interface TelemetryPolicy {
  /** Export spans at all. */
  spans: boolean
  /** Span, event, link, resource and scope attributes, ruled as parameters are. */
  attributes: {
    /** The action for an attribute no rule names. */
    default: ParameterAction
    /** Per attribute key, dotted globs as in `parameters.rules` (`http.request.header.*`, `**.token`); the first match wins. */
    rules: Record<string, ParameterAction>
  }
}
type _TelemetryPolicyMatches = AssertTypesMatch<TypesMatch<TelemetryPolicy, z.infer<typeof telemetrySchema>>>

const statesSchema = z.strictObject({
  messages: z.enum(['allow', 'scrub', 'drop']).describe('state messages'),
  names: z.enum(['allow', 'hash']).describe('flow, task and run names, and tags'),
})

/**
 * The `states` section: state messages, and the names of flows, tasks and
 * runs, and tags.
 *
 * @example
 * ```ts
 * const states: StatePolicy = presets.balanced.states   // { messages: 'scrub', names: 'allow' }
 * ```
 */
export interface StatePolicy {
  /** State messages: sent as they are, scrubbed, or dropped. */
  messages: 'allow' | 'scrub' | 'drop'
  /** Flow, task and run names, and tags: sent as they are, or hashed. */
  names: 'allow' | 'hash'
}
type _StatePolicyMatches = AssertTypesMatch<TypesMatch<StatePolicy, z.infer<typeof statesSchema>>>

const customPatternSchema = z.strictObject({
  id: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9-]{0,63}$/,
      'expected a lowercase id of letters, digits and dashes, 1 to 64 characters, not starting with a dash',
    )
    .describe('a stable rule id, shown in [REDACTED:<id>] and in ledger transforms'),
  pattern: z
    .string()
    .min(1)
    .superRefine((pattern, ctx) => {
      const problem = customPatternProblem(pattern)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: pattern })
    })
    .describe('an RE2 regular expression; runs in linear time, so no input can hang it'),
  caseInsensitive: z.boolean().optional().describe('match ignoring case; default false'),
  action: scrubActionSchema.optional().describe('defaults to scrub.action'),
})

/**
 * One of `scrub.patterns`: a pattern of the team's own, masked like a
 * built-in detector's matches.
 *
 * @example
 * ```ts
 * const employeeId: CustomPattern = { id: 'employee-id', pattern: 'EMP-[0-9]{6}', caseInsensitive: true, action: 'hash' }
 * definePolicy({ scrub: { patterns: [employeeId] } })
 * ```
 */
export interface CustomPattern {
  /**
   * A stable rule id, shown in `[REDACTED:<id>]` and in ledger transforms:
   * 1 to 64 lowercase letters, digits and dashes, not starting with a dash.
   */
  id: string
  /** An RE2 regular expression; it runs in linear time, so no input can hang it. */
  pattern: string
  /** Match ignoring case; default false. */
  caseInsensitive?: boolean | undefined
  /** Defaults to `scrub.action`. */
  action?: ScrubAction | undefined
}
type _CustomPatternMatches = AssertTypesMatch<TypesMatch<CustomPattern, z.infer<typeof customPatternSchema>>>

const detectorSettingSchema = z
  .union([z.boolean(), scrubActionSchema])
  .describe('false: off; true: on with scrub.action; an action name: on with that action')

/**
 * A built-in detector's or pack's setting: `false` turns it off, `true` uses
 * `scrub.action`, an action name uses that action.
 *
 * @example
 * ```ts
 * const detectors: Partial<Record<DetectorId, DetectorSetting>> = { ipv4: false, email: 'hash', jwt: true }
 * definePolicy({ scrub: { detectors } })
 * ```
 */
export type DetectorSetting = boolean | ScrubAction
type _DetectorSettingMatches = AssertTypesMatch<TypesMatch<DetectorSetting, z.infer<typeof detectorSettingSchema>>>

/** Built-in ids and custom ids share one namespace: the ledger names a rule by its id alone. */
const customPatternsSchema = z.array(customPatternSchema).superRefine((patterns, ctx) => {
  const firstIndex = new Map<string, number>()
  const builtIn: ReadonlySet<string> = new Set(DETECTOR_IDS)
  patterns.forEach(({ id }, index) => {
    const earlier = firstIndex.get(id)
    if (builtIn.has(id)) {
      ctx.addIssue({
        code: 'custom',
        path: [index, 'id'],
        message: `"${id}" is a built-in detector id; a custom pattern needs an id of its own`,
      })
    } else if (earlier !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [index, 'id'],
        message: `duplicate id "${id}", already used by scrub.patterns.${earlier}; ids must be unique`,
      })
    } else {
      firstIndex.set(id, index)
    }
  })
})

const scrubSchema = z.strictObject({
  action: scrubActionSchema.describe('the action of a detector or pattern that names none'),
  detectors: z
    .partialRecord(z.enum(DETECTOR_IDS), detectorSettingSchema)
    .describe('built-in detectors: false turns one off, true uses scrub.action, or name an action; an id named here wins over its pack'),
  packs: z
    .partialRecord(z.enum(PACK_IDS), detectorSettingSchema)
    .optional()
    .describe(
      'detector packs (credentials, pii, network): the setting of every detector of the pack that scrub.detectors does not name; ' +
        'definePolicy writes the result into scrub.detectors',
    ),
  patterns: customPatternsSchema.describe('custom patterns, compiled with RE2 at load time; an array replaces, never merges'),
  sensitiveKeys: z
    .array(z.string().min(1))
    .describe('extra key names whose values are redacted whole; matched ignoring case and separators'),
  minSecretLength: z.number().int().min(1).describe('registered secrets shorter than this are refused'),
  maxDepth: positiveInt.describe('values nested deeper are replaced by a marker'),
  maxStringLength: positiveInt.describe('longer strings are truncated, after scrubbing'),
  maxNodes: positiveInt.describe('a value with more nodes is replaced by a marker'),
})

/**
 * The `scrub` section: how the scrubber finds and replaces sensitive text,
 * in every channel that scrubs.
 *
 * @example
 * ```ts
 * const scrub: ScrubPolicy = definePolicy().scrub
 * scrub.maxStringLength   // 8192: longer strings are cut, after scrubbing
 * ```
 */
export interface ScrubPolicy {
  /** The action of a detector or pattern that names none. */
  action: ScrubAction
  /** Built-in detectors, by id; an id named here wins over its pack. */
  detectors: Partial<Record<DetectorId, DetectorSetting>>
  /**
   * Detector packs (`credentials`, `pii`, `network`): the setting of every
   * detector of the pack that `detectors` does not name. `definePolicy`
   * writes the outcome into `detectors`.
   */
  packs?: Partial<Record<PackId, DetectorSetting>> | undefined
  /** Custom patterns, compiled with RE2 at load time; an array given replaces the preset's, never merges. */
  patterns: CustomPattern[]
  /** Extra key names whose values are redacted whole; matched ignoring case and separators. */
  sensitiveKeys: string[]
  /** Registered secrets shorter than this are refused. */
  minSecretLength: number
  /** Values nested deeper are replaced by a marker. */
  maxDepth: number
  /** Longer strings are truncated, after scrubbing. */
  maxStringLength: number
  /** A value with more nodes is replaced by a marker. */
  maxNodes: number
}
type _ScrubPolicyMatches = AssertTypesMatch<TypesMatch<ScrubPolicy, z.infer<typeof scrubSchema>>>

/**
 * The zod schema of a fully resolved policy. {@link definePolicy} and
 * {@link loadPolicy} build one: they merge a preset with overrides and the
 * environment before validating against this schema.
 *
 * @internal
 * @example
 * ```ts
 * const parsed = policySchema.safeParse(candidate)
 * ```
 */
export const policySchema = z.strictObject({
  version: z.literal(1).describe('policy format version'),
  parameters: parametersSchema,
  logs: logsSchema,
  exceptions: exceptionsSchema,
  locations: locationsSchema,
  inlineValues: inlineValuesSchema,
  states: statesSchema,
  payloads: payloadsSchema,
  telemetry: telemetrySchema,
  scrub: scrubSchema,
  checkpointing: z.boolean().describe('persist the value of every successful task that has a result, on the task, its flow or the Airlock (AIRLOCK_CHECKPOINTING); on in every preset'),
})


/**
 * A fully resolved, validated policy: every section of every channel, as
 * {@link definePolicy} and {@link loadPolicy} return it.
 *
 * @example
 * ```ts
 * const policy: Policy = presets.balanced
 * policy.locations.mode   // 'encrypt'
 * ```
 */
export interface Policy {
  /** The policy format version. */
  version: 1
  parameters: ParameterPolicy
  logs: LogPolicy
  exceptions: ExceptionPolicy
  locations: LocationPolicy
  inlineValues: InlineValuePolicy
  states: StatePolicy
  payloads: PayloadPolicy
  telemetry: TelemetryPolicy
  scrub: ScrubPolicy
  /**
   * Persist the value of every successful task that has a result, on the
   * task, its flow or the Airlock (`AIRLOCK_CHECKPOINTING`); on in every
   * preset.
   */
  checkpointing: boolean
}
type _PolicyMatches = AssertTypesMatch<TypesMatch<Policy, z.infer<typeof policySchema>>>
