import { InvalidArgumentError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { DETECTOR_IDS, type DetectorId } from '../policy/detector-ids.js'
import { AhoCorasick } from './aho-corasick.js'
import { DetectorGate, KeywordFindings } from './detector-gate.js'
import { BLANK_UNIT, findBesideMatches } from './glued-matches.js'
import { DETECTORS } from './detectors.js'
import { EscapeDecoder, SEPARATOR_UNIT } from './escape-decoder.js'
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
  /** What must never reach the control plane. Matched exactly, JSON-escaped, and behind any escaping the decoded views undo. */
  readonly secret: string
  /** What kind of secret it imitates, for reports. */
  readonly kind?: string
  /** Its unique random part, for reports. */
  readonly marker?: string
  /**
   * `registered-secret` for a canary the test registers with the scrubber:
   * it is then matched in every encoding the Scrubber masks as well
   * (base64 and the rest of `secretEncodings`).
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
   * `true`). `false` looks for canaries and registered secrets only. Or a
   * policy's `scrub.detectors` (`{ ipv4: false, email: 'mask' }`): a
   * detector set to `false` there does not run, every other one does, so
   * the scan follows the policy's switches (`airlock audit scan --policy`).
   */
  readonly detectors?: boolean | Readonly<Partial<Record<DetectorId, boolean | string>>>
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
 * `expectNoLeaks`). Unlike the Scrubber, it applies no actions: it runs
 * every built-in detector (but those a policy's `scrub.detectors` map given
 * as `detectors` switches off), plus the canaries and registered secrets
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
 * Like the Scrubber, it also scans the decoded views of a string holding
 * `\` or `%` (see `EscapeDecoder`): canaries, registered secrets and
 * detectors in what the text says (canaries and secrets also as a form
 * body, when one holds a space), detectors again where escapes are
 * boundaries; so it finds what the Scrubber would have redacted. A match in a view is reported at the range of the original it
 * came from; one that only repeats a match of the same rule (and canary)
 * found earlier, inside its range, is not reported twice.
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
  /** The built-in detectors switched off by the `detectors` option's map, by id. */
  readonly off: readonly DetectorId[]
  readonly #gate: DetectorGate
  // The keyword pass of the view being scanned, and what it says of that view with matches blanked.
  readonly #keywordsFound = new KeywordFindings()
  readonly #blankedFound = new KeywordFindings()
  readonly #runGate = (view: string, sink: SpanList): void => this.#gate.runFound(view, this.#blankedFound, sink)
  readonly #patterns: AhoCorasick | null
  readonly #entries = new Map<string, PatternEntry>()
  readonly #hits = new SpanList()
  readonly #markers = new SpanList()
  readonly #decoder = new EscapeDecoder()
  /** Whether a canary or registered secret holds a space, which a form body writes as `+`. */
  readonly #formView: boolean

  /** @throws InvalidArgumentError when a canary or registered secret is not a string of 5 characters or more. */
  constructor(options: LeakMatcherOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('LeakMatcher expects an options object: { canaries?, registered?, detectors? }')
    }
    const switches = detectorSwitches(options.detectors)
    this.detectors = switches !== false
    this.off = switches === false || switches === true ? [] : DETECTOR_IDS.filter((id) => switches[id] === false)
    // Rule numbers are indexes in DETECTORS, which `scan` maps back to ids.
    this.#gate = new DetectorGate(
      DETECTORS.map((detector, rule) => ({ detector, rule })).filter(({ detector }) => !this.off.includes(detector.id)),
      { sensitiveKeys: this.sensitiveKeys },
    )

    const patterns: { text: string; tag: number }[] = []
    let spaced = false
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
      if (secret.includes(' ')) spaced = true
      if (canary.rule === REGISTERED_SECRET_RULE) for (const form of secretEncodings(secret)) add(form, entry)
      else for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) add(form, entry)
    })
    listOf(options.registered, 'registered').forEach((item, i) => {
      const secret = checkedSecret(item, `registered[${i}]`)
      if (secret.includes(' ')) spaced = true
      for (const form of secretEncodings(secret)) add(form, { rule: REGISTERED_SECRET_RULE, canary: undefined })
    })
    this.#patterns = patterns.length === 0 ? null : AhoCorasick.build(patterns, foldBase64Alphabet)
    this.#formView = spaced
  }

  /**
   * Every match in `text`, in no particular order; an empty (shared, frozen)
   * array when there is none.
   */
  scan(text: string): readonly LeakMatch[] {
    if (text.length === 0) return NO_MATCHES
    let out = this.#scanView(text, true, this.detectors, false, null)
    const original = out?.length ?? 0
    const decoder = this.#decoder
    decoder.begin(text, this.#formView)
    while (decoder.next()) {
      const { decoded, formDecoded } = decoder
      if (decoded !== null) out = this.#scanView(decoded, true, this.detectors, true, out)
      // Scanned right after `decoded`, whose keyword pass serves it (see scanView).
      if (this.detectors && decoder.separates) out = this.#scanView(decoder.separated!, false, true, true, out, true)
      if (formDecoded !== null) out = this.#scanView(formDecoded, true, false, true, out)
    }
    if (out === null) return NO_MATCHES
    return out.length === original ? out : withoutRepeats(out, original)
  }

  // Scans one view of the text (the text itself, or one of the decoder's current views)
  // with the patterns, the detectors or both, and appends its matches to `out` at their
  // range in the original. Returns `out`, made on the first match: a clean string allocates nothing.
  // `separated`: the view is the decoder's separated view, and the last view scanned with detectors its decoded one.
  #scanView(view: string, patterns: boolean, detectors: boolean, decoded: boolean, found: LeakMatch[] | null, separated = false): LeakMatch[] | null {
    const hits = this.#hits
    hits.reset()
    if (patterns) this.#patterns?.findLongest(view, hits, PATTERN_RULE)
    if (detectors) {
      const keywords = this.#keywordsFound
      if (separated) this.#gate.widen(keywords, SEPARATOR_UNIT, keywords)
      else this.#gate.scan(view, keywords)
      this.#gate.runFound(view, keywords, hits)
      this.#gate.widen(keywords, BLANK_UNIT, this.#blankedFound)
      findBesideMatches(view, hits, this.#runGate)
    }
    if (hits.count === 0) return found
    const out = found ?? []

    // SDK markers are recognised in the view the detector read, at its positions.
    const markers = this.#markers
    let markersFound = false
    const decoder = this.#decoder
    for (let k = 0; k < hits.count; k++) {
      const start = hits.start[k]!
      const end = hits.end[k]!
      const rule = hits.rule[k]!
      const from = decoded ? decoder.originStart(start) : start
      const to = decoded ? decoder.originEnd(end) : end
      if (rule === PATTERN_RULE) {
        const entry = this.#entries.get(foldBase64(view.slice(start, end)))!
        out.push(entry.canary === undefined ? { rule: entry.rule, start: from, end: to } : { rule: entry.rule, start: from, end: to, canary: entry.canary })
        continue
      }
      if (!markersFound) {
        markers.reset()
        findSdkMarkers(view, markers, 0)
        markers.resolve()
        markersFound = true
      }
      if (!onlySdkOutput(view, start, end, markers)) out.push({ rule: DETECTORS[rule]!.id, start: from, end: to })
    }
    return out.length === 0 ? found : out
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

// `matches` without each match at or after `first` (found in a decoded view) that lies inside an
// earlier-sorted match of the same rule and canary: the same finding, seen again through a view.
// Sorting makes it O(n log n) however many matches a hostile string holds.
function withoutRepeats(matches: LeakMatch[], first: number): LeakMatch[] {
  const order = matches.map((_, i) => i)
  order.sort((a, b) => {
    const x = matches[a]!
    const y = matches[b]!
    if (x.rule !== y.rule) return x.rule < y.rule ? -1 : 1
    if (x.canary !== y.canary) return (x.canary ?? -1) - (y.canary ?? -1)
    return x.start - y.start || y.end - x.end || a - b
  })
  const repeated = new Uint8Array(matches.length)
  // The furthest end among the matches sorted before, of the current rule and canary: they all start at or before this one.
  let reach = -1
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!
    const m = matches[i]!
    const previous = k === 0 ? undefined : matches[order[k - 1]!]!
    if (previous === undefined || previous.rule !== m.rule || previous.canary !== m.canary) reach = -1
    if (i >= first && m.end <= reach) repeated[i] = 1
    else if (m.end > reach) reach = m.end
  }
  return matches.filter((_, i) => repeated[i] === 0)
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

function detectorSwitches(option: unknown): boolean | Readonly<Record<string, unknown>> {
  if (option === undefined) return true
  if (typeof option === 'boolean') return option
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new InvalidArgumentError(`LeakMatcher option detectors must be a boolean or a policy's scrub.detectors map, found ${describeType(option)}`)
  }
  const known: ReadonlySet<string> = new Set(DETECTOR_IDS)
  for (const id of Object.keys(option)) {
    if (!known.has(id)) throw new InvalidArgumentError(`LeakMatcher option detectors names no built-in detector ${JSON.stringify(id)}`)
  }
  return option as Readonly<Record<string, unknown>>
}
