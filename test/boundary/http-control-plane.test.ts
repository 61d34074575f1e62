import { randomUUID } from 'node:crypto'
import { inspect } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DeliveryBatch, DeliveryRetry } from '../../src/boundary/control-plane.js'
import type { OutboundEvent } from '../../src/boundary/events.js'
import { HttpControlPlane } from '../../src/boundary/http-control-plane.js'
import type { HttpControlPlaneOptions } from '../../src/boundary/http-control-plane.js'
import { idempotencyKey } from '../../src/boundary/outbox.js'
import { Secret } from '../../src/crypto/secret.js'
import { canonicalJson } from '../../src/internal/canonical-json.js'
import { ControlPlaneServer } from '../support/control-plane-server.js'

// The transport alone: one batch at a time, against a real local HTTP server.
// What the outbox does around it (order, restarts, the cursor) is in outbox.test.ts.

const TOKEN = 'tok_live_7hQ2xv9Zr4mKpL3w'
const FAST_RETRY = { base: '5ms', max: '50ms' } as const

function batchOf(count: number, label = 'event'): DeliveryBatch {
  const events: OutboundEvent[] = Array.from({ length: count }, (_, i) => ({
    v: 1,
    id: randomUUID(),
    kind: 'log',
    runId: 'run-1',
    time: new Date().toISOString(),
    policyHash: 'policy-hash',
    level: 'info',
    msg: `${label} ${i}`,
  }))
  return { events, lines: events.map((e) => canonicalJson(e)), idempotencyKey: idempotencyKey(events.map((e) => e.id)) }
}

const idsOf = (events: readonly { id: string }[]): string[] => events.map((e) => e.id)

describe('HttpControlPlane', () => {
  let server: ControlPlaneServer
  const planes: HttpControlPlane[] = []

  const createPlane = (options: Partial<HttpControlPlaneOptions> = {}): HttpControlPlane => {
    const plane = new HttpControlPlane({ url: server.url, token: TOKEN, retry: FAST_RETRY, ...options })
    planes.push(plane)
    return plane
  }

  beforeEach(async () => {
    server = await ControlPlaneServer.start({ token: TOKEN })
  })

  afterEach(async () => {
    for (const plane of planes.splice(0)) await plane.close()
    await server.stop()
  })

  it('POSTs the batch, as the ledgered bytes, with the bearer token and the batch key', async () => {
    const plane = createPlane()
    const batch = batchOf(4)
    const retries: DeliveryRetry[] = []
    expect(await plane.deliver(batch, (r) => retries.push(r))).toEqual({ status: 'delivered', httpStatus: 200, attempt: 1 })
    expect(retries).toEqual([])
    expect(idsOf(server.events)).toEqual(idsOf(batch.events))
    expect(server.events[0]).toEqual(JSON.parse(batch.lines[0]!))
    expect(server.requests).toHaveLength(1)
    expect(server.requests[0]).toMatchObject({ outcome: 'accepted', authorization: `Bearer ${TOKEN}`, idempotencyKey: batch.idempotencyKey })
  })

  it('retries 500s and timeouts, reporting each attempt by its reason class, then delivers', async () => {
    server.script({ status: 500, times: 2 }, { hang: true })
    const plane = createPlane({ timeout: '1s' })
    const batch = batchOf(3)
    const retries: DeliveryRetry[] = []
    const outcome = await plane.deliver(batch, (r) => retries.push(r))
    expect(outcome).toEqual({ status: 'delivered', httpStatus: 200, attempt: 4 })
    expect(retries).toEqual([
      { reason: 'http-500', httpStatus: 500, attempt: 1 },
      { reason: 'http-500', httpStatus: 500, attempt: 2 },
      { reason: 'timeout', attempt: 3 },
    ])
    expect(idsOf(server.events)).toEqual(idsOf(batch.events))
    expect(JSON.stringify(retries)).not.toContain('scripted failure body')
  })

  it('retries 408, 429 and 503, honouring Retry-After only up to retry.max', async () => {
    server.script(
      { status: 408 },
      { status: 429, headers: { 'retry-after': '3600' } },
      { status: 503, headers: { 'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT' } },
    )
    const plane = createPlane()
    const retries: DeliveryRetry[] = []
    const started = Date.now()
    expect(await plane.deliver(batchOf(2), (r) => retries.push(r))).toMatchObject({ status: 'delivered', attempt: 4 })
    expect(retries.map((r) => r.reason)).toEqual(['http-408', 'http-429', 'http-503'])
    expect(Date.now() - started).toBeLessThan(30_000)
  })

  it('does not retry another 4xx: the batch is rejected with its status', async () => {
    server.script({ status: 400 })
    const plane = createPlane()
    expect(await plane.deliver(batchOf(3), () => undefined)).toEqual({ status: 'rejected', httpStatus: 400, reason: 'http-400', attempt: 1 })
    expect(server.requests.map((r) => r.outcome)).toEqual(['scripted'])
    expect(server.events).toEqual([])
  })

  it('resends a batch whose response was lost under the same key, so the server counts it once', async () => {
    server.script({ lose: true })
    const plane = createPlane()
    const batch = batchOf(5)
    const retries: DeliveryRetry[] = []
    expect(await plane.deliver(batch, (r) => retries.push(r))).toMatchObject({ status: 'delivered', attempt: 2 })
    expect(server.requests.map((r) => r.outcome)).toEqual(['lost', 'duplicate'])
    expect(server.requests[1]?.idempotencyKey).toBe(batch.idempotencyKey)
    expect(idsOf(server.events)).toEqual(idsOf(batch.events))
    expect(retries).toEqual([{ reason: 'network', attempt: 1 }])
  })

  it.each([
    ['retries: 1', { retries: 1 }],
    ['maxAttempts: 2, the older form', { maxAttempts: 2 }],
  ] as const)('rejects after its retries (%s), when asked to trade the no-loss guarantee for a bound', async (_, bound) => {
    await server.stop()
    const plane = createPlane({ retry: { ...FAST_RETRY, ...bound } })
    const retries: DeliveryRetry[] = []
    expect(await plane.deliver(batchOf(2), (r) => retries.push(r))).toEqual({ status: 'rejected', reason: 'attempts-exhausted', attempt: 2 })
    expect(retries).toEqual([{ reason: 'network', attempt: 1 }])
  })

  it('counts retries as a task does: retries: 0 is one attempt, retries: 2 is three', async () => {
    await server.stop()
    for (const [count, attempts] of [[0, 1], [2, 3]] as const) {
      const retries: DeliveryRetry[] = []
      expect(await createPlane({ retry: { ...FAST_RETRY, retries: count } }).deliver(batchOf(1), (r) => retries.push(r))).toMatchObject({
        status: 'rejected',
        attempt: attempts,
      })
      expect(retries).toHaveLength(count)
    }
  })

  it('gives a batch back on close, while the control plane is down: deliver rejects with ERR_CLOSED', async () => {
    await server.stop()
    const plane = createPlane()
    let retried = 0
    const delivering = plane.deliver(batchOf(2), () => retried++)
    while (retried === 0) await new Promise((resolve) => setImmediate(resolve))
    await plane.close()
    await expect(delivering).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(plane.deliver(batchOf(1), () => undefined)).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('sends the token in the header only: never in errors, reports or printing', async () => {
    const secret = new Secret(TOKEN, 'control-plane-token')
    server.script({ status: 500 }, { status: 403 })
    const plane = createPlane({ token: secret })
    const retries: DeliveryRetry[] = []
    const outcome = await plane.deliver(batchOf(1), (r) => retries.push(r))
    expect(server.requests[0]?.authorization).toBe(`Bearer ${TOKEN}`)
    const texts: string[] = [String(plane), JSON.stringify(plane), inspect(plane), inspect(plane, { showHidden: true, depth: 10 }), JSON.stringify(outcome), JSON.stringify(retries)]
    await plane.close()
    const closedError = await plane.deliver(batchOf(1), () => undefined).catch((err: unknown) => err)
    expect(closedError).toMatchObject({ code: 'ERR_CLOSED' })
    texts.push((closedError as Error).message)

    const badToken = `${TOKEN}\r\nX-Injected: 1`
    for (const options of [
      { url: server.url, token: badToken },
      { url: `https://user:${TOKEN}@cp.example.com/v1/events` },
      { url: `http://cp.example.com/v1/events?key=${TOKEN}` },
    ]) {
      let caught: unknown
      try {
        new HttpControlPlane(options)
      } catch (err) {
        caught = err
      }
      expect(caught).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
      texts.push((caught as Error).message, String(caught), inspect(caught))
    }
    for (const text of texts) expect(text).not.toContain(TOKEN)
  })

  it('checks its options when built, and says what replaced the spill options', () => {
    const bad: unknown[] = [
      undefined,
      { url: 'not a url' },
      { url: 'ftp://127.0.0.1/events' },
      { url: 'http://cp.example.com/events' },
      { url: 'http://127.0.0.1:1/events', maxBatch: 0 },
      { url: 'http://127.0.0.1:1/events', retry: { baseMs: 100, maxMs: 10 } },
      { url: 'http://127.0.0.1:1/events', retry: { base: '1s', max: '100ms' } },
      { url: 'http://127.0.0.1:1/events', retry: { base: 'soon' } },
      { url: 'http://127.0.0.1:1/events', timeout: 0 },
      { url: 'http://127.0.0.1:1/events', timeout: '-1s' },
      { url: 'http://127.0.0.1:1/events', closeTimeout: Infinity },
      { url: 'http://127.0.0.1:1/events', retry: { retries: -1 } },
      { url: 'http://127.0.0.1:1/events', retry: { retries: 1.5 } },
      { url: 'http://127.0.0.1:1/events', retry: { maxAttempts: 0 } },
      { url: 'http://127.0.0.1:1/events', retry: { baseMs: 100, maxMs: 1000, maxAtempts: 3 } },
      { url: 'http://127.0.0.1:1/events', token: 42 },
      { url: 'http://127.0.0.1:1/events', tiemoutMs: 10 },
    ]
    for (const options of bad) {
      expect(() => new HttpControlPlane(options as HttpControlPlaneOptions)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
    for (const removed of [{ spillDir: '.airlock/spill' }, { maxQueue: 10 }]) {
      expect(() => new HttpControlPlane({ url: 'http://127.0.0.1:1/events', ...removed })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('the outbox') as unknown }),
      )
    }
    expect(new HttpControlPlane({ url: 'http://[::1]:1/events', maxBatch: 7, closeTimeoutMs: 0 })).toMatchObject({ maxBatch: 7, closeTimeoutMs: 0 })
  })

  it('takes its times as durations, and the older ms names still work', async () => {
    expect(new HttpControlPlane({ url: 'http://[::1]:1/events', closeTimeout: '2s' }).closeTimeoutMs).toBe(2_000)
    expect(new HttpControlPlane({ url: 'http://[::1]:1/events', closeTimeout: 1.5 }).closeTimeoutMs).toBe(2)
    expect(new HttpControlPlane({ url: 'http://[::1]:1/events' }).closeTimeoutMs).toBe(5_000)
    const retries: DeliveryRetry[] = []
    const started = Date.now()
    server.script({ hang: true })
    expect(await createPlane({ timeoutMs: 150 }).deliver(batchOf(1), (r) => retries.push(r))).toMatchObject({ status: 'delivered', attempt: 2 })
    server.script({ hang: true })
    expect(await createPlane({ timeout: '150ms', retry: { baseMs: 5, maxMs: 50 } }).deliver(batchOf(1), (r) => retries.push(r))).toMatchObject({
      status: 'delivered',
      attempt: 2,
    })
    expect(retries).toEqual([{ reason: 'timeout', attempt: 1 }, { reason: 'timeout', attempt: 1 }])
    // Two hung attempts, each cut at 150 ms instead of the 10 s default.
    expect(Date.now() - started).toBeLessThan(9_000)
  })

  it('refuses an option set under its name and its older name at once', () => {
    const url = 'http://127.0.0.1:1/events'
    for (const options of [
      { url, timeout: '1s', timeoutMs: 1_000 },
      { url, closeTimeout: '1s', closeTimeoutMs: 1_000 },
      { url, retry: { base: '5ms', baseMs: 5, max: '1s' } },
      { url, retry: { base: '5ms', max: '1s', maxMs: 1_000 } },
      { url, retry: { retries: 2, maxAttempts: 3 } },
    ]) {
      expect(() => new HttpControlPlane(options as HttpControlPlaneOptions), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_OPTIONS_CONFLICT', name: 'ConflictingOptionsError' }),
      )
    }
  })
})
