/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JSONResult } from '../../src/results/json-result.js'
import { LocalResult } from '../../src/results/local-result.js'
import { cacheValidators } from '../../src/runtime/cache-validators.js'
import { currentTask } from '../../src/runtime/run-context.js'
import { ResultCacheStore } from '../../src/runtime/result-cache-store.js'
import { airlockIn, expectNoLeaks, filesUnder, workspace, type Workspace } from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

describe('what reaches the control plane under balanced', () => {
  it('holds no value, no plain location and no unscrubbed exception message, whatever the runtime does', async () => {
    const resultsDir = join(ws.dir, 'results')
    // No location cipher on the result: the boundary must encrypt plain locations itself.
    const result = new LocalResult({ dir: resultsDir, location: '{flowName}/{taskName}/{parameters.region}/{taskRunId}.json' })
    const cacheStore = new ResultCacheStore({ index: new LocalResult({ dir: resultsDir, location: ResultCacheStore.defaultLocation }) })
    const { airlock, controlPlane, ledgerPath } = airlockIn(ws, {
      result,
      cacheStore,
      concurrencyLimits: { warehouse: 1 },
      logger: { destination: new Writable({ write: (_chunk, _encoding, done) => done() }) },
    })
    const planted = {
      input: 'input-canary-3b9f7d',
      value: 'value-canary-c41e02',
      message: 'connection refused by db-canary-77aa for bob.builder@example.com',
      timeoutInput: 'timeout-canary-a5d3e1',
    }

    let flaky = 0
    const extract = airlock.task(
      async (source: string) => {
        if (++flaky < 3) throw new Error(planted.message)
        airlock.logger.info({ attempt: currentTask()?.attempt }, 'extracted')
        return { source, rows: planted.value }
      },
      { name: 'extract', retries: 2, checkpoint: true, cacheFor: '1h', cacheValidator: cacheValidators.allInputs, tags: ['warehouse'] },
    )
    const transform = airlock.task(async (row: string) => `${row}-${planted.value}`, { name: 'transform', concurrencyKey: 'warehouse', persistInputs: true })
    const daily = airlock.task(async (_day: string) => ({ daily: planted.value }), {
      name: 'daily',
      target: true,
      result: new LocalResult({ dir: resultsDir, location: 'targets/{taskName}/{parameters.region}.json' }),
    })
    const inline = airlock.task(async () => ({ inline: planted.value }), { name: 'inline', result: new JSONResult(), checkpoint: true })
    const slow = airlock.task(
      async (_tag: string) => new Promise((resolve) => currentTask()!.signal.addEventListener('abort', resolve)),
      { name: 'slow', timeout: 5 },
    )
    const failing = airlock.task(
      async () => {
        throw new Error(planted.message)
      },
      { name: 'failing' },
    )
    const etl = airlock.flow('etl', async ({ region }: { region: string }) => {
      const first = await extract(planted.input)
      await extract(planted.input)
      await transform.map([first.rows, `${first.rows}-2`])
      await daily(region)
      await daily(region)
      await inline()
      await slow(planted.timeoutInput).catch(() => undefined)
      return failing()
    })

    const run = await etl.run({ region: 'eu-west-1' })

    expect(run.state).toBe('Failed')
    const states = controlPlane.events.filter((e) => e.kind === 'task-run-state').map((e) => `${e.taskName}:${e.state}`)
    for (const expected of ['extract:Retrying', 'extract:Cached', 'transform:Success', 'daily:Cached', 'inline:Success', 'slow:TimedOut', 'failing:Failed']) {
      expect(states).toContain(expected)
    }
    const refused = controlPlane.events.find((e) => e.kind === 'task-run-state' && e.taskName === 'inline' && e.state === 'Success')
    expect(refused).toMatchObject({ result: { type: 'json', location: '[airlock:refused]' } })
    expect(controlPlane.events.some((e) => e.kind === 'log')).toBe(true)
    expect(await filesUnder(resultsDir)).not.toHaveLength(0)
    await expectNoLeaks(controlPlane.events, Object.values(planted), { resultDirs: [resultsDir], ledgerPaths: [ledgerPath] })
  })
})
