import { describe, expect, it } from 'vitest'
import { maskPreview } from '../../src/scrub/scan-preview.js'

describe('maskPreview', () => {
  it('keeps 2, 1 or 0 characters at each end by length, and at most 8 stars', () => {
    expect(maskPreview('ghp_0123456789abcdefghijklmnopqrstuvwxyz')).toBe('gh********yz')
    expect(maskPreview('0123456789abcdef')).toBe('01********ef')
    expect(maskPreview('0123456789abcde')).toBe('0********e')
    expect(maskPreview('10.1.2.3')).toBe('1******3')
    expect(maskPreview('hunter2')).toBe('*******')
    expect(maskPreview('abcde')).toBe('*****')
    expect(maskPreview('')).toBe('')
  })

  it('never holds the value, and prints unprintable kept characters as ?', () => {
    for (const value of ['AKIAQ3EXAMPLEKEY7X2B', 'ada.lovelace@example.com', 'x'.repeat(10_000)]) {
      const preview = maskPreview(value)
      expect(preview.includes(value)).toBe(false)
      expect(preview.length).toBeLessThanOrEqual(12)
    }
    expect(maskPreview('\u001b\u0007secret-value\u202e!')).toBe('??********?!')
    expect(maskPreview('éé-secret-value-éé')).toBe('??********??')
  })
})
