import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT_CONTEXT, SpanStatusCode, createTraceState, trace, type Link } from '@opentelemetry/api'
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { AirlockSpanExporter } from '../../../src/adapters/otel/airlock-span-exporter.js'
import { AirlockBoundary } from '../../../src/boundary/airlock-boundary.js'
import { MemoryControlPlane } from '../../../src/boundary/memory-control-plane.js'
import { Fingerprinter } from '../../../src/crypto/fingerprinter.js'
import { KeyRing } from '../../../src/crypto/key-ring.js'
import { ValueCipher } from '../../../src/crypto/value-cipher.js'
import { definePolicy } from '../../../src/policy/define-policy.js'
import type { PolicyInput } from '../../../src/policy/policy-input.js'
import { generateCanaries, type Canary } from '../../../src/testing/generate-canaries.js'
import { OtlpReceiver, receivedSpans } from '../../support/otlp-receiver.js'

let receiver: OtlpReceiver
let dir: string
const open: { airlock: AirlockBoundary; provider?: BasicTracerProvider }[] = []

beforeAll(async () => {
  receiver = await OtlpReceiver.start()
})
afterAll(() => receiver.close())
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-otel-spans-'))
  receiver.clear()
})
afterEach(async () => {
  vi.restoreAllMocks()
  for (const { airlock, provider } of open.splice(0)) {
    await provider?.shutdown().catch(() => {})
    await airlock.close().catch(() => {})
  }
  await rm(dir, { recursive: true, force: true })
})

const PARENT = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true }

function setup(policy: PolicyInput = {}, resourceAttributes: Record<string, string> = { 'service.name': 'checkout' }) {
  const ledgerPath = join(dir, `ledger-${open.length}.ndjson`)
  const keys = KeyRing.generate()
  const airlock = new AirlockBoundary({ keys, controlPlane: new MemoryControlPlane(), ledger: { path: ledgerPath }, policy: definePolicy(policy, { env: {} }) })
  const exporter = new AirlockSpanExporter(new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` }), { airlock })
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resourceAttributes),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 })],
  })
  open.push({ airlock, provider })
  return { airlock, keys, exporter, provider, tracer: provider.getTracer('orders', '1.2.0'), ledgerPath }
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

describe('AirlockSpanExporter', () => {
  it('sends no canary or registered secret from names, attributes, events, exceptions, status, links, trace state, resource or scope, and benign values intact', async () => {
    const canaries = generateCanaries()
    const all = canaries.map((c) => c.value).join(' | ')
    const email = canaries.find((c) => c.kind === 'email')!.value
    const { airlock, provider, ledgerPath } = setup({}, { 'service.name': 'checkout', 'deployment.note': all })
    for (const c of canaries) if (c.kind === 'high-entropy') airlock.scrubber.register(c.value)
    const tracer = provider.getTracer(`orders ${email}`, '1.2.0')
    const parent = trace.setSpanContext(ROOT_CONTEXT, { ...PARENT, traceState: createTraceState(`vendor=${email}`) })
    const linked = tracer.startSpan('linked')
    linked.end()
    const links: Link[] = [{ context: linked.spanContext(), attributes: { 'link.note': all, 'link.kind': 'follows' } }]
    const span = tracer.startSpan(
      `GET /users/${email} ${all}`,
      { attributes: { 'http.request.method': 'GET', 'http.response.status_code': 502, 'retry.count': 2, cached: false, regions: ['eu', 'us'], 'user.note': all }, links },
      parent,
    )
    span.addEvent(`cache miss for ${all}`, { 'cache.key': all, 'cache.hit': false })
    span.recordException(Object.assign(new Error(`db refused ${all}`), { name: 'PgError' }))
    span.setStatus({ code: SpanStatusCode.ERROR, message: `failed: ${all}` })
    span.end()
    await provider.forceFlush()

    const text = receiver.text('/v1/traces')
    expect(receiver.requests.length).toBeGreaterThan(0)
    expectNoCanary(text, canaries)
    const spans = receivedSpans(receiver)
    const got = spans.find((s) => s.name !== 'linked')!
    expect(got.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 502, 'retry.count': 2, cached: false, regions: ['eu', 'us'] })
    expect(got.name.startsWith('GET /users/[REDACTED:email] ')).toBe(true)
    expect(got.parentSpanId).toBe(PARENT.spanId)
    expect(got.traceId).toBe(PARENT.traceId)
    expect(got.traceState).toBe('vendor=[REDACTED:email]')
    expect(got.resource['service.name']).toBe('checkout')
    expect(got.scope).toMatchObject({ name: 'orders [REDACTED:email]', version: '1.2.0' })
    const [miss, exception] = got.events
    expect(miss!.name.startsWith('cache miss for ')).toBe(true)
    expect(miss!.attributes['cache.hit']).toBe(false)
    expect(exception!.name).toBe('exception')
    expect(exception!.attributes['exception.type']).toBe('PgError')
    expect(exception!.attributes['exception.message']).toMatch(/^db refused /)
    expect(exception!.attributes).not.toHaveProperty(['exception.stacktrace'])
    expect(got.status).toMatchObject({ code: SpanStatusCode.ERROR })
    expect(got.status.message).toMatch(/^failed: /)
    expect(got.links[0]!.attributes['link.kind']).toBe('follows')
    // What the ledger holds is what left, and no secret either.
    const entries = await ledgerEntries(ledgerPath)
    expectNoCanary(JSON.stringify(entries), canaries)
    const ledgered = entries.flatMap((e) => (e.event as { sent: { spans: { name: string }[] } }).sent.spans)
    expect(ledgered.map((s) => s.name).sort()).toEqual(spans.map((s) => s.name).sort())
    expect(entries[entries.length - 1]).toMatchObject({ channel: 'telemetry', event: { engine: 'otel', sent: { signal: 'spans' } } })
  })

  it('exports no span under telemetry.spans: false, counting them as suppressed', async () => {
    const { airlock, tracer, provider, ledgerPath } = setup({ telemetry: { spans: false } })
    tracer.startSpan('one').end()
    tracer.startSpan('two').end()
    await provider.forceFlush()
    expect(receiver.requests).toEqual([])
    expect(airlock.stats().suppressed).toEqual({ telemetry: 2 })
    await airlock.close()
    expect(await ledgerEntries(ledgerPath)).toEqual([])
  })

  it('follows the attribute rules over dotted keys, the names rule, and exceptions.mode type for events and status', async () => {
    const { tracer, provider, keys } = setup({
      states: { names: 'hash' },
      exceptions: { mode: 'type' },
      telemetry: { attributes: { default: 'hash', rules: { 'http.request.header.*': 'redact', 'http.*': 'allow', 'debug.**': 'drop' } } },
    })
    const span = tracer.startSpan('charge-cards', {
      attributes: { 'http.request.header.authorization': 'Bearer abc', 'http.request.method': 'POST', 'debug.dump': 'x', 'app.tenant': 'acme' },
    })
    span.recordException(new TypeError('card 4111 1111 1111 1111 declined'))
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'card 4111 1111 1111 1111 declined' })
    span.end()
    await provider.forceFlush()
    const [got] = receivedSpans(receiver)
    const fingerprints = new Fingerprinter(keys)
    expect(got!.name).toBe(fingerprints.fingerprint('charge-cards'))
    expect(got!.attributes).toEqual({
      'http.request.header.authorization': '[REDACTED:http.request.header.*]',
      'http.request.method': 'POST',
      'app.tenant': expect.stringMatching(/^fp1\./),
    })
    expect(got!.events[0]!.attributes).toEqual({ 'exception.type': 'TypeError' })
    expect(got!.status.message ?? '').toBe('')
    expect(receiver.text()).not.toContain('4111')
  })

  it('lets a status message that repeats the recorded exception\'s message out as that message was, transforms ledgered at the status', async () => {
    const { airlock, tracer, provider, ledgerPath } = setup()
    const message = 'refused for ada@example.com'
    const span = tracer.startSpan('load')
    span.recordException(new Error(message))
    span.setStatus({ code: SpanStatusCode.ERROR, message })
    span.end()
    // A secret registered while a span is prepared: the status, scrubbed after it, masks it even though the
    // exception's message, scrubbed before it, did not hold it masked.
    const secret = 'Zr4Lm8Nq2Vt6Xw1Ky5Bp9Hc3'
    const other = tracer.startSpan('retry')
    other.recordException(new Error(`token ${secret} refused`))
    other.setStatus({ code: SpanStatusCode.ERROR, message: `token ${secret} refused` })
    other.end()
    const error = airlock.outbound.error.bind(airlock.outbound)
    let registered = false
    vi.spyOn(airlock.outbound, 'error').mockImplementation(async (value) => {
      const out = await error(value)
      if (!registered && String((value as { message?: unknown }).message).includes(secret)) {
        airlock.scrubber.register(secret)
        registered = true
      }
      return out
    })
    await provider.forceFlush()
    const [first, second] = receivedSpans(receiver)
    expect(first!.events[0]!.attributes['exception.message']).toBe('refused for [REDACTED:email]')
    expect(first!.status.message).toBe('refused for [REDACTED:email]')
    expect(registered).toBe(true)
    expect(second!.status.message).toBe('token [REDACTED:registered-secret] refused')
    const [entry] = await ledgerEntries(ledgerPath)
    const transforms = entry!.transforms as { path: string; rule: string }[]
    expect(transforms).toContainEqual(expect.objectContaining({ path: 'spans[0].status.message', rule: 'email' }))
    expect(transforms).toContainEqual(expect.objectContaining({ path: 'spans[0].events[0].attributes["exception.message"]', rule: 'email' }))
  })

  it('replaces an exception by a fingerprint or a token the team can open, as the mode says', async () => {
    const { tracer, provider } = setup({ exceptions: { mode: 'fingerprint' } })
    const span = tracer.startSpan('pay')
    span.recordException(new Error('balance 93,000 EUR'))
    span.end()
    await provider.forceFlush()
    expect(Object.keys(receivedSpans(receiver)[0]!.events[0]!.attributes).sort()).toEqual(['airlock.exception.fingerprint', 'exception.type'])
    receiver.clear()
    const sealed = setup({ exceptions: { mode: 'encrypted' } })
    const other = sealed.tracer.startSpan('pay')
    other.recordException(new Error('balance 93,000 EUR'))
    other.end()
    await sealed.provider.forceFlush()
    const token = receivedSpans(receiver)[0]!.events[0]!.attributes['airlock.exception.token'] as string
    expect(await new ValueCipher(sealed.keys).decrypt(token)).toContain('93,000')
    expect(receiver.text()).not.toContain('93,000')
  })

  it('withholds the one span the policy throws for, exports the others, ledgers and counts it', async () => {
    const { airlock, exporter, ledgerPath } = setup()
    const spans = await sdkSpans(['first', 'poison', 'third'])
    const name = airlock.outbound.name.bind(airlock.outbound)
    vi.spyOn(airlock.outbound, 'name').mockImplementation((n, options) => {
      if (n === 'poison') throw new Error('the names rule broke')
      return name(n, options)
    })
    const result = await exportOnce(exporter, spans)
    expect(result.code).toBe(ExportResultCode.SUCCESS)
    expect(receivedSpans(receiver).map((s) => s.name)).toEqual(['first', 'third'])
    expect(receiver.text()).not.toContain('poison')
    expect(airlock.stats().withheld).toEqual({ telemetry: 1 })
    const [entry] = await ledgerEntries(ledgerPath)
    expect(entry).toMatchObject({ event: { sent: { withheld: [{ index: 1, reason: 'policy:ERR_INTERNAL' }] } } })
  })

  it('withholds a span whose ids are not ids, and leaves off a link or parent that is not valid', async () => {
    const { airlock, exporter } = setup()
    const [good, other] = await sdkSpans(['good', 'other'])
    const secretId = 'ada@example.com-not-an-id-000000'
    const forged = Object.create(good!) as ReadableSpan & Record<string, unknown>
    Object.defineProperty(forged, 'spanContext', { value: () => ({ ...good!.spanContext(), traceId: secretId }) })
    const badLinks = Object.create(other!) as ReadableSpan
    Object.defineProperties(badLinks, {
      links: { value: [{ context: { traceId: secretId, spanId: 'zz', traceFlags: 1 } }] },
      parentSpanContext: { value: { traceId: secretId, spanId: 'not-hex', traceFlags: 1 } },
    })
    await exportOnce(exporter, [forged, badLinks])
    const spans = receivedSpans(receiver)
    expect(spans.map((s) => s.name)).toEqual(['other'])
    expect(spans[0]!.links).toEqual([])
    expect(spans[0]!.parentSpanId ?? '').toBe('')
    expect(receiver.text()).not.toContain('ada@example.com')
    expect(airlock.stats().withheld).toEqual({ telemetry: 1 })
  })

  it('hands the wrapped exporter new objects holding only what was ledgered, not the SDK spans', async () => {
    const { airlock } = setup()
    const memory = new InMemorySpanExporter()
    const exporter = new AirlockSpanExporter(memory, { airlock })
    const [span] = await sdkSpans(['mail ada@example.com'])
    Object.defineProperty(span, 'debugDump', { value: 'ada@example.com', enumerable: true })
    await exportOnce(exporter, [span!])
    const [exported] = memory.getFinishedSpans()
    expect(exported).not.toBe(span)
    expect(exported!.name).toBe('mail [REDACTED:email]')
    expect(JSON.stringify(exported)).not.toContain('ada@example.com')
    expect(exported!.spanContext()).toEqual({ traceId: span!.spanContext().traceId, spanId: span!.spanContext().spanId, traceFlags: 1 })
  })

  it('refuses bad arguments when built', () => {
    const { airlock } = setup()
    expect(() => new AirlockSpanExporter(null as never, { airlock })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new AirlockSpanExporter(new InMemorySpanExporter(), { airlock: {} } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

// Spans made by the real SDK, captured before any export.
async function sdkSpans(names: readonly string[]): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'checkout' }), spanProcessors: [new SimpleSpanProcessor(memory)] })
  const tracer = provider.getTracer('orders')
  for (const name of names) tracer.startSpan(name).end()
  await provider.forceFlush()
  return memory.getFinishedSpans()
}

function exportOnce(exporter: AirlockSpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve))
}
