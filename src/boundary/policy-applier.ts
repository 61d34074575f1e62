import redact from '@pinojs/redact'
import { Fingerprinter } from '../crypto/fingerprinter.js'
import type { KeyRing } from '../crypto/key-ring.js'
import { LocationCipher } from '../crypto/location-cipher.js'
import { ValueCipher } from '../crypto/value-cipher.js'
import { InvalidArgumentError } from '../errors.js'
import { matchParameterRule } from '../policy/parameter-rules.js'
import type { LogLevel, Policy } from '../policy/schema.js'
import type { Scrubber } from '../scrub/scrubber.js'
import { scrubError, type ScrubbedErrorNode } from '../scrub/scrub-error.js'
import type { Channel, EmitInput, ResultLike } from './emit-input.js'
import type { Failure, FailureCause, OutboundEvent, ResultReference } from './events.js'

/** One change the policy made, as the ledger records it: never the original value. */
export interface Transform {
  readonly path: string
  readonly rule: string
  readonly action: string
}

/** A transform with the channel it counts under in `stats()`. */
export interface ChannelTransform extends Transform {
  readonly channel: Channel
}

/** The members every outbound event carries, filled in by the boundary. */
export interface EventEnvelope {
  readonly v: 1
  readonly id: string
  readonly runId: string
  readonly time: string
  readonly policyHash: string
}

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }
const REFUSED = '[airlock:refused]'

/**
 * Applies one resolved policy to raw events: step 2 of `Airlock.emit`. Built
 * once per Airlock, so ciphers and path redactors are prepared once, not per
 * event. Returns `undefined` for an event the policy suppresses entirely
 * (a log below the level, or with shipping off).
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

  constructor(policy: Policy, scrubber: Scrubber, keys: KeyRing) {
    this.#policy = policy
    this.#scrubber = scrubber
    this.#keys = keys
    this.#fingerprints = new Fingerprinter(keys)
    this.#values = new ValueCipher(keys)
    this.#locations = new LocationCipher(keys)
    this.#minLogRank = LEVEL_RANK[policy.logs.level]
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
    return this.#policy.logs.ship && LEVEL_RANK[level] >= this.#minLogRank
  }

  async apply(input: EmitInput, envelope: EventEnvelope, transforms: ChannelTransform[]): Promise<OutboundEvent | undefined> {
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
        if (input.error !== undefined) event.failure = await this.#failure(input.error, transforms)
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
        if (input.error !== undefined) event.failure = await this.#failure(input.error, transforms)
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

  async #failure(error: unknown, transforms: ChannelTransform[]): Promise<Failure> {
    const scrubbed = await scrubError(error, this.#policy, { scrubber: this.#scrubber, keys: this.#keys })
    for (const t of scrubbed.transforms) {
      transforms.push({ channel: 'exceptions', path: `failure.${t.path}`, rule: t.rule, action: t.action })
    }
    transforms.push({ channel: 'exceptions', path: 'failure', rule: 'exceptions.mode', action: this.#policy.exceptions.mode })
    const failure: Failure = toFailureCause(scrubbed)
    if (scrubbed.fingerprint !== undefined) failure.fingerprint = scrubbed.fingerprint
    if (scrubbed.token !== undefined) failure.token = scrubbed.token
    return failure
  }

  async #resultReference(result: ResultLike, transforms: ChannelTransform[]): Promise<ResultReference> {
    const json = result.toJSON()
    if (typeof json?.type !== 'string' || typeof json.location !== 'string') {
      throw new InvalidArgumentError('a result reference needs a string type and location')
    }
    const reference: ResultReference = { type: json.type, location: '' }
    // Backend identifiers (bucket, container) pass; anything not a scalar does not.
    for (const [key, value] of Object.entries(json)) {
      if (key === 'type' || key === 'location') continue
      if (typeof value === 'string') reference[key] = this.#scrubText(value, false, `result.${key}`, 'locations', transforms)
      else if (typeof value === 'number' || typeof value === 'boolean') reference[key] = value
    }
    if (result.inline === true) {
      reference.location = await this.#inlineValue(json.location, transforms)
    } else {
      reference.location = await this.#location(json.location, transforms)
    }
    return reference
  }

  async #location(location: string, transforms: ChannelTransform[]): Promise<string> {
    if (LocationCipher.isToken(location)) {
      transforms.push({ channel: 'locations', path: 'result.location', rule: 'locations.mode', action: 'encrypt' })
      return location
    }
    if (this.#policy.locations.mode === 'encrypt') {
      // The Result had no cipher of its own: encrypt at the door rather than let a plain location out.
      transforms.push({ channel: 'locations', path: 'result.location', rule: 'locations.mode', action: 'encrypt' })
      return this.#locations.encrypt(location)
    }
    return this.#scrubText(location, false, 'result.location', 'locations', transforms)
  }

  async #inlineValue(location: string, transforms: ChannelTransform[]): Promise<string> {
    const mode = this.#policy.inlineValues.mode
    const path = 'result.location'
    switch (mode) {
      case 'refuse':
        transforms.push({ channel: 'inline values', path, rule: 'inlineValues.mode', action: 'refuse' })
        return REFUSED
      case 'encrypt':
        transforms.push({ channel: 'inline values', path, rule: 'inlineValues.mode', action: 'encrypt' })
        return LocationCipher.isToken(location) ? location : this.#locations.encrypt(location)
      case 'scrub':
      case 'allow':
        if (LocationCipher.isToken(location)) return location
        return this.#scrubText(location, mode === 'scrub', path, 'inline values', transforms)
    }
  }

  // ---------------------------------------------------------------- parameters

  async #parameters(parameters: Record<string, unknown>, transforms: ChannelTransform[]): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {}
    await this.#parameterObject(parameters, '', out, transforms, 0)
    return out
  }

  async #parameterObject(
    source: Record<string, unknown>,
    prefix: string,
    out: Record<string, unknown>,
    transforms: ChannelTransform[],
    depth: number,
  ): Promise<void> {
    for (const [key, value] of Object.entries(source)) {
      const path = prefix === '' ? key : `${prefix}.${key}`
      const matched = matchParameterRule(this.#policy.parameters, path)
      // An explicit rule settles the whole subtree; the default applies at the leaves,
      // so a rule on a nested key still gets its chance.
      if (matched.rule === undefined && isPlainObject(value) && depth < this.#policy.scrub.maxDepth) {
        const child: Record<string, unknown> = {}
        await this.#parameterObject(value, path, child, transforms, depth + 1)
        out[key] = child
        continue
      }
      const rule = matched.rule ?? 'parameters.default'
      const transformed = await this.#parameterValue(key, value, matched.action, prefix, rule, transforms)
      if (transformed !== DROP) out[key] = transformed
    }
  }

  async #parameterValue(
    key: string,
    value: unknown,
    action: string,
    prefix: string,
    rule: string,
    transforms: ChannelTransform[],
  ): Promise<unknown> {
    const path = prefix === '' ? key : `${prefix}.${key}`
    switch (action) {
      case 'drop':
        transforms.push({ channel: 'parameters', path, rule, action })
        return DROP
      case 'redact':
        transforms.push({ channel: 'parameters', path, rule, action })
        return `[REDACTED:${rule}]`
      case 'hash':
        transforms.push({ channel: 'parameters', path, rule, action })
        return this.#fingerprints.fingerprint(canonicalJson(value))
      case 'encrypt':
        transforms.push({ channel: 'parameters', path, rule, action })
        return this.#values.encrypt(canonicalJson(value))
      case 'scrub':
      case 'allow': {
        // Scrubbed with its key, so a sensitive key name (`password`) redacts the value whole.
        const wrapped = { [key]: value }
        const { value: scrubbed, transforms: found } =
          action === 'scrub' ? this.#scrubber.scrub(wrapped) : this.#scrubber.maskRegistered(wrapped)
        for (const t of found) {
          transforms.push({ channel: 'parameters', path: prefix === '' ? t.path : joinPath(prefix, t.path), rule: t.rule, action: t.action })
        }
        const container = scrubbed as Record<string, unknown>
        return Object.hasOwn(container, key) ? container[key] : DROP
      }
      default:
        throw new InvalidArgumentError(`unknown parameter action ${JSON.stringify(action)}`)
    }
  }

  // ---------------------------------------------------------------- logs

  #log(
    input: Extract<EmitInput, { kind: 'log' }>,
    envelope: EventEnvelope,
    transforms: ChannelTransform[],
  ): OutboundEvent | undefined {
    if (!this.shipsLevel(input.level)) return undefined
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
        fields = this.#redactPaths(fields)
        for (const path of this.#redactedPaths) {
          transforms.push({ channel: 'logs', path: `fields.${path}`, rule: 'redact-path', action: 'redact' })
        }
        this.#redactedPaths.length = 0
      }
      const scrubbed = this.#scrubber.scrub(fields)
      for (const t of scrubbed.transforms) {
        transforms.push({ channel: 'logs', path: joinPath('fields', t.path), rule: t.rule, action: t.action })
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

  #scrubText(text: string, detectors: boolean, path: string, channel: Channel, transforms: ChannelTransform[]): string {
    const result = detectors ? this.#scrubber.scrub(text) : this.#scrubber.maskRegistered(text)
    for (const t of result.transforms) transforms.push({ channel, path: joinPath(path, t.path), rule: t.rule, action: t.action })
    return typeof result.value === 'string' ? result.value : String(result.value)
  }
}

const DROP = Symbol('drop')

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

function joinPath(prefix: string, inner: string): string {
  if (inner === '$' || inner === '') return prefix
  return inner.startsWith('[') ? prefix + inner : `${prefix}.${inner}`
}

/** JSON with sorted keys, so equal values hash and encrypt from equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (isPlainObject(v)) {
      const sorted: Record<string, unknown> = {}
      for (const k of Object.keys(v).sort()) sorted[k] = v[k]
      return sorted
    }
    return typeof v === 'bigint' ? v.toString() : v
  }) ?? 'null'
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text)
  if (bytes.length <= maxBytes) return text
  // Decoding a cut buffer may end in half a character; drop the replacement char.
  return bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '') + '…'
}
