import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { isoNow } from '../../src/internal/iso-now.js'

describe('isoNow', () => {
  it('is the current time exactly as Date#toISOString writes it, to the millisecond', async () => {
    for (let i = 0; i < 5; i++) {
      const before = Date.now()
      const now = isoNow()
      const after = Date.now()
      expect(now).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
      expect(new Date(Date.parse(now)).toISOString()).toBe(now)
      expect(Date.parse(now)).toBeGreaterThanOrEqual(before)
      expect(Date.parse(now)).toBeLessThanOrEqual(after)
      await sleep(3)
    }
  })

  it('moves on with the clock: never the string of a millisecond that has passed', async () => {
    const first = isoNow()
    await sleep(5)
    const second = isoNow()
    expect(Date.parse(second)).toBeGreaterThan(Date.parse(first))
  })
})
