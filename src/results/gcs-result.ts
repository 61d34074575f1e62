import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type * as CloudStorage from '@google-cloud/storage'
import { AirlockError, InvalidArgumentError, ResultExistsError, ResultNotFoundError, StorageError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { checkCloudClientOptions, prefixed, type CloudClientOptions } from './cloud-client-options.js'
import { Result, type ResultOptions } from './result.js'

/**
 * Options of a {@link GCSResult}: the bucket, and either a `Storage` client or
 * the options to make one (neither: the client's defaults, so Application
 * Default Credentials).
 *
 * @example
 * ```ts
 * const options: GCSResultOptions = {
 *   bucket: 'team-results',
 *   location: '{flowName}/{taskName}/{taskRunId}.json',
 *   clientOptions: { projectId: 'team', apiEndpoint: 'https://storage.example.internal' },
 *   locationCipher: keys,
 *   payloadCipher: keys,
 * }
 * ```
 */
export interface GCSResultOptions<T = unknown> extends ResultOptions<T>, CloudClientOptions<GCSStorageClient, object, object> {
  /** The bucket every location is an object name in. */
  bucket: string
  /** @deprecated The older name of `client` (a `Storage` client). Setting both is a `ConflictingOptionsError`. */
  storage?: GCSStorageClient
  /** @deprecated The older name of `clientOptions` (`StorageOptions`). Setting both is a `ConflictingOptionsError`. */
  storageOptions?: object
}

/**
 * The one method `GCSResult` uses of a `Storage` client of
 * `@google-cloud/storage`, so that compiling against airlock-sdk never needs
 * the client's types.
 *
 * @example
 * ```ts
 * const client: GCSStorageClient = new Storage({ projectId: 'team' })
 * ```
 */
export interface GCSStorageClient {
  bucket(name: string): unknown
}

/** Bodies above this go up as a resumable upload; below, in one multipart request. Streams are always resumable. */
const RESUMABLE_ABOVE = 8 * 1024 * 1024
const CONTENT_TYPE = 'application/octet-stream'
// Names Node and GCS give failures (`ECONNREFUSED`, `forbidden`): safe to quote. Anything else is not.
const FAILURE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/

let sdkLoading: Promise<typeof CloudStorage> | undefined

// @google-cloud/storage is an optional peer dependency: loaded at first use,
// so a user of LocalResult alone never needs it installed.
function loadSdk(): Promise<typeof CloudStorage> {
  sdkLoading ??= import('@google-cloud/storage').catch(() => {
    sdkLoading = undefined
    throw new StorageError('GCSResult needs @google-cloud/storage: npm install @google-cloud/storage')
  })
  return sdkLoading
}

/**
 * Results stored as objects in a Google Cloud Storage bucket, through
 * `@google-cloud/storage`, which is loaded at first use.
 *
 * - `clientOptions.apiEndpoint` points the client at a private endpoint
 *   (Private Service Connect, a test server).
 * - Bodies larger than 8 MiB, and every `writeStream`, go up as a resumable
 *   upload, in one streamed request; smaller ones as a single multipart
 *   request. An object appears only once its upload is complete, and the
 *   client checks its CRC32C against what the server stored. A failed
 *   resumable upload leaves an unfinished session, which GCS drops after a
 *   week, never a partial object.
 * - `exists` reads the object's metadata and downloads nothing. A missing
 *   object is `false`; any other failure (access denied, network, server
 *   error) throws `StorageError`, never `false`. GCS answers a missing
 *   bucket with the same 404, so it reads as a missing object.
 * - An existing object is overwritten, unless `overwrite: false`: then each
 *   write carries `ifGenerationMatch: 0` and fails with `ResultExistsError`.
 * - Failures are `StorageError`s (`ERR_STORAGE`) that name the action and the
 *   failure's class only: the GCS reason or Node's code (`forbidden`,
 *   `ECONNREFUSED`) and the HTTP status. The client's message and the error
 *   itself are not kept: they can quote the object name (the plain location)
 *   or the request.
 * - Credentials stay inside the client: `toJSON()` is
 *   `{ type: 'gcs', location, bucket }`, and `util.inspect` shows the same.
 *
 * @example
 * ```ts
 * import { GCSResult, KeyRing } from 'airlock-sdk'
 *
 * const keys = KeyRing.generate()
 * const r = new GCSResult({
 *   bucket: 'team-results',
 *   location: '{flowName}/{taskName}/{taskRunId}.json',
 *   clientOptions: { projectId: 'team' },      // credentials: Application Default Credentials
 *   locationCipher: keys,
 *   payloadCipher: keys,                       // GCS stores ciphertext only
 * })
 * const written = await r.write({ rows: 42 }, { flowName: 'etl', taskName: 'load', taskRunId: 'r1' })
 * JSON.stringify(written)          // {"type":"gcs","location":"alk1.eyJ...","bucket":"team-results"}
 * await r.read(written.location)   // .value is { rows: 42 }
 * ```
 */
export class GCSResult<T = unknown> extends Result<T> {
  readonly #bucketName: string
  readonly #storageOptions: CloudStorage.StorageOptions | undefined
  readonly #prefix: string
  #storage: CloudStorage.Storage | undefined

  constructor(options: GCSResultOptions<T>) {
    super(options, ['bucket', 'client', 'clientOptions', 'credentials', 'prefix', 'storage', 'storageOptions'])
    const { bucket } = options
    if (typeof bucket !== 'string' || bucket === '' || bucket.includes('/')) {
      throw new InvalidArgumentError(`GCSResult needs bucket, a bucket name, found ${describeType(bucket)}`)
    }
    const checked = checkCloudClientOptions<CloudStorage.Storage>(
      'GCSResult',
      options,
      { client: 'storage', clientOptions: 'storageOptions' },
      (c) => typeof (c as { bucket?: unknown }).bucket === 'function',
      'a Storage client',
    )
    this.#bucketName = bucket
    this.#storage = checked.client
    this.#storageOptions =
      checked.credentials === undefined
        ? (checked.clientOptions)
        : { ...checked.clientOptions, credentials: checked.credentials as CloudStorage.StorageOptions['credentials'] }
    this.#prefix = checked.prefix
  }

  get type(): 'gcs' {
    return 'gcs'
  }

  /** The bucket results are stored in. */
  get bucket(): string {
    return this.configured.#bucketName
  }

  protected async writeBytes(plainLocation: string, bytes: Uint8Array): Promise<void> {
    const file = await this.#file(plainLocation)
    try {
      await file.save(bytes, { resumable: bytes.length > RESUMABLE_ABOVE, contentType: CONTENT_TYPE, ...this.#preconditions() })
    } catch (err) {
      throw this.#writeFailure(err)
    }
  }

  protected override async writeStreamAt(plainLocation: string, body: Readable): Promise<void> {
    const file = await this.#file(plainLocation)
    try {
      await pipeline(body, file.createWriteStream({ resumable: true, contentType: CONTENT_TYPE, ...this.#preconditions() }))
    } catch (err) {
      throw this.#writeFailure(err)
    }
  }

  protected async readBytes(plainLocation: string): Promise<Uint8Array> {
    const file = await this.#file(plainLocation)
    try {
      return (await file.download())[0]
    } catch (err) {
      if (statusOf(err) === 404) throw notFound()
      throw failure('read the result', err)
    }
  }

  protected override async readStreamAt(plainLocation: string): Promise<Readable> {
    const file = await this.#file(plainLocation)
    // The client reports a missing object as the stream's first error: storageStream turns it into a rejection.
    return this.storageStream(file.createReadStream(), (err) => (statusOf(err) === 404 ? notFound() : failure('read the result', err)))
  }

  protected async existsAt(plainLocation: string): Promise<boolean> {
    const file = await this.#file(plainLocation)
    try {
      await file.getMetadata()
      return true
    } catch (err) {
      if (statusOf(err) === 404) return false
      throw failure('check the result', err)
    }
  }

  protected override identifiers(): Readonly<Record<string, string>> {
    return { bucket: this.#bucketName }
  }

  // Generation 0 means "no live object": GCS checks it atomically with the write.
  #preconditions(): { preconditionOpts?: { ifGenerationMatch: number } } {
    return this.overwrite ? {} : { preconditionOpts: { ifGenerationMatch: 0 } }
  }

  #writeFailure(err: unknown): AirlockError {
    if (!this.overwrite && statusOf(err) === 412) {
      return new ResultExistsError('GCSResult found an object already stored at the location, and overwrite is false')
    }
    return failure('write the result', err)
  }

  async #file(plainLocation: string): Promise<CloudStorage.File> {
    if (this.#storage === undefined) {
      const sdk = await loadSdk()
      this.#storage ??= new sdk.Storage(this.#storageOptions)
    }
    return this.#storage.bucket(this.#bucketName).file(prefixed(this.#prefix, plainLocation))
  }
}

function notFound(): ResultNotFoundError {
  return new ResultNotFoundError('GCSResult found no result at the given location')
}

// An ApiError's `code` is the HTTP status; a network error's is Node's string code.
function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'number' && Number.isInteger(code) ? code : undefined
}

// The client's message and the error object stay out: either may hold the object name (the plain location).
function failure(action: string, err: unknown): AirlockError {
  if (err instanceof AirlockError) return err
  const { code, errors } = (err ?? {}) as { code?: unknown; errors?: { reason?: unknown }[] }
  const reason = Array.isArray(errors) ? errors[0]?.reason : undefined
  const label = [reason, code].find((n): n is string => typeof n === 'string' && FAILURE_NAME.test(n))
  const status = statusOf(err)
  // A download's error has no reason (the client does not parse its body): the status is all there is.
  const described = label === undefined ? (status === undefined ? 'error' : `HTTP ${status}`) : status === undefined ? label : `${label} (HTTP ${status})`
  return new StorageError(`GCSResult could not ${action}: ${described}`)
}
