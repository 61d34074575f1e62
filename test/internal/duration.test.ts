import { describe, expect, it } from 'vitest'
import { parseDuration } from '../../src/internal/duration.js'

describe('parseDuration', () => {
  it('reads milliseconds and unit strings', () => {
    expect(parseDuration(250, 'x')).toBe(250)
    expect(parseDuration('500ms', 'x')).toBe(500)
    expect(parseDuration('10s', 'x')).toBe(10_000)
    expect(parseDuration('30m', 'x')).toBe(1_800_000)
    expect(parseDuration('1h', 'x')).toBe(3_600_000)
    expect(parseDuration('1.5h', 'x')).toBe(5_400_000)
    expect(parseDuration('2d', 'x')).toBe(172_800_000)
  })

  it('refuses anything else, naming the option', () => {
    for (const [i, bad] of [-1, NaN, Infinity, '1 hour', '1w', '', 'h', null, {}].entries()) {
      expect(() => parseDuration(bad, 'cacheFor'), `case ${i}`).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('cacheFor') }))
    }
  })
})
