/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ClosedError } from '../../src/errors.js'
import { PendingEmits } from '../../src/runtime/pending-emits.js'
import { airlockIn, gate, taskStates, workspace, type Workspace } from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

describe('Airlock runtime options', () => {
  it('refuses a result, cache store, concurrency limit or logger option of the wrong shape', () => {
    const bad = [
      { result: { dir: 'results' } },
      { cacheStore: new Map() },
      { concurrencyLimits: { db: 1.5 } },
      { concurrencyLimits: [1] },
      { logger: { level: 'info', pretty: true } },
    ]
    for (const options of bad) {
      expect(() => airlockIn(ws, options as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
  })

  it('still prints as the boundary does, without keys', () => {
    const { airlock } = airlockIn(ws)
    expect(String(airlock)).toMatch(/^Airlock\(policy ph1\..+, keys \[airlock:redacted\]\)$/)
  })

  it('refuses new task runs once closed, and a run under way reports the close', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const hold = gate()
    const started = gate()
    const slow = airlock.task(
      async () => {
        started.open()
        return hold.promise.then(() => 'done')
      },
      { name: 'slow' },
    )
    const after = airlock.task(async () => 'never', { name: 'after' })
    const etl = airlock.flow('etl', async () => {
      await slow()
      return after()
    })
    const running = etl.run({})
    await started.promise
    const closing = airlock.close()
    hold.open()
    // The Airlock closed under the run: its later events cannot be sent, and the run says so.
    await expect(running).rejects.toBeInstanceOf(ClosedError)
    await closing
    expect(taskStates(controlPlane, 'after')).toEqual([])
  })
})

describe('PendingEmits', () => {
  it('settles once every tracked emit has, and rethrows the first failure', async () => {
    const pending = new PendingEmits()
    await pending.settled()
    const first = gate()
    const second = gate()
    pending.track(first.promise)
    pending.track(second.promise)
    let settled = false
    const waiting = pending.settled().then(() => (settled = true))
    first.open()
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(false)
    second.open()
    await waiting
    expect(settled).toBe(true)

    const boom = new Error('closed')
    pending.track(Promise.reject(boom))
    pending.track(Promise.reject(new Error('later')))
    await expect(pending.settled()).rejects.toBe(boom)
  })
})
