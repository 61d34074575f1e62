import redact from '@pinojs/redact'
import { canonicalText } from '../crypto/canonical-text.js'
import { Fingerprinter } from '../crypto/fingerprinter.js'
import type { KeyRing } from '../crypto/key-ring.js'
import { LocationCipher } from '../crypto/location-cipher.js'
import { ValueCipher } from '../crypto/value-cipher.js'
import { InvalidArgumentError, TokenBindingError } from '../errors.js'
import { LEVEL_VALUES } from '../policy/log-levels.js'
import { matchParameterRule } from '../policy/parameter-rules.js'
import type { LogLevel, Policy } from '../policy/schema.js'
import type { Scrubber } from '../scrub/scrubber.js'
import { joinTransformPath, renderPathSegment, type ScrubTransform } from '../scrub/transform.js'
import { scrubError, type ScrubbedErrorNode } from '../scrub/scrub-error.js'
import type { Channel, EmitInput, ResultLike } from './emit-input.js'
import type { Failure, FailureCause, OutboundEvent, ResultReference } from './events.js'

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

/**
 * Applies one resolved policy to raw events: step 2 of `Airlock.emit`. Built
 * once per Airlock, so ciphers and path redactors are prepared once, not per
 * event. Whether a log record ships at all is asked first, with
 * {@link PolicyApplier.shipsLevel}.
 */
export class PolicyApplier {
  readonly #policy: Policy
  readonly #scrubber: Scrubber
  readonly #keys: KeyRing
  readonly #fingerprints: Fingerprinter
  readonly #values: ValueCipher
  readonly #locations: LocationCipher
  readonly #redactPaths: ((fields: Record<string, unknown>) => Record<string, unknown>) | undefined
  readonly #minLogRank: number
  // Filled by the redact censor while one record is redacted; emptied after.
  readonly #redactedPaths: string[] = []
  // Reused by #scrubText; emptied after each call.
  readonly #textTransforms: ScrubTransform[] = []

  constructor(policy: Policy, scrubber: Scrubber, keys: KeyRing) {
    this.#policy = policy
    this.#scrubber = scrubber
    this.#keys = keys
    this.#fingerprints = new Fingerprinter(keys)
    this.#values = new ValueCipher(keys)
    this.#locations = new LocationCipher(keys)
    this.#minLogRank = LEVEL_VALUES[policy.logs.level]
    if (policy.logs.redactPaths.length > 0) {
      const collected = this.#redactedPaths
      this.#redactPaths = redact({
        paths: policy.logs.redactPaths,
        // An identity serializer, not `serialize: false`: that mode adds an
        // enumerable `restore()` to the copy, over any `restore` field of the record.
        serialize: identity,
        strict: false,
        censor: ((_value: unknown, path: string[]) => {
          collected.push(path.join('.'))
          return '[REDACTED:redact-path]'
        }) as (value: unknown) => unknown,
      }) as unknown as (fields: Record<string, unknown>) => Record<string, unknown>
    }
  }

  /** Whether the policy ships a log record of this level at all. */
  shipsLevel(level: LogLevel): boolean {
    return this.#policy.logs.ship && LEVEL_VALUES[level] >= this.#minLogRank
  }

  async apply(input: EmitInput, envelope: EventEnvelope, transforms: ChannelTransform[]): Promise<OutboundEvent> {
    switch (input.kind) {
      case 'parameters':
        return {
          ...envelope,
          kind: 'parameters',
          flowName: this.#name(input.flowName, 'flowName', transforms),
          parameters: await this.#parameters(input.parameters, transforms),
        }
      case 'flow-run-state': {
        const event: OutboundEvent = {
          ...envelope,
          kind: 'flow-run-state',
          flowName: this.#name(input.flowName, 'flowName', transforms),
          state: input.state,
        }
        this.#stateCommon(event, input, transforms)
        if (input.error !== undefined) event.failure = await this.#failure(input.error, 'failure', transforms)
        return event
      }
      case 'task-run-state': {
        const event: OutboundEvent = {
          ...envelope,
          kind: 'task-run-state',
          taskName: this.#name(input.taskName, 'taskName', transforms),
          taskRunId: input.taskRunId,
          state: input.state,
        }
        if (input.flowName !== undefined) event.flowName = this.#name(input.flowName, 'flowName', transforms)
        if (input.attempt !== undefined) event.attempt = input.attempt
        if (input.mapIndex !== undefined) event.mapIndex = input.mapIndex
        this.#stateCommon(event, input, transforms)
        if (input.error !== undefined) event.failure = await this.#failure(input.error, 'failure', transforms)
        if (input.result !== undefined) event.result = await this.#resultReference(input.result, transforms)
        return event
      }
      case 'log':
        return this.#log(input, envelope, transforms)
    }
  }

  // ---------------------------------------------------------------- states

  #stateCommon(
    event: { message?: string; tags?: string[] },
    input: { message?: string | undefined; tags?: string[] | undefined },
    transforms: ChannelTransform[],
  ): void {
    if (input.message !== undefined) {
      const mode = this.#policy.states.messages
      if (mode === 'drop') {
        transforms.push({ channel: 'states', path: 'message', rule: 'states.messages', action: 'drop' })
      } else {
        event.message = this.#scrubText(input.message, mode === 'scrub', 'message', 'states', transforms)
      }
    }
    if (input.tags !== undefined) event.tags = input.tags.map((tag, i) => this.#name(tag, `tags[${i}]`, transforms))
  }

  #name(name: string, path: string, transforms: ChannelTransform[]): string {
    if (this.#policy.states.names === 'hash') {
      transforms.push({ channel: 'states', path, rule: 'states.names', action: 'hash' })
      return this.#fingerprints.fingerprint(name)
    }
    // Names pass, but never a registered secret.
    return this.#scrubText(name, false, path, 'states', transforms)
  }

  async #failure(error: unknown, path: string, transforms: ChannelTransform[]): Promise<Failure> {
    const scrubbed = await scrubError(error, this.#policy, { scrubber: this.#scrubber, keys: this.#keys })
    for (const t of scrubbed.transforms) {
      transforms.push({ channel: 'exceptions', path: joinTransformPath(path, t.path), rule: t.rule, action: t.action })
    }
    transforms.push({ channel: 'exceptions', path, rule: 'exceptions.mode', action: this.#policy.exceptions.mode })
    const failure: Failure = toFailureCause(scrubbed)
    if (scrubbed.fingerprint !== undefined) failure.fingerprint = scrubbed.fingerprint
    if (scrubbed.token !== undefined) failure.token = scrubbed.token
    return failure
  }

  async #resultReference(result: ResultLike, transforms: ChannelTransform[], path = 'result'): Promise<ResultReference> {
    const json = result.toJSON()
    if (typeof json?.type !== 'string' || typeof json.location !== 'string') {
      throw new InvalidArgumentError('a result reference needs a string type and a location: write the result first')
    }
    const reference: ResultReference = { type: json.type, location: '' }
    // Backend identifiers (bucket, container) pass; anything not a scalar does not.
    for (const [key, value] of Object.entries(json)) {
      if (key === 'type' || key === 'location') continue
      if (typeof value === 'string') reference[key] = this.#scrubText(value, false, `${path}.${key}`, 'locations', transforms)
      else if (typeof value === 'number' || typeof value === 'boolean') reference[key] = value
    }
    const locationPath = `${path}.location`
    reference.location =
      result.inline === true
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
  // `alk1.`. Only a token that opens under this ring passes as encrypted.
  async #isOurToken(location: string): Promise<boolean> {
    if (!LocationCipher.isToken(location)) return false
    try {
      await this.#locations.decrypt(location)
      return true
    } catch (err) {
      // Bound to a context the boundary does not know: still a genuine token.
      return err instanceof TokenBindingError
    }
  }

  // ---------------------------------------------------------------- parameters

  // Plain objects, arrays and Maps are walked so a rule can name any key
  // below them; a rule, or the default at a leaf, settles the value it meets.
  // One node budget and one ancestor set cover the whole event, so shared or
  // cyclic structures cannot multiply the work.
  async #parameters(parameters: Record<string, unknown>, transforms: ChannelTransform[]): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {}
    const walk: ParameterWalk = { nodes: 0, ancestors: new Set([parameters]), segments: [], transforms }
    await this.#parameterContainer(parameters, '', out, walk)
    return out
  }

  async #parameterContainer(source: object, path: string, out: Record<string, unknown> | unknown[], walk: ParameterWalk): Promise<void> {
    const isArray = Array.isArray(out)
    for (const [key, value] of containerEntries(source)) {
      if (++walk.nodes > this.#policy.scrub.maxNodes) {
        throw new InvalidArgumentError(`parameters have more than scrub.maxNodes (${this.#policy.scrub.maxNodes}) values`)
      }
      const childPath = joinSegment(path, key)
      if (key === '__proto__') {
        walk.transforms.push({ channel: 'parameters', path: childPath, rule: 'reserved-key', action: 'drop' })
        continue
      }
      // The matcher gets segments, never a re-split string: a key holding a dot cannot pose as a path.
      walk.segments.push(key)
      try {
        const matched = matchParameterRule(this.#policy.parameters, walk.segments)
        const outKey = isArray ? key : this.#parameterKey(String(key), path, out, walk.transforms)
        const outPath = joinSegment(path, outKey)
        if (matched.rule === undefined && isWalkable(value) && walk.segments.length < this.#policy.scrub.maxDepth) {
          if (walk.ancestors.has(value)) {
            setEntry(out, outKey, '[Circular]')
            continue
          }
          const child: Record<string, unknown> | unknown[] = Array.isArray(value) || value instanceof Set ? [] : {}
          walk.ancestors.add(value)
          await this.#parameterContainer(value, outPath, child, walk)
          walk.ancestors.delete(value)
          setEntry(out, outKey, child)
          continue
        }
        const rule = matched.rule ?? 'parameters.default'
        const transformed = await this.#parameterValue(outKey, value, matched.action, path, rule, walk.transforms)
        if (transformed !== DROP) setEntry(out, outKey, transformed)
      } finally {
        walk.segments.pop()
      }
    }
  }

  // Keys leave too: an email or a token used as a map key is scrubbed like a
  // value, and its transform names the scrubbed key, never the original.
  #parameterKey(key: string, parent: string, out: Record<string, unknown>, transforms: ChannelTransform[]): string {
    const found: ScrubTransform[] = []
    let safe = this.#scrubber.scrubString(key, found, '$')
    if (safe !== key) {
      // Two keys may scrub to the same text ("ada@x.io" and "bob@x.io"): keep both.
      const base = safe
      for (let n = 2; Object.hasOwn(out, safe); n++) safe = `${base}#${n}`
    }
    for (const t of found) transforms.push({ channel: 'parameters', path: `${joinSegment(parent, safe)}{key}`, rule: t.rule, action: t.action })
    return safe
  }

  async #parameterValue(
    key: string | number,
    value: unknown,
    action: string,
    parent: string,
    rule: string,
    transforms: ChannelTransform[],
  ): Promise<unknown> {
    const path = joinSegment(parent, key)
    switch (action) {
      case 'drop':
        transforms.push({ channel: 'parameters', path, rule, action })
        return DROP
      case 'redact':
        transforms.push({ channel: 'parameters', path, rule, action })
        return `[REDACTED:${rule}]`
      case 'hash':
        transforms.push({ channel: 'parameters', path, rule, action })
        return this.#fingerprints.fingerprint(canonicalText(value))
      case 'encrypt':
        transforms.push({ channel: 'parameters', path, rule, action })
        return this.#values.encrypt(canonicalText(value))
      case 'scrub':
      case 'allow': {
        const lifted = await this.#lift(value, path, transforms)
        // Scrubbed under its key, so a sensitive key name (`password`) redacts
        // the value whole. The walker's paths start at that key; ours at the parent.
        if (typeof key === 'number') {
          const { value: scrubbed, transforms: found } =
            action === 'scrub' ? this.#scrubber.scrub(lifted) : this.#scrubber.maskRegistered(lifted)
          for (const t of found) transforms.push({ channel: 'parameters', path: joinTransformPath(path, t.path), rule: t.rule, action: t.action })
          return scrubbed
        }
        const wrapped = { [key]: lifted }
        const { value: scrubbed, transforms: found } =
          action === 'scrub' ? this.#scrubber.scrub(wrapped) : this.#scrubber.maskRegistered(wrapped)
        const rendered = renderPathSegment(key)
        for (const t of found) {
          transforms.push({ channel: 'parameters', path: joinTransformPath(parent, t.path.startsWith(rendered) ? t.path : rendered), rule: t.rule, action: t.action })
        }
        const container = scrubbed as Record<string, unknown>
        return Object.hasOwn(container, key) ? container[key] : DROP
      }
      default:
        throw new InvalidArgumentError(`unknown parameter action ${JSON.stringify(action)}`)
    }
  }

  // Errors and Results nested in parameters or log fields obey their own
  // channels' policies (exceptions, locations, inline values), not just the
  // scrubber: an Error logged under `err` must not ship its stack when the
  // policy drops stacks. Copies only the containers on the way to a replacement.
  async #lift(value: unknown, path: string, transforms: ChannelTransform[], depth = 0): Promise<unknown> {
    if (typeof value !== 'object' || value === null) return value
    if (value instanceof Error) return this.#failure(value, path, transforms)
    if (isResultLike(value)) return this.#resultReference(value, transforms, path)
    if (depth >= LIFT_DEPTH || !(Array.isArray(value) || isPlainObject(value))) return value
    let copy: Record<string, unknown> | unknown[] | undefined
    const entries = Array.isArray(value) ? value.entries() : Object.entries(value)
    for (const [key, child] of entries) {
      if (typeof child !== 'object' || child === null) continue
      const lifted = await this.#lift(child, joinSegment(path, key), transforms, depth + 1)
      if (lifted === child) continue
      copy ??= Array.isArray(value) ? [...(value as unknown[])] : { ...value }
      ;(copy as Record<string | number, unknown>)[key] = lifted
    }
    return copy ?? value
  }

  // ---------------------------------------------------------------- logs

  async #log(
    input: Extract<EmitInput, { kind: 'log' }>,
    envelope: EventEnvelope,
    transforms: ChannelTransform[],
  ): Promise<OutboundEvent> {
    const event: OutboundEvent = {
      ...envelope,
      kind: 'log',
      level: input.level,
      msg: this.#scrubText(input.msg, true, 'msg', 'logs', transforms),
    }
    if (input.taskRunId !== undefined) event.taskRunId = input.taskRunId
    if (input.fields !== undefined) {
      let fields = input.fields
      if (this.#redactPaths !== undefined) {
        try {
          fields = this.#redactPaths(fields)
          for (const path of this.#redactedPaths) {
            transforms.push({ channel: 'logs', path: `fields.${path}`, rule: 'redact-path', action: 'redact' })
          }
        } finally {
          this.#redactedPaths.length = 0
        }
      }
      fields = (await this.#lift(fields, 'fields', transforms)) as Record<string, unknown>
      const scrubbed = this.#scrubber.scrub(fields)
      for (const t of scrubbed.transforms) {
        transforms.push({ channel: 'logs', path: joinTransformPath('fields', t.path), rule: t.rule, action: t.action })
      }
      event.fields = scrubbed.value as Record<string, unknown>
    }
    // Truncate after scrubbing, never before: a cut must not expose half a secret
    // that the scrubber would have recognised whole.
    const size = Buffer.byteLength(JSON.stringify(event))
    if (size > this.#policy.logs.maxRecordBytes) {
      delete event.fields
      const budget = Math.max(0, this.#policy.logs.maxRecordBytes - 512)
      if (Buffer.byteLength(event.msg) > budget) event.msg = truncateUtf8(event.msg, budget)
      event.truncated = true
      transforms.push({ channel: 'logs', path: '$', rule: 'logs.maxRecordBytes', action: 'truncate' })
    }
    return event
  }

  // ---------------------------------------------------------------- text

  // Bare strings (messages, names, locations) skip the value walker when detectors run.
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

const DROP = Symbol('drop')

// How deep #lift looks for Errors and Results; deeper ones are left to the
// scrubber's walker, which still scrubs them.
const LIFT_DEPTH = 8

interface ParameterWalk {
  nodes: number
  readonly ancestors: Set<object>
  readonly segments: (string | number)[]
  readonly transforms: ChannelTransform[]
}

function isWalkable(value: unknown): value is object {
  return Array.isArray(value) || isPlainObject(value) || value instanceof Map || value instanceof Set
}

function containerEntries(source: object): Iterable<[string | number, unknown]> {
  if (Array.isArray(source)) return source.entries()
  if (source instanceof Set) return [...source].entries()
  if (source instanceof Map) return [...source].map(([k, v]): [string, unknown] => [String(k), v])
  return Object.entries(source)
}

function setEntry(out: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  if (Array.isArray(out)) out.push(value)
  else Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
}

function isResultLike(value: object): value is ResultLike {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function' && typeof (value as { inline?: unknown }).inline === 'boolean'
}

function joinSegment(path: string, key: string | number): string {
  return joinTransformPath(path, renderPathSegment(key))
}

function identity<T>(value: T): T {
  return value
}

// Only the members the wire schema names, so nothing else scrubError may carry rides along.
function toFailureCause(node: ScrubbedErrorNode): FailureCause {
  const cause: FailureCause = { type: node.type }
  if (node.code !== undefined) cause.code = node.code
  if (node.message !== '') cause.message = node.message
  if (node.stack !== undefined) cause.stack = node.stack
  if (node.causes !== undefined && node.causes.length > 0) cause.causes = node.causes.map(toFailureCause)
  return cause
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}



function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text)
  if (bytes.length <= maxBytes) return text
  // Decoding a cut buffer may end in half a character; drop the replacement char.
  return bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '') + '…'
}
