/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them */
import { join } from 'node:path'
import { decodeProtectedHeader } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { JSONResult } from '../../src/results/json-result.js'
import { LocalResult } from '../../src/results/local-result.js'
import { airlockIn, taskEvents, workspace, type Workspace } from './fixture.js'

// Issue 14: a Result used by airlock.task takes the Airlock's keys unless given its own, so keys are passed once.

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

const kidOf = (token: string): unknown => decodeProtectedHeader(token.slice('alk1.'.length)).kid
const bare = (dir: string): LocalResult => new LocalResult({ dir: join(ws.dir, dir), location: '{flowName}/{taskName}/{taskRunId}.json' })

describe('a Result used by an Airlock', () => {
  it.each([
    ['a task', (result: LocalResult) => ({ task: { result }, flow: {}, airlock: {} })],
    ['a flow', (result: LocalResult) => ({ task: {}, flow: { result }, airlock: {} })],
    ['the Airlock', (result: LocalResult) => ({ task: {}, flow: {}, airlock: { result } })],
  ] as const)('given to %s without keys, encrypts its locations with the Airlock keys and reads back what the control plane saw', async (_, place) => {
    const result = bare('results')
    const where = place(result)
    const { airlock, controlPlane } = airlockIn(ws, where.airlock)
    const produce = airlock.task(async () => ({ rows: 3 }), { name: 'produce', ...where.task })
    const run = await airlock.flow('etl', async () => produce(), where.flow).run({})
    expect(run.state).toBe('Success')
    const written = run.taskRuns[0]?.result
    expect(written?.location?.startsWith('alk1.')).toBe(true)
    expect(kidOf(written!.location!)).toBe(ws.keys.activeKid)
    const sent = taskEvents(controlPlane, 'produce').at(-1)?.result?.location
    expect(sent).toBe(written?.location)
    // The same object, used on its own, now opens the token: the keys were passed once, to the Airlock.
    expect((await result.read(sent!)).value).toEqual({ rows: 3 })
  })

  it('with keys of its own keeps them', async () => {
    const own = KeyRing.generate()
    const result = new LocalResult({ dir: join(ws.dir, 'own'), location: '{taskName}/{taskRunId}.json', locationCipher: own })
    const { airlock } = airlockIn(ws)
    const produce = airlock.task(async () => 1, { name: 'produce', result })
    const run = await airlock.flow('etl', async () => produce()).run({})
    const location = run.taskRuns[0]?.result?.location as string
    expect(kidOf(location)).toBe(own.activeKid)
    expect(kidOf(location)).not.toBe(ws.keys.activeKid)
    expect((await new LocalResult({ dir: join(ws.dir, 'own'), locationCipher: own }).read(location)).value).toBe(1)
  })

  it('leaves the payload as the result stores it, and an inline result to the inline-values rule', async () => {
    const result = bare('plain-payload')
    const { airlock } = airlockIn(ws)
    airlock.task(async () => 1, { name: 'produce', result })
    const written = await result.write({ stored: 'as-is' }, { flowName: 'f', taskName: 't', taskRunId: 'r' })
    // Only the location is encrypted: stored results written before stay readable, and what is stored is unchanged.
    expect((await bare('plain-payload').read(written.plainLocation)).value).toEqual({ stored: 'as-is' })
    const inline = new JSONResult()
    airlock.task(async () => 1, { name: 'inline', result: inline })
    expect((await inline.write({ a: 1 })).location).toBe('{"a":1}')
  })
})
