import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { expect } from 'vitest'
import type { OutboundEvent, TaskRunStateEvent } from '../../src/boundary/events.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { LocalResult } from '../../src/results/local-result.js'
import { Airlock, type AirlockRuntimeOptions } from '../../src/runtime/airlock.js'
import { RUNTIME_WARNING_CODE } from '../../src/runtime/task-runner.js'

/** A temp dir that every Airlock of a test lives in, removed by `cleanup`. */
export interface Workspace {
  readonly dir: string
  readonly keys: KeyRing
  readonly airlocks: Airlock[]
  cleanup(): Promise<void>
}

export async function workspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-runtime-'))
  const airlocks: Airlock[] = []
  return {
    dir,
    keys: KeyRing.generate(),
    airlocks,
    async cleanup() {
      await Promise.all(airlocks.map((a) => a.close()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}

let ledgers = 0

/** An Airlock under `balanced` (the environment ignored), a MemoryControlPlane and a ledger in the workspace. */
export function airlockIn(
  ws: Workspace,
  options: Partial<AirlockRuntimeOptions> = {},
): { airlock: Airlock; controlPlane: MemoryControlPlane; ledgerPath: string } {
  const controlPlane = new MemoryControlPlane()
  const ledgerPath = join(ws.dir, `ledger-${++ledgers}.ndjson`)
  const airlock = new Airlock({
    policy: definePolicy({ preset: 'balanced' }, { env: {} }),
    keys: ws.keys,
    controlPlane,
    ledger: { path: ledgerPath },
    logger: { level: 'silent' },
    ...options,
  })
  ws.airlocks.push(airlock)
  return { airlock, controlPlane, ledgerPath }
}

/** A LocalResult under the workspace's `results` dir, with the location encrypted. */
export function localResult(ws: Workspace, location = '{flowName}/{taskName}/{taskRunId}.json', dir = 'results'): LocalResult {
  return new LocalResult({ dir: join(ws.dir, dir), location, locationCipher: ws.keys })
}

/** The task-run-state events of one task, in order. */
export function taskEvents(controlPlane: MemoryControlPlane, taskName: string): TaskRunStateEvent[] {
  return controlPlane.events.filter((e): e is TaskRunStateEvent => e.kind === 'task-run-state' && e.taskName === taskName)
}

/** The state names of one task's events, in order. */
export function taskStates(controlPlane: MemoryControlPlane, taskName: string): string[] {
  return taskEvents(controlPlane, taskName).map((e) => e.state)
}

/** Every file under `dir`, as paths relative to it (`/`-separated). */
export async function filesUnder(dir: string): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true })
  } catch {
    return []
  }
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
}

/**
 * Fails if any event the control plane received, or any line of the ledger,
 * holds one of the planted strings (values, exception messages) or the
 * plain location of any file under `resultDirs`: under `balanced`, none may
 * leave in the clear.
 */
export async function expectNoLeaks(
  events: readonly OutboundEvent[],
  planted: readonly string[],
  options: { resultDirs?: readonly string[]; ledgerPaths?: readonly string[] } = {},
): Promise<void> {
  const needles = [...planted]
  for (const dir of options.resultDirs ?? []) needles.push(...(await filesUnder(dir)))
  expect(needles.every((n) => n.length >= 6), 'planted strings must be long enough to be specific').toBe(true)
  const haystacks = events.map((e) => JSON.stringify(e))
  for (const path of options.ledgerPaths ?? []) haystacks.push(await readFile(path, 'utf8'))
  for (const needle of needles) {
    const found = haystacks.find((h) => h.includes(needle))
    expect(found, `leaked ${JSON.stringify(needle)}`).toBeUndefined()
  }
}

/** Collects the runtime's process warnings until `stop()`. */
export function captureWarnings(): { readonly messages: string[]; stop(): void } {
  const messages: string[] = []
  const listener = (warning: Error & { code?: string }): void => {
    if (warning.code === RUNTIME_WARNING_CODE) messages.push(warning.message)
  }
  process.on('warning', listener)
  return { messages, stop: () => process.off('warning', listener) }
}

/** Lets queued microtasks and `process.emitWarning`'s nextTick run. */
export function settleTicks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** A promise with its resolver, to hold a task until the test lets it go. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open = (): void => {}
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}
