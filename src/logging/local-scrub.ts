import { redactPathRuleSet } from '../policy/redact-paths.js'
import { WITHHELD_MARKER } from '../scrub/markers.js'
import type { Scrubber } from '../scrub/scrubber.js'
import type { WalkOptions } from '../scrub/walk.js'

type Fields = Record<string, unknown>

/** The key a whole record or bindings object goes under when the scrubber withheld it (a bound broken). */
const WITHHELD_KEY = 'withheld'
/** The key a logged object that is not a record (a Buffer, an array, a boxed string) is written under, whole. */
export const NON_RECORD_KEY = 'value'

/**
 * Where pino put each part of one line, as the logger's destination saw it:
 * `prefix` characters of level and time (pino's own, written as they are),
 * then `bindings` characters of the logger's serialized bindings, then the
 * record's fields and message, then pino's line end.
 *
 * @example
 * ```ts
 * const layout: LineLayout = { prefix: 33, bindings: 41 }
 * ```
 */
export interface LineLayout {
  readonly prefix: number
  readonly bindings: number
}

/**
 * Scrubs pino's NDJSON lines value by value, in the logger's scrubbing
 * thread (see `ScrubThread`): each line is parsed, its bindings and its
 * fields go through the one value model (normalized, then the policy's
 * `logs.redactPaths` and scrubbing in one walk, as the boundary does to the
 * shipped copy), and the line is written again in pino's layout.
 *
 * Why values and not the serialized line as text, checked against this
 * scrubber: JSON escaping glues letters to tokens; a match that starts
 * right after an escape's backslash (`\nada@example.com`) turns into
 * `\[REDACTED…`, which is not JSON; and only the structure says that an
 * object, array or number sits under a key that names a secret.
 *
 * What arrives is already what the value model makes of the record: the
 * logger serializes anything that is not plain JSON data (errors, bytes,
 * Maps, class instances, values that throw) through `Scrubber.normalize`
 * on the calling thread, so bytes arrive as a `[binary N bytes]` marker,
 * never spelled out (see `valueModelStringify`).
 *
 * Bindings repeat on every line of a logger: each distinct bindings text is
 * scrubbed once and kept until the scrubber learns a new secret.
 *
 * @example
 * ```ts
 * const lines = new LineScrubber(scrubber, policy.logs.redactPaths)
 * lines.scrub(line, { prefix, bindings }) // the line, scrubbed, in pino's layout
 * ```
 */
export class LineScrubber {
  readonly #scrubber: Scrubber
  readonly #walk: WalkOptions
  readonly #bindings = new Map<string, string>()
  #generation = -1

  constructor(scrubber: Scrubber, redactPaths: readonly string[]) {
    this.#scrubber = scrubber
    this.#walk = { rules: redactPaths.length === 0 ? undefined : redactPathRuleSet(redactPaths) }
  }

  /** One line as pino wrote it (its end included); never throws, never returns anything unscrubbed. */
  scrub(line: string, layout: LineLayout): string {
    try {
      return this.#scrubLine(line, layout)
    } catch {
      // Not the layout expected, or not JSON: scrub it as text, weaker (see above) but never raw.
      try {
        return this.#scrubber.scrubString(line)
      } catch {
        return `{"${WITHHELD_KEY}":${JSON.stringify(WITHHELD_MARKER)}}\n`
      }
    }
  }

  #scrubLine(line: string, { prefix, bindings }: LineLayout): string {
    // pino ends a line with `}` and its end of line; everything between the bindings and it is fields and message.
    const close = line.lastIndexOf('}')
    const start = prefix + bindings
    if (close < start) throw new RangeError('line shorter than its layout')
    const head = line.slice(0, prefix)
    const scrubbedBindings = this.#scrubbedBindings(line.slice(prefix, start))
    const rest = line.slice(start, close)
    return head + scrubbedBindings + this.#scrubbedFields(rest) + line.slice(close)
  }

  #scrubbedBindings(raw: string): string {
    if (raw === '') return ''
    const scrubber = this.#scrubber
    if (this.#generation !== scrubber.size) {
      this.#generation = scrubber.size
      this.#bindings.clear()
    }
    let scrubbed = this.#bindings.get(raw)
    if (scrubbed === undefined) {
      scrubbed = this.#members(raw)
      if (this.#bindings.size >= 1024) this.#bindings.clear()
      this.#bindings.set(raw, scrubbed)
    }
    return scrubbed
  }

  #scrubbedFields(raw: string): string {
    return raw === '' ? '' : this.#members(raw)
  }

  // `,"a":1,"b":{…}` → the same members, scrubbed, in the same order.
  #members(raw: string): string {
    if (raw.charCodeAt(0) !== 44 /* , */) throw new RangeError('members start with a comma')
    const parsed: unknown = JSON.parse(`{${raw.slice(1)}}`)
    const scrubber = this.#scrubber
    const value = scrubber.walk(scrubber.normalize(parsed), this.#walk).value
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `,"${WITHHELD_KEY}":${JSON.stringify(value)}`
    let out = ''
    for (const key of Object.keys(value)) {
      const json = JSON.stringify((value as Fields)[key])
      if (json !== undefined) out += `,${JSON.stringify(key)}:${json}`
    }
    return out
  }
}
