import { pino } from 'pino'
import type { DestinationStream, Logger, SerializerFn } from 'pino'
import type { LogPolicy } from '../policy/schema.js'
import { WITHHELD_MARKER } from '../scrub/markers.js'
import type { Scrubber } from '../scrub/scrubber.js'
import { ErrorNode } from '../scrub/value-nodes.js'
import { LEVEL_VALUES, levelOfValue } from '../policy/log-levels.js'
import { NON_RECORD_KEY, type LocalScrub } from './local-scrub.js'
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

/** A logger's bindings as pino serialized them (raw) and as this destination keeps them. */
interface BindingsState {
  /** The bindings, unscrubbed: what ships. */
  raw: string
  /** What pino built for the logger, before this destination first replaced it. */
  readonly built: string
  /** What the logger holds now (`local` when scrubbing, `raw` otherwise). */
  seen: string
  /** `scrubber.size` when `seen` was scrubbed; -1 when it must be (again). */
  generation: number
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
 * const options: AirlockDestinationOptions = { inner: process.stdout, logs: policy.logs, scrubber, local: undefined, ship, messageKey: 'msg' }
 * ```
 */
export interface AirlockDestinationOptions {
  /** Where local output goes. */
  readonly inner: DestinationStream
  readonly logs: LogPolicy
  readonly scrubber: Scrubber
  /** Scrubs local output; absent when `logs.scrubLocal` is off. */
  readonly local: LocalScrub | undefined
  readonly ship: ShipRecord
  /** The logger's message key (`msg` unless configured otherwise). */
  readonly messageKey: string
}

/**
 * The destination every airlock logger writes to. For each line it:
 *
 * 1. writes it to the local output, after making sure the logger's bindings
 *    in it are scrubbed with the scrubber's current secrets (pino serializes
 *    bindings once per child, so a secret registered later would otherwise
 *    stay in them);
 * 2. ships the record when the policy says so.
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
 * airlock's own scrubbing wrappers looked through, so nothing the
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
 * const destination = new AirlockDestination({ inner: pino.destination(1), logs, scrubber, local, ship, messageKey: 'msg' })
 * const logger = pino({ level: 'info' }, destination)
 * destination.adopt(logger)
 * ```
 */
export class AirlockDestination implements Metadata {
  readonly [needsMetadataGsym] = true as const
  lastLevel = 0
  lastTime = ''
  lastMsg: unknown = undefined
  lastObj: unknown = undefined
  lastLogger: Logger = undefined as unknown as Logger

  readonly #inner: DestinationStream
  readonly #innerWantsMetadata: boolean
  readonly #scrubber: Scrubber
  readonly #local: LocalScrub | undefined
  readonly #shipper: RecordShipper | undefined
  readonly #minShipLevel: number
  readonly #messageKey: string
  readonly #states = new WeakMap<object, BindingsState>()
  #root: object | undefined
  #lastLogger: object | undefined
  #lastState: BindingsState | undefined

  constructor(options: AirlockDestinationOptions) {
    this.#inner = options.inner
    this.#innerWantsMetadata = (options.inner as { [needsMetadataGsym]?: unknown })[needsMetadataGsym] === true
    this.#scrubber = options.scrubber
    this.#local = options.local
    this.#shipper = options.logs.ship ? new RecordShipper(options.ship) : undefined
    this.#minShipLevel = LEVEL_VALUES[options.logs.level]
    this.#messageKey = options.messageKey
  }

  /** Takes `logger` as the root of the loggers writing here; scrubs its bindings now. */
  adopt(logger: Logger): void {
    this.#root = logger
    this.#sync(logger as unknown as PinoInternals)
  }

  write(line: string): void {
    const logger = this.lastLogger as unknown as PinoInternals
    if (this.#local !== undefined) {
      const before = logger[chindingsSym]
      const after = this.#sync(logger).seen
      if (after !== before) line = this.#replaceBindings(line, logger, before, after)
    }
    this.#writeLocal(line)
    if (this.#shipper !== undefined && this.lastLevel >= this.#minShipLevel) this.#shipRecord(this.#shipper, logger)
  }

  flush(callback?: (err?: Error) => void): void {
    const inner = this.#inner as { flush?: (cb: (err?: Error) => void) => void }
    if (typeof inner.flush === 'function') inner.flush(callback ?? noop)
    else callback?.()
  }

  flushSync(): void {
    const inner = this.#inner as { flushSync?: () => void }
    if (typeof inner.flushSync === 'function') inner.flushSync()
  }

  end(): void {
    const inner = this.#inner as { end?: () => void }
    if (typeof inner.end === 'function') inner.end()
  }

  #writeLocal(line: string): void {
    const inner = this.#inner
    if (this.#innerWantsMetadata) {
      const target = inner as unknown as Metadata
      target.lastLevel = this.lastLevel
      target.lastTime = this.lastTime
      target.lastLogger = this.lastLogger
      // The raw record must not reach a consumer of scrubbed output through the side door.
      target.lastObj = this.#local === undefined ? this.lastObj : undefined
      target.lastMsg = this.#local === undefined ? this.lastMsg : undefined
    }
    inner.write(line)
  }

  /** Brings a logger's bindings state up to date: raw bindings, and scrubbed ones in the logger when scrubbing. */
  #sync(logger: PinoInternals): BindingsState {
    const current = logger[chindingsSym]
    let state = logger === this.#lastLogger ? this.#lastState : this.#states.get(logger)
    if (state === undefined) {
      state = { raw: this.#rawBindings(logger, current), built: current, seen: current, generation: -1, shipped: undefined, pipeline: undefined }
      this.#states.set(logger, state)
    } else if (current !== state.seen) {
      // setBindings appends to what the logger held.
      state.raw = continuesBindings(current, state.seen) ? state.raw + current.slice(state.seen.length) : current
      state.seen = current
      state.generation = -1
      state.shipped = undefined
    }
    const local = this.#local
    if (local !== undefined && state.generation !== this.#scrubber.size) {
      state.generation = this.#scrubber.size
      state.seen = local.chindings(state.raw)
      logger[chindingsSym] = state.seen
    }
    this.#lastLogger = logger
    this.#lastState = state
    return state
  }

  /**
   * A child's bindings are its parent's (as the parent held them when the
   * child was made) plus its own. Rebuild them from the parent's raw ones, so
   * what ships is unscrubbed; when the prefix is not recognised, ship what
   * the child holds (scrubbed, so less, never more).
   */
  #rawBindings(logger: PinoInternals, current: string): string {
    if (logger === this.#root) return current
    const parent = Object.getPrototypeOf(logger) as PinoInternals | null
    if (parent === null || typeof parent[chindingsSym] !== 'string') return current
    const inherited = this.#sync(parent)
    if (continuesBindings(current, inherited.seen)) return inherited.raw + current.slice(inherited.seen.length)
    if (continuesBindings(current, inherited.built)) return inherited.raw + current.slice(inherited.built.length)
    return current
  }

  // pino writes level + time + bindings + fields + message; the bindings start at a known offset.
  #replaceBindings(line: string, logger: PinoInternals, before: string, after: string): string {
    const levelPrefix = logger[lsCacheSym][this.lastLevel]
    if (levelPrefix !== undefined) {
      const at = levelPrefix.length + logger[timeSliceIndexSym] + this.lastTime.length
      if (line.startsWith(before, at)) return line.slice(0, at) + after + line.slice(at + before.length)
    }
    // Not the layout expected (a pino change): scrub the line as text, weaker (see LocalScrub) but never raw.
    return this.#scrubber.scrubString(line)
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
    const original = this.#local === undefined ? fn : this.#local.original(fn)
    return original ?? undefined
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

// `text` is `prefix` followed by more bindings (or nothing): the next character starts a binding.
function continuesBindings(text: string, prefix: string): boolean {
  return text.startsWith(prefix) && (text.length === prefix.length || text.charCodeAt(prefix.length) === 44 /* , */)
}


