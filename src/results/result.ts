import { pipeline, Readable, type Transform } from 'node:stream'
import { inspect, type InspectOptions } from 'node:util'
import { isKeyRing, type KeyRing } from '../crypto/key-ring.js'
import { LocationCipher } from '../crypto/location-cipher.js'
import { PayloadCipher } from '../crypto/payload-cipher.js'
import {
  AirlockError,
  InvalidArgumentError,
  PayloadFormatError,
  ResultReadOnlyError,
  SerializationError,
} from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { JSONSerializer } from './json-serializer.js'
import { LocationTemplate, type TemplateContext } from './location-template.js'
import type { PayloadSealer } from './payload-cipher-seam.js'
import type { Serializer } from './serializer.js'

/**
 * Options every stored `Result` takes.
 *
 * @example
 * ```ts
 * const options: ResultOptions = {
 *   location: '{flowName}/{taskName}/{taskRunId}.json',  // or (ctx) => `${ctx.taskName}.json`
 *   serializer: new JSONSerializer(),                     // the default
 *   locationCipher: keys,                                 // a KeyRing or a LocationCipher
 *   payloadCipher: keys,                                  // a KeyRing or a PayloadCipher
 * }
 * ```
 */
export interface ResultOptions<T = unknown> {
  /**
   * Where a write goes: a {@link LocationTemplate} source, or a function of
   * the context returning the location. Default: `{today}/{randomId}.<format>`
   * (see `LocationTemplate.default`).
   */
  location?: string | ((context: TemplateContext) => string)
  /** How values become bytes. Default: a `JSONSerializer`. */
  serializer?: Serializer<T>
  /** Encrypts `location` into an `alk1.` token; a KeyRing is wrapped in a `LocationCipher`. */
  locationCipher?: KeyRing | LocationCipher
  /**
   * Encrypts what is stored, so storage never sees plaintext: a KeyRing is
   * wrapped in a `PayloadCipher` (chunked AES-256-GCM, the kid in a header);
   * any {@link PayloadSealer} works for `write` and `read`, and one with
   * `encryptStream`/`decryptStream` for `writeStream` and `readStream` too.
   */
  payloadCipher?: KeyRing | PayloadSealer
  /**
   * What a write does when something is already stored at its location:
   * `true` (the default) replaces it; `false` makes the write conditional on
   * the location being free, checked by the storage atomically with the
   * write (a local exclusive link, S3 `If-None-Match: *`, GCS
   * `ifGenerationMatch: 0`, Azure `If-None-Match: *`), so it fails with
   * `ResultExistsError` (`ERR_RESULT_EXISTS`), leaves what is stored as it
   * was, and two racing writers cannot both succeed. A result that stores
   * nothing (`JSONResult`, whose value is its location) has nothing to replace.
   */
  overwrite?: boolean
}

/**
 * What `writeStream` takes: a `Readable` of bytes, such as
 * `fs.createReadStream(path)` (without an encoding set: every chunk must be a
 * `Uint8Array`), or any async iterable of `Uint8Array` chunks.
 *
 * @example
 * ```ts
 * const fromFile: ByteSource = fs.createReadStream('export.parquet')
 * const generated: ByteSource = (async function* () { yield new TextEncoder().encode('a,b\n') })()
 * ```
 */
export type ByteSource = Readable | AsyncIterable<Uint8Array>

/**
 * What `JSON.stringify` gives for a result: its type, the location that may
 * leave (a token when a location cipher is set), and backend identifiers
 * such as a bucket name. Never the value, the plain location or credentials.
 *
 * @example
 * ```ts
 * const json: ResultJSON = written.toJSON() // { type: 'local', location: 'alk1.eyJ...' }
 * ```
 */
export interface ResultJSON {
  readonly type: string
  readonly location?: string
  readonly [identifier: string]: string | undefined
}

/**
 * What a result returned by `write` or `read` adds to its class: a value that
 * is there, so `(await r.read(location)).value` has the type `T`.
 *
 * @example
 * ```ts
 * const read: LocalResult<number> & Carried<number> = await r.read(location)
 * const n: number = read.value
 * ```
 */
export interface Carried<T> {
  readonly value: T
}

/**
 * What a result returned by `write` adds: its value and both forms of the
 * location it was written at.
 *
 * @example
 * ```ts
 * const written: LocalResult<number> & Located<number> = await r.write(42, ctx)
 * const token: string = written.location
 * ```
 */
export interface Located<T> extends Carried<T> {
  /** What may leave: the `alk1.` token when a location cipher is set, else the plain location. */
  readonly location: string
  /** The real location. Never serialized. */
  readonly plainLocation: string
}

let adoptLocationKeys: (result: Result<unknown>, keys: KeyRing) => void

/**
 * Gives a result used by an Airlock's task or flow the Airlock's keys as its
 * location cipher when it has no location cipher of its own, so keys are
 * passed once (`new Airlock({ keys })`); a result with its own keeps them, and
 * the first Airlock's keys stay with it. Only the location: the payload
 * cipher decides how bytes are stored, and turning it on behind a user's
 * back would make results stored before unreadable. Internal to airlock-sdk.
 *
 * @example
 * ```ts
 * const result = new LocalResult({ dir: 'results' })
 * useKeysUnlessOwn(result, keys)
 * ;(await result.write(1)).location   // 'alk1.…'
 * ```
 */
export function useKeysUnlessOwn(result: Result<unknown> | undefined, keys: KeyRing): void {
  if (result !== undefined) adoptLocationKeys(result, keys)
}

const RESULT_OPTION_KEYS = ['location', 'serializer', 'locationCipher', 'payloadCipher', 'overwrite'] as const
const NO_IDENTIFIERS: Readonly<Record<string, string>> = Object.freeze({})
// Version 1 of the payload context; see "Payload encryption" on Result.
const PAYLOAD_CONTEXT_PREFIX = 'airlock-sdk/result-location/v1\n'
const ignore = (): void => undefined

interface CarriedState {
  readonly origin: Result<unknown>
  readonly value: unknown
  readonly location: string | undefined
  readonly plainLocation: string | undefined
}

// What a written or read result carries lives here, not on the object, so no
// spread, structuredClone or property walk can reach the value or the plain
// location; only the getters below can.
const carried = new WeakMap<object, CarriedState>()

/**
 * The base of every result: where a task's value is persisted, and the
 * location that describes it to the control plane.
 *
 * A configured result is a recipe. `write` and `read` return a new result
 * of the same class that carries a `value`, a `location` (what may leave:
 * an `alk1.` token when a location cipher is set, else the plain location)
 * and a `plainLocation` (the real one, which stays here). `JSON.stringify`
 * and `util.inspect` show `{ type, location, ...identifiers }` only.
 *
 * ## Payload encryption
 *
 * With a `payloadCipher`, storage holds only ciphertext, written and read
 * here, above every backend. Each payload is bound to its plain location: the
 * cipher's context is the UTF-8 bytes of `airlock-sdk/result-location/v1`, a
 * line feed, and the plain location (version 1 of this binding). A sealed
 * object copied or moved to another location, or read through another plain
 * spelling of the same path (`a//b.json` for `a/b.json`), fails with
 * `ERR_PAYLOAD_TAMPERED`; read it back at the location it was written to.
 * The bucket or directory is not bound, so a bucket copied whole still opens.
 *
 * ## Streaming
 *
 * `writeStream` and `readStream` move bytes in constant memory, whatever the
 * size, encrypted when a payload cipher is set. They bypass the serializer: a
 * streamed result is the raw bytes given, with no format header, and is read
 * back with `readStream`, not `read`. A result written with `write` can be
 * read with `readStream` too: its bytes are then the serializer's framing.
 *
 * ## Backends
 *
 * A backend extends this class and implements three protected hooks,
 * `writeBytes`, `readBytes` and `existsAt`, over plain locations, and, to
 * stream, `writeStreamAt` and `readStreamAt`; templates, serializers and both
 * ciphers are handled here. Hooks are always called on the configured
 * instance, so they may use `#private` fields. A carried result inherits from
 * its configured one: public methods a backend adds should reach `#private`
 * state through `this.configured`.
 *
 * @example
 * ```ts
 * import { KeyRing, LocalResult } from 'airlock-sdk'
 *
 * const keys = KeyRing.generate()
 * const r = new LocalResult({ dir, location: '{taskName}/{date}.json', locationCipher: keys })
 * const written = await r.write(value, { taskName: 'load', date: '2026-11-21' })
 * written.location        // 'alk1.eyJ...': may leave
 * written.plainLocation   // 'load/2026-11-21.json': stays
 * JSON.stringify(written) // {"type":"local","location":"alk1.eyJ..."}
 * const read = await r.read(written.location)
 * read.value              // the value
 * await r.exists(written.location) // true
 * ```
 */
export abstract class Result<T = unknown> {
  readonly #location: LocationTemplate | ((context: TemplateContext) => string)
  readonly #serializer: Serializer<T>
  // Not readonly: a result with none takes the Airlock's keys (useKeysUnlessOwn), once.
  #locationCipher: LocationCipher | undefined
  readonly #payloadCipher: PayloadSealer | undefined
  readonly #overwrite: boolean

  /**
   * @param options the options above, plus the backend's own.
   * @param backendOptionKeys the names of the backend's own options (`['dir']`), so
   *   that any other unknown key is refused.
   */
  constructor(options: ResultOptions<T>, backendOptionKeys: readonly string[] = []) {
    assertKnownOptions(new.target.name, options, [...backendOptionKeys, ...RESULT_OPTION_KEYS])
    const { location, serializer = new JSONSerializer<T>(), locationCipher, payloadCipher, overwrite = true } = options
    if (typeof overwrite !== 'boolean') throw new InvalidArgumentError(`${new.target.name} overwrite must be true or false, found ${describeType(overwrite)}`)
    this.#overwrite = overwrite
    if (
      typeof serializer !== 'object' ||
      serializer === null ||
      typeof serializer.format !== 'string' ||
      typeof serializer.serialize !== 'function' ||
      typeof serializer.deserialize !== 'function'
    ) {
      throw new InvalidArgumentError(`serializer must have format, serialize and deserialize, found ${describeType(serializer)}`)
    }
    this.#serializer = serializer
    if (location === undefined) this.#location = LocationTemplate.default(serializer.format)
    else if (typeof location === 'function') this.#location = location
    else if (typeof location === 'string') this.#location = new LocationTemplate(location)
    else throw new InvalidArgumentError(`location must be a template string or a function, found ${describeType(location)}`)
    if (locationCipher === undefined || locationCipher instanceof LocationCipher) this.#locationCipher = locationCipher
    else if (isKeyRing(locationCipher)) this.#locationCipher = new LocationCipher(locationCipher)
    else throw new InvalidArgumentError(`locationCipher must be a KeyRing or a LocationCipher, found ${describeType(locationCipher)}`)
    if (payloadCipher === undefined || isPayloadSealer(payloadCipher)) this.#payloadCipher = payloadCipher
    else if (isKeyRing(payloadCipher)) this.#payloadCipher = new PayloadCipher(payloadCipher)
    else {
      throw new InvalidArgumentError(
        `payloadCipher must be a KeyRing or have seal and open (and, if present, function encryptStream and decryptStream), found ${describeType(payloadCipher)}`,
      )
    }
  }

  static {
    adoptLocationKeys = (result, keys) => {
      const origin = result.configured
      // An inline result's location is its value, which the boundary's inline-values rule decides on.
      if (origin.#locationCipher === undefined && !origin.inline) origin.#locationCipher = new LocationCipher(keys)
    }
  }

  /** A stable name of the backend: `'local'`, `'json'`, `'constant'`, `'secret'`, `'s3'`, ... */
  abstract get type(): string

  /**
   * Whether the value travels inside the location itself (`JSONResult`), so
   * the boundary can refuse or encrypt it as an inline value.
   */
  get inline(): boolean {
    return false
  }

  /** Whether a write replaces what is already stored at its location (see {@link ResultOptions.overwrite}). */
  get overwrite(): boolean {
    return this.configured.#overwrite
  }

  /** The value a `write` or `read` carries; `undefined` on a configured result. */
  get value(): T | undefined {
    return carried.get(this)?.value as T | undefined
  }

  /** The location that may leave: an `alk1.` token when a location cipher is set, else the plain location. */
  get location(): string | undefined {
    return carried.get(this)?.location
  }

  /** The real location. Never in `toJSON` or `util.inspect`; keep it out of anything that leaves. */
  get plainLocation(): string | undefined {
    return carried.get(this)?.plainLocation
  }

  /**
   * Serializes `value`, seals it when a payload cipher is set, and stores it
   * at the location formatted from `context`. Returns a new result carrying
   * the value and its location.
   *
   * @throws {TemplateKeyError} when the template uses a key the context lacks.
   * @throws {SerializationError} when the serializer cannot encode the value; nothing is stored.
   *
   * @example
   * ```ts
   * const written = await r.write(rows, { flowName: 'etl', taskName: 'load', taskRunId: id })
   * ```
   */
  async write(value: T, context: TemplateContext = {}): Promise<this & Located<T>> {
    const self = this.configured
    const plainLocation = self.format(context)
    const bytes = await self.#encode(value, plainLocation)
    const location = await self.outwardLocation(plainLocation)
    await self.writeBytes(plainLocation, bytes)
    return self.carry(value, location, plainLocation)
  }

  /**
   * Streams bytes to the location formatted from `context`, in constant
   * memory, sealed on the way when a payload cipher is set. The serializer is
   * not used: what is stored is the bytes given (encrypted or not). Returns a
   * new result carrying the location; its `value` is `undefined`.
   *
   * The write is atomic on every backend: a reader sees the whole object or
   * none of it (or the one it replaces). If the source fails, its own error is
   * thrown, unchanged, and nothing is stored; the source is destroyed when the
   * write fails.
   *
   * @throws {TemplateKeyError} when the template uses a key the context lacks.
   * @throws {InvalidArgumentError} when the source is not a byte stream, yields a chunk that is
   *   not a `Uint8Array`, or the payload cipher cannot stream.
   * @throws {StorageError} when the backend fails.
   * @throws {ResultReadOnlyError} when the result type does not stream (JSON, constant, secret).
   *
   * @example
   * ```ts
   * import { createReadStream } from 'node:fs'
   *
   * const written = await r.writeStream(createReadStream('export.parquet'), { taskName: 'export' })
   * written.location // what may leave, as with write
   * ```
   */
  async writeStream(source: ByteSource, context: TemplateContext = {}): Promise<this> {
    const self = this.configured
    if (!isByteSource(source)) {
      throw new InvalidArgumentError(`writeStream takes a Readable or an async iterable of Uint8Array, found ${describeType(source)}`)
    }
    // An error the source emits before the backend starts reading (a file
    // that fails to open) would otherwise be unhandled; iterating the errored
    // stream later rethrows it.
    if (source instanceof Readable) source.on('error', ignore)
    const failure: SourceFailure = { failed: false, error: undefined }
    let body: Readable | undefined
    try {
      const plainLocation = self.format(context)
      const sealing = self.#streamingSide('encryptStream')
      const location = await self.outwardLocation(plainLocation)
      const plain = Readable.from(checkedChunks(source, failure), { objectMode: false })
      body = sealing === undefined ? plain : pipeline(plain, sealing(payloadContext(plainLocation)), ignore)
      await self.writeStreamAt(plainLocation, body)
      return self.carry(undefined as T, location, plainLocation)
    } catch (err) {
      body?.destroy()
      if (source instanceof Readable) source.destroy()
      throw failure.failed ? failure.error : err
    }
  }

  /**
   * The bytes stored at a location (a token or a plain location), as a
   * stream, opened on the way when a payload cipher is set. Resolves once the
   * object is found, so a missing one rejects here; errors later in the
   * stream (a tampered chunk, a lost connection) are typed and arrive as the
   * stream's `error`. Decrypted chunks are released only once authenticated,
   * but a stream that fails midway has released part of the payload: treat
   * its output as incomplete.
   *
   * @throws {ResultNotFoundError} when nothing is stored there.
   * @throws {InvalidArgumentError} when the payload cipher cannot stream.
   * @throws {StorageError} when the backend fails.
   *
   * @example
   * ```ts
   * import { createWriteStream } from 'node:fs'
   * import { pipeline } from 'node:stream/promises'
   *
   * await pipeline(await r.readStream(written.location), createWriteStream('copy.parquet'))
   * // a stored object modified by one byte: the pipeline rejects with ERR_PAYLOAD_TAMPERED
   * ```
   */
  async readStream(location: string): Promise<Readable> {
    const self = this.configured
    const plainLocation = await self.plainLocationOf(location)
    const opening = self.#streamingSide('decryptStream')
    const stored = await self.readStreamAt(plainLocation)
    return opening === undefined ? stored : pipeline(stored, opening(payloadContext(plainLocation)), ignore)
  }

  /**
   * Reads the value at a location: a token (decrypted first) or a plain
   * location. Returns a new result carrying the value. A plain location that
   * starts with `alk1.` is taken for a token.
   *
   * @throws {InvalidArgumentError} when given a token and no location cipher is set.
   * @throws {UnknownKeyError} / {TokenInvalidError} when the token is foreign or was modified.
   * @throws {ResultNotFoundError} when nothing is stored there.
   * @throws {PayloadFormatError} when the stored bytes are not the serializer's format.
   *
   * @example
   * ```ts
   * const { value } = await r.read(written.location)
   * ```
   */
  async read(location: string): Promise<this & Carried<T>> {
    const self = this.configured
    const resolved = await self.resolveLocation(location)
    const value = await self.#decode(await self.readBytes(resolved.plainLocation), resolved.plainLocation)
    return self.carry(value, resolved.location, resolved.plainLocation)
  }

  /**
   * Whether a result is stored at a location: a token, a plain location, or,
   * when `context` is given, a template formatted with it.
   *
   * @throws {StorageError} when the backend cannot tell (never `false` for an error).
   *
   * @example
   * ```ts
   * if (await r.exists(written.location)) skip()
   * await r.exists('{taskName}/{today}.json', { taskName: 'load' })
   * ```
   */
  async exists(location: string, context?: TemplateContext): Promise<boolean> {
    const self = this.configured
    const plainLocation =
      context === undefined || (typeof location === 'string' && LocationCipher.isToken(location))
        ? await self.plainLocationOf(location)
        : new LocationTemplate(location).format(context)
    return self.existsAt(plainLocation)
  }

  /**
   * The plain location a write with this context would use.
   *
   * @throws {TemplateKeyError} when the template uses a key the context lacks.
   *
   * @example
   * ```ts
   * r.format({ taskName: 'load', date: '2026-11-21' }) // 'load/2026-11-21.json'
   * ```
   */
  format(context: TemplateContext = {}): string {
    const location = this.configured.#location
    if (location instanceof LocationTemplate) return location.format(context)
    const formatted = location(context)
    if (typeof formatted !== 'string' || formatted === '') {
      throw new InvalidArgumentError(`a location function must return a non-empty string, found ${describeType(formatted)}`)
    }
    return formatted
  }

  /** `{ type, location, ...identifiers }`: never the value, the plain location or credentials. */
  toJSON(): ResultJSON {
    const json: Record<string, string> = { type: this.type }
    const location = this.location
    if (location !== undefined) json.location = location
    for (const [key, identifier] of Object.entries(this.configured.identifiers())) {
      // An identifier never stands in for the type or the location.
      if (key !== 'type' && key !== 'location') json[key] = identifier
    }
    return json as ResultJSON
  }

  [inspect.custom](_depth: number, options: InspectOptions, inspectValue: typeof inspect): string {
    return `${this.constructor.name} ${inspectValue(this.toJSON(), options)}`
  }

  /** Stores bytes at a plain location, atomically: a reader sees all of them or none. */
  protected abstract writeBytes(plainLocation: string, bytes: Uint8Array): Promise<void>

  /**
   * The bytes at a plain location.
   *
   * @throws {ResultNotFoundError} when nothing is stored there.
   */
  protected abstract readBytes(plainLocation: string): Promise<Uint8Array>

  /**
   * Whether something is stored at a plain location.
   *
   * @throws {StorageError} when the backend cannot tell; never `false` for an error.
   */
  protected abstract existsAt(plainLocation: string): Promise<boolean>

  /**
   * Stores a byte stream at a plain location, atomically, in bounded memory.
   * The default refuses: a backend that streams overrides it. If `body`
   * fails, the hook fails and stores nothing; the caller then throws the
   * source's own error.
   */
  protected writeStreamAt(_plainLocation: string, _body: Readable): Promise<void> {
    return Promise.reject(new ResultReadOnlyError(`${this.constructor.name} does not stream`))
  }

  /**
   * The bytes at a plain location as a stream whose errors are typed (see
   * {@link Result.storageStream}). The default refuses: a backend that streams overrides it.
   *
   * @throws {ResultNotFoundError} when nothing is stored there.
   */
  protected readStreamAt(_plainLocation: string): Promise<Readable> {
    return Promise.reject(new ResultReadOnlyError(`${this.constructor.name} does not stream`))
  }

  /**
   * For `readStreamAt`: a Readable over a backend's download that pulls the
   * first chunk before resolving, so a missing object or a refused request
   * rejects here rather than in the stream, and passes every later error
   * through `typed`. Destroying the Readable ends the download.
   */
  protected async storageStream(download: AsyncIterable<Uint8Array>, typed: (err: unknown) => Error): Promise<Readable> {
    const chunks = download[Symbol.asyncIterator]()
    let first: IteratorResult<Uint8Array>
    try {
      first = await chunks.next()
    } catch (err) {
      throw typed(err)
    }
    return Readable.from(continued(first, chunks, typed), { objectMode: false })
  }

  /** Names that identify the backend in `toJSON`, such as `{ bucket }`. Never credentials or paths of this machine. */
  protected identifiers(): Readonly<Record<string, string>> {
    return NO_IDENTIFIERS
  }

  /** The configured result that this one was written or read from (itself if neither). */
  protected get configured(): this {
    return (carried.get(this)?.origin ?? this) as this
  }

  /** A new result of this class that carries a value and its locations. */
  protected carry(value: T, location: string, plainLocation: string): this & Located<T>
  protected carry(value: T, location: string | undefined, plainLocation: string | undefined): this & Carried<T>
  protected carry(value: T, location: string | undefined, plainLocation: string | undefined): this & Carried<T> {
    const origin = this.configured
    const copy = Object.create(origin) as this & Carried<T>
    carried.set(copy, { origin, value, location, plainLocation })
    return copy
  }

  /** What may leave for a plain location: its token when a location cipher is set, else itself. */
  protected async outwardLocation(plainLocation: string): Promise<string> {
    const cipher = this.configured.#locationCipher
    return cipher === undefined ? plainLocation : cipher.encrypt(plainLocation)
  }

  /** Both forms of a location given as a token or as a plain location. */
  protected async resolveLocation(location: string): Promise<{ location: string; plainLocation: string }> {
    const plainLocation = await this.plainLocationOf(location)
    return {
      location: LocationCipher.isToken(location) ? location : await this.outwardLocation(plainLocation),
      plainLocation,
    }
  }

  /**
   * The plain location of a token (decrypted) or of a plain location (itself).
   *
   * @throws {InvalidArgumentError} when given a token and no location cipher is set.
   */
  protected async plainLocationOf(location: string): Promise<string> {
    if (typeof location !== 'string' || location === '') {
      throw new InvalidArgumentError(`a location is a non-empty string, found ${describeType(location)}`)
    }
    if (!LocationCipher.isToken(location)) return location
    const cipher = this.configured.#locationCipher
    if (cipher === undefined) {
      throw new InvalidArgumentError(`${this.constructor.name} was given a location token but has no locationCipher to decrypt it`)
    }
    return cipher.decrypt(location)
  }

  async #encode(value: T, plainLocation: string): Promise<Uint8Array> {
    let bytes: unknown
    try {
      bytes = this.#serializer.serialize(value)
    } catch (err) {
      if (err instanceof AirlockError) throw err
      // A foreign serializer's message may quote the value.
      throw new SerializationError(
        `the ${this.#serializer.format} serializer could not encode the value: ${(err as Error)?.name ?? 'error'}; ` +
          'JSONSerializer (the default) stores any value structuredClone can clone',
      )
    }
    if (!(bytes instanceof Uint8Array)) {
      throw new SerializationError(`the ${this.#serializer.format} serializer returned ${describeType(bytes)}, expected a Uint8Array`)
    }
    return this.#payloadCipher === undefined ? bytes : this.#payloadCipher.seal(bytes, payloadContext(plainLocation))
  }

  async #decode(stored: Uint8Array, plainLocation: string): Promise<T> {
    const bytes = this.#payloadCipher === undefined ? stored : await this.#payloadCipher.open(stored, payloadContext(plainLocation))
    try {
      return this.#serializer.deserialize(bytes)
    } catch (err) {
      if (err instanceof AirlockError) throw err
      throw new PayloadFormatError(`the ${this.#serializer.format} serializer could not decode the stored bytes: ${(err as Error)?.name ?? 'error'}`)
    }
  }

  /** The payload cipher's stream side, bound to it; undefined without a cipher. */
  #streamingSide(side: 'encryptStream' | 'decryptStream'): ((context: Uint8Array) => Transform) | undefined {
    const cipher = this.#payloadCipher
    if (cipher === undefined) return undefined
    if (cipher[side] === undefined) {
      throw new InvalidArgumentError(`${this.constructor.name} cannot stream: its payloadCipher has no ${side} (a PayloadCipher has)`)
    }
    return side === 'encryptStream'
      ? (context) => (cipher as Required<PayloadSealer>).encryptStream(context)
      : (context) => (cipher as Required<PayloadSealer>).decryptStream(context)
  }
}

interface SourceFailure {
  failed: boolean
  error: unknown
}

function payloadContext(plainLocation: string): Uint8Array {
  return Buffer.from(PAYLOAD_CONTEXT_PREFIX + plainLocation, 'utf8')
}

function isPayloadSealer(candidate: object): candidate is PayloadSealer {
  const sealer = candidate as Partial<PayloadSealer>
  return (
    typeof sealer.seal === 'function' &&
    typeof sealer.open === 'function' &&
    (sealer.encryptStream === undefined || typeof sealer.encryptStream === 'function') &&
    (sealer.decryptStream === undefined || typeof sealer.decryptStream === 'function')
  )
}

// Chunks are checked one by one as they come, so an object-mode Readable of
// Buffers (what `Readable.from([buffer])` makes) is a byte source too.
function isByteSource(source: unknown): source is ByteSource {
  return source instanceof Readable || typeof (source as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function'
}

// The source's chunks, checked; a failure of the source is recorded, so that
// writeStream throws it rather than whatever the backend made of it.
async function* checkedChunks(source: ByteSource, failure: SourceFailure): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source as AsyncIterable<unknown>) {
      if (!(chunk instanceof Uint8Array)) {
        throw new InvalidArgumentError(`writeStream takes chunks of Uint8Array, found one of ${describeType(chunk)}`)
      }
      yield chunk
    }
  } catch (err) {
    failure.failed = true
    failure.error = err
    throw err
  }
}

async function* continued(
  first: IteratorResult<Uint8Array>,
  chunks: AsyncIterator<Uint8Array>,
  typed: (err: unknown) => Error,
): AsyncGenerator<Uint8Array> {
  try {
    for (let next = first; next.done !== true; next = await chunks.next()) yield next.value
  } catch (err) {
    throw typed(err)
  } finally {
    // Early when the consumer stopped reading: ends the download.
    await chunks.return?.()
  }
}
