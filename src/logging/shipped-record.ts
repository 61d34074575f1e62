import type { LogLevel } from '../policy/schema.js'

/**
 * One log record as the logger hands it to `ship`, before any policy: the
 * boundary applies the `logs` channel (level, redact paths, scrubbing,
 * `maxRecordBytes`) when the Airlock emits it as a `log` event.
 *
 * - `level`: the standard level; a custom level counts as the highest
 *   standard level at or below it.
 * - `msg`: the formatted message (interpolation and `msgPrefix` applied); `''`
 *   when there is none.
 * - `fields`: the logger's bindings (its `base` and every `child()`'s), then
 *   the logged object over them, without pino's own keys (`level`, `time`,
 *   `msg`, `pid`, `hostname`). Values are the logged values themselves, not
 *   copies, and not scrubbed: an `err` is the `Error` object.
 * - `time`: when the record was logged, in milliseconds since the epoch.
 * - `msgFromError`: set when the message is the logged error's message.
 *
 * The fields are what the logger's own pipeline (its `formatters.log`,
 * serializers and `redact` paths) makes of the logged object, without
 * airlock's scrubbing: what the application keeps out of its own log never
 * ships. A logged object that is not a record (a Buffer, an array) ships
 * whole under `value`.
 *
 * @example
 * ```ts
 * const shipped: ShippedRecord[] = []
 * const logger = createLogger({ policy, scrubber, ship: (record) => shipped.push(record) })
 * logger.child({ task: 'load' }).info({ rows: 3 }, 'loaded %s', 'users')
 * // shipped[0]: { level: 'info', msg: 'loaded users', fields: { task: 'load', rows: 3 }, time: 1763683200000 }
 * ```
 */
export interface ShippedRecord {
  readonly level: LogLevel
  readonly msg: string
  readonly fields: Record<string, unknown>
  readonly time: number
  /** The message is an error's own (`logger.error(err)`): it obeys the `exceptions` mode. */
  msgFromError?: boolean
}

/**
 * Receives each record the policy ships. The Airlock passes one that calls
 * `emit({ kind: 'log', runId, level, msg, fields, taskRunId })`. It is called
 * synchronously from the log call; an exception it throws, or a promise it
 * returns that rejects, does not reach the code that logged (a process
 * warning `AIRLOCK_LOG_SHIP_FAILED` says so, once per logger).
 *
 * @example
 * ```ts
 * const ship: ShipRecord = ({ level, msg, fields }) => void airlock.emit({ kind: 'log', runId, level, msg, fields })
 * ```
 */
export type ShipRecord = (record: ShippedRecord) => void
