import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyLedger } from '../../src/audit/verify-ledger.js'

const run = promisify(execFile)
let dir: string
let stdout: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-demo-'))
  ;({ stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], {
    // The demo as a new user runs it: no AIRLOCK_* switch of this shell leaks in.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AIRLOCK_'))), AIRLOCK_DEMO_DIR: dir },
  }))
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('npm run demo (examples/quickstart.ts)', () => {
  it('runs the flow and prints where the ledger and the audit report went', () => {
    expect(stdout).toMatch(/flow run [0-9a-f-]{36}: Failed/)
    // 16 events, and the closing checkpoint the ledger signs.
    expect(stdout).toMatch(/intact, 19 entries, 2 signed checkpoint\(s\) verified with \S*ledger\.pub\.json/) // with the head sent at close and its event
    expect(stdout).toContain(`audit report: `)
    // The text report itself is printed too, between the ledger line and its path.
    expect(stdout).toMatch(/intact, 19 entries[\s\S]*signatures: +2 checkpoints verified[\s\S]*parameters[\s\S]*audit report: /)
    expect(stdout).toMatch(/verify it yourself: .* audit verify \S+ --public-key \S+ledger\.pub\.json/)
  })

  it('sends no email, no secret and no plain location to the control plane', async () => {
    const wire = await readFile(join(dir, 'control-plane.ndjson'), 'utf8')
    expect(wire).not.toContain('ada@example.com')
    expect(wire).not.toContain('wh-pa55-7f3a9c1e')
    expect(wire).not.toMatch(/etl\/(extract|transform)\//)
    expect(wire).toContain('alk1.')
    const publicKey = JSON.parse(await readFile(join(dir, 'ledger.pub.json'), 'utf8')) as object
    expect(publicKey).not.toHaveProperty('d')
    expect(await verifyLedger(join(dir, 'ledger.ndjson'), { publicKey })).toMatchObject({ ok: true, signaturesChecked: true, checkpoints: 2 }) // the head sent as the Airlock closes, then the closing one
    expect(await readFile(join(dir, 'report.txt'), 'utf8')).toContain('parameters')
  })
})
