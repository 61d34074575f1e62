import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectNoLeaks, type Canary } from '../../src/testing/index.js'

const run = promisify(execFile)
let dir: string
let stdout: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-audit-'))
  // execFile rejects on a non-zero exit: the example exits 1 on a bad ledger or any finding.
  ;({ stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/compliance-audit.ts'], {
    // Killed rather than left running if it hangs, so a stuck example fails the suite instead of outliving it.
    timeout: 50_000,
    env: { ...process.env, AIRLOCK_EXAMPLE_DIR: dir },
  }))
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const cli = (...args: string[]): Promise<{ stdout: string }> => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args])

describe('examples/compliance-audit.ts', () => {
  it('plants canaries, verifies the signed ledger and scans it with zero findings', () => {
    expect(stdout).toMatch(/flow run [0-9a-f-]{36}: Failed/)
    expect(stdout).toMatch(/planted (\d+) canaries \([1-9]\d* high-entropy, registered\) in parameters, logs and an exception/)
    expect(stdout).toMatch(/1\. verify {2}\S+ledger\.ndjson: intact, \d+ entries, [1-9]\d* signed checkpoint\(s\) verified with \S+ledger\.pub\.json/)
    expect(stdout).toMatch(/2\. scan {4}0 findings in [1-9]\d* events/)
  })

  it('writes the HTML report with the verified banner and the scan', async () => {
    expect(stdout).toContain(`3. report  ${join(dir, 'report.html')}: events per channel`)
    const html = await readFile(join(dir, 'report.html'), 'utf8')
    expect(html).toMatch(/data-testid="verified" data-verified="true"><h2>Ledger verified: intact<\/h2>/)
    expect(html).toContain('data-testid="signatures" data-checked="true"')
    expect(html).toContain('canaries')
  })

  it('left no canary in the ledger, per the testing kit, and the printed CLI commands agree', async () => {
    const canaries = JSON.parse(await readFile(join(dir, 'canaries.json'), 'utf8')) as Canary[]
    expect(canaries.length).toBeGreaterThan(20)
    await expectNoLeaks(join(dir, 'ledger.ndjson'), canaries)
    const commands = stdout.split('\n').filter((line) => line.startsWith('  airlock audit '))
    expect(commands).toHaveLength(3)
    for (const command of commands) await cli(...command.trim().split(' ').slice(1))
    expect((await cli('audit', 'scan', join(dir, 'ledger.ndjson'), '--canaries', join(dir, 'canaries.json'))).stdout).toMatch(/: 0 findings in \d+ events \(\d+ canaries/)
  })
})
