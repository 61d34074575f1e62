import type { Logger, SerializerFn } from 'pino'
import { pino } from 'pino'
import { redactPathRuleSet } from '../policy/redact-paths.js'
import { WITHHELD_MARKER } from '../scrub/markers.js'
import type { Scrubber } from '../scrub/scrubber.js'
import type { WalkOptions } from '../scrub/walk.js'
import { isRecordLike } from './record-fields.js'

type Fields = Record<string, unknown>
// pino types a child's formatters.log over `object`; the logged object is always a record.
type LogFormatter = (object: object) => Fields
type Serializers = Readonly<Record<string, SerializerFn>>
type ChildOptions = NonNullable<Parameters<Logger['child']>[1]>
type ChildMethod = (this: Logger, bindings: Parameters<Logger['child']>[0], options?: ChildOptions) => Logger

const serializersSym: typeof pino.symbols.serializersSym = pino.symbols.serializersSym
const errorKeySym: typeof pino.symbols.errorKeySym = pino.symbols.errorKeySym

/** The key a whole record or bindings object goes under when the scrubber withheld it (a bound broken). */
const WITHHELD_KEY = 'withheld'
/** The key a logged object that is not a record (a Buffer, an array, a boxed string) is written under, whole. */
export const NON_RECORD_KEY = 'value'

/**
 * Scrubs what a pino logger writes locally, value by value, BEFORE pino
 * serializes it: pino then writes scrubbed values with its own fast
 * stringifier, and its NDJSON format does not change.
 *
 * Why values and not the serialized line (`hooks.streamWrite`), checked
 * against this scrubber: JSON escaping glues letters to tokens; a match that
 * starts right after an escape's backslash (`\nada@example.com`) turns into
 * `\[REDACTED…`, which is not JSON; and only the structure says that an
 * object, array or number sits under a key that names a secret.
 *
 * Three parts, one per place pino puts data in a line:
 *
 * - the logged object: `formatters.log` ({@link LocalScrub.formatter}). Keys
 *   pino serializes itself (`err`, the user's serializers) are left to
 * - the serializers, each wrapped so its output is scrubbed
 *   ({@link LocalScrub.serializers}); the message goes through the message
 *   key's serializer, after interpolation;
 * - bindings (`base`, `child()`), which pino serializes once per logger:
 *   {@link LocalScrub.chindings}, applied by the destination, which also
 *   re-applies it when the scrubber learns a new secret.
 *
 * Each goes through the one value model: normalized, then the policy's
 * `logs.redactPaths` and scrubbing in one walk (the same the boundary does
 * to the shipped copy). A logged object that is not a record (a Buffer, an
 * array, a boxed string), which pino would write one key per element, is
 * written whole under `value`.
 *
 * The wrappers it makes are remembered with what they wrap
 * ({@link LocalScrub.original}), so the shipped copy can apply the user's
 * own serializers and formatter, unscrubbed.
 *
 * @example
 * ```ts
 * const local = new LocalScrub(scrubber, policy.logs.redactPaths)
 * const serializers = local.serializers({ err: pino.stdSerializers.err }, 'msg')
 * const logger = pino({ serializers, formatters: { log: local.formatter(serializers, 'err') } }, destination)
 * ```
 */
export class LocalScrub {
  readonly #scrubber: Scrubber
  readonly #walk: WalkOptions
  // Each wrapper this made, and what it wraps (null: nothing of the user's).
  readonly #originals = new WeakMap<object, SerializerFn | LogFormatter | null>()

  constructor(scrubber: Scrubber, redactPaths: readonly string[]) {
    this.#scrubber = scrubber
    this.#walk = { rules: redactPaths.length === 0 ? undefined : redactPathRuleSet(redactPaths) }
  }

  /**
   * What a serializer or formatter made by this LocalScrub wraps: the
   * user's own function, `null` when it wraps none, or `fn` itself when it
   * is not one of ours.
   */
  original<F extends SerializerFn | LogFormatter>(fn: F): F | null {
    const original = this.#originals.get(fn)
    return original === undefined ? fn : (original as F | null)
  }

  /**
   * A `formatters.log` for a logger whose serializers are `serializers`
   * (already wrapped): it scrubs every own field those do not cover. `before`
   * (a user's own `formatters.log`) runs first.
   */
  formatter(serializers: Serializers, errorKey: string, before?: LogFormatter): LogFormatter {
    const formatter: LogFormatter =
      before === undefined
        ? (object) => this.#fields(object as Fields, serializers, errorKey)
        : (object) => this.#fields(before(object), serializers, errorKey)
    this.#originals.set(formatter, before ?? null)
    return formatter
  }

  /**
   * Pino serializers that scrub: each of `originals` runs, then its output is
   * scrubbed under its key (so a serializer for `token` still has its value
   * replaced whole, and a redact path below the key still applies). Given a
   * `messageKey`, that key gets one too, which scrubs the message after pino
   * has interpolated it.
   */
  serializers(originals: Serializers, messageKey?: string): Record<string, SerializerFn> {
    const wrapped: Record<string, SerializerFn> = Object.create(null) as Record<string, SerializerFn>
    for (const key of Object.keys(originals)) wrapped[key] = this.#wrap(key, originals[key])
    if (messageKey !== undefined) wrapped[messageKey] ??= this.#wrap(messageKey, undefined)
    return wrapped
  }

  /**
   * Scrubs pino's serialized bindings (`,"pid":1,"user":"ada@example.com"`)
   * and returns them in the same form.
   */
  chindings(raw: string): string {
    if (raw === '') return ''
    let parsed: unknown
    try {
      parsed = JSON.parse(`{${raw.slice(1)}}`)
    } catch {
      return `,"${WITHHELD_KEY}":${JSON.stringify(WITHHELD_MARKER)}`
    }
    const value = this.#scrub(parsed)
    if (!isRecord(value)) return `,"${WITHHELD_KEY}":${JSON.stringify(value)}`
    const json = JSON.stringify(value)
    return json.length <= 2 ? '' : `,${json.slice(1, -1)}`
  }

  /**
   * Keeps children scrubbed when they bring their own `serializers` or
   * `formatters.log` (pino would otherwise let those replace ours): wraps
   * `logger.child` once; children inherit it.
   */
  guardChildren(logger: Logger): void {
    const target = logger as unknown as { child: ChildMethod }
    const pinoChild = target.child
    const childOptions = (parent: Logger, options: ChildOptions): ChildOptions => this.#childOptions(parent, options)
    target.child = function child(this: Logger, bindings, options) {
      return pinoChild.call(this, bindings, options === undefined ? undefined : childOptions(this, options))
    }
  }

  #childOptions(parent: Logger, options: ChildOptions): ChildOptions {
    const ownLog = options.formatters?.log
    if (options.serializers === undefined && ownLog === undefined) return options
    const internals = parent as unknown as { [serializersSym]: Serializers; [errorKeySym]: string }
    const inherited: Serializers = internals[serializersSym]
    const own: Serializers = options.serializers ?? {}
    const serializers = { ...inherited, ...this.serializers(own) }
    const formatters: ChildOptions['formatters'] = {
      ...options.formatters,
      log: this.formatter(serializers, internals[errorKeySym], ownLog as LogFormatter | undefined),
    }
    return { ...options, serializers, formatters }
  }

  #wrap(key: string, original: SerializerFn | undefined): SerializerFn {
    const wrapper: SerializerFn = (value: unknown) => {
      const serialized: unknown = original === undefined ? value : original(value)
      if (typeof serialized === 'string' && this.#walk.rules === undefined && !this.#scrubber.isSensitiveKey(key)) {
        return this.#scrubber.scrubString(serialized)
      }
      // Under its key, so a sensitive key name or a redact path below it applies.
      const scrubbed = this.#scrub({ [key]: serialized })
      return isRecord(scrubbed) && Object.hasOwn(scrubbed, key) ? scrubbed[key] : undefined
    }
    this.#originals.set(wrapper, original ?? null)
    return wrapper
  }

  #fields(object: Fields, serializers: Serializers, errorKey: string): Fields {
    // A user's formatters.log may return anything; what is not an object has no fields to write.
    if (typeof object !== 'object' || object === null) return {}
    // pino would write a Buffer or an array one key per element, spelling out what it holds.
    if (!isRecordLike(object)) return { [NON_RECORD_KEY]: this.#scrub(object) }
    // Fields pino serializes itself are scrubbed by the wrapped serializer, after it has run.
    let serialized = 0
    let plain = 0
    for (const key in object) {
      if (serializers[key] !== undefined || (key === errorKey && serializers.err !== undefined)) serialized++
      else plain++
    }
    if (plain === 0) return object
    let source = object
    // A class instance logged as the merging object is its fields, as pino writes it (no `$class`).
    if (serialized !== 0 || Object.getPrototypeOf(object) !== Object.prototype) {
      source = {}
      for (const key of Object.keys(object)) {
        if (serializers[key] === undefined && !(key === errorKey && serializers.err !== undefined)) define(source, key, object[key])
      }
    }
    const value = this.#scrub(source)
    const out: Fields = isRecord(value) ? value : { [WITHHELD_KEY]: value }
    if (serialized !== 0) {
      for (const key of Object.keys(object)) {
        if (serializers[key] !== undefined || (key === errorKey && serializers.err !== undefined)) define(out, key, object[key])
      }
    }
    return out
  }

  // Normalize, then redact paths and scrub in one walk.
  #scrub(value: unknown): unknown {
    const scrubber = this.#scrubber
    return scrubber.walk(scrubber.normalize(value), this.#walk).value
  }
}

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// `out[key] = v` would set the prototype for "__proto__"; define it as an own property.
function define(out: Fields, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}
