import type { TestProject } from 'vitest/node'
import { startAzuriteServer } from './azurite-server.js'
import { startGcsServer } from './gcs-server.js'
import { startS3Server } from './s3-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** s3rver, `http://127.0.0.1:PORT`; use with `forcePathStyle: true` and `S3RVER_CREDENTIALS`. */
    s3Endpoint: string
    /** A bucket that exists on `s3Endpoint`. */
    s3Bucket: string
    /** azurite blob service, well-known dev account. It has no containers; tests create their own. */
    azureConnectionString: string
    /** The GCS JSON-API test server, `http://127.0.0.1:PORT`; pass it as `apiEndpoint`. */
    gcsEndpoint: string
    /** A bucket that exists on `gcsEndpoint`. */
    gcsBucket: string
  }
}

/** The bucket created on the shared S3 and GCS servers. */
export const SHARED_BUCKET = 'airlock-test'

/**
 * Starts the storage servers the suite needs, once for the whole run, on
 * random loopback ports, and hands their addresses to the tests. The servers
 * are shared by every test file, which run in parallel: each test writes under
 * a key prefix (or container) of its own. A test that needs to stop a server
 * mid-test starts a private one with `startS3Server`, `startAzuriteServer` or
 * `startGcsServer`.
 *
 * @example
 * ```ts
 * import { inject } from 'vitest'
 *
 * const storage = new Storage({ apiEndpoint: inject('gcsEndpoint'), projectId: 'test' })
 * const bucket = storage.bucket(inject('gcsBucket'))
 * ```
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await Promise.allSettled([
    startS3Server({ buckets: [SHARED_BUCKET] }),
    startAzuriteServer(),
    startGcsServer({ buckets: [SHARED_BUCKET] }),
  ] as const)
  const [s3, azurite, gcs] = started
  if (s3.status === 'rejected' || azurite.status === 'rejected' || gcs.status === 'rejected') {
    await Promise.all(started.flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])))
    const reasons = started.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
    throw new AggregateError(reasons, 'a storage test server did not start')
  }

  project.provide('s3Endpoint', s3.value.endpoint)
  project.provide('s3Bucket', SHARED_BUCKET)
  project.provide('azureConnectionString', azurite.value.connectionString)
  project.provide('gcsEndpoint', gcs.value.endpoint)
  project.provide('gcsBucket', SHARED_BUCKET)

  return async () => {
    await Promise.all([s3.value.close(), azurite.value.close(), gcs.value.close()])
  }
}
