import { createTraceState, isValidSpanId, isValidTraceId, type HrTime, type SpanContext, type TraceState } from '@opentelemetry/api'
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources'
import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import type { OutboundDoor, Transformed } from '../../boundary/outbound-door.js'
import type { ChannelTransform } from '../../boundary/policy-applier.js'
import { AirlockError, InvalidArgumentError } from '../../errors.js'
import type { JsonObject } from '../../internal/canonical-json.js'
import type { Scrubber } from '../../scrub/scrubber.js'
import { joinTransformPath, renderPathSegment } from '../../scrub/transform.js'
import { ErrorNode } from '../../scrub/value-nodes.js'

/** One transform as a ledger entry holds it: where, by which rule, what it did. */
export interface LedgerTransform {
  /** Relative to the record while it is prepared; the batch then moves it under the record's place in its entry. */
  path: string
  readonly rule: string
  readonly action: string
}

/** A resource or scope as it may leave, scrubbed once and reused while no secret is registered. */
export interface Scrubbed<T> {
  /** What the wrapped exporter is handed. */
  readonly value: T
  /** What the ledger records of it. */
  readonly json: JsonObject
  /** Paths relative to it. */
  readonly transforms: readonly LedgerTransform[]
}

/**
 * What the exceptions mode made of one exception's message, kept for a span
 * status that repeats it (instrumentations set the status message to the
 * recorded exception's message).
 */
export interface KeptMessage {
  /** The message as it came in. */
  readonly text: string
  /** What leaves of it, or undefined when the mode sends no message. */
  readonly kept: string | undefined
  /** What scrubbing it did, paths left out. */
  readonly transforms: readonly { readonly rule: string; readonly action: string }[]
  // scrubber.size before it was scrubbed: after a secret is registered the message is scrubbed again.
  readonly generation: number
}

/** An instrumentation scope as the SDKs hand it over (logs may carry attributes). */
export interface ScopeLike {
  readonly name: string
  readonly version?: string
  readonly schemaUrl?: string
  readonly attributes?: Record<string, unknown>
  readonly droppedAttributesCount?: number
}

interface Cached<T> {
  // scrubber.size when scrubbed: a secret registered since must be masked in it too.
  readonly generation: number
  readonly scrubbed: Scrubbed<T>
}

const EXCEPTION_TYPE = 'exception.type'
const EXCEPTION_MESSAGE = 'exception.message'
const EXCEPTION_STACKTRACE = 'exception.stacktrace'
/** Where the `fingerprint` and `encrypted` exception modes put what replaces the message. */
export const EXCEPTION_FINGERPRINT = 'airlock.exception.fingerprint'
export const EXCEPTION_TOKEN = 'airlock.exception.token'
const ERROR_CODE_SHAPE = /^ERR_[A-Z0-9_]{1,60}$/
const NO_STATUS_TYPE = 'SpanStatus'
const EMPTY_TRANSFORMS: readonly LedgerTransform[] = Object.freeze([])
const NO_MESSAGES: readonly KeptMessage[] = Object.freeze([])

/**
 * What the policy makes of OpenTelemetry's pieces (attributes, names, free
 * text, exceptions, span contexts, resources and scopes), each through the
 * Airlock's outbound door: this adapter decides where each piece belongs,
 * never what may leave of it. Internal to the otel adapter.
 *
 * Transforms are pushed with paths relative to the record being prepared
 * (`attributes.user.email`); the batch prefixes them with the record.
 */
export class TelemetryPolicy {
  readonly door: OutboundDoor
  readonly #scrubber: Scrubber
  readonly #resources = new WeakMap<object, Cached<Resource>>()
  readonly #scopes = new WeakMap<object, Cached<ScopeLike>>()

  constructor(airlock: AirlockBoundary) {
    this.door = airlock.outbound
    this.#scrubber = airlock.scrubber
  }

  /**
   * An attribute map through the channel's path rules and the scrubber;
   * `exception.type`, `exception.message` and `exception.stacktrace`,
   * wherever they ride (a span, an event, a log record), through the
   * exceptions policy instead, as the error they describe. Settled in this
   * turn when nothing in it needs an asynchronous step (most maps); a
   * promise otherwise.
   */
  attributes(
    attributes: unknown,
    channel: 'logs' | 'telemetry',
    at: string,
    into: LedgerTransform[],
    messages?: KeptMessage[],
  ): Record<string, unknown> | Promise<Record<string, unknown>> {
    if (attributes === undefined || attributes === null) return {}
    if (typeof attributes === 'object' && hasException(attributes)) return this.#withException(attributes as Record<string, unknown>, channel, at, into, messages)
    const scrubbed = this.door.valueNow(attributes, channel)
    if (scrubbed instanceof Promise) return scrubbed.then((settled) => attributeMap(settled, at, into, undefined))
    return attributeMap(scrubbed, at, into, undefined)
  }

  async #withException(
    own: Record<string, unknown>,
    channel: 'logs' | 'telemetry',
    at: string,
    into: LedgerTransform[],
    messages: KeptMessage[] | undefined,
  ): Promise<Record<string, unknown>> {
    const rest: Record<string, unknown> = {}
    for (const key of Object.keys(own)) if (key !== EXCEPTION_TYPE && key !== EXCEPTION_MESSAGE && key !== EXCEPTION_STACKTRACE) rest[key] = own[key]
    const exception = await this.exception(own[EXCEPTION_TYPE], own[EXCEPTION_MESSAGE], own[EXCEPTION_STACKTRACE], at, into, messages)
    return attributeMap(await this.door.valueNow(rest, channel), at, into, exception)
  }

  /**
   * A body or other value through the channel's rules and the scrubber, as
   * {@link attributes} but whole: settled in this turn when it can be.
   */
  value(value: unknown, channel: 'logs' | 'telemetry', at: string, into: LedgerTransform[]): unknown {
    const scrubbed = this.door.valueNow(value, channel)
    if (scrubbed instanceof Promise) {
      return scrubbed.then((settled) => {
        collect(into, at, settled.transforms)
        return sorted(settled.value)
      })
    }
    collect(into, at, scrubbed.transforms)
    return sorted(scrubbed.value)
  }

  /**
   * The `exception.*` attributes of one exception as `exceptions.mode` lets
   * them out: a key is sent only if it came in, and the mode decides whether
   * the message and stack survive; `fingerprint` and `encrypted` add
   * {@link EXCEPTION_FINGERPRINT} or {@link EXCEPTION_TOKEN}.
   */
  async exception(
    type: unknown,
    message: unknown,
    stack: unknown,
    at: string,
    into: LedgerTransform[],
    messages?: KeptMessage[],
  ): Promise<Record<string, string>> {
    const typeText = exceptionText(type, at, EXCEPTION_TYPE, into)
    const messageText = exceptionText(message, at, EXCEPTION_MESSAGE, into)
    const stackText = exceptionText(stack, at, EXCEPTION_STACKTRACE, into)
    const generation = this.#scrubber.size
    const node = new ErrorNode(typeText ?? 'Error', typeText, messageText ?? '', stackText, undefined, undefined, undefined, undefined)
    const { value: failure, transforms } = await this.door.error(node)
    // The error's fields are named by the attributes they came from.
    for (const t of transforms) into.push({ path: exceptionPath(at, relative(t.path)), rule: t.rule, action: t.action })
    if (messages !== undefined && messageText !== undefined && messageText !== '') {
      messages.push({ text: messageText, kept: failure.message, transforms: messageTransforms(transforms), generation })
    }
    const out: Record<string, string> = {}
    if (typeText !== undefined) out[EXCEPTION_TYPE] = failure.type
    if (messageText !== undefined && failure.message !== undefined) out[EXCEPTION_MESSAGE] = failure.message
    if (stackText !== undefined && failure.stack !== undefined) out[EXCEPTION_STACKTRACE] = failure.stack
    if (failure.fingerprint !== undefined) out[EXCEPTION_FINGERPRINT] = failure.fingerprint
    if (failure.token !== undefined) out[EXCEPTION_TOKEN] = failure.token
    return out
  }

  /**
   * A span status message: what an instrumentation puts there is the error's
   * message, so it leaves only as the exceptions mode lets a message leave
   * (scrubbed, masked, or not at all).
   */
  async statusMessage(message: string, at: string, into: LedgerTransform[], known: readonly KeptMessage[] = NO_MESSAGES): Promise<string | undefined> {
    // The message of an exception this span recorded, as that exception's message was let out: the same text,
    // under the same mode and the same registered secrets, leaves the same way, so it is not scrubbed twice.
    let kept = known.find((k) => k.text === message && k.generation === this.#scrubber.size)
    if (kept === undefined) {
      const node = new ErrorNode(NO_STATUS_TYPE, undefined, message, undefined, undefined, undefined, undefined, undefined)
      const { value: failure, transforms } = await this.door.error(node)
      kept = { text: message, kept: failure.message, transforms: messageTransforms(transforms), generation: -1 }
    }
    if (kept.kept === undefined) {
      // The mode's fingerprint or token of a status is not sent: the message is simply gone.
      into.push({ path: at, rule: 'exceptions.mode', action: 'remove' })
      return undefined
    }
    for (const t of kept.transforms) into.push({ path: at, rule: t.rule, action: t.action })
    return kept.kept
  }

  /** A span or scope name: the names rule, and the detectors where the rule lets it pass. */
  name(name: unknown, at: string, into: LedgerTransform[]): string {
    if (typeof name !== 'string') throw new InvalidArgumentError('an OpenTelemetry name must be a string')
    const { value, transforms } = this.door.name(name, { detectors: true })
    collect(into, at, transforms)
    return value
  }

  /** Free text (an event name, a severity text, a schema URL) scrubbed as the channel's strings are. */
  text(text: string, channel: 'logs' | 'telemetry', at: string, into: LedgerTransform[]): string {
    const { value, transforms } = this.door.text(text, channel)
    collect(into, at, transforms)
    return value
  }

  /**
   * A span context with only what OTLP carries, its ids checked (hex, not
   * all zeros: an id is never a place for text) and, with `traceState`, its
   * trace state (vendor text propagated from callers) scrubbed.
   *
   * @throws InvalidArgumentError for an invalid trace or span id.
   */
  spanContext(context: SpanContext | undefined, at: string, into: LedgerTransform[], traceState = true): SpanContext {
    if (typeof context !== 'object' || context === null || !isValidTraceId(context.traceId) || !isValidSpanId(context.spanId)) {
      throw new InvalidArgumentError('an exported span context needs a valid trace id and span id')
    }
    const out: { traceId: string; spanId: string; traceFlags: number; isRemote?: boolean; traceState?: TraceState } = {
      traceId: context.traceId,
      spanId: context.spanId,
      traceFlags: Number.isInteger(context.traceFlags) ? context.traceFlags & 0xff : 0,
    }
    if (typeof context.isRemote === 'boolean') out.isRemote = context.isRemote
    if (!traceState) return out
    const state = context.traceState?.serialize()
    if (typeof state === 'string' && state !== '') {
      const scrubbed = createTraceState(this.text(state, 'telemetry', joinTransformPath(at, 'traceState'), into))
      if (scrubbed.serialize() !== '') out.traceState = scrubbed
    }
    return out
  }

  /**
   * A resource, scrubbed once per resource object (again after a secret is
   * registered): the cached one without a wait, else a promise of it.
   */
  resource(resource: Resource): Scrubbed<Resource> | Promise<Scrubbed<Resource>> {
    const cached = typeof resource === 'object' && resource !== null ? this.#resources.get(resource) : undefined
    if (cached !== undefined && cached.generation === this.#scrubber.size) return cached.scrubbed
    return this.#resource(resource)
  }

  async #resource(resource: Resource): Promise<Scrubbed<Resource>> {
    if (typeof resource !== 'object' || resource === null) throw new InvalidArgumentError('an exported record needs a resource')
    // Its detectors may still be running: what they find is part of what leaves.
    if (resource.asyncAttributesPending === true) await resource.waitForAsyncAttributes?.()
    const generation = this.#scrubber.size
    const transforms: LedgerTransform[] = []
    const attributes = await this.attributes(resource.attributes, 'telemetry', 'attributes', transforms)
    const json: { attributes: Record<string, unknown>; schemaUrl?: string } = { attributes }
    let schemaUrl: string | undefined
    if (typeof resource.schemaUrl === 'string' && resource.schemaUrl !== '') {
      schemaUrl = this.text(resource.schemaUrl, 'telemetry', 'schemaUrl', transforms)
      json.schemaUrl = schemaUrl
    }
    const scrubbed: Scrubbed<Resource> = {
      value: resourceFromAttributes(attributes as Parameters<typeof resourceFromAttributes>[0], schemaUrl === undefined ? undefined : { schemaUrl }),
      json: json as JsonObject,
      transforms: transforms.length === 0 ? EMPTY_TRANSFORMS : transforms,
    }
    this.#resources.set(resource, { generation, scrubbed })
    return scrubbed
  }

  /** An instrumentation scope, scrubbed once per scope object (again after a secret is registered); as {@link resource}. */
  scope(scope: ScopeLike): Scrubbed<ScopeLike> | Promise<Scrubbed<ScopeLike>> {
    const cached = typeof scope === 'object' && scope !== null ? this.#scopes.get(scope) : undefined
    if (cached !== undefined && cached.generation === this.#scrubber.size) return cached.scrubbed
    return this.#scope(scope)
  }

  async #scope(scope: ScopeLike): Promise<Scrubbed<ScopeLike>> {
    if (typeof scope !== 'object' || scope === null) throw new InvalidArgumentError('an exported record needs an instrumentation scope')
    const generation = this.#scrubber.size
    const transforms: LedgerTransform[] = []
    // Keys in sorted order for the ledger's canonical JSON.
    const out: { attributes?: Record<string, unknown>; droppedAttributesCount?: number; name: string; schemaUrl?: string; version?: string } = {
      attributes: undefined,
      droppedAttributesCount: undefined,
      name: this.name(scope.name, 'name', transforms),
      schemaUrl: undefined,
      version: undefined,
    }
    if (typeof scope.version === 'string') out.version = this.text(scope.version, 'telemetry', 'version', transforms)
    if (typeof scope.schemaUrl === 'string' && scope.schemaUrl !== '') out.schemaUrl = this.text(scope.schemaUrl, 'telemetry', 'schemaUrl', transforms)
    if (scope.attributes !== undefined) {
      out.attributes = await this.attributes(scope.attributes, 'telemetry', 'attributes', transforms)
      out.droppedAttributesCount = count(scope.droppedAttributesCount)
    }
    const scrubbed: Scrubbed<ScopeLike> = { value: out, json: out as JsonObject, transforms: transforms.length === 0 ? EMPTY_TRANSFORMS : transforms }
    this.#scopes.set(scope, { generation, scrubbed })
    return scrubbed
  }
}

/**
 * A copy of an OpenTelemetry time, checked: `[seconds, nanoseconds]`.
 *
 * @throws InvalidArgumentError for anything else: a time is never a place for text.
 */
export function hrTime(time: unknown): HrTime {
  if (!Array.isArray(time) || time.length !== 2) throw new InvalidArgumentError('an OpenTelemetry time must be [seconds, nanoseconds]')
  // By index: destructuring would go through the array iterator, for every time of every record.
  const seconds: unknown = time[0]
  const nanos: unknown = time[1]
  if (!Number.isSafeInteger(seconds) || !Number.isInteger(nanos) || (nanos as number) < 0 || (nanos as number) >= 1e9) {
    throw new InvalidArgumentError('an OpenTelemetry time must be [seconds, nanoseconds]')
  }
  return [seconds as number, nanos as number]
}

/**
 * `value` with every object's keys in sorted order: itself when they are
 * already, else a copy. What is handed over and what is ledgered are the same
 * objects, and the ledger's canonical JSON of a value in sorted order is
 * JSON.stringify's, natively.
 */
export function sorted(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item = sorted(value[i])
      if (item !== value[i]) (copy ??= value.slice())[i] = item
    }
    return copy ?? value
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  let inOrder = true
  for (let i = 1; i < keys.length && inOrder; i++) if (keys[i - 1]! > keys[i]!) inOrder = false
  if (!inOrder) sortKeys(keys)
  let copy: Record<string, unknown> | undefined
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    const member = record[key]
    const item = sorted(member)
    if (copy === undefined) {
      if (inOrder && item === member) continue
      // A plain object, as exporters expect, holding what came before this member.
      copy = {}
      for (let j = 0; j < i; j++) define(copy, keys[j]!, record[keys[j]!])
    }
    define(copy, key, item)
  }
  return copy ?? value
}

// By UTF-16 code units, as `<` compares them (and the default sort does). Attribute maps are small: in place,
// where Array.prototype.sort would allocate a work array for each.
function sortKeys(keys: string[]): void {
  if (keys.length > 32) {
    keys.sort()
    return
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!
    let j = i - 1
    for (; j >= 0 && keys[j]! > key; j--) keys[j + 1] = keys[j]!
    keys[j + 1] = key
  }
}

// A `__proto__` key is defined as an own key, never set as the prototype.
function define(out: Record<string, unknown>, key: string, item: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true })
  else out[key] = item
}

// An attribute map as it leaves: the door's transforms under `at`, the exception's attributes added, keys sorted.
function attributeMap(scrubbed: Transformed<unknown>, at: string, into: LedgerTransform[], exception: Record<string, string> | undefined): Record<string, unknown> {
  collect(into, at, scrubbed.transforms)
  const value = scrubbed.value
  // A map over the node budget, or one that could not be read, comes back as a marker: none of it leaves.
  const out = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
  if (out !== value) into.push({ path: at, rule: 'attributes', action: 'withhold' })
  if (exception !== undefined) Object.assign(out, exception)
  return sorted(out) as Record<string, unknown>
}

/** A dropped-items count as OTLP carries it: a non-negative integer, else 0. */
export function count(value: unknown): number {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : 0
}

/** The reason class of a withheld record, `stage:ERR_CODE`: never a message, which could quote the record. */
export function reasonOf(stage: string, err: unknown): string {
  const code = err instanceof AirlockError && ERROR_CODE_SHAPE.test(err.code) ? err.code : 'ERR_INTERNAL'
  return `${stage}:${code}`
}

/** Pushes the door's transforms under `at`. */
export function collect(into: LedgerTransform[], at: string, transforms: readonly ChannelTransform[]): void {
  for (const t of transforms) into.push({ path: joinTransformPath(at, relative(t.path)), rule: t.rule, action: t.action })
}

// The door roots paths of a lone value at `$`.
function relative(path: string): string {
  return path.startsWith('$.') ? path.slice(2) : path
}

// What the exceptions policy did to a message (paths `message`, `message…`), paths left out.
function messageTransforms(transforms: readonly ChannelTransform[]): { rule: string; action: string }[] {
  const out: { rule: string; action: string }[] = []
  for (const t of transforms) if (relative(t.path).startsWith('message')) out.push({ rule: t.rule, action: t.action })
  return out
}

function hasException(attributes: object): boolean {
  return Object.hasOwn(attributes, EXCEPTION_MESSAGE) || Object.hasOwn(attributes, EXCEPTION_STACKTRACE) || Object.hasOwn(attributes, EXCEPTION_TYPE)
}

// An exception attribute as text: a number or boolean as written, any other shape not at all.
function exceptionText(value: unknown, at: string, key: string, into: LedgerTransform[]): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  into.push({ path: joinTransformPath(at, renderPathSegment(key)), rule: 'exceptions.mode', action: 'drop' })
  return undefined
}

const EXCEPTION_FIELDS: Readonly<Record<string, string>> = { type: EXCEPTION_TYPE, message: EXCEPTION_MESSAGE, stack: EXCEPTION_STACKTRACE }

// A path the exceptions policy wrote (`message`, `stack.frames`, `$`) as the attribute it is about.
function exceptionPath(at: string, path: string): string {
  // The leading lowercase word, read without a regular expression's match array.
  let end = 0
  while (end < path.length && path.charCodeAt(end) >= 97 && path.charCodeAt(end) <= 122) end++
  const field = path.slice(0, end)
  const key = Object.hasOwn(EXCEPTION_FIELDS, field) ? EXCEPTION_FIELDS[field] : undefined
  if (key === undefined) return joinTransformPath(at, path === '$' ? '' : path)
  return joinTransformPath(at, renderPathSegment(key) + path.slice(end))
}
