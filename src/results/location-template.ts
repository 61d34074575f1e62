import { randomUUID } from 'node:crypto'
import { InvalidArgumentError, TemplateKeyError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'

/**
 * What a location template is formatted with: the runtime passes `flowName`,
 * `taskName`, `taskRunId`, `flowRunId`, `mapIndex` and `parameters`; any
 * other key works the same way.
 *
 * @example
 * ```ts
 * const context: TemplateContext = { taskName: 'load', mapIndex: 3, parameters: { region: 'eu' } }
 * new LocationTemplate('{taskName}/{parameters.region}/{mapIndex}.json').format(context)   // 'load/eu/3.json'
 * ```
 */
export type TemplateContext = Readonly<Record<string, unknown>>

interface Placeholder {
  /** The placeholder as written, `parameters.x`: what a TemplateKeyError names. */
  readonly key: string
  readonly path: readonly string[]
}

type Part = string | Placeholder

const KEY = /^[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*$/
const ONLY_DOTS = /^\.+$/
const BUILT_IN_KEYS = ['today', 'date', 'randomId'] as const

/**
 * A location template such as `'{flowName}/{taskName}/{taskRunId}.json'`,
 * parsed once at construction and formatted with a {@link TemplateContext}.
 *
 * Syntax: `{key}` is replaced by the context's value; `{a.b.c}` looks up
 * own properties step by step (`{parameters.region}`); `{{` and `}}` are a
 * literal brace. A lone brace or an empty or malformed placeholder is an
 * `InvalidArgumentError` at construction.
 *
 * Built-in keys, used when the context does not provide them:
 * - `{today}`: the UTC date, `2026-11-21`;
 * - `{date}`: the UTC date and time in ISO-8601 basic format, `20261121T093000Z`
 *   (no `:`, which some file systems refuse);
 * - `{randomId}`: a fresh random UUID on every format.
 *
 * Values: strings, finite numbers, booleans, bigints and valid Dates (as
 * ISO-8601 text) are accepted; other types, and empty strings, are an
 * `InvalidArgumentError` naming the key and the type (never the value). A
 * key the context lacks, or holds as `undefined` or `null`, is a
 * `TemplateKeyError` listing the keys that are available, names only.
 *
 * A value fills exactly one path segment, or part of one; it can never add
 * a directory level or climb out of one. So `%`, `/`, `\` and control
 * characters in a value are percent-encoded (`a/b` becomes `a%2Fb`), and a
 * value made only of dots (`.`, `..`) has every dot encoded (`%2E%2E`).
 * Literal text in the template is kept as written: backends check the
 * formatted location as a whole, so a template that itself climbs (`../x`)
 * is still refused by `LocalResult`.
 *
 * @example
 * ```ts
 * import { LocationTemplate } from 'airlock-sdk'
 *
 * const template = new LocationTemplate('{flowName}/{parameters.region}/{today}.json')
 * template.format({ flowName: 'etl', parameters: { region: 'eu/west' } })
 * // 'etl/eu%2Fwest/2026-11-21.json'
 * template.format({ flowName: 'etl' })
 * // throws ERR_TEMPLATE_KEY_UNKNOWN: ... uses {parameters.region} ...; available keys: flowName, today, date, randomId
 * ```
 */
export class LocationTemplate {
  /** The template as written. */
  readonly source: string
  readonly #parts: readonly Part[]

  constructor(source: string) {
    if (typeof source !== 'string' || source === '') {
      throw new InvalidArgumentError(`a location template is a non-empty string, found ${describeType(source)}`)
    }
    this.source = source
    this.#parts = parse(source)
  }

  /**
   * The default template of a result whose serializer writes `format`:
   * `{today}/{randomId}.<format>`, such as `2026-11-21/0b5e...c1.json`.
   * Partitioned by day so a directory never grows without bound, with a
   * random name so two writes never collide.
   *
   * @example
   * ```ts
   * LocationTemplate.default('json').source // '{today}/{randomId}.json'
   * ```
   */
  static default(format: string): LocationTemplate {
    return new LocationTemplate(`{today}/{randomId}.${format}`)
  }

  /**
   * The location for one context.
   *
   * @throws {TemplateKeyError} when the context lacks a key the template uses.
   * @throws {InvalidArgumentError} when a value is of a type a location cannot hold.
   *
   * @example
   * ```ts
   * new LocationTemplate('{taskName}/{mapIndex}.json').format({ taskName: 'load', mapIndex: 3 }) // 'load/3.json'
   * ```
   */
  format(context: TemplateContext = {}): string {
    if (typeof context !== 'object' || context === null) {
      throw new InvalidArgumentError(`a template context is an object, found ${describeType(context)}`)
    }
    let out = ''
    let now: Date | undefined
    for (const part of this.#parts) {
      if (typeof part === 'string') {
        out += part
        continue
      }
      let value = lookup(context, part)
      if (value === undefined) {
        const head = part.path[0] as string
        if (part.path.length > 1 || !isBuiltIn(head)) throw missing(context, part)
        now ??= new Date()
        value = builtIn(head, now)
      }
      out += segmentText(part.key, value)
    }
    return out
  }

  /** The template as written; it holds placeholders, never values. */
  toString(): string {
    return this.source
  }
}

function parse(source: string): Part[] {
  const parts: Part[] = []
  let literal = ''
  let i = 0
  while (i < source.length) {
    const char = source[i] as string
    if (char === '}') {
      if (source[i + 1] !== '}') throw new InvalidArgumentError(`location template has an unmatched } at offset ${i}`)
      literal += '}'
      i += 2
    } else if (char !== '{') {
      literal += char
      i++
    } else if (source[i + 1] === '{') {
      literal += '{'
      i += 2
    } else {
      const close = source.indexOf('}', i + 1)
      if (close === -1) throw new InvalidArgumentError(`location template has an unclosed { at offset ${i}`)
      const key = source.slice(i + 1, close)
      if (!KEY.test(key)) {
        throw new InvalidArgumentError(
          `location template has a malformed placeholder at offset ${i}: expected {name} or {name.sub} of [A-Za-z0-9_$-]`,
        )
      }
      if (literal !== '') parts.push(literal)
      literal = ''
      parts.push({ key, path: key.split('.') })
      i = close + 1
    }
  }
  if (literal !== '') parts.push(literal)
  return parts
}

function lookup(context: TemplateContext, part: Placeholder): unknown {
  let node: unknown = context
  for (const step of part.path) {
    // Own properties only: `{constructor}` must not find Object.prototype.constructor.
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, step)) return undefined
    node = (node as Record<string, unknown>)[step]
  }
  return node ?? undefined
}

function isBuiltIn(key: string): key is (typeof BUILT_IN_KEYS)[number] {
  return (BUILT_IN_KEYS as readonly string[]).includes(key)
}

function builtIn(key: (typeof BUILT_IN_KEYS)[number], now: Date): string {
  if (key === 'randomId') return randomUUID()
  const iso = now.toISOString()
  if (key === 'today') return iso.slice(0, 10)
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`
}

function missing(context: TemplateContext, part: Placeholder): TemplateKeyError {
  // Name the keys at the level where the lookup stopped, so `{parameters.y}`
  // lists `parameters.x`, not every top-level key.
  let node: unknown = context
  let depth = 0
  while (depth < part.path.length - 1) {
    const step = part.path[depth] as string
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, step)) break
    node = (node as Record<string, unknown>)[step]
    depth++
  }
  const prefix = part.path.slice(0, depth).map((s) => `${s}.`).join('')
  const available =
    typeof node === 'object' && node !== null
      ? Object.keys(node)
          .filter((k) => (node as Record<string, unknown>)[k] != null)
          .map((k) => prefix + k)
      : []
  if (depth === 0) for (const key of BUILT_IN_KEYS) if (!available.includes(key)) available.push(key)
  return new TemplateKeyError(part.key, available)
}

function segmentText(key: string, value: unknown): string {
  let text: string
  switch (typeof value) {
    case 'string':
      if (value === '') throw new InvalidArgumentError(`template key {${key}} is an empty string; a location segment cannot be empty`)
      text = value
      break
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`template key {${key}} is a non-finite number`)
      text = String(value)
      break
    case 'boolean':
    case 'bigint':
      text = String(value)
      break
    default:
      if (value instanceof Date && !Number.isNaN(value.getTime())) {
        text = value.toISOString()
        break
      }
      throw new InvalidArgumentError(
        `template key {${key}} is ${describeType(value)}; a placeholder takes a string, number, boolean, bigint or valid Date`,
      )
  }
  if (ONLY_DOTS.test(text)) return text.replaceAll('.', '%2E')
  // One pass, and no allocation when nothing needs encoding (the usual case).
  let out = ''
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    // `%`, `/`, `\`, C0 controls and DEL: what would let a value add, climb or hide a segment.
    if (c === 0x25 || c === 0x2f || c === 0x5c || c < 0x20 || c === 0x7f) {
      out += `${text.slice(start, i)}%${c.toString(16).toUpperCase().padStart(2, '0')}`
      start = i + 1
    }
  }
  return start === 0 ? text : out + text.slice(start)
}
