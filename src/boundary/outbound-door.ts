import { Fingerprinter } from '../crypto/fingerprinter.js'
import type { KeyRing } from '../crypto/key-ring.js'
import { InvalidArgumentError, type AirlockError } from '../errors.js'
import type { JsonObject } from '../internal/canonical-json.js'
import { describeType } from '../internal/describe-type.js'
import type { LogLevel } from '../policy/schema.js'
import { normalizeFlatRecord, type NormalizeLimits } from '../scrub/normalize.js'
import type { Scrubber } from '../scrub/scrubber.js'
import type { Channel } from './emit-input.js'
import type { Failure } from './events.js'
import type { ChannelTransform, PolicyApplier } from './policy-applier.js'

/**
 * A value as a policy let it out, and what the policy did to it (paths,
 * rules and actions; never an original value).
 *
 * @example
 * ```ts
 * const { value, transforms }: Transformed<string> = airlock.outbound.name('charge-cards')
 * ```
 */
export interface Transformed<T> {
  readonly value: T
  readonly transforms: readonly ChannelTransform[]
}

/**
 * What an engine adapter hands its engine, as the ledger records it: the
 * channel it belongs to, the engine, and what went, as JSON (a clear
 * payload's bytes in base64; an encrypted one's size, format and key id).
 *
 * @example
 * ```ts
 * const record: OutboundRecord = {
 *   channel: 'payloads', engine: 'temporal',
 *   sent: { name: 'temporal:json/plain', action: 'encrypt', size: 1832, kid: '20261207-1a2b3c4d' },
 *   transforms: [{ path: '$', rule: 'payloads.default', action: 'encrypt' }],
 * }
 * ```
 */
export interface OutboundRecord {
  readonly channel: Channel
  /** `temporal`, `restate`, `otel`: lowercase letters, digits and dashes. */
  readonly engine: string
  readonly sent: JsonObject
  readonly transforms?: readonly { readonly path: string; readonly rule: string; readonly action: string }[]
  /**
   * How many items of this hand-over the adapter withheld because the
   * policy threw for them (name each in `sent`, with its reason class): they
   * count in `stats().withheld` under `channel` once the record is durable.
   */
  readonly withheld?: number
}

/**
 * Options of {@link OutboundDoor.name}.
 *
 * @example
 * ```ts
 * airlock.outbound.name('GET /users/ada@example.com', { detectors: true } satisfies NameOptions).value   // 'GET /users/[REDACTED:email]'
 * ```
 */
export interface NameOptions {
  /**
   * The name may be built from data (a span name holding a URL route, a
   * log event name): where the names rule lets it pass, the detectors scrub
   * it as well, not registered secrets only.
   */
  readonly detectors?: boolean
}

/** What the door needs of the boundary that owns it. */
export interface OutboundHost {
  readonly applier: PolicyApplier
  readonly scrubber: Scrubber
  /** The scrubber's normalizing bounds (`scrub.maxDepth`, `scrub.maxNodes`). */
  readonly limits: NormalizeLimits
  readonly keys: KeyRing
  /** Ledgers and counts an engine-bound record; resolves with its id once durable. */
  record(record: OutboundRecord): Promise<string>
  /** Why `record` would refuse now, known synchronously (closed, or a ledger that failed), or undefined. */
  refusal(): AirlockError | undefined
  /** Counts items the policy kept from an engine by design. */
  suppress(channel: Channel, count: number): void
  /** Ledgers and counts a failed hand-over of recorded entries. */
  failed(ids: readonly string[], reason: string): void
}

const ENGINE = /^[a-z][a-z0-9-]{0,31}$/
const REASON = /^[a-z][a-z0-9-]{0,63}$/
const ENTRY_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/
const CHANNELS: ReadonlySet<string> = new Set<Channel>(['parameters', 'logs', 'exceptions', 'locations', 'inline values', 'states', 'payloads', 'telemetry'])

/**
 * The door for engine adapters (`airlock-sdk/temporal`, `/restate`,
 * `/otel`): an engine is a control plane too, and what an adapter hands it
 * goes through the same policy, scrubber, ciphers and ledger as an event
 * (docs/design.md, invariant 1). An adapter transforms with these methods, then
 * ledgers with {@link OutboundDoor.record} and hands the data over only once
 * that resolves (write-ahead); if it rejects, the adapter refuses, never
 * passing the original through (invariant 2).
 *
 * Every input is normalized first (the one value model), so errors and
 * results anywhere in it meet their own channels' policies.
 *
 * @example
 * ```ts
 * const door = airlock.outbound
 * const attributes = await door.value({ 'user.email': 'ada@example.com' }, 'telemetry')
 * const name = door.name('charge-cards')
 * await door.record({ channel: 'telemetry', engine: 'otel', sent: { name: name.value, attributes: attributes.value as JsonObject },
 *   transforms: [...name.transforms, ...attributes.transforms] })
 * ```
 */
export class OutboundDoor {
  readonly #host: OutboundHost
  readonly #fingerprints: Fingerprinter

  constructor(host: OutboundHost) {
    this.#host = host
    this.#fingerprints = new Fingerprinter(host.keys)
  }

  /**
   * A value through a channel's rules: `parameters` (parameter rules),
   * `logs` (redact paths) or `telemetry` (attribute rules); errors in it
   * through the exceptions policy, results through the locations policy,
   * everything else scrubbed.
   */
  value(value: unknown, channel: 'parameters' | 'logs' | 'telemetry'): Promise<Transformed<unknown>> {
    // Inside the executor, so a throw becomes the rejection.
    return new Promise((resolve) => resolve(this.valueNow(value, channel)))
  }

  /**
   * {@link OutboundDoor.value}, settled in this turn when nothing in the
   * value needs an asynchronous step (an error, a result, a value under an
   * `encrypt` rule): most attribute maps. An adapter that handles many small
   * values a batch (OpenTelemetry's records) then pays no promise and no
   * wait for each. Throws, rather than rejects, what it cannot apply.
   *
   * @example
   * ```ts
   * let attributes = airlock.outbound.valueNow({ 'user.email': 'ada@example.com' }, 'telemetry')
   * if (attributes instanceof Promise) attributes = await attributes
   * attributes.value   // { 'user.email': '[REDACTED:email]' }
   * ```
   */
  valueNow(value: unknown, channel: 'parameters' | 'logs' | 'telemetry'): Transformed<unknown> | Promise<Transformed<unknown>> {
    const transforms: ChannelTransform[] = []
    const host = this.#host
    const tree = normalizeFlatRecord(value, host.limits) ?? host.scrubber.normalize(value)
    const out = host.applier.value(tree, channel, '', transforms)
    return out instanceof Promise ? out.then((settled: unknown) => ({ value: settled, transforms })) : { value: out, transforms }
  }

  /**
   * A name (a workflow type, a span, a step) as the names rule lets it out:
   * a fingerprint under `states.names: hash`; otherwise registered secrets
   * masked, and with `{ detectors: true }` scrubbed like text.
   */
  name(name: string, options?: NameOptions): Transformed<string> {
    if (typeof name !== 'string') throw new InvalidArgumentError(`outbound.name expects a string, got ${describeType(name)}`)
    const transforms: ChannelTransform[] = []
    return { value: this.#host.applier.name(name, '$', transforms, options?.detectors === true), transforms }
  }

  /** Free text (a log body, a status message) scrubbed as the channel's strings are. */
  text(text: string, channel: Channel): Transformed<string> {
    if (typeof text !== 'string') throw new InvalidArgumentError(`outbound.text expects a string, got ${describeType(text)}`)
    const transforms: ChannelTransform[] = []
    return { value: this.#host.applier.text(text, channel, '$', transforms), transforms }
  }

  /** An error (or any thrown value) as the exceptions policy lets it out. */
  error(error: unknown): Promise<Transformed<Failure>> {
    const transforms: ChannelTransform[] = []
    return this.#host.applier.failure(this.#host.scrubber.normalize(error), '$', transforms).then((failure) => ({ value: failure, transforms }))
  }

  /** Whether the policy ships a log record of this level at all. */
  shipsLevel(level: LogLevel): boolean {
    return this.#host.applier.shipsLevel(level)
  }

  /**
   * Counts items the policy kept from an engine by design, never handed
   * over nor ledgered (log records below `logs.level`, spans under
   * `telemetry.spans: false`): `stats().suppressed[channel]`, and for `logs`
   * `stats().suppressedLogs` too. Items the policy failed on are withheld
   * instead: see {@link OutboundRecord.withheld}.
   *
   * @throws InvalidArgumentError for an unknown channel or a count that is not a non-negative integer.
   */
  suppress(channel: Channel, count = 1): void {
    if (!CHANNELS.has(channel)) throw new InvalidArgumentError(`outbound.suppress: unknown channel ${JSON.stringify(channel)}`)
    if (!Number.isSafeInteger(count) || count < 0) throw new InvalidArgumentError(`outbound.suppress expects a count >= 0, got ${describeType(count)}`)
    if (count > 0) this.#host.suppress(channel, count)
  }

  /**
   * Records that what {@link OutboundDoor.record} ledgered did not reach the
   * engine after all (its client or exporter failed for good): a ledgered
   * delivery failure naming those entries, with `reason` as its class (a
   * word such as `export-failed`, never a message), counted in
   * `stats().deliveryFailures`. The ledger then shows what was handed over
   * and what of it was lost (docs/design.md, invariant 5).
   *
   * @throws InvalidArgumentError for ids that are not entry ids or a reason that is not a lowercase word.
   */
  failed(ids: readonly string[], reason: string): void {
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && ENTRY_ID.test(id))) {
      throw new InvalidArgumentError('outbound.failed expects the ids that outbound.record resolved with')
    }
    if (typeof reason !== 'string' || !REASON.test(reason)) throw new InvalidArgumentError('outbound.failed expects a reason class of lowercase letters, digits and dashes')
    this.#host.failed(ids, reason)
  }

  /**
   * A keyed fingerprint (`fp1.<kid>.<mac>`) of `value`: equal values give
   * equal fingerprints, so an engine can still filter by equality (a search
   * attribute, a workflow id part) while it never reads the value.
   */
  fingerprint(value: string): string {
    if (typeof value !== 'string') throw new InvalidArgumentError(`outbound.fingerprint expects a string, got ${describeType(value)}`)
    return this.#fingerprints.fingerprint(value)
  }

  /**
   * What {@link OutboundDoor.record} would refuse with, known now, or
   * `undefined`: a `ClosedError` after `close()`, or the error the ledger
   * failed with (a `StorageError` for a write that failed; it then records
   * nothing more). For an engine interface that must decide synchronously
   * whether to send at all (Restate's journal value codec and serdes):
   * refuse, and send nothing that could not be recorded.
   */
  refusal(): AirlockError | undefined {
    return this.#host.refusal()
  }

  /**
   * Ledgers what the adapter is about to hand its engine; resolves with the
   * entry's id once it is durable (appends made together share one sync).
   *
   * @throws InvalidArgumentError (as a rejection) for a malformed record.
   * @throws ClosedError after `close()`; StorageError when the ledger cannot record: refuse to send.
   */
  record(record: OutboundRecord): Promise<string> {
    const refusal = this.#host.refusal()
    if (refusal !== undefined) return Promise.reject(refusal)
    if (typeof record !== 'object' || record === null) {
      return Promise.reject(new InvalidArgumentError(`outbound.record expects { channel, engine, sent }, got ${describeType(record)}`))
    }
    if (!CHANNELS.has(record.channel)) return Promise.reject(new InvalidArgumentError(`outbound.record: unknown channel ${JSON.stringify(record.channel)}`))
    if (typeof record.engine !== 'string' || !ENGINE.test(record.engine)) {
      return Promise.reject(new InvalidArgumentError('outbound.record expects engine to be 1-32 lowercase letters, digits or dashes'))
    }
    if (typeof record.sent !== 'object' || record.sent === null || Array.isArray(record.sent)) {
      return Promise.reject(new InvalidArgumentError(`outbound.record expects sent to be a JSON object, got ${describeType(record.sent)}`))
    }
    if (record.withheld !== undefined && (!Number.isSafeInteger(record.withheld) || record.withheld < 0)) {
      return Promise.reject(new InvalidArgumentError(`outbound.record expects withheld to be a count >= 0, got ${describeType(record.withheld)}`))
    }
    return this.#host.record(record)
  }
}
