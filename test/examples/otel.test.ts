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
  dir = await mkdtemp(join(tmpdir(), 'airlock-otel-example-'))
  const env: NodeJS.ProcessEnv = { ...process.env, AIRLOCK_EXAMPLE_DIR: dir }
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT
  // execFile rejects on a non-zero exit: the example exits 1 if the backend got the email or the password.
  ;({ stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/otel.ts'], { timeout: 50_000, env }))
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('examples/otel.ts', () => {
  it('exports spans and log records (the Airlock\'s own included) with nothing the policy keeps back', () => {
    expect(stdout).toContain('ada@example.com: absent; the password: absent')
    expect(stdout).toContain('name: GET /orders/[REDACTED:email]')
    expect(stdout).toContain('body: order lookup failed for [REDACTED:email]')
    expect(stdout).toContain('body: retrying the order lookup')
    expect(stdout).not.toContain('below logs.level')
    expect(stdout).toMatch(/suppressed: \{"logs":1\}/)
  })

  it('ledgers every hand-over, to the control plane and to the telemetry backend, in an intact ledger', async () => {
    const ledger = join(dir, 'ledger.ndjson')
    expect((await verifyLedger(ledger)).ok).toBe(true)
    const entries = (await readFile(ledger, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { channel?: string; event?: { kind: string; engine?: string } })
    const kinds = entries.filter((e) => e.event !== undefined).map((e) => `${e.channel}:${e.event!.engine ?? e.event!.kind}`)
    expect(kinds.sort()).toEqual(['logs:log', 'logs:otel', 'telemetry:otel'])
  })
})
