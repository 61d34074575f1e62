/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TaskTimeoutError } from '../../src/errors.js'
import { currentTask } from '../../src/runtime/run-context.js'
import { airlockIn, expectNoLeaks, taskEvents, workspace, type Workspace } from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

describe('timeout', () => {
  it('aborts the attempt signal with a TaskTimeoutError and ends the run TimedOut', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    let reason: unknown
    const slow = airlock.task(
      async (url: string) => {
        const signal = currentTask()!.signal
        // Stands for fetch(url, { signal }): it ends when the signal aborts.
        await new Promise<void>((_resolve, reject) =>
          signal.addEventListener('abort', () => {
            reason = signal.reason
            reject(new Error(`fetch ${url} aborted`))
          }),
        )
        return 'never'
      },
      { name: 'slow', timeout: 20 },
    )

    const call = slow('https://internal.example.com/export?token=abc123secret')
    await expect(call).rejects.toBeInstanceOf(TaskTimeoutError)
    await expect(call).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT', message: 'task attempt 1 ran longer than its timeout of 20 ms', taskName: 'slow' })
    expect(reason).toBeInstanceOf(TaskTimeoutError)
    const events = taskEvents(controlPlane, 'slow')
    expect(events.map((e) => e.state)).toEqual(['Pending', 'Running', 'TimedOut'])
    expect(events.at(-1)?.failure).toMatchObject({ type: 'TaskTimeoutError', code: 'ERR_TASK_TIMEOUT' })
    await expectNoLeaks(controlPlane.events, ['abc123secret'])
  })

  it('ends the call at the timeout even when the function ignores its signal', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const stuck = airlock.task(() => new Promise<never>(() => {}), { name: 'stuck', timeout: '10ms' })
    const run = await airlock.flow('etl', async () => stuck()).run({})
    expect(run.state).toBe('Failed')
    expect(run.error).toBeInstanceOf(TaskTimeoutError)
    expect(taskEvents(controlPlane, 'stuck').map((e) => e.state)).toEqual(['Pending', 'Running', 'TimedOut'])
  })

  it('retries a timed-out attempt like a failure, each attempt with its own time', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const attempts: number[] = []
    const sometimes = airlock.task(
      async () => {
        const { attempt, signal } = currentTask()!
        attempts.push(attempt)
        if (attempt === 1) await new Promise((resolve) => signal.addEventListener('abort', resolve))
        return attempt
      },
      { name: 'sometimes', timeout: 15, retries: 1 },
    )
    expect(await sometimes()).toBe(2)
    expect(attempts).toEqual([1, 2])
    const events = taskEvents(controlPlane, 'sometimes')
    expect(events.map((e) => e.state)).toEqual(['Pending', 'Running', 'Retrying', 'Running', 'Success'])
    expect(events[2]?.message).toBe('attempt 1 timed out; retry 1 of 1 in 0 ms')
  })

  it('gives a task without a timeout a signal that never aborts', async () => {
    const { airlock } = airlockIn(ws)
    const plain = airlock.task(async () => currentTask()!.signal.aborted, { name: 'plain' })
    expect(await plain()).toBe(false)
  })
})
