// OpenTelemetry backends are control planes too. This example sets up the
// OpenTelemetry JS SDK with both airlock wrappers in front of the standard
// OTLP/HTTP exporters, so spans and log records leave only as the policy
// allows, ledgered first; and it sends the Airlock's own log records to
// OpenTelemetry through the same door (OtelLogTee).
//
//   npx tsx examples/otel.ts
//
// With OTEL_EXPORTER_OTLP_ENDPOINT set (a collector, http://host:4318) it
// exports there; otherwise it starts a stand-in OTLP/HTTP receiver on a free
// loopback port and prints what that backend received. Ledger and control
// plane go under .airlock/otel/ (AIRLOCK_EXAMPLE_DIR moves them).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { SpanStatusCode, trace } from '@opentelemetry/api'
import { SeverityNumber, logs } from '@opentelemetry/api-logs'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs'
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { AirlockLogRecordExporter, AirlockSpanExporter, OtelLogTee } from '../src/adapters/otel/index.js'
import { Airlock, FileControlPlane, KeyRing, definePolicy, verifyLedger } from '../src/index.js'

const dir = process.env.AIRLOCK_EXAMPLE_DIR ?? '.airlock/otel'
await rm(dir, { recursive: true, force: true })
await mkdir(dir, { recursive: true })

// A stand-in backend when no collector is configured: it keeps every request body, as a vendor would.
const received: string[] = []
let endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT
const backend = endpoint === undefined ? createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    received.push(Buffer.concat(chunks).toString('utf8'))
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
}) : undefined
if (backend !== undefined) {
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`
}

// ---------------------------------------------------------------- the Airlock
// One policy, one scrubber, one ledger for everything that leaves: the control plane's events and the
// telemetry backend's spans and log records. OtelLogTee sits after the Airlock's door: every event goes on to
// the control plane, and each log event is also emitted, exactly as it left the door, to OpenTelemetry's
// global logger (set below), where AirlockLogRecordExporter holds it to the same policy again and ledgers it.
const airlock = new Airlock({
  keys: KeyRing.generate(),
  policy: definePolicy({ preset: 'balanced', telemetry: { attributes: { default: 'scrub', rules: { 'http.request.header.*': 'redact', 'app.tenant': 'hash' } } } }),
  controlPlane: new OtelLogTee(new FileControlPlane({ path: join(dir, 'control-plane.ndjson') })),
  ledger: { path: join(dir, 'ledger.ndjson') },
  logger: { destination: join(dir, 'local.log') },
})
const dbPassword = 'pg-Secr3t-for-the-example'
airlock.scrubber.register(dbPassword)

// ---------------------------------------------------------------- the OpenTelemetry SDK, wrapped
const resource = resourceFromAttributes({ 'service.name': 'checkout', 'deployment.environment.name': 'prod' })
const tracerProvider = new BasicTracerProvider({
  resource,
  spanProcessors: [new BatchSpanProcessor(new AirlockSpanExporter(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }), { airlock }))],
})
trace.setGlobalTracerProvider(tracerProvider)
const loggerProvider = new LoggerProvider({
  resource,
  processors: [new BatchLogRecordProcessor({ exporter: new AirlockLogRecordExporter(new OTLPLogExporter({ url: `${endpoint}/v1/logs` }), { airlock }) })],
})
logs.setGlobalLoggerProvider(loggerProvider)

// ---------------------------------------------------------------- application code, unchanged
const tracer = trace.getTracer('checkout', '2.3.0')
const appLog = logs.getLogger('checkout')
await tracer.startActiveSpan('GET /orders/ada@example.com', async (span) => {
  span.setAttributes({
    'http.request.method': 'GET',
    'http.response.status_code': 502,
    'http.request.header.authorization': 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl',
    'app.tenant': 'acme-corp',
    'user.email': 'ada@example.com',
  })
  span.addEvent('cache miss', { 'cache.key': 'orders:ada@example.com' })
  const failure = new Error(`could not reach postgres://app:${dbPassword}@db.internal:5432/orders`)
  span.recordException(failure)
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message })
  appLog.emit({ severityNumber: SeverityNumber.ERROR, body: 'order lookup failed for ada@example.com', exception: failure })
  airlock.logger.warn({ customer: 'ada@example.com', attempt: 2 }, 'retrying the order lookup')
  span.end()
})
appLog.emit({ severityNumber: SeverityNumber.DEBUG, body: 'below logs.level: not exported' })

// Shut down in this order: the Airlock's events reach the tee, the SDKs export (and ledger), then the ledger closes.
await airlock.flush()
await tracerProvider.shutdown()
await loggerProvider.shutdown()
await airlock.close()
await new Promise<void>((resolve) => (backend === undefined ? resolve() : backend.close(() => resolve())))

// ---------------------------------------------------------------- what left
if (backend !== undefined) {
  console.log(`the telemetry backend received ${received.length} requests; this is all of it that mentions ada or the password:`)
  const text = received.join('\n')
  console.log(`  ada@example.com: ${text.includes('ada@example.com') ? 'FOUND' : 'absent'}; the password: ${text.includes(dbPassword) ? 'FOUND' : 'absent'}`)
  for (const body of received) {
    for (const match of body.matchAll(/"(name|body)":(?:\{"stringValue":)?"([^"]*)"/g)) console.log(`  ${match[1]}: ${match[2]}`)
  }
}
const stats = airlock.stats()
console.log(`ledgered hand-overs: ${JSON.stringify(stats.events)}; suppressed: ${JSON.stringify(stats.suppressed)}; withheld: ${JSON.stringify(stats.withheld)}`)
const verified = await verifyLedger(join(dir, 'ledger.ndjson'))
console.log(`ledger ${join(dir, 'ledger.ndjson')}: ${verified.ok ? `intact, ${verified.entries} entries` : `BROKEN at seq ${verified.firstBadSeq}`}`)
if (!verified.ok || received.some((body) => body.includes('ada@example.com') || body.includes(dbPassword))) process.exitCode = 1
