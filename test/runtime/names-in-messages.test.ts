/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
// Under `states.names: 'hash'` flow names, task names, tags and concurrency
// keys leave only as fingerprints. The runtime's own messages (state messages,
// the errors it throws into runs) must not spell them out either: these tests
// drive every such message through the public API and look for the names in
// every event and in the ledger.
import { randomBytes } from 'node:crypto'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  AirlockError,
  LocalResult,
  TaskCancelledError,
  TaskTimeoutError,
  cacheValidators,
  type Airlock,
  type MemoryControlPlane,
  type OutboundEvent,
} from '../../src/index.js'
import { Fingerprinter } from '../../src/crypto/index.js'
import { ResultCacheStore, currentTask } from '../../src/runtime/index.js'
import { airlockIn, gate, workspace, type Workspace } from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

// Random, so no fixed text of the SDK can contain one by chance.
function uniqueName(kind: string): string {
  return `${kind}-${randomBytes(4).toString('hex')}`
}

interface Names {
  readonly flow: string
  readonly task: string
  readonly tag: string
  readonly key: string
}

function names(): Names {
  return { flow: uniqueName('flowname'), task: uniqueName('taskname'), tag: uniqueName('tagname'), key: uniqueName('limitkey') }
}

const EXCEPTION_MODES = ['scrubbed', 'full'] as const

function hashingAirlock(
  exceptions: (typeof EXCEPTION_MODES)[number],
  options: Parameters<typeof airlockIn>[1] = {},
): { airlock: Airlock; controlPlane: MemoryControlPlane; ledgerPath: string } {
  return airlockIn(ws, {
    // `full` sends stacks too: the names must not be in them either.
    policy: { preset: 'balanced', states: { names: 'hash' }, exceptions: { mode: exceptions, stack: 'scrubbed' } },
    ...options,
  })
}

/** Fails if any event sent, or any ledger line, holds one of the names; returns the states seen, by fingerprint. */
async function expectNoNames(controlPlane: MemoryControlPlane, ledgerPath: string, planted: Names): Promise<void> {
  const sent = controlPlane.events.map((event) => JSON.stringify(event))
  const ledger = await readFile(ledgerPath, 'utf8')
  expect(sent.length).toBeGreaterThan(0)
  for (const name of [planted.flow, planted.task, planted.tag, planted.key]) {
    expect(sent.find((line) => line.includes(name)), `an event spells out ${name}`).toBeUndefined()
    expect(ledger.includes(name), `the ledger spells out ${name}`).toBe(false)
  }
}

function statesOf(controlPlane: MemoryControlPlane, kind: 'flow-run-state' | 'task-run-state', hashedName: string): string[] {
  return controlPlane.events.flatMap((e) => {
    if (e.kind === 'flow-run-state' && kind === e.kind && e.flowName === hashedName) return [e.state]
    if (e.kind === 'task-run-state' && kind === e.kind && e.taskName === hashedName) return [e.state]
    return []
  })
}

function taskEvent(controlPlane: MemoryControlPlane, hashedTask: string, state: string): (OutboundEvent & { message?: string; failure?: unknown }) | undefined {
  return controlPlane.events.find((e) => e.kind === 'task-run-state' && e.taskName === hashedTask && e.state === state)
}

/** The name is on the error for local debugging, and nowhere that prints or leaves. */
function expectNameOnlyAsProperty(err: unknown, property: 'flowName' | 'taskName' | 'concurrencyKey', name: string): void {
  expect(err).toBeInstanceOf(AirlockError)
  const error = err as AirlockError
  expect(error[property]).toBe(name)
  expect(error.message).not.toContain(name)
  expect(error.stack ?? '').not.toContain(name)
  expect(Object.keys(error)).not.toContain(property)
  expect(JSON.stringify(error)).not.toContain(name)
  expect(inspect(error)).not.toContain(name)
  expect(String(error)).not.toContain(name)
}

describe.each(EXCEPTION_MODES)('names in the runtime messages, exceptions %s', (mode) => {
  it('a task that times out, is retried and times out again: Retrying and TimedOut name nothing', async () => {
    const n = names()
    const { airlock, controlPlane, ledgerPath } = hashingAirlock(mode)
    const hashed = new Fingerprinter(ws.keys)
    const slow = airlock.task(async () => new Promise((resolve) => currentTask()!.signal.addEventListener('abort', resolve)), {
      name: n.task,
      tags: [n.tag],
      timeout: 10,
      retries: 1,
    })
    const etl = airlock.flow(n.flow, async () => slow(), { tags: [n.tag] })

    const run = await etl.run({})

    expect(run.state).toBe('Failed')
    expect(run.error).toBeInstanceOf(TaskTimeoutError)
    expect((run.error as Error).message).toBe('task attempt 2 ran longer than its timeout of 10 ms')
    expectNameOnlyAsProperty(run.error, 'taskName', n.task)
    expect(statesOf(controlPlane, 'task-run-state', hashed.fingerprint(n.task))).toEqual(['Pending', 'Running', 'Retrying', 'Running', 'TimedOut'])
    expect(statesOf(controlPlane, 'flow-run-state', hashed.fingerprint(n.flow))).toEqual(['Pending', 'Running', 'Failed'])
    expect(taskEvent(controlPlane, hashed.fingerprint(n.task), 'Retrying')?.message).toBe('attempt 1 timed out; retry 1 of 1 in 0 ms')
    expect(taskEvent(controlPlane, hashed.fingerprint(n.task), 'TimedOut')?.failure).toMatchObject({
      type: 'TaskTimeoutError',
      code: 'ERR_TASK_TIMEOUT',
      message: 'task attempt 2 ran longer than its timeout of 10 ms',
    })
    await expectNoNames(controlPlane, ledgerPath, n)
  })

  it('a flow cancelled through its signal, with one task running and one queued: Cancelled names nothing', async () => {
    const n = names()
    const { airlock, controlPlane, ledgerPath } = hashingAirlock(mode, { concurrencyLimits: { [n.key]: 1, [n.tag]: 1 } })
    const hashed = new Fingerprinter(ws.keys)
    const started = gate()
    const hold = airlock.task(
      async () => {
        started.open()
        await new Promise((resolve) => currentTask()!.signal.addEventListener('abort', resolve))
      },
      { name: n.task, concurrencyKey: n.key, tags: [n.tag] },
    )
    const controller = new AbortController()
    const etl = airlock.flow(n.flow, async () => {
      const first = hold()
      await started.promise
      const second = hold()
      setTimeout(() => controller.abort(new Error(`stop ${n.flow}`)), 5)
      return Promise.all([first, second])
    })

    const run = await etl.run({}, { signal: controller.signal })

    expect(run.state).toBe('Cancelled')
    expect(run.error).toBeInstanceOf(TaskCancelledError)
    expect((run.error as Error).message).toBe('the flow run was cancelled')
    expectNameOnlyAsProperty(run.error, 'flowName', n.flow)
    const [first, second] = run.taskRuns
    const byRun = (taskRunId: string | undefined): string[] =>
      controlPlane.events.filter((e) => e.kind === 'task-run-state' && e.taskRunId === taskRunId).map((e) => (e as { state: string }).state)
    expect(byRun(first?.taskRunId)).toEqual(['Pending', 'Running', 'Cancelled'])
    expect(byRun(second?.taskRunId)).toEqual(['Pending', 'Queued', 'Cancelled'])
    expect(taskEvent(controlPlane, hashed.fingerprint(n.task), 'Queued')?.message).toBe('waiting for a free slot of 2 concurrency limits')
    expect(taskEvent(controlPlane, hashed.fingerprint(n.task), 'Cancelled')?.failure).toMatchObject({ type: 'TaskCancelledError', code: 'ERR_TASK_CANCELLED' })
    expect(statesOf(controlPlane, 'flow-run-state', hashed.fingerprint(n.flow))).toEqual(['Pending', 'Running', 'Cancelled'])
    await expectNoNames(controlPlane, ledgerPath, n)
  })

  it('retries, queues and cache hits, all succeeding: Queued, Retrying and Cached name nothing', async () => {
    const n = names()
    const resultsDir = join(ws.dir, 'results')
    const result = new LocalResult({ dir: resultsDir, location: '{flowName}/{taskName}/{taskRunId}.json' })
    const cacheStore = new ResultCacheStore({ index: new LocalResult({ dir: resultsDir, location: ResultCacheStore.defaultLocation }) })
    const { airlock, controlPlane, ledgerPath } = hashingAirlock(mode, { concurrencyLimits: { [n.key]: 1 }, result, cacheStore })
    const hashed = new Fingerprinter(ws.keys)
    const failures = new Map<string, number>()
    const flaky = airlock.task(
      async (item: string) => {
        const seen = failures.get(item) ?? 0
        failures.set(item, seen + 1)
        if (seen === 0) throw new Error('transient')
        return `${item} done`
      },
      { name: n.task, concurrencyKey: n.key, retries: 1, cacheFor: '1h', cacheValidator: cacheValidators.allInputs, checkpoint: true },
    )
    const target = airlock.task(async () => 'daily', { name: `${n.task}-target`, target: true, result: new LocalResult({ dir: resultsDir, location: 'targets/{taskName}.json' }) })
    const etl = airlock.flow(n.flow, async () => {
      const done = await Promise.all([flaky('a'), flaky('b')])
      await flaky('a')
      await target()
      await target()
      return done
    })

    const run = await etl.run({})

    expect(run.state).toBe('Success')
    const states = statesOf(controlPlane, 'task-run-state', hashed.fingerprint(n.task))
    for (const state of ['Queued', 'Retrying', 'Cached', 'Success']) expect(states).toContain(state)
    const messages = controlPlane.events.flatMap((e) => (e.kind === 'task-run-state' && e.message !== undefined ? [e.message] : []))
    expect(messages).toContain('waiting for a free slot of 1 concurrency limit')
    expect(messages).toContain('attempt 1 failed; retry 1 of 1 in 0 ms')
    expect(messages).toContain('cache hit')
    expect(messages).toContain('target exists')
    await expectNoNames(controlPlane, ledgerPath, n)
  })

  it('errors the runtime throws into a run (definitions, map, targets, checkpoints, storage): no name in any failure', async () => {
    const n = names()
    const resultsDir = join(ws.dir, 'results')
    // A file where the flow's directory would go: checkpointing fails in storage.
    await mkdir(resultsDir, { recursive: true })
    await writeFile(join(resultsDir, n.flow), 'in the way')
    const blocked = new LocalResult({ dir: resultsDir, location: '{flowName}/{taskName}/{taskRunId}.json' })
    const { airlock, controlPlane, ledgerPath } = hashingAirlock(mode, { concurrencyLimits: { [n.key]: 1 } })
    const attempts: (() => Promise<unknown>)[] = [
      // Tasks and flows defined inside a run: their definition errors are the run's failure.
      async () => airlock.task(async () => 1, { name: n.task, retries: -1 }),
      async () => airlock.task(async () => 1, { name: n.task, timeout: 'soon' as never }),
      async () => airlock.task(async () => 1, { name: n.task, retryDelay: { exponential: { baseMs: 10, maxMs: 1 } } }),
      async () => airlock.task(async () => 1, { name: n.task, concurrencyKey: `${n.key}-unlimited` }),
      async () => airlock.task(async () => 1, { name: n.task, tags: [n.tag, ''] }),
      async () => airlock.task(async () => 1, { name: n.task, target: true }),
      async () => airlock.flow(n.task, 'not a function' as never),
      async () => airlock.flow(n.task, async () => 1, { tags: [n.tag, 7] as never }),
      async () => airlock.flow(n.task, async () => 1).run([] as never),
      // Calls the runtime refuses.
      async () => airlock.task(async () => 1, { name: n.task }).map(7 as never),
      async () => airlock.task(async (x: number) => x, { name: n.task }).map([1], { concurrency: 0 }),
      async () => airlock.task(async () => 1, { name: n.task, target: true, result: new LocalResult({ dir: resultsDir, location: '{taskName}/{taskRunId}.json' }) })(),
      async () => airlock.task(async () => 1, { name: n.task, persistInputs: true, result: new LocalResult({ dir: resultsDir, location: 'fixed.json' }) })(),
      // Checkpointing: a value the serializer refuses, and storage that fails.
      async () => airlock.task(async () => ({ callback: () => n.task }), { name: n.task, checkpoint: true, result: blocked })(),
      async () => airlock.task(async () => 'fine', { name: n.task, checkpoint: true, result: blocked })(),
      async () => airlock.task(async () => 'fine', { name: n.task, persistInputs: true, result: blocked })(),
    ]

    for (const [i, attempt] of attempts.entries()) {
      const run = await airlock.flow(n.flow, attempt).run({})
      expect(run.state, `attempt ${i}`).toBe('Failed')
      expect(run.error, `attempt ${i}`).toBeInstanceOf(AirlockError)
      expect((run.error as Error).message, `attempt ${i}`).not.toMatch(new RegExp(`${n.flow}|${n.task}|${n.tag}|${n.key}`))
    }
    const failures = controlPlane.events.filter((e) => e.kind === 'flow-run-state' && e.state === 'Failed')
    expect(failures).toHaveLength(attempts.length)
    for (const failure of failures) expect((failure as { failure?: { code?: string } }).failure?.code).toMatch(/^ERR_/)
    await expectNoNames(controlPlane, ledgerPath, n)
  })
})

describe('names on the runtime errors', () => {
  it('carries the task, flow or key on the error, never in the message, stack or printed forms', async () => {
    const n = names()
    const { airlock } = airlockIn(ws, { concurrencyLimits: { [n.key]: 1 } })
    const timing = airlock.task(async () => new Promise(() => undefined), { name: n.task, timeout: 5 })
    const timedOut: unknown = await timing().catch((err: unknown) => err)
    expectNameOnlyAsProperty(timedOut, 'taskName', n.task)
    // The wrapper still answers to its name, without lending it to stack frames.
    expect(timing.name).toBe(n.task)
    expect(timing.taskName).toBe(n.task)

    const definition = (() => {
      try {
        airlock.task(async () => 1, { name: n.task, concurrencyKey: `${n.key}-unlimited` })
      } catch (err) {
        return err
      }
    })()
    expectNameOnlyAsProperty(definition, 'taskName', n.task)
    expectNameOnlyAsProperty(definition, 'concurrencyKey', `${n.key}-unlimited`)

    expect(() => airlockIn(ws, { concurrencyLimits: { [n.key]: 0 } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', concurrencyKey: n.key }))
    const badLimit = (() => {
      try {
        airlockIn(ws, { concurrencyLimits: { [n.key]: 1.5 } })
      } catch (err) {
        return err
      }
    })()
    expectNameOnlyAsProperty(badLimit, 'concurrencyKey', n.key)

    await airlock.close()
    const closed: unknown = await timing().catch((err: unknown) => err)
    expect(closed).toMatchObject({ code: 'ERR_CLOSED' })
    expectNameOnlyAsProperty(closed, 'taskName', n.task)
  })
})
