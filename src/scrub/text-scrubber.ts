import type { RE2JS } from 're2js'
import { FINGERPRINT_PREFIX, Fingerprinter } from '../crypto/fingerprinter.js'
import type { KeyRing } from '../crypto/key-ring.js'
import { PolicyError, UnsafePatternError, type PolicyIssue } from '../errors.js'
import { compileCustomPattern } from '../policy/custom-pattern.js'
import { DETECTOR_IDS, packOf } from '../policy/detector-ids.js'
import { policyIssuesFromZod } from '../policy/policy-issues.js'
import { policySchema, type ScrubAction, type ScrubPolicy } from '../policy/schema.js'
import type { MatchSink } from './aho-corasick.js'
import { DetectorGate, KeywordFindings, type GatedDetector } from './detector-gate.js'
import { DETECTORS, DETECTORS_BY_PRECEDENCE, type DetectorContext } from './detectors.js'
import { EscapeDecoder, SEPARATOR_UNIT } from './escape-decoder.js'
import { BLANK_UNIT, findBesideMatches } from './glued-matches.js'
import { redactedMarker, truncatedMarker } from './markers.js'
import { SecretMatcher } from './secret-matcher.js'
import { SensitiveKeyMatcher } from './sensitive-keys.js'
import { SpanList } from './span-list.js'
import { REGISTERED_SECRET_RULE, SENSITIVE_KEY_RULE } from './transform.js'

// Rule numbers: 0 is registered secrets, then one per detector, then sensitive keys, then custom patterns.
const SECRET_RULE = 0
const DETECTOR_RULE_BASE = 1
/**
 * The rule number of sensitive keys, for the walker.
 *
 * @example
 * ```ts
 * engine.replaceWhole(SENSITIVE_RULE, 'hunter22') // '[REDACTED:sensitive-key]'
 * ```
 */
export const SENSITIVE_RULE = DETECTOR_RULE_BASE + DETECTOR_IDS.length
const HOME_RULE = DETECTOR_RULE_BASE + DETECTORS_BY_PRECEDENCE.findIndex((d) => d.id === 'home-path')
const HOME_DETECTOR = DETECTORS.find((d) => d.id === 'home-path')!

const BUILT_IN_RULES = new Set<string>([REGISTERED_SECRET_RULE, SENSITIVE_KEY_RULE, ...DETECTOR_IDS])

/**
 * How far past `maxStringLength` a long string is scanned, at least, before
 * the rest is dropped unread (see {@link TextScrubber.scrubBounded}): enough
 * for every built-in detector to recognise a match that starts before the
 * cut. The most any needs is about 2,200 code units (secret-assignment: a
 * quoted key of 64, blanks, then a quoted value of 1,024 escape pairs); URL
 * credentials need 516, emails 320, a Basic credential its user name, the
 * rest less than 100. PEM blocks and
 * JWTs, which have no length bound, are recognised from their first 72 and
 * 11 characters and redacted to the end of the scanned text when it ends
 * inside them. Registered secrets raise the margin to their longest encoding
 * when that is longer. Custom patterns are not bounded: a match that needs
 * more than the margin past the cut to complete is not found, so the part of
 * it before the cut is kept. The same holds of a match found in a decoded
 * view (see {@link EscapeDecoder}) whose escape sequences make it longer in
 * the text than the margin: a 1,024-character assignment value written all
 * in `\uXXXX` escapes, say.
 *
 * @example
 * ```ts
 * // With maxStringLength 8192 and no secret longer than 4096, a 50 MB string costs a 12,288-character scan.
 * engine.maxStringLength + Math.max(DETECTOR_REACH, engine.secrets.longest) // 12_288
 * ```
 */
export const DETECTOR_REACH = 4096

interface CustomPattern {
  readonly re: RE2JS
  readonly rule: number
}

/**
 * What scrubbing one object key gave: the key as it may leave and the rule
 * numbers that changed it (none, mostly).
 *
 * @example
 * ```ts
 * const verdict: KeyVerdict = engine.scrubKey('user.email', false) // { text: 'user.email', rules: [] }
 * ```
 */
export interface KeyVerdict {
  readonly text: string
  readonly rules: readonly number[]
}

// Keys repeat (an application writes the same few hundred attribute and field names): their verdicts are kept,
// while no secret is registered since, up to this many, then forgotten and learnt again. Values are never kept.
const KEY_MEMO_LIMIT = 1024
// Longer keys are data more than names; they are scrubbed every time.
const MEMO_KEY_LENGTH = 128
const NO_RULES: readonly number[] = Object.freeze([])

/**
 * The string engine behind {@link Scrubber}: compiles a `scrub` policy into
 * rules, finds matches (registered secrets, then keyword-gated detectors,
 * then custom patterns), resolves overlaps and applies each rule's action.
 * Not exported from the package: use `Scrubber`.
 *
 * A string holding `\` or `%` is scanned again in its decoded views (see
 * {@link EscapeDecoder}), up to three levels deep: registered secrets in
 * what the text says (and, when one holds a space, in the text read as a
 * form body), detectors and custom patterns there too, and, when an escape
 * decodes to a letter or digit, once more with escapes as boundaries.
 * Their matches are mapped back onto the original, escape sequences
 * included, and resolved with the rest, so `{"a":"x\nAKIA…"}` (a
 * backslash, then `n`) loses its key, and `p%40ss` a registered `p@ss`.
 *
 * After each {@link TextScrubber.scrubText} or `scrubBounded`,
 * `hits[0 .. hitCount)` hold the distinct rule numbers that changed the
 * string, so the caller can record transforms under a path it only builds
 * when something matched.
 *
 * @example
 * ```ts
 * const engine = new TextScrubber(presets.balanced.scrub, undefined)
 * engine.scrubText('mail ada@example.com', false) // 'mail [REDACTED:email]'
 * engine.ruleIds[engine.hits[0]] // 'email'
 * ```
 */
export class TextScrubber {
  readonly secrets = new SecretMatcher()
  readonly sensitiveKeys: SensitiveKeyMatcher
  /** Rule number to rule id. */
  readonly ruleIds: readonly string[]
  /** Rule number to the action actually applied (`hash` without a key ring becomes `redact`). */
  readonly ruleActions: readonly ScrubAction[]
  readonly maxStringLength: number
  readonly minSecretLength: number
  hits = new Int32Array(8)
  hitCount = 0
  /** Whether the last {@link TextScrubber.scrubBounded} cut its result. */
  truncated = false

  readonly #markers: readonly string[]
  readonly #detectors: DetectorGate
  readonly #custom: readonly CustomPattern[]
  readonly #spans = new SpanList()
  readonly #viewSpans = new SpanList()
  readonly #decoder = new EscapeDecoder()
  // The keyword pass of the view being scanned, of its separated view, and of the views with matches blanked.
  readonly #found = new KeywordFindings()
  readonly #separatedFound = new KeywordFindings()
  readonly #blankedFound = new KeywordFindings()
  readonly #fingerprinter: Fingerprinter | null
  readonly #keys: KeyRing | undefined
  readonly #ownRuleIds: ReadonlySet<string>
  readonly #context: DetectorContext
  readonly #seen: Uint32Array
  #epoch = 0
  // Per mode (detectors, secrets only); valid while `secrets.size` is what it was when filled.
  readonly #keyMemo = [new Map<string, KeyVerdict>(), new Map<string, KeyVerdict>()]
  #keyMemoSecrets = 0

  constructor(policy: ScrubPolicy, keys: KeyRing | undefined) {
    const parsed = policySchema.shape.scrub.safeParse(policy, { reportInput: true })
    if (!parsed.success) {
      const issues = policyIssuesFromZod(parsed.error.issues, policySchema.shape.scrub)
      throw new PolicyError(issues.map((i) => ({ path: i.path === '' ? 'scrub' : `scrub.${i.path}`, message: i.message })))
    }
    const scrub = parsed.data
    this.#fingerprinter = keys === undefined ? null : new Fingerprinter(keys)
    this.#keys = keys
    const effective = (action: ScrubAction): ScrubAction => (action === 'hash' && this.#fingerprinter === null ? 'redact' : action)

    this.sensitiveKeys = new SensitiveKeyMatcher(scrub.sensitiveKeys)
    this.#context = { sensitiveKeys: this.sensitiveKeys }
    this.maxStringLength = scrub.maxStringLength
    this.minSecretLength = scrub.minSecretLength

    const ids: string[] = [REGISTERED_SECRET_RULE]
    // Registered secrets are always redacted: masking would leak their length, hashing would let guesses be confirmed.
    const actions: ScrubAction[] = ['redact']
    const detectors: GatedDetector[] = []
    // Rule numbers break ties (the lowest wins): detectors get theirs in precedence order.
    for (const detector of DETECTORS_BY_PRECEDENCE) {
      const rule = ids.length
      // An id named in `detectors` wins over its pack; definePolicy names every id, a hand-made policy may not.
      const setting = scrub.detectors[detector.id] ?? scrub.packs?.[packOf(detector.id)] ?? true
      ids.push(detector.id)
      actions.push(effective(setting === true || setting === false ? scrub.action : setting))
      if (setting !== false) detectors.push({ detector, rule })
    }
    // Stack traces lose home directories in every exception mode, detector on or off.
    if (scrub.detectors['home-path'] === false) actions[HOME_RULE] = 'redact'
    ids.push(SENSITIVE_KEY_RULE)
    actions.push(effective(scrub.action))

    const custom: CustomPattern[] = []
    const issues: PolicyIssue[] = []
    scrub.patterns.forEach((pattern, i) => {
      if (BUILT_IN_RULES.has(pattern.id) || scrub.patterns.findIndex((p) => p.id === pattern.id) !== i) {
        issues.push({ path: `scrub.patterns.${i}.id`, message: `expected an id not used by a built-in rule or another pattern, got "${pattern.id}"` })
        return
      }
      try {
        custom.push({ re: compileCustomPattern(pattern), rule: ids.length })
      } catch (err) {
        if (!(err instanceof UnsafePatternError)) throw err
        issues.push({ path: `scrub.patterns.${i}.pattern`, message: err.message })
        return
      }
      ids.push(pattern.id)
      actions.push(effective(pattern.action ?? scrub.action))
    })
    if (issues.length > 0) throw new PolicyError(issues)

    this.ruleIds = ids
    this.#ownRuleIds = new Set(ids)
    this.ruleActions = actions
    this.#markers = ids.map(redactedMarker)
    this.#detectors = new DetectorGate(detectors, this.#context)
    this.#custom = custom
    this.#seen = new Uint32Array(ids.length)
  }

  /**
   * Scrubs one string and keeps it to `maxStringLength`: the path of every
   * string that leaves. It scans at most `maxStringLength` plus a margin
   * (the larger of {@link DETECTOR_REACH} and the longest registered
   * pattern), so a 50 MB string costs what a 12 KB one does; then it
   * scrubs, and only then cuts to `maxStringLength`, so a match that
   * straddles the cut is redacted whole and never half-leaks. A cut string
   * ends with `[airlock:truncated N chars]`, N counting what was cut after
   * scrubbing plus what was never scanned. Sets `truncated` and `hits`.
   */
  scrubBounded(text: string, secretsOnly: boolean): string {
    const scanned = this.maxStringLength + Math.max(DETECTOR_REACH, this.secrets.longest)
    if (text.length <= scanned) {
      const scrubbed = this.scrubText(text, secretsOnly)
      this.truncated = scrubbed.length > this.maxStringLength
      return this.truncated ? this.#cut(scrubbed, 0) : scrubbed
    }
    this.truncated = true
    return this.#cut(this.scrubText(text.slice(0, scanned), secretsOnly), text.length - scanned)
  }

  /**
   * Scrubs an object key as {@link TextScrubber.scrubBounded} would (a key
   * is not cut), remembering the verdict of a short key until a secret is
   * registered: keys repeat from record to record, values do not. The
   * verdict holds the rules; `hits` and `truncated` mean nothing after it.
   */
  scrubKey(key: string, secretsOnly: boolean): KeyVerdict {
    if (this.#keyMemoSecrets !== this.secrets.size) {
      this.#keyMemo[0]!.clear()
      this.#keyMemo[1]!.clear()
      this.#keyMemoSecrets = this.secrets.size
    }
    const memo = this.#keyMemo[secretsOnly ? 1 : 0]!
    const known = memo.get(key)
    if (known !== undefined) return known
    const text = this.scrubBounded(key, secretsOnly)
    const verdict: KeyVerdict = { text, rules: this.hitCount === 0 ? NO_RULES : Array.from(this.hits.subarray(0, this.hitCount)) }
    if (key.length <= MEMO_KEY_LENGTH) {
      if (memo.size >= KEY_MEMO_LIMIT) memo.clear()
      memo.set(key, verdict)
    }
    return verdict
  }

  /**
   * Scrubs one string, whole. With `secretsOnly`, only registered secrets
   * are replaced (the `full` exception mode). Returns `text` itself when
   * nothing matched. Neither bounds nor truncates: strings that leave go
   * through {@link TextScrubber.scrubBounded}.
   */
  scrubText(text: string, secretsOnly: boolean): string {
    this.hitCount = 0
    if (text.length === 0) return text
    const spans = this.#spans
    spans.reset()
    this.secrets.find(text, spans, SECRET_RULE)
    if (!secretsOnly) {
      this.#detectors.scan(text, this.#found)
      this.#findAll(text, this.#found, spans)
    }
    const decoder = this.#decoder
    decoder.begin(text, this.secrets.spaced)
    const mapped = decoder.mapInto(spans)
    while (decoder.next()) {
      if (decoder.decoded !== null) this.secrets.find(decoder.decoded, mapped, SECRET_RULE)
      if (decoder.formDecoded !== null) this.secrets.find(decoder.formDecoded, mapped, SECRET_RULE)
      if (secretsOnly || decoder.decoded === null) continue
      this.#detectors.scan(decoder.decoded, this.#found)
      this.#findPatternsBeside(decoder.decoded, this.#found, mapped)
      if (!decoder.separates) continue
      // The separated view is the decoded one with some units replaced: the decoded view's keyword pass serves it.
      this.#detectors.widen(this.#found, SEPARATOR_UNIT, this.#separatedFound)
      this.#findPatternsBeside(decoder.separated!, this.#separatedFound, mapped)
    }
    if (spans.count === 0) return text
    this.#spareOwnOutput(text)
    if (spans.count === 0) return text
    return this.#apply(text)
  }

  // Scrubbing its own output again must change nothing: `Password=[REDACTED:…];`
  // read by the assignment detector would otherwise become
  // `Password=[[REDACTED:secret-assignment]];`, and a leak scan would then
  // flag what the scrubber wrote. Only a match made wholly of this scrubber's
  // exact output is spared: markers naming one of its own rules,
  // fingerprints under a kid its ring holds. `[REDACTED:hunter2]` names no
  // rule, so it is scanned as any text is; a match reaching past its output
  // is kept whole; registered secrets are never spared.
  #spareOwnOutput(text: string): void {
    const own = this.#ownOutputSpans(text)
    if (own === undefined) return
    const spans = this.#spans
    let kept = 0
    for (let i = 0; i < spans.count; i++) {
      const start = spans.start[i]!
      const end = spans.end[i]!
      const rule = spans.rule[i]!
      if (rule !== SECRET_RULE && coveredBy(own, start, end)) continue
      spans.start[kept] = start
      spans.end[kept] = end
      spans.rule[kept] = rule
      kept++
    }
    spans.count = kept
  }

  // [start, end) pairs of this scrubber's own markers and fingerprints in `text`, in order; undefined when none.
  #ownOutputSpans(text: string): number[] | undefined {
    let own: number[] | undefined
    for (let at = text.indexOf(REDACTED_OPEN); at !== -1; at = text.indexOf(REDACTED_OPEN, at + 1)) {
      const close = text.indexOf(']', at + REDACTED_OPEN.length)
      if (close === -1) break
      if (close - at > MAX_MARKER_LENGTH || !this.#ownRuleIds.has(text.slice(at + REDACTED_OPEN.length, close))) continue
      ;(own ??= []).push(at, close + 1)
    }
    const ring = this.#keys
    if (ring === undefined || !text.includes(FINGERPRINT_PREFIX)) return own
    const markers = own?.length ?? 0
    FINGERPRINT.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = FINGERPRINT.exec(text)) !== null) {
      if (ring.has(m[1]!)) (own ??= []).push(m.index, m.index + m[0].length)
    }
    return own !== undefined && markers > 0 && own.length > markers ? sortPairs(own) : own
  }

  readonly #findPatternsIn = (text: string, sink: MatchSink): void => this.#findPatterns(text, this.#blankedFound, sink)

  // The matches in `text` (whose keyword pass is `found`), then what they hid (see findBesideMatches), into `spans`.
  // The views findBesideMatches makes are `text` with matches blanked: `found`, widened, serves them too.
  #findAll(text: string, found: KeywordFindings, spans: SpanList): void {
    this.#findPatterns(text, found, spans)
    this.#detectors.widen(found, BLANK_UNIT, this.#blankedFound)
    findBesideMatches(text, spans, this.#findPatternsIn)
  }

  // A decoded view: its matches and what they hid, in the view's positions, into `sink`.
  #findPatternsBeside(view: string, found: KeywordFindings, sink: MatchSink): void {
    const spans = this.#viewSpans
    spans.reset()
    this.#findAll(view, found, spans)
    for (let k = 0; k < spans.count; k++) sink.add(spans.start[k]!, spans.end[k]!, spans.rule[k]!)
  }

  // Detectors (those `found`, the keyword pass of `text` or of the text it was made from, lets through), then custom patterns.
  #findPatterns(text: string, found: KeywordFindings, sink: MatchSink): void {
    this.#detectors.runFound(text, found, sink)
    for (const pattern of this.#custom) {
      if (!pattern.re.test(text)) continue
      const m = pattern.re.matcher(text)
      while (m.find()) sink.add(m.start(), m.end(), pattern.rule)
    }
  }

  /** Replaces the user segment of home directories only (stack traces, in every exception mode). */
  stripHomePaths(text: string): string {
    this.hitCount = 0
    const spans = this.#spans
    spans.reset()
    HOME_DETECTOR.find(text, spans, HOME_RULE, this.#context)
    return spans.count === 0 ? text : this.#apply(text)
  }

  /**
   * Applies a rule's action to a whole value (a value under a sensitive key).
   * `remove` is the caller's business (it drops the key); here it redacts.
   */
  replaceWhole(rule: number, value: string): string {
    const action = this.ruleActions[rule]!
    if (action === 'mask') return '*'.repeat(value.length)
    if (action === 'hash' && this.#fingerprinter !== null) return this.#fingerprinter.fingerprint(value)
    return this.#markers[rule]!
  }

  /** A keyed fingerprint of `text`, or `undefined` without a key ring (the caller redacts instead). */
  fingerprint(text: string): string | undefined {
    return this.#fingerprinter?.fingerprint(text)
  }

  /** The marker `[REDACTED:<rule>]` of a rule. */
  marker(rule: number): string {
    return this.#markers[rule]!
  }

  // Cuts scrubbed text to maxStringLength, never inside a surrogate pair (a scanned prefix may
  // end in half of one), and counts what is not shown: scrubbed text past the cut, and input never scanned.
  #cut(text: string, unscanned: number): string {
    let cut = Math.min(this.maxStringLength, text.length)
    const last = text.charCodeAt(cut - 1)
    if (last >= 0xd800 && last <= 0xdbff) cut--
    return text.slice(0, cut) + truncatedMarker(text.length - cut + unscanned)
  }

  #apply(text: string): string {
    const spans = this.#spans
    spans.resolve()
    if (++this.#epoch === 0xffffffff) {
      this.#seen.fill(0)
      this.#epoch = 1
    }
    let out = ''
    let last = 0
    for (let k = 0; k < spans.count; k++) {
      const start = spans.start[k]!
      const end = spans.end[k]!
      const rule = spans.rule[k]!
      out += text.slice(last, start)
      out += this.#replacement(rule, text, start, end)
      last = end
      if (this.#seen[rule] !== this.#epoch) {
        this.#seen[rule] = this.#epoch
        if (this.hitCount === this.hits.length) {
          const grown = new Int32Array(this.hits.length * 2)
          grown.set(this.hits)
          this.hits = grown
        }
        this.hits[this.hitCount++] = rule
      }
    }
    return out + text.slice(last)
  }

  #replacement(rule: number, text: string, start: number, end: number): string {
    switch (this.ruleActions[rule]) {
      case 'mask':
        return '*'.repeat(end - start)
      case 'remove':
        return ''
      case 'hash':
        return this.#fingerprinter!.fingerprint(text.slice(start, end))
      default:
        return this.#markers[rule]!
    }
  }
}

const REDACTED_OPEN = '[REDACTED:'
// `[REDACTED:` + the longest rule id a policy accepts + `]`, with room to spare; past it, not a marker.
const MAX_MARKER_LENGTH = 140
// `fp1.<kid>.<base64url HMAC-SHA256>`, as the Fingerprinter writes it.
// No lookarounds: two fingerprints written side by side are both found, and
// a match reaching past one is not spared anyway (see coveredBy).
const FINGERPRINT = /fp1\.([A-Za-z0-9_-]{1,64})\.[A-Za-z0-9_-]{43}/g

// Whether every character of [start, end) lies in `own`'s [start, end) pairs
// (sorted by start): one marker, or output written side by side.
function coveredBy(own: readonly number[], start: number, end: number): boolean {
  let at = start
  for (let k = 0; k < own.length && own[k]! <= at; k += 2) {
    if (own[k + 1]! > at) at = own[k + 1]!
    if (at >= end) return true
  }
  return false
}

// [start, end) pairs, sorted by start.
function sortPairs(pairs: number[]): number[] {
  const order: number[] = []
  for (let k = 0; k < pairs.length; k += 2) order.push(k)
  order.sort((a, b) => pairs[a]! - pairs[b]!)
  const sorted: number[] = []
  for (const k of order) sorted.push(pairs[k]!, pairs[k + 1]!)
  return sorted
}
