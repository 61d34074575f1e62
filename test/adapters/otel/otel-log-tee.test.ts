import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { SeverityNumber, logs } from '@opentelemetry/api-logs'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AirlockLogRecordExporter } from '../../../src/adapters/otel/airlock-log-record-exporter.js'
import { OtelLogTee } from '../../../src/adapters/otel/otel-log-tee.js'
import { MemoryControlPlane } from '../../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../../src/crypto/key-ring.js'
import { definePolicy } from '../../../src/policy/define-policy.js'
import { Airlock } from '../../../src/runtime/airlock.js'
import { generateCanaries } from '../../../src/testing/generate-canaries.js'
import { OtlpReceiver, receivedLogRecords } from '../../support/otlp-receiver.js'

let receiver: OtlpReceiver
let dir: string
const open: { airlock: Airlock; provider: LoggerProvider }[] = []

beforeAll(async () => {
  receiver = await OtlpReceiver.start()
})
afterAll(() => receiver.close())
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-otel-tee-'))
  receiver.clear()
})
afterEach(async () => {
  logs.disable()
  for (const { airlock, provider } of open.splice(0)) {
    await provider.shutdown().catch(() => {})
    await airlock.close().catch(() => {})
  }
  await rm(dir, { recursive: true, force: true })
})

const silent = new Writable({ write: (_chunk, _encoding, done) => done() })

// As an application wires it: the tee follows the global logger provider, set once the Airlock (which the
// exporter needs) exists.
function setup(wrapped: boolean) {
  const controlPlane = new MemoryControlPlane()
  const ledgerPath = join(dir, 'ledger.ndjson')
  const airlock = new Airlock({
    keys: KeyRing.generate(),
    policy: definePolicy({}, { env: {} }),
    controlPlane: new OtelLogTee(controlPlane),
    ledger: { path: ledgerPath },
    logger: { destination: silent },
  })
  const otlp = new OTLPLogExporter({ url: `${receiver.url}/v1/logs` })
  const exporter = wrapped ? new AirlockLogRecordExporter(otlp, { airlock }) : otlp
  const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 60_000 })] })
  logs.setGlobalLoggerProvider(provider)
  open.push({ airlock, provider })
  return { airlock, controlPlane, provider, ledgerPath }
}

describe('OtelLogTee', () => {
  it('hands airlock.logger records to OpenTelemetry as they left the door, through the exporter\'s door too, and to the control plane', async () => {
    const canaries = generateCanaries()
    const all = canaries.map((c) => c.value).join(' ')
    const { airlock, controlPlane, provider, ledgerPath } = setup(true)
    for (const c of canaries) if (c.kind === 'high-entropy') airlock.scrubber.register(c.value)

    airlock.logger.warn({ user: canaries.find((c) => c.kind === 'email')!.value, password: 'hunter2-hunter2', rows: 3, err: new Error(`refused ${all}`) }, `slow: ${all}`)
    airlock.logger.debug('below the shipped level')
    await airlock.flush()
    await provider.forceFlush()

    const text = receiver.text('/v1/logs')
    for (const c of canaries) expect(text, `${c.kind} leaked`).not.toContain(c.marker)
    expect(text).not.toContain('hunter2')
    expect(text).not.toContain('below the shipped level')
    const [record] = receivedLogRecords(receiver)
    expect(record!.severityNumber).toBe(SeverityNumber.WARN)
    expect(record!.severityText).toBe('WARN')
    expect(String(record!.body)).toMatch(/^slow: /)
    expect(record!.attributes).toMatchObject({ rows: 3, user: '[REDACTED:email]', 'airlock.run_id': 'process' })
    // balanced: the error leaves as its type and scrubbed message, no stack
    expect(record!.attributes.err).toEqual({ type: 'Error', message: expect.stringMatching(/^refused /) })
    expect(controlPlane.events.filter((e) => e.kind === 'log')).toHaveLength(1)
    await provider.shutdown()
    await airlock.close()
    const entries = (await readFile(ledgerPath, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { kind: string; channel?: string; event?: { kind: string } })
    // One entry for the control plane, one for OpenTelemetry: two hand-overs, each on record.
    expect(entries.filter((e) => e.kind === 'event' && e.channel === 'logs').map((e) => e.event!.kind).sort()).toEqual(['engine', 'log'])
  })

  it('sends OpenTelemetry no more than the control plane got, even into a pipeline nobody wrapped', async () => {
    const { airlock, provider } = setup(false)
    const email = 'grace.hopper@example.com'
    const token = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'
    airlock.logger.error({ owner: email, err: Object.assign(new Error(`push failed with ${token}`), { stack: `Error: x\n    at /home/grace/app.js:1:1` }) }, `push by ${email}`)
    await airlock.flush()
    await provider.forceFlush()
    expect(receivedLogRecords(receiver)).toHaveLength(1)
    const text = receiver.text('/v1/logs')
    expect(text).not.toContain(email)
    expect(text).not.toContain(token)
    expect(text).not.toContain('/home/grace')
  })

  it('refuses what is not a control plane, and an unknown option', () => {
    expect(() => new OtelLogTee({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new OtelLogTee(new MemoryControlPlane(), { loger: {} } as never)).toThrow(/no option "loger"/)
    expect(() => new OtelLogTee(new MemoryControlPlane(), { logger: {} as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
