import { randomUUID } from 'node:crypto'
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { S3RVER_CREDENTIALS, startS3Server } from '../support/s3-server.js'

const client = (endpoint: string): S3Client =>
  new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS, maxAttempts: 1 })

describe('s3rver from globalSetup', () => {
  const s3 = client(inject('s3Endpoint'))
  const Bucket = inject('s3Bucket')
  const prefix = `s3-smoke-${randomUUID()}/`

  it('puts, gets and heads an object through @aws-sdk/client-s3', async () => {
    const Key = `${prefix}a.txt`
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'hello s3' }))
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }))
    expect(await got.Body?.transformToString()).toBe('hello s3')
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }))
    expect(head.ContentLength).toBe(8)
  })

  it('answers HeadObject on a missing key with NotFound and GetObject with NoSuchKey', async () => {
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: `${prefix}missing` }))).rejects.toMatchObject({
      name: 'NotFound',
      $metadata: { httpStatusCode: 404 },
    })
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}missing` }))).rejects.toMatchObject({ name: 'NoSuchKey' })
  })

  it('lists a truncated page (needs --openssl-legacy-provider)', async () => {
    for (const n of [1, 2, 3]) await s3.send(new PutObjectCommand({ Bucket, Key: `${prefix}list/${n}`, Body: 'x' }))
    const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: `${prefix}list/`, MaxKeys: 2 }))
    expect(page.IsTruncated).toBe(true)
    expect(page.Contents?.map((c) => c.Key)).toEqual([`${prefix}list/1`, `${prefix}list/2`])
  })
})

describe('a private s3rver', () => {
  it('starts with its buckets and refuses connections once closed', async () => {
    const own = await startS3Server({ buckets: ['private-one'] })
    onTestFinished(() => own.close())
    const s3 = client(own.endpoint)
    await s3.send(new PutObjectCommand({ Bucket: 'private-one', Key: 'k', Body: 'v' }))
    await own.close()
    await expect(s3.send(new GetObjectCommand({ Bucket: 'private-one', Key: 'k' }))).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })
})
