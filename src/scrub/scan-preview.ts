// At most this many `*` stand for the hidden middle, so a preview does not tell a long secret's length.
const MAX_HIDDEN_SHOWN = 8

/**
 * A masked preview of a matched value, for leak-scan output: enough to
 * recognise which value it is, never the value. Strings of 16 characters or
 * more keep their first 2 and last 2; of 8 to 15, their first and last; shorter
 * ones keep nothing. The middle becomes at most 8 `*`. A kept character that
 * is not printable ASCII prints as `?`, so a preview cannot move a terminal's
 * cursor or reorder text.
 *
 * @example
 * ```ts
 * maskPreview('ghp_0123456789abcdefghijklmnopqrstuvwxyz') // 'gh********yz'
 * maskPreview('10.1.2.3')                                 // '1******3'
 * maskPreview('hunter')                                   // '******'
 * ```
 */
export function maskPreview(text: string): string {
  const n = text.length
  const kept = n >= 16 ? 2 : n >= 8 ? 1 : 0
  const hidden = '*'.repeat(Math.min(n - 2 * kept, MAX_HIDDEN_SHOWN))
  return printable(text.slice(0, kept)) + hidden + printable(text.slice(n - kept))
}

function printable(text: string): string {
  return text.replace(/[^\x21-\x7e]/g, '?')
}
