import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { BlobServiceClient } from '@azure/storage-blob'
import { Storage } from '@google-cloud/storage'
import { afterAll, beforeAll, inject } from 'vitest'
import { AzureResult } from '../../src/results/azure-result.js'
import { GCSResult } from '../../src/results/gcs-result.js'
import { LocalResult } from '../../src/results/local-result.js'
import { S3Result } from '../../src/results/s3-result.js'
import { S3RVER_CREDENTIALS } from '../support/s3-server.js'
import { describeBackendConformance } from './backend-conformance.js'
import { conditionalWritesProxy } from './s3-conditional-writes.js'

// Each backend against its real server (s3rver, azurite, the GCS JSON-API test
// server) or the real file system, through the same suite.

const s3Bucket = inject('s3Bucket')
const s3Config = (endpoint: string): S3ClientConfig => ({
  region: 'us-east-1',
  endpoint,
  forcePathStyle: true,
  // A fresh object each time: the SDK tags the credentials object it is given.
  credentials: { ...S3RVER_CREDENTIALS },
  maxAttempts: 1,
})
const s3 = new S3Client(s3Config(inject('s3Endpoint')))
let s3Proxy: Awaited<ReturnType<typeof conditionalWritesProxy>>

const gcsBucket = inject('gcsBucket')
const gcsOptions = { apiEndpoint: inject('gcsEndpoint'), projectId: 'test', retryOptions: { autoRetry: false } }
const gcs = new Storage(gcsOptions).bucket(gcsBucket)

const connectionString = inject('azureConnectionString')
const container = `conformance-${randomUUID()}`
const containerClient = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container)

let dir: string

beforeAll(async () => {
  s3Proxy = await conditionalWritesProxy(inject('s3Endpoint'), s3)
  await containerClient.create()
  dir = await mkdtemp(join(tmpdir(), 'airlock-conformance-'))
})

afterAll(async () => {
  await s3Proxy.close()
  await containerClient.delete()
  await rm(dir, { recursive: true, force: true })
})

describeBackendConformance('S3Result against s3rver', () => ({
  type: 's3',
  identifiers: { bucket: s3Bucket },
  prefixes: true,
  atomicConditionalWrites: false,
  make: (options) => new S3Result({ bucket: s3Bucket, clientOptions: s3Config(s3Proxy.endpoint), ...options }),
  stored: async (name) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: s3Bucket, Key: name }))).Body!.transformToByteArray()),
  put: async (name, bytes) => {
    await s3.send(new PutObjectCommand({ Bucket: s3Bucket, Key: name, Body: bytes }))
  },
}))

describeBackendConformance('GCSResult against the GCS test server', () => ({
  type: 'gcs',
  identifiers: { bucket: gcsBucket },
  prefixes: true,
  atomicConditionalWrites: true,
  make: (options) => new GCSResult({ bucket: gcsBucket, clientOptions: { ...gcsOptions }, ...options }),
  stored: async (name) => (await gcs.file(name).download())[0],
  put: (name, bytes) => gcs.file(name).save(Buffer.from(bytes), { resumable: false }),
}))

describeBackendConformance('AzureResult against azurite', () => ({
  type: 'azure',
  identifiers: { container },
  prefixes: true,
  atomicConditionalWrites: true,
  make: (options) => new AzureResult({ container, connectionString, clientOptions: { retryOptions: { maxTries: 1 } }, ...options }),
  stored: (name) => containerClient.getBlockBlobClient(name).downloadToBuffer(),
  put: async (name, bytes) => {
    await containerClient.getBlockBlobClient(name).upload(bytes, bytes.length)
  },
}))

describeBackendConformance('LocalResult on the file system', () => ({
  type: 'local',
  identifiers: {},
  prefixes: false,
  atomicConditionalWrites: true,
  make: (options) => new LocalResult({ dir, ...options }),
  stored: (name) => readFile(join(dir, name)),
  put: async (name, bytes) => {
    await mkdir(dirname(join(dir, name)), { recursive: true })
    await writeFile(join(dir, name), bytes)
  },
}))
