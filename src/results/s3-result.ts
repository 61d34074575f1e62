import type { Readable } from 'node:stream'
import type * as ClientS3 from '@aws-sdk/client-s3'
import type * as LibStorage from '@aws-sdk/lib-storage'
import { AirlockError, InvalidArgumentError, ResultExistsError, ResultNotFoundError, StorageError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { checkCloudClientOptions, prefixed, type CloudClientOptions } from './cloud-client-options.js'
import { Result, type ResultOptions } from './result.js'

/**
 * What `S3Result` passes to every upload, in the SDK's own names: server-side
 * encryption (`'AES256'`, `'aws:kms'`, `'aws:kms:dsse'`), the KMS key for it,
 * and the storage class. They apply to single-request and multipart uploads alike.
 *
 * @example
 * ```ts
 * const uploadOptions: S3UploadOptions = {
 *   ServerSideEncryption: 'aws:kms',
 *   SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
 *   StorageClass: 'STANDARD_IA',
 * }
 * ```
 */
export interface S3UploadOptions {
  /** `'AES256'`, `'aws:kms'` or `'aws:kms:dsse'`. */
  ServerSideEncryption?: string
  /** The KMS key of `'aws:kms'` encryption. */
  SSEKMSKeyId?: string
  /** `'STANDARD'`, `'STANDARD_IA'`, `'GLACIER_IR'`, ... */
  StorageClass?: string
}

/**
 * Options of an {@link S3Result}: the bucket, and either a client or the
 * configuration to make one (neither: the SDK's defaults, so its default
 * region and credential chain).
 *
 * @example
 * ```ts
 * const options: S3ResultOptions = {
 *   bucket: 'team-results',
 *   location: '{flowName}/{taskName}/{taskRunId}.json',
 *   clientOptions: { region: 'eu-west-1' },
 *   uploadOptions: { ServerSideEncryption: 'aws:kms' },
 *   locationCipher: keys,
 *   payloadCipher: keys,
 * }
 * ```
 */
export interface S3ResultOptions<T = unknown> extends ResultOptions<T>, CloudClientOptions<S3SendingClient, object> {
  /** The bucket every location is a key in. */
  bucket: string
  /** @deprecated The older name of `clientOptions` (an `S3ClientConfig`). Setting both is a `ConflictingOptionsError`. */
  clientConfig?: object
  /** Server-side encryption, KMS key and storage class of every upload. */
  uploadOptions?: S3UploadOptions
}

/**
 * The one method `S3Result` uses of an `S3Client` of `@aws-sdk/client-s3`,
 * so that compiling against airlock-sdk never needs the AWS SDK's types.
 *
 * @example
 * ```ts
 * const client: S3SendingClient = new S3Client({ region: 'eu-west-1' })
 * ```
 */
export interface S3SendingClient {
  send(command: never, options?: never): Promise<unknown>
}

interface S3Sdk {
  readonly s3: typeof ClientS3
  readonly storage: typeof LibStorage
}

const UPLOAD_OPTION_KEYS = ['ServerSideEncryption', 'SSEKMSKeyId', 'StorageClass'] as const
const CONTENT_TYPE = 'application/octet-stream'
// Names S3 and Node give failures (`AccessDenied`, `ECONNREFUSED`): safe to quote. Anything else is not.
const FAILURE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/
const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NotFound'])

let sdkLoading: Promise<S3Sdk> | undefined

// The AWS SDK is an optional peer dependency: loaded at first use, so a
// user of LocalResult alone never needs it installed.
function loadSdk(): Promise<S3Sdk> {
  sdkLoading ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(
    ([s3, storage]) => ({ s3, storage }),
    () => {
      sdkLoading = undefined
      throw new StorageError('S3Result needs @aws-sdk/client-s3 and @aws-sdk/lib-storage: npm install @aws-sdk/client-s3 @aws-sdk/lib-storage')
    },
  )
  return sdkLoading
}

/**
 * Results stored as objects in an Amazon S3 bucket (or any S3-compatible
 * store), through `@aws-sdk/client-s3`, which is loaded at first use.
 *
 * - Writes go through `@aws-sdk/lib-storage`'s `Upload`: one PutObject up to
 *   5 MiB, a multipart upload above (parts of 5 MiB, 4 in flight, so a stream
 *   of any size uses about 20 MiB; S3's 10 000-part limit caps a stream at
 *   about 48 GiB). An object appears only once complete. A multipart upload
 *   that fails is aborted, so no parts are left billed behind; if the abort
 *   fails too (the endpoint is gone), the parts stay until a bucket lifecycle
 *   rule `AbortIncompleteMultipartUpload` removes them: set one.
 * - `exists` is a HeadObject and downloads nothing. A missing key is `false`;
 *   any other failure (access denied, network, server error) throws
 *   `StorageError`, never `false`. Without `s3:ListBucket`, S3 answers 403 for a
 *   missing key: that is an error here, not `false`. A HEAD of a missing
 *   bucket is a bare 404 too, so `exists` says `false` there; `read` names
 *   it (`NoSuchBucket`).
 * - An existing object is overwritten, unless `overwrite: false`: then each
 *   write carries `If-None-Match: *` and fails with `ResultExistsError`.
 * - Failures are `StorageError`s (`ERR_STORAGE`) that name the action and the
 *   failure's class only: S3's error code or Node's (`AccessDenied`,
 *   `ECONNREFUSED`) and the HTTP status. The SDK's message and the error
 *   itself are not kept: they can quote the key, which is the plain location.
 * - Credentials, from `credentials`, `clientOptions` or the SDK's default chain, stay inside
 *   the client: `toJSON()` is `{ type: 's3', location, bucket }`, and
 *   `util.inspect` shows the same.
 *
 * @example
 * ```ts
 * import { KeyRing, S3Result } from 'airlock-sdk'
 *
 * const keys = KeyRing.generate()
 * const r = new S3Result({
 *   bucket: 'team-results',
 *   location: '{flowName}/{taskName}/{taskRunId}.json',
 *   clientOptions: { region: 'eu-west-1' },         // credentials: the SDK's default chain
 *   uploadOptions: { ServerSideEncryption: 'aws:kms', StorageClass: 'STANDARD_IA' },
 *   locationCipher: keys,                           // the key leaves as an alk1. token
 *   payloadCipher: keys,                            // S3 stores ciphertext only
 * })
 * const written = await r.write({ rows: 42 }, { flowName: 'etl', taskName: 'load', taskRunId: 'r1' })
 * JSON.stringify(written)           // {"type":"s3","location":"alk1.eyJ...","bucket":"team-results"}
 * await r.read(written.location)    // .value is { rows: 42 }
 * await r.writeStream(fs.createReadStream('big.parquet'), { flowName: 'etl', taskName: 'export', taskRunId: 'r1' })
 * ```
 */
export class S3Result<T = unknown> extends Result<T> {
  readonly #bucket: string
  readonly #uploadOptions: Pick<ClientS3.PutObjectCommandInput, (typeof UPLOAD_OPTION_KEYS)[number]>
  readonly #clientConfig: ClientS3.S3ClientConfig | undefined
  readonly #prefix: string
  #client: ClientS3.S3Client | undefined

  constructor(options: S3ResultOptions<T>) {
    super(options, ['bucket', 'client', 'clientOptions', 'clientConfig', 'credentials', 'prefix', 'uploadOptions'])
    const { bucket, uploadOptions = {} } = options
    if (typeof bucket !== 'string' || bucket === '' || bucket.includes('/')) {
      throw new InvalidArgumentError(`S3Result needs bucket, a bucket name, found ${describeType(bucket)}`)
    }
    const checked = checkCloudClientOptions<ClientS3.S3Client>(
      'S3Result',
      options,
      { clientOptions: 'clientConfig' },
      (c) => typeof (c as { send?: unknown }).send === 'function',
      'an S3Client',
    )
    assertKnownOptions('S3Result uploadOptions', uploadOptions, UPLOAD_OPTION_KEYS)
    for (const key of UPLOAD_OPTION_KEYS) {
      const value: unknown = uploadOptions[key]
      if (value !== undefined && (typeof value !== 'string' || value === '')) {
        throw new InvalidArgumentError(`S3Result uploadOptions.${key} must be a non-empty string, found ${describeType(value)}`)
      }
    }
    this.#bucket = bucket
    this.#client = checked.client
    this.#clientConfig =
      checked.credentials === undefined ? checked.clientOptions : { ...checked.clientOptions, credentials: checked.credentials as ClientS3.S3ClientConfig['credentials'] }
    this.#prefix = checked.prefix
    this.#uploadOptions = { ...uploadOptions } as Pick<ClientS3.PutObjectCommandInput, (typeof UPLOAD_OPTION_KEYS)[number]>
  }

  get type(): 's3' {
    return 's3'
  }

  /** The bucket results are stored in. */
  get bucket(): string {
    return this.configured.#bucket
  }

  protected writeBytes(plainLocation: string, bytes: Uint8Array): Promise<void> {
    return this.#upload(plainLocation, bytes)
  }

  protected override writeStreamAt(plainLocation: string, body: Readable): Promise<void> {
    return this.#upload(plainLocation, body)
  }

  protected async readBytes(plainLocation: string): Promise<Uint8Array> {
    const body = await this.#get(plainLocation)
    try {
      return await body.transformToByteArray()
    } catch (err) {
      throw failure('read the result', err)
    }
  }

  protected override async readStreamAt(plainLocation: string): Promise<Readable> {
    const body = await this.#get(plainLocation)
    // In Node the body is an http.IncomingMessage: a Readable of Buffers.
    return this.storageStream(body as unknown as AsyncIterable<Uint8Array>, (err) => failure('read the result', err))
  }

  protected async existsAt(plainLocation: string): Promise<boolean> {
    const { s3, client } = await this.#connect()
    try {
      await client.send(new s3.HeadObjectCommand({ Bucket: this.#bucket, Key: prefixed(this.#prefix, plainLocation) }))
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw failure('check the result', err)
    }
  }

  protected override identifiers(): Readonly<Record<string, string>> {
    return { bucket: this.#bucket }
  }

  async #upload(plainLocation: string, body: Uint8Array | Readable): Promise<void> {
    const { storage, client } = await this.#connect()
    const upload = new storage.Upload({
      client,
      params: {
        ...this.#uploadOptions,
        Bucket: this.#bucket,
        Key: prefixed(this.#prefix, plainLocation),
        Body: body,
        ContentType: CONTENT_TYPE,
        // Checked by S3 on PutObject, and on CompleteMultipartUpload for a multipart upload: atomic with the write.
        ...(this.overwrite ? {} : { IfNoneMatch: '*' }),
      },
      // The default, stated: a failed multipart upload is aborted, not left behind.
      leavePartsOnError: false,
    })
    try {
      await upload.done()
    } catch (err) {
      if (!this.overwrite && isPreconditionFailed(err)) {
        throw new ResultExistsError('S3Result found an object already stored at the location, and overwrite is false')
      }
      throw failure('write the result', err)
    }
  }

  async #get(plainLocation: string): Promise<NonNullable<ClientS3.GetObjectCommandOutput['Body']>> {
    const { s3, client } = await this.#connect()
    let output: ClientS3.GetObjectCommandOutput
    try {
      output = await client.send(new s3.GetObjectCommand({ Bucket: this.#bucket, Key: prefixed(this.#prefix, plainLocation) }))
    } catch (err) {
      if (isNotFound(err)) throw new ResultNotFoundError('S3Result found no result at the given location')
      throw failure('read the result', err)
    }
    if (output.Body === undefined) throw new StorageError('S3Result could not read the result: the response had no body')
    return output.Body
  }

  async #connect(): Promise<S3Sdk & { client: ClientS3.S3Client }> {
    const sdk = await loadSdk()
    this.#client ??= new sdk.s3.S3Client(this.#clientConfig ?? {})
    return { ...sdk, client: this.#client }
  }
}

// 412 when the object exists; 409 when a concurrent conditional write to the key won the race.
function isPreconditionFailed(err: unknown): boolean {
  const { name, $metadata } = (err ?? {}) as { name?: unknown; $metadata?: { httpStatusCode?: unknown } }
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || $metadata?.httpStatusCode === 412
}

function isNotFound(err: unknown): boolean {
  const { name, $metadata } = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } }
  return typeof name === 'string' && NOT_FOUND_NAMES.has(name) && $metadata?.httpStatusCode === 404
}

// The SDK's message and the error object stay out: either may hold the key (the plain location).
function failure(action: string, err: unknown): AirlockError {
  if (err instanceof AirlockError) return err
  const { name, code, $metadata } = (err ?? {}) as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } }
  const label = [code, name].find((n): n is string => typeof n === 'string' && FAILURE_NAME.test(n) && n !== 'Error') ?? 'error'
  const status = $metadata?.httpStatusCode
  return new StorageError(`S3Result could not ${action}: ${label}${Number.isInteger(status) ? ` (HTTP ${String(status)})` : ''}`)
}
