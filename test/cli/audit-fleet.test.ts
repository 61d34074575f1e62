import { defaultPayloadConverter } from '@temporalio/common'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AirlockPayloadCodec } from '../../src/adapters/temporal/airlock-payload-codec.js'
import { runCli } from '../../src/cli/run-cli.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { Airlock } from '../../src/runtime/airlock.js'
import { EngineFixture } from '../support/engine-fixture.js'

let fixture: EngineFixture
let fleet: string
const LEAKED = 'Zq8-leaked-by-a-clear-rule-Kp2x'

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(argv, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {} })
  return { code, out, err }
}

// One worker process: its own Airlock, its ledger named by the worker's identity.
async function worker(identity: string, payloads: number, clearRule = false): Promise<string> {
  const path = join(fleet, `${identity}.ndjson`)
  const policy = definePolicy(clearRule ? { payloads: { rules: { 'temporal:json/plain': 'clear' } } } : {}, { env: {} })
  const airlock = new Airlock({ keys: KeyRing.generate(), controlPlane: new MemoryControlPlane(), ledger: { path }, policy })
  const codec = new AirlockPayloadCodec({ airlock })
  for (let i = 0; i < payloads; i++) await codec.encode([defaultPayloadConverter.toPayload({ i, note: clearRule ? LEAKED : 'sealed' })])
  await airlock.close()
  return path
}

beforeEach(async () => {
  fixture = await EngineFixture.create('fleet')
  fleet = join(fixture.dir, 'fleet')
  await mkdir(fleet)
})
afterEach(async () => {
  await fixture.close()
})

async function threeWorkers(): Promise<{ paths: string[] }> {
  const paths = [await worker('worker-a@host-1', 3), await worker('worker-b@host-2', 2, true), await worker('worker-c@host-3', 4)]
  // worker-c's ledger edited after the fact: one byte of its second entry.
  const lines = (await readFile(paths[2]!, 'utf8')).split('\n')
  lines[1] = lines[1]!.replace('"encrypt"', '"clear"')
  await writeFile(paths[2]!, lines.join('\n'))
  return { paths }
}

describe('a fleet of workers, one ledger each, audited together', () => {
  it('verify: reports each ledger and the fleet, and exits 1 when one was tampered with', async () => {
    const { paths } = await threeWorkers()
    const all = await cli(['audit', 'verify', fleet])
    expect(all.code).toBe(1)
    expect(all.out).toContain(`ledger ${paths[0]} is intact: 3 entries`)
    expect(all.out).toContain(`ledger ${paths[1]} is intact: 2 entries`)
    expect(all.out).toContain(`ledger ${paths[2]} is NOT intact: first bad entry is seq 2`)
    expect(all.out).toContain('fleet: 3 ledgers, 2 intact, 1 not intact or empty; 6 intact entries in all')
    const intact = await cli(['audit', 'verify', paths[0]!, paths[1]!])
    expect(intact.code).toBe(0)
    expect(intact.out).toContain('fleet: 2 ledgers, 2 intact, 0 not intact or empty; 5 intact entries in all')
  })

  it('report: each ledger and the merged totals, as text, JSON and one HTML page', async () => {
    const { paths } = await threeWorkers()
    const text = await cli(['audit', 'report', fleet])
    expect(text.code).toBe(1)
    for (const path of paths) expect(text.out).toContain(`airlock ledger report: ${path}`)
    expect(text.out).toContain('airlock fleet report: 3 ledgers, 2 intact, 1 not intact or empty')
    expect(text.out).toMatch(/merged totals[\s\S]*events by channel:\n {4}payloads {2}6\n/)

    const json = await cli(['audit', 'report', fleet, '--format', 'json'])
    const body = JSON.parse(json.out) as { ledgers: { ok: boolean }[]; merged: { failing: number; perChannel: Record<string, number> }; reports: unknown[] }
    expect(body.ledgers.map((l) => l.ok)).toEqual([true, true, false])
    expect(body.merged.failing).toBe(1)
    expect(body.merged.perChannel).toEqual({ payloads: 6 })
    expect(body.reports).toHaveLength(3)

    const out = join(fixture.dir, 'fleet.html')
    const html = await cli(['audit', 'report', paths[0]!, paths[1]!, '--format', 'html', '--out', out])
    expect(html.code).toBe(0)
    const page = await readFile(out, 'utf8')
    expect(page).toContain('2 ledgers')
  })

  it('scan: each ledger\'s findings and the fleet\'s, exit 1 when any ledger leaked or failed', async () => {
    const { paths } = await threeWorkers()
    const registered = join(fixture.dir, 'registered.txt')
    await writeFile(registered, `${LEAKED}\n`)
    const all = await cli(['audit', 'scan', fleet, '--registered', registered])
    expect(all.code).toBe(1)
    expect(all.out).toContain(`ledger ${paths[0]}: 0 findings in 3 events`)
    expect(all.out).toMatch(new RegExp(`ledger ${paths[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: [1-9]\\d* findings? in 2 events`))
    expect(all.out).toContain(`ledger ${paths[2]} is NOT intact`)
    expect(all.out).toMatch(/fleet: 3 ledgers, [1-9]\d* findings? in \d+ events; 1 not intact or empty/)
    expect(all.out).not.toContain(LEAKED)
    expect((await cli(['audit', 'scan', paths[0]!, '--registered', registered])).code).toBe(0)
  })

  it('refuses a directory with no ledger in it, and a path that does not exist', async () => {
    const empty = join(fixture.dir, 'empty')
    await mkdir(empty)
    expect(await cli(['audit', 'verify', empty])).toMatchObject({ code: 2, err: expect.stringContaining('holds no ledger') })
    expect(await cli(['audit', 'scan', join(fixture.dir, 'nope')])).toMatchObject({ code: 2, err: expect.stringContaining('no ledger at') })
  })
})
