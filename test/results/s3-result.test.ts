import { randomUUID } from 'node:crypto'
import { setImmediate } from 'node:timers/promises'
import { inspect } from 'node:util'
import { GetObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { S3Result } from '../../src/results/s3-result.js'
import { S3RVER_CREDENTIALS, startS3Server } from '../support/s3-server.js'
import { digestOf, generatedBytes, rejection, STREAMED_BYTES } from './byte-streams.js'
import { recordingProxy, type RecordedRequest } from './recording-proxy.js'

const endpoint = inject('s3Endpoint')
const bucket = inject('s3Bucket')
const prefix = `s3-result-${randomUUID()}`
const BIG_TIMEOUT = 180_000

// A fresh object each time: the SDK tags the credentials object it is given.
const clientConfig = (at = endpoint): S3ClientConfig => ({
  region: 'us-east-1',
  endpoint: at,
  forcePathStyle: true,
  credentials: { ...S3RVER_CREDENTIALS },
  maxAttempts: 1,
})
const s3 = new S3Client(clientConfig())


describe('S3Result against s3rver', () => {
  it('streams 64 MiB through a multipart upload and back, plain', { timeout: BIG_TIMEOUT }, async () => {
    const r = new S3Result({ bucket, location: `${prefix}/big/{name}`, clientConfig: clientConfig() })
    const source = generatedBytes(STREAMED_BYTES, 'plain')
    const written = await r.writeStream(source.stream, { name: 'plain.bin' })
    expect(written.value).toBeUndefined()
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/big/plain.bin` }))).ContentLength).toBe(STREAMED_BYTES)
    expect(await digestOf(await r.readStream(written.location as string))).toEqual({ sha256: source.digest(), bytes: STREAMED_BYTES })
  })

  it('streams 64 MiB encrypted: the bucket holds ciphertext, the token reads it back', { timeout: BIG_TIMEOUT }, async () => {
    const keys = KeyRing.generate()
    const r = new S3Result({ bucket, location: `${prefix}/big/{name}`, clientConfig: clientConfig(), locationCipher: keys, payloadCipher: keys })
    const source = generatedBytes(STREAMED_BYTES, 'sealed')
    const written = await r.writeStream(source.stream, { name: 'sealed.bin' })
    expect(written.location?.startsWith('alk1.')).toBe(true)
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/big/sealed.bin` }))
    expect(head.ContentLength).toBeGreaterThan(STREAMED_BYTES) // a header and a tag per 64 KiB chunk
    const first = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/big/sealed.bin`, Range: 'bytes=0-3' }))
    expect(await first.Body!.transformToString()).toBe('ALKC')
    expect(await digestOf(await r.readStream(written.location as string))).toEqual({ sha256: source.digest(), bytes: STREAMED_BYTES })
  })

  it('answers exists true and false, by token, plain location and template, and never downloads', async () => {
    const keys = KeyRing.generate()
    const proxy = await recordingProxy(endpoint)
    const r = new S3Result({ bucket, location: `${prefix}/exists/{taskName}.json`, clientConfig: clientConfig(proxy.endpoint), locationCipher: keys })
    const written = await r.write(1, { taskName: 'there' })
    expect(await r.exists(written.location)).toBe(true)
    expect(await r.exists(`${prefix}/exists/there.json`)).toBe(true)
    expect(await r.exists(`${prefix}/exists/{taskName}.json`, { taskName: 'there' })).toBe(true)
    expect(await r.exists(`${prefix}/exists/missing.json`)).toBe(false)
    expect(await r.exists(`${prefix}/exists/{taskName}.json`, { taskName: 'missing' })).toBe(false)
    expect(proxy.requests.filter((q) => q.method === 'GET')).toEqual([])
    expect(proxy.requests.filter((q) => q.method === 'HEAD')).toHaveLength(5)
  })

  it('answers an access error with a typed error, not false', async () => {
    const denied = { ...clientConfig(), credentials: { accessKeyId: 'AKIAWRONGNEEDLE', secretAccessKey: 'needle-wrong-secret' } }
    const r = new S3Result({ bucket, clientConfig: denied })
    for (const err of [await rejection(r.exists(`${prefix}/exists/there.json`)), await rejection(r.read(`${prefix}/small/plain.json`))]) {
      expect(err).toMatchObject({ code: 'ERR_STORAGE' })
      expect(err.message).toMatch(/\(HTTP 403\)$/)
      expect(err.message).not.toContain('needle')
      expect(err.message).not.toContain('NEEDLE')
    }
  })

  it('takes a ready client, client options with credentials, or the older clientConfig: one object, read by each', async () => {
    const keys = KeyRing.generate()
    const options = { bucket, location: `${prefix}/clients/{taskName}.json`, locationCipher: keys }
    const { credentials, ...withoutCredentials } = clientConfig()
    const written = await new S3Result({ ...options, clientConfig: clientConfig() }).write({ n: 7 }, { taskName: 'load' })
    for (const other of [
      new S3Result({ ...options, client: new S3Client(clientConfig()) }),
      new S3Result({ ...options, clientOptions: withoutCredentials, credentials }),
      new S3Result({ ...options, clientOptions: clientConfig() }),
    ]) {
      expect((await other.read(written.location)).value).toEqual({ n: 7 })
    }
  })

  it('names a missing bucket: ERR_STORAGE, not ERR_RESULT_NOT_FOUND', async () => {
    const noBucket = new S3Result({ bucket: `missing-${randomUUID()}`, clientConfig: clientConfig() })
    const err = await rejection(noBucket.read('a.json'))
    expect(err).toMatchObject({ code: 'ERR_STORAGE' })
    expect(err.message).toBe('S3Result could not read the result: NoSuchBucket (HTTP 404)')
  })

  it('fails with a typed error once the server is stopped, with no credential or location in it', async () => {
    const server = await startS3Server({ buckets: ['stopped'] })
    onTestFinished(() => server.close())
    const keys = KeyRing.generate()
    const r = new S3Result({ bucket: 'stopped', location: 'secret-plain/{taskName}.json', clientConfig: clientConfig(server.endpoint), locationCipher: keys })
    const written = await r.write({ ok: true }, { taskName: 'load' })
    expect(await r.exists(written.location)).toBe(true)
    await server.close()

    const failures = [
      await rejection(r.read(written.location)),
      await rejection(r.readStream(written.location)),
      await rejection(r.exists(written.location)),
      await rejection(r.write({ ok: false }, { taskName: 'load' })),
      await rejection(r.writeStream(generatedBytes(6 * 1024 * 1024).stream, { taskName: 'big' })),
    ]
    for (const err of failures) {
      expect(err).toMatchObject({ code: 'ERR_STORAGE', name: 'StorageError' })
      expect(err.message).toMatch(/^S3Result could not (read|check|write) the result: (ECONNREFUSED|ECONNRESET)$/)
      for (const leak of [S3RVER_CREDENTIALS.accessKeyId, S3RVER_CREDENTIALS.secretAccessKey, 'secret-plain', server.endpoint]) {
        expect(`${err.message} ${JSON.stringify(err)} ${inspect(err)}`).not.toContain(leak)
      }
      expect(err.cause).toBeUndefined()
    }
  })

  it('aborts a multipart upload whose source fails, throws the source error, and leaves no object', { timeout: BIG_TIMEOUT }, async () => {
    const proxy = await recordingProxy(endpoint)
    const r = new S3Result({ bucket, location: `${prefix}/aborted/{name}`, clientConfig: clientConfig(proxy.endpoint) })
    const broken = new Error('the source broke')
    async function* failingSource(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 12; i++) yield new Uint8Array(1024 * 1024).fill(i)
      await setImmediate()
      throw broken
    }
    expect(await rejection(r.writeStream(failingSource(), { name: 'partial.bin' }))).toBe(broken)
    const uploadIds = proxy.requests.filter((q) => q.method === 'PUT' && q.url.includes('uploadId=')).map((q) => new URL(q.url, endpoint).searchParams.get('uploadId'))
    expect(uploadIds.length).toBeGreaterThanOrEqual(2) // parts 1 and 2 went up before the source failed
    const aborts = proxy.requests.filter((q) => q.method === 'DELETE' && q.url.includes('uploadId='))
    expect(aborts).toHaveLength(1)
    expect(new URL(aborts[0]!.url, endpoint).searchParams.get('uploadId')).toBe(uploadIds[0])
    expect(await r.exists(`${prefix}/aborted/partial.bin`)).toBe(false)
  })

  it('sends server-side encryption, the KMS key and the storage class on single and multipart uploads', { timeout: BIG_TIMEOUT }, async () => {
    const proxy = await recordingProxy(endpoint)
    const kmsKey = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    const r = new S3Result({
      bucket,
      location: `${prefix}/upload-options/{name}`,
      clientConfig: clientConfig(proxy.endpoint),
      uploadOptions: { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKey, StorageClass: 'REDUCED_REDUNDANCY' },
    })
    await r.write({ small: true }, { name: 'small.json' })
    await r.writeStream(generatedBytes(11 * 1024 * 1024).stream, { name: 'multipart.bin' })
    const putObject = (q: RecordedRequest): boolean => q.method === 'PUT' && !q.url.includes('uploadId=')
    const createMultipartUpload = (q: RecordedRequest): boolean => q.method === 'POST' && q.url.includes('?uploads')
    const creating = proxy.requests.filter((q) => putObject(q) || createMultipartUpload(q))
    expect(creating.map((q) => q.method)).toEqual(['PUT', 'POST'])
    for (const { headers } of creating) {
      expect(headers).toMatchObject({
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': kmsKey,
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      })
    }
    // s3rver keeps the storage class, so it can be read back.
    for (const name of ['small.json', 'multipart.bin']) {
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/upload-options/${name}` }))).StorageClass).toBe('REDUCED_REDUNDANCY')
    }
  })

  it('keeps credentials out of toJSON and util.inspect, and checks its options', () => {
    const config = { ...clientConfig(), credentials: { accessKeyId: 'AKIANEEDLEACCESSKEY', secretAccessKey: 'needle-secret-access-key' } }
    const r = new S3Result({ bucket, clientConfig: config, location: 'a.json' })
    expect(JSON.stringify(r)).toBe(`{"type":"s3","bucket":"${bucket}"}`)
    expect(inspect(r, { depth: 10, showHidden: true })).not.toMatch(/NEEDLE|needle/)
    expect(r.bucket).toBe(bucket)
    const conflicting = [
      { bucket, client: s3, clientConfig: config },
      { bucket, client: s3, clientOptions: config },
      { bucket, client: s3, credentials: S3RVER_CREDENTIALS },
      { bucket, clientOptions: config, clientConfig: config },
      { bucket, clientOptions: config, credentials: S3RVER_CREDENTIALS },
    ]
    for (const options of conflicting) {
      expect(() => new S3Result(options as never)).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_CONFLICT' }))
    }
    const refused = [
      { clientConfig: config },
      { bucket: '' },
      { bucket, client: {} },
      { bucket, clientOptions: 'x' },
      { bucket, credentials: 'AKIA' },
      { bucket, uploadOptions: { ServerSideEncryption: 'aws:kms', Acl: 'public-read' } },
      { bucket, uploadOptions: { StorageClass: 7 } },
      { bucket, clientConfg: config },
    ]
    for (const options of refused) {
      expect(() => new S3Result(options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
  })

})
