import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Ledger } from '../../src/audit/ledger.js'
import { generateLedgerSigningKey } from '../../src/audit/ledger-signing-key.js'
import { PROGRESS_EVERY } from '../../src/audit/verify-ledger.js'
import { runCli } from '../../src/cli/run-cli.js'
import { auditReport } from '../../src/cli/audit-report.js'
import { auditScan } from '../../src/cli/audit-scan.js'
import { auditVerify } from '../../src/cli/audit-verify.js'
import type { Command } from '../../src/cli/cli-io.js'
import { errorsOpen } from '../../src/cli/errors-open.js'
import { keysGenerate } from '../../src/cli/keys-generate.js'
import { policyCheck } from '../../src/cli/policy-check.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-cli-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(argv, {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env,
  })
  return { code, out, err }
}

async function writeLedger(path: string, count: number, signingKey?: object): Promise<void> {
  const ledger = await Ledger.open({ path, ...(signingKey === undefined ? {} : { signingKey }) })
  for (let i = 0; i < count; i++) {
    await ledger.append({
      channel: i % 2 === 0 ? 'parameters' : 'states',
      eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      policyHash: 'ph1.test',
      event: { kind: 'parameters', parameters: { email: '[REDACTED:email]', n: i } },
      transforms: [{ path: 'parameters.email', rule: 'email', action: 'redact' }],
      status: 'sent',
    })
  }
  await ledger.close()
}

describe('airlock CLI', () => {
  it('prints usage, and --help for every verb', async () => {
    const top = await cli(['--help'])
    expect(top.code).toBe(0)
    for (const verb of ['audit verify', 'audit report', 'keys generate', 'policy check', 'errors open']) {
      expect(top.out).toContain(verb)
      const help = await cli([...verb.split(' '), '--help'])
      expect(help.code).toBe(0)
      expect(help.out).toContain(`usage: airlock ${verb}`)
    }
    expect((await cli([])).code).toBe(2)
  })

  it('gives clear errors for unknown verbs, bad flags and missing files', async () => {
    expect(await cli(['audit', 'frobnicate'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown command "audit frobnicate"') })
    expect(await cli(['audit'])).toMatchObject({ code: 2, err: expect.stringContaining('choose one of: audit verify, audit report') })
    expect(await cli(['audit', 'verify', 'x.ndjson', '--bogus'])).toMatchObject({ code: 2, err: expect.stringContaining("Unknown option '--bogus'") })
    expect(await cli(['audit', 'verify'])).toMatchObject({ code: 2, err: expect.stringContaining('missing <ledger…>') })
    expect(await cli(['audit', 'verify', join(dir, 'absent.ndjson')])).toMatchObject({ code: 2, err: expect.stringContaining('no ledger at') })
    expect(await cli(['audit', 'report', join(dir, 'absent.ndjson'), '--format', 'pdf'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--format must be one of text, json'),
    })
    expect(await cli(['policy', 'check', join(dir, 'absent.yaml')])).toMatchObject({ code: 1 })
  })

  it('audit verify: exit 0 when intact, exit 1 naming the first bad seq', async () => {
    const path = join(dir, 'ledger.ndjson')
    await writeLedger(path, 5)
    const ok = await cli(['audit', 'verify', path])
    expect(ok).toMatchObject({ code: 0 })
    expect(ok.out).toContain('intact: 5 entries')
    const lines = (await readFile(path, 'utf8')).split('\n')
    lines[2] = (lines[2] ?? '').replace('"n":2', '"n":7')
    await writeFile(path, lines.join('\n'))
    const bad = await cli(['audit', 'verify', path])
    expect(bad.code).toBe(1)
    expect(bad.out).toContain('first bad entry is seq 3')
  })

  it('audit verify --public-key checks the signed checkpoints, and catches a cut-off end', async () => {
    const { privateKey, publicKey } = await generateLedgerSigningKey()
    const path = join(dir, 'signed.ndjson')
    const keyPath = join(dir, 'ledger.pub.json')
    await writeFile(keyPath, JSON.stringify(publicKey))
    await writeLedger(path, 4, privateKey)
    expect(await cli(['audit', 'verify', path, '--public-key', keyPath])).toMatchObject({ code: 0, out: expect.stringMatching(/signed checkpoints? verified/) })
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n')
    await writeFile(path, lines.slice(0, 3).join('\n') + '\n')
    expect(await cli(['audit', 'verify', path, '--public-key', keyPath])).toMatchObject({ code: 1 })
    // Without the key, whole lines cut from the end are undetectable: the CLI says signatures were not checked.
    expect(await cli(['audit', 'verify', path])).toMatchObject({ code: 0, out: expect.stringContaining('signatures not checked') })
    const privatePath = join(dir, 'ledger.key.json')
    await writeFile(privatePath, JSON.stringify(privateKey))
    expect(await cli(['audit', 'verify', path, '--public-key', privatePath])).toMatchObject({ code: 2, err: expect.stringContaining('holds a private key') })
  })

  it('audit verify, report and scan: an empty ledger is empty, exit 1, never intact', async () => {
    const path = join(dir, 'empty.ndjson')
    await writeFile(path, '')
    const { publicKey } = await generateLedgerSigningKey()
    const keyPath = join(dir, 'ledger.pub.json')
    await writeFile(keyPath, JSON.stringify(publicKey))
    for (const flags of [[], ['--public-key', keyPath]]) {
      expect(await cli(['audit', 'verify', path, ...flags])).toEqual({
        code: 1,
        out: `ledger ${path} is empty: it holds no entries, so it shows nothing about what was sent\n`,
        err: '',
      })
    }
    const text = await cli(['audit', 'report', path])
    expect(text.code).toBe(1)
    expect(text.out).toContain('verified:    EMPTY: the ledger holds no entries')
    expect(text.out).not.toMatch(/intact/i)
    const json = await cli(['audit', 'report', path, '--format', 'json'])
    expect(json.code).toBe(1)
    expect((JSON.parse(json.out) as { verified: unknown }).verified).toMatchObject({ ok: false, empty: true, firstBadSeq: 1, entries: 0 })
    const html = await cli(['audit', 'report', path, '--format', 'html'])
    expect(html.code).toBe(1)
    expect(html.out).toContain('data-verified="false" data-status="empty"')
    expect((await cli(['audit', 'scan', path])).code).toBe(1)
  })

  it('audit verify shows progress on stderr on a TTY, and stays quiet otherwise', async () => {
    const path = join(dir, 'big.ndjson')
    const ledger = await Ledger.open({ path })
    const appends: Promise<unknown>[] = []
    for (let i = 0; i < PROGRESS_EVERY + 5; i++) {
      appends.push(
        ledger.append({
          channel: 'logs',
          eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          policyHash: 'ph1.test',
          event: { kind: 'log', msg: 'x' },
          transforms: [],
          status: 'sent',
        }),
      )
    }
    await Promise.all(appends)
    await ledger.close()
    let err = ''
    const code = await runCli(['audit', 'verify', path], {
      stdout: { write: () => true },
      stderr: { write: (t: string) => (err += t), isTTY: true },
      env: {},
    })
    expect(code).toBe(0)
    expect(err).toContain('verified 100,000 entries')
    expect((await cli(['audit', 'verify', path])).err).toBe('')
  }, 60_000)

  it('audit report: text and json, to stdout or a file', async () => {
    const path = join(dir, 'ledger.ndjson')
    await writeLedger(path, 6)
    const text = await cli(['audit', 'report', path])
    expect(text.code).toBe(0)
    expect(text.out).toMatch(/parameters\s+3/)
    expect(text.out).toContain('parameters.email')
    const out = join(dir, 'report.json')
    expect(await cli(['audit', 'report', path, '--format', 'json', '--out', out])).toMatchObject({ code: 0 })
    const report = JSON.parse(await readFile(out, 'utf8')) as { perChannel: Record<string, number>; transforms: Record<string, Record<string, number>> }
    expect(report.perChannel).toEqual({ parameters: 3, states: 3 })
    expect(report.transforms).toEqual({ email: { redact: 6 } })
  })

  it('keys generate: a key set KeyRing reads, never overwriting a file, and a ledger key pair', async () => {
    const out = join(dir, 'keys.json')
    const first = await cli(['keys', 'generate', '--out', out, '--ledger-key', join(dir, 'ledger.key.json')])
    expect(first.code).toBe(0)
    const ring = KeyRing.fromFile(out)
    expect(first.out).toContain(ring.activeKid)
    expect(first.out).not.toContain((ring.export().keys[0] as { k: string }).k)
    expect(JSON.parse(await readFile(join(dir, 'ledger.key.json.pub.json'), 'utf8'))).not.toHaveProperty('d')
    expect(await cli(['keys', 'generate', '--out', out])).toMatchObject({ code: 2, err: expect.stringContaining('refusing to overwrite') })
    const printed = await cli(['keys', 'generate'])
    expect(KeyRing.fromJSON(JSON.parse(printed.out)).list()).toHaveLength(1)
  })

  it('policy check: valid prints the hash; invalid lists each problem with its path', async () => {
    const good = join(dir, 'good.yaml')
    await writeFile(good, 'preset: strict\nparameters:\n  rules:\n    region: allow\n')
    expect(await cli(['policy', 'check', good])).toMatchObject({ code: 0, out: expect.stringMatching(/valid \(hash ph1\./) })
    const bad = join(dir, 'bad.yaml')
    await writeFile(bad, 'exceptions:\n  mode: ful\nlogs:\n  level: loud\n')
    const result = await cli(['policy', 'check', bad])
    expect(result.code).toBe(1)
    expect(result.out).toContain('exceptions.mode:')
    expect(result.out).toContain('"ful"')
    expect(result.out).toContain('logs.level:')
  })

  it('errors open: only the key holder reads an encrypted error', async () => {
    const keys = KeyRing.generate()
    const token = await new ValueCipher(keys).encrypt(JSON.stringify({ type: 'Error', message: 'boom at db-7' }))
    const opened = await cli(['errors', 'open', token], { AIRLOCK_KEYS: JSON.stringify(keys.export()) })
    expect(opened.code).toBe(0)
    expect(JSON.parse(opened.out)).toEqual({ type: 'Error', message: 'boom at db-7' })
    const keyFile = join(dir, 'other.json')
    await writeFile(keyFile, JSON.stringify(KeyRing.generate().export()))
    expect(await cli(['errors', 'open', token, '--keys', keyFile])).toMatchObject({ code: 1, err: expect.stringContaining('ERR_UNKNOWN_KID') })
    expect(await cli(['errors', 'open', 'not-a-token'])).toMatchObject({ code: 2 })
  })

  it('runs as the real airlock binary', async () => {
    const run = promisify(execFile)
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'generate'], { cwd: process.cwd() })
    expect(KeyRing.fromJSON(JSON.parse(stdout)).list()).toHaveLength(1)
    const failed = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', 'verify', join(dir, 'none')]).catch((e: { code: number; stderr: string }) => e)
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringContaining('no ledger at') })
  })
})

// Issue 14, item 7: what a new user met at the command line.
describe('airlock CLI details', () => {
  it('names the flag, not the API parameter, when --public-key is no JWK, and exits 2 (a usage error)', async () => {
    const path = join(dir, 'ledger.ndjson')
    await writeLedger(path, 2)
    const cases: [string, string][] = [
      ['not-a-jwk.json', '{"kty":"OKP"}'],
      ['key-set.json', JSON.stringify(KeyRing.generate().export())],
      ['not-json.json', 'nonsense'],
      ['secret.json', JSON.stringify({ kty: 'oct', k: 'AAAA' })],
    ]
    for (const [name, text] of cases) {
      const keyPath = join(dir, name)
      await writeFile(keyPath, text)
      for (const verb of [['audit', 'verify'], ['audit', 'report']]) {
        const run = await cli([...verb, path, '--public-key', keyPath])
        expect(run, `${verb.join(' ')} ${name}`).toMatchObject({ code: 2, err: expect.stringContaining(`--public-key ${keyPath}`) })
        expect(run.err).not.toContain('publicKey')
      }
    }
  })

  it('every flag a help text names exists on its command (or on the command named before it)', async () => {
    const commands: Record<string, Command> = {
      'audit verify': auditVerify,
      'audit report': auditReport,
      'audit scan': auditScan,
      'keys generate': keysGenerate,
      'policy check': policyCheck,
      'errors open': errorsOpen,
    }
    const names = Object.keys(commands).join('|')
    for (const [name, command] of Object.entries(commands)) {
      for (const match of command.usage.matchAll(new RegExp(`(?:(${names}) )?(--[a-z][a-z-]*)`, 'g'))) {
        const owner = match[1] ?? name
        const flag = match[2]!
        if (flag === '--help') continue
        const run = await cli([...owner.split(' '), flag, 'x', '--help'])
        expect(run.err, `${name} --help names ${owner} ${flag}`).not.toContain('Unknown option')
      }
    }
  })

  it('suggests the verb a typo meant, and prints --version', async () => {
    expect(await cli(['audit', 'verfy', 'x'])).toMatchObject({ code: 2, err: expect.stringContaining('did you mean "airlock audit verify"') })
    expect(await cli(['aduit', 'scan', 'x'])).toMatchObject({ code: 2, err: expect.stringContaining('did you mean "airlock audit scan"') })
    expect(await cli(['keys', 'gen'])).toMatchObject({ code: 2, err: expect.stringContaining('did you mean "airlock keys generate"') })
    expect(await cli(['report', 'x'])).toMatchObject({ code: 2, err: expect.stringContaining('did you mean "airlock audit report"') })
    expect((await cli(['frobnicate'])).err).not.toContain('did you mean')
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    for (const flag of ['--version', '-V']) expect(await cli([flag])).toEqual({ code: 0, out: `airlock-sdk ${manifest.version}\n`, err: '' })
  })

  it('policy check reads AIRLOCK_POLICY when no file is given, as loadPolicy does', async () => {
    const good = join(dir, 'good.yaml')
    await writeFile(good, 'preset: strict\n')
    const bad = join(dir, 'bad.yaml')
    await writeFile(bad, 'preset: lenient\n')
    expect(await cli(['policy', 'check'], { AIRLOCK_POLICY: good })).toMatchObject({ code: 0, out: expect.stringContaining(`policy ${good} (from AIRLOCK_POLICY) is valid`) })
    expect(await cli(['policy', 'check'], { AIRLOCK_POLICY: bad })).toMatchObject({ code: 1, out: expect.stringContaining('is invalid') })
    expect(await cli(['policy', 'check'], {})).toMatchObject({ code: 2, err: expect.stringContaining('AIRLOCK_POLICY is not set') })
    expect(await cli(['policy', 'check', good], { AIRLOCK_POLICY: bad })).toMatchObject({ code: 0 })
  })

  it('audit verify says a control-plane file is not a ledger', async () => {
    const path = join(dir, 'control-plane.ndjson')
    await writeFile(path, '{"v":1,"kind":"flow-run-state","id":"00000000-0000-4000-8000-000000000001","runId":"r","time":"2026-11-21T09:00:00.000Z","policyHash":"ph1.x","flowName":"etl","state":"Running"}\n')
    const run = await cli(['audit', 'verify', path])
    expect(run).toMatchObject({ code: 1, out: expect.stringContaining(`${path} is not a ledger`) })
    expect(run.out).not.toContain('NOT intact')
    expect(run.out).toContain('control plane')
  })

  it('errors open without keys names --keys, and a bad key file is a usage error', async () => {
    const token = await new ValueCipher(KeyRing.generate()).encrypt('{"type":"Error"}')
    expect(await cli(['errors', 'open', token], {})).toMatchObject({ code: 2, err: expect.stringContaining('--keys FILE') })
    const badKeys = join(dir, 'bad-keys.json')
    await writeFile(badKeys, '{"kty":"OKP"}')
    expect(await cli(['errors', 'open', token, '--keys', badKeys])).toMatchObject({ code: 2, err: expect.stringContaining(`--keys ${badKeys}`) })
    expect(await cli(['errors', 'open', token], { AIRLOCK_KEYS: 'not json' })).toMatchObject({ code: 2, err: expect.stringContaining('AIRLOCK_KEYS') })
  })

  it('counts in the singular when there is one', async () => {
    const path = join(dir, 'ledger.ndjson')
    const { privateKey, publicKey } = await generateLedgerSigningKey()
    const event = { channel: 'parameters', eventId: 'e1', policyHash: 'ph1.test', event: { runId: 'r1' }, transforms: [], status: 'sent' } as const
    const ledger = await Ledger.open({ path, signingKey: privateKey })
    await ledger.append(event)
    await ledger.close()
    const keyPath = join(dir, 'ledger.pub.json')
    await writeFile(keyPath, JSON.stringify(publicKey))
    const signed = await cli(['audit', 'verify', path, '--public-key', keyPath])
    expect(signed).toMatchObject({ code: 0, out: expect.stringContaining('intact: 2 entries, 1 signed checkpoint verified') })
    const unsignedPath = join(dir, 'unsigned.ndjson')
    const unsigned = await Ledger.open({ path: unsignedPath })
    await unsigned.append(event)
    await unsigned.close()
    expect(await cli(['audit', 'verify', unsignedPath])).toMatchObject({ code: 0, out: expect.stringContaining('intact: 1 entry,') })
  })
})
