import { describe, expect, it } from 'vitest'
import { definePolicy } from '../../src/policy/define-policy.js'
import { canonicalPolicyJson, policyHash } from '../../src/policy/policy-hash.js'
import { presets } from '../../src/policy/presets.js'
import type { Policy } from '../../src/policy/schema.js'

const noEnv = { env: {} }

/** A deep copy with every object's keys in reverse order. */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as T
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reversedKeys(v)]),
    ) as T
  }
  return value
}

describe('policyHash', () => {
  it('has the documented format and is deterministic', () => {
    const hash = policyHash(presets.balanced)
    expect(hash).toMatch(/^ph1\.[A-Za-z0-9_-]{43}$/)
    expect(policyHash(presets.balanced)).toBe(hash)
    expect(definePolicy({}, noEnv).hash).toBe(hash)
  })

  it('keeps the hash of every preset, pinned: a change here is a new ph prefix, never a silent one', () => {
    // Pinned again when the presets gained the payloads and telemetry sections, and again when they
    // gained the detectors of issue 18 and scrub.packs, and when checkpointing became on by default (issue 14)
    // (their content changed, not the canonical form).
    expect(policyHash(presets.balanced)).toBe('ph1.EQdqDyzPuEfo8ii8ddby5bhjpe3Ps18CR2SkDNz5OZY')
    expect(policyHash(presets.permissive)).toBe('ph1.8nrjd6A1A9l2asKJQh86ovxN-JZMMWERakigxabVM-0')
    expect(policyHash(presets.strict)).toBe('ph1.2mmvAJdy3kPvcKVxyTuNOlrq-n-Ib3BGVd7imlcZK5k')
    const custom = definePolicy(
      {
        preset: 'strict',
        parameters: { rules: { 'user.*': 'hash', region: 'allow', 'a.b': 'encrypt' } },
        scrub: { patterns: [{ id: 'emp', pattern: 'EMP-[0-9]+', action: 'mask' }], sensitiveKeys: ['pin'] },
        logs: { redactPaths: ['a.b'] },
      },
      noEnv,
    )
    expect(custom.hash).toBe('ph1.mcVBf_gSbSGutVs2C4-BnlXqRswGBEG1a_-ssJ2Z4BU')
  })

  it('refuses a hand-built policy holding something that is not JSON, naming its path', () => {
    const policy = { ...presets.balanced, scrub: { ...presets.balanced.scrub, maxNodes: Number.POSITIVE_INFINITY } }
    expect(() => policyHash(policy)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('policy.scrub.maxNodes') }))
  })

  it('tells the presets apart', () => {
    const hashes = new Set([presets.permissive, presets.balanced, presets.strict].map(policyHash))
    expect(hashes.size).toBe(3)
  })

  it('does not depend on key order', () => {
    const policy: Policy = {
      ...presets.strict,
      scrub: { ...presets.strict.scrub, patterns: [{ id: 'emp', pattern: 'EMP-[0-9]+', action: 'mask' }] },
    }
    const reversed = reversedKeys(policy)
    expect(Object.keys(reversed)[0]).toBe('checkpointing')
    expect(policyHash(reversed)).toBe(policyHash(policy))
  })

  it('does not depend on the order overrides were written in', () => {
    const a = definePolicy({ logs: { level: 'warn', ship: false }, exceptions: { stack: 'frames', mode: 'scrubbed' } }, noEnv)
    const b = definePolicy({ exceptions: { mode: 'scrubbed', stack: 'frames' }, logs: { ship: false, level: 'warn' } }, noEnv)
    expect(a.hash).toBe(b.hash)
  })

  it('ignores keys whose value is undefined', () => {
    const withUndefined = {
      ...presets.balanced,
      scrub: { ...presets.balanced.scrub, patterns: [{ id: 'emp', pattern: 'E-[0-9]+', caseInsensitive: undefined }] },
    }
    const without = { ...presets.balanced, scrub: { ...presets.balanced.scrub, patterns: [{ id: 'emp', pattern: 'E-[0-9]+' }] } }
    expect(policyHash(withUndefined)).toBe(policyHash(without))
  })

  it('changes with any single field', () => {
    const base = definePolicy({}, noEnv)
    const edits = [
      { logs: { level: 'debug' } },
      { logs: { maxRecordBytes: 16_385 } },
      { logs: { redactPaths: ['req.headers.cookie'] } },
      { exceptions: { stack: 'frames' } },
      { locations: { mode: 'plain' } },
      { inlineValues: { mode: 'encrypt' } },
      { states: { names: 'hash' } },
      { scrub: { detectors: { iban: 'mask' } } },
      { scrub: { sensitiveKeys: ['pin'] } },
      { scrub: { maxNodes: 9_999 } },
      { parameters: { rules: { region: 'allow' } } },
      { checkpointing: false },
    ] as const
    const seen = new Set([base.hash])
    for (const edit of edits) {
      const hash = definePolicy(edit, noEnv).hash
      expect(seen.has(hash), JSON.stringify(edit)).toBe(false)
      seen.add(hash)
    }
  })

  it('changes when rules are reordered, because the first match wins', () => {
    const a = definePolicy({ parameters: { rules: { 'db.host': 'allow', db: 'encrypt' } } }, noEnv)
    const b = definePolicy({ parameters: { rules: { db: 'encrypt', 'db.host': 'allow' } } }, noEnv)
    expect(a.hash).not.toBe(b.hash)
  })

  it('writes parameters.rules as ordered pairs in the canonical JSON', () => {
    const policy = definePolicy({ parameters: { rules: { b: 'drop', a: 'allow' } } }, noEnv)
    expect(canonicalPolicyJson(policy)).toContain('"parameters":{"default":"scrub","rules":[["b","drop"],["a","allow"]]}')
    expect(canonicalPolicyJson(policy).startsWith('{"checkpointing":true,"exceptions":{')).toBe(true)
  })
})
