/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { JSONResult } from '../../src/results/json-result.js'
import { LocalResult } from '../../src/results/local-result.js'
import type { CacheEntry } from '../../src/runtime/cache-store.js'
import { cacheValidators, type CacheValidator } from '../../src/runtime/cache-validators.js'
import { ResultCacheStore } from '../../src/runtime/result-cache-store.js'
import {
  airlockIn,
  captureWarnings,
  expectNoLeaks,
  filesUnder,
  localResult,
  settleTicks,
  taskEvents,
  workspace,
  type Workspace,
} from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

/** The last state of each task run of a task, in call order. */
function outcomes(controlPlane: MemoryControlPlane, taskName: string): string[] {
  const last = new Map<string, string>()
  for (const e of taskEvents(controlPlane, taskName)) last.set(e.taskRunId, e.state)
  return [...last.values()]
}

function indexStore(dir = 'results'): ResultCacheStore {
  return new ResultCacheStore({ index: new LocalResult({ dir: join(ws.dir, dir), location: ResultCacheStore.defaultLocation }) })
}

describe('cache validators', () => {
  it('durationOnly (the default): any call within cacheFor is Cached; cacheFor 0 never is', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    let calls = 0
    const now = airlock.task(
      async (x: number) => {
        calls++
        return x
      },
      { name: 'now', cacheFor: '1h' },
    )
    const expired = airlock.task(async (x: number) => x, { name: 'expired', cacheFor: 0, cacheValidator: cacheValidators.durationOnly })
    expect([await now(1), await now(2), await now(3)]).toEqual([1, 1, 1])
    expect(calls).toBe(1)
    expect(outcomes(controlPlane, 'now')).toEqual(['Success', 'Cached', 'Cached'])
    expect(taskEvents(controlPlane, 'now').filter((e) => e.state === 'Cached').map((e) => e.message)).toEqual(['cache hit', 'cache hit'])
    expect([await expired(1), await expired(2)]).toEqual([1, 2])
    expect(outcomes(controlPlane, 'expired')).toEqual(['Success', 'Success'])
  })

  it('allInputs: equal inputs hit, in any key order; other inputs miss', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    let calls = 0
    const load = airlock.task(
      async (query: { table: string; limit: number }) => {
        calls++
        return `${query.table}:${query.limit}`
      },
      { name: 'load', cacheFor: '1h', cacheValidator: cacheValidators.allInputs },
    )
    expect(await load({ table: 'orders', limit: 5 })).toBe('orders:5')
    expect(await load({ limit: 5, table: 'orders' })).toBe('orders:5')
    expect(await load({ table: 'orders', limit: 6 })).toBe('orders:6')
    expect(await load({ table: 'users', limit: 5 })).toBe('users:5')
    expect(calls).toBe(3)
    expect(outcomes(controlPlane, 'load')).toEqual(['Success', 'Cached', 'Success', 'Success'])
  })

  it('allParameters: runs with equal parameters hit; other parameters miss', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    let calls = 0
    const extract = airlock.task(
      async (x: number) => {
        calls++
        return x
      },
      { name: 'extract', cacheFor: '1h', cacheValidator: cacheValidators.allParameters },
    )
    const etl = airlock.flow('etl', async ({ x }: { x: number; region: string }) => extract(x))
    expect((await etl.run({ x: 1, region: 'eu' })).value).toBe(1)
    expect((await etl.run({ region: 'eu', x: 1 })).value).toBe(1)
    expect((await etl.run({ x: 1, region: 'us' })).value).toBe(1)
    expect((await etl.run({ x: 2, region: 'eu' })).value).toBe(2)
    expect(calls).toBe(3)
    expect(outcomes(controlPlane, 'extract')).toEqual(['Success', 'Cached', 'Success', 'Success'])
  })

  it('partialInputsOnly: only the named inputs count, by property or by position', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const byRegion = airlock.task(async (q: { region: string; day: string }) => `${q.region}@${q.day}`, {
      name: 'byRegion',
      cacheFor: '1h',
      cacheValidator: cacheValidators.partialInputsOnly(['region']),
    })
    expect(await byRegion({ region: 'eu', day: 'mon' })).toBe('eu@mon')
    expect(await byRegion({ region: 'eu', day: 'tue' })).toBe('eu@mon')
    expect(await byRegion({ region: 'us', day: 'tue' })).toBe('us@tue')
    expect(outcomes(controlPlane, 'byRegion')).toEqual(['Success', 'Cached', 'Success'])

    const byFirst = airlock.task(async (region: string, day: string) => `${region}@${day}`, {
      name: 'byFirst',
      cacheFor: '1h',
      cacheValidator: cacheValidators.partialInputsOnly([0]),
    })
    expect(await byFirst('eu', 'mon')).toBe('eu@mon')
    expect(await byFirst('eu', 'tue')).toBe('eu@mon')
    expect(await byFirst('us', 'mon')).toBe('us@mon')
    expect(outcomes(controlPlane, 'byFirst')).toEqual(['Success', 'Cached', 'Success'])
  })

  it('partialParametersOnly: only the named parameters count', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const report = airlock.task(async (p: { region: string; requestedBy: string }) => `${p.region} for ${p.requestedBy}`, {
      name: 'report',
      cacheFor: '1h',
      cacheValidator: cacheValidators.partialParametersOnly(['region']),
    })
    const nightly = airlock.flow('nightly', async (p: { region: string; requestedBy: string }) => report(p))
    expect((await nightly.run({ region: 'eu', requestedBy: 'ops' })).value).toBe('eu for ops')
    expect((await nightly.run({ region: 'eu', requestedBy: 'cron' })).value).toBe('eu for ops')
    expect((await nightly.run({ region: 'us', requestedBy: 'cron' })).value).toBe('us for cron')
    expect(outcomes(controlPlane, 'report')).toEqual(['Success', 'Cached', 'Success'])
  })

  it('neverUse: every call runs, and nothing is stored', async () => {
    const { airlock, controlPlane } = airlockIn(ws, {
      cacheStore: indexStore(),
      result: localResult(ws),
      policy: definePolicy({ checkpointing: false }, { env: {} }),
    })
    let calls = 0
    const fresh = airlock.task(
      async () => {
        calls++
        return calls
      },
      { name: 'fresh', cacheFor: '1h', cacheValidator: cacheValidators.neverUse },
    )
    expect([await fresh(), await fresh()]).toEqual([1, 2])
    expect(outcomes(controlPlane, 'fresh')).toEqual(['Success', 'Success'])
    expect(await filesUnder(join(ws.dir, 'results'))).toEqual([])
  })

  it('a custom validator selects its own material', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const byLength: CacheValidator = { name: 'byLength', select: ({ inputs }) => String(inputs[0]).length }
    const echo = airlock.task(async (s: string) => s, { name: 'echo', cacheFor: '1h', cacheValidator: byLength })
    expect([await echo('abc'), await echo('xyz'), await echo('ab')]).toEqual(['abc', 'abc', 'ab'])
    expect(outcomes(controlPlane, 'echo')).toEqual(['Success', 'Cached', 'Success'])
  })

  it('caches each mapped item apart, and skips inputs that have no canonical text, with a warning', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const square = airlock.task(async (x: number) => x * x, { name: 'square', cacheFor: '1h' })
    expect(await square.map([1, 2, 3])).toEqual([1, 4, 9])
    expect(await square.map([1, 2, 3])).toEqual([1, 4, 9])
    expect(outcomes(controlPlane, 'square')).toEqual(['Success', 'Success', 'Success', 'Cached', 'Cached', 'Cached'])

    const warnings = captureWarnings()
    try {
      let calls = 0
      const withClient = airlock.task(
        async (_client: { query(): void }) => {
          calls++
          return calls
        },
        { name: 'withClient', cacheFor: '1h', cacheValidator: cacheValidators.allInputs },
      )
      class Client {
        query(): void {}
      }
      expect([await withClient(new Client()), await withClient(new Client())]).toEqual([1, 2])
      await settleTicks()
      expect(warnings.messages.filter((m) => m.includes('"withClient" is not cached'))).toHaveLength(2)
    } finally {
      warnings.stop()
    }
  })
})

describe('cached results', () => {
  it('emits Cached with the result reference and reads the value back through the result', async () => {
    const { airlock, controlPlane, ledgerPath } = airlockIn(ws)
    const result = localResult(ws)
    let calls = 0
    const lookup = airlock.task(
      async (customer: string) => {
        calls++
        return { customer, score: 'value-score-88ae' }
      },
      { name: 'lookup', result, checkpoint: true, cacheFor: '1h', cacheValidator: cacheValidators.allInputs },
    )
    const etl = airlock.flow('etl', async ({ customer }: { customer: string }) => lookup(customer))

    const first = await etl.run({ customer: 'cust-input-1234' })
    const second = await etl.run({ customer: 'cust-input-1234' })

    expect(calls).toBe(1)
    expect(second.value).toEqual({ customer: 'cust-input-1234', score: 'value-score-88ae' })
    const [success, cached] = [first, second].map((run) => taskEvents(controlPlane, 'lookup').filter((e) => e.runId === run.flowRunId).at(-1))
    expect(success?.state).toBe('Success')
    expect(cached?.state).toBe('Cached')
    expect(cached?.result).toEqual(success?.result)
    expect(cached?.result?.location).toMatch(/^alk1\./)
    expect(second.taskRuns[0]).toMatchObject({ state: 'Cached', attempts: 0 })
    expect(second.taskRuns[0]?.result?.value).toEqual({ customer: 'cust-input-1234', score: 'value-score-88ae' })
    await expectNoLeaks(controlPlane.events, ['value-score-88ae'], { resultDirs: [join(ws.dir, 'results')], ledgerPaths: [ledgerPath] })
  })

  it('shares a cache across two flows through cacheKey', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    let fetches = 0
    const options = { cacheFor: '1h', cacheKey: 'exchange-rates', cacheValidator: cacheValidators.allInputs } as const
    const ratesForBilling = airlock.task(
      async (currency: string) => {
        fetches++
        return { currency, rate: 1.08 }
      },
      { ...options, name: 'ratesForBilling' },
    )
    const ratesForReports = airlock.task(
      async (_currency: string) => {
        fetches++
        return { currency: 'never', rate: 0 }
      },
      { ...options, name: 'ratesForReports' },
    )
    const billing = airlock.flow('billing', async () => ratesForBilling('EUR'))
    const reports = airlock.flow('reports', async () => ratesForReports('EUR'))

    await billing.run({})
    const run = await reports.run({})

    expect(run.value).toEqual({ currency: 'EUR', rate: 1.08 })
    expect(fetches).toBe(1)
    expect(outcomes(controlPlane, 'ratesForReports')).toEqual(['Cached'])
    // Without the shared key, the same task name in another flow has a cache of its own.
    const plain = airlock.task(async (x: number) => x + fetches++, { name: 'plain', cacheFor: '1h' })
    await airlock.flow('a', async () => plain(1)).run({})
    await airlock.flow('b', async () => plain(1)).run({})
    expect(outcomes(controlPlane, 'plain')).toEqual(['Success', 'Success'])
  })

  it('uses a cache written by one Airlock from another over the same result directory', async () => {
    const keys = KeyRing.fromJSON(ws.keys.export())
    const define = (airlock: ReturnType<typeof airlockIn>['airlock'], onCall: () => void) =>
      airlock.task(
        async (day: string) => {
          onCall()
          return { day, total: 'value-total-5521' }
        },
        { name: 'totals', cacheFor: '1h', cacheValidator: cacheValidators.allInputs },
      )
    // Two machines: separate Airlocks, control planes and ledgers; one key ring; one storage.
    const machineA = airlockIn(ws, { result: localResult(ws), cacheStore: indexStore() })
    const machineB = airlockIn(ws, {
      keys,
      result: new LocalResult({ dir: join(ws.dir, 'results'), location: '{flowName}/{taskName}/{taskRunId}.json', locationCipher: keys }),
      cacheStore: indexStore(),
    })
    let callsA = 0
    let callsB = 0
    const totalsA = define(machineA.airlock, () => callsA++)
    const totalsB = define(machineB.airlock, () => callsB++)
    const flowA = machineA.airlock.flow('nightly', async ({ day }: { day: string }) => totalsA(day))
    const flowB = machineB.airlock.flow('nightly', async ({ day }: { day: string }) => totalsB(day))

    const written = await flowA.run({ day: 'batch-0421' })
    const read = await flowB.run({ day: 'batch-0421' })
    const other = await flowB.run({ day: 'batch-0422' })

    expect(written.state).toBe('Success')
    expect([callsA, callsB]).toEqual([1, 1])
    expect(read.value).toEqual({ day: 'batch-0421', total: 'value-total-5521' })
    expect(outcomes(machineB.controlPlane, 'totals')).toEqual(['Cached', 'Success'])
    expect(other.value).toEqual({ day: 'batch-0422', total: 'value-total-5521' })
    const successA = taskEvents(machineA.controlPlane, 'totals').at(-1)
    const cachedB = taskEvents(machineB.controlPlane, 'totals').find((e) => e.state === 'Cached')
    expect(cachedB?.result).toEqual(successA?.result)
    // The index holds fingerprints and tokens: neither the inputs nor the value nor a plain location.
    const files = await filesUnder(join(ws.dir, 'results'))
    const indexFiles = files.filter((f) => f.startsWith('.airlock-cache/'))
    expect(indexFiles).toHaveLength(2)
    expect(indexFiles.every((f) => /^\.airlock-cache\/fp1\.[^/]+\/fp1\.[^/]+\.json$/.test(f))).toBe(true)
    for (const f of indexFiles) {
      const text = await readFile(join(ws.dir, 'results', f), 'utf8')
      expect(text).not.toContain('batch-0421')
      expect(text).not.toContain('value-total-5521')
      expect(text).not.toContain('nightly/totals')
    }
    for (const machine of [machineA, machineB]) {
      await expectNoLeaks(machine.controlPlane.events, ['value-total-5521'], {
        resultDirs: [join(ws.dir, 'results')],
        ledgerPaths: [machine.ledgerPath],
      })
    }
    // A machine with another key ring cannot use (or even find) the entries.
    const stranger = airlockIn(ws, {
      keys: KeyRing.generate(),
      result: new LocalResult({ dir: join(ws.dir, 'results'), location: '{flowName}/{taskName}/{taskRunId}.json' }),
      cacheStore: indexStore(),
    })
    let callsC = 0
    const totalsC = define(stranger.airlock, () => callsC++)
    await stranger.airlock.flow('nightly', async ({ day }: { day: string }) => totalsC(day)).run({ day: 'batch-0421' })
    expect(callsC).toBe(1)
  })

  it('falls back to running the task, with a warning, when the cached result or its entry is unreadable', async () => {
    const warnings = captureWarnings()
    try {
      const { airlock, controlPlane } = airlockIn(ws, { result: localResult(ws), cacheStore: indexStore() })
      let calls = 0
      const fetchRates = airlock.task(
        async () => {
          calls++
          return calls
        },
        { name: 'fetchRates', cacheFor: '1h' },
      )
      expect(await fetchRates()).toBe(1)
      const files = await filesUnder(join(ws.dir, 'results'))
      const [valueFile] = files.filter((f) => !f.startsWith('.airlock-cache/'))
      await rm(join(ws.dir, 'results', valueFile!))
      expect(await fetchRates()).toBe(2)

      const [indexFile] = files.filter((f) => f.startsWith('.airlock-cache/'))
      await writeFile(join(ws.dir, 'results', indexFile!), '{"v":1,"key":"forged"}')
      expect(await fetchRates()).toBe(3)
      expect(await fetchRates()).toBe(3)
      await settleTicks()

      expect(outcomes(controlPlane, 'fetchRates')).toEqual(['Success', 'Success', 'Success', 'Cached'])
      expect(warnings.messages).toEqual([
        expect.stringMatching(/cached result of task "fetchRates" could not be read \(ERR_RESULT_NOT_FOUND\); running the task/),
        expect.stringMatching(/cache index of task "fetchRates" could not be read \(ERR_PAYLOAD_FORMAT\); running the task/),
      ])
      // The warnings name the task and an error code only.
      expect(warnings.messages.join('\n')).not.toMatch(/results|\.json/)
    } finally {
      warnings.stop()
    }
  })

  it('keeps values of tasks without a result in memory, and never puts a value in a shared store', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const hello = airlock.task(async (name: string) => `hello ${name}`, { name: 'hello', cacheFor: '1h', cacheValidator: cacheValidators.allInputs })
    expect([await hello('ada'), await hello('ada')]).toEqual(['hello ada', 'hello ada'])
    const cached = taskEvents(controlPlane, 'hello').at(-1)
    expect(cached?.state).toBe('Cached')
    expect(cached?.result).toBeUndefined()

    const store = indexStore()
    const entry: CacheEntry = { v: 1, key: 'fp1.k.a', variant: 'fp1.k.b', writtenAt: new Date().toISOString(), expiresAt: new Date().toISOString(), value: 'x' }
    await expect(store.set(entry)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })
})

describe('ResultCacheStore', () => {
  it('survives concurrent writers of one entry: every read gets one complete entry', async () => {
    const stores = [indexStore(), indexStore(), indexStore()]
    const entry = (i: number): CacheEntry => ({
      v: 1,
      key: 'fp1.k.samekey',
      variant: 'fp1.k.samevariant',
      writtenAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      expiresAt: new Date(Date.UTC(2027, 0, 1)).toISOString(),
      result: { type: 'local', location: `alk1.writer-${i}` },
    })
    const reads: Promise<CacheEntry | undefined>[] = []
    const writes: Promise<void>[] = []
    for (let i = 0; i < 60; i++) {
      writes.push(stores[i % 3]!.set(entry(i)))
      // A read racing the writers may miss (nothing written yet), but never fails or sees half an entry.
      if (i % 4 === 0) reads.push(stores[(i + 1) % 3]!.get('fp1.k.samekey', 'fp1.k.samevariant'))
    }
    await Promise.all(writes)
    for (const read of await Promise.all(reads)) {
      if (read !== undefined) expect(read).toEqual(entry(Number(read.result!.location.slice('alk1.writer-'.length))))
    }
    // Once an entry exists, a read racing more writers always finds a complete one: replacing it is atomic.
    const rewrites: Promise<void>[] = []
    const rereads: Promise<CacheEntry | undefined>[] = []
    for (let i = 0; i < 30; i++) {
      rewrites.push(stores[i % 3]!.set(entry(i)))
      rereads.push(stores[(i + 1) % 3]!.get('fp1.k.samekey', 'fp1.k.samevariant'))
    }
    await Promise.all(rewrites)
    for (const read of await Promise.all(rereads)) {
      expect(read).toBeDefined()
      expect(read).toEqual(entry(Number(read!.result!.location.slice('alk1.writer-'.length))))
    }
    const final = await stores[0]!.get('fp1.k.samekey', 'fp1.k.samevariant')
    expect(final?.result?.location).toMatch(/^alk1\.writer-\d+$/)
    expect(await filesUnder(join(ws.dir, 'results'))).toEqual(['.airlock-cache/fp1.k.samekey/fp1.k.samevariant.json'])
  })

  it('misses on an absent entry, and refuses an entry stored under another key', async () => {
    const store = indexStore()
    expect(await store.get('fp1.k.none', 'fp1.k.none')).toBeUndefined()
    await store.set({ v: 1, key: 'fp1.k.a', variant: 'fp1.k.b', writtenAt: new Date().toISOString(), expiresAt: new Date().toISOString(), result: { type: 'local', location: 'x' } })
    const moved = join(ws.dir, 'results', '.airlock-cache', 'fp1.k.a', 'fp1.k.b.json')
    await writeFile(join(ws.dir, 'results', '.airlock-cache', 'fp1.k.a', 'fp1.k.c.json'), await readFile(moved))
    await expect(store.get('fp1.k.a', 'fp1.k.c')).rejects.toMatchObject({ code: 'ERR_PAYLOAD_FORMAT' })
  })

  it('refuses an index location that would not find its entries again', () => {
    const bad = ['{taskName}/{cacheKey}.json', '.cache/{cacheKey}.json', '.cache/{cacheKey}/{variant}-{randomId}.json', '{today}/{cacheKey}/{variant}.json']
    for (const location of bad) {
      expect(() => new ResultCacheStore({ index: new LocalResult({ dir: ws.dir, location }) }), location).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    }
    expect(() => new ResultCacheStore({ index: new JSONResult() })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new ResultCacheStore({ index: 'results' } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('target', () => {
  it('is Cached from an existing result at the formatted location, and writes there on a miss', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const result = localResult(ws, '{taskName}/{parameters.day}.json')
    let calls = 0
    const daily = airlock.task(
      async (day: string) => {
        calls++
        return { day, rows: 'value-rows-3310' }
      },
      { name: 'daily', result, target: true },
    )
    const etl = airlock.flow('etl', async ({ day }: { day: string }) => daily(day))

    await etl.run({ day: '2026-11-21' })
    const again = await etl.run({ day: '2026-11-21' })
    await etl.run({ day: '2026-11-22' })

    expect(calls).toBe(2)
    expect(again.value).toEqual({ day: '2026-11-21', rows: 'value-rows-3310' })
    expect(outcomes(controlPlane, 'daily')).toEqual(['Success', 'Cached', 'Success'])
    const cached = taskEvents(controlPlane, 'daily').find((e) => e.state === 'Cached')
    expect(cached?.message).toBe('target exists')
    expect(cached?.result?.location).toMatch(/^alk1\./)
    expect((await filesUnder(join(ws.dir, 'results'))).sort()).toEqual(['daily/2026-11-21.json', 'daily/2026-11-22.json'])
    await expectNoLeaks(controlPlane.events, ['value-rows-3310', 'daily/2026-11-21.json'])
  })

  it('fails a run whose target location changes with every run', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const moving = airlock.task(async () => 1, { name: 'moving', result: localResult(ws), target: true })
    await expect(moving()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('changes with every run') })
    expect(outcomes(controlPlane, 'moving')).toEqual(['Failed'])
  })
})
