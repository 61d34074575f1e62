import type { Readable } from 'node:stream'
import type * as AzureBlob from '@azure/storage-blob'
import { Secret } from '../crypto/secret.js'
import { AirlockError, ConflictingOptionsError, InvalidArgumentError, ResultExistsError, ResultNotFoundError, StorageError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { checkCloudClientOptions, prefixed, type CloudClientOptions } from './cloud-client-options.js'
import { Result, type ResultOptions } from './result.js'

/**
 * Options of an {@link AzureResult}: the container, and how to reach the
 * account: a ready `client` (a `BlobServiceClient`), a connection string,
 * or an account URL with `credentials`.
 *
 * @example
 * ```ts
 * const fromConnectionString: AzureResultOptions = {
 *   container: 'results',
 *   connectionString: await secrets.get('AZURE_STORAGE_CONNECTION_STRING'),  // a Secret, or a string
 * }
 * const fromCredential: AzureResultOptions = {
 *   container: 'results',
 *   accountUrl: 'https://teamresults.blob.core.windows.net',
 *   credentials: new DefaultAzureCredential(),                               // from @azure/identity
 *   overwrite: false,
 * }
 * ```
 */
export interface AzureResultOptions<T = unknown> extends ResultOptions<T>, CloudClientOptions<AzureBlobServiceClient, object, object> {
  /** The container every location is a blob name in. It must exist: `AzureResult` does not create it. */
  container: string
  /** The account's connection string. Never serialized or quoted. Not with `accountUrl` or `client`. */
  connectionString?: string | Secret<string>
  /** The account's blob endpoint, `https://<account>.blob.core.windows.net`; a SAS in it is a credential too. Not with `connectionString` or `client`. */
  accountUrl?: string
  /**
   * With `accountUrl`: a `TokenCredential` (such as `@azure/identity`'s), a
   * `StorageSharedKeyCredential` or an `AnonymousCredential`. (The
   * `credentials` of {@link CloudClientOptions}; a connection string carries its own.)
   */
  credentials?: object
  /** @deprecated The older name of `credentials`. Setting both is a `ConflictingOptionsError`. */
  credential?: object
}

/**
 * The one method `AzureResult` uses of a `BlobServiceClient` of
 * `@azure/storage-blob`, so that compiling against airlock-sdk never needs
 * the client's types.
 *
 * @example
 * ```ts
 * const client: AzureBlobServiceClient = BlobServiceClient.fromConnectionString(connectionString)
 * ```
 */
export interface AzureBlobServiceClient {
  getContainerClient(name: string): unknown
}

/** Block size and blocks in flight of a streamed upload: about 16 MiB of buffers whatever the size. */
const BLOCK_BYTES = 4 * 1024 * 1024
const BLOCKS_IN_FLIGHT = 4
const CONTENT_TYPE = 'application/octet-stream'
// Names Azure and Node give failures (`AuthorizationFailure`, `ECONNREFUSED`): safe to quote. Anything else is not.
const FAILURE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/
const EXISTS_CODES = new Set(['BlobAlreadyExists', 'ConditionNotMet'])

let sdkLoading: Promise<typeof AzureBlob> | undefined

// @azure/storage-blob is an optional peer dependency: loaded at first use, so
// a user of LocalResult alone never needs it installed.
function loadSdk(): Promise<typeof AzureBlob> {
  sdkLoading ??= import('@azure/storage-blob').catch(() => {
    sdkLoading = undefined
    throw new StorageError('AzureResult needs @azure/storage-blob: npm install @azure/storage-blob')
  })
  return sdkLoading
}

/**
 * Results stored as block blobs in an Azure Storage container, through
 * `@azure/storage-blob`, which is loaded at first use.
 *
 * - Overwriting is explicit: `overwrite: true` (the default) replaces a blob
 *   already stored at the location, like every other backend; with
 *   `overwrite: false` every write is conditional on the blob being absent,
 *   so a second write to a location fails with `ResultExistsError`
 *   (`ERR_RESULT_EXISTS`) and leaves the first one as it was. The check is
 *   made by the service, atomically with the write: two racing writers
 *   cannot both succeed.
 * - `write` sends a value in one request (blocks above 256 MiB);
 *   `writeStream` stages 4 MiB blocks, 4 in flight (about 16 MiB of memory
 *   whatever the size), and commits them at the end. Either way the blob
 *   appears only once complete; blocks of a failed upload are never
 *   committed, and the service drops them after a week.
 * - `exists` reads the blob's properties and downloads nothing. A missing
 *   blob is `false`; a missing container, a refused credential or a network
 *   failure throws `StorageError`, never `false`.
 * - Failures are `StorageError`s (`ERR_STORAGE`) that name the action and the
 *   failure's class only: Azure's error code or Node's
 *   (`AuthorizationFailure`, `ECONNREFUSED`) and the HTTP status. The
 *   client's message and the error itself are not kept: they can quote the
 *   blob URL, with the plain location and any SAS in it.
 * - The connection string, the account URL and the credential stay private:
 *   `toJSON()` is `{ type: 'azure', location, container }`, and
 *   `util.inspect` shows the same.
 *
 * @example
 * ```ts
 * import { AzureResult, KeyRing } from 'airlock-sdk'
 *
 * const keys = KeyRing.generate()
 * const r = new AzureResult({
 *   container: 'results',
 *   location: '{flowName}/{taskName}/{taskRunId}.json',
 *   connectionString: process.env.AZURE_STORAGE_CONNECTION_STRING,
 *   overwrite: false,                          // write-once: a rerun cannot replace a result
 *   locationCipher: keys,
 *   payloadCipher: keys,                       // Azure stores ciphertext only
 * })
 * const written = await r.write({ rows: 42 }, { flowName: 'etl', taskName: 'load', taskRunId: 'r1' })
 * JSON.stringify(written)          // {"type":"azure","location":"alk1.eyJ...","container":"results"}
 * await r.read(written.location)   // .value is { rows: 42 }
 * await r.write({ rows: 0 }, { flowName: 'etl', taskName: 'load', taskRunId: 'r1' })  // throws ERR_RESULT_EXISTS
 * ```
 */
export class AzureResult<T = unknown> extends Result<T> {
  readonly #containerName: string
  readonly #connectionString: Secret<string> | undefined
  readonly #accountUrl: string | undefined
  readonly #credential: Parameters<typeof AzureBlob.newPipeline>[0]
  readonly #clientOptions: AzureBlob.StoragePipelineOptions | undefined
  readonly #prefix: string
  #service: AzureBlob.BlobServiceClient | undefined
  #container: AzureBlob.ContainerClient | undefined

  constructor(options: AzureResultOptions<T>) {
    super(options, ['container', 'connectionString', 'accountUrl', 'client', 'clientOptions', 'credentials', 'credential', 'prefix'])
    const { container, connectionString, accountUrl } = options
    if (typeof container !== 'string' || container === '' || container.includes('/')) {
      throw new InvalidArgumentError(`AzureResult needs container, a container name, found ${describeType(container)}`)
    }
    const checked = checkCloudClientOptions<AzureBlob.BlobServiceClient>(
      'AzureResult',
      options,
      { credentials: 'credential' },
      (c) => typeof (c as { getContainerClient?: unknown }).getContainerClient === 'function',
      'a BlobServiceClient',
    )
    if (checked.client !== undefined && (connectionString !== undefined || accountUrl !== undefined)) {
      throw new ConflictingOptionsError('AzureResult takes a ready client, or connectionString or accountUrl to make one, not both')
    }
    if (checked.client === undefined && (connectionString === undefined) === (accountUrl === undefined)) {
      throw new InvalidArgumentError('AzureResult takes a client, or either connectionString or accountUrl (with credentials), exactly one')
    }
    if (connectionString !== undefined && !isNonEmpty(connectionString instanceof Secret ? connectionString.reveal() : connectionString)) {
      throw new InvalidArgumentError('AzureResult connectionString must be a non-empty string or a Secret holding one')
    }
    if (accountUrl !== undefined && !isHttpUrl(accountUrl)) {
      // Not quoted: a SAS in the URL is a credential.
      throw new InvalidArgumentError('AzureResult accountUrl must be an http(s) URL')
    }
    if (checked.credentials !== undefined && accountUrl === undefined) {
      throw new InvalidArgumentError('AzureResult takes credentials only with accountUrl; a connection string carries its own')
    }
    this.#containerName = container
    this.#connectionString = typeof connectionString === 'string' ? new Secret(connectionString) : connectionString
    this.#accountUrl = accountUrl
    this.#credential = checked.credentials as Parameters<typeof AzureBlob.newPipeline>[0]
    this.#clientOptions = checked.clientOptions
    this.#service = checked.client
    this.#prefix = checked.prefix
  }

  get type(): 'azure' {
    return 'azure'
  }

  /** The container results are stored in. */
  get container(): string {
    return this.configured.#containerName
  }

  protected async writeBytes(plainLocation: string, bytes: Uint8Array): Promise<void> {
    const blob = await this.#blob(plainLocation)
    try {
      await blob.uploadData(bytes, this.#uploadOptions())
    } catch (err) {
      throw this.#writeFailure(err)
    }
  }

  protected override async writeStreamAt(plainLocation: string, body: Readable): Promise<void> {
    const blob = await this.#blob(plainLocation)
    try {
      await blob.uploadStream(body, BLOCK_BYTES, BLOCKS_IN_FLIGHT, this.#uploadOptions())
    } catch (err) {
      throw this.#writeFailure(err)
    }
  }

  protected async readBytes(plainLocation: string): Promise<Uint8Array> {
    const chunks: Buffer[] = []
    for await (const chunk of await this.#download(plainLocation)) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }

  protected override readStreamAt(plainLocation: string): Promise<Readable> {
    return this.#download(plainLocation)
  }

  protected async existsAt(plainLocation: string): Promise<boolean> {
    const blob = await this.#blob(plainLocation)
    try {
      await blob.getProperties()
      return true
    } catch (err) {
      if (isBlobNotFound(err)) return false
      throw failure('check the result', err)
    }
  }

  protected override identifiers(): Readonly<Record<string, string>> {
    return { container: this.#containerName }
  }

  async #download(plainLocation: string): Promise<Readable> {
    const blob = await this.#blob(plainLocation)
    let body: NodeJS.ReadableStream | undefined
    try {
      body = (await blob.download()).readableStreamBody
    } catch (err) {
      if (isBlobNotFound(err)) throw new ResultNotFoundError('AzureResult found no result at the given location')
      throw failure('read the result', err)
    }
    if (body === undefined) throw new StorageError('AzureResult could not read the result: the response had no body')
    return this.storageStream(body as AsyncIterable<Uint8Array>, (err) => failure('read the result', err))
  }

  #uploadOptions(): AzureBlob.BlockBlobUploadStreamOptions {
    return {
      blobHTTPHeaders: { blobContentType: CONTENT_TYPE },
      ...(this.overwrite ? {} : { conditions: { ifNoneMatch: '*' } }),
    }
  }

  #writeFailure(err: unknown): AirlockError {
    const { code } = describeFailure(err)
    if (!this.overwrite && code !== undefined && EXISTS_CODES.has(code)) {
      return new ResultExistsError('AzureResult found a blob already stored at the location, and overwrite is false')
    }
    return failure('write the result', err)
  }

  async #blob(plainLocation: string): Promise<AzureBlob.BlockBlobClient> {
    if (this.#container === undefined) {
      this.#service ??= await this.#makeService()
      this.#container ??= this.#service.getContainerClient(this.#containerName)
    }
    return this.#container.getBlockBlobClient(prefixed(this.#prefix, plainLocation))
  }

  async #makeService(): Promise<AzureBlob.BlobServiceClient> {
    const sdk = await loadSdk()
    try {
      return this.#connectionString === undefined
        ? new sdk.BlobServiceClient(this.#accountUrl as string, this.#credential, this.#clientOptions)
        : sdk.BlobServiceClient.fromConnectionString(this.#connectionString.reveal(), this.#clientOptions)
    } catch {
      // The SDK's message may quote the connection string or the URL.
      throw new InvalidArgumentError('AzureResult could not make a client: the connection string or account URL is malformed')
    }
  }
}

function isNonEmpty(value: unknown): boolean {
  return typeof value === 'string' && value !== ''
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false
  try {
    const { protocol } = new URL(value)
    return protocol === 'https:' || protocol === 'http:'
  } catch {
    return false
  }
}

// A RestError carries the HTTP status and Azure's error code (`x-ms-error-code`:
// in `code` when the body had one, else only in `details`, as for a HEAD);
// a network error, Node's code.
function describeFailure(err: unknown): { code: string | undefined; status: number | undefined } {
  const { code, statusCode, details } = (err ?? {}) as { code?: unknown; statusCode?: unknown; details?: { errorCode?: unknown } }
  const named = [code, details?.errorCode].find((n): n is string => typeof n === 'string' && FAILURE_NAME.test(n))
  return { code: named, status: typeof statusCode === 'number' && Number.isInteger(statusCode) ? statusCode : undefined }
}

// Only a missing blob: a missing container is a misconfiguration, not "no result".
function isBlobNotFound(err: unknown): boolean {
  const { code, status } = describeFailure(err)
  return status === 404 && code === 'BlobNotFound'
}

// The client's message and the error object stay out: either may hold the blob URL (the plain location, a SAS).
function failure(action: string, err: unknown): AirlockError {
  if (err instanceof AirlockError) return err
  const { code, status } = describeFailure(err)
  return new StorageError(`AzureResult could not ${action}: ${code ?? 'error'}${status === undefined ? '' : ` (HTTP ${status})`}`)
}
