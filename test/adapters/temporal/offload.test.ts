import { S3Client, type S3ClientConfig, ListObjectsV2Command, DeleteObjectCommand } from '@aws-sdk/client-s3'
import { ExternalStorage, defaultPayloadConverter, type Payload } from '@temporalio/common'
import { decodeFromPayloadsAtIndex, encodeToPayloads, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js'
import { temporal } from '@temporalio/proto'
import { randomBytes, randomUUID } from 'node:crypto'
import { readdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest'
import { airlockPayloadHost, EnginePayloads } from '../../../src/adapters/shared/engine-payloads.js'
import { airlockDataConverter } from '../../../src/adapters/temporal/airlock-data-converter.js'
import { AirlockPayloadCodec } from '../../../src/adapters/temporal/airlock-payload-codec.js'
import { AirlockStorageDriver } from '../../../src/adapters/temporal/airlock-storage-driver.js'
import { LocationCipher } from '../../../src/crypto/location-cipher.js'
import { LocalResult } from '../../../src/results/local-result.js'
import { S3Result } from '../../../src/results/s3-result.js'
import { EngineFixture, leaksIn, plantSecrets } from '../../support/engine-fixture.js'
import { S3RVER_CREDENTIALS } from '../../support/s3-server.js'
import { requireTypeScriptInThisFile } from '../../support/ts-require.js'

requireTypeScriptInThisFile()

let fixture: EngineFixture
beforeEach(async () => {
  fixture = await EngineFixture.create('temporal-offload')
})
afterEach(async () => {
  await fixture.close()
})

const OFFLOAD_ABOVE = 4096
const decoder = new TextDecoder()

function localOffload() {
  const dir = join(fixture.dir, 'offload')
  return { dir, result: new LocalResult({ dir, location: '{engine}/{today}/{randomId}.alkc' }) }
}

async function storedFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

function wire(payloads: readonly Payload[]): Buffer {
  return Buffer.concat(payloads.map((p) => temporal.api.common.v1.Payload.encode(p).finish()))
}

describe('AirlockPayloadCodec offload', () => {
  it('writes a payload over offloadAbove to a LocalResult, leaving only an encrypted, bound location token in history', async () => {
    const { airlock, ledgerPath } = fixture.airlock({ payloads: { offloadAbove: OFFLOAD_ABOVE } })
    const secrets = plantSecrets(airlock)
    const { dir, result } = localOffload()
    const converter = loadDataConverter(airlockDataConverter({ airlock, offload: result }))
    const big = { rows: Array.from({ length: 200 }, (_, i) => ({ i, note: secrets.text })) }
    const small = { note: 'small' }
    const encoded = (await encodeToPayloads(converter, big, small))!

    expect(decoder.decode(encoded[0]!.metadata!['airlock-format'])).toBe('alko1')
    expect(decoder.decode(encoded[1]!.metadata!['airlock-format'])).toBe('alkc1')
    const reference = Buffer.from(encoded[0]!.data!)
    expect(reference.subarray(0, 5).toString('latin1')).toBe('ALKO\u0001')
    expect(LocationCipher.isToken(reference.subarray(5).toString('utf8'))).toBe(true)
    expect(reference.length).toBeLessThan(600)
    // Neither the values nor where they went: no canary, no directory, no file name.
    const files = await storedFiles(dir)
    expect(files).toHaveLength(1)
    const historyText = wire(encoded).toString('latin1')
    expect(leaksIn(wire(encoded), secrets.forbidden)).toEqual([])
    expect(historyText).not.toContain(files[0]!.slice(dir.length + 1))
    expect(historyText).not.toContain('temporal/')
    // The stored object is sealed too.
    expect(leaksIn(await readFile(files[0]!), secrets.forbidden)).toEqual([])

    expect(await decodeFromPayloadsAtIndex(converter, 0, encoded)).toEqual(big)
    expect(await decodeFromPayloadsAtIndex(converter, 1, encoded)).toEqual(small)

    await airlock.close()
    const sent = (await fixture.ledgerText(ledgerPath))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: { sent?: { action?: string } }; transforms?: { rule: string }[] })
      .filter((e) => e.event?.sent !== undefined)
    // One encode call: each payload's record lands once it is made (an offload waits for storage), in no set order.
    expect(sent.map((e) => [e.event!.sent!.action, e.transforms![0]!.rule]).sort()).toEqual([
      ['encrypt', 'payloads.default'],
      ['offload', 'payloads.offloadAbove'],
    ])
  })

  it('offloads by rule whatever the size, and encrypts inline (never clear) when a rule says offload but no Result is set', async () => {
    const policy = { payloads: { rules: { 'temporal:json/plain': 'offload' as const } } }
    const { airlock } = fixture.airlock(policy)
    const { result } = localOffload()
    const [offloaded] = await new AirlockPayloadCodec({ airlock, offload: result }).encode([defaultPayloadConverter.toPayload('tiny')])
    expect(decoder.decode(offloaded!.metadata!['airlock-format'])).toBe('alko1')
    const [inline] = await new AirlockPayloadCodec({ airlock }).encode([defaultPayloadConverter.toPayload('tiny')])
    expect(decoder.decode(inline!.metadata!['airlock-format'])).toBe('alkc1')
  })

  it('fails with typed errors when the object is missing, moved, or the token is moved to another binding', async () => {
    const { airlock, keys } = fixture.airlock({ payloads: { offloadAbove: 16 } })
    const { dir, result } = localOffload()
    const codec = new AirlockPayloadCodec({ airlock, offload: result })
    const [first, second] = await codec.encode([defaultPayloadConverter.toPayload('a'.repeat(64)), defaultPayloadConverter.toPayload('b'.repeat(64))])
    const [fileA, fileB] = (await storedFiles(dir)).sort()

    // An object swapped for another (both sealed by us): bound to its location, it does not open.
    const kept = await readFile(fileA!)
    await copyFile(fileB!, fileA!)
    const swapped = await Promise.allSettled([codec.decode([first!]), codec.decode([second!])])
    expect(swapped.map((s) => (s.status === 'rejected' ? (s.reason as { code: string }).code : 'opened')).sort()).toEqual(['ERR_PAYLOAD_TAMPERED', 'opened'])
    await writeFile(fileA!, kept)

    // A task's result location token, from the same keys, pasted into history: bound to something else.
    const taskLocation = await new LocalResult({ dir, locationCipher: keys }).write({ other: 'data' }, {})
    const pasted = { ...first!, data: Buffer.concat([Buffer.from('ALKO\u0001', 'latin1'), Buffer.from(taskLocation.location)]) }
    await expect(codec.decode([pasted])).rejects.toMatchObject({ code: 'ERR_TOKEN_BINDING' })

    // A Restate offload reference, same keys and store: bound to restate:journal, not to Temporal payloads.
    const restateFrame = await new EnginePayloads({ host: airlockPayloadHost(airlock), engine: 'restate', offload: result }).offload(Buffer.from('x'), 'restate:journal')
    await expect(codec.decode([{ ...first!, data: restateFrame }])).rejects.toMatchObject({ code: 'ERR_TOKEN_BINDING' })

    // A token whose bytes were changed.
    const bent = Buffer.from(first!.data!)
    bent[bent.length - 5] = bent[bent.length - 5] === 0x41 ? 0x42 : 0x41
    await expect(codec.decode([{ ...first!, data: bent }])).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' })

    // The object is gone.
    await rm(fileA!)
    const outcomes = await Promise.allSettled([codec.decode([first!]), codec.decode([second!])])
    expect(outcomes.some((o) => o.status === 'rejected' && (o.reason as { code: string }).code === 'ERR_RESULT_NOT_FOUND')).toBe(true)

    // Without the offload Result, an offloaded payload is refused, not passed through.
    await expect(new AirlockPayloadCodec({ airlock }).decode([second!])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })

  it('refuses an offload Result whose locations are not unique per payload', () => {
    const { airlock } = fixture.airlock()
    expect(() => new AirlockPayloadCodec({ airlock, offload: new LocalResult({ dir: fixture.dir, location: 'fixed.alkc' }) })).toThrow(/must use \{randomId\}/)
    expect(() => new AirlockPayloadCodec({ airlock, offload: new LocalResult({ dir: fixture.dir, location: '{taskName}/{randomId}' }) })).toThrow(
      /may use \{engine\}, \{randomId\}, \{today\} and \{date\} only/,
    )
    expect(() => new AirlockPayloadCodec({ airlock, offload: { write() {} } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('offload to S3 (s3rver)', () => {
  const endpoint = inject('s3Endpoint')
  const bucket = inject('s3Bucket')
  const clientConfig = (): S3ClientConfig => ({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS }, maxAttempts: 1 })

  it('round trips through an S3Result, and a deleted object fails with ERR_RESULT_NOT_FOUND', async () => {
    const prefix = `temporal-offload-${randomUUID()}`
    const { airlock } = fixture.airlock({ payloads: { offloadAbove: 1024 } })
    const secrets = plantSecrets(airlock)
    const offload = new S3Result({ bucket, location: `${prefix}/{today}/{randomId}.alkc`, clientConfig: clientConfig() })
    const codec = new AirlockPayloadCodec({ airlock, offload })
    const value = { blob: randomBytes(8192).toString('base64'), note: secrets.text }
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(value)])
    expect(leaksIn(wire([encoded!]), secrets.forbidden)).toEqual([])
    expect(wire([encoded!]).toString('latin1')).not.toContain(prefix)
    const [decoded] = await codec.decode([encoded!])
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(value)

    const s3 = new S3Client(clientConfig())
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))
    expect(listed.Contents).toHaveLength(1)
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: listed.Contents![0]!.Key! }))
    await expect(codec.decode([encoded!])).rejects.toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
    s3.destroy()
  })
})

// Temporal's ExternalStorageRunner cannot build its reference payload in this install: @temporalio/common
// and @temporalio/proto each carry their own protobufjs 8 (a root protobufjs 7 for grpc keeps either
// from being hoisted), and protojson refuses the other copy's types ("type must be a Type"). So the
// driver is driven through the StorageDriver interface the runner calls.
describe('AirlockStorageDriver (Temporal\'s external storage driver interface)', () => {
  it('stores payloads, leaving claims that name nothing, and retrieves them', async () => {
    const { airlock, ledgerPath } = fixture.airlock()
    const secrets = plantSecrets(airlock)
    const { dir, result } = localOffload()
    const driver = new AirlockStorageDriver({ airlock, offload: result })
    expect(new ExternalStorage({ drivers: [driver] }).getDriver('airlock')).toBe(driver)
    const [sealed] = await new AirlockPayloadCodec({ airlock }).encode([defaultPayloadConverter.toPayload({ note: secrets.text, pad: 'x'.repeat(2048) })])
    const plain = defaultPayloadConverter.toPayload({ note: secrets.text })
    const claims = await driver.store({}, [sealed!, plain])
    expect(claims).toHaveLength(2)
    const claimText = JSON.stringify(claims.map((c) => c.claimData))
    expect(claims[0]!.claimData.airlock).toMatch(/^alko1:alk1\./)
    expect(leaksIn(claimText, secrets.forbidden)).toEqual([])
    expect(claimText).not.toContain('temporal/')
    const files = await storedFiles(dir)
    expect(files).toHaveLength(2)
    for (const file of files) expect(leaksIn(await readFile(file), secrets.forbidden)).toEqual([])

    const retrieved = await driver.retrieve({}, claims)
    expect(wire([retrieved[0]!]).equals(wire([sealed!]))).toBe(true)
    expect(defaultPayloadConverter.fromPayload(retrieved[1]!)).toEqual({ note: secrets.text })
    await expect(driver.retrieve({}, [{ claimData: { airlock: 'alk1.x' } }])).rejects.toMatchObject({ code: 'ERR_PAYLOAD_FORMAT' })
    const stored = [{ claimText }]

    // The claim's token opens nothing as a codec-offloaded payload (another binding).
    const token = /alko1:(alk1\.[A-Za-z0-9_.-]+)/.exec(stored[0]!.claimText)![1]!
    const codec = new AirlockPayloadCodec({ airlock, offload: result })
    const asCodecPayload = { metadata: sealed!.metadata, data: Buffer.concat([Buffer.from('ALKO\u0001', 'latin1'), Buffer.from(token)]) }
    await expect(codec.decode([{ ...asCodecPayload, metadata: { ...sealed!.metadata, 'airlock-format': new TextEncoder().encode('alko1') } }])).rejects.toMatchObject({
      code: 'ERR_TOKEN_BINDING',
    })
    await airlock.close()
    expect(await fixture.ledgerText(ledgerPath)).toContain('"name":"temporal:external-storage"')
  })
})
