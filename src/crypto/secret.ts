import { readFile } from 'node:fs/promises'
import { inspect } from 'node:util'
import { InvalidArgumentError, SecretNotFoundError } from '../errors.js'
import { REDACTED } from './redacted.js'

/**
 * A secret value that never prints: `toString`, `toJSON` and `util.inspect`
 * all give `[airlock:redacted]`. Call {@link Secret.reveal} where the value is
 * really needed, and nowhere else.
 *
 * @example
 * ```ts
 * import { Secret } from 'airlock-sdk'
 *
 * const password = new Secret('hunter2-hunter2', 'db-password')
 * console.log(`${password}`)          // [airlock:redacted]
 * JSON.stringify({ password })        // {"password":"[airlock:redacted]"}
 * connect({ password: password.reveal() })
 * ```
 */
export class Secret<T = string> {
  readonly #value: T
  /** A name to refer to the secret by in messages. Never the value. */
  readonly name: string | undefined

  constructor(value: T, name?: string) {
    this.#value = value
    this.name = name
  }

  /** The secret value itself. */
  reveal(): T {
    return this.#value
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return REDACTED
  }
}

/**
 * Called with every secret a provider resolves, so a scrubber can register it.
 *
 * @example
 * ```ts
 * const listener: SecretListener = (secret) => console.log('resolved', secret.name)   // prints the name, never the value
 * const stop = new EnvSecretProvider().subscribe(listener)
 * ```
 */
export type SecretListener = (secret: Secret<string>) => void

// Listeners of every provider in the process: each Airlock's scrubber is one,
// so a secret resolved through any SDK provider is masked without wiring.
const everyProvider = new Set<SecretListener>()

/**
 * The most distinct values {@link ResolvedSecrets} keeps; past it, the
 * oldest is forgotten (scrubbers built earlier keep it) and a process
 * warning, {@link RESOLVED_SECRETS_WARNING}, says so once.
 */
const MAX_RESOLVED_SECRETS = 10_000

/**
 * The `process.emitWarning` code given when the process has resolved more
 * distinct secrets than the registry keeps, so scrubbers built from then on
 * start without the oldest ones. Names no secret and no value.
 *
 * @example
 * ```ts
 * process.on('warning', (w: Error & { code?: string }) => {
 *   if (w.code === RESOLVED_SECRETS_WARNING) alertOps(w.message)
 * })
 * ```
 */
export const RESOLVED_SECRETS_WARNING = 'AIRLOCK_RESOLVED_SECRETS_FULL'

/**
 * Every distinct secret value an SDK provider has resolved in this process,
 * so that a scrubber built later (a new `Airlock`, a new `Scrubber`) masks a
 * secret resolved before it existed: listeners hear only of what is resolved
 * while they listen. Internal to airlock-sdk; the one instance lives in this
 * module and is reached through {@link everyResolvedSecret}.
 *
 * Each value is kept once, in the `Secret` first resolved with it, however
 * often it is resolved again. Memory: per distinct value, the string itself
 * (shared with the `Secret` the caller got, not copied), one `Secret` and one
 * map entry, roughly the value's length plus 150 bytes; at most
 * {@link MAX_RESOLVED_SECRETS} values, the oldest dropped first. The larger
 * cost is paid by each new scrubber, which registers every kept value with
 * its encodings. Values stay in memory for the life of the process, as they
 * do in every scrubber that registered them.
 *
 * It prints as `[airlock:redacted]` under `toString`, `toJSON` and
 * `util.inspect`, and so does each `Secret` it yields.
 *
 * @example
 * ```ts
 * const registry = new ResolvedSecrets(10_000)
 * registry.add(await provider.get('API_TOKEN'))
 * for (const secret of registry) scrubber.register(secret)
 * String(registry)   // '[airlock:redacted]'
 * ```
 */
class ResolvedSecrets {
  readonly #byValue = new Map<string, Secret<string>>()
  readonly #limit: number
  #warnedFull = false

  constructor(limit: number) {
    this.#limit = limit
  }

  /** Keeps a resolved secret, unless its value is kept already. */
  add(secret: Secret<string>): void {
    const value: unknown = secret.reveal()
    // A lookup that broke its contract: nothing a scrubber could register.
    if (typeof value !== 'string' || value === '' || this.#byValue.has(value)) return
    this.#byValue.set(value, secret)
    if (this.#byValue.size <= this.#limit) return
    // Map order is insertion order: the first key is the oldest value.
    this.#byValue.delete(this.#byValue.keys().next().value as string)
    if (!this.#warnedFull) {
      this.#warnedFull = true
      process.emitWarning(
        `airlock: more than ${this.#limit} distinct secrets were resolved in this process; scrubbers built from now on start without the oldest ones (open Airlocks keep theirs)`,
        { code: RESOLVED_SECRETS_WARNING },
      )
    }
  }

  [Symbol.iterator](): IterableIterator<Secret<string>> {
    return this.#byValue.values()
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return REDACTED
  }
}

const resolvedSecrets = new ResolvedSecrets(MAX_RESOLVED_SECRETS)

/**
 * Every distinct secret any {@link SecretProvider} has resolved in this
 * process so far, oldest first, as `Secret`s. `Scrubber` registers them all
 * when it is built, so the order in which a secret is resolved and an
 * `Airlock` is made does not matter. Internal to airlock-sdk.
 *
 * @example
 * ```ts
 * for (const secret of everyResolvedSecret()) scrubber.register(secret)
 * ```
 */
export function everyResolvedSecret(): Iterable<Secret<string>> {
  return resolvedSecrets
}

/**
 * Makes a secret known to the whole process, as a {@link SecretProvider}
 * does with each it resolves: every open `Airlock` (every listener of
 * {@link onEverySecret}) registers it now, and every `Scrubber` built later
 * starts with it. Internal to airlock-sdk: providers call it, and so does
 * `generateCanaries` for the canaries that stand for such secrets.
 * @example
 * ```ts
 * announceSecret(new Secret(value, 'canary'))   // masked by every Airlock of the process from now on
 * ```
 */
export function announceSecret(secret: Secret<string>): void {
  // Kept before anyone hears of it: a scrubber built by a listener still finds it.
  resolvedSecrets.add(secret)
  for (const listener of everyProvider) listener(secret)
}

/**
 * Calls `listener` with every secret any {@link SecretProvider} resolves from
 * now on, whichever provider it is. Returns a function that removes it.
 * `Airlock` subscribes its scrubber here at construction and unsubscribes at
 * `close()`; what was resolved before is in {@link everyResolvedSecret}.
 * Internal to airlock-sdk.
 *
 * @example
 * ```ts
 * const stop = onEverySecret((secret) => scrubber.register(secret))
 * ```
 */
export function onEverySecret(listener: SecretListener): () => void {
  everyProvider.add(listener)
  return () => everyProvider.delete(listener)
}

/**
 * Where secrets come from. Every secret a provider resolves is announced to
 * listeners before the caller gets it: to every open `Airlock`'s scrubber
 * (so it is masked wherever it appears, with no wiring), and to this
 * provider's own subscribers. It is also kept in a process-wide registry
 * that every `Scrubber` (every `Airlock`) built later starts from, so a
 * secret resolved before `new Airlock()` is masked by it too. A subclass
 * implements `lookup`; `get` does the rest.
 *
 * @example
 * ```ts
 * import { EnvSecretProvider } from 'airlock-sdk'
 *
 * const secrets = new EnvSecretProvider()
 * const token = await secrets.get('API_TOKEN')   // Secret<string>, now masked by every open Airlock
 * ```
 */
export abstract class SecretProvider {
  readonly #listeners = new Set<SecretListener>()

  /**
   * Resolves a secret by name and announces it to every listener.
   *
   * @throws {SecretNotFoundError} when the provider has no such secret.
   */
  async get(name: string): Promise<Secret<string>> {
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('a secret name must be a non-empty string')
    const secret = new Secret(await this.lookup(name), name)
    announceSecret(secret)
    for (const listener of this.#listeners) listener(secret)
    return secret
  }

  /**
   * Calls `listener` with every secret resolved from now on. Returns a function
   * that removes the listener.
   */
  subscribe(listener: SecretListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The raw value of a secret; subclasses implement it. */
  protected abstract lookup(name: string): Promise<string>

  // A provider may hold values (MemorySecretProvider): print none of them.
  toString(): string {
    return `${this.constructor.name}(${REDACTED})`
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return this.toString()
  }
}

/**
 * Secrets from environment variables.
 *
 * @example
 * ```ts
 * const db = await new EnvSecretProvider().get('DB_PASSWORD')
 * ```
 */
export class EnvSecretProvider extends SecretProvider {
  readonly #env: NodeJS.ProcessEnv

  constructor(env: NodeJS.ProcessEnv = process.env) {
    super()
    this.#env = env
  }

  protected lookup(name: string): Promise<string> {
    const value = this.#env[name]
    if (value === undefined || value === '') {
      return Promise.reject(new SecretNotFoundError(`environment variable ${name} is not set`))
    }
    return Promise.resolve(value)
  }
}

/**
 * Secrets from files in one directory, one file a secret, as Docker and
 * Kubernetes mount them. A trailing newline is dropped.
 *
 * @example
 * ```ts
 * const db = await new FileSecretProvider('/run/secrets').get('db_password')
 * ```
 */
export class FileSecretProvider extends SecretProvider {
  readonly #dir: string

  constructor(dir: string) {
    super()
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError('FileSecretProvider needs a directory')
    this.#dir = dir
  }

  protected async lookup(name: string): Promise<string> {
    // A name is a file in the directory, never a path: no separators, no dot-dot.
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') {
      throw new SecretNotFoundError(`secret name ${JSON.stringify(name)} is not a plain file name`)
    }
    try {
      const text = await readFile(`${this.#dir}/${name}`, 'utf8')
      return text.endsWith('\n') ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text
    } catch (err) {
      throw new SecretNotFoundError(`secret ${name} not found in ${this.#dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
  }
}

/**
 * Secrets held in memory, for tests and for values fetched by other means.
 *
 * @example
 * ```ts
 * const secrets = new MemorySecretProvider({ api_token: 'tok_live_abcdef' })
 * ```
 */
export class MemorySecretProvider extends SecretProvider {
  readonly #values: Map<string, string>

  constructor(values: Readonly<Record<string, string>> = {}) {
    super()
    this.#values = new Map(Object.entries(values))
  }

  /** Adds or replaces a secret. */
  set(name: string, value: string): void {
    this.#values.set(name, value)
  }

  protected lookup(name: string): Promise<string> {
    const value = this.#values.get(name)
    if (value === undefined) return Promise.reject(new SecretNotFoundError(`no secret named ${name}`))
    return Promise.resolve(value)
  }
}
