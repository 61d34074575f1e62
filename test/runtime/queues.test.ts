/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConcurrencyLimiter } from '../../src/runtime/concurrency-limiter.js'
import { airlockIn, expectNoLeaks, gate, localResult, taskEvents, workspace, type Workspace } from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

describe('task queues', () => {
  it('queues a task under a concurrency limit of 1, persists its inputs, and runs it when the slot frees', async () => {
    const { airlock, controlPlane, ledgerPath } = airlockIn(ws, { concurrencyLimits: { db: 1 } })
    const result = localResult(ws)
    const release = gate()
    const firstStarted = gate()
    let running = 0
    let most = 0
    const query = airlock.task(
      async (sql: string) => {
        running++
        most = Math.max(most, running)
        if (sql.includes('first')) {
          firstStarted.open()
          await release.promise
        }
        running--
        return `rows of ${sql}`
      },
      // Not checkpointed: the Success state would follow the value's write, after the slot is free.
      { name: 'query', concurrencyKey: 'db', result, checkpoint: false },
    )
    const etl = airlock.flow('etl', async () => {
      const first = query('select first-secret-7c1d')
      await firstStarted.promise
      const second = query('select second-secret-91ab')
      // The second run is queued behind the first: let the first finish only now.
      setTimeout(() => release.open(), 5)
      return Promise.all([first, second])
    })

    const run = await etl.run({})

    expect(run.state).toBe('Success')
    expect(run.value).toEqual(['rows of select first-secret-7c1d', 'rows of select second-secret-91ab'])
    expect(most).toBe(1)
    const [first, second] = run.taskRuns
    const statesOf = (taskRunId: string | undefined): string[] =>
      taskEvents(controlPlane, 'query').filter((e) => e.taskRunId === taskRunId).map((e) => e.state)
    expect(statesOf(first?.taskRunId)).toEqual(['Pending', 'Running', 'Success'])
    expect(statesOf(second?.taskRunId)).toEqual(['Pending', 'Queued', 'Running', 'Success'])
    const queued = taskEvents(controlPlane, 'query').find((e) => e.state === 'Queued')
    expect(queued?.message).toBe('waiting for a free slot of 1 concurrency limit')
    expect(queued?.result?.location).toMatch(/^alk1\./)
    expect((await localResult(ws).read(queued!.result!.location)).value).toEqual({ 0: 'select second-secret-91ab' })
    // The second started only after the first had succeeded.
    const order = taskEvents(controlPlane, 'query').map((e) => `${e.taskRunId === first?.taskRunId ? 1 : 2}:${e.state}`)
    expect(order.indexOf('2:Running')).toBeGreaterThan(order.indexOf('1:Success'))
    await expectNoLeaks(controlPlane.events, ['first-secret-7c1d', 'second-secret-91ab'], {
      resultDirs: [join(ws.dir, 'results')],
      ledgerPaths: [ledgerPath],
    })
  })

  it('limits by tag too, and queues without a result (nothing persisted)', async () => {
    const { airlock, controlPlane } = airlockIn(ws, { concurrencyLimits: { gpu: 2 } })
    let running = 0
    let most = 0
    const release = gate()
    const train = airlock.task(
      async (epoch: number) => {
        running++
        most = Math.max(most, running)
        await release.promise
        running--
        return epoch
      },
      { name: 'train', tags: ['gpu', 'ml'] },
    )
    const mapped = train.map([1, 2, 3, 4, 5, 6], { concurrency: 6 })
    // Every run is held until two run and the other four are seen queued: a limiter that let more through fails here.
    await vi.waitFor(() => {
      expect(running).toBe(2)
      expect(taskEvents(controlPlane, 'train').filter((e) => e.state === 'Queued').length).toBe(4)
    })
    release.open()
    const values = await mapped
    expect(values).toEqual([1, 2, 3, 4, 5, 6])
    expect(most).toBe(2)
    const queued = taskEvents(controlPlane, 'train').filter((e) => e.state === 'Queued')
    expect(queued.length).toBeGreaterThanOrEqual(4)
    expect(queued.every((e) => e.result === undefined)).toBe(true)
  })

  it('refuses a concurrencyKey without a limit, and a malformed limit', () => {
    const { airlock } = airlockIn(ws, { concurrencyLimits: { db: 1 } })
    expect(() => airlock.task(async () => 1, { name: 'x', concurrencyKey: 'cache' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('concurrencyLimits') }),
    )
    expect(() => airlockIn(ws, { concurrencyLimits: { db: 0 } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('ConcurrencyLimiter', () => {
  it('takes every key at once or none, and grants waiters in arrival order', async () => {
    const limiter = new ConcurrencyLimiter({ a: 1, b: 1 })
    expect(limiter.limited(['b', 'x', 'a', 'b'])).toEqual(['a', 'b'])
    expect(limiter.tryAcquire(['a'])).toBe(true)
    expect(limiter.tryAcquire(['a', 'b'])).toBe(false)
    // Nothing of 'b' was taken by the failed attempt.
    expect(limiter.tryAcquire(['b'])).toBe(true)
    limiter.release(['b'])

    const granted: string[] = []
    const both = limiter.acquire(['a', 'b'], undefined).then(() => granted.push('both'))
    // A newcomer on 'b' must not overtake the waiter that needs 'b' too.
    expect(limiter.tryAcquire(['b'])).toBe(false)
    const onlyB = limiter.acquire(['b'], undefined).then(() => granted.push('onlyB'))
    limiter.release(['a'])
    await both
    expect(granted).toEqual(['both'])
    limiter.release(['a', 'b'])
    await onlyB
    expect(granted).toEqual(['both', 'onlyB'])
  })

  it('drops a waiter whose signal aborts, holding nothing', async () => {
    const limiter = new ConcurrencyLimiter({ a: 1 })
    expect(limiter.tryAcquire(['a'])).toBe(true)
    const controller = new AbortController()
    const waiting = limiter.acquire(['a'], controller.signal)
    controller.abort(new Error('stop'))
    await expect(waiting).rejects.toThrow('stop')
    limiter.release(['a'])
    expect(limiter.tryAcquire(['a'])).toBe(true)
  })
})
