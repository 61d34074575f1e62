import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { GENESIS_HASH, type LedgerEntry } from '../../src/audit/ledger-entry.js'
import { Ledger } from '../../src/audit/ledger.js'
import { verifyLedger } from '../../src/audit/verify-ledger.js'
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import type { ControlPlane, DeliveryBatch, DeliveryOutcome } from '../../src/boundary/control-plane.js'
import { DeliveryCursor } from '../../src/boundary/delivery-cursor.js'
import type { OutboundEvent } from '../../src/boundary/events.js'
import { FileControlPlane } from '../../src/boundary/file-control-plane.js'
import { HttpControlPlane } from '../../src/boundary/http-control-plane.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { Outbox, idempotencyKey } from '../../src/boundary/outbox.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { CanonicalText, canonicalJson } from '../../src/internal/canonical-json.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { ControlPlaneServer } from '../support/control-plane-server.js'

const TOKEN = 'tok_outbox_test_4f9a1c'
const FAST_RETRY = { baseMs: 5, maxMs: 40 }

let dir: string
let server: ControlPlaneServer
const keys = KeyRing.generate()

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-outbox-'))
  server = await ControlPlaneServer.start({ token: TOKEN })
})
afterEach(async () => {
  await server.stop()
  await rm(dir, { recursive: true, force: true })
})

function boundary(controlPlane: ControlPlane, ledgerPath = join(dir, 'ledger.ndjson')): AirlockBoundary {
  return new AirlockBoundary({ keys, controlPlane, ledger: { path: ledgerPath }, policy: definePolicy({}, { env: {} }) })
}

function http(options: { closeTimeoutMs?: number; maxBatch?: number } = {}): HttpControlPlane {
  return new HttpControlPlane({ url: server.url, token: TOKEN, retry: FAST_RETRY, ...options })
}

function states(airlock: AirlockBoundary, count: number, from = 0): Promise<(OutboundEvent | undefined)[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      airlock.emit({ kind: 'task-run-state', runId: 'run-1', taskName: 'load', taskRunId: `t-${from + i}`, state: 'Running' }),
    ),
  )
}

async function ledgerEntries(path: string): Promise<LedgerEntry[]> {
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LedgerEntry)
}

const idsOf = (events: readonly ({ id: string } | undefined)[]): string[] => events.map((e) => e!.id)

describe('the ledger as the outbox', () => {
  it('lets emit resolve once the event is durable, delays it while the control plane is down, then delivers each once, in order', async () => {
    await server.stop()
    const airlock = boundary(http({ maxBatch: 4 }))
    const sent = await states(airlock, 30)
    expect(sent.every((e) => e?.kind === 'task-run-state')).toBe(true)
    const ledgered = (await ledgerEntries(join(dir, 'ledger.ndjson'))).filter((e) => e.kind === 'event')
    expect(ledgered.map((e) => e.eventId)).toEqual(idsOf(sent))
    // Back only once delivery has failed against it at least once (and said so in the ledger).
    await vi.waitFor(async () => expect((await ledgerEntries(join(dir, 'ledger.ndjson'))).some((e) => e.kind === 'delivery')).toBe(true), {
      timeout: 10_000,
      interval: 20,
    })
    await server.restart()
    await airlock.flush()
    await airlock.close()
    expect(idsOf(server.events)).toEqual(idsOf(sent))
    expect(server.duplicates).toBe(0)
    // Each retry was ledgered, by reason class only.
    const retrying = (await ledgerEntries(join(dir, 'ledger.ndjson'))).filter((e) => e.kind === 'delivery')
    expect(retrying.length).toBeGreaterThan(0)
    expect(retrying.every((e) => e.kind === 'delivery' && e.status === 'retrying' && e.error?.code === 'network')).toBe(true)
    expect((await verifyLedger(join(dir, 'ledger.ndjson'))).ok).toBe(true)
  })

  it('closes with the control plane down, and the next process on the same ledger delivers that backlog first, in order', async () => {
    await server.stop()
    const first = boundary(http({ closeTimeoutMs: 50, maxBatch: 3 }))
    const before = await states(first, 20)
    await first.close()
    expect(server.events).toEqual([])

    await server.restart()
    const second = boundary(http({ maxBatch: 3 }))
    const after = await states(second, 5, 100)
    await second.flush()
    await second.close()
    expect(idsOf(server.events)).toEqual([...idsOf(before), ...idsOf(after)])
    expect(server.duplicates).toBe(0)
  })

  it('sends the batch in flight at a stop again, whole and under the same key, so the control plane counts it once', async () => {
    const first = boundary(http({ closeTimeoutMs: 100, maxBatch: 4 }))
    // The first attempt reaches the server, whose answer is lost; then it is down for good.
    server.script({ lose: true }, { status: 503, times: Infinity })
    const before = await states(first, 10)
    await server.waitForRequests(2)
    await first.close()
    const inflightKey = server.requests[0]!.idempotencyKey

    server.clearScript()
    const second = boundary(http({ maxBatch: 2 }))
    await second.flush()
    await second.close()
    expect(idsOf(server.events)).toEqual(idsOf(before))
    // The batch is the one recorded before the stop, whatever the new maxBatch.
    const again = server.requests.find((r) => r.outcome === 'duplicate')
    expect(again?.idempotencyKey).toBe(inflightKey)
    expect(again?.eventIds).toEqual(server.requests[0]!.eventIds)
    expect(server.duplicates).toBe(1)
  })

  it('leaves engine records out of delivery: they went to their engine, not to the control plane', async () => {
    const controlPlane = new MemoryControlPlane()
    const airlock = boundary(controlPlane)
    await states(airlock, 1)
    await airlock.outbound.record({ channel: 'payloads', engine: 'temporal', sent: { action: 'encrypt', size: 10 } })
    const [last] = await states(airlock, 1, 1)
    await airlock.close()
    expect(controlPlane.events.map((e) => e.id)).toContain(last!.id)
    expect(controlPlane.events).toHaveLength(2)
  })

  it('hands a MemoryControlPlane each event by the time emit resolves', async () => {
    const controlPlane = new MemoryControlPlane()
    const airlock = boundary(controlPlane)
    const [event] = await states(airlock, 1)
    expect(controlPlane.events.map((e) => e.id)).toEqual([event!.id])
    await airlock.close()
  })

  it('gives a transport that takes events synchronously the same idempotency key as any batch: read, spread or serialized', async () => {
    const taken: DeliveryBatch[] = []
    const controlPlane: ControlPlane = {
      deliver: () => Promise.resolve({ status: 'delivered', attempt: 1 }),
      deliverNow: (batch) => {
        taken.push(batch)
        return { status: 'delivered', attempt: 1 }
      },
      close: () => Promise.resolve(),
    }
    const airlock = boundary(controlPlane)
    const [event] = await states(airlock, 1)
    await airlock.close()
    expect(taken).toHaveLength(1)
    const expected = idempotencyKey([event!.id])
    expect(expected).toMatch(/^alb1\.[A-Za-z0-9_-]{43}$/)
    expect(taken[0]!.idempotencyKey).toBe(expected)
    expect({ ...taken[0]! }.idempotencyKey).toBe(expected)
    expect((JSON.parse(JSON.stringify(taken[0]!)) as DeliveryBatch).idempotencyKey).toBe(expected)
  })

  it('writes a FileControlPlane the ledgered bytes, and resumes it after a restart', async () => {
    const path = join(dir, 'control-plane.ndjson')
    const first = boundary(new FileControlPlane({ path }))
    const before = await states(first, 3)
    await first.close()
    const second = boundary(new FileControlPlane({ path }))
    const after = await states(second, 2, 10)
    await second.close()
    const lines = (await readFile(path, 'utf8')).trim().split('\n')
    expect(lines.map((line) => (JSON.parse(line) as { id: string }).id)).toEqual([...idsOf(before), ...idsOf(after)])
    const ledgered = (await ledgerEntries(join(dir, 'ledger.ndjson'))).filter((e) => e.kind === 'event')
    expect(lines).toEqual(ledgered.map((e) => canonicalJson(e.event)))
  })

  it('takes events in a ledger that had no cursor (written before the outbox) as delivered, and says so', async () => {
    const ledgerPath = join(dir, 'old.ndjson')
    const ledger = await Ledger.open({ path: ledgerPath })
    await ledger.append({ channel: 'states', eventId: 'e-old', policyHash: 'ph1.x', event: { id: 'e-old' }, transforms: [], status: 'sent' })
    await ledger.close()
    const warnings: string[] = []
    const listener = (warning: Error & { code?: string }): void => void warnings.push(warning.code ?? '')
    process.on('warning', listener)
    const controlPlane = new MemoryControlPlane()
    const airlock = boundary(controlPlane, ledgerPath)
    const [event] = await states(airlock, 1)
    await airlock.close()
    process.off('warning', listener)
    expect(controlPlane.events.map((e) => e.id)).toEqual([event!.id])
    expect(warnings).toContain('AIRLOCK_OUTBOX')
  })
})

/** A transport that holds every batch until told to answer: delivery is as slow as the test wants. */
class GatedControlPlane implements ControlPlane {
  readonly maxBatch = 3
  readonly delivered: OutboundEvent[] = []
  #open: (() => void) | undefined
  #gate = new Promise<void>((resolve) => (this.#open = resolve))

  open(): void {
    this.#open?.()
  }

  async deliver(batch: DeliveryBatch): Promise<DeliveryOutcome> {
    await this.#gate
    this.delivered.push(...batch.lines.map((line) => JSON.parse(line) as OutboundEvent))
    return { status: 'delivered', attempt: 1 }
  }

  close(): Promise<void> {
    this.open()
    return Promise.resolve()
  }
}

describe('Outbox', () => {
  async function fill(ledger: Ledger, outbox: Outbox, count: number, tamper?: number): Promise<string[]> {
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const event = { v: 1, id: `e-${i}`, kind: 'log', runId: 'r', time: new Date(0).toISOString(), policyHash: 'ph1.x', level: 'info', msg: `m ${i}` }
      const text = canonicalJson(event)
      const { seq, hash, end } = await ledger.append({ channel: 'logs', eventId: event.id, policyHash: 'ph1.x', event: new CanonicalText(text), transforms: [], status: 'sent' })
      ids.push(event.id)
      if (i !== tamper) outbox.add({ seq, end, hash, line: text, event: event as OutboundEvent })
    }
    return ids
  }

  it('holds at most maxInMemory events, reads the rest back from the ledger, and delivers every one in order', async () => {
    const ledgerPath = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path: ledgerPath })
    const { cursor } = await DeliveryCursor.open(`${ledgerPath}.cursor`, { delivered: 0, offset: 0, hash: GENESIS_HASH, inflight: null })
    const controlPlane = new GatedControlPlane()
    const outbox = new Outbox({ ledgerPath, controlPlane, cursor, tail: { seq: 0, end: 0 }, reporter: reporter(), maxInMemory: 5 })
    const ids = await fill(ledger, outbox, 40)
    controlPlane.open()
    await outbox.flush()
    expect(controlPlane.delivered.map((e) => e.id)).toEqual(ids)
    await outbox.close(0)
    await ledger.close()
    expect((await DeliveryCursor.open(`${ledgerPath}.cursor`, { delivered: 0, offset: 0, hash: GENESIS_HASH, inflight: null })).cursor.position).toMatchObject({ delivered: 40, inflight: null })
  })

  it('stops rather than send an entry read back from a ledger whose chain breaks there', async () => {
    const ledgerPath = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path: ledgerPath })
    for (let i = 0; i < 6; i++) await ledger.append({ channel: 'logs', eventId: `e-${i}`, policyHash: 'ph1.x', event: { v: 1, id: `e-${i}`, kind: 'log' }, transforms: [], status: 'sent' })
    await ledger.close()
    const lines = (await readFile(ledgerPath, 'utf8')).split('\n')
    lines[3] = lines[3]!.replace('"e-3"', '"e-X"')
    await writeFile(ledgerPath, lines.join('\n'))
    const { cursor } = await DeliveryCursor.open(`${ledgerPath}.cursor`, { delivered: 0, offset: 0, hash: GENESIS_HASH, inflight: null })
    const stopped: string[] = []
    const controlPlane = new MemoryControlPlane()
    const outbox = new Outbox({
      ledgerPath,
      controlPlane,
      cursor,
      tail: { seq: 6, end: Buffer.byteLength(lines.join('\n')) },
      reporter: { ...reporter(), stopped: (err) => void stopped.push(err.code) },
    })
    await expect(outbox.flush()).rejects.toMatchObject({ code: 'ERR_DELIVERY' })
    expect(controlPlane.events.map((e) => e.id)).toEqual(['e-0', 'e-1', 'e-2'].slice(0, controlPlane.events.length))
    expect(JSON.stringify(controlPlane.events)).not.toContain('e-X')
    expect(stopped).toEqual(['ERR_DELIVERY'])
    await outbox.close(0)
  })
})

describe('DeliveryCursor', () => {
  it('keeps the last good position when a write is torn, and refuses a file with none', async () => {
    const path = join(dir, 'ledger.ndjson.cursor')
    const { cursor, created } = await DeliveryCursor.open(path, { delivered: 0, offset: 0, hash: GENESIS_HASH, inflight: null })
    expect(created).toBe(true)
    await cursor.write({ delivered: 7, offset: 900, hash: 'a'.repeat(64), inflight: null })
    await cursor.write({ delivered: 9, offset: 1200, hash: 'b'.repeat(64), inflight: { from: 10, to: 12, key: 'alb1.k' } })
    await cursor.close()
    const bytes = await readFile(path)
    expect(bytes.length).toBe(1024)
    // Tear the newer slot (n is even after four writes, so slot 0).
    const torn = Buffer.from(bytes)
    torn.fill(0x7a, 40, 120)
    await writeFile(path, torn)
    const reopened = await DeliveryCursor.open(path, { delivered: 0, offset: 0, hash: GENESIS_HASH, inflight: null })
    expect(reopened.created).toBe(false)
    expect(reopened.cursor.position).toMatchObject({ delivered: 7, offset: 900, inflight: null })
    await reopened.cursor.close()
    await writeFile(path, Buffer.alloc(1024, 0x20))
    await expect(DeliveryCursor.open(path, { delivered: 0, offset: 0, hash: GENESIS_HASH, inflight: null })).rejects.toMatchObject({ code: 'ERR_DELIVERY' })
  })
})

function reporter(): ConstructorParameters<typeof Outbox>[0]['reporter'] {
  return { retrying: () => undefined, rejected: () => undefined, stopped: () => undefined }
}
