import { InvalidArgumentError } from '../errors.js'
import { AhoCorasick } from './aho-corasick.js'
import { DetectorGate } from './detector-gate.js'
import { DETECTORS } from './detectors.js'
import { findSdkMarkers, onlySdkOutput } from './scan-markers.js'
import { foldBase64Alphabet, secretEncodings } from './secret-matcher.js'
import { SensitiveKeyMatcher } from './sensitive-keys.js'
import { SpanList } from './span-list.js'
import { REGISTERED_SECRET_RULE } from './transform.js'

/**
 * The rule id of a canary found by a leak scan.
 *
 * @example
 * ```ts
 * findings.filter((f) => f.rule === CANARY_RULE)
 * ```
 */
export const CANARY_RULE = 'canary'

/**
 * The shortest canary or registered secret a scan accepts, as the Scrubber's
 * default `scrub.minSecretLength`: shorter ones match ordinary text.
 *
 * @example
 * ```ts
 * new LeakMatcher({ registered: ['abc'] }) // throws ERR_INVALID_ARGUMENT
 * ```
 */
export const MIN_SCAN_SECRET_LENGTH = 5

/**
 * A canary to look for: a fake secret a test planted. `generateCanaries()`
 * of `airlock-sdk/testing` makes these; a plain string is a canary too.
 *
 * @example
 * ```ts
 * const canary: ScanCanary = { secret: 'ghp_…', kind: 'github-token', marker: 'Q3xZ…' }
 * ```
 */
export interface ScanCanary {
  /** What must never reach the control plane. Matched exactly, and JSON-escaped. */
  readonly secret: string
  /** What kind of secret it imitates, for reports. */
  readonly kind?: string
  /** Its unique random part, for reports. */
  readonly marker?: string
  /**
   * `registered-secret` for a canary the test registers with the scrubber:
   * it is then matched in every encoding the Scrubber masks as well
   * (URL-encoded, JSON-escaped, base64).
   */
  readonly rule?: string
}

/**
 * Options of {@link LeakMatcher}.
 *
 * @example
 * ```ts
 * const options: LeakMatcherOptions = { canaries: generateCanaries(), registered: [process.env.DB_PASSWORD!] }
 * ```
 */
export interface LeakMatcherOptions {
  /** Canaries to look for. */
  readonly canaries?: readonly (string | ScanCanary)[]
  /** Known secrets: matched as the Scrubber masks them, with their encodings. */
  readonly registered?: readonly string[]
  /**
   * Whether the built-in detectors and sensitive key names run (default
   * `true`). `false` looks for canaries and registered secrets only.
   */
  readonly detectors?: boolean
}

/**
 * One match in one string: `[start, end)` and the rule that found it. For a
 * canary, `canary` is its index in the options' `canaries`.
 *
 * @example
 * ```ts
 * const match: LeakMatch = { rule: 'email', start: 5, end: 20 }
 * ```
 */
export interface LeakMatch {
  readonly rule: string
  readonly start: number
  readonly end: number
  readonly canary?: number
}

interface PatternEntry {
  readonly rule: string
  readonly canary: number | undefined
}

// Rule numbers in the hit list: detectors by their index in DETECTORS, then this for canaries and secrets.
const PATTERN_RULE = DETECTORS.length
const NO_MATCHES: readonly LeakMatch[] = Object.freeze([])

/**
 * The text matcher of the leak scan (`airlock audit scan`, `scanLedger`,
 * `expectNoLeaks`). Unlike the Scrubber, it answers to no policy: it runs
 * every built-in detector, always, plus the canaries and registered secrets
 * it was given, and reports every match of every rule (overlaps included),
 * so each rule that would have fired is named.
 *
 * What the SDK itself wrote is not a leak: a detector match made only of SDK
 * markers (`[REDACTED:…]`, `[airlock:…]`, `alk1.`/`alkv1.` tokens, `fp1.`
 * fingerprints; see {@link findSdkMarkers}) and `*` (the `mask` action) is
 * dropped, so `"token": "[REDACTED:sensitive-key]"` is not a
 * `secret-assignment`. Canaries and registered secrets are reported wherever
 * they occur, markers or not.
 *
 * Canaries and registered secrets share one Aho-Corasick automaton, folded
 * like the Scrubber's (base64url's `-` and `_` match `+` and `/`), so a scan
 * costs the same per character with 10 of them or 10,000.
 *
 * @example
 * ```ts
 * const matcher = new LeakMatcher({ canaries: ['canary-4f9a1c'] })
 * matcher.scan('mail ada@example.com, id canary-4f9a1c')
 * // [{ rule: 'canary', start: 25, end: 38, canary: 0 }, { rule: 'email', start: 5, end: 20 }]
 * matcher.scan('password=[REDACTED:secret-assignment]') // []
 * ```
 */
export class LeakMatcher {
  /** The sensitive key names (defaults only): what `scanEvent` checks keys against. */
  readonly sensitiveKeys = new SensitiveKeyMatcher()
  /** Whether detectors and sensitive key names run. */
  readonly detectors: boolean
  readonly #gate: DetectorGate
  readonly #patterns: AhoCorasick | null
  readonly #entries = new Map<string, PatternEntry>()
  readonly #hits = new SpanList()
  readonly #markers = new SpanList()

  /** @throws InvalidArgumentError when a canary or registered secret is not a string of 5 characters or more. */
  constructor(options: LeakMatcherOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('LeakMatcher expects an options object: { canaries?, registered?, detectors? }')
    }
    this.detectors = options.detectors ?? true
    // Rule numbers are indexes in DETECTORS, which `scan` maps back to ids.
    this.#gate = new DetectorGate(
      DETECTORS.map((detector, rule) => ({ detector, rule })),
      { sensitiveKeys: this.sensitiveKeys },
    )

    const patterns: { text: string; tag: number }[] = []
    const add = (text: string, entry: PatternEntry): void => {
      const folded = foldBase64(text)
      if (this.#entries.has(folded)) return
      this.#entries.set(folded, entry)
      patterns.push({ text, tag: 0 })
    }
    listOf(options.canaries, 'canaries').forEach((item, i) => {
      const canary = typeof item === 'string' ? { secret: item } : item
      const secret = checkedSecret(typeof canary === 'object' && canary !== null ? canary.secret : undefined, `canaries[${i}]`)
      const entry = { rule: CANARY_RULE, canary: i }
      if (canary.rule === REGISTERED_SECRET_RULE) for (const form of secretEncodings(secret)) add(form, entry)
      else for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) add(form, entry)
    })
    listOf(options.registered, 'registered').forEach((item, i) => {
      const secret = checkedSecret(item, `registered[${i}]`)
      for (const form of secretEncodings(secret)) add(form, { rule: REGISTERED_SECRET_RULE, canary: undefined })
    })
    this.#patterns = patterns.length === 0 ? null : AhoCorasick.build(patterns, foldBase64Alphabet)
  }

  /**
   * Every match in `text`, in no particular order; an empty (shared, frozen)
   * array when there is none.
   */
  scan(text: string): readonly LeakMatch[] {
    if (text.length === 0) return NO_MATCHES
    const hits = this.#hits
    hits.reset()
    this.#patterns?.findLongest(text, hits, PATTERN_RULE)
    if (this.detectors) this.#gate.run(text, hits)
    if (hits.count === 0) return NO_MATCHES

    const markers = this.#markers
    markers.reset()
    findSdkMarkers(text, markers, 0)
    markers.resolve()
    const out: LeakMatch[] = []
    for (let k = 0; k < hits.count; k++) {
      const start = hits.start[k]!
      const end = hits.end[k]!
      const rule = hits.rule[k]!
      if (rule === PATTERN_RULE) {
        const entry = this.#entries.get(foldBase64(text.slice(start, end)))!
        out.push(entry.canary === undefined ? { rule: entry.rule, start, end } : { rule: entry.rule, start, end, canary: entry.canary })
      } else if (!onlySdkOutput(text, start, end, markers)) {
        out.push({ rule: DETECTORS[rule]!.id, start, end })
      }
    }
    return out.length === 0 ? NO_MATCHES : out
  }

  /**
   * Whether all of `text` is SDK output (markers, tokens, fingerprints, `*`):
   * such a value under a sensitive key name is the scrubber's work, not a leak.
   *
   * @example
   * ```ts
   * matcher.isSdkOutput('[REDACTED:sensitive-key]') // true
   * matcher.isSdkOutput('hunter2')                  // false
   * ```
   */
  isSdkOutput(text: string): boolean {
    const markers = this.#markers
    markers.reset()
    findSdkMarkers(text, markers, 0)
    markers.resolve()
    return onlySdkOutput(text, 0, text.length, markers)
  }
}

function foldBase64(text: string): string {
  return text.replace(/[-_]/g, (c) => (c === '-' ? '+' : '/'))
}

function listOf<T>(value: readonly T[] | undefined, name: string): readonly T[] {
  if (value === undefined) return []
  const list: unknown = value
  if (!Array.isArray(list)) throw new InvalidArgumentError(`LeakMatcher expects options.${name} to be an array`)
  return value
}

function checkedSecret(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`LeakMatcher expects ${where} to be a string (or a canary with a string secret), got ${typeof value}`)
  if (value.length < MIN_SCAN_SECRET_LENGTH) {
    throw new InvalidArgumentError(`LeakMatcher expects ${where} to be at least ${MIN_SCAN_SECRET_LENGTH} characters, got ${value.length}`)
  }
  return value
}
