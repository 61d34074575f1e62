// `airlock keys generate --sealing`, and the verbs that decrypt refusing a
// write-only worker's key set (issue 17, part 1).
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run-cli.js'
import { KeyRing, type SealingKeyEntry } from '../../src/crypto/key-ring.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-cli-sealing-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(argv, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env })
  return { code, out, err }
}

describe('airlock keys generate --sealing', () => {
  it('writes the private key set to FILE and the public-only worker set to FILE.worker.json, both 0600, and names both', async () => {
    const out = join(dir, 'keys.json')
    const made = await cli(['keys', 'generate', '--sealing', '--out', out])
    expect(made.code).toBe(0)
    const workerFile = `${out}.worker.json`
    expect(made.out).toContain(out)
    expect(made.out).toContain(workerFile)
    const auditor = KeyRing.fromFile(out)
    const worker = KeyRing.fromFile(workerFile)
    expect(auditor.writeOnly).toBe(false)
    expect(worker.writeOnly).toBe(true)
    expect(worker.activeKid).toBe(auditor.activeKid)
    for (const file of [out, workerFile]) expect((await stat(file)).mode & 0o777).toBe(0o600)
    const [privateEntry] = auditor.export().keys as SealingKeyEntry[]
    expect(await readFile(workerFile, 'utf8')).not.toContain(privateEntry!.d)
    expect(made.out).not.toContain(privateEntry!.d)
    expect(made.out).not.toContain(privateEntry!.fingerprintSecret)

    expect(await cli(['keys', 'generate', '--sealing'])).toMatchObject({ code: 2, err: expect.stringContaining('--out FILE') })
    expect(await cli(['keys', 'generate', '--sealing', '--out', out])).toMatchObject({ code: 2, err: expect.stringContaining('refusing to overwrite') })
  })

  it('writes neither file when the worker file is in the way', async () => {
    const out = join(dir, 'keys.json')
    await writeFile(`${out}.worker.json`, 'in the way')
    expect(await cli(['keys', 'generate', '--sealing', '--out', out])).toMatchObject({ code: 2 })
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('errors open: a token from a write-only worker opens with FILE, and FILE.worker.json is refused saying why', async () => {
    const out = join(dir, 'keys.json')
    expect((await cli(['keys', 'generate', '--sealing', '--out', out])).code).toBe(0)
    const worker = KeyRing.fromFile(`${out}.worker.json`)
    const token = await new ValueCipher(worker).encrypt(JSON.stringify({ type: 'Error', message: 'boom at db-7' }))
    const opened = await cli(['errors', 'open', token, '--keys', out])
    expect(opened).toMatchObject({ code: 0 })
    expect(JSON.parse(opened.out)).toEqual({ type: 'Error', message: 'boom at db-7' })
    const refused = await cli(['errors', 'open', token, '--keys', `${out}.worker.json`])
    expect(refused.code).toBe(2)
    expect(refused.err).toMatch(/holds only its public half.*private key/)
    expect(refused.out).toBe('')
    const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BA' : 'AA')
    expect(await cli(['errors', 'open', tampered, '--keys', out])).toMatchObject({ code: 1, err: expect.stringContaining('ERR_TOKEN_INVALID') })
  })

  it('codec-server refuses a worker key set before it listens', async () => {
    const out = join(dir, 'keys.json')
    expect((await cli(['keys', 'generate', '--sealing', '--out', out])).code).toBe(0)
    const tokens = join(dir, 'tokens.txt')
    await writeFile(tokens, `tok-${'x'.repeat(40)}\n`)
    const refused = await cli(['codec-server', '--keys', `${out}.worker.json`, '--token-file', tokens, '--port', '0', '--ledger', join(dir, 'codec.ndjson')])
    expect(refused.code).toBe(2)
    expect(refused.err).toContain('without their private halves')
    expect(refused.out).not.toContain('listening')
  })
})
