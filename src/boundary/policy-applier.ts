import { Fingerprinter } from '../crypto/fingerprinter.js'
import type { KeyRing } from '../crypto/key-ring.js'
import { LocationCipher } from '../crypto/location-cipher.js'
import { sealedInThisProcess } from '../crypto/token-cipher.js'
import { ValueCipher } from '../crypto/value-cipher.js'
import { InvalidArgumentError, SealingKeyPublicOnlyError, TokenBindingError } from '../errors.js'
import { LEVEL_VALUES } from '../policy/log-levels.js'
import { parameterRuleSet, type ParameterPolicy } from '../policy/parameter-rules.js'
import { redactPathRuleSet } from '../policy/redact-paths.js'
import type { PathRuleSet } from '../policy/path-rule-set.js'
import type { LogLevel, Policy } from '../policy/schema.js'
import { presentError, type ScrubbedErrorNode } from '../scrub/scrub-error.js'
import type { Scrubber } from '../scrub/scrubber.js'
import { joinTransformPath, renderPathSegment, type ScrubTransform } from '../scrub/transform.js'
import type { Normalized, ReferenceNode } from '../scrub/value-nodes.js'
import type { DeferredNode, WalkOptions } from '../scrub/walk.js'
import type { Channel, ReadEmitInput } from './emit-input.js'
import type {
  Failure,
  FailureCause,
  FlowRunStateEvent,
  LogEvent,
  OutboundEvent,
  ParametersEvent,
  ResultReference,
  RunState,
  TaskRunStateEvent,
} from './events.js'

/**
 * One change the policy made, as the ledger records it (never the original
 * value), with the channel it counts under in `stats()`. Its `action` is any
 * policy action (`hash`, `encrypt`, `drop`, `refuse`, ...), not only a scrub action.
 */
export interface ChannelTransform {
  readonly channel: Channel
  readonly path: string
  readonly rule: string
  readonly action: string
}

/** The members every outbound event carries, filled in by the boundary. */
export interface EventEnvelope {
  readonly v: 1
  readonly id: string
  readonly runId: string
  readonly time: string
  readonly policyHash: string
}

const REFUSED = '[airlock:refused]'
// Enough for the runs and task runs in flight at once; past it the set starts again.
const MAX_CLEAN_IDS = 1024
// Ids the SDK makes are UUIDs; a longer "id" is more likely data, and is scrubbed every time.
const MAX_CLEAN_ID_LENGTH = 200
// Shorter names are words ("a", "io"); hiding them in text would hide prose, not names.
const MIN_HIDDEN_NAME_LENGTH = 3

/** A name the names rule hides, and what it is sent as. */
interface HiddenName {
  readonly name: string
  readonly fingerprint: string
}

/**
 * Applies one resolved policy to a read, normalized emit input: step 2 of
 * `Airlock.emit`. Built once per Airlock, so ciphers and path rules are
 * prepared once, not per event. Every payload (parameters, log fields,
 * errors, thrown values, result references) goes through the one walker
 * (`Scrubber.walk`) on the one value model; errors and references it meets
 * anywhere are held to the exceptions and locations policies. Whether a log
 * record ships at all is asked first, with {@link PolicyApplier.shipsLevel}.
 */
export class PolicyApplier {
  readonly #policy: Policy
  readonly #scrubber: Scrubber
  readonly #keys: KeyRing
  readonly #fingerprints: Fingerprinter
  readonly #values: ValueCipher
  readonly #locations: LocationCipher
  readonly #minLogRank: number
  readonly #parameterWalk: WalkOptions
  readonly #fieldWalk: WalkOptions
  // An engine's log attributes are dotted keys (OpenTelemetry's `http.request.header.cookie`).
  readonly #engineFieldWalk: WalkOptions
  readonly #attributeWalk: WalkOptions
  // Reused by #scrubText; emptied after each call.
  readonly #textTransforms: ScrubTransform[] = []
  // Ids that scrubbed clean (unchanged, no transform), while no secret has
  // been registered since: a run id is on every event of its run, a task run
  // id on every state of its task. Only ids are kept, never other values.
  readonly #cleanIds = new Set<string>()
  #cleanIdsSecrets = -1

  constructor(policy: Policy, scrubber: Scrubber, keys: KeyRing) {
    this.#policy = policy
    this.#scrubber = scrubber
    this.#keys = keys
    this.#fingerprints = new Fingerprinter(keys)
    this.#values = new ValueCipher(keys)
    this.#locations = new LocationCipher(keys)
    this.#minLogRank = LEVEL_VALUES[policy.logs.level]
    this.#parameterWalk = { rules: pathRules(policy.parameters, false), defer: true }
    this.#fieldWalk = {
      rules: policy.logs.redactPaths.length === 0 ? undefined : redactPathRuleSet(policy.logs.redactPaths),
      defer: true,
    }
    this.#engineFieldWalk = {
      rules: policy.logs.redactPaths.length === 0 ? undefined : redactPathRuleSet(policy.logs.redactPaths, { dottedKeys: true }),
      defer: true,
    }
    this.#attributeWalk = { rules: pathRules(policy.telemetry.attributes, true), defer: true }
  }

  // ---------------------------------------------------------------- building blocks for engine adapters

  /**
   * A normalized value through a channel's rules: `parameters` (parameter
   * rules), `logs` (redact paths, over dotted keys as engines write them) or
   * `telemetry` (attribute rules), then the exceptions and locations
   * policies and scrubbing, as for an event. Synchronous when the walk
   * deferred nothing; a promise otherwise.
   */
  value(tree: Normalized, channel: 'parameters' | 'logs' | 'telemetry', prefix: string, transforms: ChannelTransform[]): unknown {
    const options = channel === 'parameters' ? this.#parameterWalk : channel === 'logs' ? this.#engineFieldWalk : this.#attributeWalk
    return this.#tree(tree, options, channel, prefix, transforms)
  }

  /**
   * A name (flow, task, span, workflow type) as the names rule lets it out;
   * with `detectors`, a name the rule lets pass is scrubbed as text too.
   */
  name(name: string, path: string, transforms: ChannelTransform[], detectors = false): string {
    return this.#name(name, path, transforms, detectors)
  }

  /** Free text (a message) scrubbed as the channel's strings are. */
  text(text: string, channel: Channel, path: string, transforms: ChannelTransform[]): string {
    return this.#scrubText(text, true, path, channel, transforms)
  }

  /** A normalized error as the exceptions policy lets it out. */
  failure(error: Normalized, path: string, transforms: ChannelTransform[]): Promise<Failure> {
    return this.#failure(error, path, [], transforms)
  }

  /** Whether the policy ships a log record of this level at all. */
  shipsLevel(level: LogLevel): boolean {
    return this.#policy.logs.ship && LEVEL_VALUES[level] >= this.#minLogRank
  }

  /**
   * A run id as it may leave: scrubbed like any text, so an id a caller
   * built from data (an email, a token) does not leave in clear.
   */
  runId(id: string, channel: Channel, transforms: ChannelTransform[]): string {
    return this.#scrubId(id, 'runId', channel, transforms)
  }

  /**
   * The event the policy lets out for `input`. Synchronous when nothing in
   * the input needs an asynchronous step (an error, a result reference, a
   * value under an `encrypt` rule): most state events, so the door can
   * ledger them in the same turn. Members are put in sorted order, so the
   * event's canonical JSON is `JSON.stringify`'s.
   */
  apply(input: ReadEmitInput, envelope: EventEnvelope, transforms: ChannelTransform[]): OutboundEvent | Promise<OutboundEvent> {
    switch (input.kind) {
      case 'parameters': {
        const flowName = this.#name(input.flowName, 'flowName', transforms)
        const parameters = this.#tree(input.parameters, this.#parameterWalk, 'parameters', '', transforms)
        if (parameters instanceof Promise) return parameters.then((settled) => parametersEvent(envelope, flowName, settled))
        return parametersEvent(envelope, flowName, parameters)
      }
      case 'flow-run-state': {
        const hidden = this.#hiddenNames([input.flowName, ...(input.tags ?? [])])
        const fields: StateFields = { flowName: this.#name(input.flowName, 'flowName', transforms) }
        this.#stateCommon(fields, input, hidden, transforms)
        if (input.error === undefined) return flowRunStateEvent(envelope, input.state, fields)
        return this.#failure(input.error, 'failure', hidden, transforms).then((failure) => {
          fields.failure = failure
          return flowRunStateEvent(envelope, input.state, fields)
        })
      }
      case 'task-run-state': {
        const names = [input.taskName, ...(input.tags ?? [])]
        if (input.flowName !== undefined) names.push(input.flowName)
        const hidden = this.#hiddenNames(names)
        const fields: TaskStateFields = {
          taskName: this.#name(input.taskName, 'taskName', transforms),
          taskRunId: this.#scrubId(input.taskRunId, 'taskRunId', 'states', transforms),
        }
        if (input.flowName !== undefined) fields.flowName = this.#name(input.flowName, 'flowName', transforms)
        fields.attempt = input.attempt
        fields.mapIndex = input.mapIndex
        this.#stateCommon(fields, input, hidden, transforms)
        if (input.error === undefined && input.result === undefined) return taskRunStateEvent(envelope, input.state, fields)
        return this.#taskSettled(input.error, input.result, hidden, transforms, fields).then(() => taskRunStateEvent(envelope, input.state, fields))
      }
      case 'log':
        return this.#log(input, envelope, transforms)
    }
  }

  // A task state's failure, then its result reference, in that order (so are their transforms).
  async #taskSettled(
    error: Normalized | undefined,
    result: ReferenceNode | undefined,
    hidden: readonly HiddenName[],
    transforms: ChannelTransform[],
    fields: TaskStateFields,
  ): Promise<void> {
    if (error !== undefined) fields.failure = await this.#failure(error, 'failure', hidden, transforms)
    if (result !== undefined) fields.result = await this.#resultReference(result, 'result', transforms)
  }

  // ---------------------------------------------------------------- the walk

  // Walks one value and settles what the walker deferred: errors through
  // the exceptions policy, references through the locations policy, values
  // under an `encrypt` rule through the value cipher.
  // Synchronous when the walk deferred nothing.
  #tree(tree: Normalized, options: WalkOptions, channel: Channel, prefix: string, transforms: ChannelTransform[]): unknown {
    const walked = this.#scrubber.walk(tree, options)
    for (const t of walked.transforms) transforms.push({ channel, path: joinTransformPath(prefix, t.path), rule: t.rule, action: t.action })
    if (walked.deferred.length === 0) return walked.value
    return this.#settleAll(walked.deferred, prefix, transforms).then(() => walked.value)
  }

  // One at a time, so transforms are recorded in a stable order.
  async #settleAll(deferred: readonly DeferredNode[], prefix: string, transforms: ChannelTransform[]): Promise<void> {
    for (const job of deferred) job.parent[job.key] = await this.#settle(job, joinTransformPath(prefix, job.path), transforms)
  }

  async #settle(job: DeferredNode, path: string, transforms: ChannelTransform[]): Promise<unknown> {
    switch (job.kind) {
      case 'error':
        return this.#failure(job.error, path, [], transforms)
      case 'reference':
        return this.#resultReference(job.reference!, path, transforms)
      case 'encrypt':
        return this.#values.encrypt(job.text!)
    }
  }

  // ---------------------------------------------------------------- states

  #stateCommon(
    event: { message?: string; tags?: string[] },
    input: { message?: string | undefined; tags?: string[] | undefined },
    hidden: readonly HiddenName[],
    transforms: ChannelTransform[],
  ): void {
    if (input.message !== undefined) {
      const mode = this.#policy.states.messages
      if (mode === 'drop') {
        transforms.push({ channel: 'states', path: 'message', rule: 'states.messages', action: 'drop' })
      } else {
        const message = this.#scrubText(input.message, mode === 'scrub', 'message', 'states', transforms)
        event.message = this.#hideNames(message, hidden, 'message', transforms)
      }
    }
    if (input.tags !== undefined) event.tags = input.tags.map((tag, i) => this.#name(tag, `tags[${i}]`, transforms))
  }

  #name(name: string, path: string, transforms: ChannelTransform[], detectors = false): string {
    if (this.#policy.states.names === 'hash') {
      transforms.push({ channel: 'states', path, rule: 'states.names', action: 'hash' })
      return this.#fingerprints.fingerprint(name)
    }
    // Names pass, but never a registered secret (nor, for names built from data, what a detector finds).
    return this.#scrubText(name, detectors, path, 'states', transforms)
  }

  // The names of one event, when the names rule hides them: any text the
  // event carries (a message, a failure) must not spell them out either.
  #hiddenNames(names: readonly string[]): readonly HiddenName[] {
    if (this.#policy.states.names !== 'hash') return []
    const hidden: HiddenName[] = []
    for (const name of names) {
      if (name.length < MIN_HIDDEN_NAME_LENGTH || hidden.some((h) => h.name === name)) continue
      hidden.push({ name, fingerprint: this.#fingerprints.fingerprint(name) })
    }
    // Longest first, so a name that contains another is replaced whole.
    return hidden.sort((a, b) => b.name.length - a.name.length)
  }

  #hideNames(text: string, hidden: readonly HiddenName[], path: string, transforms: ChannelTransform[]): string {
    let out = text
    for (const { name, fingerprint } of hidden) {
      const replaced = replaceWord(out, name, fingerprint)
      if (replaced === out) continue
      out = replaced
      transforms.push({ channel: 'states', path, rule: 'states.names', action: 'hash' })
    }
    return out
  }

  async #failure(error: Normalized, path: string, hidden: readonly HiddenName[], transforms: ChannelTransform[]): Promise<Failure> {
    const exceptions = this.#policy.exceptions
    const scrubbed = await presentError(error, exceptions, this.#scrubber, this.#keys)
    for (const t of scrubbed.transforms) {
      transforms.push({ channel: 'exceptions', path: joinTransformPath(path, t.path), rule: t.rule, action: t.action })
    }
    transforms.push({ channel: 'exceptions', path, rule: 'exceptions.mode', action: scrubbed.mode })
    const failure: Failure = this.#failureCause(scrubbed, path, hidden, transforms)
    if (scrubbed.fingerprint !== undefined) failure.fingerprint = scrubbed.fingerprint
    if (scrubbed.token !== undefined) failure.token = scrubbed.token
    return failure
  }

  // Only the members the wire schema names, so nothing else presentError may carry rides along.
  #failureCause(node: ScrubbedErrorNode, path: string, hidden: readonly HiddenName[], transforms: ChannelTransform[]): FailureCause {
    const hide = (text: string, field: string): string =>
      hidden.length === 0 ? text : this.#hideNames(text, hidden, joinTransformPath(path, field), transforms)
    const cause: FailureCause = { type: hide(node.type, 'type') }
    if (node.code !== undefined) cause.code = hide(node.code, 'code')
    if (node.message !== '') cause.message = hide(node.message, 'message')
    if (node.stack !== undefined) cause.stack = hide(node.stack, 'stack')
    if (node.causes !== undefined && node.causes.length > 0) {
      cause.causes = node.causes.map((c, i) => this.#failureCause(c, joinTransformPath(path, `causes[${i}]`), hidden, transforms))
    }
    return cause
  }

  // ---------------------------------------------------------------- results

  async #resultReference(node: ReferenceNode, path: string, transforms: ChannelTransform[]): Promise<ResultReference> {
    const json = node.json
    if (typeof json.type !== 'string' || typeof json.location !== 'string') {
      throw new InvalidArgumentError('a result reference needs a string type and a location: write the result first')
    }
    const reference: ResultReference = { type: this.#scrubText(json.type, true, joinTransformPath(path, 'type'), 'locations', transforms), location: '' }
    // Backend identifiers (bucket, container) pass, scrubbed; anything not a scalar does not.
    for (const key of Object.keys(json)) {
      if (key === 'type' || key === 'location') continue
      const value = (json)[key]
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue
      const keyTransforms: ChannelTransform[] = []
      const safeKey = this.#scrubText(key, true, '$', 'locations', keyTransforms)
      if (safeKey === 'type' || safeKey === 'location' || Object.hasOwn(reference, safeKey)) continue
      const at = joinTransformPath(path, renderPathSegment(safeKey))
      for (const t of keyTransforms) transforms.push({ ...t, path: at })
      const safeValue = typeof value === 'string' ? this.#scrubText(value, true, at, 'locations', transforms) : value
      Object.defineProperty(reference, safeKey, { value: safeValue, enumerable: true, writable: true, configurable: true })
    }
    const locationPath = joinTransformPath(path, 'location')
    reference.location = node.inline
      ? await this.#inlineValue(json.location, locationPath, transforms)
      : await this.#location(json.location, locationPath, transforms)
    return reference
  }

  async #location(location: string, path: string, transforms: ChannelTransform[]): Promise<string> {
    const mode = this.#policy.locations.mode
    if (await this.#isOurToken(location)) {
      transforms.push({ channel: 'locations', path, rule: 'locations.mode', action: 'encrypt' })
      return location
    }
    if (mode === 'encrypt') {
      // The Result had no cipher of its own: encrypt at the door rather than let a plain location out.
      transforms.push({ channel: 'locations', path, rule: 'locations.mode', action: 'encrypt' })
      return this.#locations.encrypt(location)
    }
    return this.#scrubText(location, false, path, 'locations', transforms)
  }

  async #inlineValue(location: string, path: string, transforms: ChannelTransform[]): Promise<string> {
    const mode = this.#policy.inlineValues.mode
    if (mode === 'refuse') {
      transforms.push({ channel: 'inline values', path, rule: 'inlineValues.mode', action: 'refuse' })
      return REFUSED
    }
    if (await this.#isOurToken(location)) {
      transforms.push({ channel: 'inline values', path, rule: 'inlineValues.mode', action: 'encrypt' })
      return location
    }
    if (mode === 'encrypt') {
      transforms.push({ channel: 'inline values', path, rule: 'inlineValues.mode', action: 'encrypt' })
      return this.#locations.encrypt(location)
    }
    return this.#scrubText(location, mode === 'scrub', path, 'inline values', transforms)
  }

  // A prefix proves nothing: a plain location shaped by data can start with
  // `alk1.`. Only a token that opens under this ring passes as encrypted; on a
  // write-only worker, which can open nothing, only a token this process sealed
  // (any other is sealed again: a token of a token, which the auditor opens twice).
  async #isOurToken(location: string): Promise<boolean> {
    if (!LocationCipher.isToken(location)) return false
    try {
      await this.#locations.decrypt(location)
      return true
    } catch (err) {
      if (err instanceof SealingKeyPublicOnlyError) return sealedInThisProcess(location)
      // Bound to a context the boundary does not know: still a genuine token.
      return err instanceof TokenBindingError
    }
  }

  // ---------------------------------------------------------------- logs

  #log(input: Extract<ReadEmitInput, { kind: 'log' }>, envelope: EventEnvelope, transforms: ChannelTransform[]): LogEvent | Promise<LogEvent> {
    const msg = this.#message(input.msg, input.msgFromError === true, transforms)
    const taskRunId = input.taskRunId === undefined ? undefined : this.#scrubId(input.taskRunId, 'taskRunId', 'logs', transforms)
    if (input.fields === undefined) return this.#logEvent(envelope, input.level, msg, undefined, taskRunId, transforms)
    const fields = this.#tree(input.fields, this.#fieldWalk, 'logs', 'fields', transforms)
    if (fields instanceof Promise) {
      return fields.then((settled) => this.#logEvent(envelope, input.level, msg, settled as Record<string, unknown>, taskRunId, transforms))
    }
    return this.#logEvent(envelope, input.level, msg, fields as Record<string, unknown>, taskRunId, transforms)
  }

  // Truncated after scrubbing, never before: a cut must not expose half a
  // secret that the scrubber would have recognised whole.
  #logEvent(
    envelope: EventEnvelope,
    level: LogLevel,
    msg: string,
    fields: Record<string, unknown> | undefined,
    taskRunId: string | undefined,
    transforms: ChannelTransform[],
  ): LogEvent {
    const event = logEvent(envelope, level, msg, fields, taskRunId, false)
    if (Buffer.byteLength(JSON.stringify(event)) <= this.#policy.logs.maxRecordBytes) return event
    const budget = Math.max(0, this.#policy.logs.maxRecordBytes - 512)
    transforms.push({ channel: 'logs', path: '$', rule: 'logs.maxRecordBytes', action: 'truncate' })
    return logEvent(envelope, level, Buffer.byteLength(msg) > budget ? truncateUtf8(msg, budget) : msg, undefined, taskRunId, true)
  }

  // A message taken from an error (`logger.error(err)`) says what the error
  // says: it obeys the exceptions mode, as the error itself does.
  #message(msg: string, fromError: boolean, transforms: ChannelTransform[]): string {
    if (!fromError) return this.#scrubText(msg, true, 'msg', 'logs', transforms)
    switch (this.#policy.exceptions.mode) {
      case 'full':
        return this.#scrubText(msg, false, 'msg', 'exceptions', transforms)
      case 'scrubbed':
        return this.#scrubText(msg, true, 'msg', 'exceptions', transforms)
      default:
        transforms.push({ channel: 'exceptions', path: 'msg', rule: 'exceptions.mode', action: 'remove' })
        return ''
    }
  }

  // ---------------------------------------------------------------- text

  // An id scrubbed as text is; one that came out clean before is known clean
  // until a secret is registered (the detectors do not change).
  #scrubId(id: string, path: string, channel: Channel, transforms: ChannelTransform[]): string {
    const secrets = this.#scrubber.size
    if (secrets !== this.#cleanIdsSecrets) {
      this.#cleanIds.clear()
      this.#cleanIdsSecrets = secrets
    }
    if (this.#cleanIds.has(id)) return id
    const before = transforms.length
    const scrubbed = this.#scrubText(id, true, path, channel, transforms)
    if (scrubbed === id && transforms.length === before && id.length <= MAX_CLEAN_ID_LENGTH) {
      if (this.#cleanIds.size >= MAX_CLEAN_IDS) this.#cleanIds.clear()
      this.#cleanIds.add(id)
    }
    return scrubbed
  }

  // Bare strings (messages, names, ids, locations): the engine directly, not the walker.
  #scrubText(text: string, detectors: boolean, path: string, channel: Channel, transforms: ChannelTransform[]): string {
    if (detectors) {
      const found = this.#textTransforms
      const scrubbed = this.#scrubber.scrubString(text, found, path)
      for (const t of found) transforms.push({ channel, path: t.path, rule: t.rule, action: t.action })
      found.length = 0
      return scrubbed
    }
    const result = this.#scrubber.maskRegistered(text)
    for (const t of result.transforms) transforms.push({ channel, path: joinTransformPath(path, t.path), rule: t.rule, action: t.action })
    return typeof result.value === 'string' ? result.value : String(result.value)
  }
}

// Rules that could only ever say `scrub` (none, over a `scrub` default) are no rules: the walk scrubs anyway, and
// asking them at every node is most of the cost of a small value.
function pathRules(section: ParameterPolicy, dottedKeys: boolean): PathRuleSet | undefined {
  if (section.default === 'scrub' && Object.keys(section.rules).length === 0) return undefined
  return parameterRuleSet(section, { dottedKeys })
}

// Every occurrence of `word` not glued to a letter, digit or `_` on either side.
function replaceWord(text: string, word: string, replacement: string): string {
  let out = ''
  let last = 0
  for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + 1)) {
    if (at < last || isWordChar(text.charCodeAt(at - 1)) || isWordChar(text.charCodeAt(at + word.length))) continue
    out += text.slice(last, at) + replacement
    last = at + word.length
  }
  return last === 0 ? text : out + text.slice(last)
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text)
  if (bytes.length <= maxBytes) return text
  // Decoding a cut buffer may end in half a character; drop the replacement char.
  return bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '') + '…'
}

/** The members of a flow run's state besides the envelope and the state, as the policy let them out. */
interface StateFields {
  failure?: Failure
  flowName: string
  message?: string
  tags?: string[]
}

/** The members of a task run's state besides the envelope and the state, as the policy let them out. */
interface TaskStateFields {
  attempt?: number | undefined
  failure?: Failure
  flowName?: string
  mapIndex?: number | undefined
  message?: string
  result?: ResultReference
  tags?: string[]
  taskName: string
  taskRunId: string
}

// The builders below put every member in sorted order (what canonical JSON
// writes), so the door's canonical JSON of an event is one in-order check
// and the native JSON.stringify. Members that are absent are not added at
// all, not added as undefined. The boundary checks every event against the
// strict wire schema afterwards.

function parametersEvent(envelope: EventEnvelope, flowName: string, parameters: unknown): ParametersEvent {
  return {
    flowName,
    id: envelope.id,
    kind: 'parameters',
    parameters: parameters as Record<string, unknown>,
    policyHash: envelope.policyHash,
    runId: envelope.runId,
    time: envelope.time,
    v: envelope.v,
  }
}

function flowRunStateEvent(envelope: EventEnvelope, state: RunState, fields: StateFields): FlowRunStateEvent {
  const event = {} as FlowRunStateEvent
  if (fields.failure !== undefined) event.failure = fields.failure
  event.flowName = fields.flowName
  event.id = envelope.id
  event.kind = 'flow-run-state'
  if (fields.message !== undefined) event.message = fields.message
  event.policyHash = envelope.policyHash
  event.runId = envelope.runId
  event.state = state
  if (fields.tags !== undefined) event.tags = fields.tags
  event.time = envelope.time
  event.v = envelope.v
  return event
}

function taskRunStateEvent(envelope: EventEnvelope, state: RunState, fields: TaskStateFields): TaskRunStateEvent {
  const event = {} as TaskRunStateEvent
  if (fields.attempt !== undefined) event.attempt = fields.attempt
  if (fields.failure !== undefined) event.failure = fields.failure
  if (fields.flowName !== undefined) event.flowName = fields.flowName
  event.id = envelope.id
  event.kind = 'task-run-state'
  if (fields.mapIndex !== undefined) event.mapIndex = fields.mapIndex
  if (fields.message !== undefined) event.message = fields.message
  event.policyHash = envelope.policyHash
  if (fields.result !== undefined) event.result = fields.result
  event.runId = envelope.runId
  event.state = state
  if (fields.tags !== undefined) event.tags = fields.tags
  event.taskName = fields.taskName
  event.taskRunId = fields.taskRunId
  event.time = envelope.time
  event.v = envelope.v
  return event
}

function logEvent(
  envelope: EventEnvelope,
  level: LogLevel,
  msg: string,
  fields: Record<string, unknown> | undefined,
  taskRunId: string | undefined,
  truncated: boolean,
): LogEvent {
  const event = {} as LogEvent
  if (fields !== undefined) event.fields = fields
  event.id = envelope.id
  event.kind = 'log'
  event.level = level
  event.msg = msg
  event.policyHash = envelope.policyHash
  event.runId = envelope.runId
  if (taskRunId !== undefined) event.taskRunId = taskRunId
  event.time = envelope.time
  if (truncated) event.truncated = true
  event.v = envelope.v
  return event
}
