import { pino } from 'pino'
import type { DestinationStream, Logger, LoggerOptions } from 'pino'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { InvalidArgumentError } from '../errors.js'
import type { LogLevel } from '../policy/schema.js'
import { AirlockDestination } from './airlock-destination.js'
import { LocalOutput } from './local-output.js'
import { ScrubThread, type ScrubDestination } from './scrub-thread.js'
import { LEVEL_VALUES } from '../policy/log-levels.js'
import { resolveLogging, type LoggingOptions } from './logging-options.js'

/**
 * Options of {@link createLogger}.
 *
 * @example
 * ```ts
 * const options: CreateLoggerOptions = { policy, scrubber, ship, destination: '/var/log/etl.ndjson', level: 'debug', base: { service: 'etl' } }
 * ```
 */
export interface CreateLoggerOptions extends LoggingOptions {
  /**
   * Where local output goes: a pino destination or any stream with
   * `write(string)`, a file path, or a file descriptor. Default: stdout.
   */
  readonly destination?: DestinationStream | string | number
  /**
   * The level of local output. A record below it is not written locally;
   * it still ships when the policy's `logs.level` lets it (the policy, not
   * this level, decides what ships). Default: `info`, or `policy.logs.level`
   * when that is lower. The pino logger's own `level` is the lower of the
   * two, so `logger.isLevelEnabled` answers for either.
   */
  readonly level?: LogLevel | 'silent'
  /** pino's `base`: bindings of every record. Default `{ pid, hostname }`; `null` for none. */
  readonly base?: Record<string, unknown> | null
}

const LEVEL_OPTIONS: readonly string[] = [...Object.keys(LEVEL_VALUES), 'silent']

/**
 * Creates the Airlock's logger: a real pino logger (children, bindings,
 * levels, serializers and NDJSON output as usual) behind the `logs` policy.
 *
 * - **Shipping.** Each record at or above `policy.logs.level` is handed to
 *   `ship` as a {@link ShippedRecord}, unscrubbed: the boundary applies the
 *   policy (redact paths, scrubbing, size) to it, and nothing else leaves.
 *   `policy.logs.ship: false` (or `AIRLOCK_SHIP_LOGS=false`) ships nothing.
 * - **Local output.** With `policy.logs.scrubLocal` (on in `balanced` and
 *   `strict`), what is written to `destination` is scrubbed too, by the same
 *   scrubber: fields, the message, `err` (message and stack), bindings, and
 *   `policy.logs.redactPaths`. Secrets registered with the scrubber later
 *   are masked from then on, in children made earlier too.
 *
 * @throws InvalidArgumentError when an option has the wrong type.
 * @throws PolicyError when `policy.logs` is not a valid `logs` section.
 * @example
 * ```ts
 * import { createLogger, definePolicy, Scrubber } from 'airlock-sdk'
 *
 * const policy = definePolicy({ preset: 'balanced' })
 * const scrubber = new Scrubber({ policy: policy.scrub })
 * const logger = createLogger({
 *   policy,
 *   scrubber,
 *   ship: ({ level, msg, fields }) => void airlock.emit({ kind: 'log', runId, level, msg, fields }),
 * })
 * const log = logger.child({ task: 'load' })
 * log.info({ user: 'ada@example.com' }, 'loaded %d rows', 3)
 * // stdout: {"level":30,"time":…,"pid":…,"hostname":…,"task":"load","user":"[REDACTED:email]","msg":"loaded 3 rows"}
 * // ship:   { level: 'info', msg: 'loaded 3 rows', fields: { task: 'load', user: 'ada@example.com' }, time }
 * ```
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const { logs, scrubber, ship } = resolveLogging(options, 'createLogger')
  assertKnownOptions('createLogger', options, ['policy', 'scrubber', 'ship', 'destination', 'level', 'base'])
  assertLocalOutputOptions(options, 'createLogger')
  const { destination, level, base } = options
  const localLevel = level ?? (LEVEL_VALUES[logs.level] < LEVEL_VALUES.info ? logs.level : 'info')
  // Records the policy ships must reach the destination even when local output hides them.
  const shipsBelowLocal = logs.ship && levelValue(logs.level) < levelValue(localLevel)
  const pinoOptions: LoggerOptions = { level: shipsBelowLocal ? logs.level : localLevel }
  if (base !== undefined) pinoOptions.base = base
  if (!logs.ship && !logs.scrubLocal) return pino(pinoOptions, localDestination(destination))
  const minLocalLevel = levelValue(localLevel)

  if (!logs.scrubLocal) {
    const airlock = new AirlockDestination({ inner: localDestination(destination), logs, local: undefined, originals: new WeakMap(), ship, messageKey: 'msg', minLocalLevel })
    return pino(pinoOptions, airlock)
  }
  // Scrubbed local output: pino serializes on this thread, a scrubbing thread scrubs and writes.
  const output = new LocalOutput(scrubber)
  pinoOptions.formatters = { log: output.formatter(undefined) }
  const local = new ScrubThread(scrubber, logs.redactPaths, scrubDestination(destination))
  const airlock = new AirlockDestination({ inner: undefined, logs, local, originals: output.originals, ship, messageKey: 'msg', minLocalLevel })
  const logger = pino(pinoOptions, airlock)
  output.install(logger)
  return logger
}

// A path or descriptor is written by the scrubbing thread itself; a stream lives here.
function scrubDestination(destination: CreateLoggerOptions['destination']): ScrubDestination {
  if (destination === undefined) return { path: 1 }
  if (typeof destination === 'string' || typeof destination === 'number') return { path: destination }
  return { stream: localDestination(destination) }
}

/**
 * Checks the local-output options of {@link createLogger} (`destination`,
 * `level`, `base`) without opening anything, so a caller can refuse bad ones
 * before it starts any work.
 *
 * @throws InvalidArgumentError naming the option, what was expected and what was found.
 * @example
 * ```ts
 * assertLocalOutputOptions({ level: 'verbose' }, 'Airlock option logger')   // throws ERR_INVALID_ARGUMENT
 * ```
 */
export function assertLocalOutputOptions(options: Pick<CreateLoggerOptions, 'destination' | 'level' | 'base'>, caller: string): void {
  const { destination, level, base } = options
  if (level !== undefined && !LEVEL_OPTIONS.includes(level)) {
    throw new InvalidArgumentError(`${caller} expects level to be one of ${LEVEL_OPTIONS.join(', ')}, got ${describeType(level)}`)
  }
  if (base !== undefined && base !== null && (typeof base !== 'object' || Array.isArray(base))) {
    throw new InvalidArgumentError(`${caller} expects base to be an object or null, got ${describeType(base)}`)
  }
  if (
    destination !== undefined &&
    typeof destination !== 'string' &&
    typeof destination !== 'number' &&
    typeof (destination as { write?: unknown } | null)?.write !== 'function'
  ) {
    throw new InvalidArgumentError(
      `${caller} expects destination to be a stream with write(string), a file path or a file descriptor, got ${describeType(destination)}`,
    )
  }
}

function localDestination(destination: CreateLoggerOptions['destination']): DestinationStream {
  if (destination === undefined) return pino.destination()
  if (typeof destination === 'string' || typeof destination === 'number') return pino.destination(destination)
  if (typeof (destination as { write?: unknown } | null)?.write === 'function') return destination
  throw new InvalidArgumentError(
    `createLogger expects options.destination to be a stream with write(string), a file path or a file descriptor, got ${describeType(destination)}`,
  )
}

function levelValue(level: LogLevel | 'silent'): number {
  return level === 'silent' ? Number.POSITIVE_INFINITY : LEVEL_VALUES[level]
}
