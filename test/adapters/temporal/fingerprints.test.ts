import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fingerprintSearchAttributes } from '../../../src/adapters/temporal/fingerprint-search-attributes.js'
import { fingerprintWorkflowId } from '../../../src/adapters/temporal/fingerprint-workflow-id.js'
import { Fingerprinter } from '../../../src/crypto/fingerprinter.js'
import { scanLedger } from '../../../src/audit/scan-ledger.js'
import { EngineFixture, leaksIn, plantSecrets } from '../../support/engine-fixture.js'

let fixture: EngineFixture
beforeEach(async () => {
  fixture = await EngineFixture.create('temporal-fp')
})
afterEach(async () => {
  await fixture.close()
})

describe('searchable but unreadable', () => {
  it('turns search attribute values into keyed fingerprints the service can match by equality, ledgered under parameters', async () => {
    const { airlock, keys, ledgerPath } = fixture.airlock()
    const secrets = plantSecrets(airlock)
    const email = 'ada.lovelace@example.com'
    const attributes = await fingerprintSearchAttributes(airlock, { CustomerEmail: email, Tags: ['vip', secrets.registered] })
    const fp = new Fingerprinter(keys)
    expect(attributes.get(defineSearchAttributeKey('CustomerEmail', SearchAttributeType.KEYWORD))).toBe(fp.fingerprint(email))
    expect(attributes.get(defineSearchAttributeKey('Tags', SearchAttributeType.KEYWORD_LIST))).toEqual([fp.fingerprint('vip'), fp.fingerprint(secrets.registered)])
    // Equal values, equal fingerprints: the UI filters by equality.
    const again = await fingerprintSearchAttributes(airlock, { CustomerEmail: email })
    expect(again.get(defineSearchAttributeKey('CustomerEmail', SearchAttributeType.KEYWORD))).toBe(airlock.outbound.fingerprint(email))

    await airlock.close()
    const ledger = await fixture.ledgerText(ledgerPath)
    expect(ledger).not.toContain(email)
    expect(leaksIn(ledger, secrets.forbidden)).toEqual([])
    expect(ledger).toContain('"channel":"parameters"')
    expect(ledger).toContain('"rule":"temporal.searchAttributes"')
    expect((await scanLedger(ledgerPath, { registered: [secrets.registered] })).findings).toEqual([])
  })

  it('refuses names Temporal would refuse and values that are not strings', async () => {
    const { airlock } = fixture.airlock()
    await expect(fingerprintSearchAttributes(airlock, { 'bad name': 'x' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(fingerprintSearchAttributes(airlock, { Amount: 42 as unknown as string })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })

  it('builds workflow ids from fingerprinted parts, the same for the same values, and ledgers them', async () => {
    const { airlock, ledgerPath } = fixture.airlock()
    const id = await fingerprintWorkflowId(airlock, 'invoice-{customer}-{month}', { customer: 'cus_8842', month: '2026-11' })
    expect(id).toBe(`invoice-${airlock.outbound.fingerprint('cus_8842')}-${airlock.outbound.fingerprint('2026-11')}`)
    expect(await fingerprintWorkflowId(airlock, 'invoice-{customer}-{month}', { month: '2026-11', customer: 'cus_8842' })).toBe(id)
    await expect(fingerprintWorkflowId(airlock, 'invoice-{customer}', {})).rejects.toThrow(/uses \{customer\}/)
    await expect(fingerprintWorkflowId(airlock, 'invoice-{customer}', { customer: 'a', extra: 'b' })).rejects.toThrow(/does not use/)
    await expect(fingerprintWorkflowId(airlock, 'invoice-ada@example.com-{x}', { x: 'a' })).rejects.toThrow(/pass it as a \{value\}/)
    await airlock.close()
    const ledger = await fixture.ledgerText(ledgerPath)
    expect(ledger).not.toContain('cus_8842')
    expect(ledger).toContain('"rule":"temporal.workflowId"')
  })
})
