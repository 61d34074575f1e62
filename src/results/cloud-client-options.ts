import { ConflictingOptionsError, InvalidArgumentError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { renamedOption } from '../internal/renamed-option.js'

/**
 * The options every cloud `Result` (S3, GCS, Azure) takes for reaching its
 * storage, under the same names: a ready `client`, or the `clientOptions`
 * (and `credentials`) to make one at first use, and a `prefix` every object
 * name starts with. Each backend adds its own bucket or container.
 *
 * @example
 * ```ts
 * const ready: CloudClientOptions<S3Client, S3ClientConfig> = { client: new S3Client({ region: 'eu-west-1' }), prefix: 'team-a' }
 * const made: CloudClientOptions<S3Client, S3ClientConfig> = { clientOptions: { region: 'eu-west-1' }, credentials: fromIni() }
 * ```
 */
export interface CloudClientOptions<Client, ClientOptions, Credentials = unknown> {
  /** The SDK's client, to use as it is. Not with `clientOptions` or `credentials`: they would be ignored. */
  client?: Client
  /** The options of the client to make at first use (region, endpoint, retry settings...). Not with `client`. */
  clientOptions?: ClientOptions
  /**
   * The credentials of the client to make at first use, as its SDK takes
   * them. Kept inside the client: never serialized or quoted. Without them
   * (and without a client), the SDK's own default chain. Not with `client`.
   */
  credentials?: Credentials
  /**
   * A folder every object name is stored under (`'team-a/results'`: the
   * location `etl/load/r1.json` is stored as `team-a/results/etl/load/r1.json`).
   * Part of the configuration, like the bucket: it is not in the location
   * that leaves, so a location read back needs a result with the same prefix.
   */
  prefix?: string
}

/** What {@link checkCloudClientOptions} found; internal to src/results. */
export interface CheckedCloudClient<Client> {
  readonly client: Client | undefined
  readonly clientOptions: object | undefined
  readonly credentials: unknown
  /** `''`, or the prefix with one trailing `/`. */
  readonly prefix: string
}

/** The older names a backend kept working, mapped to the shared ones. */
export interface OlderNames {
  readonly client?: string
  readonly clientOptions?: string
  readonly credentials?: string
}

/**
 * Checks the shared options of a cloud result when it is built.
 *
 * @throws {ConflictingOptionsError} when a ready client comes with options or credentials that it would ignore,
 *   or when an option is set under its name and its older name at once.
 * @throws {InvalidArgumentError} when the client does not look like the SDK's, or the prefix is not a relative folder.
 *
 * @example
 * ```ts
 * const { client, clientOptions, prefix } = checkCloudClientOptions('S3Result', options, { clientOptions: 'clientConfig' }, isS3Client, 'an S3Client')
 * ```
 */
export function checkCloudClientOptions<Client>(
  owner: string,
  options: object,
  older: OlderNames,
  isClient: (value: object) => boolean,
  clientName: string,
): CheckedCloudClient<Client> {
  const pick = (name: keyof OlderNames): unknown => {
    const oldName = older[name]
    return oldName === undefined ? (options as Record<string, unknown>)[name] : renamedOption(owner, options, name, oldName)
  }
  const client = pick('client')
  const clientOptions = pick('clientOptions')
  const credentials = pick('credentials')
  if (client !== undefined) {
    if (typeof client !== 'object' || client === null || !isClient(client)) {
      throw new InvalidArgumentError(`${owner} client must be ${clientName}, found ${describeType(client)}`)
    }
    if (clientOptions !== undefined || credentials !== undefined) {
      throw new ConflictingOptionsError(`${owner} takes a ready client, or clientOptions and credentials to make one, not both`)
    }
  }
  if (clientOptions !== undefined && (typeof clientOptions !== 'object' || clientOptions === null || Array.isArray(clientOptions))) {
    throw new InvalidArgumentError(`${owner} clientOptions must be an object, found ${describeType(clientOptions)}`)
  }
  if (credentials !== undefined && (credentials === null || (typeof credentials !== 'object' && typeof credentials !== 'function'))) {
    throw new InvalidArgumentError(`${owner} credentials must be an object or a provider function, found ${describeType(credentials)}`)
  }
  if (credentials !== undefined && clientOptions !== undefined && (clientOptions as { credentials?: unknown }).credentials !== undefined) {
    throw new ConflictingOptionsError(`${owner} takes credentials or clientOptions.credentials, not both`)
  }
  return { client: client as Client | undefined, clientOptions: clientOptions, credentials, prefix: checkPrefix(owner, (options as { prefix?: unknown }).prefix) }
}

/** The object name of a plain location under the prefix. */
export function prefixed(prefix: string, plainLocation: string): string {
  return prefix + plainLocation
}

function checkPrefix(owner: string, prefix: unknown): string {
  if (prefix === undefined || prefix === '') return ''
  if (typeof prefix !== 'string') throw new InvalidArgumentError(`${owner} prefix must be a string, found ${describeType(prefix)}`)
  const trimmed = prefix.replace(/\/+$/, '')
  const segments = trimmed.split('/')
  // A folder inside the bucket: not absolute, no empty, `.` or `..` segment, no backslash or control character.
  if (trimmed === '' || prefix.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..') || hasBackslashOrControl(trimmed)) {
    throw new InvalidArgumentError(`${owner} prefix must be a relative folder such as 'team-a/results', without empty, '.' or '..' segments`)
  }
  return `${trimmed}/`
}

function hasBackslashOrControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0x5c || code < 0x20 || code === 0x7f) return true
  }
  return false
}
