// In a file of its own: it fills the process-wide registry to its bound.
import { describe, expect, it } from 'vitest'
import { MemorySecretProvider, RESOLVED_SECRETS_WARNING, everyResolvedSecret } from '../../src/crypto/secret.js'

describe('the registry of resolved secrets, at its bound', () => {
  it('keeps the newest 10,000 distinct values, forgets the oldest first, and warns once without a value', async () => {
    const warnings: (Error & { code?: string })[] = []
    const listener = (warning: Error & { code?: string }): void => {
      if (warning.code === RESOLVED_SECRETS_WARNING) warnings.push(warning)
    }
    process.on('warning', listener)
    try {
      const provider = new MemorySecretProvider()
      const value = (i: number): string => `bounded-secret-${String(i).padStart(5, '0')}`
      for (let i = 0; i < 10_002; i++) {
        provider.set('rotating', value(i))
        await provider.get('rotating')
      }
      // Resolving a kept value again neither duplicates nor refreshes it.
      provider.set('rotating', value(5))
      await provider.get('rotating')
      await new Promise((resolve) => setImmediate(resolve))

      const kept = [...everyResolvedSecret()].map((s) => s.reveal())
      expect(kept).toHaveLength(10_000)
      expect(kept[0]).toBe(value(2))
      expect(kept.at(-1)).toBe(value(10_001))
      expect(kept).not.toContain(value(0))
      expect(kept).not.toContain(value(1))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]?.message).not.toMatch(/bounded-secret/)
    } finally {
      process.off('warning', listener)
    }
  })
})
