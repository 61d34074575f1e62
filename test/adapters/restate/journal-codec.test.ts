import { CancelledError, RetryableError, TerminalError, TimeoutError } from '@restatedev/restate-sdk'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AirlockJournalCodec } from '../../../src/adapters/restate/airlock-journal-codec.js'
import { airlockHooks, SEALED_ERROR_METADATA } from '../../../src/adapters/restate/airlock-hooks.js'
import { airlockSerde } from '../../../src/adapters/restate/airlock-serde.js'
import { pendingFor } from '../../../src/adapters/restate/restate-payloads.js'
import { AirlockBoundary } from '../../../src/boundary/airlock-boundary.js'
import { MemoryControlPlane } from '../../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../../src/crypto/key-ring.js'
import { definePolicy } from '../../../src/policy/define-policy.js'
import { ValueCipher } from '../../../src/crypto/value-cipher.js'
import type { Airlock } from '../../../src/runtime/airlock.js'
import { LocalResult } from '../../../src/results/local-result.js'
import type { PolicyInput } from '../../../src/policy/policy-input.js'
import { EngineFixture, leaksIn, plantSecrets } from '../../support/engine-fixture.js'

let fixture: EngineFixture
beforeEach(async () => {
  fixture = await EngineFixture.create('restate-codec')
})
afterEach(async () => {
  await fixture.close()
})

const utf8 = (text: string) => new TextEncoder().encode(text)
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

interface Sent {
  name: string
  action: string
  data?: { text: string }
}

async function records(ledgerPath: string): Promise<{ sent: Sent; rule: string; channel: string }[]> {
  return (await fixture.ledgerText(ledgerPath))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { channel: string; event: { sent?: Sent }; transforms: { rule: string }[] })
    .filter((e) => e.event.sent !== undefined)
    .map((e) => ({ sent: e.event.sent!, rule: e.transforms.at(-1)!.rule, channel: e.channel }))
}

function setup(policy: PolicyInput = {}) {
  const made = fixture.airlock(policy)
  return { ...made, secrets: plantSecrets(made.airlock) }
}

describe('AirlockJournalCodec', () => {
  it('seals every journal value, opens it back, and ledgers each one', async () => {
    const { airlock, ledgerPath, secrets } = setup()
    const codec = await AirlockJournalCodec.create({ airlock })
    const value = utf8(JSON.stringify({ note: secrets.text }))
    const frame = codec.encode(value)
    expect(leaksIn(frame, secrets.forbidden)).toEqual([])
    expect(text(frame.subarray(0, 4))).toBe('ALKC')
    expect(text(await codec.decode(frame))).toBe(text(value))
    expect(codec.encode(new Uint8Array(0)).length).toBeGreaterThan(0)
    expect((await codec.decode(codec.encode(new Uint8Array(0)))).length).toBe(0)
    await pendingFor(airlock).settled()
    await airlock.close()
    const sent = await records(ledgerPath)
    expect(sent.map((r) => [r.sent.name, r.sent.action, r.rule])).toEqual([
      ['restate:journal', 'encrypt', 'payloads.default'],
      ['restate:journal', 'encrypt', 'payloads.default'],
      ['restate:journal', 'encrypt', 'payloads.default'],
    ])
    expect(leaksIn(await fixture.ledgerText(ledgerPath), secrets.forbidden)).toEqual([])
  })

  it('passes clear only by rule, ledgered byte for byte; a registered secret, or bytes that look like a frame, are sealed instead', async () => {
    const { airlock, ledgerPath, secrets } = setup({ payloads: { rules: { 'restate:journal': 'clear' } } })
    const codec = await AirlockJournalCodec.create({ airlock })
    const harmless = utf8('{"region":"eu-west-1"}')
    expect(codec.encode(harmless)).toBe(harmless)
    const holding = codec.encode(utf8(`{"dsn":"pg://app:${secrets.registered}@db"}`))
    expect(leaksIn(holding, [secrets.registered])).toEqual([])
    const lookalike = codec.encode(utf8('ALKC pretending'))
    expect(text(await codec.decode(lookalike))).toBe('ALKC pretending')
    await pendingFor(airlock).settled()
    await airlock.close()
    expect((await records(ledgerPath)).map((r) => [r.sent.action, r.rule, r.sent.data?.text])).toEqual([
      ['clear', 'payloads.rules.restate:journal', '{"region":"eu-west-1"}'],
      ['encrypt', 'registered-secret', undefined],
      ['encrypt', 'restate.frame-collision', undefined],
    ])
  })

  it('offloads large values from reservations made ahead, writes behind, and seals inline when none is ready', async () => {
    const { airlock, ledgerPath } = setup({ payloads: { offloadAbove: 64 } })
    const dir = join(fixture.dir, 'offload')
    const codec = await AirlockJournalCodec.create({ airlock, offload: new LocalResult({ dir, location: '{engine}/{randomId}.alkc' }) })
    const big = (i: number) => utf8(JSON.stringify({ i, pad: 'x'.repeat(200) }))
    // More values at once than reservations are ready: the rest are sealed inline, never sent clear.
    const frames = Array.from({ length: 6 }, (_, i) => codec.encode(big(i)))
    const kinds = frames.map((f) => text(f.subarray(0, 4)))
    expect(kinds.filter((k) => k === 'ALKO').length).toBeGreaterThan(0)
    expect(kinds.filter((k) => k === 'ALKC').length).toBeGreaterThan(0)
    await pendingFor(airlock).settled()
    for (const [i, frame] of frames.entries()) expect(JSON.parse(text(await codec.decode(frame)))).toEqual({ i, pad: 'x'.repeat(200) })
    expect((await readdir(join(dir, 'restate'))).length).toBe(kinds.filter((k) => k === 'ALKO').length)
    await airlock.close()
    const rules = (await records(ledgerPath)).map((r) => r.rule)
    expect(rules).toContain('payloads.offloadAbove')
    expect(rules).toContain('payloads.offload-unready')
  })

  it('on an ingress client, seals inputs inline (never offloads them) and reads offloaded outputs', async () => {
    const { airlock, ledgerPath } = setup({ payloads: { offloadAbove: 64 } })
    const offload = new LocalResult({ dir: join(fixture.dir, 'offload'), location: '{engine}/{randomId}.alkc' })
    const service = await AirlockJournalCodec.create({ airlock, offload })
    const client = await AirlockJournalCodec.forIngress({ airlock, offload })
    const big = utf8(JSON.stringify({ pad: 'y'.repeat(300) }))
    expect(text(client.encode(big).subarray(0, 4))).toBe('ALKC')
    const output = service.encode(big)
    expect(text(output.subarray(0, 4))).toBe('ALKO')
    // Read at once, in this process, before the write behind it is done: the read waits for it.
    expect(text(await client.decode(output))).toBe(text(big))
    await pendingFor(airlock).settled()
    await airlock.close()
    expect((await records(ledgerPath)).map((r) => r.rule)).toEqual(['restate.ingress-inline', 'payloads.offloadAbove'])
  })

  it('on an ingress client, sends nothing once the ledger failed, and a call\'s output waits for its input\'s record', async () => {
    const { airlock: service, keys } = setup()
    const output = (await AirlockJournalCodec.create({ airlock: service })).encode(utf8('{"receipt":1}'))
    // A ledger under a regular file (ENOTDIR when it opens): nothing the client sends can be recorded.
    const blocker = join(fixture.dir, 'not-a-directory')
    await writeFile(blocker, '')
    const broken = new AirlockBoundary({ keys, controlPlane: new MemoryControlPlane(), ledger: { path: join(blocker, 'ledger.ndjson') }, policy: definePolicy({}, { env: {} }) })
    const client = await AirlockJournalCodec.forIngress({ airlock: broken })
    // Restate's client encodes and sends at once: a value encoded before the failure is known leaves (the write-ahead exception)...
    let early: unknown
    try {
      client.encode(utf8('{"order":1}'))
    } catch (err) {
      early = err
    }
    await expect(broken.emit({ kind: 'flow-run-state', runId: 'r-1', flowName: 'etl', state: 'Running' })).rejects.toMatchObject({ code: 'ERR_STORAGE' })
    // ...but its call fails when the output comes back, and every later call fails before it is made.
    const refused = { code: 'ERR_STORAGE', message: expect.stringMatching(/\(ERR_STORAGE\)$/) }
    await expect(client.decode(output)).rejects.toMatchObject(refused)
    await expect(client.decode(output)).rejects.toMatchObject(refused)
    expect(() => client.encode(utf8('{"order":2}'))).toThrow(expect.objectContaining(refused))
    if (early !== undefined) expect(early).toMatchObject(refused)
    await broken.close().catch(() => undefined)

    const { airlock } = setup()
    const open = await AirlockJournalCodec.forIngress({ airlock })
    open.encode(utf8('{"order":3}'))
    await open.settled()
    await airlock.close()
    expect(() => open.encode(utf8('{"order":4}'))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED', message: expect.stringMatching(/\(ERR_CLOSED\)$/) }))
    const serde = airlockSerde({ airlock, name: 'restate:Orders/checkout/input' })
    expect(() => serde.serialize({ order: 5 })).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })

  it('fails with typed errors naming their code: tampered, another key, unsealed when refused', async () => {
    const { airlock } = setup()
    const codec = await AirlockJournalCodec.create({ airlock })
    const frame = Buffer.from(codec.encode(utf8('{"a":1}')))
    frame[frame.length - 1]! ^= 1
    await expect(codec.decode(frame)).rejects.toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED', message: expect.stringMatching(/\(ERR_PAYLOAD_TAMPERED\)$/) })
    const stranger = await AirlockJournalCodec.create({ airlock: fixture.airlock().airlock })
    await expect(stranger.decode(codec.encode(utf8('{}')))).rejects.toMatchObject({ code: 'ERR_UNKNOWN_KID', message: expect.stringContaining('(ERR_UNKNOWN_KID)') })
    expect(text(await codec.decode(utf8('{"before":"airlock"}')))).toBe('{"before":"airlock"}')
    const strict = await AirlockJournalCodec.create({ airlock, unsealed: 'refuse' })
    await expect(strict.decode(utf8('{}'))).rejects.toMatchObject({ code: 'ERR_PAYLOAD_FORMAT' })
    await expect(AirlockJournalCodec.create({ airlock, ofload: 1 } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })
})

describe('airlockSerde', () => {
  it('seals a handler value for its own name only, and never offloads (a serde cannot wait)', async () => {
    const { airlock, ledgerPath, secrets } = setup({ payloads: { rules: { 'restate:Orders/checkout/output': 'offload' } } })
    const input = airlockSerde<{ note: string }>({ airlock, name: 'restate:Orders/checkout/input' })
    const other = airlockSerde<{ note: string }>({ airlock, name: 'restate:Orders/refund/input' })
    const bytes = input.serialize({ note: secrets.text })
    expect(leaksIn(bytes, secrets.forbidden)).toEqual([])
    expect(input.deserialize(bytes)).toEqual({ note: secrets.text })
    expect(() => other.deserialize(bytes)).toThrow(expect.objectContaining({ code: 'ERR_PAYLOAD_TAMPERED' }))
    expect(input.deserialize(utf8('{"note":"unsealed"}'))).toEqual({ note: 'unsealed' })
    const output = airlockSerde<string>({ airlock, name: 'restate:Orders/checkout/output' })
    expect(output.deserialize(output.serialize('done'))).toBe('done')
    expect(() => airlockSerde({ airlock, name: 'Orders/checkout/input' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    await pendingFor(airlock).settled()
    await airlock.close()
    const sent = await records(ledgerPath)
    expect(sent.map((r) => [r.sent.name, r.sent.action, r.rule])).toEqual([
      ['restate:Orders/checkout/input', 'encrypt', 'payloads.default'],
      // The rule says offload; a serde has no Result to offload to (it could not read one back): sealed.
      ['restate:Orders/checkout/output', 'encrypt', 'payloads.rules.restate:Orders/checkout/output'],
    ])
  })
})

describe('airlockHooks', () => {
  const hooksOf = (airlock: Parameters<typeof airlockHooks>[0]['airlock']) => airlockHooks({ airlock })({ request: {} as never }).interceptor!

  async function thrownBy(run: Promise<void>): Promise<Error> {
    return run.then(
      () => {
        throw new Error('expected the interceptor to throw')
      },
      (err: unknown) => err as Error,
    )
  }

  it('lets a terminal error reach the journal as exceptions.mode allows, with no stack and the whole error sealed', async () => {
    const { airlock, keys, ledgerPath, secrets } = setup()
    const hooks = hooksOf(airlock)
    const original = new TerminalError(`card of ada@example.com declined: ${secrets.text}`, { errorCode: 402, metadata: { customer: 'ada@example.com', reason: 'limit' } })
    const out = (await thrownBy(hooks.handler!(() => Promise.reject(original)))) as TerminalError
    expect(out).toBeInstanceOf(TerminalError)
    expect(out.code).toBe(402)
    expect(out.message).toMatch(/^TerminalError: card of \[REDACTED:email\] declined: /)
    expect(out.stack).toBe('')
    expect(out.metadata).toMatchObject({ customer: '[REDACTED:email]', reason: 'limit' })
    const whole = JSON.parse(await new ValueCipher(keys).decrypt(out.metadata![SEALED_ERROR_METADATA]!)) as { message: string }
    expect(whole.message).toContain('card of ada@example.com declined')
    const shown = `${out.message} ${JSON.stringify(out.metadata)}`
    expect(leaksIn(shown, secrets.forbidden)).toEqual([])
    // Met again (rethrown by a caller), it passes as it is.
    expect(await thrownBy(hooks.handler!(() => Promise.reject(out)))).toBe(out)
    await airlock.close()
    expect(await fixture.ledgerText(ledgerPath)).toMatch(/"channel":"exceptions".*"kind":"terminal"/)
  })

  it.each([
    ['type', /^TerminalError$/],
    ['fingerprint', /^TerminalError: fp1\./],
    ['encrypted', /^TerminalError$/],
  ] as const)('under exceptions.mode %s the readable message carries nothing of the original', async (mode, shape) => {
    const { airlock, secrets } = setup({ exceptions: { mode } })
    const out = (await thrownBy(hooksOf(airlock).run!('charge', () => Promise.reject(new TerminalError(`balance 93,000 EUR ${secrets.text}`))))) as TerminalError
    expect(out.message).toMatch(shape)
    expect(out.metadata?.[SEALED_ERROR_METADATA]).toMatch(/^alkv1\./)
  })

  describe('trusts an error only by identity, never by its fields', () => {
    // Shapes of an `airlock.error` an error can carry without airlock having approved it.
    const spoofs: [string, (ctx: { keys: KeyRing; other: KeyRing }) => Promise<string>][] = [
      ['a word', () => Promise.resolve('x')],
      ['an empty string', () => Promise.resolve('')],
      ['something shaped like a value token', () => Promise.resolve(`alkv1.${'A'.repeat(40)}.${'B'.repeat(22)}`)],
      ['a sealed error of another key ring', async ({ other }) => new ValueCipher(other).encrypt(JSON.stringify({ v: 1, type: 'Fine', message: 'all good' }))],
      ['a value token of this ring that holds no error', async ({ keys }) => new ValueCipher(keys).encrypt(JSON.stringify({ customer: 'ada@example.com' }))],
      ['a sealed error of this ring of another version', async ({ keys }) => new ValueCipher(keys).encrypt(JSON.stringify({ v: 2, type: 'Fine', message: 'all good' }))],
    ]

    it.each(spoofs)('approves a terminal error whose airlock.error is %s like any other error', async (_shape, make) => {
      const { airlock, keys, secrets } = setup({ exceptions: { mode: 'type' } })
      const spoofed = new TerminalError(`card of ada@example.com declined ${secrets.text}`, { errorCode: 402, metadata: { [SEALED_ERROR_METADATA]: await make({ keys, other: KeyRing.generate() }) } })
      const out = (await thrownBy(hooksOf(airlock).run!('charge', () => Promise.reject(spoofed)))) as TerminalError
      expect(out).not.toBe(spoofed)
      expect(out).toBeInstanceOf(TerminalError)
      expect(out.code).toBe(402)
      expect(out.message).toBe('TerminalError')
      expect(out.stack).toBe('')
      expect(Object.keys(out.metadata ?? {})).toEqual([SEALED_ERROR_METADATA])
      // Sealed anew, from this error: what it says, not what its metadata claimed.
      const whole = JSON.parse(await new ValueCipher(keys).decrypt(out.metadata![SEALED_ERROR_METADATA]!)) as { message: string }
      expect(whole.message).toContain('card of ada@example.com declined')
      expect(leaksIn(`${out.message} ${JSON.stringify(out.metadata)}`, [...secrets.forbidden, 'ada@example.com'])).toEqual([])
    })

    it('makes the readable fields of an error read back from the journal anew, from the original its token holds', async () => {
      const { airlock, keys, ledgerPath, secrets } = setup()
      const hooks = hooksOf(airlock)
      const first = (await thrownBy(hooks.run!('charge', () => Promise.reject(new TerminalError(`limit reached for ada@example.com ${secrets.text}`, { errorCode: 402 }))))) as TerminalError
      const token = first.metadata![SEALED_ERROR_METADATA]!
      // What Restate hands back for a failed step or call: a new TerminalError of the journal's message, code and metadata.
      const readBack = new TerminalError(first.message, { errorCode: first.code, metadata: first.metadata })
      const again = (await thrownBy(hooks.handler!(() => Promise.reject(readBack)))) as TerminalError
      expect(again).not.toBe(readBack)
      expect(again.message).toBe(first.message)
      expect(again.metadata).toEqual({ [SEALED_ERROR_METADATA]: token })
      // The same token on an error that says something else: the readable message is still the token's original's.
      const relabelled = new TerminalError(`refund to ada@example.com ${secrets.registered}`, { errorCode: 402, metadata: { [SEALED_ERROR_METADATA]: token } })
      const shown = (await thrownBy(hooks.handler!(() => Promise.reject(relabelled)))) as TerminalError
      expect(shown.message).toBe(first.message)
      expect(shown.message).not.toContain('refund')
      expect(leaksIn(shown.message, [...secrets.forbidden, 'ada@example.com'])).toEqual([])
      // Read back by a service of the same keys under a stricter policy, it shows as that policy says.
      const strict = fixture.airlock({ exceptions: { mode: 'type' } }, keys).airlock
      const typed = (await thrownBy(hooksOf(strict).run!('x', () => Promise.reject(new TerminalError(first.message, { metadata: first.metadata }))))) as TerminalError
      expect(typed.message).toBe('TerminalError')
      expect(typed.metadata).toEqual({ [SEALED_ERROR_METADATA]: token })
      await airlock.close()
      expect(await fixture.ledgerText(ledgerPath)).toMatch(/"reopened":true/)
    })

    it('lets Restate\'s own cancel and timeout errors pass only as Restate makes them', async () => {
      const { airlock, secrets } = setup({ exceptions: { mode: 'type' } })
      const hooks = hooksOf(airlock)
      const cancelled = new CancelledError()
      expect(await thrownBy(hooks.handler!(() => Promise.reject(cancelled)))).toBe(cancelled)
      const timeout = new TimeoutError()
      expect(await thrownBy(hooks.run!('t', () => Promise.reject(timeout)))).toBe(timeout)
      const relabelled = Object.assign(new CancelledError(), { message: `cancelled by ada@example.com ${secrets.text}` })
      const withMetadata = Object.assign(new TimeoutError(), { metadata: { customer: 'ada@example.com' } })
      for (const err of [relabelled, withMetadata]) {
        const out = (await thrownBy(hooks.handler!(() => Promise.reject(err)))) as TerminalError
        expect(out).not.toBe(err)
        expect(out).toBeInstanceOf(TerminalError)
        expect(out.message).toBe(err.constructor.name)
        expect(leaksIn(`${out.message} ${JSON.stringify(out.metadata)}`, [...secrets.forbidden, 'ada@example.com'])).toEqual([])
      }
    })
  })

  describe('fails closed when the policy cannot be applied to an error', () => {
    const failures: [string, (airlock: Airlock, err: Error) => void][] = [
      ['the exceptions policy rejects', (airlock, err) => vi.spyOn(airlock.outbound, 'error').mockRejectedValue(err)],
      ['the scrubber throws', (airlock, err) => vi.spyOn(airlock.scrubber, 'normalize').mockImplementation(() => { throw err })],
      ['the names rule throws', (airlock, err) => vi.spyOn(airlock.outbound, 'name').mockImplementation(() => { throw err })],
      ['a field of the error throws the error itself', (_airlock, err) => Object.defineProperty(err, err instanceof TerminalError ? 'metadata' : 'retryAfter', { get: () => { throw err } })],
    ]

    it.each(failures)('when %s, sends the class name alone, stackless, never the original', async (_what, inject) => {
      const { airlock, ledgerPath, secrets } = setup()
      const terminal = new TerminalError(`card of ada@example.com declined ${secrets.text}`, { errorCode: 402, metadata: { customer: 'ada@example.com' } })
      inject(airlock, terminal)
      const out = (await thrownBy(hooksOf(airlock).run!('charge', () => Promise.reject(terminal)))) as TerminalError
      expect(out).not.toBe(terminal)
      expect(out).toBeInstanceOf(TerminalError)
      expect(out.message).toBe('TerminalError')
      expect(out.code).toBe(402)
      expect(out.stack).toBe('')
      expect(out.metadata).toEqual({})
      const retryable = new RetryableError(`rate limited for ada@example.com ${secrets.text}`, { retryAfter: 1500 })
      inject(airlock, retryable)
      const retry = (await thrownBy(hooksOf(airlock).handler!(() => Promise.reject(retryable)))) as RetryableError
      expect(retry).not.toBe(retryable)
      expect(retry).toBeInstanceOf(RetryableError)
      expect([1500, undefined]).toContain(retry.retryAfter)
      expect([retry.message, retry.stack]).toEqual(['RetryableError', ''])
      // Met again, it is one of ours.
      expect(await thrownBy(hooksOf(airlock).handler!(() => Promise.reject(out)))).toBe(out)
      vi.restoreAllMocks()
      await airlock.close()
      const ledger = await fixture.ledgerText(ledgerPath)
      expect(leaksIn(ledger, [...secrets.forbidden, 'ada@example.com'])).toEqual([])
      expect(ledger).toMatch(/"withheld":"policy:/)
      expect(airlock.stats().withheld).toMatchObject({ exceptions: 2 })
    })
  })

  it('keeps a retryable error retryable, and any other error its prototype, with no stack and the sealed error after the message', async () => {
    const { airlock, secrets } = setup()
    const hooks = hooksOf(airlock)
    const retry = (await thrownBy(hooks.run!('fetch', () => Promise.reject(new RetryableError(`rate limited ${secrets.text}`, { retryAfter: 1500 }))))) as RetryableError
    expect(retry).toBeInstanceOf(RetryableError)
    expect(retry.retryAfter).toBe(1500)
    expect(retry.stack).toBe('')
    // The scrubbed message (the canary text spans lines: a netrc), then the sealed whole error at the very end.
    expect(retry.message).toMatch(/^RetryableError: rate limited .* \[alkv1\.[A-Za-z0-9_.-]+\]$/s)
    expect(leaksIn(retry.message, secrets.forbidden)).toEqual([])
    class DbError extends Error {}
    const db = await thrownBy(hooks.handler!(() => Promise.reject(new DbError(`connect to pg://app:${secrets.registered}@db failed`))))
    expect(db).toBeInstanceOf(DbError)
    expect(db.stack).toBe('')
    expect(leaksIn(`${db.message}`, secrets.forbidden)).toEqual([])
    const cancelled = new CancelledError()
    expect(await thrownBy(hooks.handler!(() => Promise.reject(cancelled)))).toBe(cancelled)
  })

  it('sends the type alone when the ledger cannot record, and fails a handler whose values were not all recorded', async () => {
    const { airlock, secrets } = setup()
    const hooks = hooksOf(airlock)
    pendingFor(airlock).track(Promise.reject(new Error('disk full')))
    const unrecorded = await thrownBy(hooks.handler!(() => Promise.resolve()))
    expect(unrecorded).toBeInstanceOf(RetryableError)
    expect(unrecorded.message).toMatch(/could not record or store a journal value/)
    await airlock.close()
    const out = (await thrownBy(hooksOf(airlock).run!('x', () => Promise.reject(new TerminalError(`no ${secrets.text}`))))) as TerminalError
    expect(out.message).toBe('TerminalError')
    expect(out.metadata).toEqual({})
  })
})
