/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NoResultConfiguredError } from '../../src/errors.js'
import { JSONResult } from '../../src/results/json-result.js'
import { LocalResult } from '../../src/results/local-result.js'
import { ResultCacheStore } from '../../src/runtime/result-cache-store.js'
import { airlockIn, localResult, taskEvents, workspace, type Workspace } from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

const work = async (x: number): Promise<number> => x

describe('a feature that needs persistence, with no result configured', () => {
  it('fails when the task is defined, naming the feature and what to set in the message and the task on the error', () => {
    const { airlock } = airlockIn(ws)
    const shared = new ResultCacheStore({ index: new LocalResult({ dir: ws.dir, location: ResultCacheStore.defaultLocation }) })
    const cases = [
      { options: { name: 'withTarget', target: true }, feature: 'target' },
      { options: { name: 'withSharedCache', cacheFor: '1h', cacheStore: shared }, feature: 'shared cacheStore' },
      { options: { name: 'withPersistInputs', persistInputs: true }, feature: 'persistInputs' },
    ] as const
    for (const { options, feature } of cases) {
      let thrown: unknown
      try {
        airlock.task(work, options)
      } catch (err) {
        thrown = err
      }
      expect(thrown, options.name).toBeInstanceOf(NoResultConfiguredError)
      const err = thrown as NoResultConfiguredError
      expect(err.code).toBe('ERR_NO_RESULT_CONFIGURED')
      // The name is on the error, never in the message (a message can reach the control plane).
      expect(err.taskName).toBe(options.name)
      expect(err.message).not.toContain(options.name)
      expect(err.message).toContain(feature)
      expect(err.message).toContain('airlock.task(fn, { result')
      expect(err.message).toContain('new Airlock({ result })')
    }
  })

  it('is satisfied by a result on the task or on the Airlock (the cacheStore there counts too)', async () => {
    const cacheStore = new ResultCacheStore({ index: new LocalResult({ dir: ws.dir, location: ResultCacheStore.defaultLocation }) })
    const bare = airlockIn(ws)
    expect(() => bare.airlock.task(work, { name: 'a', persistInputs: true, result: localResult(ws) })).not.toThrow()
    const withDefault = airlockIn(ws, { result: localResult(ws), cacheStore })
    expect(() => withDefault.airlock.task(work, { name: 'b', target: true })).not.toThrow()
    expect(() => withDefault.airlock.task(work, { name: 'c', cacheFor: '1h' })).not.toThrow()
    const sharedNoResult = airlockIn(ws, { cacheStore })
    expect(() => sharedNoResult.airlock.task(work, { name: 'd', cacheFor: '1h' })).toThrow(expect.objectContaining({ code: 'ERR_NO_RESULT_CONFIGURED' }))
  })

  it('refuses options that contradict each other', () => {
    const { airlock } = airlockIn(ws, { result: localResult(ws) })
    expect(() => airlock.task(work, { name: 'e', target: true, checkpoint: false })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('checkpoint: false') }),
    )
    expect(() => airlock.task(work, { name: 'f', target: true, result: new JSONResult() })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it('persists the inputs before the first attempt with persistInputs: true; the Pending state carries them', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const result = localResult(ws)
    const keep = airlock.task(async (order: { id: string }) => order.id.length, { name: 'keep', persistInputs: true, result })
    expect(await keep({ id: 'order-input-77f1' })).toBe(16)
    const pending = taskEvents(controlPlane, 'keep')[0]
    expect(pending?.state).toBe('Pending')
    expect(pending?.result?.location).toMatch(/^alk1\./)
    expect((await result.read(pending!.result!.location)).value).toEqual({ id: 'order-input-77f1' })
  })

  it('fails the run with persistInputs: true when the inputs cannot be written', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const keep = airlock.task(async (_fn: () => void) => 1, { name: 'keep', persistInputs: true, result: localResult(ws) })
    await expect(keep(() => {})).rejects.toMatchObject({ code: 'ERR_SERIALIZATION' })
    expect(taskEvents(controlPlane, 'keep').map((e) => e.state)).toEqual(['Pending', 'Failed'])
  })
})
