import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AirlockBoundary, keyRingOf } from '../../src/boundary/airlock-boundary.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import type { PolicyInput } from '../../src/policy/policy-input.js'

const EMAIL = 'ada.lovelace@example.com'

let dir: string
const open: AirlockBoundary[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-outbound-'))
})
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((a) => a.close()))
  await rm(dir, { recursive: true, force: true })
})

function boundary(policy: PolicyInput = {}) {
  const keys = KeyRing.generate()
  const controlPlane = new MemoryControlPlane()
  const ledgerPath = join(dir, `ledger-${open.length}.ndjson`)
  const airlock = new AirlockBoundary({ keys, controlPlane, ledger: { path: ledgerPath }, policy: definePolicy(policy, { env: {} }) })
  open.push(airlock)
  return { airlock, keys, controlPlane, ledgerPath }
}

describe('the outbound door for engine adapters', () => {
  it('holds attributes to the telemetry rules, with errors and results meeting their own policies', async () => {
    const { airlock } = boundary({ telemetry: { attributes: { default: 'scrub', rules: { 'http.request.header.*': 'redact', 'app.tenant': 'hash' } } } })
    const { value, transforms } = await airlock.outbound.value(
      { 'http.request.header.authorization': 'Bearer abc.def.ghi', 'app.tenant': 'acme', 'user.email': EMAIL, failure: new Error(`lost ${EMAIL}`) },
      'telemetry',
    )
    const out = value as Record<string, unknown>
    expect(out['http.request.header.authorization']).toBe('[REDACTED:http.request.header.*]')
    expect(out['app.tenant']).toMatch(/^fp1\./)
    expect(out['user.email']).toBe('[REDACTED:email]')
    expect(out.failure).toEqual({ type: 'Error', message: 'lost [REDACTED:email]' })
    expect(JSON.stringify(out)).not.toContain(EMAIL)
    expect(transforms).toEqual(expect.arrayContaining([expect.objectContaining({ channel: 'telemetry', rule: 'app.tenant', action: 'hash' })]))
  })

  it('lets a flat map of scalars out exactly as a map the Normalizer takes whole, reading each member once', async () => {
    const { airlock } = boundary({ telemetry: { attributes: { default: 'scrub', rules: { 'app.tenant': 'hash', 'debug.*': 'drop' } } } })
    const flat = () => ({
      'user.email': EMAIL,
      'app.tenant': 'acme',
      'debug.dump': 'x',
      card: 4111111111111111,
      rows: 3,
      ok: true,
      none: null,
      gone: undefined,
      big: 12345678901234567890n,
      fn: () => 1,
      sym: Symbol('s'),
      regions: ['eu', EMAIL, 7, null, 10n],
      password: 'hunter2-hunter2',
      '7': 'seven',
    })
    // The same members beside one that is not a scalar: the Normalizer takes that map whole.
    const whole = await airlock.outbound.value({ ...flat(), zz: {} }, 'telemetry')
    const fast = await airlock.outbound.value(flat(), 'telemetry')
    const expected = { ...(whole.value as Record<string, unknown>) }
    delete expected.zz
    expect(JSON.stringify(fast.value)).toBe(JSON.stringify(expected))
    expect(fast.value).toEqual(expected)
    expect(fast.transforms).toEqual(whole.transforms)
    expect(JSON.stringify(fast.value)).not.toContain(EMAIL)

    let reads = 0
    const getter = Object.defineProperty({}, 'mail', { enumerable: true, get: () => (reads++ === 0 ? EMAIL : { toJSON: () => EMAIL }) })
    expect((await airlock.outbound.value(getter, 'telemetry')).value).toEqual({ mail: '[REDACTED:email]' })
    expect(reads).toBe(1)
    const throwing = Object.defineProperty({}, 'mail', { enumerable: true, get: () => { throw new Error(EMAIL) } })
    const withheld = await airlock.outbound.value(throwing, 'telemetry')
    expect(withheld.value).toBe((await airlock.outbound.value(Object.defineProperty({ zz: {} }, 'mail', Object.getOwnPropertyDescriptor(throwing, 'mail')!), 'telemetry')).value)
    expect(JSON.stringify(withheld)).not.toContain(EMAIL)
    // Bytes and errors among the members, a __proto__ key, a toJSON: the Normalizer's, as before.
    expect((await airlock.outbound.value({ bytes: [Buffer.from('secret')] }, 'telemetry')).value).toEqual({ bytes: ['[binary 6 bytes]'] })
    expect(((await airlock.outbound.value({ list: [new Error(`x ${EMAIL}`)] }, 'telemetry')).value as { list: unknown[] }).list[0]).toEqual({ type: 'Error', message: 'x [REDACTED:email]' })
    const proto = (await airlock.outbound.value(JSON.parse(`{"__proto__": "${EMAIL}"}`), 'telemetry')).value as object
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value).toBe('[REDACTED:email]')
    expect((await airlock.outbound.value({ a: 1, toJSON: () => ({ b: EMAIL }) }, 'telemetry')).value).toEqual({ b: '[REDACTED:email]' })
  })

  it('settles a value in its turn when nothing in it waits (valueNow), exactly as value does, and a promise when something does', async () => {
    const { airlock } = boundary({ telemetry: { attributes: { default: 'scrub', rules: { 'app.tenant': 'hash', 'app.secret': 'encrypt' } } } })
    const plain = { 'user.email': EMAIL, 'app.tenant': 'acme', rows: 3 }
    const now = airlock.outbound.valueNow(plain, 'telemetry')
    expect(now).not.toBeInstanceOf(Promise)
    expect(now).toEqual(await airlock.outbound.value(plain, 'telemetry'))
    expect(JSON.stringify(now)).not.toContain(EMAIL)
    // An error and a value under an encrypt rule each need a step that waits: a promise, never the value unsettled.
    for (const waiting of [{ failure: new Error(`lost ${EMAIL}`) }, { 'app.secret': 'k-123' }]) {
      const later = airlock.outbound.valueNow(waiting, 'telemetry')
      expect(later).toBeInstanceOf(Promise)
      const settled = await later
      expect(JSON.stringify(settled)).not.toContain(EMAIL)
      expect(JSON.stringify(settled)).not.toContain('k-123')
    }
  })

  it('holds a flat map to scrub.maxNodes, as the Normalizer does', async () => {
    const { airlock } = boundary({ scrub: { maxNodes: 4 } })
    const over = await airlock.outbound.value({ a: 1, b: 2, c: [3, 4] }, 'telemetry')
    const normalized = await airlock.outbound.value({ a: 1, b: 2, c: [3, 4], d: {} }, 'telemetry')
    expect(over.value).toBe(normalized.value)
    expect(over.transforms).toEqual(normalized.transforms)
    expect((await airlock.outbound.value({ a: 1, b: 2, c: 3 }, 'telemetry')).value).toEqual({ a: 1, b: 2, c: 3 })
  })

  it('lets names out as the names rule says, and errors as the exceptions mode says', async () => {
    const { airlock, keys } = boundary({ states: { names: 'hash' }, exceptions: { mode: 'type' } })
    expect(airlock.outbound.name('charge-cards').value).toBe(new Fingerprinter(keys).fingerprint('charge-cards'))
    const failure = await airlock.outbound.error(new RangeError('balance 93,000 EUR'))
    expect(failure.value).toEqual({ type: 'RangeError' })
    expect(airlock.outbound.fingerprint('tenant-7')).toBe(airlock.outbound.fingerprint('tenant-7'))
    expect(airlock.outbound.text(`mail ${EMAIL}`, 'logs').value).toBe('mail [REDACTED:email]')
  })

  it('ledgers what goes to an engine, counts it, and never sends it to the control plane', async () => {
    const { airlock, controlPlane, ledgerPath } = boundary()
    const id = await airlock.outbound.record({
      channel: 'payloads',
      engine: 'temporal',
      sent: { name: 'temporal:json/plain', action: 'encrypt', size: 42 },
      transforms: [{ path: '$', rule: 'payloads.default', action: 'encrypt' }],
    })
    await airlock.close()
    expect(controlPlane.events).toEqual([])
    const [entry] = (await readFile(ledgerPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(entry).toMatchObject({
      kind: 'event',
      channel: 'payloads',
      eventId: id,
      status: 'sent',
      event: { kind: 'engine', engine: 'temporal', id, sent: { name: 'temporal:json/plain', action: 'encrypt', size: 42 } },
      transforms: [{ path: '$', rule: 'payloads.default', action: 'encrypt' }],
    })
    expect(airlock.stats()).toMatchObject({ events: { payloads: 1 }, actions: { payloads: { encrypt: 1 } } })
  })

  it('refuses a malformed record and any record after close, so the adapter refuses to send', async () => {
    const { airlock } = boundary()
    await expect(airlock.outbound.record({ channel: 'nope' as never, engine: 'temporal', sent: {} })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(airlock.outbound.record({ channel: 'payloads', engine: 'Temporal!', sent: {} })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(airlock.outbound.record({ channel: 'payloads', engine: 'temporal', sent: [] as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await airlock.close()
    await expect(airlock.outbound.record({ channel: 'payloads', engine: 'temporal', sent: {} })).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('holds engine log attributes to the redact paths over dotted keys, and scrubs names built from data when asked', async () => {
    const { airlock } = boundary({ logs: { redactPaths: ['http.request.header'] } })
    const { value } = await airlock.outbound.value({ 'http.request.header.cookie': 'sid=1', 'http.request.method': 'GET' }, 'logs')
    expect(value).toEqual({ 'http.request.header.cookie': '[REDACTED:redact-path]', 'http.request.method': 'GET' })
    expect(airlock.outbound.name(`GET /users/${EMAIL}`).value).toBe(`GET /users/${EMAIL}`)
    expect(airlock.outbound.name(`GET /users/${EMAIL}`, { detectors: true }).value).toBe('GET /users/[REDACTED:email]')
    const hashing = boundary({ states: { names: 'hash' } }).airlock
    expect(hashing.outbound.name(`GET /users/${EMAIL}`, { detectors: true }).value).toMatch(/^fp1\./)
  })

  it('counts what an adapter suppressed by design and what it withheld, the latter once ledgered', async () => {
    const { airlock, ledgerPath } = boundary()
    airlock.outbound.suppress('logs', 2)
    airlock.outbound.suppress('telemetry')
    expect(() => airlock.outbound.suppress('nope' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => airlock.outbound.suppress('logs', -1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    await airlock.outbound.record({ channel: 'telemetry', engine: 'otel', sent: { spans: [], withheld: [{ index: 0, reason: 'policy:ERR_INTERNAL' }] }, withheld: 1 })
    await expect(airlock.outbound.record({ channel: 'telemetry', engine: 'otel', sent: {}, withheld: 1.5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(airlock.stats()).toMatchObject({ suppressedLogs: 2, suppressed: { logs: 2, telemetry: 1 }, withheld: { telemetry: 1 }, events: { telemetry: 1 } })
    await airlock.close()
    const [entry] = (await readFile(ledgerPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(entry).toMatchObject({ channel: 'telemetry', event: { sent: { withheld: [{ index: 0, reason: 'policy:ERR_INTERNAL' }] } } })
  })

  it('ledgers a failed hand-over of recorded entries, and refuses a reason that is not a class', async () => {
    const { airlock, ledgerPath } = boundary()
    const id = await airlock.outbound.record({ channel: 'telemetry', engine: 'otel', sent: { spans: [] } })
    expect(() => airlock.outbound.failed([id], 'Connection refused to 10.0.0.7')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => airlock.outbound.failed([], 'export-failed')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    airlock.outbound.failed([id], 'export-failed')
    expect(airlock.stats().deliveryFailures).toBe(1)
    await airlock.close()
    const lines = (await readFile(ledgerPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines[1]).toMatchObject({ kind: 'delivery', status: 'failed', eventIds: [id], error: { code: 'export-failed' } })
  })

  it('gives adapters in this package the key ring, and nothing else', () => {
    const { airlock, keys } = boundary()
    expect(keyRingOf(airlock)).toBe(keys)
    expect(() => keyRingOf({} as AirlockBoundary)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
