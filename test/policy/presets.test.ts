import { describe, expect, it } from 'vitest'
import { DETECTOR_IDS } from '../../src/policy/detector-ids.js'
import { PRESET_NAMES, presets } from '../../src/policy/presets.js'
import { policySchema } from '../../src/policy/schema.js'

describe('presets', () => {
  it.each(PRESET_NAMES)('%s validates against policySchema', (name) => {
    const parsed = policySchema.safeParse(presets[name])
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true)
  })

  it('permissive sends everything and runs no detector', () => {
    const p = presets.permissive
    expect(p.parameters.default).toBe('allow')
    expect(Object.values(p.scrub.detectors).every((on) => on === false)).toBe(true)
    expect(p.exceptions.mode).toBe('full')
    expect(p.locations.mode).toBe('plain')
    expect(p.inlineValues.mode).toBe('allow')
    expect(p.states.messages).toBe('allow')
    expect(p.logs).toMatchObject({ ship: true, level: 'info' })
  })

  it('balanced scrubs values, drops stacks, encrypts locations and refuses inline values', () => {
    const p = presets.balanced
    expect(p.parameters.default).toBe('scrub')
    expect(p.logs).toMatchObject({ ship: true, level: 'info', scrubLocal: true })
    expect(p.exceptions).toMatchObject({ mode: 'scrubbed', stack: 'drop' })
    expect(p.locations.mode).toBe('encrypt')
    expect(p.inlineValues.mode).toBe('refuse')
    expect(p.states).toEqual({ names: 'allow', messages: 'scrub' })
    expect(Object.values(p.scrub.detectors).every((on) => on === true)).toBe(true)
  })

  it('strict hashes parameters, sends exception types only and ships warn and above', () => {
    const p = presets.strict
    expect(p.parameters).toEqual({ default: 'hash', rules: {} })
    expect(p.exceptions.mode).toBe('type')
    expect(p.logs.level).toBe('warn')
    expect(p.inlineValues.mode).toBe('refuse')
    expect(p.locations.mode).toBe('encrypt')
    expect(p.states.messages).toBe('scrub')
    expect(Object.values(p.scrub.detectors).every((on) => on === true)).toBe(true)
  })

  it.each(PRESET_NAMES)('%s lists every detector and shares the limits', (name) => {
    const p = presets[name]
    expect(Object.keys(p.scrub.detectors).sort()).toEqual([...DETECTOR_IDS].sort())
    expect(p.scrub).toMatchObject({ maxDepth: 32, maxStringLength: 8192, maxNodes: 10_000, minSecretLength: 5 })
    expect(p.logs.maxRecordBytes).toBe(16_384)
    expect(p.exceptions.maxCauseDepth).toBe(5)
    expect(p.checkpointing).toBe(true)
  })

  it('is deeply frozen', () => {
    expect(Object.isFrozen(presets)).toBe(true)
    expect(Object.isFrozen(presets.balanced.scrub.detectors)).toBe(true)
    expect(Object.isFrozen(presets.strict.scrub.patterns)).toBe(true)
    expect(() => {
      ;(presets.balanced.logs as { level: string }).level = 'trace'
    }).toThrow(TypeError)
    expect(presets.balanced.logs.level).toBe('info')
  })
})
