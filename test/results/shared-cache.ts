import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { TaskRunStateEvent } from '../../src/boundary/events.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import type { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import type { Result } from '../../src/results/result.js'
import { Airlock } from '../../src/runtime/airlock.js'
import { cacheValidators } from '../../src/runtime/cache-validators.js'
import { ResultCacheStore } from '../../src/runtime/result-cache-store.js'

/** One machine's view of shared storage: its task result and the result its cache index goes through, each with clients of its own. */
export interface Machine {
  readonly result: Result
  readonly index: Result
}

/**
 * Two Airlocks, one per machine, share only the key ring and the storage.
 * The first runs a cached task, which writes its value and a cache entry to
 * the storage; the second runs the same task with the same input and gets a
 * cache hit through the storage: the function does not run again.
 */
export async function expectCacheSharedThroughStorage(keys: KeyRing, machines: readonly [Machine, Machine]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-shared-cache-'))
  let calls = 0
  const runOn = async (machine: Machine, n: number): Promise<{ value: unknown; states: string[]; locations: string[] }> => {
    const controlPlane = new MemoryControlPlane()
    const airlock = new Airlock({
      policy: definePolicy({ preset: 'balanced' }, { env: {} }),
      keys,
      controlPlane,
      ledger: { path: join(dir, `ledger-${n}.ndjson`) },
      logger: { level: 'silent' },
      result: machine.result,
      cacheStore: new ResultCacheStore({ index: machine.index }),
    })
    try {
      const load = airlock.task(
        (table: string) => {
          calls++
          return Promise.resolve({ table, rows: 42 })
        },
        { name: 'load', cacheFor: '1h', cacheValidator: cacheValidators.allInputs },
      )
      const value = await load('orders')
      const events = controlPlane.events.filter((e): e is TaskRunStateEvent => e.kind === 'task-run-state' && e.taskName === 'load')
      const sent = JSON.stringify(controlPlane.events)
      return { value, states: events.map((e) => e.state), locations: [...sent.matchAll(/alk1\.[A-Za-z0-9_.-]+/g)].map((m) => m[0]) }
    } finally {
      await airlock.close()
    }
  }
  try {
    const first = await runOn(machines[0], 1)
    expect(first.value).toEqual({ table: 'orders', rows: 42 })
    expect(first.states.at(-1)).toBe('Success')
    expect(calls).toBe(1)

    const second = await runOn(machines[1], 2)
    expect(second.value).toEqual({ table: 'orders', rows: 42 })
    expect(second.states.at(-1)).toBe('Cached')
    expect(calls).toBe(1)
    // What the control plane saw of the result: an encrypted location only.
    expect(first.locations.length).toBeGreaterThan(0)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
