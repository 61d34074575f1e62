import { randomUUID } from 'node:crypto'
import { inspect } from 'node:util'
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { Secret } from '../../src/crypto/secret.js'
import { AzureResult } from '../../src/results/azure-result.js'
import { AZURITE_ACCOUNT, startAzuriteServer } from '../support/azurite-server.js'
import { digestOf, flipped, generatedBytes, rejection, STREAMED_BYTES } from './byte-streams.js'
import { expectCacheSharedThroughStorage } from './shared-cache.js'

const connectionString = inject('azureConnectionString')
const container = `azure-result-${randomUUID()}`
const BIG_TIMEOUT = 180_000
const clientOptions = { retryOptions: { maxTries: 1 } }
const service = BlobServiceClient.fromConnectionString(connectionString)
const containerClient = service.getContainerClient(container)
const blobEndpoint = /BlobEndpoint=([^;]+)/.exec(connectionString)![1]!

async function stored(name: string): Promise<Buffer> {
  return containerClient.getBlockBlobClient(name).downloadToBuffer()
}

beforeAll(async () => {
  await containerClient.create()
  return async () => {
    await containerClient.delete()
  }
})

describe('AzureResult against azurite', () => {
  it('round-trips a small value, plain and encrypted; toJSON is {type, location, container}', async () => {
    const keys = KeyRing.generate()
    const plain = new AzureResult({ container, location: 'small/{taskName}.json', connectionString, clientOptions })
    const written = await plain.write({ rows: [1, 2, 3], who: 'ada' }, { taskName: 'plain' })
    expect(written.toJSON()).toEqual({ type: 'azure', location: 'small/plain.json', container })
    expect(Object.keys(written.toJSON())).toEqual(['type', 'location', 'container'])
    expect((await plain.read(written.location)).value).toEqual({ rows: [1, 2, 3], who: 'ada' })
    expect((await stored('small/plain.json')).toString('latin1')).toContain('ada')

    const sealed = new AzureResult({ container, location: 'small/{taskName}.json', connectionString, payloadCipher: keys })
    const secret = await sealed.write({ who: 'needle-azure-payload' }, { taskName: 'sealed' })
    expect((await stored('small/sealed.json')).toString('latin1')).not.toContain('needle-azure-payload')
    expect((await sealed.read(secret.location)).value).toEqual({ who: 'needle-azure-payload' })
  })

  it('connects with an account URL and a credential, or a connection string in a Secret', async () => {
    const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key)
    const byCredential = new AzureResult({ container, location: 'connect/{n}.json', accountUrl: blobEndpoint, credential })
    await byCredential.write('one', { n: 1 })
    const bySecret = new AzureResult({ container, location: 'connect/{n}.json', connectionString: new Secret(connectionString) })
    expect((await bySecret.read('connect/1.json')).value).toBe('one')
  })

  it('answers an access error with a typed error, not false', async () => {
    await new AzureResult({ container, location: 'denied.json', connectionString }).write(1)
    const wrongKey = new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, Buffer.from('needle-wrong-account-key').toString('base64'))
    for (const r of [
      new AzureResult({ container, accountUrl: blobEndpoint, credential: wrongKey, clientOptions }),
      new AzureResult({ container, accountUrl: blobEndpoint, clientOptions }),
    ]) {
      for (const [err, action] of [
        [await rejection(r.exists('denied.json')), 'check'],
        [await rejection(r.exists('missing.json')), 'check'],
        [await rejection(r.read('denied.json')), 'read'],
        [await rejection(r.write(2, {})), 'write'],
      ] as const) {
        expect(err).toMatchObject({ code: 'ERR_STORAGE' })
        expect(err.message).toBe(`AzureResult could not ${action} the result: AuthorizationFailure (HTTP 403)`)
      }
    }
  })

  it('streams 64 MiB in staged blocks and back, plain', { timeout: BIG_TIMEOUT }, async () => {
    const r = new AzureResult({ container, location: 'big/{name}', connectionString })
    const source = generatedBytes(STREAMED_BYTES, 'plain')
    const written = await r.writeStream(source.stream, { name: 'plain.bin' })
    onTestFinished(() => containerClient.deleteBlob('big/plain.bin').then(() => undefined))
    expect(written.value).toBeUndefined()
    expect((await containerClient.getBlobClient('big/plain.bin').getProperties()).contentLength).toBe(STREAMED_BYTES)
    expect(await digestOf(await r.readStream(written.location as string))).toEqual({ sha256: source.digest(), bytes: STREAMED_BYTES })
  })

  it('streams 64 MiB encrypted: the container holds ciphertext, the token reads it back', { timeout: BIG_TIMEOUT }, async () => {
    const keys = KeyRing.generate()
    const r = new AzureResult({ container, location: 'big/{name}', connectionString, locationCipher: keys, payloadCipher: keys })
    const source = generatedBytes(STREAMED_BYTES, 'sealed')
    const written = await r.writeStream(source.stream, { name: 'sealed.bin' })
    onTestFinished(() => containerClient.deleteBlob('big/sealed.bin').then(() => undefined))
    expect(written.location?.startsWith('alk1.')).toBe(true)
    const blob = containerClient.getBlobClient('big/sealed.bin')
    expect((await blob.getProperties()).contentLength).toBeGreaterThan(STREAMED_BYTES)
    expect((await blob.downloadToBuffer(0, 4)).toString()).toBe('ALKC')
    expect(await digestOf(await r.readStream(written.location as string))).toEqual({ sha256: source.digest(), bytes: STREAMED_BYTES })
  })

  it('answers exists true and false; a missing container is an error, not false', async () => {
    const keys = KeyRing.generate()
    const r = new AzureResult({ container, location: 'exists/{taskName}.json', connectionString, locationCipher: keys })
    const written = await r.write(1, { taskName: 'there' })
    expect(await r.exists(written.location)).toBe(true)
    expect(await r.exists('exists/there.json')).toBe(true)
    expect(await r.exists('exists/{taskName}.json', { taskName: 'there' })).toBe(true)
    expect(await r.exists('exists/missing.json')).toBe(false)
    const noContainer = new AzureResult({ container: `missing-${randomUUID()}`, connectionString, clientOptions })
    expect(await rejection(noContainer.exists('a.json'))).toMatchObject({ code: 'ERR_STORAGE' })
    expect(await rejection(noContainer.read('a.json'))).toMatchObject({ code: 'ERR_STORAGE', message: 'AzureResult could not read the result: ContainerNotFound (HTTP 404)' })
  })

  it('overwrites by default; with overwrite: false a second write fails with ERR_RESULT_EXISTS and changes nothing', async () => {
    const replacing = new AzureResult({ container, location: 'overwrite/{name}', connectionString })
    expect(replacing.overwrite).toBe(true)
    await replacing.write('first', { name: 'default.json' })
    await replacing.write('second', { name: 'default.json' })
    expect((await replacing.read('overwrite/default.json')).value).toBe('second')
    await replacing.writeStream(generatedBytes(10).stream, { name: 'default.json' })
    expect((await stored('overwrite/default.json')).length).toBe(10)

    const once = new AzureResult({ container, location: 'overwrite/{name}', connectionString, overwrite: false })
    await once.write('first', { name: 'once.json' })
    expect(await rejection(once.write('second', { name: 'once.json' }))).toMatchObject({ code: 'ERR_RESULT_EXISTS' })
    expect(await rejection(once.writeStream(generatedBytes(5 * 1024 * 1024).stream, { name: 'once.json' }))).toMatchObject({
      code: 'ERR_RESULT_EXISTS',
    })
    expect((await once.read('overwrite/once.json')).value).toBe('first')
    await once.writeStream(generatedBytes(10).stream, { name: 'streamed-once.bin' })
    expect(await rejection(once.writeStream(generatedBytes(10).stream, { name: 'streamed-once.bin' }))).toMatchObject({
      code: 'ERR_RESULT_EXISTS',
    })
  })

  it('reads an encrypted location back from its token, on another instance with the same keys', async () => {
    const keys = KeyRing.generate()
    const options = { container, location: 'token/{taskName}.json', locationCipher: keys, connectionString }
    const written = await new AzureResult(options).write({ n: 7 }, { taskName: 'load' })
    expect(written.location?.startsWith('alk1.')).toBe(true)
    expect(JSON.stringify(written)).not.toContain('token/load')
    const read = await new AzureResult(options).read(written.location)
    expect(read.value).toEqual({ n: 7 })
    expect(read.plainLocation).toBe('token/load.json')
    const stranger = new AzureResult({ ...options, locationCipher: KeyRing.generate() })
    expect(await rejection(stranger.read(written.location))).toMatchObject({ code: 'ERR_UNKNOWN_KID' })
  })

  it('refuses a stored blob flipped by one byte, or moved to another name, with ERR_PAYLOAD_TAMPERED', async () => {
    const keys = KeyRing.generate()
    const r = new AzureResult({ container, location: 'tamper/{name}', connectionString, payloadCipher: keys })
    await r.write({ amount: 100 }, { name: 'value.json' })
    const name = 'tamper/value.json'
    const original = await stored(name)
    for (const index of [60, -1]) {
      const bytes = flipped(original, index)
      await containerClient.getBlockBlobClient(name).upload(bytes, bytes.length)
      expect(await rejection(r.read(name))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
      expect(await rejection(r.readStream(name).then(digestOf))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
    }
    await r.write({ amount: 1 }, { name: 'small.json' })
    const other = await stored('tamper/small.json')
    await containerClient.getBlockBlobClient(name).upload(other, other.length)
    expect(await rejection(r.read(name))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
    const unknownKid = new AzureResult({ container, connectionString, payloadCipher: KeyRing.generate() })
    expect(await rejection(unknownKid.read('tamper/small.json'))).toMatchObject({ code: 'ERR_UNKNOWN_KID' })
  })

  it('throws ResultNotFoundError for a missing blob, from read and readStream', async () => {
    const r = new AzureResult({ container, connectionString })
    expect(await rejection(r.read('missing.json'))).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
    expect(await rejection(r.readStream('missing.json'))).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
  })

  it('fails with a typed error once the server is stopped, with no credential or location in it', async () => {
    const server = await startAzuriteServer()
    onTestFinished(() => server.close())
    await BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient('stopped').create()
    const keys = KeyRing.generate()
    const r = new AzureResult({
      container: 'stopped',
      location: 'secret-plain/{taskName}.json',
      connectionString: server.connectionString,
      clientOptions,
      locationCipher: keys,
    })
    const written = await r.write({ ok: true }, { taskName: 'load' })
    expect(await r.exists(written.location)).toBe(true)
    await server.close()

    const failures = [
      await rejection(r.read(written.location)),
      await rejection(r.readStream(written.location)),
      await rejection(r.exists(written.location)),
      await rejection(r.write({ ok: false }, { taskName: 'load' })),
      await rejection(r.writeStream(generatedBytes(5 * 1024 * 1024).stream, { taskName: 'big' })),
    ]
    for (const err of failures) {
      expect(err).toMatchObject({ code: 'ERR_STORAGE', name: 'StorageError' })
      expect(err.message).toMatch(/^AzureResult could not (read|check|write) the result: (ECONNREFUSED|ECONNRESET)$/)
      for (const leak of [AZURITE_ACCOUNT.key, server.connectionString, 'secret-plain', server.blobEndpoint]) {
        expect(`${err.message} ${JSON.stringify(err)} ${inspect(err)}`).not.toContain(leak)
      }
      expect(err.cause).toBeUndefined()
    }
  })

  it('never serializes the connection string or credential, and checks its options', () => {
    const r = new AzureResult({ container, connectionString, location: 'a.json' })
    expect(JSON.stringify(r)).toBe(`{"type":"azure","container":"${container}"}`)
    for (const shown of [inspect(r, { depth: 10, showHidden: true }), JSON.stringify(r)]) {
      expect(shown).not.toContain(AZURITE_ACCOUNT.key)
      expect(shown).not.toContain('AccountKey')
    }
    const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key)
    const refused = [
      { connectionString },
      { container: '', connectionString },
      { container },
      { container, connectionString, accountUrl: blobEndpoint },
      { container, connectionString, credential },
      { container, connectionString: '' },
      { container, connectionString: new Secret('') },
      { container, accountUrl: 'not a url' },
      { container, connectionString, overwrite: 'no' },
      { container, connectionString, clientOptions: 3 },
      { container, connectionstring: connectionString },
    ]
    for (const options of refused) {
      let message = ''
      expect(() => {
        try {
          new AzureResult(options as never)
        } catch (err) {
          message = (err as Error).message
          throw err
        }
      }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
      expect(message).not.toContain(AZURITE_ACCOUNT.key)
    }
  })

  it('refuses a malformed connection string at first use without quoting it', async () => {
    const r = new AzureResult({ container, connectionString: 'AccountKey=needle-azure-key;Nonsense' })
    const err = await rejection(r.read('a.json'))
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(`${err.message} ${inspect(err)}`).not.toContain('needle')
  })

  it('gives a cache hit to another Airlock, with clients of its own, through the container', async () => {
    const keys = KeyRing.generate()
    const machine = (): { result: AzureResult; index: AzureResult } => ({
      result: new AzureResult({ container, location: 'cache/{taskName}/{taskRunId}.json', connectionString, locationCipher: keys, payloadCipher: keys }),
      index: new AzureResult({ container, location: 'cache/.airlock-cache/{cacheKey}/{variant}.json', connectionString, payloadCipher: keys }),
    })
    await expectCacheSharedThroughStorage(keys, [machine(), machine()])
  })
})
