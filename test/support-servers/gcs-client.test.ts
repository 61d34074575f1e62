import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { Storage } from '@google-cloud/storage'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { startGcsServer } from '../support/gcs-server.js'

// The real @google-cloud/storage client against the shared GCS test server.
// Each test writes under a prefix of its own: other files share the server.

const storage = new Storage({ apiEndpoint: inject('gcsEndpoint'), projectId: 'test' })
const bucket = storage.bucket(inject('gcsBucket'))
const prefix = `gcs-client-${randomUUID()}/`

describe('@google-cloud/storage against the GCS test server', () => {
  it('saves with resumable:false (multipart) and downloads', async () => {
    const file = bucket.file(`${prefix}multipart/a b.json`)
    await file.save('{"x":1}', { resumable: false, contentType: 'application/json' })
    const [data] = await file.download()
    expect(data.toString()).toBe('{"x":1}')
    const [metadata] = await file.getMetadata()
    expect(metadata.contentType).toBe('application/json')
    expect(metadata.size).toBe('7')
  })

  it('saves resumable (the default) and downloads, empty content included', async () => {
    const file = bucket.file(`${prefix}resumable.bin`)
    const data = randomBytes(1000)
    await file.save(data)
    expect((await file.download())[0]).toEqual(data)

    const empty = bucket.file(`${prefix}empty.bin`)
    await empty.save(Buffer.alloc(0))
    expect((await empty.download())[0].length).toBe(0)
  })

  it('downloads a byte range', async () => {
    const file = bucket.file(`${prefix}range.txt`)
    await file.save('0123456789', { resumable: false })
    expect((await file.download({ start: 2, end: 4 }))[0].toString()).toBe('234')
  })

  it('answers exists, and deletes', async () => {
    const file = bucket.file(`${prefix}exists.txt`)
    expect((await file.exists())[0]).toBe(false)
    await file.save('x', { resumable: false })
    expect((await file.exists())[0]).toBe(true)
    await file.delete()
    expect((await file.exists())[0]).toBe(false)
    await expect(file.delete()).rejects.toMatchObject({ code: 404 })
    await expect(file.download()).rejects.toMatchObject({ code: 404 })
  })

  it('lists files by prefix', async () => {
    const names = ['list/1', 'list/2', 'list/deep/3', 'other/4'].map((n) => `${prefix}${n}`)
    await Promise.all(names.map((name) => bucket.file(name).save(name, { resumable: false })))
    const [files] = await bucket.getFiles({ prefix: `${prefix}list/` })
    expect(files.map((f) => f.name).sort()).toEqual(names.slice(0, 3))
  })

  it('uploads ~20 MiB resumable, in one request and in 8 MiB chunks, with checksums verified', async () => {
    const data = randomBytes(20 * 1024 * 1024 + 123)
    const md5 = createHash('md5').update(data).digest('base64')

    const whole = bucket.file(`${prefix}big-whole.bin`)
    await whole.save(data)
    const [metadata] = await whole.getMetadata()
    expect(metadata.size).toBe(String(data.length))
    expect(metadata.md5Hash).toBe(md5)
    // validation is crc32c by default: the client recomputes it over the download.
    expect((await whole.download())[0].equals(data)).toBe(true)

    const chunked = bucket.file(`${prefix}big-chunked.bin`)
    await chunked.save(data, { chunkSize: 8 * 1024 * 1024 })
    expect((await chunked.getMetadata())[0].md5Hash).toBe(md5)
  })

  it('creates a bucket and reports bucket existence', async () => {
    const name = `b-${randomUUID()}`
    expect((await storage.bucket(name).exists())[0]).toBe(false)
    await storage.createBucket(name)
    expect((await storage.bucket(name).exists())[0]).toBe(true)
  })

  it('fails a call once a private server is stopped', async () => {
    const own = await startGcsServer()
    onTestFinished(() => own.close())
    const client = new Storage({ apiEndpoint: own.endpoint, projectId: 'test', retryOptions: { autoRetry: false } })
    const file = client.bucket('airlock-test').file('x')
    await file.save('x', { resumable: false })
    await own.close()
    // A pooled keep-alive socket sees ECONNRESET, a fresh one ECONNREFUSED: both mean "gone".
    const err = (await file.download().catch((e: unknown) => e)) as { code?: string }
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain(err.code)
  })
})
