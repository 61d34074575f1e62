import { describe, expect, it } from 'vitest'
import { PolicyError } from '../../src/errors.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import type { PolicyInput } from '../../src/policy/define-policy.js'
import { policyHash } from '../../src/policy/policy-hash.js'
import { presets } from '../../src/policy/presets.js'
import { policySchema } from '../../src/policy/schema.js'

const noEnv = { env: {} }

function policyErrorOf(run: () => unknown): PolicyError {
  try {
    run()
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError)
    return err as PolicyError
  }
  throw new Error('expected a PolicyError, nothing was thrown')
}

describe('definePolicy', () => {
  it('defaults to the balanced preset', () => {
    expect(definePolicy(undefined, noEnv)).toEqual(presets.balanced)
    expect(definePolicy({}, noEnv)).toEqual(presets.balanced)
  })

  it('starts from the named preset', () => {
    expect(definePolicy({ preset: 'strict' }, noEnv)).toEqual(presets.strict)
    expect(definePolicy({ preset: 'permissive' }, noEnv)).toEqual(presets.permissive)
  })

  it('merges objects field by field, keeping the preset where nothing is given', () => {
    const policy = definePolicy({ preset: 'strict', logs: { level: 'error' }, exceptions: { maxCauseDepth: 2 } }, noEnv)
    expect(policy.logs).toEqual({ ...presets.strict.logs, level: 'error' })
    expect(policy.exceptions).toEqual({ mode: 'type', stack: 'drop', maxCauseDepth: 2 })
    expect(policy.locations).toEqual(presets.strict.locations)
  })

  it('merges scrub.detectors id by id', () => {
    const policy = definePolicy({ scrub: { detectors: { email: false, ipv4: 'hash' } } }, noEnv)
    expect(policy.scrub.detectors).toEqual({ ...presets.balanced.scrub.detectors, email: false, ipv4: 'hash' })
  })

  it('takes arrays and parameters.rules exactly as given, in order', () => {
    // Every preset's arrays and rules are empty, so "replace" and "concatenate"
    // only differ in principle; what matters is that order survives.
    const policy = definePolicy(
      { parameters: { rules: { 'db.host': 'allow', db: 'encrypt', a: 'drop' } }, logs: { redactPaths: ['b', 'a'] } },
      noEnv,
    )
    expect(Object.keys(policy.parameters.rules)).toEqual(['db.host', 'db', 'a'])
    expect(policy.logs.redactPaths).toEqual(['b', 'a'])
  })

  it('treats a field set to undefined as not given', () => {
    expect(definePolicy({ logs: { level: undefined }, exceptions: undefined }, noEnv)).toEqual(presets.balanced)
  })

  it('returns a deeply frozen policy with a non-enumerable hash', () => {
    const policy = definePolicy({ preset: 'strict', parameters: { rules: { region: 'allow' } } }, noEnv)
    expect(Object.isFrozen(policy)).toBe(true)
    expect(Object.isFrozen(policy.parameters.rules)).toBe(true)
    expect(() => {
      ;(policy.parameters.rules as Record<string, string>).region = 'drop'
    }).toThrow(TypeError)
    expect(policy.hash).toMatch(/^ph1\.[A-Za-z0-9_-]{43}$/)
    expect(policy.hash).toBe(policyHash(policy))
    expect(Object.keys(policy)).not.toContain('hash')
    expect(JSON.parse(JSON.stringify(policy))).not.toHaveProperty('hash')
    // a resolved policy is itself valid input and a valid Policy
    expect(policySchema.safeParse(policy).success).toBe(true)
    expect(definePolicy(policy, noEnv).hash).toBe(policy.hash)
  })

  it('does not share objects with the preset', () => {
    const policy = definePolicy({}, noEnv)
    expect(policy.scrub).not.toBe(presets.balanced.scrub)
    expect(policy.scrub.detectors).not.toBe(presets.balanced.scrub.detectors)
  })

  it('accepts valid custom patterns', () => {
    const policy = definePolicy(
      { scrub: { patterns: [{ id: 'employee-id', pattern: 'EMP-[0-9]{6}', caseInsensitive: true, action: 'mask' }] } },
      noEnv,
    )
    expect(policy.scrub.patterns).toEqual([
      { id: 'employee-id', pattern: 'EMP-[0-9]{6}', caseInsensitive: true, action: 'mask' },
    ])
  })
})

describe('definePolicy errors', () => {
  it('names the path, the expected values and the value found', () => {
    const err = policyErrorOf(() => definePolicy({ exceptions: { mode: 'ful' } } as unknown as PolicyInput, noEnv))
    expect(err.code).toBe('ERR_POLICY_INVALID')
    expect(err.issues).toEqual([
      {
        path: 'exceptions.mode',
        message: 'expected one of "full" | "scrubbed" | "type" | "fingerprint" | "encrypted", got "ful"',
      },
    ])
    expect(err.message).toContain('exceptions.mode: expected one of')
  })

  it('lists every problem at once', () => {
    const err = policyErrorOf(() =>
      definePolicy(
        {
          logs: { ship: 'yes', maxRecordBytes: 0 },
          exceptions: { maxCauseDepth: 1.5 },
          scrub: { detectors: { jwt: 'zap' } },
        } as unknown as PolicyInput,
        noEnv,
      ),
    )
    expect(err.issues).toEqual([
      { path: 'logs.ship', message: 'expected true or false, got "yes"' },
      { path: 'logs.maxRecordBytes', message: 'expected a number > 0, got 0' },
      { path: 'exceptions.maxCauseDepth', message: 'expected an integer, got 1.5' },
      {
        path: 'scrub.detectors.jwt',
        message: 'expected true or false or one of "redact" | "mask" | "hash" | "remove", got "zap"',
      },
    ])
  })

  it('rejects unknown keys by name, suggesting the intended one', () => {
    const err = policyErrorOf(() =>
      definePolicy({ exeptions: { mode: 'type' }, logs: { lvl: 'warn' }, scrub: { detectors: { emial: false } } } as unknown as PolicyInput, noEnv),
    )
    expect(err.issues).toEqual([
      { path: 'logs.lvl', message: 'unknown key; did you mean "level"?' },
      { path: 'scrub.detectors.emial', message: 'unknown key; did you mean "email"?' },
      { path: 'exeptions', message: 'unknown key; did you mean "exceptions"?' },
    ])
  })

  it('lists the allowed keys when no known key is close', () => {
    const err = policyErrorOf(() => definePolicy({ states: { colour: 'red' } } as unknown as PolicyInput, noEnv))
    expect(err.issues).toEqual([{ path: 'states.colour', message: 'unknown key; expected one of messages, names' }])
  })

  it('rejects an unknown preset and a wrong version', () => {
    const err = policyErrorOf(() => definePolicy({ preset: 'paranoid', version: 2 } as unknown as PolicyInput, noEnv))
    expect(err.issues.map((i) => i.path)).toEqual(['preset', 'version'])
    expect(err.issues[0]!.message).toBe('expected one of "permissive" | "balanced" | "strict", got "paranoid"')
    expect(err.issues[1]!.message).toBe('expected 1, got 2')
  })

  it('rejects input that is not an object', () => {
    const err = policyErrorOf(() => definePolicy(null as unknown as PolicyInput, noEnv))
    expect(err.issues).toEqual([{ path: '', message: 'expected an object, got null' }])
    expect(err.message).toContain('(root): expected an object, got null')
  })

  it('rejects a Map, a Date or a class instance given as a section, rather than merging it', () => {
    class Exceptions {
      mode = 'full'
    }
    const input = { logs: new Map([['level', 'debug']]), parameters: { rules: new Map([['user.*', 'allow']]) }, states: new Date(0), exceptions: new Exceptions() }
    const err = policyErrorOf(() => definePolicy(input as unknown as PolicyInput, noEnv))
    expect(err.code).toBe('ERR_POLICY_INVALID')
    expect(err.issues).toEqual([
      { path: 'logs', message: 'expected a mapping of policy fields, got an instance of Map' },
      { path: 'parameters.rules', message: 'expected a mapping of policy fields, got an instance of Map' },
      { path: 'states', message: 'expected a mapping of policy fields, got an instance of Date' },
      { path: 'exceptions', message: 'expected a mapping of policy fields, got an instance of Exceptions' },
    ])
    const root = policyErrorOf(() => definePolicy(new Map() as unknown as PolicyInput, noEnv))
    expect(root.issues).toEqual([{ path: '', message: 'expected a mapping of policy fields, got an instance of Map' }])
  })

  it('merges sections without a prototype, as plain objects', () => {
    const logs = Object.assign(Object.create(null) as object, { level: 'debug' })
    expect(definePolicy({ logs } as PolicyInput, noEnv).logs.level).toBe('debug')
  })

  it('truncates long found values', () => {
    const long = 'x'.repeat(5000)
    const err = policyErrorOf(() => definePolicy({ logs: { level: long } } as unknown as PolicyInput, noEnv))
    expect(err.message).not.toContain(long)
    expect(err.issues[0]!.message).toMatch(/got "x{40}"… \(5000 characters\)$/)
  })

  it('quotes rule keys that are not plain words and rejects malformed globs', () => {
    const err = policyErrorOf(() => definePolicy({ parameters: { rules: { 'db..password': 'drop', 'a**': 'allow' } } }, noEnv))
    expect(err.issues).toEqual([
      {
        path: 'parameters.rules["db..password"]',
        message: 'invalid key: expected dot-separated non-empty segments, like db.password, *.token or **.secret, got "db..password"',
      },
      {
        path: 'parameters.rules["a**"]',
        message: 'invalid key: expected ** to stand alone as a whole segment, like **.secret, got "a**"',
      },
    ])
  })

  it('refuses a __proto__ key, which zod would drop silently', () => {
    const input = JSON.parse('{"parameters": {"rules": {"__proto__": "allow", "region": "allow"}}}') as PolicyInput
    const err = policyErrorOf(() => definePolicy(input, noEnv))
    expect(err.issues).toEqual([{ path: 'parameters.rules.__proto__', message: 'unknown key; "__proto__" is reserved' }])
  })

  it('refuses duplicate custom pattern ids and ids of built-in detectors', () => {
    const err = policyErrorOf(() =>
      definePolicy(
        {
          scrub: {
            patterns: [
              { id: 'emp', pattern: 'EMP-[0-9]+' },
              { id: 'emp', pattern: 'E-[0-9]+' },
              { id: 'jwt', pattern: 'ey[A-Za-z]+' },
            ],
          },
        },
        noEnv,
      ),
    )
    expect(err.issues).toEqual([
      { path: 'scrub.patterns.1.id', message: 'duplicate id "emp", already used by scrub.patterns.0; ids must be unique' },
      { path: 'scrub.patterns.2.id', message: '"jwt" is a built-in detector id; a custom pattern needs an id of its own' },
    ])
  })

  it('reports input problems and environment problems together', () => {
    const err = policyErrorOf(() =>
      definePolicy({ exceptions: { mode: 'ful' } } as unknown as PolicyInput, { env: { AIRLOCK_SHIP_LOGS: 'maybe' } }),
    )
    expect(err.issues.map((i) => i.path)).toEqual(['exceptions.mode', 'AIRLOCK_SHIP_LOGS'])
  })
})

describe('definePolicy pattern ids', () => {
  it('refuses an id that is not lowercase letters, digits and dashes', () => {
    let caught: unknown
    try {
      definePolicy({ scrub: { patterns: [{ id: 'Employee ID', pattern: 'EMP-[0-9]+' }] } }, { env: {} })
    } catch (err) {
      caught = err
    }
    expect((caught as PolicyError).issues).toEqual([
      {
        path: 'scrub.patterns.0.id',
        message:
          'expected a lowercase id of letters, digits and dashes, 1 to 64 characters, not starting with a dash, got "Employee ID"',
      },
    ])
  })
})
