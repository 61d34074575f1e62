import { StringDecoder } from 'node:string_decoder'
import { Writable } from 'node:stream'
import type { LogLevel, Policy } from '../policy/schema.js'
import { LEVEL_VALUES, levelOfValue } from '../policy/log-levels.js'
import { resolveShipping } from './logging-options.js'
import { copyFields, epochMillis, messageText } from './record-fields.js'
import { RecordShipper } from './record-shipper.js'
import type { ShipRecord } from './shipped-record.js'

/**
 * Options of {@link createShippingDestination}. No scrubber: this
 * destination writes nothing locally, and the boundary scrubs what it ships.
 *
 * @example
 * ```ts
 * const options: ShippingDestinationOptions = { policy: airlock.policy, ship }
 * ```
 */
export interface ShippingDestinationOptions {
  /** Its `logs` section decides what ships: `ship` and `level`. */
  readonly policy: Policy
  /** Receives each shipped record; see {@link ShipRecord}. */
  readonly ship: ShipRecord
}

// A line longer than this without a newline is not a pino record; it is dropped, not buffered forever.
const MAX_LINE_CHARS = 8 * 1024 * 1024
const LEVEL_PREFIX = '{"level":'

/**
 * A writable destination for pino's NDJSON lines that ships each record the
 * policy allows: for when you configure pino yourself and want the airlock
 * to get its records. It parses each line (one `JSON.parse`; a line below
 * `policy.logs.level` is skipped before parsing when it starts with pino's
 * numeric level) and hands `{ level, msg, fields, time }` to `ship`
 * unscrubbed: the boundary applies the policy. It writes nothing anywhere
 * else, and does not scrub your local output: for that, use
 * {@link wrapPinoLogger} or {@link createLogger}.
 *
 * Lines are read as pino writes them: `level` a number (or a level label
 * when `formatters.level` changed it), `time` epoch milliseconds, seconds or
 * an ISO string, the message under `msg`. A line that is not a JSON object
 * with a known level is not shipped. Chunks may split lines; a partial line
 * waits for the rest.
 *
 * It is a Node `Writable`, so it also takes a pipe. It cannot be a pino
 * `transport` target: those run in a worker thread, and `ship` is a
 * function of this one.
 *
 * @throws InvalidArgumentError when an option has the wrong type.
 * @throws PolicyError when `policy.logs` is not a valid `logs` section.
 * @example
 * ```ts
 * import pino from 'pino'
 * import { createShippingDestination } from 'airlock-sdk'
 *
 * const shipping = createShippingDestination({
 *   policy: airlock.policy,
 *   ship: ({ level, msg, fields }) => void airlock.emit({ kind: 'log', runId, level, msg, fields }),
 * })
 * const logger = pino({ level: 'debug' }, pino.multistream([{ stream: process.stdout }, { stream: shipping }]))
 * logger.info({ rows: 3 }, 'loaded') // to stdout, and shipped
 * ```
 */
export function createShippingDestination(options: ShippingDestinationOptions): Writable {
  const { logs, ship } = resolveShipping(options, 'createShippingDestination')
  return new ShippingDestination(logs.ship ? LEVEL_VALUES[logs.level] : Infinity, new RecordShipper(ship))
}

class ShippingDestination extends Writable {
  readonly #minLevel: number
  readonly #shipper: RecordShipper
  readonly #decoder = new StringDecoder('utf8')
  #pending = ''
  #skippingLine = false

  constructor(minLevel: number, shipper: RecordShipper) {
    super({ decodeStrings: false })
    this.#minLevel = minLevel
    this.#shipper = shipper
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#take(typeof chunk === 'string' ? chunk : this.#decoder.write(chunk))
    callback()
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#take(this.#decoder.end())
    if (this.#pending !== '' && !this.#skippingLine) this.#line(this.#pending)
    this.#pending = ''
    callback()
  }

  #take(text: string): void {
    if (this.#minLevel === Infinity || text === '') return
    let start = 0
    let end: number
    while ((end = text.indexOf('\n', start)) !== -1) {
      if (this.#skippingLine) this.#skippingLine = false
      else if (this.#pending === '') this.#line(text.slice(start, end))
      else this.#line(this.#pending + text.slice(start, end))
      this.#pending = ''
      start = end + 1
    }
    if (start === text.length || this.#skippingLine) return
    this.#pending += text.slice(start)
    if (this.#pending.length > MAX_LINE_CHARS) {
      this.#pending = ''
      this.#skippingLine = true
    }
  }

  #line(line: string): void {
    // pino's own lines start with the numeric level: skip one below the bar without parsing it.
    if (line.startsWith(LEVEL_PREFIX)) {
      const level = Number.parseInt(line.slice(LEVEL_PREFIX.length, LEVEL_PREFIX.length + 4), 10)
      if (Number.isFinite(level) && level < this.#minLevel) return
    }
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch {
      return
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) return
    const fieldsIn = record as Record<string, unknown>
    const level = levelOf(fieldsIn.level)
    if (level === undefined || LEVEL_VALUES[level] < this.#minLevel) return
    const fields: Record<string, unknown> = {}
    copyFields(fields, fieldsIn, 'msg')
    this.#shipper.hand({ level, msg: messageText(fieldsIn.msg), fields, time: epochMillis(fieldsIn.time) })
  }
}

function levelOf(level: unknown): LogLevel | undefined {
  if (typeof level === 'number') return levelOfValue(level)
  return typeof level === 'string' && Object.hasOwn(LEVEL_VALUES, level) ? (level as LogLevel) : undefined
}
