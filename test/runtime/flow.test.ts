/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FlowRunStateEvent, LogEvent, ParametersEvent } from '../../src/boundary/events.js'
import { ClosedError } from '../../src/errors.js'
import { currentTask, type TaskRunContext } from '../../src/runtime/run-context.js'
import { airlockIn, expectNoLeaks, gate, taskEvents, taskStates, workspace, type Workspace } from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

describe('airlock.flow', () => {
  it('emits the parameters, the flow states and the task states of one run, in order, under one run id', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const double = airlock.task(async (x: number) => x * 2, { name: 'double' })
    const etl = airlock.flow('etl', async ({ x }: { x: number }) => double(x), { tags: ['nightly'] })

    const run = await etl.run({ x: 21 })

    expect(run.state).toBe('Success')
    expect(run.value).toBe(42)
    expect(run.taskRuns).toHaveLength(1)
    expect(run.taskRuns[0]).toMatchObject({ taskName: 'double', state: 'Success', attempts: 1 })
    const events = controlPlane.events
    expect(events.map((e) => e.kind)).toEqual([
      'parameters',
      'flow-run-state',
      'flow-run-state',
      'task-run-state',
      'task-run-state',
      'task-run-state',
      'flow-run-state',
    ])
    expect(events.every((e) => e.runId === run.flowRunId)).toBe(true)
    expect((events[0] as ParametersEvent).parameters).toEqual({ x: 21 })
    expect(events.filter((e): e is FlowRunStateEvent => e.kind === 'flow-run-state').map((e) => [e.state, e.tags])).toEqual([
      ['Pending', ['nightly']],
      ['Running', undefined],
      ['Success', undefined],
    ])
    expect(taskStates(controlPlane, 'double')).toEqual(['Pending', 'Running', 'Success'])
    const taskRunIds = new Set(taskEvents(controlPlane, 'double').map((e) => e.taskRunId))
    expect([...taskRunIds]).toEqual([run.taskRuns[0]?.taskRunId])
  })

  it('sends parameters through the parameters channel, so the policy scrubs them', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const etl = airlock.flow('etl', async (_: { owner: string; region: string }) => 'done')
    await etl.run({ owner: 'ada.lovelace@example.com', region: 'eu-west-1' })
    const parameters = controlPlane.events.find((e): e is ParametersEvent => e.kind === 'parameters')
    expect(parameters?.parameters).toEqual({ owner: '[REDACTED:email]', region: 'eu-west-1' })
    await expectNoLeaks(controlPlane.events, ['ada.lovelace@example.com'])
  })

  it('resolves a failed run with state Failed and a scrubbed failure, and rethrows the task error as is', async () => {
    const { airlock, controlPlane, ledgerPath } = airlockIn(ws)
    const thrown = new Error('cannot reach db for grace.hopper@example.com')
    const load = airlock.task(
      async (_day: string) => {
        throw thrown
      },
      { name: 'load' },
    )
    let seen: unknown
    const etl = airlock.flow('etl', async () => {
      try {
        return await load('2026-11-21')
      } catch (err) {
        seen = err
        throw err
      }
    })

    const run = await etl.run({})

    expect(run.state).toBe('Failed')
    expect(run.value).toBeUndefined()
    expect(run.error).toBe(thrown)
    expect(seen).toBe(thrown)
    expect(taskStates(controlPlane, 'load')).toEqual(['Pending', 'Running', 'Failed'])
    const failed = taskEvents(controlPlane, 'load').at(-1)
    expect(failed?.failure).toEqual({ type: 'Error', message: 'cannot reach db for [REDACTED:email]' })
    const flowFailed = controlPlane.events.at(-1) as FlowRunStateEvent
    expect(flowFailed).toMatchObject({ kind: 'flow-run-state', state: 'Failed', failure: { type: 'Error' } })
    await expectNoLeaks(controlPlane.events, [thrown.message, 'grace.hopper@example.com'], { ledgerPaths: [ledgerPath] })
  })

  it('gives tasks the run context through AsyncLocalStorage, across awaits and nested tasks', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const contexts: TaskRunContext[] = []
    const inner = airlock.task(
      async (x: number) => {
        await new Promise((resolve) => setTimeout(resolve, 1))
        contexts.push(currentTask()!)
        return x + 1
      },
      { name: 'inner' },
    )
    const outer = airlock.task(
      async (x: number) => {
        contexts.push(currentTask()!)
        return inner(x)
      },
      { name: 'outer' },
    )
    const etl = airlock.flow('etl', async ({ x }: { x: number }) => outer(x))
    const run = await etl.run({ x: 1 })

    expect(run.value).toBe(2)
    expect(currentTask()).toBeUndefined()
    expect(contexts.map((c) => [c.taskName, c.flowName, c.flowRunId, c.runId, c.attempt])).toEqual([
      ['outer', 'etl', run.flowRunId, run.flowRunId, 1],
      ['inner', 'etl', run.flowRunId, run.flowRunId, 1],
    ])
    expect(contexts[0]?.parameters).toEqual({ x: 1 })
    expect(taskEvents(controlPlane, 'inner')[0]?.taskRunId).toBe(contexts[1]?.taskRunId)
    expect(run.taskRuns.map((t) => t.taskName)).toEqual(['outer', 'inner'])
  })

  it('keeps concurrent flow runs apart', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const echo = airlock.task(
      async (x: number) => {
        await new Promise((resolve) => setTimeout(resolve, x))
        return currentTask()?.flowRunId
      },
      { name: 'echo' },
    )
    const etl = airlock.flow('etl', async ({ x }: { x: number }) => echo(x))
    const [a, b] = await Promise.all([etl.run({ x: 5 }), etl.run({ x: 1 })])
    expect(a.value).toBe(a.flowRunId)
    expect(b.value).toBe(b.flowRunId)
    expect(a.flowRunId).not.toBe(b.flowRunId)
    for (const e of taskEvents(controlPlane, 'echo')) {
      const run = [a, b].find((r) => r.taskRuns.some((t) => t.taskRunId === e.taskRunId))
      expect(e.runId).toBe(run?.flowRunId)
    }
  })

  it('refuses parameters that are not a plain object', async () => {
    const { airlock } = airlockIn(ws)
    const etl = airlock.flow('etl', async () => 1)
    await expect(etl.run([] as unknown as Record<string, unknown>)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(() => airlock.flow('', async () => 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => airlock.flow('etl', async () => 1, { retries: 1 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it('ends a cancelled run as Cancelled: the running task sees its signal abort and ends Cancelled', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const started = gate()
    let reason: unknown
    const wait = airlock.task(
      async () => {
        const signal = currentTask()!.signal
        started.open()
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
        reason = signal.reason
        return 'late'
      },
      { name: 'wait' },
    )
    const never = airlock.task(async () => 'never', { name: 'never' })
    const etl = airlock.flow('etl', async () => {
      await wait()
      return never()
    })
    const controller = new AbortController()
    const running = etl.run({}, { signal: controller.signal })
    await started.promise
    controller.abort(new Error('operator pressed stop for ada@example.com'))
    const run = await running

    expect(run.state).toBe('Cancelled')
    expect(run.error).toMatchObject({ code: 'ERR_TASK_CANCELLED' })
    expect(reason).toMatchObject({ code: 'ERR_TASK_CANCELLED' })
    expect(taskStates(controlPlane, 'wait')).toEqual(['Pending', 'Running', 'Cancelled'])
    expect(taskStates(controlPlane, 'never')).toEqual([])
    const flowStates = controlPlane.events.filter((e): e is FlowRunStateEvent => e.kind === 'flow-run-state').map((e) => e.state)
    expect(flowStates).toEqual(['Pending', 'Running', 'Cancelled'])
    await expectNoLeaks(controlPlane.events, ['operator pressed stop', 'ada@example.com'])
  })
})

describe('a task outside any flow', () => {
  it('runs as a one-task run: its own run id, its states, nothing of a flow', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const double = airlock.task(async (x: number) => x * 2, { name: 'double', tags: ['math'] })

    expect(await double(4)).toBe(8)
    expect(await double(5)).toBe(10)

    const events = taskEvents(controlPlane, 'double')
    expect(controlPlane.events).toHaveLength(6)
    expect(events.map((e) => e.state)).toEqual(['Pending', 'Running', 'Success', 'Pending', 'Running', 'Success'])
    expect(events.every((e) => e.flowName === undefined)).toBe(true)
    expect(events[0]?.tags).toEqual(['math'])
    const runIds = events.map((e) => e.runId)
    expect(new Set(runIds.slice(0, 3)).size).toBe(1)
    expect(new Set(runIds.slice(3)).size).toBe(1)
    expect(runIds[0]).not.toBe(runIds[3])
  })

  it('keeps the arguments, this, the return value and the thrown error of the function', async () => {
    const { airlock } = airlockIn(ws)
    const boom = new TypeError('bad row')
    const account = {
      factor: 3,
      scale: airlock.task(
        async function (this: { factor: number }, x: number, y: number = 1) {
          return { product: x * y * this.factor, args: [x, y] }
        },
        { name: 'scale' },
      ),
    }
    const fail = airlock.task(
      async () => {
        throw boom
      },
      { name: 'fail' },
    )
    const syncThrow = airlock.task(
      (): Promise<never> => {
        throw boom
      },
      { name: 'syncThrow' },
    )

    expect(await account.scale(2, 5)).toEqual({ product: 30, args: [2, 5] })
    expect(await account.scale(2)).toEqual({ product: 6, args: [2, 1] })
    expect(account.scale.name).toBe('scale')
    expect(account.scale.length).toBe(1)
    expect(account.scale.taskName).toBe('scale')
    await expect(fail()).rejects.toBe(boom)
    await expect(syncThrow()).rejects.toBe(boom)
  })

  it('takes its name from the function, and needs one for an anonymous function', () => {
    const { airlock } = airlockIn(ws)
    async function loadOrders(): Promise<number> {
      return 1
    }
    expect(airlock.task(loadOrders).taskName).toBe('loadOrders')
    expect(() => airlock.task(() => Promise.resolve(1))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('options.name') }),
    )
  })

  it('refuses unknown and mistyped options when the task is defined', () => {
    const { airlock } = airlockIn(ws)
    const fn = async (): Promise<number> => 1
    const bad = [
      { name: 'x', retires: 2 },
      { name: 'x', retries: -1 },
      { name: 'x', timeout: 'soon' },
      { name: 'x', timeout: 0 },
      { name: 'x', retryDelay: { linear: 5 } },
      { name: 'x', retryDelay: { exponential: { baseMs: 100, maxMs: 10 } } },
      { name: 'x', cacheValidator: {} },
      { name: 'x', cacheFor: '1h', cacheValidator: {} },
      { name: 'x', cacheKey: 'shared' },
      { name: 'x', checkpoint: 'yes' },
      { name: 'x', result: { dir: 'results' } },
      { name: 'x', concurrencyKey: 'db' },
      { name: 'x', tags: ['ok', ''] },
    ]
    for (const options of bad) {
      expect(() => airlock.task(fn, options as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
  })

  it('refuses to run after close()', async () => {
    const { airlock } = airlockIn(ws)
    const double = airlock.task(async (x: number) => x * 2, { name: 'double' })
    const etl = airlock.flow('etl', async () => 1)
    await airlock.close()
    await expect(double(1)).rejects.toBeInstanceOf(ClosedError)
    await expect(double.map([1])).rejects.toBeInstanceOf(ClosedError)
    await expect(etl.run({})).rejects.toBeInstanceOf(ClosedError)
  })
})

describe('task.map', () => {
  it('runs one task run per item with its mapIndex, in bounded parallel, and returns the values in item order', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    let running = 0
    let most = 0
    const square = airlock.task(
      async (x: number) => {
        running++
        most = Math.max(most, running)
        await new Promise((resolve) => setTimeout(resolve, 5 - x))
        running--
        return { x, square: x * x, mapIndex: currentTask()?.mapIndex }
      },
      { name: 'square' },
    )
    const etl = airlock.flow('etl', async () => square.map([0, 1, 2, 3, 4], { concurrency: 2 }))
    const run = await etl.run({})

    expect(run.state).toBe('Success')
    expect(run.value).toEqual([0, 1, 2, 3, 4].map((x) => ({ x, square: x * x, mapIndex: x })))
    expect(most).toBe(2)
    const successes = taskEvents(controlPlane, 'square').filter((e) => e.state === 'Success')
    expect(successes.map((e) => e.mapIndex).sort()).toEqual([0, 1, 2, 3, 4])
    expect(run.taskRuns.map((t) => t.mapIndex).sort()).toEqual([0, 1, 2, 3, 4])
  })

  it('settles every item, then rejects with the failure of the lowest index; alone, it is one run', async () => {
    const { airlock, controlPlane } = airlockIn(ws)
    const picky = airlock.task(
      async (x: number) => {
        if (x % 2 === 1) throw new Error(`odd ${x}`)
        return x
      },
      { name: 'picky' },
    )
    await expect(picky.map([0, 1, 2, 3])).rejects.toThrow('odd 1')
    const events = taskEvents(controlPlane, 'picky')
    expect(events.filter((e) => e.state === 'Success').map((e) => e.mapIndex).sort()).toEqual([0, 2])
    expect(events.filter((e) => e.state === 'Failed').map((e) => e.mapIndex).sort()).toEqual([1, 3])
    expect(new Set(events.map((e) => e.runId)).size).toBe(1)
    await expect(picky.map(42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(picky.map([1], { concurrency: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })
})

describe('airlock.logger', () => {
  it('ships records as log events of the run and task they were written in, and of run "process" outside', async () => {
    const lines: string[] = []
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString())
        done()
      },
    })
    const { airlock, controlPlane } = airlockIn(ws, { logger: { destination } })
    const load = airlock.task(
      async () => {
        airlock.logger.info({ user: 'ada@example.com', rows: 3 }, 'loaded')
        return 1
      },
      { name: 'load' },
    )
    const etl = airlock.flow('etl', async () => load())
    const run = await etl.run({})
    airlock.logger.warn('outside any run')
    await airlock.flush()

    const logs = controlPlane.events.filter((e): e is LogEvent => e.kind === 'log')
    expect(logs).toHaveLength(2)
    expect(logs[0]).toMatchObject({ runId: run.flowRunId, taskRunId: run.taskRuns[0]?.taskRunId, msg: 'loaded', level: 'info' })
    expect(logs[0]?.fields).toMatchObject({ user: '[REDACTED:email]', rows: 3 })
    expect(logs[1]).toMatchObject({ runId: 'process', msg: 'outside any run', level: 'warn' })
    expect(logs[1]?.taskRunId).toBeUndefined()
    await expectNoLeaks(controlPlane.events, ['ada@example.com'])
  })
})
