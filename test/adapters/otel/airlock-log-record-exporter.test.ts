import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SeverityNumber, type AnyValue } from '@opentelemetry/api-logs'
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, BatchLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { AirlockLogRecordExporter } from '../../../src/adapters/otel/airlock-log-record-exporter.js'
import { AirlockBoundary } from '../../../src/boundary/airlock-boundary.js'
import { MemoryControlPlane } from '../../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../../src/crypto/key-ring.js'
import { definePolicy } from '../../../src/policy/define-policy.js'
import type { PolicyInput } from '../../../src/policy/policy-input.js'
import { generateCanaries, type Canary } from '../../../src/testing/generate-canaries.js'
import { OtlpReceiver, receivedLogRecords } from '../../support/otlp-receiver.js'

let receiver: OtlpReceiver
let dir: string
const open: { airlock: AirlockBoundary; provider?: LoggerProvider }[] = []

beforeAll(async () => {
  receiver = await OtlpReceiver.start()
})
afterAll(() => receiver.close())
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-otel-logs-'))
  receiver.clear()
})
afterEach(async () => {
  for (const { airlock, provider } of open.splice(0)) {
    await provider?.shutdown().catch(() => {})
    await airlock.close().catch(() => {})
  }
  await rm(dir, { recursive: true, force: true })
})

function setup(policy: PolicyInput = {}, resourceAttributes: Record<string, string> = { 'service.name': 'checkout' }) {
  const ledgerPath = join(dir, `ledger-${open.length}.ndjson`)
  const airlock = new AirlockBoundary({ keys: KeyRing.generate(), controlPlane: new MemoryControlPlane(), ledger: { path: ledgerPath }, policy: definePolicy(policy, { env: {} }) })
  const exporter = new AirlockLogRecordExporter(new OTLPLogExporter({ url: `${receiver.url}/v1/logs` }), { airlock })
  // A batch processor's forceFlush waits for the export (a simple processor's does not).
  const provider = new LoggerProvider({ resource: resourceFromAttributes(resourceAttributes), processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 60_000 })] })
  open.push({ airlock, provider })
  return { airlock, exporter, provider, logger: provider.getLogger('orders', '1.2.0'), ledgerPath }
}

async function ledgerEntries(path: string): Promise<Record<string, unknown>[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.kind === 'event')
}

function expectNoCanary(text: string, canaries: readonly Canary[]): void {
  for (const canary of canaries) {
    expect(text, `${canary.kind} leaked`).not.toContain(canary.marker)
    expect(text, `${canary.kind} leaked`).not.toContain(canary.secret)
  }
}

describe('AirlockLogRecordExporter', () => {
  it('sends no canary or registered secret from bodies, attributes, exceptions, event names, resources or scopes, and benign values intact', async () => {
    const canaries = generateCanaries()
    const all = canaries.map((c) => c.value).join(' | ')
    const { airlock, provider, ledgerPath } = setup({}, { 'service.name': 'checkout', 'deployment.note': all })
    for (const c of canaries) if (c.kind === 'high-entropy') airlock.scrubber.register(c.value)
    const logger = provider.getLogger('orders', '1.2.0', { attributes: { 'scope.note': all } })
    logger.emit({
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: `payment failed: ${all}`,
      eventName: `order.failed ${canaries.find((c) => c.kind === 'email')!.value}`,
      attributes: {
        'http.request.method': 'POST',
        'http.response.status_code': 502,
        rows: 3,
        retried: true,
        tags: ['eu', 'batch'],
        'user.note': all,
        nested: { deeper: { list: canaries.map((c) => c.value) } },
      },
      exception: Object.assign(new Error(`db refused ${all}`), { name: 'PgError' }),
    })
    logger.emit({ severityNumber: SeverityNumber.ERROR, body: { order: 42, card: canaries.find((c) => c.kind === 'credit-card')!.value, note: all } })
    await provider.forceFlush()

    const text = receiver.text('/v1/logs')
    expect(receiver.requests.length).toBeGreaterThan(0)
    expectNoCanary(text, canaries)
    const [first, second] = receivedLogRecords(receiver)
    expect(first!.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 502, rows: 3, retried: true, tags: ['eu', 'batch'] })
    expect(first!.attributes['exception.type']).toBe('PgError')
    expect(first!.attributes['exception.message']).toContain('db refused')
    // balanced: the stack is dropped
    expect(first!.attributes).not.toHaveProperty(['exception.stacktrace'])
    expect(first!.resource['service.name']).toBe('checkout')
    expect(first!.scope).toMatchObject({ name: 'orders', version: '1.2.0' })
    expect(first!.body).toContain('payment failed: ')
    expect(first!.eventName).toContain('order.failed ')
    expect(second!.body).toMatchObject({ order: 42 })
    // The ledger holds what was sent, and no secret either.
    const entries = await ledgerEntries(ledgerPath)
    expect(entries.length).toBe(1)
    expectNoCanary(JSON.stringify(entries), canaries)
    expect(entries[0]).toMatchObject({ channel: 'logs', status: 'sent', event: { kind: 'engine', engine: 'otel', sent: { signal: 'records' } } })
    const sent = (entries[0]!.event as { sent: { records: { body: string; attributes: Record<string, unknown> }[] } }).sent
    expect(sent.records[0]!.body).toBe(first!.body)
    expect(sent.records[0]!.attributes['user.note']).toBe(first!.attributes['user.note'])
    expect(entries[0]!.transforms).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'records[0].attributes["user.note"]' })]))
    expect(sent.records).toHaveLength(2)
    expect(airlock.stats().events.logs).toBe(1)
  })

  it('ships only what logs.level lets through, counting the rest as suppressed; a record without severity counts as trace', async () => {
    const { airlock, logger, provider, ledgerPath } = setup({ logs: { level: 'warn' } })
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'info' })
    logger.emit({ body: 'no severity' })
    logger.emit({ severityNumber: SeverityNumber.ERROR2, body: 'error' })
    await provider.forceFlush()
    expect(receivedLogRecords(receiver).map((r) => r.body)).toEqual(['error'])
    expect(airlock.stats()).toMatchObject({ suppressedLogs: 2, suppressed: { logs: 2 } })
    expect(await ledgerEntries(ledgerPath)).toHaveLength(1)
  })

  it('ships nothing under logs.ship: false', async () => {
    const { logger, provider } = setup({ logs: { ship: false } })
    logger.emit({ severityNumber: SeverityNumber.FATAL, body: 'fatal' })
    await provider.forceFlush()
    expect(receivedLogRecords(receiver)).toEqual([])
  })

  it('applies redact paths to dotted attribute keys and to a structured body', async () => {
    const { logger, provider } = setup({ logs: { redactPaths: ['http.request.header', 'req.headers.cookie'] } })
    logger.emit({
      severityNumber: SeverityNumber.INFO,
      body: { req: { headers: { cookie: 'sid=abcdef123', accept: 'json' } } },
      attributes: { 'http.request.header.cookie': 'sid=abcdef123', 'http.request.header.x-id': '7', 'http.request.method': 'GET' },
    })
    await provider.forceFlush()
    const [record] = receivedLogRecords(receiver)
    expect(record!.attributes).toEqual({
      'http.request.header.cookie': '[REDACTED:redact-path]',
      'http.request.header.x-id': '[REDACTED:redact-path]',
      'http.request.method': 'GET',
    })
    expect(record!.body).toEqual({ req: { headers: { cookie: '[REDACTED:redact-path]', accept: 'json' } } })
  })

  it('prepares a record that waits (an error in its body) between records that do not, each with its own transforms, in order', async () => {
    const { logger, provider, ledgerPath } = setup()
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'mail ada@example.com', attributes: { user: 'bob@example.com' } })
    logger.emit({
      severityNumber: SeverityNumber.ERROR,
      // An Error is no AnyValue, but JavaScript callers put one there.
      body: { failure: new Error('lost carol@example.com'), note: 'dan@example.com' } as unknown as AnyValue,
      eventName: 'job eve@example.com',
    })
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'plain', attributes: { user: 'frank@example.com' } })
    await provider.forceFlush()
    const records = receivedLogRecords(receiver)
    expect(records.map((r) => r.body)).toEqual([
      'mail [REDACTED:email]',
      { failure: { type: 'Error', message: 'lost [REDACTED:email]' }, note: '[REDACTED:email]' },
      'plain',
    ])
    expect(records[1]!.eventName).toBe('job [REDACTED:email]')
    expect(receiver.text()).not.toContain('@example.com')
    const [entry] = await ledgerEntries(ledgerPath)
    const paths = (entry!.transforms as { path: string }[]).map((t) => t.path)
    const place = (path: string): number => Number(/^records\[(\d+)\]/.exec(path)?.[1] ?? -1)
    // Records in order, and within the waiting record its body's transforms before its event name's.
    expect(paths.map(place).filter((p) => p >= 0)).toEqual([...paths.map(place).filter((p) => p >= 0)].sort())
    const second = paths.filter((p) => place(p) === 1)
    expect(second).toContain('records[1].body.note')
    expect(second).toContain('records[1].body.failure.message')
    expect(second.at(-1)).toBe('records[1].eventName')
    expect(paths).toContain('records[0].attributes.user')
    expect(paths).toContain('records[2].attributes.user')
  })

  it('holds exception attributes to exceptions.mode: type only, or a fingerprint, never the message or stack', async () => {
    const secretish = 'customer 4111 1111 1111 1111 balance 93,000'
    const typed = setup({ exceptions: { mode: 'type' } })
    typed.logger.emit({ severityNumber: SeverityNumber.ERROR, body: 'failed', exception: new RangeError(secretish) })
    await typed.provider.forceFlush()
    expect(receivedLogRecords(receiver)[0]!.attributes).toEqual({ 'exception.type': 'RangeError' })
    receiver.clear()
    const hashed = setup({ exceptions: { mode: 'fingerprint' } })
    hashed.logger.emit({ severityNumber: SeverityNumber.ERROR, body: 'failed', attributes: { 'exception.message': secretish, 'exception.stacktrace': 'at /home/ada/app.js:1:1' } })
    await hashed.provider.forceFlush()
    const attributes = receivedLogRecords(receiver)[0]!.attributes
    expect(Object.keys(attributes).sort()).toEqual(['airlock.exception.fingerprint'])
    expect(attributes['airlock.exception.fingerprint']).toMatch(/^fp1\./)
    expect(receiver.text()).not.toContain('93,000')
  })

  it('withholds the one record the policy throws for, exports the others, ledgers and counts it', async () => {
    const { airlock, exporter, ledgerPath } = setup()
    const records = await sdkRecords(['first', 'poison', 'third'])
    const text = airlock.outbound.text.bind(airlock.outbound)
    vi.spyOn(airlock.outbound, 'text').mockImplementation((t, channel) => {
      if (t.includes('poison')) throw new Error('a detector broke')
      return text(t, channel)
    })
    const result = await exportOnce(exporter, records)
    expect(result.code).toBe(ExportResultCode.SUCCESS)
    expect(receivedLogRecords(receiver).map((r) => r.body)).toEqual(['first', 'third'])
    expect(receiver.text()).not.toContain('poison')
    expect(airlock.stats().withheld).toEqual({ logs: 1 })
    const [entry] = await ledgerEntries(ledgerPath)
    expect(entry).toMatchObject({ event: { sent: { withheld: [{ index: 1, reason: 'policy:ERR_INTERNAL' }] } } })
    expect(JSON.stringify(entry)).not.toContain('poison')
  })

  it('withholds a record whose policy step rejects, one whose step throws in its turn, and one with a malformed time, and never exports them raw', async () => {
    const { airlock, exporter } = setup()
    const records = await sdkRecords(['one', 'two', 'three', 'four'])
    const value = airlock.outbound.valueNow.bind(airlock.outbound)
    let calls = 0
    vi.spyOn(airlock.outbound, 'valueNow').mockImplementation((v, channel) => {
      if (++calls === 1) return Promise.reject(new Error('cipher down'))
      if ((v as Record<string, unknown>).poison !== undefined) throw new Error('a detector broke')
      return value(v, channel)
    })
    const malformed = { ...flatten(records[2]!), hrTime: ['now', 0] } as unknown as ReadableLogRecord
    const poisoned = { ...flatten(records[3]!), attributes: { poison: 'x' } } as unknown as ReadableLogRecord
    await exportOnce(exporter, [records[0]!, records[1]!, malformed, poisoned])
    expect(receivedLogRecords(receiver).map((r) => r.body)).toEqual(['two'])
    expect(airlock.stats().withheld).toEqual({ logs: 3 })
  })

  it('exports nothing the ledger could not record: after close, the batch fails and nothing leaves', async () => {
    const { airlock, exporter } = setup()
    const records = await sdkRecords(['late'])
    await airlock.close()
    const result = await exportOnce(exporter, records)
    expect(result.code).toBe(ExportResultCode.FAILED)
    expect(result.error).toMatchObject({ code: 'ERR_CLOSED' })
    expect(receiver.requests).toEqual([])
  })

  it('ledgers a hand-over the wrapped exporter then failed as a delivery failure, and counts it', async () => {
    const { airlock, ledgerPath } = setup()
    const stopped = new InMemoryLogRecordExporter()
    await stopped.shutdown() // a stopped exporter fails every export: a real failure, not a stub
    const exporter = new AirlockLogRecordExporter(stopped, { airlock })
    const result = await exportOnce(exporter, await sdkRecords(['lost']))
    expect(result.code).toBe(ExportResultCode.FAILED)
    expect(airlock.stats().deliveryFailures).toBe(1)
    await airlock.close()
    const lines = (await readFile(ledgerPath, 'utf8')).split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
    const sent = lines.find((e) => e.kind === 'event')!
    expect(lines.find((e) => e.kind === 'delivery')).toMatchObject({ status: 'failed', eventIds: [sent.eventId], error: { code: 'export-failed' } })
  })

  it('scrubs a resource once, and again once a secret it holds is registered', async () => {
    const token = 'tok-9f8e7d6c5b4a39281706'
    const { airlock, logger, provider } = setup({}, { 'service.name': 'checkout', 'deploy.hint': token })
    const value = vi.spyOn(airlock.outbound, 'valueNow')
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'one' })
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'two' })
    await provider.forceFlush()
    // one call per record's attributes, one for the resource, one for the scope's (none)
    expect(value.mock.calls.filter(([v]) => (v as Record<string, unknown>)['service.name'] !== undefined)).toHaveLength(1)
    expect(receiver.text()).toContain(token)
    receiver.clear()
    airlock.scrubber.register(token)
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'three' })
    await provider.forceFlush()
    expect(receiver.text()).not.toContain(token)
    expect(receivedLogRecords(receiver)[0]!.resource['deploy.hint']).toBe('[REDACTED:registered-secret]')
  })

  it('ledgers a large batch in entries of at most 64 records, every transform naming its record', async () => {
    const { airlock, ledgerPath } = setup()
    const exporter = new AirlockLogRecordExporter(new OTLPLogExporter({ url: `${receiver.url}/v1/logs` }), { airlock })
    const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 150, scheduledDelayMillis: 60_000 })] })
    open.push({ airlock, provider })
    const logger = provider.getLogger('bulk')
    for (let i = 0; i < 150; i++) logger.emit({ severityNumber: SeverityNumber.INFO, body: `row ${i} for ada${i}@example.com` })
    await provider.forceFlush()
    expect(receivedLogRecords(receiver)).toHaveLength(150)
    const entries = await ledgerEntries(ledgerPath)
    expect(entries.map((e) => ((e.event as { sent: { records: unknown[] } }).sent.records.length))).toEqual([64, 64, 22])
    const transforms = entries[2]!.transforms as { path: string }[]
    expect(transforms).toHaveLength(22)
    expect(transforms[21]!.path).toBe('records[21].body')
    expect(airlock.stats().actions.logs).toMatchObject({ redact: 150 })
  })

  it('ledgers concurrent exports with shared syncs: the ledger\'s group commit, not one fsync per export', async () => {
    const { airlock } = setup()
    const inner = new InMemoryLogRecordExporter()
    const exporter = new AirlockLogRecordExporter(inner, { airlock })
    // Real SDK records, each handed to its own export at once (what several processors, or a busy batch processor, do).
    const records: ReadableLogRecord[] = []
    const provider = new LoggerProvider({ processors: [{ onEmit: (record) => void records.push(record), forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() }] })
    open.push({ airlock, provider })
    for (let i = 0; i < 30; i++) provider.getLogger('concurrent').emit({ severityNumber: SeverityNumber.INFO, body: `row ${i} for ada${i}@example.com` })
    const before = airlock.stats().ledger
    const results = await Promise.all(records.map((record) => new Promise<ExportResult>((resolve) => exporter.export([record], resolve))))
    expect(results.every((r) => r.code === ExportResultCode.SUCCESS)).toBe(true)
    expect(inner.getFinishedLogRecords()).toHaveLength(30)
    const { entries, commits } = airlock.stats().ledger
    // One entry per export, each durable before its records were handed over...
    expect(entries - before.entries).toBe(30)
    // ...and exports in flight together shared their syncs.
    expect(commits - before.commits).toBeLessThan(entries - before.entries)
  })

  it('refuses bad arguments when built', () => {
    const { airlock } = setup()
    const inner = new InMemoryLogRecordExporter()
    expect(() => new AirlockLogRecordExporter({} as never, { airlock })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new AirlockLogRecordExporter(inner, {} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new AirlockLogRecordExporter(inner, { airlock, airlok: airlock } as never)).toThrow(/no option "airlok"/)
  })
})

// Records made by the real SDK, captured before any export.
async function sdkRecords(bodies: readonly string[]): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter()
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'checkout' }), processors: [new SimpleLogRecordProcessor({ exporter: memory })] })
  const logger = provider.getLogger('orders')
  for (const body of bodies) logger.emit({ severityNumber: SeverityNumber.INFO, body })
  await provider.forceFlush()
  return memory.getFinishedLogRecords()
}

function flatten(record: ReadableLogRecord): Record<string, unknown> {
  return {
    hrTime: record.hrTime,
    hrTimeObserved: record.hrTimeObserved,
    severityNumber: record.severityNumber,
    body: record.body,
    attributes: record.attributes,
    droppedAttributesCount: record.droppedAttributesCount,
    resource: record.resource,
    instrumentationScope: record.instrumentationScope,
  }
}

function exportOnce(exporter: AirlockLogRecordExporter, records: ReadableLogRecord[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(records, resolve))
}
