import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { Storage, type StorageOptions } from '@google-cloud/storage'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { GCSResult } from '../../src/results/gcs-result.js'
import { startGcsServer } from '../support/gcs-server.js'
import { digestOf, generatedBytes, rejection, STREAMED_BYTES } from './byte-streams.js'
import { recordingProxy } from './recording-proxy.js'

const apiEndpoint = inject('gcsEndpoint')
const bucket = inject('gcsBucket')
const prefix = `gcs-result-${randomUUID()}`
const BIG_TIMEOUT = 180_000

// With a custom apiEndpoint the client sends no Authorization header, so these
// credentials are never used; they are here to prove they never leak.
const CREDENTIALS = { client_email: 'needle-sa@example.iam.gserviceaccount.com', private_key: 'needle-private-key' }
const storageOptions = (at = apiEndpoint): StorageOptions => ({
  apiEndpoint: at,
  projectId: 'test',
  credentials: CREDENTIALS,
  retryOptions: { autoRetry: false },
})
const gcs = new Storage({ apiEndpoint, projectId: 'test' }).bucket(bucket)


describe('GCSResult against the GCS test server', () => {
  it('uploads up to 8 MiB in one multipart request, and above 8 MiB or streamed as a resumable upload', { timeout: BIG_TIMEOUT }, async () => {
    const proxy = await recordingProxy(apiEndpoint)
    const r = new GCSResult({ bucket, location: `${prefix}/upload/{name}`, storageOptions: storageOptions(proxy.endpoint), payloadCipher: KeyRing.generate() })
    const large = 'x'.repeat(9 * 1024 * 1024)
    await r.write('small', { name: 'small.json' })
    await r.write(large, { name: 'large.json' })
    await r.writeStream(generatedBytes(1000).stream, { name: 'streamed.bin' })
    const uploads = proxy.requests.filter((q) => q.url.startsWith('/upload/'))
    expect(uploads.map((q) => new URL(q.url, apiEndpoint).searchParams.get('uploadType'))).toEqual(['multipart', 'resumable', 'resumable'])
    expect((await r.read(`${prefix}/upload/large.json`)).value).toBe(large)
    expect(Number((await gcs.file(`${prefix}/upload/large.json`).getMetadata())[0].size)).toBeGreaterThan(large.length)
  })

  it('streams 64 MiB with a resumable upload and back, plain', { timeout: BIG_TIMEOUT }, async () => {
    const r = new GCSResult({ bucket, location: `${prefix}/big/{name}`, storageOptions: storageOptions() })
    const source = generatedBytes(STREAMED_BYTES, 'plain')
    const written = await r.writeStream(source.stream, { name: 'plain.bin' })
    onTestFinished(() => gcs.file(`${prefix}/big/plain.bin`).delete().then(() => undefined))
    expect(written.value).toBeUndefined()
    expect(Number((await gcs.file(`${prefix}/big/plain.bin`).getMetadata())[0].size)).toBe(STREAMED_BYTES)
    expect(await digestOf(await r.readStream(written.location as string))).toEqual({ sha256: source.digest(), bytes: STREAMED_BYTES })
  })

  it('streams 64 MiB encrypted: the bucket holds ciphertext, the token reads it back', { timeout: BIG_TIMEOUT }, async () => {
    const keys = KeyRing.generate()
    const r = new GCSResult({ bucket, location: `${prefix}/big/{name}`, storageOptions: storageOptions(), locationCipher: keys, payloadCipher: keys })
    const source = generatedBytes(STREAMED_BYTES, 'sealed')
    const written = await r.writeStream(source.stream, { name: 'sealed.bin' })
    onTestFinished(() => gcs.file(`${prefix}/big/sealed.bin`).delete().then(() => undefined))
    expect(written.location?.startsWith('alk1.')).toBe(true)
    const file = gcs.file(`${prefix}/big/sealed.bin`)
    expect(Number((await file.getMetadata())[0].size)).toBeGreaterThan(STREAMED_BYTES)
    expect((await file.download({ start: 0, end: 3 }))[0].toString()).toBe('ALKC')
    expect(await digestOf(await r.readStream(written.location as string))).toEqual({ sha256: source.digest(), bytes: STREAMED_BYTES })
  })

  it('answers an access error with a typed error, not false', async () => {
    // An endpoint that refuses everything, as GCS does a caller without storage.objects.get.
    const refusing = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 403, message: 'needle-caller has no access', errors: [{ reason: 'forbidden', message: 'needle-caller has no access' }] } }))
    })
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => refusing.close(() => resolve())))
    const r = new GCSResult({ bucket, storageOptions: storageOptions(`http://127.0.0.1:${(refusing.address() as AddressInfo).port}`) })
    for (const [err, message] of [
      [await rejection(r.exists('a.json')), 'GCSResult could not check the result: forbidden (HTTP 403)'],
      [await rejection(r.write(1, {})), 'GCSResult could not write the result: forbidden (HTTP 403)'],
      // The client does not parse the body of a failed download: the status is all there is.
      [await rejection(r.read('a.json')), 'GCSResult could not read the result: HTTP 403'],
      [await rejection(r.readStream('a.json')), 'GCSResult could not read the result: HTTP 403'],
    ] as const) {
      expect(err).toMatchObject({ code: 'ERR_STORAGE', message })
    }
  })

  it('takes a ready client, client options with credentials, or the older storage and storageOptions: one object, read by each', async () => {
    const keys = KeyRing.generate()
    const options = { bucket, location: `${prefix}/clients/{taskName}.json`, locationCipher: keys }
    const { credentials, ...withoutCredentials } = storageOptions()
    const written = await new GCSResult({ ...options, storageOptions: storageOptions() }).write({ n: 7 }, { taskName: 'load' })
    for (const other of [
      new GCSResult({ ...options, storage: new Storage(storageOptions()) }),
      new GCSResult({ ...options, client: new Storage(storageOptions()) }),
      new GCSResult({ ...options, clientOptions: withoutCredentials, credentials }),
    ]) {
      expect((await other.read(written.location)).value).toEqual({ n: 7 })
    }
  })

  it('fails with a typed error once the server is stopped, with no credential or location in it', async () => {
    const server = await startGcsServer({ buckets: ['stopped'] })
    onTestFinished(() => server.close())
    const keys = KeyRing.generate()
    const r = new GCSResult({ bucket: 'stopped', location: 'secret-plain/{taskName}.json', storageOptions: storageOptions(server.endpoint), locationCipher: keys })
    const written = await r.write({ ok: true }, { taskName: 'load' })
    expect(await r.exists(written.location)).toBe(true)
    await server.close()

    const failures = [
      await rejection(r.read(written.location)),
      await rejection(r.readStream(written.location)),
      await rejection(r.exists(written.location)),
      await rejection(r.write({ ok: false }, { taskName: 'load' })),
      await rejection(r.writeStream(generatedBytes(1024 * 1024).stream, { taskName: 'big' })),
    ]
    for (const err of failures) {
      expect(err).toMatchObject({ code: 'ERR_STORAGE', name: 'StorageError' })
      expect(err.message).toMatch(/^GCSResult could not (read|check|write) the result: (ECONNREFUSED|ECONNRESET)$/)
      for (const leak of [CREDENTIALS.client_email, CREDENTIALS.private_key, 'secret-plain', server.endpoint]) {
        expect(`${err.message} ${JSON.stringify(err)} ${inspect(err)}`).not.toContain(leak)
      }
      expect(err.cause).toBeUndefined()
    }
  })

  it('keeps credentials out of toJSON and util.inspect, and checks its options', () => {
    const r = new GCSResult({ bucket, storageOptions: storageOptions(), location: 'a.json' })
    expect(JSON.stringify(r)).toBe(`{"type":"gcs","bucket":"${bucket}"}`)
    expect(inspect(r, { depth: 10, showHidden: true })).not.toContain('needle')
    expect(r.bucket).toBe(bucket)
    const conflicting = [
      { bucket, storage: new Storage(storageOptions()), storageOptions: storageOptions() },
      { bucket, client: new Storage(storageOptions()), clientOptions: storageOptions() },
      { bucket, client: new Storage(storageOptions()), storage: new Storage(storageOptions()) },
      { bucket, clientOptions: storageOptions(), storageOptions: storageOptions() },
      { bucket, client: new Storage(storageOptions()), credentials: CREDENTIALS },
    ]
    for (const options of conflicting) {
      expect(() => new GCSResult(options as never)).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_CONFLICT' }))
    }
    const refused = [
      { storageOptions: storageOptions() },
      { bucket: 'a/b' },
      { bucket, storage: {} },
      { bucket, client: {} },
      { bucket, storageOptions: 'x' },
      { bucket, apiEndpoint },
    ]
    for (const options of refused) {
      expect(() => new GCSResult(options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
  })

})
