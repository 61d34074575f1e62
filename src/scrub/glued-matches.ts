/*
 * Matches glued to other matches. Most detectors want a boundary around what they take
 * (`(?<![A-Za-z0-9])AKIA…(?![A-Za-z0-9])`), so a token glued to a word is left alone: in
 * `xAKIAIOSFODNN7EXAMPLE` it is part of a longer token, not a key. But a boundary judged on the
 * text alone is also missing where another rule's match ends or starts: in
 * `10.1.2.3AKIAIOSFODNN7EXAMPLE` the address is redacted and the key, glued to it, stayed. Here
 * the text is scanned again with every match found so far blanked out (NUL, which no detector
 * takes as part of a token and no detector reads as a separator either), so the edge of a match
 * is a boundary, while a word glued to a token still is not. Internal to src/scrub.
 */
import type { SpanList } from './span-list.js'

// A blanked view is scanned at most this many times: enough for a secret between two matches,
// and for a chain of three glued to each other. Each pass is one more scan of the text, and
// only a match glued to a token character (see GLUE) starts one.
const MAX_PASSES = 3
/**
 * The unit a match is blanked with in the views `find` is given: NUL.
 *
 * @example
 * ```ts
 * gate.widen(found, BLANK_UNIT, blankedFound) // what a blanked view of a scanned text may hold
 * ```
 */
export const BLANK_UNIT = 0

// Characters a token glued to a match may start or end with, beside it: letters, digits and the
// `_ - . + / %` that tokens hold. A match after `=` or `:` or a space is not glued: those are
// boundaries already, so the text needs no second look (and a `name=value` would cost one).
const GLUE = new Uint8Array(128)
for (let c = 48; c <= 57; c++) GLUE[c] = 1
for (let c = 65; c <= 90; c++) GLUE[c] = 1
for (let c = 97; c <= 122; c++) GLUE[c] = 1
for (const c of '_-.+/%') GLUE[c.charCodeAt(0)] = 1

function glues(text: string, at: number): boolean {
  if (at < 0 || at >= text.length) return false
  const c = text.charCodeAt(at)
  return c < 128 ? GLUE[c] === 1 : c > 0xbf // a letter outside ASCII glues too
}

/**
 * Finds what the matches in `spans` hid: when some match has a token
 * character right before or after it, runs `find` again on `text` with
 * every match blanked out (same length, so positions are the text's), and
 * adds what it finds to `spans`; again on the new matches, up to three
 * passes. `find` must add its matches to the sink it is given.
 *
 * @example
 * ```ts
 * spans.reset()
 * gate.run(text, spans) // '10.1.2.3AKIAIOSFODNN7EXAMPLE': the address only
 * findBesideMatches(text, spans, (view, sink) => gate.run(view, sink)) // and the key
 * ```
 */
export function findBesideMatches(text: string, spans: SpanList, find: (view: string, sink: SpanList) => void): void {
  let from = 0
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let glued = false
    for (let k = from; k < spans.count && !glued; k++) glued = glues(text, spans.start[k]! - 1) || glues(text, spans.end[k]!)
    if (!glued) return
    from = spans.count
    const view = blanked(text, spans)
    find(view, spans)
    // A match wholly inside what was blanked adds nothing: the match it overlaps is there already.
    let kept = from
    for (let k = from; k < spans.count; k++) {
      const start = spans.start[k]!
      const end = spans.end[k]!
      if (allBlank(view, start, end)) continue
      spans.start[kept] = start
      spans.end[kept] = end
      spans.rule[kept] = spans.rule[k]!
      kept++
    }
    spans.count = kept
    if (kept === from) return
  }
}

function allBlank(view: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (view.charCodeAt(i) !== BLANK_UNIT) return false
  return true
}

// `text` with every span blanked, its length kept. Written into a reused buffer and made a string once: a
// rope of a slice and a blank run per match costs a garbage collection's worth of small strings on text
// dense with matches. Text whose units all fit a byte (most) stays a one-byte string.
function blanked(text: string, spans: SpanList): string {
  const n = text.length
  if (!WIDE.test(text)) {
    if (narrow.length < n) narrow = Buffer.allocUnsafe(Math.max(n, 2 * narrow.length))
    narrow.write(text, 0, n, 'latin1')
    for (let k = 0; k < spans.count; k++) narrow.fill(BLANK_UNIT, spans.start[k], spans.end[k])
    return narrow.toString('latin1', 0, n)
  }
  if (wide.length < 2 * n) wide = Buffer.allocUnsafe(Math.max(2 * n, 2 * wide.length))
  wide.write(text, 0, 2 * n, 'utf16le')
  for (let k = 0; k < spans.count; k++) wide.fill(BLANK_UNIT, 2 * spans.start[k]!, 2 * spans.end[k]!)
  return wide.toString('utf16le', 0, 2 * n)
}

// A unit that does not fit a byte.
const WIDE = /[\u0100-\uffff]/
let narrow = Buffer.alloc(0)
let wide = Buffer.alloc(0)
