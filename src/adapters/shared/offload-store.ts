import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { inspect } from 'node:util'
import { isKeyRing, type KeyRing } from '../../crypto/key-ring.js'
import { LocationCipher } from '../../crypto/location-cipher.js'
import { PayloadCipher } from '../../crypto/payload-cipher.js'
import { REDACTED } from '../../crypto/redacted.js'
import { AirlockError, InvalidArgumentError, StorageError } from '../../errors.js'
import { describeType } from '../../internal/describe-type.js'
import { Result } from '../../results/result.js'
import type { TemplateContext } from '../../results/location-template.js'

/** Version 1 of the context an offloaded payload is sealed with, before its plain location. */
const STORED_CONTEXT_PREFIX = 'airlock-sdk/engine-offload/v1\n'
const TOKEN_USE = 'engine-offload'

/**
 * A location an offloaded payload will be written to, and its token, made
 * ahead (a token takes an asynchronous step to make, and Restate's codec
 * is synchronous).
 *
 * @example
 * ```ts
 * const reservation: OffloadReservation = await store.reserve('restate:journal')
 * await store.write(reservation, bytes)   // later; reservation.token already left
 * ```
 */
export interface OffloadReservation {
  readonly token: string
  readonly plainLocation: string
  readonly context: TemplateContext
}

/**
 * Where engine adapters put a payload too large (or named by a rule) to stay
 * in an engine's history: a configured `Result`, with only an encrypted,
 * bound location token left behind. Shared by the Temporal and Restate
 * adapters; not exported from the package.
 *
 * - The bytes are sealed here with the `PayloadCipher` (context: version 1
 *   prefix, then the plain location), whatever ciphers the `Result` has of
 *   its own, so storage never holds plaintext and a stored object moved or
 *   copied to another location fails to open (`ERR_PAYLOAD_TAMPERED`).
 * - The token is a `LocationCipher` token (`alk1.`) bound to
 *   `{ use: 'engine-offload', binding }`: the binding names the adapter's
 *   kind of payload (`temporal`, `restate:journal`), so a token from a task's
 *   result, or from another adapter, opens nothing here (`ERR_TOKEN_BINDING`).
 * - Every location is unique: the `Result`'s location must use `{randomId}`,
 *   checked when the store is made, because two payloads at one location
 *   would make an older token read a newer payload. The template may use
 *   `{engine}`, `{today}`, `{date}` and `{randomId}`.
 *
 * @example
 * ```ts
 * const store = new OffloadStore(new LocalResult({ dir: 'offload' }), keys, 'temporal')
 * const token = await store.put(bytes, 'temporal')
 * await store.get(token, 'temporal')   // the bytes
 * ```
 */
export class OffloadStore {
  readonly #result: Result
  readonly #locations: LocationCipher
  readonly #payloads: PayloadCipher
  readonly #engine: string

  /**
   * @throws InvalidArgumentError when `result` is not a stored `Result`
   *   whose locations are unique per write.
   */
  constructor(result: unknown, keys: KeyRing, engine: string) {
    if (!(result instanceof Result)) throw new InvalidArgumentError(`offload expects a Result (LocalResult, S3Result, GCSResult, AzureResult), got ${describeType(result)}`)
    if (result.inline || result.type === 'constant' || result.type === 'secret') {
      throw new InvalidArgumentError(`offload needs a Result that stores bytes; a ${result.type} result cannot hold a payload`)
    }
    if (!isKeyRing(keys)) throw new InvalidArgumentError('OffloadStore expects a KeyRing')
    this.#result = result
    this.#locations = new LocationCipher(keys)
    this.#payloads = new PayloadCipher(keys)
    this.#engine = engine
    this.#checkUniqueLocations()
  }

  /**
   * Makes a location and its bound token now; {@link OffloadStore.write}
   * stores a payload there later.
   */
  async reserve(binding: string): Promise<OffloadReservation> {
    const context = this.#context()
    const plainLocation = this.#result.format(context)
    const token = await this.#locations.encrypt(plainLocation, tokenBinding(binding))
    return { token, plainLocation, context }
  }

  /**
   * Seals `bytes` and stores them at a reserved location. Resolves once the
   * `Result` has them.
   *
   * @throws StorageError (or the backend's typed error) when the write fails.
   */
  async write(reservation: OffloadReservation, bytes: Uint8Array): Promise<void> {
    const sealed = this.#payloads.sealSync(bytes, storedContext(reservation.plainLocation))
    const written = await this.#result.writeStream(Readable.from([sealed]), reservation.context)
    if (written.plainLocation !== reservation.plainLocation) {
      // A location function that is not a function of its context; the checks at construction missed it.
      throw new StorageError('the offload Result wrote somewhere else than the location it reserved; its location must depend on {randomId} only')
    }
  }

  /**
   * Stores `bytes` and resolves with the token that stands for them.
   *
   * @example
   * ```ts
   * const token = await store.put(bytes, 'temporal')
   * ```
   */
  async put(bytes: Uint8Array, binding: string): Promise<string> {
    const reservation = await this.reserve(binding)
    await this.write(reservation, bytes)
    return reservation.token
  }

  /**
   * The bytes a token stands for.
   *
   * @throws TokenInvalidError / UnknownKeyError when the token is malformed or foreign.
   * @throws TokenBindingError when the token was made for another binding.
   * @throws ResultNotFoundError when nothing is stored there.
   * @throws PayloadTamperedError when the stored object was modified or moved.
   */
  async get(token: string, binding: string): Promise<Uint8Array> {
    const plainLocation = await this.#locations.decrypt(token, tokenBinding(binding))
    const stream = await this.#result.readStream(plainLocation)
    const chunks: Buffer[] = []
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer)
    } catch (err) {
      if (err instanceof AirlockError) throw err
      throw new StorageError(`reading an offloaded payload failed (${(err as NodeJS.ErrnoException)?.code ?? 'error'})`, { cause: err })
    }
    return this.#payloads.openSync(Buffer.concat(chunks), storedContext(plainLocation))
  }

  toString(): string {
    return `OffloadStore(${this.#result.type}, ${REDACTED})`
  }

  toJSON(): { type: 'OffloadStore'; result: string } {
    return { type: 'OffloadStore', result: this.#result.type }
  }

  [inspect.custom](): string {
    return this.toString()
  }

  #context(): TemplateContext {
    const iso = new Date().toISOString()
    return {
      engine: this.#engine,
      randomId: randomUUID(),
      today: iso.slice(0, 10),
      date: `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`,
    }
  }

  // Two contexts that differ in randomId only must give two locations, and
  // the same context the same one (the location is made before the write).
  #checkUniqueLocations(): void {
    const first = this.#context()
    let a: string
    let b: string
    let again: string
    try {
      a = this.#result.format(first)
      again = this.#result.format(first)
      b = this.#result.format({ ...first, randomId: randomUUID() })
    } catch (err) {
      if (err instanceof AirlockError) {
        throw new InvalidArgumentError(`the offload Result's location may use {engine}, {randomId}, {today} and {date} only (${err.code})`)
      }
      throw err
    }
    if (a === b) throw new InvalidArgumentError('the offload Result\'s location must use {randomId}: two payloads must never share a location')
    if (a !== again) throw new InvalidArgumentError('the offload Result\'s location must be a function of {engine}, {randomId}, {today} and {date} only')
    if (LocationCipher.isToken(a)) throw new InvalidArgumentError('the offload Result\'s location must not start like a location token (alk1.)')
  }
}

function tokenBinding(binding: string): { use: string; binding: string } {
  return { use: TOKEN_USE, binding }
}

function storedContext(plainLocation: string): Uint8Array {
  return Buffer.from(STORED_CONTEXT_PREFIX + plainLocation, 'utf8')
}
