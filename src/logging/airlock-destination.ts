import { pino } from 'pino'
import type { DestinationStream, Logger, SerializerFn } from 'pino'
import type { LogPolicy } from '../policy/schema.js'
import { WITHHELD_MARKER } from '../scrub/markers.js'
import { ErrorNode } from '../scrub/value-nodes.js'
import { LEVEL_VALUES, levelOfValue } from '../policy/log-levels.js'
import { NON_RECORD_KEY } from './local-scrub.js'
import type { LocalOutputStats, ScrubThread } from './scrub-thread.js'
import { copyFields, epochMillis, isPinoKey, isRecordLike, messageText } from './record-fields.js'
import { RecordShipper } from './record-shipper.js'
import type { ShippedRecord, ShipRecord } from './shipped-record.js'

const chindingsSym: typeof pino.symbols.chindingsSym = pino.symbols.chindingsSym
const lsCacheSym: typeof pino.symbols.lsCacheSym = pino.symbols.lsCacheSym
const timeSliceIndexSym: typeof pino.symbols.timeSliceIndexSym = pino.symbols.timeSliceIndexSym
const needsMetadataGsym: typeof pino.symbols.needsMetadataGsym = pino.symbols.needsMetadataGsym
const serializersSym: typeof pino.symbols.serializersSym = pino.symbols.serializersSym
const formattersSym: typeof pino.symbols.formattersSym = pino.symbols.formattersSym
const stringifiersSym: typeof pino.symbols.stringifiersSym = pino.symbols.stringifiersSym
const wildcardFirstSym: typeof pino.symbols.wildcardFirstSym = pino.symbols.wildcardFirstSym
const errorKeySym: typeof pino.symbols.errorKeySym = pino.symbols.errorKeySym

type Stringifier = (value: unknown, safe?: unknown) => string | undefined
type LogFormatter = (object: object) => Record<string, unknown>

/** The pino state this module reads; `pino.symbols` exposes it for integrations like this one. */
interface PinoInternals {
  [chindingsSym]: string
  [lsCacheSym]: Record<number, string | undefined>
  [timeSliceIndexSym]: number
  [serializersSym]: Readonly<Record<string, SerializerFn | undefined>>
  [formattersSym]: { log?: LogFormatter }
  // pino's `redact` option, compiled: one stringifier per redacted top-level key, and one for `*.` paths.
  [stringifiersSym]: Readonly<Record<string | symbol, Stringifier | undefined>> | undefined
  [errorKeySym]: string
}

// pino's own Error serializers only reshape an error: the exceptions policy
// reads the Error itself, and sends less than they would.
const ERROR_RESHAPERS = new Set<unknown>([pino.stdSerializers.err, pino.stdSerializers.errWithCause])

/** What a destination that asks for metadata gets before each write. */
interface Metadata {
  lastLevel: number
  lastTime: string
  lastMsg: unknown
  lastObj: unknown
  lastLogger: Logger
}

type Fields = Record<string, unknown>

/** A logger's bindings as pino serialized them (unscrubbed: pino's own, never replaced). */
interface BindingsState {
  /** The bindings text, as the logger holds it. */
  raw: string
  /** `raw` parsed, without pino's keys; built on first use. */
  shipped: Fields | undefined
  /** The application's own pipeline for this logger; built on first use (a logger's serializers never change). */
  pipeline: AppPipeline | undefined
}

/**
 * What the application's logger does to a record before it writes it, our
 * scrubbing wrappers looked through to the user's functions they wrap.
 */
interface AppPipeline {
  readonly formatter: LogFormatter | undefined
  /** The user's serializers by key; the error key's is under the error key. */
  readonly serializers: ReadonlyMap<string, SerializerFn>
  /** pino's compiled `redact` option, when there is one. */
  readonly stringifiers: Readonly<Record<string | symbol, Stringifier | undefined>> | undefined
  readonly wildcard: Stringifier | undefined
  readonly errorKey: string
}

/**
 * Options of {@link AirlockDestination}.
 *
 * @example
 * ```ts
 * const options: AirlockDestinationOptions = { inner: process.stdout, logs: policy.logs, local: undefined, originals: new WeakMap(), ship, messageKey: 'msg' }
 * ```
 */
export interface AirlockDestinationOptions {
  /** Where local output goes when it is not scrubbed (with `local`, the scrubbing thread writes it). */
  readonly inner: DestinationStream | undefined
  readonly logs: LogPolicy
  /** The thread that scrubs and writes local output; absent when `logs.scrubLocal` is off. */
  readonly local: ScrubThread | undefined
  /** Our wrappers of the application's functions (a `formatters.log`), and what each wraps. */
  readonly originals: WeakMap<object, LogFormatter | null>
  readonly ship: ShipRecord
  /** The logger's message key (`msg` unless configured otherwise). */
  readonly messageKey: string
  /**
   * Records below this pino level are shipped (when the policy ships them)
   * but not written locally: the local level never caps what the policy
   * ships. Default: every record is written.
   */
  readonly minLocalLevel?: number
}

/**
 * The destination every airlock logger writes to. For each line it:
 *
 * 1. hands it to the logger's scrubbing thread ({@link ScrubThread}) when
 *    local output is scrubbed, with where pino put the level and time and
 *    the bindings (so the thread scrubs each part value by value and keeps
 *    them apart); otherwise writes it to the local output as it is;
 * 2. ships the record when the policy says so.
 *
 * Nothing is scrubbed on the calling thread: pino serializes the record
 * (the application's own pipeline, with `valueModelStringify` for what is
 * not plain JSON data) and the line goes over as it is. The thread's
 * scrubber sees every secret registered before the log call (see
 * {@link ScrubThread}).
 *
 * CAPTURE. The shipped copy comes from pino's documented metadata protocol
 * (`destination[Symbol.for('pino.metadata')] = true`): before each write
 * pino sets `lastObj` (the logged object, after `Error` and mixin handling,
 * before serializers), `lastMsg` (after interpolation and `msgPrefix`),
 * `lastLevel`, `lastTime` and `lastLogger`. So shipping costs no JSON.parse
 * of the line, no second formatting of the message, no re-implementation of
 * pino's argument rules, and no per-call closure (a `hooks.logMethod` would
 * allocate its argument array on every call and still need the message
 * formatted). Bindings are parsed once per logger and cached. In
 * bench/logger.ts (Node 20, x64, same records, same run), shipping alone
 * runs at 0.66x plain pino; a pino.multistream feeding a destination that
 * parses each line, 0.33x; a `hooks.logMethod` that merely passes its
 * arguments on (a lower bound: no formatting, no bindings), 0.96x.
 *
 * The shipped fields are then what the logger's own pipeline makes of the
 * logged object, as pino would write it: the application's `formatters.log`,
 * serializers and `redact` paths (pino's compiled stringifiers), with
 * airlock's own `formatters.log` wrapper looked through, so nothing the
 * application keeps out of its log ships and the boundary still sees (and
 * ledgers) what it scrubs. pino's standard error serializers are skipped for
 * an Error, so the exceptions policy reads the Error itself; any other
 * serializer's output for an Error is lifted back to an error node. A logged
 * object that is not a record ships whole under `value`.
 *
 * `ship` is called through a {@link RecordShipper}: its failures never reach
 * the code that logged, and a record logged from inside it is written
 * locally but not shipped.
 *
 * @example
 * ```ts
 * const destination = new AirlockDestination({ inner: pino.destination(1), logs, local: new ScrubThread(scrubber, logs.redactPaths, { path: 1 }), originals, ship, messageKey: 'msg' })
 * const logger = pino({ level: 'info' }, destination)
 * ```
 */
export class AirlockDestination implements Metadata {
  readonly [needsMetadataGsym] = true as const
  lastLevel = 0
  lastTime = ''
  lastMsg: unknown = undefined
  lastObj: unknown = undefined
  lastLogger: Logger = undefined as unknown as Logger

  readonly #inner: DestinationStream | undefined
  readonly #innerWantsMetadata: boolean
  readonly #local: ScrubThread | undefined
  readonly #originals: WeakMap<object, LogFormatter | null>
  readonly #shipper: RecordShipper | undefined
  readonly #minShipLevel: number
  readonly #minLocalLevel: number
  readonly #messageKey: string
  readonly #states = new WeakMap<object, BindingsState>()
  #lastLogger: object | undefined
  #lastState: BindingsState | undefined

  constructor(options: AirlockDestinationOptions) {
    this.#inner = options.inner
    this.#innerWantsMetadata = (options.inner as { [needsMetadataGsym]?: unknown } | undefined)?.[needsMetadataGsym] === true
    this.#local = options.local
    this.#originals = options.originals
    this.#shipper = options.logs.ship ? new RecordShipper(options.ship) : undefined
    this.#minShipLevel = LEVEL_VALUES[options.logs.level]
    this.#minLocalLevel = options.minLocalLevel ?? 0
    this.#messageKey = options.messageKey
  }

  /** Counts of local output when a scrubbing thread writes it; undefined otherwise. */
  get localStats(): LocalOutputStats | undefined {
    return this.#local?.stats
  }

  write(line: string): void {
    const logger = this.lastLogger as unknown as PinoInternals
    const local = this.#local
    if (this.lastLevel < this.#minLocalLevel) {
      // Below the local level: shipped only (pino's level let it through for the policy's sake).
    } else if (local !== undefined) {
      // Where pino put the level and time, then the bindings: the scrubbing thread keeps the
      // bindings apart from the fields (a key may be in both, as pino writes it).
      const chindings = logger[chindingsSym]
      const levelPrefix = logger[lsCacheSym][this.lastLevel]
      const prefix = levelPrefix === undefined ? 0 : levelPrefix.length + logger[timeSliceIndexSym] + this.lastTime.length
      // Not the layout expected (a pino change, a streamWrite hook): 0, 0 makes the thread scrub the line as text.
      if (prefix !== 0 && line.startsWith(chindings, prefix)) local.write(line, prefix, chindings.length, this.lastLevel)
      else local.write(line, 0, 0, this.lastLevel)
    } else {
      this.#writeLocal(line)
    }
    if (this.#shipper !== undefined && this.lastLevel >= this.#minShipLevel && !this.#shipper.inside) this.#shipRecord(this.#shipper, logger)
  }

  flush(callback?: (err?: Error) => void): void {
    if (this.#local !== undefined) {
      this.#local.flush(callback ?? noop)
      return
    }
    const inner = this.#inner as { flush?: (cb: (err?: Error) => void) => void }
    if (typeof inner.flush === 'function') inner.flush(callback ?? noop)
    else callback?.()
  }

  flushSync(): void {
    if (this.#local !== undefined) {
      this.#local.flushSync()
      return
    }
    const inner = this.#inner as { flushSync?: () => void }
    if (typeof inner.flushSync === 'function') inner.flushSync()
  }

  end(callback?: () => void): void {
    if (this.#local !== undefined) {
      this.#local.end(callback)
      return
    }
    const inner = this.#inner as { end?: () => void }
    if (typeof inner.end === 'function') inner.end()
  }

  #writeLocal(line: string): void {
    const inner = this.#inner
    if (inner === undefined) return
    if (this.#innerWantsMetadata) {
      const target = inner as unknown as Metadata
      target.lastLevel = this.lastLevel
      target.lastTime = this.lastTime
      target.lastLogger = this.lastLogger
      target.lastObj = this.lastObj
      target.lastMsg = this.lastMsg
    }
    inner.write(line)
  }

  /** A logger's bindings state, kept per logger; parsed again when its bindings change (setBindings). */
  #sync(logger: PinoInternals): BindingsState {
    const current = logger[chindingsSym]
    let state = logger === this.#lastLogger ? this.#lastState : this.#states.get(logger)
    if (state === undefined) {
      state = { raw: current, shipped: undefined, pipeline: undefined }
      this.#states.set(logger, state)
    } else if (current !== state.raw) {
      state.raw = current
      state.shipped = undefined
    }
    this.#lastLogger = logger
    this.#lastState = state
    return state
  }

  /** A logger's raw bindings as fields, once per logger: without pino's keys. */
  #parseBindings(raw: string): Fields {
    const fields: Fields = {}
    if (raw === '') return fields
    try {
      const parsed: unknown = JSON.parse(`{${raw.slice(1)}}`)
      if (typeof parsed === 'object' && parsed !== null) copyFields(fields, parsed as Fields, this.#messageKey)
    } catch {
      // Bindings pino wrote are JSON; if not, ship none rather than guess.
    }
    return fields
  }

  #shipRecord(shipper: RecordShipper, logger: PinoInternals): void {
    const state = this.#sync(logger)
    // A fresh object per record: the parsed bindings are kept per logger and must not take this record's fields.
    const fields: Fields = {}
    copyFields(fields, (state.shipped ??= this.#parseBindings(state.raw)), this.#messageKey)
    const pipeline = (state.pipeline ??= this.#pipeline(logger))
    let msg: unknown = this.lastMsg
    let msgFromError = false
    const object = this.lastObj
    if (typeof object === 'object' && object !== null) {
      if (isRecordLike(object)) {
        const errorValue: unknown = (object as Fields)[pipeline.errorKey]
        msgFromError = typeof msg === 'string' && msg === (errorValue as { message?: unknown } | null | undefined)?.message
        this.#appFields(pipeline, object as Fields, fields)
        if (msg === undefined) msg = (object as Fields)[this.#messageKey]
      } else {
        // pino would write it one key per element; ship it whole, for the boundary to normalize.
        fields[NON_RECORD_KEY] = object
      }
    }
    if (msg !== undefined) msg = appValue(pipeline, this.#messageKey, msg)
    const record: ShippedRecord = { level: levelOfValue(this.lastLevel) ?? 'trace', msg: messageText(msg), fields, time: epochMillis(this.lastTime) }
    if (msgFromError) record.msgFromError = true
    shipper.hand(record)
  }

  /**
   * The logged object's fields as the application's logger would write them
   * (its `formatters.log`, its serializers, its `redact` paths), before any
   * scrubbing of ours: whatever the application keeps out of its own log
   * never ships.
   */
  #appFields(pipeline: AppPipeline, object: Fields, into: Fields): void {
    let source: unknown = object
    if (pipeline.formatter !== undefined) {
      try {
        source = pipeline.formatter(object)
      } catch {
        into[NON_RECORD_KEY] = WITHHELD_MARKER
        return
      }
      if (typeof source !== 'object' || source === null) return
    }
    const record = source as Fields
    const messageKey = this.#messageKey
    for (const key in record) {
      if (!Object.hasOwn(record, key) || key === messageKey || isPinoKey(key)) continue
      let value = record[key]
      if (value === undefined || typeof value === 'function') continue
      value = appValue(pipeline, key, value)
      if (value === undefined) continue
      if (key === '__proto__') Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true })
      else into[key] = value
    }
  }

  // Built once per logger: its serializers, formatter and redaction never change.
  #pipeline(logger: PinoInternals): AppPipeline {
    const serializers = new Map<string, SerializerFn>()
    const errorKey = logger[errorKeySym]
    const own = logger[serializersSym]
    for (const key of Object.keys(own)) {
      const users = this.#users(own[key])
      if (users !== undefined) serializers.set(key, users)
    }
    // pino serializes the error key with the `err` serializer when the key has none of its own.
    if (!serializers.has(errorKey)) {
      const err = this.#users(own.err)
      if (err !== undefined) serializers.set(errorKey, err)
    }
    const stringifiers = logger[stringifiersSym]
    const wildcard = stringifiers?.[wildcardFirstSym]
    const redacting = stringifiers !== undefined && (wildcard !== undefined || Object.keys(stringifiers).length > 0)
    return {
      formatter: this.#users(logger[formattersSym].log),
      serializers,
      stringifiers: redacting ? stringifiers : undefined,
      wildcard,
      errorKey,
    }
  }

  // The user's function behind one of ours, or the function itself.
  #users<F extends SerializerFn | LogFormatter>(fn: F | undefined): F | undefined {
    if (fn === undefined) return undefined
    const original = this.#originals.get(fn)
    return original === undefined ? fn : ((original ?? undefined) as F | undefined)
  }
}

// One value as pino would serialize it: the key's serializer, then the key's
// redaction. `undefined` drops the key.
function appValue(pipeline: AppPipeline, key: string, value: unknown): unknown {
  let out = value
  const serializer = pipeline.serializers.get(key)
  if (serializer !== undefined && !(value instanceof Error && ERROR_RESHAPERS.has(serializer))) {
    try {
      out = serializer(value)
    } catch {
      return WITHHELD_MARKER
    }
    // An error the application reshaped is still an error: the exceptions policy applies to what it kept.
    if (value instanceof Error) out = serializedError(value, out)
  }
  const stringifiers = pipeline.stringifiers
  if (stringifiers === undefined || out === undefined) return out
  const redact = stringifiers[key] ?? pipeline.wildcard
  if (redact === undefined) return out
  try {
    const json = redact(out)
    return json === undefined ? undefined : (JSON.parse(json) as unknown)
  } catch {
    return WITHHELD_MARKER
  }
}

// What an application's serializer made of an error, as an error again.
function serializedError(err: Error, serialized: unknown): unknown {
  const ctorName = (err.constructor as { name?: unknown } | undefined)?.name
  const type = typeof ctorName === 'string' && ctorName !== '' ? ctorName : 'Error'
  if (typeof serialized === 'string') return new ErrorNode(type, undefined, serialized, undefined, undefined, undefined, undefined, undefined)
  if (typeof serialized !== 'object' || serialized === null) return serialized
  const fields = serialized as Record<string, unknown>
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
  return new ErrorNode(
    text(fields.type) ?? type,
    text(fields.name),
    text(fields.message) ?? '',
    text(fields.stack),
    typeof fields.code === 'string' || typeof fields.code === 'number' ? fields.code : undefined,
    undefined,
    undefined,
    undefined,
  )
}

function noop(): void {}
