import { ApplicationFailure, defaultPayloadConverter, type LoadedDataConverter, type Payload } from '@temporalio/common'
import {
  decodeFromPayloadsAtIndex,
  decodeMapFromPayloads,
  decodeOptionalFailureToOptionalError,
  encodeErrorToFailure,
  encodeMapToPayloads,
  encodeToPayload,
  encodeToPayloads,
  loadDataConverter,
} from '@temporalio/common/lib/internal-non-workflow/index.js'
import { temporal } from '@temporalio/proto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { approveFailure } from '../../../src/adapters/temporal/activity-failure-interceptor.js'
import { airlockDataConverter, FAILURE_CONVERTER_PATH, FAILURE_CONVERTER_PATH_CLEAR_TYPES } from '../../../src/adapters/temporal/airlock-data-converter.js'
import { WITHHELD_FAILURE_TYPE } from '../../../src/adapters/temporal/failure-converter.js'
import { AIRLOCK_ENCODING, AirlockPayloadCodec } from '../../../src/adapters/temporal/airlock-payload-codec.js'
import { scanLedger } from '../../../src/audit/scan-ledger.js'
import { KeyRing } from '../../../src/crypto/key-ring.js'
import type { LedgerEventEntry } from '../../../src/audit/ledger-entry.js'
import type { PolicyInput } from '../../../src/policy/policy-input.js'
import type { Airlock } from '../../../src/runtime/airlock.js'
import { EngineFixture, leaksIn, plantSecrets } from '../../support/engine-fixture.js'
import { requireTypeScriptInThisFile } from '../../support/ts-require.js'

requireTypeScriptInThisFile()

let fixture: EngineFixture
beforeEach(async () => {
  fixture = await EngineFixture.create('temporal-codec')
})
afterEach(async () => {
  await fixture.close()
})

function wireBytes(payloads: readonly Payload[]): Buffer {
  return Buffer.concat(payloads.map((p) => temporal.api.common.v1.Payload.encode(p).finish()))
}

function failureBytes(failure: temporal.api.failure.v1.IFailure): Buffer {
  return Buffer.from(temporal.api.failure.v1.Failure.encode(failure).finish())
}

async function engineEntries(ledgerPath: string): Promise<LedgerEventEntry[]> {
  const text = await fixture.ledgerText(ledgerPath)
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LedgerEventEntry)
    .filter((e) => e.kind === 'event' && (e.event as { kind?: string }).kind === 'engine')
}

function converterFor(policy: PolicyInput = {}) {
  const { airlock, ledgerPath, keys } = fixture.airlock(policy)
  const secrets = plantSecrets(airlock)
  const converter: LoadedDataConverter = loadDataConverter(airlockDataConverter({ airlock }))
  return { airlock, ledgerPath, keys, secrets, converter }
}

describe('AirlockPayloadCodec through Temporal\'s own converter pipeline', () => {
  it('seals workflow inputs, activity results, memo and heartbeat details: no canary on the wire, equal values back, one ledger entry per payload', async () => {
    const { airlock, ledgerPath, secrets, converter } = converterFor()
    const input = { order: 42, note: secrets.text, nested: { list: [secrets.registered, 'plain'] } }
    const inputs = (await encodeToPayloads(converter, input, 'second argument'))!
    const result = await encodeToPayload(converter, { rows: 7, owner: secrets.text })
    const memo = await encodeMapToPayloads(converter, { customer: secrets.text, tier: 'gold' })
    const heartbeat = (await encodeToPayloads(converter, { progress: 0.5, cursor: secrets.text }))!

    const sent = [...inputs, result, ...Object.values(memo), ...heartbeat]
    expect(sent).toHaveLength(6)
    for (const payload of sent) expect(new TextDecoder().decode(payload.metadata!.encoding)).toBe(AIRLOCK_ENCODING)
    expect(leaksIn(wireBytes(sent), secrets.forbidden)).toEqual([])

    expect(await decodeFromPayloadsAtIndex(converter, 0, inputs)).toEqual(input)
    expect(await decodeFromPayloadsAtIndex(converter, 1, inputs)).toBe('second argument')
    expect(await decodeFromPayloadsAtIndex(converter, 0, [result])).toEqual({ rows: 7, owner: secrets.text })
    expect(await decodeMapFromPayloads(converter, memo)).toEqual({ customer: secrets.text, tier: 'gold' })
    expect(await decodeFromPayloadsAtIndex(converter, 0, heartbeat)).toEqual({ progress: 0.5, cursor: secrets.text })

    await airlock.close()
    const entries = await engineEntries(ledgerPath)
    expect(entries).toHaveLength(6)
    for (const entry of entries) {
      expect(entry.channel).toBe('payloads')
      expect(entry.event).toMatchObject({ engine: 'temporal', sent: { name: 'temporal:json/plain', action: 'encrypt', kid: expect.any(String) } })
      expect(entry.transforms).toEqual([{ path: '$', rule: 'payloads.default', action: 'encrypt' }])
    }
    expect(leaksIn(await fixture.ledgerText(ledgerPath), secrets.forbidden)).toEqual([])
    const scan = await scanLedger(ledgerPath, { canaries: secrets.canaries.map((c) => ({ secret: c.secret, kind: c.kind })), registered: [secrets.registered] })
    expect(scan.findings).toEqual([])
  })

  it('ledgers concurrent encodes with shared syncs: the ledger\'s group commit, not one fsync per payload', async () => {
    const { airlock, secrets } = converterFor()
    const codec = new AirlockPayloadCodec({ airlock })
    const before = airlock.stats().ledger
    const encoded = await Promise.all(Array.from({ length: 40 }, (_, i) => codec.encode([defaultPayloadConverter.toPayload({ i, note: secrets.text })])))
    expect(encoded.flat()).toHaveLength(40)
    const { entries, commits } = airlock.stats().ledger
    // Every payload's entry is durable once its encode resolved (write-ahead)...
    expect(entries - before.entries).toBe(40)
    // ...and encodes in flight together shared their syncs.
    expect(commits - before.commits).toBeLessThan(entries - before.entries)
  })

  it('keeps a failure\'s messages and stacks, causes included, sealed; the readable message is what exceptions.mode allows', async () => {
    const { airlock, ledgerPath, secrets, converter } = converterFor({ exceptions: { mode: 'scrubbed' } })
    const root = new TypeError(`connection to ${secrets.text} refused`)
    const err = ApplicationFailure.create({ message: `charge failed for ada@example.com: ${secrets.text}`, type: 'CardDeclined', cause: root, details: [{ card: secrets.text }] })

    const approved = await approveFailure(airlock, err)
    const failure = await encodeErrorToFailure(converter, approved)
    const bytes = failureBytes(failure)
    expect(leaksIn(bytes, secrets.forbidden)).toEqual([])
    expect(bytes.includes('ada@example.com')).toBe(false)
    expect(failure.message).toMatch(/^charge failed for \[REDACTED:email\]: /)
    expect(failure.stackTrace).toBe('')
    expect(failure.applicationFailureInfo?.type).toBe('CardDeclined')
    expect(failure.cause?.message).toMatch(/^connection to /)
    expect(failure.cause?.stackTrace).toBe('')

    const decoded = (await decodeOptionalFailureToOptionalError(converter, failure)) as ApplicationFailure
    expect(decoded).toBeInstanceOf(ApplicationFailure)
    expect(decoded.message).toBe(err.message)
    expect(decoded.stack).toContain('charge failed')
    expect(decoded.details).toEqual([{ card: secrets.text }])
    expect((decoded.cause as Error).message).toBe(root.message)

    // Thrown again (a workflow failing with the activity's failure), it goes out as history holds it.
    const again = await encodeErrorToFailure(converter, decoded)
    expect(again.message).toBe(failure.message)
    expect(leaksIn(failureBytes(again), secrets.forbidden)).toEqual([])

    await airlock.close()
    const exceptions = (await fixture.ledgerText(ledgerPath)).trim().split('\n').map((l) => JSON.parse(l) as LedgerEventEntry)
    const record = exceptions.find((e) => e.channel === 'exceptions')
    expect(record?.event).toMatchObject({ engine: 'temporal', sent: { kind: 'activity-failure', failures: [{ type: 'CardDeclined' }, {}] } })
    expect(leaksIn(await fixture.ledgerText(ledgerPath), secrets.forbidden)).toEqual([])
    const failureEntries = exceptions.filter((e) => (e.event as { sent?: { name?: string } }).sent?.name === 'temporal:failure')
    expect(failureEntries.length).toBe(4) // two levels, encoded twice (first written, then thrown again)
    expect(failureEntries.every((e) => e.transforms[0]?.rule === 'exceptions.encoded-attributes')).toBe(true)
  })

  it.each([
    ['type', (m: string | null | undefined) => expect(m).toBe('')],
    ['fingerprint', (m: string | null | undefined) => expect(m).toMatch(/^fp1\./)],
    ['encrypted', (m: string | null | undefined) => expect(m).toBe('')],
  ] as const)('under exceptions.mode %s the readable message carries nothing of the original', async (mode, check) => {
    const { airlock, secrets, converter } = converterFor({ exceptions: { mode } })
    const err = new Error(`balance 93,000 EUR for ${secrets.text}`)
    const failure = await encodeErrorToFailure(converter, await approveFailure(airlock, err))
    check(failure.message)
    expect(leaksIn(failureBytes(failure), secrets.forbidden)).toEqual([])
    expect(failureBytes(failure).includes('93,000')).toBe(false)
    const decoded = await decodeOptionalFailureToOptionalError(converter, failure)
    expect(decoded?.message).toBe(err.message)
  })

  it('hashes application failure type names under states.names: hash', async () => {
    const { airlock, converter } = converterFor({ states: { names: 'hash' } })
    const failure = await encodeErrorToFailure(converter, await approveFailure(airlock, ApplicationFailure.create({ message: 'x', type: 'AcmeMergerPending' })))
    expect(failure.applicationFailureInfo?.type).toBe(airlock.outbound.fingerprint('AcmeMergerPending'))
  })

  it('withholds an application failure type thrown in workflow code under states.names: hash (the sandbox cannot fingerprint it), at every level', async () => {
    const { airlock, converter } = converterFor({ states: { names: 'hash' } })
    // What the sandbox's converter gets from workflow code: nothing approved it.
    const thrown = ApplicationFailure.create({ message: 'merger pending', type: 'AcmeMergerPending', cause: ApplicationFailure.create({ message: 'ledger', type: 'AcmeLedgerLocked' }) })
    const failure = await encodeErrorToFailure(converter, thrown)
    expect(failure.applicationFailureInfo?.type).toBe(WITHHELD_FAILURE_TYPE)
    expect(failure.cause?.applicationFailureInfo?.type).toBe(WITHHELD_FAILURE_TYPE)
    expect(failureBytes(failure).includes('Acme')).toBe(false)
    // An activity's, approved by the interceptor, is fingerprinted as before; a failure with no type has nothing to withhold.
    const approved = await encodeErrorToFailure(converter, await approveFailure(airlock, ApplicationFailure.create({ message: 'x', type: 'AcmeMergerPending' })))
    expect(approved.applicationFailureInfo?.type).toBe(airlock.outbound.fingerprint('AcmeMergerPending'))
    expect((await encodeErrorToFailure(converter, ApplicationFailure.create({ message: 'x' }))).applicationFailureInfo?.type ?? '').toBe('')
    // The converter that withholds is the one Temporal loads (in the sandbox too) from the path airlockDataConverter gives.
    expect(airlockDataConverter({ airlock }).failureConverterPath).toBe(FAILURE_CONVERTER_PATH)
  })

  it('keeps an application failure type thrown in workflow code as thrown when names pass (states.names: allow)', async () => {
    const { airlock, converter } = converterFor({ states: { names: 'allow' } })
    const failure = await encodeErrorToFailure(converter, ApplicationFailure.create({ message: 'merger pending', type: 'AcmeMergerPending' }))
    expect(failure.applicationFailureInfo?.type).toBe('AcmeMergerPending')
    expect(failure.message).toBe('')
    expect(airlockDataConverter({ airlock }).failureConverterPath).toBe(FAILURE_CONVERTER_PATH_CLEAR_TYPES)
  })

  describe('fails closed when the policy cannot be applied to an activity error', () => {
    const failures: [string, (airlock: Airlock, err: Error) => void][] = [
      ['the exceptions policy rejects', (airlock, err) => vi.spyOn(airlock.outbound, 'error').mockRejectedValue(err)],
      ['the scrubber throws', (airlock, err) => vi.spyOn(airlock.scrubber, 'normalize').mockImplementation(() => { throw err })],
      ['the names rule throws', (airlock, err) => vi.spyOn(airlock.outbound, 'name').mockImplementation(() => { throw err })],
    ]

    it.each(failures)('when %s: no readable message, the type withheld, ledgered as withheld; never a rejection', async (_what, inject) => {
      const { airlock, ledgerPath, secrets, converter } = converterFor({ preset: 'permissive' })
      const err = ApplicationFailure.create({ message: `card of ada@example.com declined ${secrets.text}`, type: 'CardDeclined', cause: new Error(`pg ${secrets.text}`) })
      inject(airlock, err)
      const approved = await approveFailure(airlock, err)
      vi.restoreAllMocks()
      const failure = await encodeErrorToFailure(converter, approved)
      expect(failure.message).toBe('')
      expect(failure.stackTrace).toBe('')
      expect(failure.applicationFailureInfo?.type).toBe(WITHHELD_FAILURE_TYPE)
      expect(failure.cause?.message).toBe('')
      const bytes = failureBytes(failure)
      expect(leaksIn(bytes, secrets.forbidden)).toEqual([])
      expect(bytes.includes('ada@example.com')).toBe(false)
      expect(bytes.includes('CardDeclined')).toBe(false)
      // Key holders still read the whole error.
      expect((await decodeOptionalFailureToOptionalError(converter, failure))?.message).toBe(err.message)
      await airlock.close()
      expect(await fixture.ledgerText(ledgerPath)).toMatch(/"withheld":"policy:/)
      expect(airlock.stats().withheld).toMatchObject({ exceptions: 1 })
    })

    it('when the thrown value cannot even be read, a failure of the withheld type alone goes instead', async () => {
      const { airlock, converter, secrets } = converterFor()
      const unreadable = { get message(): string { throw new Error(secrets.text) } }
      const failure = await encodeErrorToFailure(converter, await approveFailure(airlock, unreadable))
      expect([failure.message, failure.applicationFailureInfo?.type]).toEqual(['', WITHHELD_FAILURE_TYPE])
      expect(leaksIn(failureBytes(failure), secrets.forbidden)).toEqual([])
    })
  })

  it('keeps no readable message for an error nobody approved (thrown in workflow code, in the sandbox)', async () => {
    const { secrets, converter } = converterFor({ preset: 'permissive' })
    const failure = await encodeErrorToFailure(converter, new Error(`boom ${secrets.text}`))
    expect(failure.message).toBe('')
    expect(leaksIn(failureBytes(failure), secrets.forbidden)).toEqual([])
  })
})

describe('AirlockPayloadCodec decode', () => {
  async function sealedPayload() {
    const { airlock, keys, ledgerPath } = fixture.airlock()
    const codec = new AirlockPayloadCodec({ airlock })
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload({ a: 1 })])
    return { codec, sealed: sealed!, keys, airlock, ledgerPath }
  }

  it('raises ERR_PAYLOAD_TAMPERED for a modified byte, a cut, or metadata that lies about the format', async () => {
    const { codec, sealed } = await sealedPayload()
    const flipped = Buffer.from(sealed.data!)
    flipped[flipped.length - 3]! ^= 1
    await expect(codec.decode([{ ...sealed, data: flipped }])).rejects.toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
    await expect(codec.decode([{ ...sealed, data: sealed.data!.subarray(0, sealed.data!.length - 20) }])).rejects.toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
    const lying = { ...sealed, metadata: { ...sealed.metadata, 'airlock-format': new TextEncoder().encode('alko1') } }
    await expect(codec.decode([lying])).rejects.toMatchObject({ code: 'ERR_PAYLOAD_FORMAT' })
    await expect(codec.decode([{ ...sealed, data: new TextEncoder().encode('{"a":1}') }])).rejects.toMatchObject({ code: 'ERR_PAYLOAD_FORMAT' })
  })

  it('raises ERR_UNKNOWN_KID for a payload of another Airlock\'s keys, and opens old payloads after a rotation', async () => {
    const { sealed, keys } = await sealedPayload()
    const { airlock: stranger } = fixture.airlock()
    await expect(new AirlockPayloadCodec({ airlock: stranger }).decode([sealed])).rejects.toMatchObject({ code: 'ERR_UNKNOWN_KID' })
    const rotated = KeyRing.fromJSON(keys.export())
    rotated.rotate()
    const { airlock: later } = fixture.airlock({}, rotated)
    const [opened] = await new AirlockPayloadCodec({ airlock: later }).decode([sealed])
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual({ a: 1 })
    const [resealed] = await new AirlockPayloadCodec({ airlock: later }).encode([opened!])
    expect(new TextDecoder().decode(resealed!.metadata!['airlock-kid'])).toBe(rotated.activeKid)
  })

  it('passes a payload airlock never encoded as it is, unless told to refuse it', async () => {
    const { codec, airlock } = await sealedPayload()
    const plain = defaultPayloadConverter.toPayload({ written: 'before airlock' })
    expect(await codec.decode([plain])).toEqual([plain])
    await expect(new AirlockPayloadCodec({ airlock, unsealed: 'refuse' }).decode([plain])).rejects.toMatchObject({ code: 'ERR_PAYLOAD_FORMAT' })
  })

  it('refuses unknown options and a bad unsealed setting when built', () => {
    const { airlock } = fixture.airlock()
    expect(() => new AirlockPayloadCodec({ airlock, ofload: 1 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new AirlockPayloadCodec({ airlock, unsealed: 'maybe' } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new AirlockPayloadCodec({ airlock: {} } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('clear payloads', () => {
  it('pass as they are only by rule, ledgered byte for byte; one holding a registered secret is encrypted instead', async () => {
    const { airlock, ledgerPath } = fixture.airlock({ payloads: { rules: { 'temporal:binary/*': 'clear', 'temporal:json/plain': 'clear' } } })
    const secret = 'Zq8-registered-Kp2x-long'
    airlock.scrubber.register(secret)
    const codec = new AirlockPayloadCodec({ airlock })
    const nothing = defaultPayloadConverter.toPayload(undefined)
    const harmless = defaultPayloadConverter.toPayload({ region: 'eu-west-1' })
    const holding = defaultPayloadConverter.toPayload({ dsn: `pg://app:${secret}@db` })
    const [a, b, c] = await codec.encode([nothing, harmless, holding])
    expect(a).toBe(nothing)
    expect(b).toBe(harmless)
    expect(new TextDecoder().decode(c!.metadata!.encoding)).toBe(AIRLOCK_ENCODING)
    expect(leaksIn(wireBytes([c!]), [secret])).toEqual([])
    await airlock.close()
    const entries = await engineEntries(ledgerPath)
    expect(entries.map((e) => [(e.event as { sent: { action: string } }).sent.action, e.transforms[0]?.rule])).toEqual([
      ['clear', 'payloads.rules.temporal:binary/*'],
      ['clear', 'payloads.rules.temporal:json/plain'],
      ['encrypt', 'registered-secret'],
    ])
    expect((entries[1]!.event as { sent: unknown }).sent).toMatchObject({
      data: { encoding: 'utf8', text: '{"region":"eu-west-1"}' },
      metadata: { encoding: { encoding: 'utf8', text: 'json/plain' } },
    })
    expect(leaksIn(await fixture.ledgerText(ledgerPath), [secret])).toEqual([])
  })
})

it.each([FAILURE_CONVERTER_PATH, FAILURE_CONVERTER_PATH_CLEAR_TYPES])('%s names a module Temporal can load', (path) => {
  const loaded = loadDataConverter({ failureConverterPath: path })
  expect(loaded.failureConverter.constructor.name).toBe('AirlockFailureConverter')
})
