import { InvalidArgumentError } from '../errors.js'
import { maskPreview } from './scan-preview.js'
import type { LeakMatcher } from './scan-text.js'
import { SENSITIVE_KEY_RULE, joinTransformPath, renderPathSegment } from './transform.js'

/**
 * One finding in one event: where (`path`, and whether the key or the value
 * there matched), which rule, and a masked preview of what matched. For a
 * canary, `canary` is its index in the matcher's canaries.
 *
 * `path` is written as the Scrubber writes transform paths: `fields.note`,
 * `failure.causes[0].message`, `parameters["x-api"]`. A key that is itself a
 * finding appears masked, as `[key:AK********7X]`, in its own path and every
 * path below it: a path never spells out what was found.
 *
 * @example
 * ```ts
 * const finding: EventFinding = { path: 'fields.note', part: 'value', rule: 'github-token', preview: 'gh********yz' }
 * ```
 */
export interface EventFinding {
  readonly path: string
  readonly part: 'key' | 'value'
  readonly rule: string
  readonly preview: string
  readonly canary?: number
}

/**
 * Envelope members the SDK stamps itself, in formats no secret can take
 * (events wire format v1): skipped at the top level of an event, but only
 * when their value has that format. `runId`, `taskRunId`, names and
 * everything else come from the caller, so they are scanned.
 */
const ENVELOPE: Readonly<Record<string, RegExp>> = {
  // `v`, and the event's `kind`: a small number, a lower-case word.
  v: /^[0-9]{1,4}$/,
  kind: /^[a-z][a-z-]{0,31}$/,
  id: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  time: /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})$/,
  policyHash: /^ph[0-9]{1,3}\.[A-Za-z0-9_-]{1,128}$/,
}

/** Deeper than any ledger event (canonical JSON stops at 256): a deeper value is not JSON from the wire. */
const MAX_DEPTH = 1024
// As the Scrubber's walker: integers this large may be card numbers; smaller ones match no detector.
const SCANNED_INTEGER = 1e12
const MAX_PATH_KEY = 64

type Segment = string | number | { readonly masked: string }

/**
 * Scans one outbound event (its JSON, as the control plane received it):
 * every key and every string value, at any depth, with `matcher` (see
 * {@link LeakMatcher}); integers of 13 digits or more as their digits (card
 * numbers). When the matcher's detectors are on, a value under a sensitive
 * key name (`password`, `apiKey`, `x-auth-token`; any depth below it) that
 * is not SDK output is a finding of rule `sensitive-key`: the Scrubber would
 * have redacted it whole.
 *
 * The envelope's `v`, `kind`, `id`, `time` and `policyHash` are skipped when
 * their value has the format the SDK stamps (a UUID, an ISO time, `ph1.…`).
 *
 * @throws InvalidArgumentError when the value nests deeper than 1024 levels (or has a cycle): it is not wire JSON.
 * @example
 * ```ts
 * scanEvent({ kind: 'log', msg: 'mail ada@example.com', fields: { password: 'hunter22' } }, new LeakMatcher())
 * // [{ path: 'msg', part: 'value', rule: 'email', preview: 'a********m' },
 * //  { path: 'fields.password', part: 'value', rule: 'sensitive-key', preview: 'h******2' }]
 * ```
 */
export function scanEvent(event: unknown, matcher: LeakMatcher): EventFinding[] {
  const scan = new EventScan(matcher)
  scan.value(event, 0, false)
  return scan.findings
}

class EventScan {
  readonly findings: EventFinding[] = []
  readonly #matcher: LeakMatcher
  readonly #path: Segment[] = []

  constructor(matcher: LeakMatcher) {
    this.#matcher = matcher
  }

  value(value: unknown, depth: number, sensitive: boolean): void {
    if (depth > MAX_DEPTH) throw new InvalidArgumentError(`an event nests deeper than ${MAX_DEPTH} levels (or has a cycle); it is not wire JSON`)
    switch (typeof value) {
      case 'string':
        this.#string(value, sensitive)
        return
      case 'number':
        if (sensitive) this.#sensitive(String(value))
        else if (Number.isInteger(value) && Math.abs(value) >= SCANNED_INTEGER) this.#string(String(value), false)
        return
      case 'object':
        if (value === null) return
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            this.#path.push(i)
            this.value(value[i], depth + 1, sensitive)
            this.#path.pop()
          }
          return
        }
        for (const key of Object.keys(value)) this.#member(key, (value as Record<string, unknown>)[key], depth, sensitive)
        return
      default:
        // booleans say nothing secret; undefined, functions and symbols do not survive JSON.
        return
    }
  }

  #member(key: string, item: unknown, depth: number, sensitive: boolean): void {
    const matches = this.#matcher.scan(key)
    this.#path.push(matches.length === 0 ? key : { masked: maskPreview(key) })
    for (const m of matches) this.#add('key', m.rule, key.slice(m.start, m.end), m.canary)
    const envelope = depth === 0 ? ENVELOPE[key] : undefined
    const skipped = envelope !== undefined && (typeof item === 'string' || typeof item === 'number') && envelope.test(String(item))
    if (!skipped) {
      const underSecretKey = sensitive || (this.#matcher.detectors && this.#matcher.sensitiveKeys.matches(key))
      this.value(item, depth + 1, underSecretKey)
    }
    this.#path.pop()
  }

  #string(text: string, sensitive: boolean): void {
    for (const m of this.#matcher.scan(text)) this.#add('value', m.rule, text.slice(m.start, m.end), m.canary)
    if (sensitive) this.#sensitive(text)
  }

  #sensitive(text: string): void {
    if (text !== '' && !this.#matcher.isSdkOutput(text)) this.#add('value', SENSITIVE_KEY_RULE, text, undefined)
  }

  #add(part: 'key' | 'value', rule: string, matched: string, canary: number | undefined): void {
    const finding = { path: this.#pathString(), part, rule, preview: maskPreview(matched) }
    this.findings.push(canary === undefined ? finding : { ...finding, canary })
  }

  #pathString(): string {
    if (this.#path.length === 0) return '$'
    let out = ''
    for (const segment of this.#path) {
      if (typeof segment === 'object') out += `[key:${segment.masked}]`
      else if (typeof segment === 'number') out = joinTransformPath(out, renderPathSegment(segment))
      else out = joinTransformPath(out, renderPathSegment(segment.length > MAX_PATH_KEY ? `${segment.slice(0, MAX_PATH_KEY)}…` : segment))
    }
    return out
  }
}
