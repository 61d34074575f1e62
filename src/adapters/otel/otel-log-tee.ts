import { logs, SeverityNumber, type Logger, type LogAttributes } from '@opentelemetry/api-logs'
import type { ControlPlane, DeliveryBatch, DeliveryOutcome, DeliveryRetry } from '../../boundary/control-plane.js'
import type { OutboundEvent } from '../../boundary/events.js'
import { InvalidArgumentError } from '../../errors.js'
import { describeType } from '../../internal/describe-type.js'
import { assertKnownOptions } from '../../internal/known-options.js'
import type { LogLevel } from '../../policy/schema.js'

/**
 * Options of {@link OtelLogTee}.
 *
 * @example
 * ```ts
 * const options: OtelLogTeeOptions = { logger: loggerProvider.getLogger('airlock-sdk') }
 * ```
 */
export interface OtelLogTeeOptions {
  /**
   * The OpenTelemetry logger the Airlock's log events go to. Default:
   * `logs.getLogger('airlock-sdk')` from `@opentelemetry/api-logs`, which
   * follows whatever provider `logs.setGlobalLoggerProvider` sets, before
   * or after the tee is built.
   */
  readonly logger?: Logger
}

type LogEvent = Extract<OutboundEvent, { kind: 'log' }>

const SEVERITY: Readonly<Record<LogLevel, SeverityNumber>> = {
  trace: SeverityNumber.TRACE,
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
  fatal: SeverityNumber.FATAL,
}
const SEVERITY_TEXT: Readonly<Record<LogLevel, string>> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'FATAL' }
/** The `process.emitWarning` code when the OpenTelemetry logger throws. */
const TEE_WARNING = 'AIRLOCK_OTEL_LOG_TEE'

/**
 * A control plane that also hands the Airlock's own log records to
 * OpenTelemetry: every event goes on to the control plane it wraps, and
 * each `log` event is emitted to an OpenTelemetry logger as well.
 *
 * It sits after the door, so what OpenTelemetry gets of `airlock.logger`
 * is the record exactly as it left the door (level checked, redact paths
 * and scrubbing applied, ledgered), never the raw record: even an
 * OpenTelemetry pipeline that nobody wrapped receives no more than the
 * control plane does. Behind an {@link AirlockLogRecordExporter} the policy
 * runs again (it finds nothing more) and the export is ledgered as what it
 * is: a second hand-over, to a second backend. There is one policy, one
 * scrubber and one ledger; records are not read from the logger's local
 * output, which can hold what the policy keeps back.
 *
 * The record: `severityNumber` and `severityText` from the level, `body`
 * the message, `timestamp` the event's time, attributes the event's fields
 * (as they left) plus `airlock.run_id`, `airlock.task_run_id` and
 * `airlock.event_id`. If the logger throws, the control plane still gets
 * the event (a process warning `AIRLOCK_OTEL_LOG_TEE` says so, once).
 *
 * @throws InvalidArgumentError when `controlPlane` is not a control plane or an option is wrong.
 * @example
 * ```ts
 * import { logs } from '@opentelemetry/api-logs'
 * import { Airlock, HttpControlPlane } from 'airlock-sdk'
 * import { AirlockLogRecordExporter, OtelLogTee } from 'airlock-sdk/otel'
 *
 * const airlock = new Airlock({ keys, controlPlane: new OtelLogTee(new HttpControlPlane({ url, token })) })
 * logs.setGlobalLoggerProvider(new LoggerProvider({
 *   processors: [new BatchLogRecordProcessor({ exporter: new AirlockLogRecordExporter(new OTLPLogExporter(), { airlock }) })],
 * }))
 * airlock.logger.warn({ user: 'ada@example.com' }, 'slow')   // to the control plane, and to OpenTelemetry, as it left the door
 * ```
 */
export class OtelLogTee implements ControlPlane {
  /** Set when the wrapped control plane delivers synchronously (memory): the tee does too. */
  readonly deliverNow?: (batch: DeliveryBatch) => DeliveryOutcome
  readonly #inner: ControlPlane
  readonly #logger: Logger
  #warned = false

  constructor(controlPlane: ControlPlane, options: OtelLogTeeOptions = {}) {
    const candidate = controlPlane as Partial<ControlPlane> | null | undefined
    if (typeof candidate?.deliver !== 'function' || typeof candidate.close !== 'function') {
      throw new InvalidArgumentError(`OtelLogTee wraps a control plane (deliver, close), got ${describeType(controlPlane)}`)
    }
    assertKnownOptions('OtelLogTee', options, ['logger'])
    if (options.logger !== undefined && typeof (options.logger as Partial<Logger> | null)?.emit !== 'function') {
      throw new InvalidArgumentError(`OtelLogTee expects options.logger to be an OpenTelemetry Logger, got ${describeType(options.logger)}`)
    }
    this.#inner = controlPlane
    this.#logger = options.logger ?? logs.getLogger('airlock-sdk')
    if (typeof controlPlane.deliverNow === 'function') {
      this.deliverNow = (batch) => {
        this.#emitLogs(batch)
        return controlPlane.deliverNow!(batch)
      }
    }
  }

  /** The wrapped control plane's batch size. */
  get maxBatch(): number | undefined {
    return this.#inner.maxBatch
  }

  /** The wrapped control plane's close timeout. */
  get closeTimeoutMs(): number | undefined {
    return this.#inner.closeTimeoutMs
  }

  /**
   * Emits each `log` event of the batch to OpenTelemetry, then has the
   * wrapped control plane deliver the batch. A batch the outbox sends again
   * (after a crash) is emitted again: at least once, as delivery is.
   */
  deliver(batch: DeliveryBatch, onRetry: (retry: DeliveryRetry) => void): Promise<DeliveryOutcome> {
    this.#emitLogs(batch)
    return this.#inner.deliver(batch, onRetry)
  }

  close(): Promise<void> {
    return this.#inner.close()
  }

  #emitLogs(batch: DeliveryBatch): void {
    for (const event of batch.events) if (event.kind === 'log') this.#emit(event)
  }

  #emit(event: LogEvent): void {
    const attributes: LogAttributes = { ...(event.fields as LogAttributes | undefined), 'airlock.run_id': event.runId, 'airlock.event_id': event.id }
    if (event.taskRunId !== undefined) attributes['airlock.task_run_id'] = event.taskRunId
    if (event.truncated === true) attributes['airlock.truncated'] = true
    try {
      this.#logger.emit({
        severityNumber: SEVERITY[event.level],
        severityText: SEVERITY_TEXT[event.level],
        body: event.msg,
        attributes,
        timestamp: Date.parse(event.time),
      })
    } catch (err) {
      if (this.#warned) return
      this.#warned = true
      const kind = err instanceof Error ? err.name : typeof err
      process.emitWarning(`airlock: an OpenTelemetry logger refused a log record (${kind}); the control plane still got it; later failures are not reported`, {
        code: TEE_WARNING,
      })
    }
  }
}
