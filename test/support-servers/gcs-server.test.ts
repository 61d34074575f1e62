import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { crc32c, startGcsServer, type GcsServer } from '../support/gcs-server.js'

// Raw HTTP against a private server: these pin the wire behaviour the
// @google-cloud/storage client relies on (see gcs-client.test.ts for the client).

let server: GcsServer
const bucket = 'raw-bucket'

beforeAll(async () => {
  server = await startGcsServer({ buckets: [bucket] })
})
afterAll(async () => {
  await server.close()
})

const objectUrl = (name: string, query = ''): string =>
  `${server.endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}${query}`

function crc32cBase64(data: Uint8Array): string {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32c(data))
  return out.toString('base64')
}

async function multipartUpload(name: string, data: Buffer, contentType = 'application/octet-stream'): Promise<Response> {
  const boundary = 'b0undary-x'
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ name, contentType })}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Type: ${contentType}\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ])
  return fetch(`${server.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=multipart`, {
    method: 'POST',
    headers: { 'Content-Type': `multipart/related; boundary=${boundary}` },
    body,
  })
}

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
  })

  it('is 0 for empty input and matches a known 32-byte vector', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0)
    // RFC 3720 B.4: 32 bytes of zeros.
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa)
  })
})

describe('GCS test server over raw HTTP', () => {
  it('stores a multipart upload and answers md5Hash and crc32c', async () => {
    const data = Buffer.from('line one\r\n--not a boundary\r\nline two')
    const res = await multipartUpload('dir/a b.txt', data, 'text/plain')
    expect(res.status).toBe(200)
    const object = (await res.json()) as Record<string, string>
    expect(object).toMatchObject({
      kind: 'storage#object',
      name: 'dir/a b.txt',
      bucket,
      size: String(data.length),
      contentType: 'text/plain',
      md5Hash: createHash('md5').update(data).digest('base64'),
      crc32c: crc32cBase64(data),
    })

    const media = await fetch(objectUrl('dir/a b.txt', '?alt=media'))
    expect(media.status).toBe(200)
    expect(media.headers.get('x-goog-hash')).toBe(`crc32c=${object.crc32c},md5=${object.md5Hash}`)
    expect(Buffer.from(await media.arrayBuffer())).toEqual(data)
  })

  it('takes a resumable upload in chunks, answering 308 with the received range', async () => {
    const start = await fetch(`${server.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=chunked.bin`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    })
    expect(start.status).toBe(200)
    const session = start.headers.get('location')
    expect(session).toMatch(/upload_id=/)

    const first = Buffer.alloc(1000, 1)
    const middle = Buffer.alloc(500, 2)
    const last = Buffer.alloc(24, 3)
    const put = (body: Buffer, range: string): Promise<Response> =>
      fetch(session!, { method: 'PUT', headers: { 'Content-Range': range }, body })

    const r1 = await put(first, 'bytes 0-999/*')
    expect(r1.status).toBe(308)
    expect(r1.headers.get('range')).toBe('bytes=0-999')
    const r2 = await put(middle, 'bytes 1000-1499/*')
    expect(r2.status).toBe(308)
    expect(r2.headers.get('range')).toBe('bytes=0-1499')

    const status = await put(Buffer.alloc(0), 'bytes */*')
    expect(status.status).toBe(308)
    expect(status.headers.get('range')).toBe('bytes=0-1499')

    const r3 = await put(last, 'bytes 1500-1523/1524')
    expect(r3.status).toBe(200)
    const whole = Buffer.concat([first, middle, last])
    expect(((await r3.json()) as { crc32c: string }).crc32c).toBe(crc32cBase64(whole))

    const media = await fetch(objectUrl('chunked.bin', '?alt=media'))
    expect(Buffer.from(await media.arrayBuffer())).toEqual(whole)
  })

  it('refuses a chunk that does not start where the last one ended', async () => {
    const start = await fetch(`${server.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=gap.bin`, {
      method: 'POST',
      body: '{}',
    })
    const res = await fetch(start.headers.get('location')!, {
      method: 'PUT',
      headers: { 'Content-Range': 'bytes 10-19/*' },
      body: Buffer.alloc(10),
    })
    expect(res.status).toBe(400)
    expect((await fetch(objectUrl('gap.bin'))).status).toBe(404)
  })

  it('refuses an upload whose X-Goog-Hash does not match', async () => {
    const res = await fetch(`${server.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=bad-hash`, {
      method: 'POST',
      headers: { 'X-Goog-Hash': `crc32c=${crc32cBase64(Buffer.from('other'))}` },
      body: Buffer.from('data'),
    })
    expect(res.status).toBe(400)
    expect((await fetch(objectUrl('bad-hash'))).status).toBe(404)
  })

  it('serves byte ranges: s-e, s-, and a suffix -n', async () => {
    const data = Buffer.from('0123456789abcdef')
    expect((await multipartUpload('ranges.txt', data)).status).toBe(200)
    const get = (range: string): Promise<Response> => fetch(objectUrl('ranges.txt', '?alt=media'), { headers: { Range: range } })

    const a = await get('bytes=2-5')
    expect(a.status).toBe(206)
    expect(a.headers.get('content-range')).toBe('bytes 2-5/16')
    expect(await a.text()).toBe('2345')
    expect(await (await get('bytes=10-')).text()).toBe('abcdef')
    expect(await (await get('bytes=-3')).text()).toBe('def')
    expect(await (await get('bytes=14-99')).text()).toBe('ef')
    expect((await get('bytes=16-20')).status).toBe(416)
  })

  it('answers 404 in the GCS error shape for a missing object, bucket or session', async () => {
    const missing = await fetch(objectUrl('nope', '?alt=media'))
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: { code: 404, errors: [{ reason: 'notFound' }] } })

    const noBucket = await fetch(`${server.endpoint}/storage/v1/b/no-such-bucket/o`)
    expect(noBucket.status).toBe(404)
    expect(await noBucket.json()).toMatchObject({ error: { code: 404, errors: [{ reason: 'notFound' }] } })

    const noSession = await fetch(`${server.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&upload_id=x`, {
      method: 'PUT',
      body: 'x',
    })
    expect(noSession.status).toBe(404)
  })

  it('returns metadata, deletes with 204, then 404s', async () => {
    expect((await multipartUpload('to-delete', Buffer.from('x'))).status).toBe(200)
    const meta = await fetch(objectUrl('to-delete'))
    expect(await meta.json()).toMatchObject({ name: 'to-delete', size: '1' })
    expect((await fetch(objectUrl('to-delete'), { method: 'DELETE' })).status).toBe(204)
    expect((await fetch(objectUrl('to-delete'))).status).toBe(404)
    expect((await fetch(objectUrl('to-delete'), { method: 'DELETE' })).status).toBe(404)
  })

  it('honours ifGenerationMatch=0 (create only)', async () => {
    const url = `${server.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=once&ifGenerationMatch=0`
    expect((await fetch(url, { method: 'POST', body: 'first' })).status).toBe(200)
    const again = await fetch(url, { method: 'POST', body: 'second' })
    expect(again.status).toBe(412)
    expect(await again.json()).toMatchObject({ error: { errors: [{ reason: 'conditionNotMet' }] } })
    expect(await (await fetch(objectUrl('once', '?alt=media'))).text()).toBe('first')
  })

  it('lists by prefix, pages with maxResults and pageToken, and collapses by delimiter', async () => {
    for (const name of ['list/a', 'list/b', 'list/c', 'list/sub/d', 'listing-other']) {
      expect((await multipartUpload(name, Buffer.from(name))).status).toBe(200)
    }
    const list = async (query: string): Promise<{ items?: { name: string }[]; prefixes?: string[]; nextPageToken?: string }> =>
      (await fetch(`${server.endpoint}/storage/v1/b/${bucket}/o?${query}`)).json() as Promise<never>

    const all = await list('prefix=list%2F')
    expect(all.items?.map((i) => i.name)).toEqual(['list/a', 'list/b', 'list/c', 'list/sub/d'])
    expect(all.nextPageToken).toBeUndefined()

    const page1 = await list('prefix=list%2F&maxResults=3')
    expect(page1.items?.map((i) => i.name)).toEqual(['list/a', 'list/b', 'list/c'])
    const page2 = await list(`prefix=list%2F&maxResults=3&pageToken=${page1.nextPageToken!}`)
    expect(page2.items?.map((i) => i.name)).toEqual(['list/sub/d'])
    expect(page2.nextPageToken).toBeUndefined()

    const shallow = await list('prefix=list%2F&delimiter=%2F')
    expect(shallow.items?.map((i) => i.name)).toEqual(['list/a', 'list/b', 'list/c'])
    expect(shallow.prefixes).toEqual(['list/sub/'])

    expect((await list('prefix=nothing-here')).items).toBeUndefined()
  })

  it('refuses connections once closed', async () => {
    const own = await startGcsServer()
    onTestFinished(() => own.close())
    expect((await fetch(`${own.endpoint}/storage/v1/b/airlock-test/o`)).status).toBe(200)
    await own.close()
    await expect(fetch(`${own.endpoint}/storage/v1/b/airlock-test/o`)).rejects.toThrow()
  })
})
