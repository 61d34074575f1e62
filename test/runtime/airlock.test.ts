/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ClosedError } from '../../src/errors.js'
import { definePolicy } from '../../src/policy/define-policy.js'
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

  it('fails a flow run loudly when its ledger cannot open, instead of a Success nothing reached (issue 14, item 3)', async () => {
    expect(() => airlockIn(ws, { ledger: { pth: 'x' } as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => airlockIn(ws, { ledger: { path: ws.dir } })).toThrow(expect.objectContaining({ message: expect.stringContaining('is a directory') }))
    const blocker = join(ws.dir, 'blocker')
    await writeFile(blocker, '')
    const { airlock, controlPlane } = airlockIn(ws, { ledger: { path: join(blocker, 'ledger.ndjson') } })
    const load = airlock.task(async () => 1, { name: 'load' })
    await expect(airlock.flow('etl', async () => load()).run({})).rejects.toMatchObject({ code: 'ERR_STORAGE' })
    expect(controlPlane.events).toEqual([])
    ws.airlocks.splice(ws.airlocks.indexOf(airlock), 1)
    await expect(airlock.close()).rejects.toMatchObject({ code: 'ERR_STORAGE' })
  })

  it('ships info logs under balanced though the local level is warn, and warn logs under a warn policy though it is error (issue 14, item 4)', async () => {
    const quiet = airlockIn(ws, { logger: { level: 'warn', destination: join(ws.dir, 'local-1.log') } })
    const etl = quiet.airlock.flow('etl', async () => {
      quiet.airlock.logger.info('loaded rows')
      return 1
    })
    await etl.run({})
    await quiet.airlock.flush()
    expect(quiet.controlPlane.events.filter((e) => e.kind === 'log').map((e) => (e as { msg: string }).msg)).toEqual(['loaded rows'])
    expect(quiet.airlock.stats().suppressedLogs).toBe(0)

    const errorsOnly = airlockIn(ws, { policy: definePolicy({ logs: { level: 'warn' } }, { env: {} }), logger: { level: 'error', destination: join(ws.dir, 'local-2.log') } })
    errorsOnly.airlock.logger.warn('disk almost full')
    errorsOnly.airlock.logger.info('not shipped: below the policy')
    await errorsOnly.airlock.flush()
    expect(errorsOnly.controlPlane.events.filter((e) => e.kind === 'log').map((e) => (e as { msg: string }).msg)).toEqual(['disk almost full'])
    // Nothing reached the local output: the file is empty, or was never made.
    expect(await readFile(join(ws.dir, 'local-2.log'), 'utf8').catch(() => '')).toBe('')
  })

  it('refuses to define a task or a flow once closed (issue 14, item 10)', async () => {
    const { airlock } = airlockIn(ws)
    await airlock.close()
    expect(() => airlock.task(async () => 1, { name: 'late' })).toThrow(ClosedError)
    expect(() => airlock.task(async () => 1, { name: 'late' })).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    expect(() => airlock.flow('late', async () => 1)).toThrow(ClosedError)
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
