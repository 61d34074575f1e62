/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DeliveryBatch, DeliveryOutcome } from '../../src/boundary/control-plane.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
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
    // The first task is let go only once the control plane has the second's Queued state: no timer decides the order.
    const release = gate()
    const firstStarted = gate()
    class QueueWatchingControlPlane extends MemoryControlPlane {
      override deliverNow(batch: DeliveryBatch): DeliveryOutcome {
        const outcome = super.deliverNow(batch)
        if (this.events.some((e) => e.kind === 'task-run-state' && e.state === 'Queued')) release.open()
        return outcome
      }
    }
    const controlPlane = new QueueWatchingControlPlane()
    const { airlock, ledgerPath } = airlockIn(ws, { concurrencyLimits: { db: 1 }, controlPlane })
    const result = localResult(ws)
    let running = 0
    let most = 0
    const bodies: string[] = []
    const query = airlock.task(
      async (sql: string) => {
        running++
        most = Math.max(most, running)
        bodies.push(`start ${sql.includes('first') ? 1 : 2}`)
        if (sql.includes('first')) {
          firstStarted.open()
          await release.promise
        }
        bodies.push(`end ${sql.includes('first') ? 1 : 2}`)
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
    // The second ran only once the first's body had returned and freed the slot, and it was Queued while the first ran.
    // (Its Running may come before the first's Success: the slot is freed when the body returns, before the Success state.)
    expect(bodies).toEqual(['start 1', 'end 1', 'start 2', 'end 2'])
    const order = taskEvents(controlPlane, 'query').map((e) => `${e.taskRunId === first?.taskRunId ? 1 : 2}:${e.state}`)
    expect(order.indexOf('2:Queued')).toBeGreaterThan(order.indexOf('1:Running'))
    expect(order.indexOf('2:Running')).toBeGreaterThan(order.indexOf('2:Queued'))
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
