/*
 * Finders of personal and device identifiers that have no keyword: US
 * SSNs, phone numbers and MAC addresses. Numbers are everywhere in
 * metadata (counts, ids, timestamps, versions), so each format is held to
 * its structure (one consistent separator, valid parts) and bare digits
 * count only after a context word. Regular expressions obey the
 * LINEAR-TIME RULE of detectors.ts; the hand scanners read each character
 * a bounded number of times. Internal to src/scrub.
 */
import type { MatchSink } from './aho-corasick.js'
import { keywordPositions } from './token-detectors.js'

/** The kinds this module finds. */
export type PiiKind = 'us-ssn' | 'phone-number' | 'mac-address'

// 3-2-4 digits, the same separator twice (a space, a dash, a dot, or none).
export const SSN = /([0-9](?<![0-9A-Za-z.-][0-9])[0-9]{2})([- .]?)([0-9]{2})\2([0-9]{4})(?![0-9A-Za-z]|[-.][0-9])/g
const SSN_CONTEXT = ['ssn', 'social security', 'social-security', 'socialsecurity', 'ss#', 'ss #']
// Numbers the Social Security Administration never issued, or published in advertisements.
const SSN_NEVER = new Set(['078051120', '219099999', '123456789', '457555462'])

function findSsns(text: string, sink: MatchSink, rule: number): void {
  const re = SSN
  re.lastIndex = 0
  let context: number[] | null = null
  let k = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    const area = Number(m[1])
    const digits = m[1]! + m[3]! + m[4]!
    if (area === 0 || area === 666 || area >= 900 || m[3] === '00' || m[4] === '0000' || SSN_NEVER.has(digits) || /^(.)\1{8}$/.test(digits)) continue
    if (m[2] === '') {
      // Nine bare digits are an SSN only shortly after a word that says so.
      context ??= keywordPositions(text, SSN_CONTEXT)
      while (k + 1 < context.length && context[k + 1]! < m.index) k++
      const at = context[k]
      if (at === undefined || at > m.index || m.index - at > 40) continue
    }
    sink.add(m.index, m.index + m[0].length, rule)
  }
}

// North American numbers: (415) 555-0132, (415)555-0132, 415-555-0132, 415.555.0132, 415 555 0132.
export const NANP_PARENS = /\((?<![0-9A-Za-z]\()[2-9][0-9]{2}\)[ ]?[2-9][0-9]{2}[-. ][0-9]{4}(?![0-9A-Za-z]|[-.][0-9])/g
export const NANP_PLAIN = /[2-9](?<![0-9A-Za-z+.-][2-9]|[0-9][ -][2-9])[0-9]{2}([-. ])[2-9][0-9]{2}\1[0-9]{4}(?![0-9A-Za-z]|[-. ][0-9])/g
// National numbers with a trunk 0 (then not another 0, which dials abroad): 09-7625400,
// 090-1234-5678, 030 1234567. Not one group of a longer run of digit groups (a card, an IBAN).
export const NATIONAL_TWO = /0(?<![0-9A-Za-z+.:-]0|[0-9][ -]0)[1-9][0-9]{0,3}([- ])[0-9]{5,8}(?![0-9A-Za-z]|[-.: ][0-9])/g
export const NATIONAL_THREE = /0(?<![0-9A-Za-z+.:-]0|[0-9][ -]0)[1-9][0-9]{0,3}([- ])[0-9]{3,4}\1[0-9]{3,4}(?![0-9A-Za-z]|[-.: ][0-9])/g
// Bare digits after a word that says phone.
export const BARE_DIGITS = /[0-9](?<![0-9A-Za-z.+-][0-9])[0-9]{7,14}(?![0-9A-Za-z]|[.-][0-9])/g
const PHONE_CONTEXT = ['phone', 'tel', 'mobile', 'cell', 'fax', 'sms', 'whatsapp', 'contact', 'call', 'number', 'móvil', 'handy']

function digitCount(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) n++
  return n
}

function sameDigit(text: string): boolean {
  const digits = text.replace(/[^0-9]/g, '')
  return /^(.)\1*$/.test(digits)
}

function findPhones(text: string, sink: MatchSink, rule: number): void {
  findInternational(text, sink, rule)
  for (const re of [NANP_PARENS, NANP_PLAIN]) {
    // Digits alone start this detector: a text with no `(` is not scanned for `(415) 555-0132`.
    if (re === NANP_PARENS && !text.includes('(')) continue
    re.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(text)) !== null) if (!sameDigit(m[0])) sink.add(m.index, m.index + m[0].length, rule)
  }
  for (const re of [NATIONAL_TWO, NATIONAL_THREE]) {
    re.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(text)) !== null) {
      const digits = digitCount(m[0])
      if (digits >= 9 && digits <= 12 && !sameDigit(m[0])) sink.add(m.index, m.index + m[0].length, rule)
    }
  }
  const re = BARE_DIGITS
  re.lastIndex = 0
  let context: number[] | null = null
  let k = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    context ??= keywordPositions(text, PHONE_CONTEXT)
    while (k + 1 < context.length && context[k + 1]! < m.index) k++
    const at = context[k]
    if (at === undefined || at > m.index || m.index - at > 24 || sameDigit(m[0])) continue
    sink.add(m.index, m.index + m[0].length, rule)
  }
}

// `+CC` then digit groups, each after at most one separator (space, dash, dot) and possibly in
// parentheses: +1 415 555 0132, +44 (20) 7123 4567, +33 1 42 68 53 00, +14155550132. 8 to 15
// digits, in two groups or more unless there are ten or more; not a date (+2024-01-15).
function findInternational(text: string, sink: MatchSink, rule: number): void {
  const n = text.length
  for (let plus = text.indexOf('+'); plus !== -1; plus = text.indexOf('+', plus + 1)) {
    const first = text.charCodeAt(plus + 1)
    if (first < 49 || first > 57) continue
    if (plus > 0 && isAlnumOrPlus(text.charCodeAt(plus - 1))) continue
    let i = plus + 1
    // Group ends, and the digits up to each: a last group glued to a letter (`… 6934 8H`) is dropped.
    const ends: number[] = []
    const totals: number[] = []
    const sizes: number[] = []
    let digits = 0
    while (i < n && digits <= 15) {
      let j = i
      const paren = text.charCodeAt(j) === 40
      if (paren) j++
      const start = j
      while (j < n && isDigit(text.charCodeAt(j)) && j - start < 15) j++
      if (j === start) break
      if (paren) {
        if (text.charCodeAt(j) !== 41) break
        j++
      }
      digits += j - start - (paren ? 1 : 0)
      sizes.push(j - start - (paren ? 1 : 0))
      ends.push(j)
      totals.push(digits)
      const sep = text.charCodeAt(j)
      if ((sep === 32 || sep === 45 || sep === 46) && (isDigit(text.charCodeAt(j + 1)) || text.charCodeAt(j + 1) === 40)) i = j + 1
      else break
    }
    let groups = ends.length
    while (groups > 0 && !phoneEndsAt(text, ends[groups - 1]!)) groups--
    if (groups === 0) continue
    const end = ends[groups - 1]!
    digits = totals[groups - 1]!
    const date = groups === 3 && sizes[0] === 4 && sizes[1] === 2 && sizes[2] === 2
    if (digits >= 8 && digits <= 15 && (groups >= 2 || digits >= 10) && !date && !sameDigit(text.slice(plus, end))) sink.add(plus, end, rule)
    plus = Math.max(plus, end - 1)
  }
}

// A number ends where no letter, digit or `+` follows, nor a dot or dash before another digit.
function phoneEndsAt(text: string, end: number): boolean {
  if (end >= text.length) return true
  const c = text.charCodeAt(end)
  return !isAlnumOrPlus(c) && !((c === 46 || c === 45) && isDigit(text.charCodeAt(end + 1)))
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
}

function isAlnumOrPlus(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 95
}

/*
 * MAC addresses: six hex pairs joined by one separator (`:` or `-`)
 * throughout, or three hex quads joined by dots (Cisco). Anchored on each
 * separator (found by indexOf): a candidate starts two (or four) characters
 * before it, so each separator costs one check of at most 17 characters.
 * Not glued to more hex or separators (a longer colon run is IPv6 or a
 * fingerprint), not broadcast and not all zero.
 */
function findMacs(text: string, sink: MatchSink, rule: number): void {
  for (const sep of [58, 45, 46]) {
    const char = String.fromCharCode(sep)
    const lead = sep === 46 ? 4 : 2
    for (let at = text.indexOf(char, lead); at !== -1; at = text.indexOf(char, at + 1)) {
      const end = macEndingAt(text, at - lead, sep)
      if (end === -1) continue
      sink.add(at - lead, end, rule)
      at = end
    }
  }
}

// The end of the MAC address starting at `start` whose first separator is `sep`, or -1.
function macEndingAt(text: string, start: number, sep: number): number {
  const n = text.length
  const end = sep === 46 ? start + 14 : start + 17
  if (end > n || !macAt(text, start, sep)) return -1
  const before = start > 0 ? text.charCodeAt(start - 1) : 32
  const next = end < n ? text.charCodeAt(end) : 32
  if (isHex(before) || before === sep || isAlnumOrPlus(before) || isHex(next) || isAlnumOrPlus(next)) return -1
  if (next === sep && end + 1 < n && isHex(text.charCodeAt(end + 1))) return -1
  const digits = text.slice(start, end).replace(/[^0-9A-Fa-f]/g, '').toLowerCase()
  if (digits === 'ffffffffffff' || digits === '000000000000') return -1
  return end
}

function macAt(text: string, start: number, sep: number): boolean {
  if (sep === 46) {
    for (let q = 0; q < 3; q++) {
      const at = start + q * 5
      for (let k = 0; k < 4; k++) if (!isHex(text.charCodeAt(at + k))) return false
      if (q < 2 && text.charCodeAt(at + 4) !== 46) return false
    }
    return true
  }
  for (let p = 0; p < 6; p++) {
    const at = start + p * 3
    if (!isHex(text.charCodeAt(at)) || !isHex(text.charCodeAt(at + 1))) return false
    if (p < 5 && text.charCodeAt(at + 2) !== sep) return false
  }
  return true
}

/**
 * Finds one kind of personal or device identifier in `text`.
 *
 * @example
 * ```ts
 * findPiiPatterns('us-ssn', 'ssn 078-05-1123', spans, rule) // spans gets [4, 15)
 * ```
 */
export function findPiiPatterns(kind: PiiKind, text: string, sink: MatchSink, rule: number): void {
  if (kind === 'us-ssn') findSsns(text, sink, rule)
  else if (kind === 'phone-number') findPhones(text, sink, rule)
  else findMacs(text, sink, rule)
}
