import { SecretProvider, type Secret } from '../crypto/secret.js'
import { InvalidArgumentError, ResultReadOnlyError, SecretNotFoundError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { Result, type Carried } from './result.js'
import { unstored } from './unstored.js'

/**
 * A result that resolves one named secret from a `SecretProvider`. Its
 * location is the secret's name, which may leave: `toJSON()` is
 * `{ type: 'secret', location: <name> }` and nothing else.
 *
 * `read()` carries the resolved `Secret` itself, not its string: the value
 * prints as `[airlock:redacted]` wherever the result or its value ends up,
 * and code calls `.value.reveal()` where the string is really needed.
 * Resolving goes through the provider, so any scrubber subscribed to it
 * learns the value before the caller holds it.
 *
 * A SecretResult reads only the secret it was made for: a `read` or
 * `exists` naming another secret is refused, so a location that came back
 * from outside cannot pick which secret gets resolved.
 *
 * @example
 * ```ts
 * import { EnvSecretProvider, SecretResult } from 'airlock-sdk'
 *
 * const r = new SecretResult(new EnvSecretProvider(), 'DB_PASSWORD')
 * const { value } = await r.read()
 * connect({ password: value.reveal() })
 * JSON.stringify(r)        // {"type":"secret","location":"DB_PASSWORD"}
 * await r.write('x')       // throws ERR_RESULT_READ_ONLY
 * ```
 */
export class SecretResult extends Result<Secret<string>> {
  readonly #provider: SecretProvider
  readonly #name: string

  constructor(provider: SecretProvider, name: string) {
    super({})
    if (!(provider instanceof SecretProvider)) {
      throw new InvalidArgumentError(`SecretResult needs a SecretProvider, found ${describeType(provider)}`)
    }
    if (typeof name !== 'string' || name === '') {
      throw new InvalidArgumentError(`SecretResult needs a secret name, a non-empty string, found ${describeType(name)}`)
    }
    this.#provider = provider
    this.#name = name
  }

  get type(): 'secret' {
    return 'secret'
  }

  /** The secret's name. */
  override get location(): string {
    return this.configured.#name
  }

  /** The secret's name, as `location`: a name is not the secret. */
  override get plainLocation(): string {
    return this.configured.#name
  }

  /**
   * Resolves the secret. Returns a new result whose `value` is the `Secret`.
   *
   * @throws {SecretNotFoundError} when the provider has no such secret.
   * @throws {InvalidArgumentError} when `name` is another secret's.
   */
  override async read(name?: string): Promise<this & Carried<Secret<string>>> {
    const self = this.configured
    const secret = await self.#provider.get(self.#ownName(name))
    return self.carry(secret, self.#name, self.#name)
  }

  /**
   * Whether the provider can resolve the secret. Resolving announces the
   * value to the provider's subscribers.
   *
   * @throws {InvalidArgumentError} when `name` is another secret's.
   */
  override async exists(name?: string): Promise<boolean> {
    const self = this.configured
    try {
      await self.#provider.get(self.#ownName(name))
      return true
    } catch (err) {
      if (err instanceof SecretNotFoundError) return false
      throw err
    }
  }

  /** @throws {ResultReadOnlyError} always: secrets are written in their own store. */
  override write(): Promise<never> {
    return Promise.reject(new ResultReadOnlyError('SecretResult is read-only: set the secret in its provider'))
  }

  /** The secret's name. */
  override format(): string {
    return this.configured.#name
  }

  protected writeBytes(): Promise<never> {
    return unstored('SecretResult')
  }

  protected readBytes(): Promise<never> {
    return unstored('SecretResult')
  }

  protected existsAt(): Promise<never> {
    return unstored('SecretResult')
  }

  #ownName(name: string | undefined): string {
    if (name !== undefined && name !== this.#name) {
      throw new InvalidArgumentError(`SecretResult reads only the secret it was made for (${this.#name}), and was given another name`)
    }
    return this.#name
  }
}
