/* eslint-disable @typescript-eslint/require-await -- docs/design.md's example wraps async functions verbatim */
// docs/design.md's public-surface example, run as written: these names and
// behaviours are the contract that code outside this repository relies on.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as sdk from '../../src/index.js'
import {
  Airlock,
  AirlockError,
  KeyRing,
  LocalResult,
  MemoryControlPlane,
  cacheValidators,
  definePolicy,
  verifyLedger,
} from '../../src/index.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-contract-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('docs/design.md public surface', () => {
  it('exports every contracted name', () => {
    const names = [
      'Airlock', 'MemoryControlPlane', 'FileControlPlane', 'HttpControlPlane',
      'KeyRing', 'definePolicy', 'loadPolicy',
      'Result', 'LocalResult', 'JSONResult', 'ConstantResult', 'SecretResult',
      'S3Result', 'GCSResult', 'AzureResult',
      'JSONSerializer', 'StructuredSerializer', 'CompressedSerializer',
      'Scrubber', 'scrubError', 'verifyLedger', 'cacheValidators', 'AirlockError',
    ]
    for (const name of names) expect(sdk, name).toHaveProperty(name)
  })

  it('runs the Airlock example as written', async () => {
    const keys = KeyRing.generate()
    const controlPlane = new MemoryControlPlane()
    const ledgerPath = join(dir, 'audit/ledger.ndjson')
    const airlock = new Airlock({
      policy: definePolicy({ preset: 'balanced' }),
      keys,
      controlPlane,
      ledger: { path: ledgerPath },
    })
    const double = airlock.task(async (x: number) => x * 2, {
      name: 'double',
      result: new LocalResult({ dir: join(dir, 'results'), location: '{flowName}/{taskName}/{taskRunId}.json' }),
      checkpoint: true,
      retries: 2,
      cacheFor: '1h',
      cacheValidator: cacheValidators.allInputs,
    })
    const etl = airlock.flow('etl', async ({ x }: { x: number }) => double(x))
    const run = await etl.run({ x: 21 })
    expect(run.state).toBe('Success')
    expect(run.value).toBe(42)
    expect(run.flowRunId).toEqual(expect.any(String))
    expect(run.taskRuns).toHaveLength(1)

    const dbPassword = 'db-password-3f9a1c'
    airlock.scrubber.register(dbPassword)
    airlock.logger.info({ user: 'ada@example.com', dsn: `postgres://app:${dbPassword}@db` }, 'loaded')
    const failing = airlock.flow('broken', async () => {
      throw new Error(`cannot reach ${dbPassword}`)
    })
    const failed = await failing.run({})
    expect(failed.state).toBe('Failed')

    const stats = airlock.stats()
    expect(stats.events.states).toBeGreaterThan(0)
    await airlock.close()

    const wire = JSON.stringify(controlPlane.events)
    expect(wire).not.toContain(dbPassword)
    expect(wire).not.toContain('ada@example.com')
    expect(wire).not.toContain('etl/double/')
    expect((await verifyLedger(ledgerPath)).ok).toBe(true)
  })

  it('runs the standalone Result example as written', async () => {
    const keys = KeyRing.generate()
    const value = { rows: ['confidential-row-7'] }
    const r = new LocalResult({ dir, location: '{taskName}/{date}.json', locationCipher: keys })
    const written = await r.write(value, { taskName: 'load', date: '2026-11-21' })
    expect(written.location.startsWith('alk1.')).toBe(true)
    expect(written.plainLocation).toBe('load/2026-11-21.json')
    const json = JSON.stringify(written)
    expect(JSON.parse(json)).toEqual({ type: 'local', location: written.location })
    expect(json).not.toContain('confidential-row-7')
    expect(inspect(written)).not.toContain('load/2026-11-21.json')
    expect((await r.read(written.location)).value).toEqual(value)
    expect(await r.exists(written.location)).toBe(true)
  })

  it('gives every thrown error a stable code', async () => {
    const err = await new LocalResult({ dir, location: '../escape.json' }).write(1, {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AirlockError)
    expect((err as AirlockError).code).toBe('ERR_LOCATION_ESCAPES_DIR')
  })
})
