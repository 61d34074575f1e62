import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ConstantResult } from '../../src/results/constant-result.js'

describe('ConstantResult', () => {
  const value = { token: 'needle-constant' }

  it('reads its value and always exists', async () => {
    const r = new ConstantResult(value)
    expect(r.value).toBe(value)
    const read = await r.read()
    expect(read).toBeInstanceOf(ConstantResult)
    expect(read).not.toBe(r)
    expect(read.value).toBe(value)
    expect(read.location).toBeUndefined()
    expect(await r.exists()).toBe(true)
    expect(r.type).toBe('constant')
  })

  it('is read-only and has no location', async () => {
    const r = new ConstantResult(1)
    await expect(r.write()).rejects.toMatchObject({ code: 'ERR_RESULT_READ_ONLY' })
    expect(() => r.format()).toThrow(expect.objectContaining({ code: 'ERR_RESULT_READ_ONLY' }))
  })

  it('never shows its value', async () => {
    for (const r of [new ConstantResult(value), await new ConstantResult(value).read()]) {
      expect(JSON.stringify(r)).toBe('{"type":"constant"}')
      expect(inspect(r, { showHidden: true, depth: 10 })).toBe("ConstantResult { type: 'constant' }")
      expect(JSON.stringify({ ...r })).toBe('{}')
    }
  })
})
