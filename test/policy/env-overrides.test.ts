import { describe, expect, it } from 'vitest'
import { PolicyError } from '../../src/errors.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { readPolicyEnv } from '../../src/policy/env-overrides.js'

describe('environment overrides', () => {
  it.each([
    ['false', false],
    ['0', false],
    [' FALSE ', false],
    ['true', true],
    ['1', true],
    ['True', true],
  ])('AIRLOCK_SHIP_LOGS=%j sets logs.ship to %s', (value, expected) => {
    const policy = definePolicy({ logs: { ship: !expected } }, { env: { AIRLOCK_SHIP_LOGS: value } })
    expect(policy.logs.ship).toBe(expected)
  })

  it('AIRLOCK_LOG_LEVEL sets logs.level over the preset and the input', () => {
    expect(definePolicy({ preset: 'strict' }, { env: { AIRLOCK_LOG_LEVEL: 'debug' } }).logs.level).toBe('debug')
    expect(definePolicy({ logs: { level: 'error' } }, { env: { AIRLOCK_LOG_LEVEL: 'WARN' } }).logs.level).toBe('warn')
  })

  it('AIRLOCK_CHECKPOINTING sets checkpointing', () => {
    expect(definePolicy({}, { env: { AIRLOCK_CHECKPOINTING: '1' } }).checkpointing).toBe(true)
    expect(definePolicy({ checkpointing: true }, { env: { AIRLOCK_CHECKPOINTING: 'false' } }).checkpointing).toBe(false)
  })

  it('changes the hash, since it changes the policy', () => {
    const plain = definePolicy({}, { env: {} })
    const shipped = definePolicy({}, { env: { AIRLOCK_SHIP_LOGS: 'false' } })
    expect(shipped.hash).not.toBe(plain.hash)
  })

  it('reads process.env by default', () => {
    const saved = process.env.AIRLOCK_LOG_LEVEL
    process.env.AIRLOCK_LOG_LEVEL = 'fatal'
    try {
      expect(definePolicy().logs.level).toBe('fatal')
    } finally {
      if (saved === undefined) delete process.env.AIRLOCK_LOG_LEVEL
      else process.env.AIRLOCK_LOG_LEVEL = saved
    }
  })

  it.each([
    ['AIRLOCK_SHIP_LOGS', 'maybe', 'expected true, false, 1 or 0, got "maybe"'],
    ['AIRLOCK_SHIP_LOGS', '', 'expected true, false, 1 or 0, got an empty string'],
    ['AIRLOCK_CHECKPOINTING', 'yes', 'expected true, false, 1 or 0, got "yes"'],
    [
      'AIRLOCK_LOG_LEVEL',
      'loud',
      'expected one of "trace" | "debug" | "info" | "warn" | "error" | "fatal", got "loud"',
    ],
  ])('a malformed %s=%j is an error naming the variable', (name, value, message) => {
    let caught: unknown
    try {
      definePolicy({}, { env: { [name]: value } })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(PolicyError)
    const err = caught as PolicyError
    expect(err.code).toBe('ERR_POLICY_INVALID')
    expect(err.issues).toEqual([{ path: name, message }])
    expect(err.message).toContain(name)
  })

  it('readPolicyEnv returns only the variables that are set', () => {
    expect(readPolicyEnv({})).toEqual({ overrides: {}, issues: [] })
    expect(readPolicyEnv({ AIRLOCK_LOG_LEVEL: 'warn', UNRELATED: 'x' })).toEqual({
      overrides: { logs: { level: 'warn' } },
      issues: [],
    })
  })
})
