import { randomUUID } from 'node:crypto'
import { inspect } from 'node:util'
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { Secret } from '../../src/crypto/secret.js'
import { AzureResult } from '../../src/results/azure-result.js'
import { AZURITE_ACCOUNT, startAzuriteServer } from '../support/azurite-server.js'
import { digestOf, generatedBytes, rejection, STREAMED_BYTES } from './byte-streams.js'

const connectionString = inject('azureConnectionString')
const container = `azure-result-${randomUUID()}`
const BIG_TIMEOUT = 180_000
const clientOptions = { retryOptions: { maxTries: 1 } }
const service = BlobServiceClient.fromConnectionString(connectionString)
const containerClient = service.getContainerClient(container)
const blobEndpoint = /BlobEndpoint=([^;]+)/.exec(connectionString)![1]!


beforeAll(async () => {
  await containerClient.create()
  return async () => {
    await containerClient.delete()
  }
})

describe('AzureResult against azurite', () => {
  it('connects with an account URL and credentials (or the older credential), a connection string in a Secret, or a ready client', async () => {
    const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key)
    const byCredential = new AzureResult({ container, location: 'connect/{n}.json', accountUrl: blobEndpoint, credential })
    await byCredential.write('one', { n: 1 })
    for (const other of [
      new AzureResult({ container, connectionString: new Secret(connectionString) }),
      new AzureResult({ container, accountUrl: blobEndpoint, credentials: credential }),
      new AzureResult({ container, client: BlobServiceClient.fromConnectionString(connectionString) }),
    ]) {
      expect((await other.read('connect/1.json')).value).toBe('one')
    }
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

  it('answers a missing container with an error, not false', async () => {
    const noContainer = new AzureResult({ container: `missing-${randomUUID()}`, connectionString, clientOptions })
    expect(await rejection(noContainer.exists('a.json'))).toMatchObject({ code: 'ERR_STORAGE' })
    expect(await rejection(noContainer.read('a.json'))).toMatchObject({ code: 'ERR_STORAGE', message: 'AzureResult could not read the result: ContainerNotFound (HTTP 404)' })
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
    const client = BlobServiceClient.fromConnectionString(connectionString)
    const conflicting = [
      { container, client, connectionString },
      { container, client, accountUrl: blobEndpoint },
      { container, client, clientOptions },
      { container, client, credentials: credential },
      { container, accountUrl: blobEndpoint, credentials: credential, credential },
    ]
    for (const options of conflicting) {
      expect(() => new AzureResult(options as never)).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_CONFLICT' }))
    }
    const refused = [
      { container, client: {} },
      { container, connectionString, prefix: '../up' },
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

})
