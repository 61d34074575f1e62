import type { HrTime, SpanContext } from '@opentelemetry/api'
import type { AnyValue, LogAttributes, SeverityNumber } from '@opentelemetry/api-logs'
import type { ExportResult } from '@opentelemetry/core'
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs'
import type { LogLevel } from '../../policy/schema.js'
import { BatchExport, type Prepared } from './batch-export.js'
import { resolveExporterOptions, type AirlockExporterOptions } from './exporter-options.js'
import type { Resource } from '@opentelemetry/resources'
import { count, hrTime, TelemetryPolicy, type LedgerTransform, type ScopeLike, type Scrubbed } from './telemetry-policy.js'

const OWNER = 'AirlockLogRecordExporter'

type Writable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * Wraps any OpenTelemetry log record exporter so that exactly what the
 * Airlock's policy lets out of the `logs` channel reaches it, and the
 * ledger records it first.
 *
 * For each record of a batch:
 * - **level**: its `severityNumber` maps to a level (1–4 `trace`, 5–8
 *   `debug`, 9–12 `info`, 13–16 `warn`, 17–20 `error`, 21–24 `fatal`); a
 *   record without one counts as `trace`. Below `logs.level`, or with
 *   `logs.ship: false`, it is not exported: counted in
 *   `stats().suppressedLogs`, not ledgered.
 * - **body and attributes**: `logs.redactPaths` (a dotted attribute key such
 *   as `http.request.header.cookie` is the path it spells), then the
 *   scrubber; errors anywhere in them (an `Error` body) follow `exceptions`,
 *   bytes leave as a `[binary N bytes]` marker. `exception.type`,
 *   `exception.message` and `exception.stacktrace` attributes (what the
 *   SDK's `exception` field becomes) follow `exceptions.mode` as the error
 *   they describe: under `type` only the type leaves; `fingerprint` and
 *   `encrypted` add `airlock.exception.fingerprint` or `airlock.exception.token`.
 * - **severity text** scrubbed; **event name** through the names rule and the
 *   detectors; **trace context** only with valid ids.
 * - **resource and scope attributes**: `telemetry.attributes` rules (they
 *   are telemetry wherever they ride), scrubbed once per resource and scope
 *   object and again only after a secret is registered.
 *
 * The records that remain are ledgered (channel `logs`, engine `otel`, at
 * most 64 records an entry, entries of one batch sharing one fsync) and
 * only then handed to the wrapped exporter, as new objects holding nothing
 * but what was ledgered. If the policy throws for a record, that record is
 * withheld (named in the entry by index and reason class, counted in
 * `stats().withheld.logs`) and the rest go on; if the ledger cannot record,
 * nothing unrecorded is exported and the batch fails.
 *
 * @throws InvalidArgumentError when `exporter` is not an exporter, an option is unknown, or `airlock` is missing.
 * @example
 * ```ts
 * import { logs } from '@opentelemetry/api-logs'
 * import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs'
 * import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
 * import { AirlockLogRecordExporter } from 'airlock-sdk/otel'
 *
 * const exporter = new AirlockLogRecordExporter(new OTLPLogExporter({ url: 'https://otel.example.com/v1/logs' }), { airlock })
 * logs.setGlobalLoggerProvider(new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter })] }))
 * logs.getLogger('checkout').emit({ severityNumber: 9, body: 'paid by ada@example.com' })   // body leaves as 'paid by [REDACTED:email]'
 * ```
 */
export class AirlockLogRecordExporter implements LogRecordExporter {
  readonly #policy: TelemetryPolicy
  readonly #batch: BatchExport<ReadableLogRecord, ReadableLogRecord>

  constructor(exporter: LogRecordExporter, options: AirlockExporterOptions) {
    const airlock = resolveExporterOptions(OWNER, exporter, options)
    this.#policy = new TelemetryPolicy(airlock)
    this.#batch = new BatchExport({
      owner: OWNER,
      door: this.#policy.door,
      inner: exporter,
      channel: 'logs',
      listKey: 'records',
      ships: true,
      prepare: this.#prepare,
    })
  }

  /** Applies the policy to `logs`, ledgers what remains, then hands exactly that to the wrapped exporter. */
  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    this.#batch.export(logs, resultCallback)
  }

  /** Waits for exports in flight, then flushes the wrapped exporter. */
  forceFlush(): Promise<void> {
    return this.#batch.forceFlush()
  }

  /** Waits for exports in flight, then shuts the wrapped exporter down; later exports fail. */
  shutdown(): Promise<void> {
    return this.#batch.shutdown()
  }

  // Bound once: every record of every batch goes through it. Settled in this turn when nothing in the record needs
  // an asynchronous step (a resource seen before, no error in the attributes or body): no promise, no wait, for most.
  readonly #prepare = (record: ReadableLogRecord, index: number, transforms: LedgerTransform[]): Prepared<ReadableLogRecord> | undefined | Promise<Prepared<ReadableLogRecord> | undefined> => {
    const policy = this.#policy
    if (!policy.door.shipsLevel(levelOf(record.severityNumber))) return undefined
    const start = transforms.length
    const time = hrTime(record.hrTime)
    const observed = hrTime(record.hrTimeObserved)
    // Cached after the first record: no wait for them then.
    const resource = policy.resource(record.resource)
    const scope = policy.scope(record.instrumentationScope)
    const attributes = policy.attributes(record.attributes, 'logs', 'attributes', transforms)
    if (resource instanceof Promise || scope instanceof Promise || attributes instanceof Promise) {
      return Promise.all([resource, scope, attributes]).then(([r, s, a]) => this.#body(record, index, transforms, start, time, observed, r, s, a))
    }
    return this.#body(record, index, transforms, start, time, observed, resource, scope, attributes)
  }

  // The record from its severity on, in the order its transforms are recorded.
  #body(
    record: ReadableLogRecord,
    index: number,
    transforms: LedgerTransform[],
    start: number,
    time: HrTime,
    observed: HrTime,
    resource: Scrubbed<Resource>,
    scope: Scrubbed<ScopeLike>,
    attributes: Record<string, unknown>,
  ): Prepared<ReadableLogRecord> | Promise<Prepared<ReadableLogRecord>> {
    const policy = this.#policy
    const severityNumber = record.severityNumber as number | undefined
    const droppedAttributesCount = count(record.droppedAttributesCount)
    // Every member from the start, absent ones as undefined: one shape for every record, none added later.
    const item: Writable<ReadableLogRecord> = {
      hrTime: time,
      hrTimeObserved: observed,
      spanContext: undefined,
      resource: resource.value,
      instrumentationScope: scope.value as ReadableLogRecord['instrumentationScope'],
      attributes: attributes as LogAttributes,
      droppedAttributesCount,
      severityNumber: undefined,
      severityText: undefined,
      body: undefined,
      eventName: undefined,
    }
    // Keys in sorted order, members that are absent as undefined: the ledger's canonical JSON then has no sorting to do.
    const json: Record<string, unknown> = {
      attributes,
      body: undefined,
      droppedAttributesCount,
      eventName: undefined,
      observedTime: observed,
      resource: 0,
      scope: 0,
      severityNumber: undefined,
      severityText: undefined,
      spanId: undefined,
      time,
      traceFlags: undefined,
      traceId: undefined,
    }
    if (Number.isInteger(severityNumber) && severityNumber! >= 1 && severityNumber! <= 24) item.severityNumber = json.severityNumber = severityNumber as SeverityNumber
    if (typeof record.severityText === 'string') item.severityText = json.severityText = policy.text(record.severityText, 'logs', 'severityText', transforms)
    const prepared: Prepared<ReadableLogRecord> = { index, item, json, resource, scope, start, end: start }
    const body = record.body
    if (typeof body === 'string') {
      item.body = json.body = policy.text(body, 'logs', 'body', transforms)
    } else if (body !== undefined && body !== null) {
      const value = policy.value(body, 'logs', 'body', transforms)
      if (value instanceof Promise) {
        return value.then((settled) => {
          item.body = json.body = settled as AnyValue
          return this.#context(record, prepared, transforms)
        })
      }
      item.body = json.body = value as AnyValue
    }
    return this.#context(record, prepared, transforms)
  }

  // The event name and trace context, last: their transforms follow the body's.
  #context(record: ReadableLogRecord, prepared: Prepared<ReadableLogRecord>, transforms: LedgerTransform[]): Prepared<ReadableLogRecord> {
    const policy = this.#policy
    const item: Writable<ReadableLogRecord> = prepared.item
    const json = prepared.json
    if (record.eventName !== undefined) item.eventName = json.eventName = policy.name(record.eventName, 'eventName', transforms)
    if (record.spanContext !== undefined) {
      const context = traceContext(policy, record.spanContext, transforms)
      if (context !== undefined) {
        item.spanContext = context
        json.traceId = context.traceId
        json.spanId = context.spanId
        json.traceFlags = context.traceFlags
      }
    }
    prepared.end = transforms.length
    return prepared
  }
}

// A log record's trace context is a reference, not content: one that is not valid is left off, not the record.
function traceContext(policy: TelemetryPolicy, context: SpanContext, transforms: LedgerTransform[]): SpanContext | undefined {
  try {
    // OTLP carries a log record's ids and flags only; its trace state stays behind.
    return policy.spanContext(context, 'spanContext', transforms, false)
  } catch {
    transforms.push({ path: 'spanContext', rule: 'span-context', action: 'drop' })
    return undefined
  }
}

// OpenTelemetry's severity ranges; a record without a severity counts as the lowest level (fail closed).
function levelOf(severity: number | undefined): LogLevel {
  if (!Number.isInteger(severity) || severity! < 1 || severity! > 24) return 'trace'
  const n = severity!
  return n <= 4 ? 'trace' : n <= 8 ? 'debug' : n <= 12 ? 'info' : n <= 16 ? 'warn' : n <= 20 ? 'error' : 'fatal'
}
