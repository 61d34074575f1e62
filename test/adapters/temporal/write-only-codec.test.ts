// Write-only Temporal workers (issue 17, part 1): a codec whose Airlock holds
// only the public half of a sealing key encodes, and cannot decode, not even
// its own payloads. The codec server, given the private key set, decodes
// them; given the worker's key set, it refuses to start.
import { defaultPayloadConverter, type Payload } from '@temporalio/common'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AirlockPayloadCodec } from '../../../src/adapters/temporal/airlock-payload-codec.js'
import { CodecServerTokens } from '../../../src/adapters/temporal/codec-server-tokens.js'
import { mountCodecServer } from '../../../src/adapters/temporal/mount-codec-server.js'
import { KeyRing } from '../../../src/crypto/key-ring.js'
import { SealingKeyPublicOnlyError } from '../../../src/errors.js'
import { EngineFixture, leaksIn, plantSecrets } from '../../support/engine-fixture.js'

const TOKEN = `tok-${randomBytes(24).toString('base64url')}`

let fixture: EngineFixture
beforeEach(async () => {
  fixture = await EngineFixture.create('write-only-temporal')
})
afterEach(async () => {
  await fixture.close()
})

function json(payloads: readonly Payload[]) {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      data: Buffer.from(p.data ?? []).toString('base64'),
    })),
  }
}

describe('AirlockPayloadCodec on a write-only worker', () => {
  it('encodes payloads sealed to the public key; decodes them only with the private key set (the codec server)', async () => {
    const auditor = KeyRing.generateSealing()
    const worker = auditor.toPublic()
    const { airlock } = fixture.airlock({}, worker)
    const secrets = plantSecrets(airlock)
    const codec = new AirlockPayloadCodec({ airlock })
    const value = { customer: secrets.text }
    const [sealed] = (await codec.encode([defaultPayloadConverter.toPayload(value)])) as [Payload]
    expect(leaksIn(sealed.data!, secrets.forbidden)).toEqual([])
    expect(sealed.data![4]).toBe(2)

    // The worker's own codec cannot decode what it encoded: replaying its own history needs the private key.
    await expect(codec.decode([sealed])).rejects.toBeInstanceOf(SealingKeyPublicOnlyError)

    const { airlock: auditorAirlock } = fixture.airlock({}, auditor)
    const [opened] = await new AirlockPayloadCodec({ airlock: auditorAirlock }).decode([sealed])
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(value)

    const own: Server = createServer((_request, response) => response.writeHead(404).end())
    const tokens = new CodecServerTokens([{ subject: 'ui', token: TOKEN }])
    await expect(mountCodecServer(own, { basePath: '/codec', keys: worker, tokens, ledger: { path: join(fixture.dir, 'refused.ndjson') } })).rejects.toThrow(
      SealingKeyPublicOnlyError,
    )
    const handler = await mountCodecServer(own, { basePath: '/codec', keys: auditor, tokens, ledger: { path: join(fixture.dir, 'codec.ndjson') } })
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve))
    try {
      const base = `http://127.0.0.1:${(own.address() as AddressInfo).port}`
      const response = await fetch(`${base}/codec/decode`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(json([sealed])) })
      expect(response.status).toBe(200)
      const body = (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }
      const payload = body.payloads[0]!
      const decoded = {
        metadata: Object.fromEntries(Object.entries(payload.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
        data: new Uint8Array(Buffer.from(payload.data, 'base64')),
      }
      expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(value)
    } finally {
      await new Promise((resolve) => own.close(resolve))
      await handler.close()
    }
  })
})
