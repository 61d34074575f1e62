/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { currentTask } from '../../src/runtime/run-context.js'
import { retryDelayFunction } from '../../src/runtime/retry-delay.js'
import { airlockIn, captureWarnings, expectNoLeaks, filesUnder, localResult, settleTicks, taskEvents, workspace, type Workspace } from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

describe('retries', () => {
  it('retries a task that fails twice, persisting its inputs through the result before each retry', async () => {
    const { airlock, controlPlane, ledgerPath } = airlockIn(ws)
    const result = localResult(ws)
    const secretInput = 'customer-4111-1111-1111-1111'
    const seenFiles: string[][] = []
    const charge = airlock.task(
      async (account: string, cents: number) => {
        const attempt = currentTask()!.attempt
        seenFiles.push(await filesUnder(join(ws.dir, 'results')))
        if (attempt < 3) throw new Error(`card declined for ${account} (attempt ${attempt})`)
        return { charged: cents, receipt: 'receipt-value-9f2c' }
      },
      { name: 'charge', retries: 2, retryDelay: 5, result },
    )
    const billing = airlock.flow('billing', async () => charge(secretInput, 1250))

    const run = await billing.run({})

    expect(run.state).toBe('Success')
    expect(run.value).toEqual({ charged: 1250, receipt: 'receipt-value-9f2c' })
    expect(run.taskRuns[0]).toMatchObject({ state: 'Success', attempts: 3 })
    const events = taskEvents(controlPlane, 'charge')
    expect(events.map((e) => [e.state, e.attempt])).toEqual([
      ['Pending', undefined],
      ['Running', 1],
      ['Retrying', 2],
      ['Running', 2],
      ['Retrying', 3],
      ['Running', 3],
      ['Success', undefined],
    ])
    // Nothing was persisted before the first failure; before each retry, the inputs were there.
    expect(seenFiles[0]).toEqual([])
    expect(seenFiles[1]).toHaveLength(1)
    expect(seenFiles[2]).toEqual(seenFiles[1])
    const retrying = events.filter((e) => e.state === 'Retrying')
    for (const e of retrying) {
      expect(e.message).toMatch(/^attempt \d failed; retry \d of 2 in 5 ms$/)
      expect(e.failure?.type).toBe('Error')
      expect(e.result?.type).toBe('local')
      expect(e.result?.location).toMatch(/^alk1\./)
      // Another process with the key ring resumes from the reference alone.
      const inputs = await localResult(ws).read(e.result!.location)
      expect(inputs.value).toEqual({ 0: secretInput, 1: 1250 })
    }
    // The inputs went apart from the value, which was checkpointed (on by default for a task with a result).
    expect(events.at(-1)?.result?.location).toMatch(/^alk1\./)
    expect(retrying[0]?.result?.location).not.toBe(events.at(-1)?.result?.location)
    expect((await localResult(ws).read(events.at(-1)!.result!.location)).value).toEqual({ charged: 1250, receipt: 'receipt-value-9f2c' })
    const messages = [1, 2].map((attempt) => `card declined for ${secretInput} (attempt ${attempt})`)
    await expectNoLeaks(controlPlane.events, [secretInput, 'receipt-value-9f2c', ...messages], {
      resultDirs: [join(ws.dir, 'results')],
      ledgerPaths: [ledgerPath],
    })
  })

  it('uses the flow result for the inputs when the task has none, and retries in process without any result', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    let calls = 0
    const flaky = airlock.task(
      async (x: number) => {
        if (++calls % 2 === 1) throw new Error('transient')
        return x
      },
      { name: 'flaky', retries: 1 },
    )
    const withResult = airlock.flow('withResult', async () => flaky(1), { result: localResult(ws, '{flowName}/{taskName}/{taskRunId}.json', 'flow-results') })
    const without = airlock.flow('without', async () => flaky(2))

    expect((await withResult.run({})).value).toBe(1)
    expect((await without.run({})).value).toBe(2)

    const retrying = taskEvents(controlPlane, 'flaky').filter((e) => e.state === 'Retrying')
    expect(retrying).toHaveLength(2)
    expect(retrying[0]?.result?.location).toMatch(/^alk1\./)
    expect(retrying[1]?.result).toBeUndefined()
    // The inputs before the retry, and the value (checkpointed by default).
    expect(await filesUnder(join(ws.dir, 'flow-results'))).toHaveLength(2)
  })

  it('ends Failed with the last error when the retries run out', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const last = new Error('still down')
    const down = airlock.task(
      async () => {
        throw last
      },
      { name: 'down', retries: 2 },
    )
    await expect(down()).rejects.toBe(last)
    expect(taskEvents(controlPlane, 'down').map((e) => e.state)).toEqual(['Pending', 'Running', 'Retrying', 'Running', 'Retrying', 'Running', 'Failed'])
  })

  it('goes on retrying in process, with a warning, when the inputs cannot be persisted', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const warnings = captureWarnings()
    try {
      let calls = 0
      const withCallback = airlock.task(
        async (_onRow: (row: number) => void) => {
          if (++calls === 1) throw new Error('once')
          return calls
        },
        { name: 'withCallback', retries: 1, result: localResult(ws) },
      )
      expect(await withCallback(() => {})).toBe(2)
      await settleTicks()
      const retrying = taskEvents(controlPlane, 'withCallback').find((e) => e.state === 'Retrying')
      expect(retrying?.result).toBeUndefined()
      expect(warnings.messages, JSON.stringify(warnings.messages)).toEqual([expect.stringMatching(/"withCallback".*ERR_SERIALIZATION/)])
    } finally {
      warnings.stop()
    }
  })
})

describe('retryDelay', () => {
  it.each([
    ['durations', { base: '100ms', max: '1s' }],
    ['ms under the older names', { baseMs: 100, maxMs: 1000 }],
  ] as const)('waits a fixed duration, or an exponential one with jitter in [d/2, d] capped at max (%s)', (_, backoff) => {
    expect(retryDelayFunction('2s', 'retryDelay')(3)).toBe(2000)
    expect(retryDelayFunction(undefined, 'retryDelay')(1)).toBe(0)
    const exponential = retryDelayFunction({ exponential: backoff }, 'retryDelay')
    for (let i = 0; i < 200; i++) {
      const first = exponential(1)
      expect(first).toBeGreaterThanOrEqual(50)
      expect(first).toBeLessThanOrEqual(100)
      const third = exponential(3)
      expect(third).toBeGreaterThanOrEqual(200)
      expect(third).toBeLessThanOrEqual(400)
      const capped = exponential(40)
      expect(capped).toBeGreaterThanOrEqual(500)
      expect(capped).toBeLessThanOrEqual(1000)
    }
  })

  it('refuses malformed delays', () => {
    for (const bad of [
      -1,
      'soon',
      { exponential: { baseMs: 10 } },
      { exponential: { baseMs: 10, maxMs: 5 } },
      { exponential: { base: '1s', max: '10ms' } },
      { exponential: { base: '1s', max: '1 minute' } },
      { exponential: { base: '1s', max: '1m', jitter: true } },
      { fixed: 5 },
      null,
    ]) {
      expect(() => retryDelayFunction(bad as never, 'retryDelay'), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
    expect(() => retryDelayFunction({ exponential: { base: '1s', baseMs: 1000, max: '1m' } } as never, 'retryDelay')).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_CONFLICT' }),
    )
  })
})
