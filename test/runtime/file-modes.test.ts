/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
// Without a payload cipher, what the runtime writes to disk holds task values
// and inputs in the clear: it must be the owner's only, set by the SDK itself.
import { chmod, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileControlPlane, LocalResult, cacheValidators } from '../../src/index.js'
import { ResultCacheStore, currentTask } from '../../src/runtime/index.js'
import { airlockIn, gate, workspace, type Workspace } from './fixture.js'

let ws: Workspace
let umask: number
beforeEach(async () => {
  ws = await workspace()
  // With no umask, a file's or directory's mode is whatever the SDK asked for.
  umask = process.umask(0)
})
afterEach(async () => {
  process.umask(umask)
  await ws.cleanup()
})

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777
}

/** Every file and directory under `dir`, with its mode. */
async function modesUnder(dir: string): Promise<{ files: Map<string, number>; dirs: Map<string, number> }> {
  const files = new Map<string, number>()
  const dirs = new Map<string, number>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    ;(entry.isDirectory() ? dirs : files).set(path.slice(dir.length + 1), await modeOf(path))
  }
  return { files, dirs }
}

describe.skipIf(process.platform === 'win32')('modes of what the runtime writes', () => {
  it('results, persisted inputs, cache entries, the ledger and a file control plane: files 0600, created directories 0700', async () => {
    // A directory that exists already is the user's: it keeps its mode.
    await chmod(ws.dir, 0o755)
    const resultsDir = join(ws.dir, 'results')
    const result = new LocalResult({ dir: resultsDir, location: '{flowName}/{taskName}/{taskRunId}.json' })
    const cacheStore = new ResultCacheStore({ index: new LocalResult({ dir: join(ws.dir, 'cache'), location: ResultCacheStore.defaultLocation }) })
    const controlPlane = new FileControlPlane({ path: join(ws.dir, '.airlock', 'control-plane.ndjson') })
    const ledgerPath = join(ws.dir, 'audit', 'ledger.ndjson')
    const { airlock } = airlockIn(ws, { result, cacheStore, controlPlane, ledger: { path: ledgerPath }, concurrencyLimits: { db: 1 } })
    const release = gate()
    const started = gate()
    let failedOnce = false
    const load = airlock.task(
      async (day: string) => {
        if (day === 'first') {
          started.open()
          await release.promise
        }
        if (!failedOnce && currentTask()!.attempt === 1 && day === 'second') {
          failedOnce = true
          throw new Error('transient')
        }
        return { day, rows: 42 }
      },
      { name: 'load', concurrencyKey: 'db', retries: 1, checkpoint: true, cacheFor: '1h', cacheValidator: cacheValidators.allInputs },
    )
    const persisted = airlock.task(async (day: string) => `${day} kept`, { name: 'persisted', persistInputs: true, checkpoint: true })
    const etl = airlock.flow('etl', async () => {
      const first = load('first')
      await started.promise
      const second = load('second')
      setTimeout(() => release.open(), 5)
      await Promise.all([first, second])
      await persisted('third')
      return load('first')
    })

    const run = await etl.run({})
    await airlock.close()

    expect(run.state).toBe('Success')
    const states = run.taskRuns.map((t) => `${t.taskName}:${t.state}`)
    expect(states).toEqual(['load:Success', 'load:Success', 'persisted:Success', 'load:Cached'])

    const results = await modesUnder(resultsDir)
    const written = [...results.files.keys()]
    // Values, the inputs persisted when queued or before the retry, and persistInputs' inputs.
    expect(written.filter((f) => f.endsWith('-inputs.json')).length).toBeGreaterThanOrEqual(2)
    expect(written.filter((f) => !f.endsWith('-inputs.json'))).toHaveLength(3)
    const cache = await modesUnder(join(ws.dir, 'cache'))
    expect(cache.files.size).toBe(2)
    for (const { files, dirs } of [results, cache]) {
      for (const [file, mode] of files) expect(mode, file).toBe(0o600)
      for (const [dir, mode] of dirs) expect(mode, dir).toBe(0o700)
    }
    expect(await modeOf(resultsDir)).toBe(0o700)
    expect(await modeOf(join(ws.dir, 'cache'))).toBe(0o700)
    expect(await modeOf(join(ws.dir, '.airlock'))).toBe(0o700)
    expect(await modeOf(join(ws.dir, '.airlock', 'control-plane.ndjson'))).toBe(0o600)
    expect(await modeOf(join(ws.dir, 'audit'))).toBe(0o700)
    expect(await modeOf(ledgerPath)).toBe(0o600)
    expect(await modeOf(ws.dir)).toBe(0o755)
  })
})
