import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LedgerEntry } from '../../src/audit/ledger-entry.js'
import { verifyLedger } from '../../src/audit/verify-ledger.js'
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import { HttpControlPlane } from '../../src/boundary/http-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { ControlPlaneServer } from '../support/control-plane-server.js'

// A process emitting through HttpControlPlane is killed with SIGKILL at a
// random point, again and again; after each kill a new process opens the
// same ledger and closes. Then every event the ledger holds has reached the
// server once, in ledger order, the server holds nothing the ledger lacks,
// and a batch sent twice carried the same idempotency key both times.
// AIRLOCK_CRASH_ROUNDS sets the kills (default 50); bench/outbox-crash.ts runs more.

const ROUNDS = Number(process.env.AIRLOCK_CRASH_ROUNDS ?? 50)
// A generous bound per kill: a child starts, emits, dies, and a new one drains.
const TIMEOUT_MS = Math.max(600_000, ROUNDS * 10_000)
const TOKEN = 'tok_crash_test_9d2e7a'

let dir: string
let child: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-crash-'))
  // One bundle, so each child starts in tens of milliseconds instead of compiling TypeScript.
  child = join(dir, 'child.mjs')
  await build({
    entryPoints: [fileURLToPath(new URL('../support/outbox-crash-child.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: child,
    logLevel: 'silent',
    banner: { js: "import { createRequire as __airlockRequire } from 'node:module'; const require = __airlockRequire(import.meta.url);" },
  })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Starts the child, waits until it has made some events durable, then SIGKILLs it after a random pause. */
async function runAndKill(ledgerPath: string, url: string, seed: number): Promise<void> {
  const proc = spawn(process.execPath, [child, ledgerPath, url, TOKEN], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)))
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const fail = (): void => reject(new Error(`the child stopped before emitting: ${stderr.slice(0, 2000)}`))
    proc.once('exit', fail)
    proc.stdout.once('data', () => {
      proc.off('exit', fail)
      resolve()
    })
  })
  // Kill points spread over what the child does: mid-append, mid-sync, mid-request, mid-cursor write.
  await new Promise((resolve) => setTimeout(resolve, (seed * 37) % 120))
  proc.kill('SIGKILL')
  await exited
}

async function reopenAndClose(ledgerPath: string, url: string): Promise<void> {
  const airlock = new AirlockBoundary({
    keys: KeyRing.generate(),
    controlPlane: new HttpControlPlane({ url, token: TOKEN, retry: { baseMs: 5, maxMs: 50 }, closeTimeoutMs: 10_000 }),
    ledger: { path: ledgerPath },
    policy: definePolicy({}, { env: {} }),
  })
  await airlock.close()
}

async function ledgerEventIds(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LedgerEntry)
    .filter((entry) => entry.kind === 'event')
    .map((entry) => (entry).eventId)
}

function expectDeliveredOnceInOrder(server: ControlPlaneServer, ledgered: readonly string[]): void {
  const received = server.events.map((e) => e.id)
  // Each event once: a batch the server saw again came under the key it had first.
  expect(new Set(received).size).toBe(received.length)
  expect(received).toEqual(ledgered)
  const firstKeyOf = new Map<string, string | undefined>()
  for (const request of server.requests) {
    if (request.outcome !== 'accepted' && request.outcome !== 'duplicate' && request.outcome !== 'lost') continue
    const ids = request.eventIds.join('\n')
    if (!firstKeyOf.has(ids)) firstKeyOf.set(ids, request.idempotencyKey)
    else expect(request.idempotencyKey).toBe(firstKeyOf.get(ids))
  }
}

describe('the outbox across SIGKILL', () => {
  it(`loses nothing and sends nothing twice under another key, over ${ROUNDS} kills`, { timeout: TIMEOUT_MS }, async () => {
    const server = await ControlPlaneServer.start({ token: TOKEN })
    const ledgerPath = join(dir, 'live.ndjson')
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await runAndKill(ledgerPath, server.url, round)
        await reopenAndClose(ledgerPath, server.url)
      }
      const ledgered = await ledgerEventIds(ledgerPath)
      expect(ledgered.length).toBeGreaterThan(ROUNDS)
      expectDeliveredOnceInOrder(server, ledgered)
      expect((await verifyLedger(ledgerPath)).ok).toBe(true)
    } finally {
      await server.stop()
    }
  })

  it('with the control plane down through the kills, delivers the whole backlog once it is back', { timeout: TIMEOUT_MS }, async () => {
    const server = await ControlPlaneServer.start({ token: TOKEN })
    const ledgerPath = join(dir, 'down.ndjson')
    try {
      await server.stop()
      for (let round = 0; round < Math.max(5, Math.floor(ROUNDS / 5)); round++) await runAndKill(ledgerPath, server.url, round * 3 + 1)
      expect(server.requests).toEqual([])
      await server.restart()
      await reopenAndClose(ledgerPath, server.url)
      const ledgered = await ledgerEventIds(ledgerPath)
      expect(ledgered.length).toBeGreaterThan(5)
      expectDeliveredOnceInOrder(server, ledgered)
    } finally {
      await server.stop()
    }
  })
})
