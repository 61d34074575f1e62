import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PolicyError } from '../../src/errors.js'
import { loadPolicy } from '../../src/policy/load-policy.js'
import { presets } from '../../src/policy/presets.js'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'airlock-policy-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function file(name: string, text: string): Promise<string> {
  const full = path.join(dir, name)
  await writeFile(full, text)
  return full
}

function policyErrorOf(run: () => unknown): PolicyError {
  try {
    run()
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError)
    return err as PolicyError
  }
  throw new Error('expected a PolicyError, nothing was thrown')
}

const YAML_POLICY = `# yaml-language-server: $schema=../docs/policy.schema.json
preset: strict
parameters:
  rules:
    region: allow
    "**.password": drop
logs:
  level: error
scrub:
  detectors: { ipv4: false }
  patterns:
    - id: employee-id
      pattern: "EMP-[0-9]{6}"
`

describe('loadPolicy', () => {
  it.each(['policy.yaml', 'policy.yml', 'POLICY.YAML'])('loads YAML from %s', async (name) => {
    const policy = loadPolicy(await file(name, YAML_POLICY), { env: {} })
    expect(policy.exceptions.mode).toBe('type')
    expect(policy.parameters.rules).toEqual({ region: 'allow', '**.password': 'drop' })
    expect(policy.logs.level).toBe('error')
    expect(policy.scrub.detectors.ipv4).toBe(false)
    expect(policy.scrub.detectors.email).toBe(true)
    expect(policy.scrub.patterns).toEqual([{ id: 'employee-id', pattern: 'EMP-[0-9]{6}' }])
  })

  it('loads JSON, and gives the same policy and hash as the equivalent YAML', async () => {
    const json = {
      $schema: '../docs/policy.schema.json',
      preset: 'strict',
      scrub: { patterns: [{ id: 'employee-id', pattern: 'EMP-[0-9]{6}' }], detectors: { ipv4: false } },
      logs: { level: 'error' },
      parameters: { rules: { region: 'allow', '**.password': 'drop' } },
    }
    const fromJson = loadPolicy(await file('policy.json', JSON.stringify(json)), { env: {} })
    const fromYaml = loadPolicy(await file('same.yaml', YAML_POLICY), { env: {} })
    expect(fromJson).toEqual(fromYaml)
    expect(fromJson.hash).toBe(fromYaml.hash)
  })

  it('applies the environment on top of the file', async () => {
    const policy = loadPolicy(await file('env.yaml', YAML_POLICY), { env: { AIRLOCK_LOG_LEVEL: 'warn' } })
    expect(policy.logs.level).toBe('warn')
  })

  it('reads AIRLOCK_POLICY when given no path', async () => {
    const target = await file('from-env.yaml', 'preset: permissive\nlogs: { ship: false }\n')
    const policy = loadPolicy(undefined, { env: { AIRLOCK_POLICY: target } })
    expect(policy.locations.mode).toBe('plain')
    expect(policy.logs.ship).toBe(false)
  })

  it('an explicit path wins over AIRLOCK_POLICY', async () => {
    const explicit = await file('explicit.yaml', 'preset: strict\n')
    const policy = loadPolicy(explicit, { env: { AIRLOCK_POLICY: path.join(dir, 'missing.yaml') } })
    expect(policy.exceptions.mode).toBe('type')
  })

  it('returns the balanced preset with neither a path nor AIRLOCK_POLICY', () => {
    expect(loadPolicy(undefined, { env: {} })).toEqual(presets.balanced)
  })

  it('names the file and every invalid field', async () => {
    const target = await file('bad.yaml', 'exceptions:\n  mode: ful\nexeptions: {}\n')
    const err = policyErrorOf(() => loadPolicy(target, { env: {} }))
    expect(err.code).toBe('ERR_POLICY_INVALID')
    expect(err.message).toContain(`policy ${target} is invalid`)
    expect(err.issues.map((i) => i.path)).toEqual(['exceptions.mode', 'exeptions'])
  })

  it('reports YAML syntax errors with line and column', async () => {
    const target = await file('syntax.yaml', 'logs:\n  level: info\n  ship: [true\n')
    const err = policyErrorOf(() => loadPolicy(target, { env: {} }))
    expect(err.message).toContain(target)
    expect(err.issues.length).toBeGreaterThan(0)
    expect(err.issues[0]!.message).toMatch(/^YAML [A-Z_]+ at line \d+, column \d+: /)
  })

  it('refuses duplicate YAML keys, naming the line of the second', async () => {
    const target = await file('dup.yaml', 'logs:\n  level: info\n  level: trace\n')
    const err = policyErrorOf(() => loadPolicy(target, { env: {} }))
    expect(err.issues).toHaveLength(1)
    expect(err.issues[0]!.message).toMatch(/^YAML DUPLICATE_KEY at line 3, column 3: /)
  })

  it('refuses YAML warnings such as unknown tags, rather than guessing the value', async () => {
    const target = await file('tag.yaml', 'logs:\n  level: !!weird warn\n')
    const err = policyErrorOf(() => loadPolicy(target, { env: {} }))
    expect(err.issues[0]!.message).toMatch(/^YAML TAG_RESOLVE_FAILED at line 2, column 10: /)
  })

  it('reads YAML 1.2: "yes" is a string, not a boolean', async () => {
    const target = await file('yes.yaml', 'logs:\n  ship: yes\n')
    const err = policyErrorOf(() => loadPolicy(target, { env: {} }))
    expect(err.issues).toEqual([{ path: 'logs.ship', message: 'expected true or false, got "yes"' }])
  })

  it('refuses an empty YAML document', async () => {
    const target = await file('empty.yaml', '# nothing here\n')
    const err = policyErrorOf(() => loadPolicy(target, { env: {} }))
    expect(err.issues).toEqual([{ path: '', message: 'expected a mapping of policy fields, got an empty document' }])
  })

  it('reports malformed JSON', async () => {
    const target = await file('broken.json', '{"logs": {"level": }}')
    const err = policyErrorOf(() => loadPolicy(target, { env: {} }))
    expect(err.message).toContain(target)
    expect(err.issues[0]!.message).toMatch(/^expected valid JSON: /)
  })

  it('refuses a __proto__ key in JSON', async () => {
    const target = await file('proto.json', '{"parameters": {"rules": {"__proto__": "allow"}}}')
    const err = policyErrorOf(() => loadPolicy(target, { env: {} }))
    expect(err.issues).toEqual([{ path: 'parameters.rules.__proto__', message: 'unknown key; "__proto__" is reserved' }])
  })

  it('refuses a __proto__ key in YAML', async () => {
    const target = await file('proto.yaml', 'parameters:\n  rules:\n    __proto__: allow\n')
    const err = policyErrorOf(() => loadPolicy(target, { env: {} }))
    expect(err.issues.map((i) => i.path)).toEqual(['parameters.rules.__proto__'])
  })

  it('refuses an unknown extension', async () => {
    const target = await file('policy.toml', 'preset = "strict"\n')
    const err = policyErrorOf(() => loadPolicy(target, { env: {} }))
    expect(err.issues).toEqual([{ path: '', message: 'expected a .json, .yaml or .yml file, got ".toml"' }])
  })

  it('reports an unreadable file as a PolicyError naming it', async () => {
    const missing = path.join(dir, 'nope.yaml')
    const err = policyErrorOf(() => loadPolicy(missing, { env: {} }))
    expect(err.message).toContain(missing)
    expect(err.issues).toEqual([{ path: '', message: 'cannot read the file (ENOENT)' }])

    const directory = path.join(dir, 'a-directory.yaml')
    await mkdir(directory)
    const dirErr = policyErrorOf(() => loadPolicy(directory, { env: {} }))
    expect(dirErr.issues).toEqual([{ path: '', message: 'cannot read the file (EISDIR)' }])
  })

  it('refuses an empty AIRLOCK_POLICY', () => {
    const err = policyErrorOf(() => loadPolicy(undefined, { env: { AIRLOCK_POLICY: '' } }))
    expect(err.issues[0]!.message).toBe('expected a file path, got an empty string (from AIRLOCK_POLICY)')
  })
})
