import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Ledger } from '../../src/audit/ledger.js'
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { runCli } from '../../src/cli/run-cli.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { generateCanaries, type Canary } from '../../src/testing/index.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-cli-scan-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(argv, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {} })
  return { code, out, err }
}

/** A ledger of one parameters event and one log event per canary, under `preset`; high-entropy canaries registered when `register`. */
async function ledgerWith(
  preset: 'balanced' | 'permissive',
  canaries: readonly Canary[],
  { register = true, extra = {} }: { register?: boolean; extra?: Record<string, unknown> } = {},
): Promise<string> {
  const path = join(dir, `${preset}.ndjson`)
  const airlock = new AirlockBoundary({ keys: KeyRing.generate(), controlPlane: new MemoryControlPlane(), ledger: { path }, policy: definePolicy({ preset }, { env: {} }) })
  if (register) for (const c of canaries) if (c.kind === 'high-entropy') airlock.scrubber.register(c.value)
  for (const c of canaries) {
    await airlock.emit({ kind: 'parameters', runId: 'r1', flowName: 'etl', parameters: { note: c.value } })
    await airlock.emit({ kind: 'log', runId: 'r1', level: 'error', msg: `saw ${c.value}`, fields: extra })
  }
  await airlock.close()
  return path
}

function expectNoFullValue(text: string, canaries: readonly Canary[]): void {
  for (const c of canaries) {
    expect(text.includes(c.secret), `${c.kind} printed in full`).toBe(false)
    expect(text.includes(c.marker), `${c.kind} marker printed in full`).toBe(false)
  }
}

describe('airlock audit scan', () => {
  it('is listed, and has --help', async () => {
    expect((await cli(['--help'])).out).toContain('audit scan')
    const help = await cli(['audit', 'scan', '--help'])
    expect(help.code).toBe(0)
    expect(help.out).toContain('usage: airlock audit scan <ledger…> [--canaries FILE] [--registered FILE]')
  })

  it('exits 0 on a balanced ledger, even with every canary given', async () => {
    const canaries = generateCanaries()
    const path = await ledgerWith('balanced', canaries)
    const file = join(dir, 'canaries.json')
    await writeFile(file, JSON.stringify(canaries))
    const result = await cli(['audit', 'scan', path, '--canaries', file])
    expect(result).toMatchObject({ code: 0, err: '' })
    expect(result.out).toBe(`ledger ${path}: 0 findings in ${2 * canaries.length} events (${canaries.length} canaries, 0 registered secrets)\n`)
  })

  it('exits 1 on a permissive ledger, printing seq, channel, path, rule and a masked preview, never a full value', async () => {
    const canaries = generateCanaries()
    const path = await ledgerWith('permissive', canaries)
    const file = join(dir, 'canaries.json')
    await writeFile(file, JSON.stringify(canaries))
    const result = await cli(['audit', 'scan', path, '--canaries', file])
    expect(result.code).toBe(1)
    const lines = result.out.trimEnd().split('\n')
    expect(lines[0]).toMatch(new RegExp(`^ledger ${path}: \\d+ findings in ${2 * canaries.length} events \\(${canaries.length} canaries, 0 registered secrets\\)$`))
    expect(lines[1]).toMatch(/^SEQ +CHANNEL +PATH +RULE +PREVIEW$/)
    const github = canaries.findIndex((c) => c.kind === 'github-token')
    const secret = canaries[github]!.secret
    const marker = canaries[github]!.marker
    // seq of the github canary's parameters event: two events per canary, in order.
    const seq = 2 * github + 1
    const detectorLine = lines.find((l) => l.startsWith(`${seq} `) && / github-token +gh/.test(l))
    expect(detectorLine).toMatch(new RegExp(`^${seq} +parameters +parameters\\.note +github-token +gh\\*{8}${secret.slice(-2)}$`))
    const canaryLine = lines.find((l) => l.startsWith(`${seq + 1} `) && l.includes(`canary #${github + 1} github-token`))
    expect(canaryLine).toMatch(new RegExp(`^${seq + 1} +logs +msg +canary #${github + 1} github-token ${marker[0]}\\*{8}${marker[11]} +gh\\*{8}${secret.slice(-2)}$`))
    // Every planted canary of a detector kind is found; the registered high-entropy ones are masked even under permissive.
    canaries.forEach((c, i) => {
      if (c.kind === 'high-entropy') expect(result.out).not.toContain(`canary #${i + 1} `)
      else expect(result.out, c.kind).toContain(`canary #${i + 1} ${c.kind} `)
    })
    expectNoFullValue(result.out + result.err, canaries)
  })

  it('finds every detector kind without canaries, and registered secrets with --registered (CRLF lines)', async () => {
    // Unregistered: the high-entropy canaries leak under permissive, for --registered to find.
    const canaries = generateCanaries({ register: false })
    const path = await ledgerWith('permissive', canaries, { register: false })
    const bare = await cli(['audit', 'scan', path])
    expect(bare.code).toBe(1)
    for (const c of canaries.filter((x) => x.kind !== 'high-entropy')) expect(bare.out, c.kind).toMatch(new RegExp(` ${c.kind} +\\S+\\n`))
    expect(bare.out).not.toContain('registered-secret')

    const registered = join(dir, 'registered.txt')
    await writeFile(registered, canaries.filter((c) => c.kind === 'high-entropy').map((c) => `${c.value}\r\n`).join('') + '\r\n')
    const withSecrets = await cli(['audit', 'scan', path, '--registered', registered])
    expect(withSecrets.code).toBe(1)
    expect(withSecrets.out).toContain('(0 canaries, 2 registered secrets)')
    expect(withSecrets.out.match(/ registered-secret /g)).toHaveLength(4) // two secrets, each in a parameter and a message
    expectNoFullValue(bare.out + withSecrets.out, canaries)
  })

  it('reads a plain list of canaries, one per line, and a JSON array of strings', async () => {
    const planted = ['first-planted-canary', 'second planted "canary"']
    const path = join(dir, 'ledger.ndjson')
    const airlock = new AirlockBoundary({ keys: KeyRing.generate(), controlPlane: new MemoryControlPlane(), ledger: { path }, policy: definePolicy({ preset: 'permissive' }, { env: {} }) })
    await airlock.emit({ kind: 'flow-run-state', runId: 'r1', flowName: 'etl', state: 'Running', message: planted.join(' and ') })
    await airlock.close()
    const list = join(dir, 'canaries.txt')
    await writeFile(list, `${planted.join('\n')}\n\n`)
    const fromList = await cli(['audit', 'scan', path, '--canaries', list])
    expect(fromList.code).toBe(1)
    expect(fromList.out).toMatch(/^1 +states +message +canary #1 fi\*{8}ry +fi\*{8}ry$/m)
    expect(fromList.out).toMatch(/^1 +states +message +canary #2 se\*{8}y" +se\*{8}y"$/m)
    const json = join(dir, 'canaries.json')
    await writeFile(json, ` ${JSON.stringify(planted)}`)
    const fromJson = await cli(['audit', 'scan', path, '--canaries', json])
    expect(fromJson.out).toBe(fromList.out)
    for (const p of planted) expect(fromList.out.includes(p)).toBe(false)
  })

  it('escapes control characters from the ledger, and marks findings in keys', async () => {
    const path = await ledgerWith('permissive', generateCanaries().slice(0, 1), { extra: { '\u001b[2J\u202e': 'ada@example.com', 'ada@example.com': 1 } })
    const result = await cli(['audit', 'scan', path])
    expect(result.out.includes('\u001b') || result.out.includes('\u202e')).toBe(false)
    expect(result.out).toMatch(/^2 +logs +fields\["\\u001b\[2J\\u202e"\] +email +a\*{8}m$/m)
    expect(result.out).toMatch(/^2 +logs +fields\[key:a\*{8}m\] \(key\) +email +a\*{8}m$/m)
  })

  it('finds an email or a token held in a transform path, marked as in the transform record, masked', async () => {
    const email = 'grace@example.org'
    const token = 'ghp_R8x2Lq9Zt4Vw7Ns1Kd6Pf3Hy5Jm0Bc2Xe8Ga'
    const path = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path })
    await ledger.append({
      channel: 'parameters',
      eventId: 'p1',
      policyHash: 'ph1.test',
      // The event is clean: what leaked is the key the policy redacted under.
      event: { kind: 'parameters', parameters: { '[REDACTED:email]': '[REDACTED:email]' } },
      transforms: [
        { path: `parameters[${JSON.stringify(email)}]`, rule: 'email', action: 'redact' },
        { path: `parameters.${token}`, rule: 'github-token', action: 'redact' },
      ],
      status: 'sent',
    })
    await ledger.close()
    const result = await cli(['audit', 'scan', path])
    expect(result.code).toBe(1)
    expect(result.out).toMatch(/^ledger .*: 2 findings in 1 events/)
    expect(result.out).toMatch(/^1 +parameters +transforms\[0\]\.path \(transform record\) +email +gr\*{8}rg$/m)
    expect(result.out).toMatch(/^1 +parameters +transforms\[1\]\.path \(transform record\) +github-token +gh\*{8}Ga$/m)
    expect(result.out).not.toContain(email)
    expect(result.out).not.toContain(token.slice(4, 30))
  })

  it('exits 1 on an empty ledger: there is nothing to vouch for', async () => {
    const path = join(dir, 'empty.ndjson')
    await writeFile(path, '')
    const result = await cli(['audit', 'scan', path])
    expect(result.code).toBe(1)
    expect(result.out).toContain(`ledger ${path} is empty: it holds no entries, so there was nothing to scan`)
  })

  it('exits 1 naming the first bad seq when the ledger does not verify', async () => {
    const path = await ledgerWith('balanced', generateCanaries().slice(0, 2))
    const lines = (await readFile(path, 'utf8')).split('\n')
    lines[2] = lines[2]!.replace('"flowName":"etl"', '"flowName":"elt"')
    await writeFile(path, lines.join('\n'))
    const result = await cli(['audit', 'scan', path])
    expect(result.code).toBe(1)
    expect(result.out).toContain('0 findings in 2 events')
    expect(result.out).toContain(`ledger ${path} is NOT intact: seq 3 and later were not scanned: `)
  })

  it('exits 2 on bad usage, naming the file and line, never a value', async () => {
    const path = await ledgerWith('balanced', [])
    const short = join(dir, 'short.txt')
    await writeFile(short, 'long-enough-canary\nab1\n')
    const cases: [string[], RegExp][] = [
      [['audit', 'scan'], /missing <ledger…>/],
      [['audit', 'scan', join(dir, 'absent.ndjson')], /no ledger at/],
      [['audit', 'scan', path, '--bogus'], /Unknown option '--bogus'/],
      [['audit', 'scan', path, '--canaries', join(dir, 'absent.json')], /cannot read canaries file .*absent\.json: ENOENT/],
      [['audit', 'scan', path, '--canaries', short], /short\.txt line 2: a canary or secret must be at least 5 characters/],
    ]
    for (const [argv, message] of cases) {
      const result = await cli(argv)
      expect(result.code, argv.join(' ')).toBe(2)
      expect(result.err).toMatch(message)
      expect(result.err).toContain('(ERR_USAGE)')
      expect(result.err).not.toContain('ab1')
    }
    const files: [string, string, RegExp][] = [
      ['broken.json', '[{"secret": "abcdef"', /starts like a JSON array but is not valid JSON/],
      ['object.json', '[{"kind": "x"}]', /item 0 is neither a string nor an object with a string secret/],
      ['kind.json', '[{"secret": "abcdef", "kind": 7}]', /item 0 has a kind that is not a string/],
      ['short.json', '["abcdef", "abc"]', /item 1: a canary or secret must be at least 5/],
      ['empty.txt', '\n\r\n', /holds no canary/],
    ]
    for (const [name, text, message] of files) {
      await writeFile(join(dir, name), text)
      const result = await cli(['audit', 'scan', path, '--canaries', join(dir, name)])
      expect(result, name).toMatchObject({ code: 2, err: expect.stringMatching(message) })
    }
    await writeFile(join(dir, 'empty-registered.txt'), '')
    expect(await cli(['audit', 'scan', path, '--registered', join(dir, 'empty-registered.txt')])).toMatchObject({ code: 2, err: expect.stringContaining('holds no secret') })
  })
})

// Issue 14, item 6: a scan that follows the policy, so it can gate CI.
describe('airlock audit scan --policy', () => {
  async function ledgerUnder(policyText: string, name: string): Promise<{ ledger: string; policy: string }> {
    const policy = join(dir, `${name}.yaml`)
    await writeFile(policy, policyText)
    const ledger = join(dir, `${name}.ndjson`)
    const { loadPolicy } = await import('../../src/policy/load-policy.js')
    const airlock = new AirlockBoundary({ keys: KeyRing.generate(), controlPlane: new MemoryControlPlane(), ledger: { path: ledger }, policy: loadPolicy(policy, { env: {} }) })
    await airlock.emit({ kind: 'log', runId: 'r1', level: 'error', msg: 'upstream 10.20.30.40 refused', fields: { peer: '192.168.7.9', user: 'ada@example.com' } })
    await airlock.close()
    return { ledger, policy }
  }

  it('runs no detector the policy turns off, and every other one', async () => {
    const { ledger, policy } = await ledgerUnder('preset: balanced\nscrub:\n  detectors: { ipv4: false }\n', 'ipv4-off')
    // Without the policy, the addresses the policy lets out are findings.
    const strict = await cli(['audit', 'scan', ledger])
    expect(strict.code).toBe(1)
    expect(strict.out).toContain('ipv4')
    const following = await cli(['audit', 'scan', ledger, '--policy', policy])
    expect(following).toMatchObject({ code: 0, out: expect.stringContaining('detectors off: ipv4') })
    expect(following.out).toContain('0 findings')
  })

  it('follows a pack switched off, and still finds what an enabled detector sees', async () => {
    const { ledger, policy } = await ledgerUnder('preset: balanced\nscrub:\n  packs: { network: false }\n', 'network-off')
    expect((await cli(['audit', 'scan', ledger, '--policy', policy])).code).toBe(0)
    // A policy that lets emails out too, applied to a scan of this ledger, changes nothing: the email was scrubbed.
    const other = join(dir, 'email-off.yaml')
    await writeFile(other, 'preset: balanced\n')
    const scan = await cli(['audit', 'scan', ledger, '--policy', other])
    expect(scan.code).toBe(1)
    expect(scan.out).toMatch(/ipv4/)
  })

  it('refuses an invalid --policy file as a usage error', async () => {
    const { ledger } = await ledgerUnder('preset: balanced\n', 'plain')
    const bad = join(dir, 'bad.yaml')
    await writeFile(bad, 'scrub:\n  detectors: { ipv5: false }\n')
    expect(await cli(['audit', 'scan', ledger, '--policy', bad])).toMatchObject({ code: 2, err: expect.stringContaining(`--policy ${bad} is not a valid policy`) })
  })
})
