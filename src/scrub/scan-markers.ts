import type { MatchSink } from './aho-corasick.js'
import type { SpanList } from './span-list.js'

/*
 * What the SDK itself writes in place of what it removed. A leak scan must
 * not report these: `password=[REDACTED:secret-assignment]` is the scrubber
 * working, not a leak. Each is recognised by its exact wire format (v1), so
 * user text that merely starts like one (`alk1.ghp_…`) is still scanned.
 *
 * LINEAR-TIME RULE as in detectors.ts: every match starts at a literal, and
 * each unbounded run is followed by a character its class excludes.
 */

// `[REDACTED:<rule>]`: a rule is a detector id, a custom pattern id, or a parameter rule (a glob).
const REDACTED_MARKER = /\[REDACTED:[^\]\r\n]{1,256}\]/g
// `[airlock:withheld]`, `[airlock:max-depth]`, `[airlock:refused]`, `[airlock:truncated 12 chars]`, ...
const AIRLOCK_MARKER = /\[airlock:[a-z-]{1,32}(?: [0-9]{1,16} chars)?\]/g
// A location or value token: `alk1.` or `alkv1.`, then a compact JWE with `alg: dir` (empty key part)
// or, sealed to a public key, `alg: ECDH-ES+A256KW` (a 256-bit content key wrapped: 40 bytes, 54 characters),
// a 96-bit IV (16 characters) and a 128-bit tag (22 characters).
const TOKEN = /(?<![A-Za-z0-9_-])alkv?1\.(eyJ[A-Za-z0-9_-]{1,2048})\.(?:[A-Za-z0-9_-]{54})?\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}(?![A-Za-z0-9_-])/g
// A keyed fingerprint: `fp1.<kid>.<base64url HMAC-SHA256>` (43 characters).
const FINGERPRINT = /(?<![A-Za-z0-9_-])fp1\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g

const ASTERISK = 42

/**
 * Reports, as `sink.add(start, end, rule)`, every marker the SDK produces in
 * `text` (wire format v1):
 *
 * - `[REDACTED:<rule>]` and `[airlock:<what>]` (including
 *   `[airlock:truncated N chars]`);
 * - `alk1.` location tokens and `alkv1.` value tokens: the prefix, then a
 *   compact JWE whose protected header decodes to `alg: dir`,
 *   `enc: A256GCM` and a string `kid`;
 * - `fp1.<kid>.<mac>` keyed fingerprints.
 *
 * @example
 * ```ts
 * const spans = new SpanList()
 * findSdkMarkers('password=[REDACTED:secret-assignment]', spans, 0) // spans gets [9, 37)
 * ```
 */
export function findSdkMarkers(text: string, sink: MatchSink, rule: number): void {
  if (text.indexOf('[') !== -1) {
    addAll(REDACTED_MARKER, text, sink, rule)
    addAll(AIRLOCK_MARKER, text, sink, rule)
  }
  if (text.indexOf('alk') !== -1) {
    const re = TOKEN
    re.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(text)) !== null) {
      if (isTokenHeader(m[1]!)) sink.add(m.index, m.index + m[0].length, rule)
    }
  }
  if (text.indexOf('fp1.') !== -1) addAll(FINGERPRINT, text, sink, rule)
}

/**
 * Whether `[start, end)` of `text` holds nothing but SDK output: every
 * character lies inside one of the `markers` (found by
 * {@link findSdkMarkers}, then resolved, so sorted and disjoint) or is a `*`
 * (what the `mask` action leaves).
 *
 * @example
 * ```ts
 * const markers = new SpanList()
 * onlySdkOutput('token="********"', 7, 15, markers) // true: a masked value
 * ```
 */
export function onlySdkOutput(text: string, start: number, end: number, markers: SpanList): boolean {
  let k = 0
  for (let i = start; i < end; i++) {
    while (k < markers.count && markers.end[k]! <= i) k++
    if (k < markers.count && markers.start[k]! <= i) {
      i = markers.end[k]! - 1
      continue
    }
    if (text.charCodeAt(i) !== ASTERISK) return false
  }
  return true
}

function addAll(re: RegExp, text: string, sink: MatchSink, rule: number): void {
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) sink.add(m.index, m.index + m[0].length, rule)
}

function isTokenHeader(encoded: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as unknown
    if (typeof header !== 'object' || header === null) return false
    const { alg, enc, kid } = header as { alg?: unknown; enc?: unknown; kid?: unknown }
    return (alg === 'dir' || alg === 'ECDH-ES+A256KW') && enc === 'A256GCM' && typeof kid === 'string'
  } catch {
    return false
  }
}
