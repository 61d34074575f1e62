import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EscapeDecoder, MAX_DECODE_LEVELS } from '../../src/scrub/escape-decoder.js'
import { SpanList } from '../../src/scrub/span-list.js'

interface Level {
  readonly decoded: string | null
  readonly separated: string | null
  readonly formDecoded: string | null
  /** Per unit of the level's views: the original range it came from. */
  readonly ranges: readonly (readonly [number, number])[]
}

function levels(text: string, formView = false, decoder = new EscapeDecoder()): Level[] {
  const out: Level[] = []
  decoder.begin(text, formView)
  while (decoder.next()) {
    const view = decoder.decoded ?? decoder.formDecoded!
    const ranges: [number, number][] = []
    for (let i = 0; i < view.length; i++) ranges.push([decoder.originStart(i), decoder.originEnd(i + 1)])
    out.push({ decoded: decoder.decoded, separated: decoder.separated, formDecoded: decoder.formDecoded, ranges })
  }
  expect(decoder.decoded).toBeNull()
  return out
}

function decodedOnce(text: string): string | null {
  return levels(text)[0]?.decoded ?? null
}

describe('EscapeDecoder', () => {
  it('decodes every JSON and JavaScript backslash escape', () => {
    const cases: [string, string][] = [
      ['a\\nb', 'a\nb'],
      ['a\\tb', 'a\tb'],
      ['a\\rb', 'a\rb'],
      ['a\\bb', 'a\bb'],
      ['a\\fb', 'a\fb'],
      ['a\\vb', 'a\vb'],
      ['a\\0b', 'a\0b'],
      ['a\\"b', 'a"b'],
      ["a\\'b", "a'b"],
      ['a\\\\b', 'a\\b'],
      ['a\\/b', 'a/b'],
      ['a\\u0022b', 'a"b'],
      ['a\\u00E9b\\u00e9', 'aébé'],
      ['a\\uD83D\\uDE00b', 'a😀b'],
      ['a\\u{1F600}b', 'a😀b'],
      ['a\\u{41}b', 'aAb'],
      ['a\\x41\\x7eb', 'aA~b'],
      ['a\\ab', 'a\u0007b'],
      ['a\\U0001F600b\\U00000041', 'a😀bA'],
    ]
    for (const [text, expected] of cases) expect(decodedOnce(text), text).toBe(expected)
  })

  it('decodes percent escapes as UTF-8, a byte that is no part of valid UTF-8 as Latin-1, and %uXXXX', () => {
    const cases: [string, string][] = [
      ['a%20b%2fc%2F', 'a b/c/'],
      ['%C3%A9t%c3%a9', 'été'],
      ['%E2%82%AC', '€'],
      ['%F0%9F%98%80', '😀'],
      // What escape() writes: Latin-1 bytes, and %uXXXX beyond.
      [escape('é€ x'), 'é€ x'],
      ['%C3', 'Ã'], // a lead byte with no continuation
      ['%C3%41', 'ÃA'],
      ['%A9', '©'], // a continuation byte alone
      ['%E0%80%80', 'à\u0080\u0080'], // overlong
      ['%ED%A0%80', 'í\u00a0\u0080'], // an encoded surrogate
      ['%F4%90%80%80', 'ô\u0090\u0080\u0080'], // past 10FFFF
      ['%C0%80', 'À\u0080'],
    ]
    for (const [text, expected] of cases) expect(decodedOnce(text), text).toBe(expected)
  })

  it('leaves malformed escapes as they are', () => {
    for (const text of ['\\U0011FFFF', '\\U1F600', '\\u12', '\\u12G4', '\\uZZZZ', '\\x4', '\\xG1', '\\q', '\\u{}', '\\u{110000}', '\\u{1F600', '\\u{1234567}', '%G1', '%', '%4', '%%', '%u12', 'x\\', '\\']) {
      expect(levels(text), text).toEqual([])
    }
    expect(decodedOnce('\\u12 %G1 % \\q \\n x\\')).toBe('\\u12 %G1 % \\q \n x\\')
  })

  it('decodes level by level, up to three, stopping when nothing changes', () => {
    expect(levels('a\\\\\\\\nb').map((l) => l.decoded)).toEqual(['a\\\\nb', 'a\\nb', 'a\nb'])
    expect(levels('%2525252541').map((l) => l.decoded)).toEqual(['%25252541', '%252541', '%2541'])
    expect(MAX_DECODE_LEVELS).toBe(3)
    // JSON in a URL: a percent-encoded backslash escape.
    expect(levels('x%5Cu0041').map((l) => l.decoded)).toEqual(['x\\u0041', 'xA'])
    expect(levels('100% sure \\q').map((l) => l.decoded)).toEqual([])
  })

  it('maps a unit to the original range it came from, composing the levels', () => {
    const [one, two] = levels('a\\\\u0041b')
    expect(one!.decoded).toBe('a\\u0041b')
    expect(one!.ranges).toEqual([[0, 1], [1, 3], [3, 4], [4, 5], [5, 6], [6, 7], [7, 8], [8, 9]])
    expect(two!.decoded).toBe('aAb')
    // The A spans the escape `\\u0041` of the original: seven characters.
    expect(two!.ranges).toEqual([[0, 1], [1, 8], [8, 9]])
  })

  it('gives both halves of a surrogate pair written as one escape the same range', () => {
    const [level] = levels('x%F0%9F%98%80\\u{1F600}y')
    expect(level!.decoded).toBe('x😀😀y')
    expect(level!.ranges).toEqual([[0, 1], [1, 13], [1, 13], [13, 22], [13, 22], [22, 23]])
  })

  it('maps spans through mapInto: from the start of the first unit to the end of the last', () => {
    const decoder = new EscapeDecoder()
    const spans = new SpanList()
    const text = '{"a":"x\\nAKIA\\u0041"}'
    decoder.begin(text, false)
    const sink = decoder.mapInto(spans)
    expect(decoder.next()).toBe(true)
    const at = decoder.decoded!.indexOf('AKIA')
    sink.add(at, at + 5, 3) // AKIA and the decoded A
    sink.add(at, at, 3) // empty: ignored
    expect(decoder.next()).toBe(false)
    expect([spans.count, spans.start[0], spans.end[0], spans.rule[0]]).toEqual([1, text.indexOf('AKIA'), text.indexOf('"}'), 3])
  })

  it('reads escapes of letters, digits, _, - and . as spaces in the separated view', () => {
    const [level] = levels('x\\u0041y%41\\x2d\\u005f%2E\\n%22%C3%A9')
    expect(level!.decoded).toBe('xAyA-_.\n"é')
    expect(level!.separated).toBe('x y    \n"é')
    const [plain] = levels('x\\ny%22')
    expect(plain!.separated).toBe(plain!.decoded) // the same string when nothing is set apart
  })

  it('says at each level whether the separated view differs, and builds it for that level when asked, wide text too', () => {
    const decoder = new EscapeDecoder()
    // Level 1 sets its `A` apart and leaves `\\u0042` to level 2, which sets only its own `B` apart; `€` makes a level wide.
    for (const [text, expected] of [
      ['a\\u0041\\\\u0042c\\n', [[true, 'a \\u0042c\n'], [true, 'aA c\n']]],
      ['€ \\u0041\\\\u0042', [[true, '€  \\u0042'], [true, '€ A ']]],
      ['x\\ny', [[false, 'x\ny']]],
    ] as const) {
      decoder.begin(text, false)
      const seen: [boolean, string | null][] = []
      while (decoder.next()) seen.push([decoder.separates, decoder.separated])
      expect(seen, text).toEqual(expected)
      expect([decoder.separates, decoder.separated]).toEqual([false, null])
    }
  })

  it('offers a form view, + read as a space, only when asked and a + is there', () => {
    expect(levels('a%2Bb+c', false).map((l) => l.formDecoded)).toEqual([null])
    const [level] = levels('a%2Bb+c', true)
    expect([level!.decoded, level!.formDecoded]).toEqual(['a+b+c', 'a+b c'])
    // No escape at all: a form view alone, on the original's positions.
    const only = levels('p+w%rd', true)
    expect(only.map((l) => [l.decoded, l.separated, l.formDecoded])).toEqual([[null, null, 'p w%rd']])
    expect(only[0]!.ranges).toEqual([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6]])
    // A '+' decoded at one level is a form-body space at the next.
    expect(levels('q%3Dp%2Bw', true).map((l) => [l.decoded, l.formDecoded])).toEqual([
      ['q=p+w', null],
      [null, 'q=p w'],
    ])
    expect(levels('plain text', true)).toEqual([])
  })

  it('is reusable, from long strings to short ones and back', () => {
    const decoder = new EscapeDecoder()
    const long = `${'\\u0041'.repeat(5000)}\\n`
    expect(levels(long, false, decoder)[0]!.decoded).toBe(`${'A'.repeat(5000)}\n`)
    expect(levels('a\\tb', false, decoder)[0]!.decoded).toBe('a\tb')
    expect(levels('no escapes', false, decoder)).toEqual([])
    expect(levels(long, false, decoder)[0]!.ranges.at(-1)).toEqual([30000, 30002])
  })

  it('decodes text with a unit past a byte as it decodes the same text with a one-byte unit there (property)', () => {
    // Units are written one byte each until one needs two; a wide unit before, between or after the
    // escapes (here `€`, where the same text with `\x01` stays narrow) must change nothing but itself.
    const fragment = fc.oneof(
      fc.constantFrom('a', 'Z', '0', ' ', '+', '"', 'é', 'ÿ', '\\', '%', 'u', '_', '.', '€'),
      fc.constantFrom('\\n', '\\u0041', '\\u00e9', '\\u00FF', '\\u0100', '\\uD83D\\uDE00', '\\x41', '%41', '%2b', '%C3%A9', '%C4%80', '%25', '%5Cu0041', '%E9'),
    )
    const decoder = new EscapeDecoder()
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 30 }), fc.boolean(), (parts, formView) => {
        const text = parts.join('')
        const wide = levels(text, formView, decoder)
        const narrow = levels(text.replaceAll('€', '\x01'), formView, decoder)
        const widened = (view: string | null): string | null => view?.replaceAll('\x01', '€') ?? null
        expect(wide.map((l) => [l.decoded, l.separated, l.formDecoded, l.ranges])).toEqual(
          narrow.map((l) => [widened(l.decoded), widened(l.separated), widened(l.formDecoded), l.ranges]),
        )
      }),
      { numRuns: 2000 },
    )
  })

  it('maps every unit of every view into the original: ranges ascending and tiling it (property)', () => {
    const fragment = fc.oneof(
      fc.constantFrom('a', 'Z', '0', ' ', '+', '"', 'é', '😀', '\ud800', '\\', '%', '{', '}', 'u', 'x'),
      fc.constantFrom('\\n', '\\t', '\\"', '\\\\', '\\/', '\\u0041', '\\u00e9', '\\uD83D\\uDE00', '\\u{1F600}', '\\U0001F600', '\\a', '\\x41', '\\xZZ'),
      fc.constantFrom('%41', '%2b', '%C3%A9', '%F0%9F%98%80', '%25', '%252541', '%5C', '%5Cn', '%E9', '%G1', '%u00E9', '%2'),
      fc.constantFrom('\\\\n', '\\\\u0041', '\\u005C', '\\u0025', '\\u12'),
    )
    const decoder = new EscapeDecoder()
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 40 }), fc.boolean(), (parts, formView) => {
        const text = parts.join('')
        let previous = text
        for (const level of levels(text, formView, decoder)) {
          const views = [level.decoded, level.separated, level.formDecoded].filter((v) => v !== null)
          for (const view of views) expect(view.length).toBe(level.ranges.length)
          let expectedStart = 0
          for (let i = 0; i < level.ranges.length; i++) {
            const [start, end] = level.ranges[i]!
            expect(start).toBeGreaterThanOrEqual(0)
            expect(end).toBeLessThanOrEqual(text.length)
            expect(end).toBeGreaterThan(start)
            const shared = i > 0 && start === level.ranges[i - 1]![0]
            if (shared) expect(end).toBe(level.ranges[i - 1]![1]) // both halves of one code point
            else expect(start).toBe(expectedStart) // ascending, disjoint and with no gap
            expectedStart = end
            // A one-character range is a character copied through every level; a longer one holds an escape.
            if (end - start === 1 && level.decoded !== null) expect(level.decoded.charCodeAt(i)).toBe(text.charCodeAt(start))
            if (end - start > 1) expect(['\\', '%']).toContain(text[start])
          }
          expect(expectedStart).toBe(text.length)
          if (level.decoded !== null) {
            expect(level.decoded.length).toBeLessThanOrEqual(previous.length)
            previous = level.decoded
          }
        }
      }),
      { numRuns: 2000 },
    )
  })
})
