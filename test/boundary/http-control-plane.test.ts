import { createHash, randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DeliveryReport } from '../../src/boundary/control-plane.js'
import type { OutboundEvent } from '../../src/boundary/events.js'
import { HttpControlPlane } from '../../src/boundary/http-control-plane.js'
import type { HttpControlPlaneOptions } from '../../src/boundary/http-control-plane.js'
import { Secret } from '../../src/crypto/secret.js'
import { ControlPlaneServer } from '../support/control-plane-server.js'

const TOKEN = 'tok_live_7hQ2xv9Zr4mKpL3w'
const FAST_RETRY = { baseMs: 5, maxMs: 50 }

function makeEvents(count: number, label = 'event'): OutboundEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    v: 1,
    id: randomUUID(),
    kind: 'log',
    runId: 'run-1',
    time: new Date().toISOString(),
    policyHash: 'policy-hash',
    level: 'info',
    msg: `${label} ${i}`,
  }))
}

const idsOf = (events: readonly { id: string }[]): string[] => events.map((e) => e.id)

/** Collects delivery reports and lets a test wait for one. */
class Reports {
  readonly all: DeliveryReport[] = []
  readonly #waiters: { match: (r: DeliveryReport) => boolean; resolve: () => void }[] = []

  readonly listener = (report: DeliveryReport): void => {
    this.all.push(report)
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(report)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  }

  waitFor(match: (r: DeliveryReport) => boolean): Promise<void> {
    if (this.all.some(match)) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push({ match, resolve }))
  }

  /** Every event id in `delivered` reports, in report order. */
  delivered(): string[] {
    return this.all.filter((r) => r.status === 'delivered').flatMap((r) => [...r.eventIds])
  }
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.ndjson'))
}

describe('HttpControlPlane', () => {
  let tmp: string
  let spillDir: string
  let server: ControlPlaneServer
  const planes: HttpControlPlane[] = []

  const createPlane = (options: Partial<HttpControlPlaneOptions> = {}): { plane: HttpControlPlane; reports: Reports } => {
    const plane = new HttpControlPlane({ url: server.url, token: TOKEN, spillDir, retry: FAST_RETRY, ...options })
    const reports = new Reports()
    plane.onDelivery(reports.listener)
    planes.push(plane)
    return { plane, reports }
  }

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'airlock-http-cp-'))
    spillDir = join(tmp, 'spill')
    server = await ControlPlaneServer.start({ token: TOKEN })
  })

  afterEach(async () => {
    for (const plane of planes.splice(0)) await plane.close({ timeoutMs: 0 })
    await server.stop()
    await rm(tmp, { recursive: true, force: true })
  })

  it('POSTs batches in order with the bearer token and a key derived from the event ids', async () => {
    const { plane, reports } = createPlane({ maxBatch: 4 })
    const events = makeEvents(25)
    for (const event of events) await plane.send([event])
    await plane.flush()

    expect(idsOf(server.events)).toEqual(idsOf(events))
    expect(server.events[0]).toEqual(JSON.parse(JSON.stringify(events[0])))
    expect(server.requests.length).toBeGreaterThan(1)
    for (const request of server.requests) {
      expect(request.outcome).toBe('accepted')
      expect(request.authorization).toBe(`Bearer ${TOKEN}`)
      expect(request.eventIds.length).toBeLessThanOrEqual(4)
      const digest = createHash('sha256').update(request.eventIds.join('\n')).digest('base64url')
      expect(request.idempotencyKey).toBe(`alb1.${digest}`)
    }
    expect(reports.all.every((r) => r.status === 'delivered' && r.httpStatus === 200 && r.attempt === 1)).toBe(true)
    expect(reports.delivered()).toEqual(idsOf(events))
    expect(plane.pending).toBe(0)
  })

  it('delays events while the control plane is down, spilling them to disk, and delivers each once, in order, when it is back', async () => {
    await server.stop()
    const { plane, reports } = createPlane({ maxQueue: 10, maxBatch: 4 })
    const events = makeEvents(60)
    for (let i = 0; i < events.length; i += 3) await plane.send(events.slice(i, i + 3))
    await reports.waitFor((r) => r.status === 'retrying' && r.reason === 'network')

    const spilled = await segmentFiles(spillDir)
    expect(spilled.length).toBeGreaterThanOrEqual(4)
    for (const file of spilled) expect((await stat(join(spillDir, file))).mode & 0o777).toBe(0o600)
    expect(plane.pending).toBe(60)

    await server.restart()
    await plane.flush()

    expect(idsOf(server.events)).toEqual(idsOf(events))
    expect(server.duplicates).toBe(0)
    expect(reports.delivered()).toEqual(idsOf(events))
    const retrying = reports.all.filter((r) => r.status === 'retrying')
    expect(retrying.length).toBeGreaterThan(0)
    expect(retrying.every((r) => r.reason === 'network' && r.httpStatus === undefined)).toBe(true)
    expect(await segmentFiles(spillDir)).toEqual([])
  })

  it('retries 500s and timeouts, reporting each attempt by its reason class, then delivers', async () => {
    server.script({ status: 500, times: 2 }, { hang: true })
    const { plane, reports } = createPlane({ timeoutMs: 1_000 })
    const events = makeEvents(3)
    await plane.send(events)
    await plane.flush()

    expect(idsOf(server.events)).toEqual(idsOf(events))
    expect(reports.all.map((r) => [r.status, r.reason, r.httpStatus, r.attempt])).toEqual([
      ['retrying', 'http-500', 500, 1],
      ['retrying', 'http-500', 500, 2],
      ['retrying', 'timeout', undefined, 3],
      ['delivered', undefined, 200, 4],
    ])
    expect(reports.all.every((r) => r.eventIds.join() === idsOf(events).join())).toBe(true)
    expect(JSON.stringify(reports.all)).not.toContain('scripted failure body')
  })

  it('retries 408, 429 and 503, honouring Retry-After only up to retry.maxMs', async () => {
    server.script(
      { status: 408 },
      { status: 429, headers: { 'retry-after': '3600' } },
      { status: 503, headers: { 'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT' } },
    )
    const { plane, reports } = createPlane()
    const events = makeEvents(2)
    await plane.send(events)
    await plane.flush()

    expect(idsOf(server.events)).toEqual(idsOf(events))
    expect(reports.all.map((r) => r.reason ?? r.status)).toEqual(['http-408', 'http-429', 'http-503', 'delivered'])
  })

  it('does not retry another 4xx: the batch is reported rejected with its status and dropped', async () => {
    server.script({ status: 400 })
    const { plane, reports } = createPlane()
    const rejected = makeEvents(3, 'rejected')
    await plane.send(rejected)
    await plane.flush()

    expect(server.requests.map((r) => r.outcome)).toEqual(['scripted'])
    expect(server.events).toEqual([])
    expect(reports.all).toEqual([{ eventIds: idsOf(rejected), status: 'rejected', httpStatus: 400, reason: 'http-400', attempt: 1 }])
    expect(plane.pending).toBe(0)

    const next = makeEvents(2, 'next')
    await plane.send(next)
    await plane.flush()
    expect(idsOf(server.events)).toEqual(idsOf(next))
    expect(server.requests).toHaveLength(2)
  })

  it('counts a batch once when its response was lost and it was retried under the same key', async () => {
    server.script({ lose: true })
    const { plane, reports } = createPlane()
    const events = makeEvents(5)
    await plane.send(events)
    await plane.flush()

    expect(server.requests.map((r) => r.outcome)).toEqual(['lost', 'duplicate'])
    expect(server.requests[1]?.idempotencyKey).toBe(server.requests[0]?.idempotencyKey)
    expect(idsOf(server.events)).toEqual(idsOf(events))
    expect(reports.all.map((r) => [r.status, r.reason, r.attempt])).toEqual([
      ['retrying', 'network', 1],
      ['delivered', undefined, 2],
    ])
  })

  it('closes with the control plane down, keeping the backlog on disk for the next process, which delivers it first, in order', async () => {
    await server.stop()
    const first = createPlane({ maxQueue: 5, maxBatch: 3, closeTimeoutMs: 100 })
    const events = makeEvents(20)
    for (const event of events) await first.plane.send([event])
    await first.reports.waitFor((r) => r.status === 'retrying')
    await first.plane.close()

    expect((await segmentFiles(spillDir)).length).toBeGreaterThan(0)
    await expect(first.plane.send(makeEvents(1))).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(first.plane.flush()).rejects.toMatchObject({ code: 'ERR_CLOSED' })

    await server.restart()
    const second = createPlane({ maxQueue: 5, maxBatch: 3 })
    expect(second.plane.pending).toBe(20)
    const more = makeEvents(4, 'more')
    await second.plane.send(more)
    await second.plane.flush()

    expect(idsOf(server.events)).toEqual([...idsOf(events), ...idsOf(more)])
    expect(server.duplicates).toBe(0)
    expect(second.reports.delivered()).toEqual([...idsOf(events), ...idsOf(more)])
    expect(await segmentFiles(spillDir)).toEqual([])
  })

  it('resends a batch under the same key after a restart, so a response lost before close is counted once', async () => {
    await server.stop()
    const first = createPlane({ maxQueue: 4, maxBatch: 3 })
    const events = makeEvents(8)
    for (const event of events) await first.plane.send([event])
    await first.plane.close({ timeoutMs: 0 })

    server.script({ lose: true }, { status: 503, times: Infinity })
    await server.restart()
    const second = createPlane({ maxQueue: 4, maxBatch: 3 })
    await server.waitForRequests(2)
    await second.plane.close({ timeoutMs: 0 })
    expect(server.requests.map((r) => r.outcome).slice(0, 2)).toEqual(['lost', 'scripted'])

    server.clearScript()
    const third = createPlane({ maxQueue: 4, maxBatch: 3 })
    await third.plane.flush()

    expect(idsOf(server.events)).toEqual(idsOf(events))
    const duplicate = server.requests.find((r) => r.outcome === 'duplicate')
    expect(duplicate?.idempotencyKey).toBe(server.requests[0]?.idempotencyKey)
    expect(server.duplicates).toBe(1)
  })

  it('drops a batch after retry.maxAttempts, reporting it rejected, when asked to trade durability for a bound', async () => {
    await server.stop()
    const { plane, reports } = createPlane({ retry: { ...FAST_RETRY, maxAttempts: 2 } })
    const events = makeEvents(2)
    await plane.send(events)
    await plane.flush()

    expect(reports.all.map((r) => [r.status, r.reason, r.attempt])).toEqual([
      ['retrying', 'network', 1],
      ['rejected', 'attempts-exhausted', 2],
    ])
    expect(reports.all[1]?.eventIds).toEqual(idsOf(events))
    expect(plane.pending).toBe(0)
  })

  it('gives up a flush on request with ERR_DELIVERY, while delivery goes on', async () => {
    await server.stop()
    const { plane } = createPlane()
    const events = makeEvents(3)
    await plane.send(events)
    await expect(plane.flush({ timeoutMs: 20 })).rejects.toMatchObject({ code: 'ERR_DELIVERY' })
    const aborted = new AbortController()
    const flushing = plane.flush({ signal: aborted.signal })
    aborted.abort()
    await expect(flushing).rejects.toMatchObject({ code: 'ERR_DELIVERY' })

    await server.restart()
    await plane.flush()
    expect(idsOf(server.events)).toEqual(idsOf(events))
  })

  it('keeps delivering when the delivery listener throws', async () => {
    server.script({ status: 503 })
    const plane = new HttpControlPlane({ url: server.url, token: TOKEN, spillDir, retry: FAST_RETRY })
    planes.push(plane)
    let calls = 0
    plane.onDelivery(() => {
      calls++
      throw new Error('ledger is full')
    })
    const events = makeEvents(2)
    await plane.send(events)
    await plane.flush()
    expect(idsOf(server.events)).toEqual(idsOf(events))
    expect(calls).toBe(2)
  })

  it('sends the token in the header only: never in errors, reports or printing', async () => {
    const secret = new Secret(TOKEN, 'control-plane-token')
    server.script({ status: 500 }, { status: 403 })
    const { plane, reports } = createPlane({ token: secret })
    await plane.send(makeEvents(1))
    await plane.flush()
    expect(server.requests[0]?.authorization).toBe(`Bearer ${TOKEN}`)
    expect(reports.all.map((r) => r.status)).toEqual(['retrying', 'rejected'])

    const texts: string[] = [String(plane), JSON.stringify(plane), inspect(plane), inspect(plane, { showHidden: true, depth: 10 })]
    await server.stop()
    await plane.send(makeEvents(1))
    const flushError = await plane.flush({ timeoutMs: 20 }).catch((err: unknown) => err)
    expect(flushError).toMatchObject({ code: 'ERR_DELIVERY' })
    texts.push((flushError as Error).message)
    await plane.close({ timeoutMs: 0 })
    const closedError = await plane.send(makeEvents(1)).catch((err: unknown) => err)
    expect(closedError).toMatchObject({ code: 'ERR_CLOSED' })
    texts.push((closedError as Error).message)

    const badToken = `${TOKEN}\r\nX-Injected: 1`
    for (const options of [
      { url: server.url, token: badToken, spillDir },
      { url: `https://user:${TOKEN}@cp.example.com/v1/events`, spillDir },
      { url: `http://cp.example.com/v1/events?key=${TOKEN}`, spillDir },
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

    texts.push(JSON.stringify(reports.all))
    for (const text of texts) expect(text).not.toContain(TOKEN)
  })

  it('checks its options up front and refuses a url that would leak the token', () => {
    const bad: unknown[] = [
      undefined,
      { url: 'not a url' },
      { url: 'ftp://127.0.0.1/events' },
      { url: 'http://cp.example.com/events' },
      { url: 'http://127.0.0.1:1/events', maxBatch: 0 },
      { url: 'http://127.0.0.1:1/events', retry: { baseMs: 100, maxMs: 10 } },
      { url: 'http://127.0.0.1:1/events', token: 42 },
    ]
    for (const options of bad) {
      expect(() => new HttpControlPlane(options as HttpControlPlaneOptions)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    }
    // Nothing above took the spill directory's lock.
    const plane = new HttpControlPlane({ url: 'http://[::1]:1/events', spillDir })
    planes.push(plane)
    expect(plane.spillDir).toBe(spillDir)
  })

  it('refuses a spill directory that another control plane holds', () => {
    const { plane } = createPlane()
    expect(plane.spillDir).toBe(spillDir)
    expect(() => new HttpControlPlane({ url: server.url, spillDir })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
