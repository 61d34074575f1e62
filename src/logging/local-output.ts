import { pino } from 'pino'
import type { Logger } from 'pino'
import { scrubberSetup, type Scrubber } from '../scrub/scrubber.js'
import { NON_RECORD_KEY } from './local-scrub.js'
import { isRecordLike } from './record-fields.js'
import type { LocalOutputStats } from './scrub-thread.js'
import { valueModelStringify } from './value-model-stringify.js'

type Fields = Record<string, unknown>
// pino types a child's formatters.log over `object`; the logged object is always a record.
type LogFormatter = (object: object) => Fields
type ChildOptions = NonNullable<Parameters<Logger['child']>[1]>
type ChildMethod = (this: Logger, bindings: Parameters<Logger['child']>[0], options?: ChildOptions) => Logger

const stringifySym: typeof pino.symbols.stringifySym = pino.symbols.stringifySym
const chindingsSym: typeof pino.symbols.chindingsSym = pino.symbols.chindingsSym
const streamSym: typeof pino.symbols.streamSym = pino.symbols.streamSym

/**
 * What an airlock logger whose local output is scrubbed changes in pino, on
 * the calling thread, and nothing more (the scrubbing itself runs in the
 * logger's `ScrubThread`):
 *
 * - pino's `stringify` becomes {@link valueModelStringify}: plain JSON data
 *   as pino writes it, anything else as the value model has it (bytes as a
 *   marker, never spelled out);
 * - a `formatters.log` writes a logged object that is not a record (a
 *   Buffer, an array, a boxed string) whole under `value`: pino would
 *   write it one key per element, spelling out what it holds; the
 *   application's own `formatters.log` runs first;
 * - children keep both: a child's own `formatters.log` is wrapped the same
 *   way, and a child's own `redact` option (which makes pino reset its
 *   stringify) gets the value model's back, its bindings serialized again.
 *
 * Each wrapper is remembered with what it wraps (`originals`), so the
 * shipped copy applies the application's own formatter.
 *
 * @example
 * ```ts
 * const output = new LocalOutput(scrubber)
 * const logger = pino({ formatters: { log: output.formatter(undefined) } }, destination)
 * output.install(logger)
 * ```
 */
export class LocalOutput {
  /** Each formatter this made, and the application's it wraps (null: none). */
  readonly originals = new WeakMap<object, LogFormatter | null>()
  readonly #stringify: (value: unknown) => string

  constructor(scrubber: Scrubber) {
    this.#stringify = valueModelStringify(scrubber, scrubberSetup(scrubber, Number.MAX_SAFE_INTEGER).policy.maxDepth)
  }

  /** A `formatters.log` that runs `user` (if any), then puts a non-record under `value`. */
  formatter(user: LogFormatter | undefined): LogFormatter {
    const formatter: LogFormatter = (object) => {
      const out: unknown = user === undefined ? object : user(object)
      // A formatter may return anything; what is not an object has no fields to write.
      if (typeof out !== 'object' || out === null) return {}
      return isRecordLike(out) ? (out as Fields) : { [NON_RECORD_KEY]: out }
    }
    this.originals.set(formatter, user ?? null)
    return formatter
  }

  /** Gives `logger` (and the children it makes) the value model's stringify and the child guard. */
  install(logger: Logger): void {
    const target = logger as unknown as { [stringifySym]: unknown; child: ChildMethod }
    target[stringifySym] = this.#stringify
    const pinoChild = target.child
    const childOptions = (options: ChildOptions): ChildOptions => this.#childOptions(options)
    const keepStringify = (parent: Logger, made: Logger, bindings: Parameters<Logger['child']>[0]): void => this.#keepStringify(parent, made, bindings)
    target.child = function child(this: Logger, bindings, options) {
      const made = pinoChild.call(this, bindings, options === undefined ? undefined : childOptions(options))
      keepStringify(this, made, bindings)
      return made
    }
  }

  #childOptions(options: ChildOptions): ChildOptions {
    const ownLog = options.formatters?.log
    if (ownLog === undefined) return options
    return { ...options, formatters: { ...options.formatters, log: this.formatter(ownLog as LogFormatter) } }
  }

  // pino gives a child with its own `redact` pino's stringify, and serializes its bindings with it.
  #keepStringify(parent: Logger, child: Logger, bindings: Parameters<Logger['child']>[0]): void {
    const internals = child as unknown as { [stringifySym]: unknown; [chindingsSym]: string }
    if (internals[stringifySym] === this.#stringify) return
    internals[stringifySym] = this.#stringify
    internals[chindingsSym] = (parent as unknown as { [chindingsSym]: string })[chindingsSym]
    child.setBindings(bindings)
  }
}

/**
 * Waits until every record a logger made by `createLogger` or
 * `wrapPinoLogger` has written so far is written: scrubbed by its thread
 * and in the destination. `logger.flush(callback)` does the same.
 *
 * @example
 * ```ts
 * logger.info('done')
 * await flushLogger(logger)
 * ```
 */
export function flushLogger(logger: Pick<Logger, 'flush'>): Promise<void> {
  return new Promise((resolve, reject) => logger.flush((err) => (err ? reject(err) : resolve())))
}

/**
 * Flushes an airlock logger (see {@link flushLogger}), then stops its
 * scrubbing thread; records logged afterwards are withheld from local
 * output and counted. `Airlock.close()` does this for `airlock.logger`.
 *
 * @example
 * ```ts
 * await closeLogger(logger)
 * ```
 */
export async function closeLogger(logger: Pick<Logger, 'flush'>): Promise<void> {
  await flushLogger(logger)
  const stream = (logger as unknown as { [streamSym]: { end?: (callback?: () => void) => void; localStats?: unknown } })[streamSym]
  if (stream.localStats === undefined || typeof stream.end !== 'function') return
  await new Promise<void>((resolve) => stream.end!(resolve))
}

/**
 * Counts of an airlock logger's local output (lines written scrubbed, lines
 * withheld because its scrubbing thread failed), or undefined when its
 * local output is not scrubbed.
 *
 * @example
 * ```ts
 * const stats = localOutputStats(airlock.logger)
 * if (stats !== undefined && stats.withheld > 0) alert('local log lines were withheld')
 * ```
 */
export function localOutputStats(logger: object): LocalOutputStats | undefined {
  const stream = (logger as unknown as { [streamSym]: { localStats?: LocalOutputStats } })[streamSym]
  return stream.localStats
}
