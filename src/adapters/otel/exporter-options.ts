import { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import { InvalidArgumentError } from '../../errors.js'
import { describeType } from '../../internal/describe-type.js'
import { assertKnownOptions } from '../../internal/known-options.js'

/**
 * Options of {@link AirlockLogRecordExporter} and {@link AirlockSpanExporter}.
 *
 * @example
 * ```ts
 * const options: AirlockExporterOptions = { airlock }
 * new AirlockSpanExporter(new OTLPTraceExporter({ url }), options)
 * ```
 */
export interface AirlockExporterOptions {
  /**
   * The Airlock (or `AirlockBoundary`) whose policy, scrubber, keys and
   * ledger every exported record passes: the same door as its events.
   */
  readonly airlock: AirlockBoundary
}

const OPTION_KEYS = ['airlock'] as const

/** What a wrapped exporter must offer; `forceFlush` is optional for spans in OpenTelemetry's own interface. */
export interface ExporterLike<T> {
  export(items: T[], resultCallback: (result: { code: number; error?: Error }) => void): void
  shutdown(): Promise<void>
  forceFlush?(): Promise<void>
}

/**
 * Checks a wrapper's arguments when it is built, not at its first export:
 * a misspelt option or a missing Airlock must not turn into an exporter
 * that quietly passes records through.
 *
 * @throws InvalidArgumentError for an exporter without `export` and `shutdown`, an unknown option, or no Airlock.
 * @example
 * ```ts
 * const airlock = resolveExporterOptions('AirlockSpanExporter', exporter, options)
 * ```
 */
export function resolveExporterOptions(owner: string, exporter: unknown, options: unknown): AirlockBoundary {
  const candidate = exporter as Partial<ExporterLike<unknown>> | null | undefined
  if (typeof candidate?.export !== 'function' || typeof candidate.shutdown !== 'function') {
    throw new InvalidArgumentError(`${owner} wraps an OpenTelemetry exporter (with export and shutdown), got ${describeType(exporter)}`)
  }
  if (candidate.forceFlush !== undefined && typeof candidate.forceFlush !== 'function') {
    throw new InvalidArgumentError(`${owner}: the wrapped exporter's forceFlush must be a function, got ${describeType(candidate.forceFlush)}`)
  }
  assertKnownOptions(owner, options, OPTION_KEYS)
  const { airlock } = options as Partial<AirlockExporterOptions>
  if (!(airlock instanceof AirlockBoundary)) {
    throw new InvalidArgumentError(`${owner} needs { airlock }: the Airlock whose policy and ledger records pass, got ${describeType(airlock)}`)
  }
  return airlock
}
