import { fileURLToPath } from 'node:url'
import { startNodeServer } from './s3-server.js'

/**
 * An azurite blob service (in memory) as a child process on a random loopback
 * port. It starts with no containers: a test creates its own, under a name of
 * its own, with `createIfNotExists()`.
 *
 * @example
 * ```ts
 * import { BlobServiceClient } from '@azure/storage-blob'
 * import { startAzuriteServer } from '../support/azurite-server.js'
 *
 * const server = await startAzuriteServer()
 * const service = BlobServiceClient.fromConnectionString(server.connectionString)
 * await service.getContainerClient('results').createIfNotExists()
 * await server.close()   // later requests fail with ECONNREFUSED
 * ```
 */
export interface AzuriteServer {
  /** `http://127.0.0.1:PORT/devstoreaccount1` */
  readonly blobEndpoint: string
  /** A connection string for the well-known development account. */
  readonly connectionString: string
  /** Stops the process and removes its temp dir. Idempotent. */
  readonly close: () => Promise<void>
}

/**
 * The account azurite serves. The key is public, printed in Microsoft's docs;
 * it protects nothing.
 *
 * @example
 * ```ts
 * new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key)
 * ```
 */
export const AZURITE_ACCOUNT = Object.freeze({
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
})

const AZURITE_BLOB_MAIN = fileURLToPath(new URL('../../node_modules/azurite/dist/src/blob/main.js', import.meta.url))

/**
 * Starts a private azurite blob service. Its working directory is a temp dir
 * (`--inMemoryPersistence` cannot be combined with `-l`), removed on close.
 *
 * @example
 * ```ts
 * const { connectionString, close } = await startAzuriteServer()
 * ```
 */
export async function startAzuriteServer(): Promise<AzuriteServer> {
  const server = await startNodeServer({
    name: 'azurite',
    script: AZURITE_BLOB_MAIN,
    // --skipApiVersionCheck: newer SDKs send an API version azurite does not know yet.
    // --disableTelemetry: otherwise the log fills with network errors and shutdown is slow.
    args: () => ['--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--disableTelemetry', '--skipApiVersionCheck', '--silent'],
    ready: /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/,
  })
  const blobEndpoint = `http://127.0.0.1:${server.port}/${AZURITE_ACCOUNT.name}`
  return {
    blobEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT.name};AccountKey=${AZURITE_ACCOUNT.key};BlobEndpoint=${blobEndpoint};`,
    close: server.stop,
  }
}
