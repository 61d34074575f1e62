import { pino } from 'pino'
import type { DestinationStream, Logger } from 'pino'
import { describeType } from '../internal/describe-type.js'
import { InvalidArgumentError } from '../errors.js'
import { AirlockDestination } from './airlock-destination.js'
import { LocalOutput } from './local-output.js'
import { ScrubThread } from './scrub-thread.js'
import { resolveLogging, type LoggingOptions } from './logging-options.js'

const chindingsSym: typeof pino.symbols.chindingsSym = pino.symbols.chindingsSym
const streamSym: typeof pino.symbols.streamSym = pino.symbols.streamSym
const formattersSym: typeof pino.symbols.formattersSym = pino.symbols.formattersSym
const messageKeySym: typeof pino.symbols.messageKeySym = pino.symbols.messageKeySym

type LogFormatter = (object: object) => Record<string, unknown>

/** The pino state read here; `pino.symbols` exposes it for integrations like this one. */
interface PinoInternals {
  [chindingsSym]: string
  [streamSym]: DestinationStream
  [formattersSym]: { log?: (object: object) => Record<string, unknown> }
  [messageKeySym]: string
}

/**
 * Puts a pino logger you already have behind the airlock's `logs` policy,
 * as {@link createLogger} does for a new one. Returns a child of `existing`
 * (no bindings of its own) that writes to `existing`'s destination; log
 * through it, and through its children:
 *
 * - records at or above `policy.logs.level` are handed to `ship`,
 *   unscrubbed (the boundary applies the policy), as long as your logger's
 *   own level lets pino make them: a wrapped logger keeps its level, so
 *   set it at or below the policy's if everything the policy ships should
 *   ship (`createLogger` and `airlock.logger` do this themselves);
 * - with `policy.logs.scrubLocal`, its local output is scrubbed by the same
 *   scrubber: fields, message, `err`, bindings inherited from `existing`.
 *   Your serializers, `formatters.log`, `redact` paths, levels and
 *   `messageKey` keep working; scrubbing applies to what they produce.
 *
 * `existing` itself is not changed: records logged through it (or children
 * made from it directly) are neither shipped nor scrubbed.
 *
 * @throws InvalidArgumentError when `existing` is not a pino logger, or an option has the wrong type.
 * @throws PolicyError when `policy.logs` is not a valid `logs` section.
 * @example
 * ```ts
 * import pino from 'pino'
 * import { wrapPinoLogger } from 'airlock-sdk'
 *
 * const appLogger = pino({ level: 'debug', redact: ['req.headers.cookie'] })
 * const logger = wrapPinoLogger(appLogger, {
 *   policy: airlock.policy,
 *   scrubber: airlock.scrubber,
 *   ship: ({ level, msg, fields }) => void airlock.emit({ kind: 'log', runId, level, msg, fields }),
 * })
 * logger.child({ task: 'load' }).warn({ err }, 'retrying')
 * ```
 */
export function wrapPinoLogger<CustomLevels extends string = never>(
  existing: Logger<CustomLevels>,
  options: LoggingOptions,
): Logger<CustomLevels> {
  const internals = existing as unknown as Partial<PinoInternals> | null
  if (typeof existing?.child !== 'function' || typeof internals?.[chindingsSym] !== 'string' || typeof internals[streamSym]?.write !== 'function') {
    throw new InvalidArgumentError(`wrapPinoLogger expects a pino logger, got ${describeType(existing)}`)
  }
  const source = internals as PinoInternals
  const { logs, scrubber, ship } = resolveLogging(options, 'wrapPinoLogger')
  if (!logs.ship && !logs.scrubLocal) return existing.child({})

  let logger: Logger<CustomLevels>
  let local: ScrubThread | undefined
  let originals = new WeakMap<object, LogFormatter | null>()
  if (!logs.scrubLocal) {
    logger = existing.child({})
  } else {
    // Scrubbed by the logger's scrubbing thread, and written to `existing`'s destination from here, in order.
    const output = new LocalOutput(scrubber)
    originals = output.originals
    logger = existing.child({}, { formatters: { log: output.formatter(source[formattersSym].log) } })
    output.install(logger as unknown as Logger)
    // The application's streamWrite hook would rewrite the raw line; the thread scrubs what pino serialized.
    local = new ScrubThread(scrubber, logs.redactPaths, { stream: source[streamSym] })
  }
  const airlock = new AirlockDestination({ inner: source[streamSym], logs, local, originals, ship, messageKey: source[messageKeySym] })
  ;(logger as unknown as PinoInternals)[streamSym] = airlock
  return logger
}
