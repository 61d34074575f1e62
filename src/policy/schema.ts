import { z } from 'zod'
import { customPatternProblem } from './custom-pattern.js'
import { DETECTOR_IDS, PACK_IDS } from './detector-ids.js'
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
 */

/** What happens to one flow-run parameter. */
export const parameterActionSchema = z
  .enum(['allow', 'scrub', 'hash', 'encrypt', 'redact', 'drop'])
  .describe(
    'allow: sent as is; scrub: detectors applied to the value; hash: keyed fingerprint; ' +
      'encrypt: JWE only the key holder opens; redact: replaced by a marker; drop: the key is removed',
  )

/** What the scrubber does to a match. */
export const scrubActionSchema = z
  .enum(['redact', 'mask', 'hash', 'remove'])
  .describe('redact: [REDACTED:<rule>]; mask: same length of *; hash: keyed fingerprint; remove: deleted')

/** pino's level names, lowest first. */
export const logLevelSchema = z
  .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
  .describe('a pino level name, lowest first: trace, debug, info, warn, error, fatal')

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
  maxCauseDepth: z.number().int().min(0).max(32).describe('how deep the cause chain and AggregateError.errors are followed'),
})

const locationsSchema = z.strictObject({
  mode: z.enum(['encrypt', 'plain']).describe('encrypt: only alk1. tokens leave; plain: real locations leave'),
})

const inlineValuesSchema = z.strictObject({
  mode: z
    .enum(['refuse', 'scrub', 'encrypt', 'allow'])
    .describe('a JSONResult value is its location: refuse it, scrub it, encrypt it, or send it'),
})

/** What happens to one payload an engine keeps in its history. */
export const payloadActionSchema = z
  .enum(['encrypt', 'offload', 'clear'])
  .describe(
    'encrypt: sealed with the payload cipher; offload: written to a Result, only an encrypted location stays; ' +
      'clear: sent as is, ledgered byte for byte (encrypted instead when it holds a registered secret)',
  )

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

const statesSchema = z.strictObject({
  messages: z.enum(['allow', 'scrub', 'drop']).describe('state messages'),
  names: z.enum(['allow', 'hash']).describe('flow, task and run names, and tags'),
})

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

const detectorSettingSchema = z
  .union([z.boolean(), scrubActionSchema])
  .describe('false: off; true: on with scrub.action; an action name: on with that action')

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
 * The zod schema of a fully resolved policy. Use {@link definePolicy} or
 * {@link loadPolicy} to build one; they merge a preset with overrides and the
 * environment before validating against this schema.
 *
 * @example
 * ```ts
 * import { policySchema } from 'airlock-sdk'
 *
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
 * A fully resolved, validated policy.
 *
 * @example
 * ```ts
 * const policy: Policy = presets.balanced
 * policy.locations.mode   // 'encrypt'
 * ```
 */
export type Policy = z.infer<typeof policySchema>
/**
 * One parameter rule's action.
 *
 * @example
 * ```ts
 * const rules: Record<string, ParameterAction> = { region: 'allow', 'customer.card': 'encrypt', '**.password': 'drop' }
 * definePolicy({ parameters: { rules } })
 * ```
 */
export type ParameterAction = z.infer<typeof parameterActionSchema>
/**
 * One payload rule's action.
 *
 * @example
 * ```ts
 * definePolicy({ payloads: { rules: { 'temporal:binary/null': 'clear' } } })
 * const action: PayloadAction = 'offload'
 * ```
 */
export type PayloadAction = z.infer<typeof payloadActionSchema>
/**
 * The `payloads` section.
 *
 * @example
 * ```ts
 * const payloads: PayloadPolicy = presets.balanced.payloads   // { default: 'encrypt', rules: {}, offloadAbove: 262144 }
 * ```
 */
export type PayloadPolicy = Policy['payloads']
/**
 * The `telemetry` section.
 *
 * @example
 * ```ts
 * const telemetry: TelemetryPolicy = presets.strict.telemetry   // attributes hashed unless a rule allows them
 * ```
 */
export type TelemetryPolicy = Policy['telemetry']
/**
 * One scrub rule's action.
 *
 * @example
 * ```ts
 * const action: ScrubAction = 'mask'   // same length of *
 * definePolicy({ scrub: { action, detectors: { email: 'hash' } } })
 * ```
 */
export type ScrubAction = z.infer<typeof scrubActionSchema>
/**
 * A pino level name.
 *
 * @example
 * ```ts
 * const level: LogLevel = process.env.CI ? 'warn' : 'info'
 * definePolicy({ logs: { level } })
 * ```
 */
export type LogLevel = z.infer<typeof logLevelSchema>
/**
 * The `exceptions` section.
 *
 * @example
 * ```ts
 * const exceptions: ExceptionPolicy = presets.strict.exceptions   // { mode: 'type', stack: 'drop', maxCauseDepth: 5 }
 * ```
 */
export type ExceptionPolicy = Policy['exceptions']
/**
 * The `scrub` section.
 *
 * @example
 * ```ts
 * const scrub: ScrubPolicy = definePolicy().scrub
 * scrub.maxStringLength   // 8192: longer strings are cut, after scrubbing
 * ```
 */
export type ScrubPolicy = Policy['scrub']
/**
 * The `logs` section.
 *
 * @example
 * ```ts
 * const logs: LogPolicy = presets.balanced.logs   // { ship: true, level: 'info', redactPaths: [], scrubLocal: true, maxRecordBytes: 16384 }
 * ```
 */
export type LogPolicy = Policy['logs']
