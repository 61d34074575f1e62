/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { definePolicy } from '../../src/policy/define-policy.js'
import { loadPolicy } from '../../src/policy/load-policy.js'
import type { TemplateContext } from '../../src/results/location-template.js'
import { LocalResult } from '../../src/results/local-result.js'
import type { Airlock } from '../../src/runtime/airlock.js'
import { airlockIn, captureWarnings, expectNoLeaks, filesUnder, localResult, settleTicks, taskEvents, workspace, type Workspace } from './fixture.js'

let ws: Workspace
const savedEnv = process.env.AIRLOCK_CHECKPOINTING
beforeEach(async () => {
  ws = await workspace()
  delete process.env.AIRLOCK_CHECKPOINTING
})
afterEach(async () => {
  if (savedEnv === undefined) delete process.env.AIRLOCK_CHECKPOINTING
  else process.env.AIRLOCK_CHECKPOINTING = savedEnv
  await ws.cleanup()
})

/** Runs one task that returns a value, in a flow, and tells whether its value was written. */
async function runOnce(airlock: Airlock, checkpoint: boolean | undefined, dir: string): Promise<{ written: string[]; successHasResult: boolean }> {
  const result = localResult(ws, '{flowName}/{taskName}/{taskRunId}.json', dir)
  const produce = airlock.task(async () => ({ payload: 'value-payload-6e0b' }), { name: 'produce', result, ...(checkpoint === undefined ? {} : { checkpoint }) })
  const run = await airlock.flow('etl', async () => produce()).run({})
  expect(run.state).toBe('Success')
  const success = run.taskRuns[0]
  return { written: await filesUnder(join(ws.dir, dir)), successHasResult: success?.result !== undefined }
}

describe('checkpointing', () => {
  it.each(['permissive', 'balanced', 'strict'] as const)('is on by default under %s: a task given a result writes its value (issue 14, item 1)', async (preset) => {
    const { airlock, controlPlane } = airlockIn(ws, { policy: definePolicy({ preset }, { env: {} }) })
    expect(airlock.policy.checkpointing).toBe(true)
    const { written, successHasResult } = await runOnce(airlock, undefined, `default-${preset}`)
    expect(written).toHaveLength(1)
    expect(successHasResult).toBe(true)
    const location = taskEvents(controlPlane, 'produce').at(-1)?.result?.location
    expect(typeof location).toBe('string')
    expect((await localResult(ws, 'x', `default-${preset}`).read(location!)).value).toEqual({ payload: 'value-payload-6e0b' })
  })

  it('is on by default for a task outside any flow, and for the result of the flow or the Airlock', async () => {
    const { airlock } = airlockIn(ws, { result: localResult(ws, '{flowName}/{taskName}/{taskRunId}.json', 'airlock-wide') })
    const alone = airlock.task(async () => 'alone-value', { name: 'alone', result: localResult(ws, '{taskName}/{taskRunId}.json', 'alone') })
    await alone()
    expect(await filesUnder(join(ws.dir, 'alone'))).toHaveLength(1)
    const inherit = airlock.task(async () => 'inherited-value', { name: 'inherit' })
    await airlock.flow('etl', async () => inherit()).run({})
    expect(await filesUnder(join(ws.dir, 'airlock-wide'))).toHaveLength(1)
    const flowResult = localResult(ws, '{flowName}/{taskName}/{taskRunId}.json', 'flow-wide')
    await airlock.flow('etl2', async () => inherit(), { result: flowResult }).run({})
    expect(await filesUnder(join(ws.dir, 'flow-wide'))).toHaveLength(1)
  })

  it('checkpoints a Buffer and a class instance with the default serializer: the run ends Success (issue 14, item 2)', async () => {
    class Charge {
      constructor(readonly id: string, readonly receipt: Buffer) {}
    }
    const { airlock, controlPlane } = airlockIn(ws)
    const result = localResult(ws, '{flowName}/{taskName}/{taskRunId}.json', 'values')
    const charge = airlock.task(async () => new Charge('ch_1', Buffer.from('receipt-bytes')), { name: 'charge', result })
    const pdf = airlock.task(async () => Buffer.from('%PDF'), { name: 'pdf', result })
    const run = await airlock.flow('billing', async () => [await charge(), await pdf()]).run({})
    expect(run.state).toBe('Success')
    const charged = taskEvents(controlPlane, 'charge').at(-1)!
    expect(charged.state).toBe('Success')
    const stored = (await result.read(charged.result!.location)).value as { id: string; receipt: Buffer }
    expect(stored.id).toBe('ch_1')
    expect(stored.receipt.toString()).toBe('receipt-bytes')
    const bytes = (await result.read(taskEvents(controlPlane, 'pdf').at(-1)!.result!.location)).value
    expect(Buffer.isBuffer(bytes) && bytes.toString()).toBe('%PDF')
  })

  it('is turned off by the policy, AIRLOCK_CHECKPOINTING=false and checkpoint: false', async () => {
    const policyOff = airlockIn(ws, { policy: definePolicy({ checkpointing: false }, { env: {} }) })
    expect(await runOnce(policyOff.airlock, undefined, 'policy-off')).toEqual({ written: [], successHasResult: false })
    expect(taskEvents(policyOff.controlPlane, 'produce').at(-1)?.result).toBeUndefined()
    const envOff = airlockIn(ws, { policy: definePolicy({ preset: 'balanced' }, { env: { AIRLOCK_CHECKPOINTING: 'false' } }) })
    expect(await runOnce(envOff.airlock, undefined, 'env-off-default')).toEqual({ written: [], successHasResult: false })
    const taskOff = airlockIn(ws)
    expect(await runOnce(taskOff.airlock, false, 'task-off')).toEqual({ written: [], successHasResult: false })
  })

  it('is turned on by AIRLOCK_CHECKPOINTING=true, and off by =false; checkpoint: false wins over it', async () => {
    process.env.AIRLOCK_CHECKPOINTING = 'true'
    const on = airlockIn(ws, { policy: { preset: 'balanced' } })
    expect(on.airlock.policy.checkpointing).toBe(true)
    const written = await runOnce(on.airlock, undefined, 'env-on')
    expect(written.written).toHaveLength(1)
    expect(written.successHasResult).toBe(true)
    const success = taskEvents(on.controlPlane, 'produce').at(-1)
    expect(success?.state).toBe('Success')
    expect(success?.result?.location).toMatch(/^alk1\./)
    expect((await localResult(ws, 'x', 'env-on').read(success!.result!.location)).value).toEqual({ payload: 'value-payload-6e0b' })
    expect(await runOnce(on.airlock, false, 'env-on-task-off')).toEqual({ written: [], successHasResult: false })
    await expectNoLeaks(on.controlPlane.events, ['value-payload-6e0b'], { resultDirs: [join(ws.dir, 'env-on')], ledgerPaths: [on.ledgerPath] })

    process.env.AIRLOCK_CHECKPOINTING = 'false'
    const off = airlockIn(ws, { policy: { preset: 'balanced', checkpointing: true } })
    expect(off.airlock.policy.checkpointing).toBe(false)
    expect(await runOnce(off.airlock, undefined, 'env-off')).toEqual({ written: [], successHasResult: false })
  })

  it('is turned on by the policy file; checkpoint: false wins over it', async () => {
    const path = join(ws.dir, 'policy.yaml')
    await writeFile(path, 'preset: balanced\ncheckpointing: true\n')
    const { airlock } = airlockIn(ws, { policy: loadPolicy(path, { env: {} }) })
    expect((await runOnce(airlock, undefined, 'file-on')).written).toHaveLength(1)
    expect(await runOnce(airlock, false, 'file-on-task-off')).toEqual({ written: [], successHasResult: false })
  })

  it('is turned on per task by checkpoint: true while the global switch is off', async () => {
    const { airlock } = airlockIn(ws, { policy: definePolicy({ checkpointing: false }, { env: {} }) })
    expect((await runOnce(airlock, true, 'task-on')).written).toHaveLength(1)
    expect((await runOnce(airlock, undefined, 'task-default')).written).toEqual([])
  })

  it('writes nothing for an undefined value, and warns once when checkpoint: true has no result anywhere', async () => {
    const { airlock, controlPlane } = airlockIn(ws, { policy: definePolicy({ checkpointing: true }, { env: {} }) })
    const nothing = airlock.task(async () => undefined, { name: 'nothing', result: localResult(ws, '{taskName}/{taskRunId}.json', 'undefined') })
    await nothing()
    expect(await filesUnder(join(ws.dir, 'undefined'))).toEqual([])
    expect(taskEvents(controlPlane, 'nothing').at(-1)?.result).toBeUndefined()

    const warnings = captureWarnings()
    try {
      const orphan = airlock.task(async () => 1, { name: 'orphan', checkpoint: true })
      await orphan()
      await orphan()
      await settleTicks()
      expect(warnings.messages).toEqual([expect.stringContaining('task "orphan" has checkpoint: true but no result')])
    } finally {
      warnings.stop()
    }
  })

  it('passes the task context to Result.write: flow and task names, run ids, mapIndex, date, parameters and inputs', async () => {
    const { airlock } = airlockIn(ws)
    const contexts: TemplateContext[] = []
    const result = new LocalResult({
      dir: join(ws.dir, 'context'),
      location: (context) => {
        contexts.push(context)
        return '{flowName}/{taskName}/{parameters.region}/{mapIndex}-{inputs.0}-{taskRunId}-{flowRunId}-{date}.json'.replace(
          /\{([a-zA-Z.0-9]+)\}/g,
          (_, key: string) => String(key.split('.').reduce<unknown>((node, step) => (node as Record<string, unknown>)[step], context)),
        )
      },
    })
    const scale = airlock.task(async (x: number) => x * 10, { name: 'scale', result, checkpoint: true })
    const run = await airlock.flow('etl', async (_: { region: string }) => scale.map([1, 2])).run({ region: 'eu' })

    expect(run.value).toEqual([10, 20])
    const written = contexts.filter((c) => typeof c.taskRunId === 'string' && !String(c.taskRunId).endsWith('-inputs'))
    expect(written).toHaveLength(2)
    for (const context of written) {
      const taskRun = run.taskRuns.find((t) => t.taskRunId === context.taskRunId)
      expect(context).toMatchObject({ flowName: 'etl', taskName: 'scale', flowRunId: run.flowRunId, parameters: { region: 'eu' } })
      expect(context.mapIndex).toBe(taskRun?.mapIndex)
      expect(context.inputs).toEqual({ 0: (taskRun!.mapIndex as number) + 1 })
      expect(context.date).toMatch(/^\d{8}T\d{6}Z$/)
      expect(context.today).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    }
    const files = await filesUnder(join(ws.dir, 'context'))
    expect(files.sort()).toEqual(
      run.taskRuns
        .map((t) => t.result?.plainLocation)
        .filter((p): p is string => p !== undefined)
        .sort(),
    )
    expect(files.every((f) => f.startsWith('etl/scale/eu/'))).toBe(true)
  })
})
