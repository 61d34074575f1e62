// Write-only Restate services (issue 17, part 1): the journal codec of an
// Airlock that holds only the public half of a sealing key seals journal
// values it cannot open again; the private key set opens them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AirlockJournalCodec } from '../../../src/adapters/restate/airlock-journal-codec.js'
import { pendingFor } from '../../../src/adapters/restate/restate-payloads.js'
import { KeyRing } from '../../../src/crypto/key-ring.js'
import { SealingKeyPublicOnlyError } from '../../../src/errors.js'
import { EngineFixture, leaksIn, plantSecrets } from '../../support/engine-fixture.js'

let fixture: EngineFixture
beforeEach(async () => {
  fixture = await EngineFixture.create('write-only-restate')
})
afterEach(async () => {
  await fixture.close()
})

describe('AirlockJournalCodec on a write-only service', () => {
  it('seals journal values synchronously to the public key; only the private key set decodes them', async () => {
    const auditor = KeyRing.generateSealing()
    const worker = auditor.toPublic()
    const { airlock } = fixture.airlock({}, worker)
    const secrets = plantSecrets(airlock)
    const codec = await AirlockJournalCodec.create({ airlock })
    const value = new TextEncoder().encode(JSON.stringify({ note: secrets.text }))
    const frame = codec.encode(value)
    expect(leaksIn(frame, secrets.forbidden)).toEqual([])
    expect(frame[4]).toBe(2)
    // A journal replay on this service would decode: it cannot.
    await expect(codec.decode(frame)).rejects.toBeInstanceOf(SealingKeyPublicOnlyError)
    await pendingFor(airlock).settled()

    const { airlock: auditorAirlock } = fixture.airlock({}, auditor)
    const opened = await (await AirlockJournalCodec.create({ airlock: auditorAirlock })).decode(frame)
    expect(new TextDecoder().decode(opened)).toBe(new TextDecoder().decode(value))
  })
})
