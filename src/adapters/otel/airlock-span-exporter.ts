import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api'
import type { ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter, TimedEvent } from '@opentelemetry/sdk-trace-base'
import { BatchExport, type Prepared } from './batch-export.js'
import { resolveExporterOptions, type AirlockExporterOptions } from './exporter-options.js'
import type { Resource } from '@opentelemetry/resources'
import { count, hrTime, TelemetryPolicy, type KeptMessage, type LedgerTransform, type ScopeLike, type Scrubbed } from './telemetry-policy.js'

const OWNER = 'AirlockSpanExporter'
// SpanKind INTERNAL..CONSUMER; anything else is sent as INTERNAL.
const MAX_KIND = 4
// SpanStatusCode UNSET, OK, ERROR.
const MAX_STATUS = 2
// What a span without events or links has of them in the ledger's JSON: shared, never written to.
const NO_EVENTS: TimedEvent[] = Object.freeze([]) as unknown as TimedEvent[]
const NO_LINKS: { readonly links: Link[]; readonly linksJson: Record<string, unknown>[] } = Object.freeze({
  links: Object.freeze([]) as unknown as Link[],
  linksJson: Object.freeze([]) as unknown as Record<string, unknown>[],
})
const NO_MESSAGES: readonly KeptMessage[] = Object.freeze([])

/** A span as it may leave: only the members OpenTelemetry's `ReadableSpan` names, each as the policy let it out. */
class ExportedSpan implements ReadableSpan {
  parentSpanContext: SpanContext | undefined = undefined
  readonly #context: SpanContext

  constructor(
    context: SpanContext,
    readonly name: string,
    readonly kind: SpanKind,
    readonly startTime: HrTime,
    readonly endTime: HrTime,
    readonly duration: HrTime,
    readonly ended: boolean,
    readonly status: SpanStatus,
    readonly attributes: Attributes,
    readonly events: TimedEvent[],
    readonly links: Link[],
    readonly resource: ReadableSpan['resource'],
    readonly instrumentationScope: ReadableSpan['instrumentationScope'],
    readonly droppedAttributesCount: number,
    readonly droppedEventsCount: number,
    readonly droppedLinksCount: number,
  ) {
    this.#context = context
  }

  spanContext(): SpanContext {
    return this.#context
  }
}

/**
 * Wraps any OpenTelemetry span exporter so that exactly what the Airlock's
 * policy lets out of the `telemetry` channel reaches it, and the ledger
 * records it first.
 *
 * - `telemetry.spans: false`: no span is exported (counted in
 *   `stats().suppressed.telemetry`, not ledgered).
 * - **attributes** of spans, events and links follow `telemetry.attributes`
 *   (rules over dotted keys as for parameters: `http.request.header.*`,
 *   `**.token`; the default action for the rest), then the scrubber;
 *   `exception.type`, `exception.message` and `exception.stacktrace`
 *   (exception events, and anywhere else) follow `exceptions.mode` as the
 *   error they describe (`fingerprint` and `encrypted` add
 *   `airlock.exception.fingerprint` or `airlock.exception.token`).
 * - **span names** follow the names rule (`states.names`: a fingerprint
 *   under `hash`) and are scrubbed by the detectors where it lets them pass,
 *   since instrumentations build them from routes; **event names** and
 *   **trace state** are scrubbed as text.
 * - the **status message** (an instrumentation puts the error's message
 *   there) leaves only as `exceptions.mode` lets a message leave.
 * - **resource and scope attributes** follow `telemetry.attributes`, scrubbed
 *   once per resource and scope object, and again after a secret is registered.
 * - ids must be valid hex (a span with an invalid id is withheld; a link is
 *   left off); times must be `[seconds, nanoseconds]`.
 *
 * The spans that remain are ledgered (channel `telemetry`, engine `otel`,
 * at most 64 spans an entry, entries of one batch sharing one fsync) and
 * only then handed to the wrapped exporter, as new objects holding nothing
 * but what was ledgered. If the policy throws for a span, that span is
 * withheld (named in the entry by index and reason class, counted in
 * `stats().withheld.telemetry`) and the rest go on; if the ledger cannot
 * record, nothing unrecorded is exported and the batch fails.
 *
 * @throws InvalidArgumentError when `exporter` is not an exporter, an option is unknown, or `airlock` is missing.
 * @example
 * ```ts
 * import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'
 * import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
 * import { AirlockSpanExporter } from 'airlock-sdk/otel'
 *
 * const exporter = new AirlockSpanExporter(new OTLPTraceExporter({ url: 'https://otel.example.com/v1/traces' }), { airlock })
 * const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
 * const span = provider.getTracer('checkout').startSpan('charge', { attributes: { 'user.email': 'ada@example.com' } })
 * span.end()   // exported with user.email '[REDACTED:email]' under balanced
 * ```
 */
export class AirlockSpanExporter implements SpanExporter {
  readonly #policy: TelemetryPolicy
  readonly #batch: BatchExport<ReadableSpan, ReadableSpan>

  constructor(exporter: SpanExporter, options: AirlockExporterOptions) {
    const airlock = resolveExporterOptions(OWNER, exporter, options)
    this.#policy = new TelemetryPolicy(airlock)
    this.#batch = new BatchExport({
      owner: OWNER,
      door: this.#policy.door,
      inner: exporter,
      channel: 'telemetry',
      listKey: 'spans',
      ships: airlock.policy.telemetry.spans,
      prepare: this.#prepare,
    })
  }

  /** Applies the policy to `spans`, ledgers what remains, then hands exactly that to the wrapped exporter. */
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#batch.export(spans, resultCallback)
  }

  /** Waits for exports in flight, then flushes the wrapped exporter. */
  forceFlush(): Promise<void> {
    return this.#batch.forceFlush()
  }

  /** Waits for exports in flight, then shuts the wrapped exporter down; later exports fail. */
  shutdown(): Promise<void> {
    return this.#batch.shutdown()
  }

  // Bound once: every span of every batch goes through it. Settled in this turn when nothing in the span needs an
  // asynchronous step (a resource seen before, no events, links, status message or error): no promise, no wait, then.
  readonly #prepare = (span: ReadableSpan, index: number, transforms: LedgerTransform[]): Prepared<ReadableSpan> | Promise<Prepared<ReadableSpan>> => {
    const policy = this.#policy
    const start = transforms.length
    const context = policy.spanContext(span.spanContext(), 'spanContext', transforms)
    const name = policy.name(span.name, 'name', transforms)
    // Cached after the first record: no wait for them then.
    const resource = policy.resource(span.resource)
    const scope = policy.scope(span.instrumentationScope)
    const attributes = policy.attributes(span.attributes, 'telemetry', 'attributes', transforms)
    if (
      resource instanceof Promise ||
      scope instanceof Promise ||
      attributes instanceof Promise ||
      (Array.isArray(span.events) && span.events.length > 0) ||
      (Array.isArray(span.links) && span.links.length > 0)
    ) {
      return this.#later(span, index, transforms, start, context, name, resource, scope, attributes)
    }
    const status = this.#status(span.status, transforms, NO_MESSAGES)
    if (status instanceof Promise) {
      return status.then((settled) => this.#build(span, index, transforms, start, context, name, resource, scope, attributes, NO_EVENTS, NO_LINKS, settled))
    }
    return this.#build(span, index, transforms, start, context, name, resource, scope, attributes, NO_EVENTS, NO_LINKS, status)
  }

  // The rest of a span that has something to wait for, its transforms in the same order.
  async #later(
    span: ReadableSpan,
    index: number,
    transforms: LedgerTransform[],
    start: number,
    context: SpanContext,
    name: string,
    resourceOrPromise: Scrubbed<Resource> | Promise<Scrubbed<Resource>>,
    scopeOrPromise: Scrubbed<ScopeLike> | Promise<Scrubbed<ScopeLike>>,
    attributesOrPromise: Record<string, unknown> | Promise<Record<string, unknown>>,
  ): Promise<Prepared<ReadableSpan>> {
    const [resource, scope, attributes] = await Promise.all([resourceOrPromise, scopeOrPromise, attributesOrPromise])
    const messages: KeptMessage[] = []
    const events = Array.isArray(span.events) && span.events.length > 0 ? await this.#events(span.events, transforms, messages) : NO_EVENTS
    const links = Array.isArray(span.links) && span.links.length > 0 ? await this.#links(span.links, transforms) : NO_LINKS
    const status = await this.#status(span.status, transforms, messages)
    return this.#build(span, index, transforms, start, context, name, resource, scope, attributes, events, links, status)
  }

  #build(
    span: ReadableSpan,
    index: number,
    transforms: LedgerTransform[],
    start: number,
    context: SpanContext,
    name: string,
    resource: Scrubbed<Resource>,
    scope: Scrubbed<ScopeLike>,
    attributes: Record<string, unknown>,
    events: TimedEvent[],
    { links, linksJson }: { readonly links: Link[]; readonly linksJson: Record<string, unknown>[] },
    status: SpanStatus,
  ): Prepared<ReadableSpan> {
    const rawKind = span.kind as number
    const kind = (Number.isInteger(rawKind) && rawKind >= 0 && rawKind <= MAX_KIND ? rawKind : 0) as SpanKind
    const startTime = hrTime(span.startTime)
    const endTime = hrTime(span.endTime)
    const duration = hrTime(span.duration)
    const droppedAttributesCount = count(span.droppedAttributesCount)
    const droppedEventsCount = count(span.droppedEventsCount)
    const droppedLinksCount = count(span.droppedLinksCount) + (Array.isArray(span.links) ? span.links.length - links.length : 0)
    const parent = this.#parent(span.parentSpanContext, transforms)
    const item = new ExportedSpan(
      context,
      name,
      kind,
      startTime,
      endTime,
      duration,
      span.ended === true,
      status,
      attributes as Attributes,
      // Arrays of the exporter's own: the shared empty ones stay empty whatever an exporter does.
      events === NO_EVENTS ? [] : events,
      links === NO_LINKS.links ? [] : links,
      resource.value,
      scope.value,
      droppedAttributesCount,
      droppedEventsCount,
      droppedLinksCount,
    )
    if (parent !== undefined) item.parentSpanContext = parent
    // Keys in sorted order, members that are absent as undefined: the ledger's canonical JSON then has no sorting to do.
    const json: Record<string, unknown> = {
      attributes,
      droppedAttributesCount,
      droppedEventsCount,
      droppedLinksCount,
      duration,
      endTime,
      events,
      isRemote: context.isRemote,
      kind,
      links: linksJson,
      name,
      parentIsRemote: parent?.isRemote,
      parentSpanId: parent?.spanId,
      resource: 0,
      scope: 0,
      spanId: context.spanId,
      startTime,
      status,
      traceFlags: context.traceFlags,
      traceId: context.traceId,
      traceState: context.traceState?.serialize(),
    }
    return { index, item, json, resource, scope, start, end: transforms.length }
  }

  async #events(given: readonly TimedEvent[], transforms: LedgerTransform[], messages: KeptMessage[]): Promise<TimedEvent[]> {
    const out: TimedEvent[] = []
    const events: readonly TimedEvent[] = Array.isArray(given) ? given : []
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      const at = `events[${i}]`
      const time = hrTime(event.time)
      const name = this.#policy.text(String(event.name), 'telemetry', `${at}.name`, transforms)
      const attributes = (await this.#policy.attributes(event.attributes, 'telemetry', `${at}.attributes`, transforms, messages)) as Attributes
      // Plain JSON as it stands, keys sorted: the ledger records these very objects.
      const exported: TimedEvent = { attributes, droppedAttributesCount: count(event.droppedAttributesCount), name, time }
      out.push(exported)
    }
    return out
  }

  async #links(given: readonly Link[], transforms: LedgerTransform[]): Promise<{ links: Link[]; linksJson: Record<string, unknown>[] }> {
    const out: Link[] = []
    const linksJson: Record<string, unknown>[] = []
    const links: readonly Link[] = Array.isArray(given) ? given : []
    for (let i = 0; i < links.length; i++) {
      const link = links[i]!
      const at = `links[${i}]`
      let context: SpanContext
      try {
        context = this.#policy.spanContext(link.context, `${at}.context`, transforms)
      } catch {
        // A link is a reference to another trace: one with invalid ids is left off (and counted as dropped), not the span.
        transforms.push({ path: at, rule: 'span-context', action: 'drop' })
        continue
      }
      const attributes = (await this.#policy.attributes(link.attributes, 'telemetry', `${at}.attributes`, transforms)) as Attributes
      const droppedAttributesCount = count(link.droppedAttributesCount)
      out.push({ context, attributes, droppedAttributesCount })
      linksJson.push({
        attributes,
        droppedAttributesCount,
        isRemote: context.isRemote,
        spanId: context.spanId,
        traceFlags: context.traceFlags,
        traceId: context.traceId,
        traceState: context.traceState?.serialize(),
      })
    }
    return { links: out, linksJson }
  }

  #status(status: SpanStatus | undefined, transforms: LedgerTransform[], messages: readonly KeptMessage[]): SpanStatus | Promise<SpanStatus> {
    const raw = status?.code as number | undefined
    const code = Number.isInteger(raw) && raw! >= 0 && raw! <= MAX_STATUS ? raw! : 0
    const message = status?.message
    if (typeof message !== 'string' || message === '') return { code }
    return this.#policy.statusMessage(message, 'status.message', transforms, messages).then((kept) => (kept === undefined ? { code } : { code, message: kept }))
  }

  // The parent is a reference: an invalid one is left off (the span becomes a root), not the span.
  #parent(parent: SpanContext | undefined, transforms: LedgerTransform[]): SpanContext | undefined {
    if (parent === undefined || parent === null) return undefined
    try {
      return this.#policy.spanContext(parent, 'parentSpanContext', transforms, false)
    } catch {
      transforms.push({ path: 'parentSpanContext', rule: 'span-context', action: 'drop' })
      return undefined
    }
  }
}
