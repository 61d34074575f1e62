import { randomUUID } from 'node:crypto'
import { BlobServiceClient } from '@azure/storage-blob'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { startAzuriteServer } from '../support/azurite-server.js'

describe('azurite from globalSetup', () => {
  it('uploads and downloads a blob through @azure/storage-blob', async () => {
    const service = BlobServiceClient.fromConnectionString(inject('azureConnectionString'))
    const container = service.getContainerClient(`smoke-${randomUUID()}`)
    await container.createIfNotExists()
    const blob = container.getBlockBlobClient('dir/a.txt')
    await blob.upload('hello azure', 11)
    expect((await blob.downloadToBuffer()).toString()).toBe('hello azure')
    expect(await container.getBlockBlobClient('missing').exists()).toBe(false)
    await expect(container.getBlockBlobClient('missing').download()).rejects.toMatchObject({ statusCode: 404 })
  })
})

describe('a private azurite', () => {
  it('refuses connections once closed', async () => {
    const own = await startAzuriteServer()
    onTestFinished(() => own.close())
    const service = BlobServiceClient.fromConnectionString(own.connectionString, { retryOptions: { maxTries: 1 } })
    const container = service.getContainerClient('private')
    await container.create()
    await own.close()
    await expect(container.exists()).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })
})
