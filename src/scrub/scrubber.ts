import { inspect } from 'node:util'
import { KeyRing, type KeySet } from '../crypto/key-ring.js'
import { REDACTED } from '../crypto/redacted.js'
import { everyResolvedSecret, Secret, type SecretProvider } from '../crypto/secret.js'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { InvalidArgumentError } from '../errors.js'
import { presets } from '../policy/presets.js'
import type { ScrubPolicy } from '../policy/schema.js'
import { Normalizer, type NormalizeLimits } from './normalize.js'
import { TextScrubber } from './text-scrubber.js'
import type { ScrubResult, ScrubTransform } from './transform.js'
import type { Normalized } from './value-nodes.js'
import { Walker, type WalkOptions, type WalkResult } from './walk.js'

/**
 * Options of {@link Scrubber}.
 *
 * @example
 * ```ts
 * const options: ScrubberOptions = { policy: definePolicy({ preset: 'strict' }).scrub, keys: KeyRing.generate() }
 * ```
 */
export interface ScrubberOptions {
  /** The policy's `scrub` section; default: the `balanced` preset's. */
  readonly policy?: ScrubPolicy
  /** Keys for the `hash` action. Without them, `hash` redacts instead (fail closed). */
  readonly keys?: KeyRing
}

/**
 * Options of {@link Scrubber.register}.
 *
 * @example
 * ```ts
 * scrubber.register(process.env.DB_PASSWORD!, { name: 'db-password' } satisfies RegisterOptions)
 * ```
 */
export interface RegisterOptions {
  /** A name for warnings and reports. Never the value. */
  readonly name?: string
}

/**
 * What {@link Scrubber.register} did.
 *
 * @example
 * ```ts
 * const result: RegisterResult = scrubber.register('abc') // { registered: false, reason: 'too-short' }
 * ```
 */
export interface RegisterResult {
  /** True when the value is (now, or already) masked. */
  readonly registered: boolean
  /** Why it was refused. */
  readonly reason?: 'too-short'
}

/**
 * The `process.emitWarning` code of a refused registration.
 *
 * @example
 * ```ts
 * process.on('warning', (w) => {
 *   if ((w as { code?: string }).code === SECRET_TOO_SHORT_WARNING) alertOps(w.message)
 * })
 * ```
 */
export const SECRET_TOO_SHORT_WARNING = 'AIRLOCK_SECRET_TOO_SHORT'

/**
 * What it takes to build the same scrubber in another thread (the logger's
 * scrubbing worker): the policy's `scrub` section, the key set (for the
 * `hash` action), and the registered secrets from the `from`-th on. Internal:
 * not exported from the package; key material and secrets stay in-process.
 *
 * @example
 * ```ts
 * const { policy, keySet, secrets } = scrubberSetup(scrubber, 0)
 * const mirror = new Scrubber({ policy, keys: keySet && KeyRing.fromJSON(keySet) })
 * for (const s of secrets) mirror.register(s)
 * ```
 */
export interface ScrubberSetup {
  readonly policy: ScrubPolicy
  readonly keySet: KeySet | undefined
  readonly secrets: string[]
}

const setups = new WeakMap<Scrubber, { policy: ScrubPolicy; keys: KeyRing | undefined; engine: TextScrubber }>()

/**
 * See {@link ScrubberSetup}.
 *
 * @example
 * ```ts
 * const fresh = scrubberSetup(scrubber, mirrored).secrets   // registered since the mirror was last told
 * ```
 */
export function scrubberSetup(scrubber: Scrubber, from: number): ScrubberSetup {
  const setup = setups.get(scrubber)
  if (setup === undefined) throw new InvalidArgumentError('expected a Scrubber')
  return { policy: setup.policy, keySet: setup.keys?.export(), secrets: setup.engine.secrets.valuesFrom(from) }
}

/**
 * A scrubber built from a {@link ScrubberSetup}: the same policy, keys and
 * secrets (in another thread).
 *
 * @example
 * ```ts
 * const mirror = scrubberFromSetup(workerData.setup)
 * ```
 */
export function scrubberFromSetup(setup: ScrubberSetup): Scrubber {
  const scrubber = new Scrubber({ policy: setup.policy, keys: setup.keySet === undefined ? undefined : KeyRing.fromJSON(setup.keySet) })
  for (const secret of setup.secrets) scrubber.register(secret)
  return scrubber
}

const SCRUB_ALL: WalkOptions = Object.freeze({})
const MASK_ONLY: WalkOptions = Object.freeze({ secretsOnly: true })

/**
 * The one scrubbing engine: every string that leaves, in any channel, passes
 * through it. A new scrubber starts with every secret an SDK
 * `SecretProvider` has resolved in this process so far (too-short ones
 * refused, without a warning), so it does not matter whether a secret was
 * resolved before or after the scrubber (or its `Airlock`) was made.
 *
 * In each string it replaces, leftmost first (at one position the longest
 * match wins, and on a tie registered secrets win, then detectors in
 * `DETECTOR_IDS` order, then custom patterns):
 *
 * - **registered secrets** (`register`, `watch`), and their URL-encoded,
 *   JSON-escaped, base64 and base64url forms, always as
 *   `[REDACTED:registered-secret]`, whatever the policy says;
 * - matches of the **built-in detectors** (`DETECTORS`) the policy has on;
 * - matches of the policy's **custom patterns** (RE2, linear time).
 *
 * Text that carries text (a log message holding serialized JSON, an
 * exception quoting a response body, a URL in a query parameter) is also
 * read with its escape sequences decoded, up to three levels deep (JSON in
 * JSON in JSON): `\n`, `\uXXXX`, `%XX` and the rest are boundaries, so a
 * token right after one is found, and a registered secret is found in any
 * percent or backslash encoding (`URLSearchParams`, a URL's userinfo, a
 * location template, mixed-case hex, JSON twice). What is found there is
 * replaced in the text as written, escape sequences included.
 *
 * In structured values it also replaces whole any value under a key that
 * names a secret (`password`, `apiKey`, `x-auth-token`; see
 * `SensitiveKeyMatcher`), and keeps to the policy's bounds (depth, nodes,
 * string length). A string longer than `maxStringLength` is scanned only to
 * `maxStringLength` plus a margin that covers the longest match (4,096 code
 * units, or the longest registered secret's encoding), then scrubbed, then
 * cut: the work per string is bounded, and a match across the cut is
 * redacted whole. Actions: `redact` gives `[REDACTED:<rule>]`, `mask` the
 * same number of `*`, `hash` a keyed fingerprint (`fp1.<kid>.<mac>`; plain
 * `redact` without a key ring), `remove` deletes the match (or the key).
 *
 * Results list the transforms applied (`path`, `rule`, `action`), never the
 * original values. The scrubber prints as `Scrubber([airlock:redacted])`.
 *
 * @example
 * ```ts
 * import { Scrubber, KeyRing, definePolicy } from 'airlock-sdk'
 *
 * const scrubber = new Scrubber({ policy: definePolicy({ preset: 'balanced' }).scrub, keys: KeyRing.generate() })
 * scrubber.register(process.env.DB_PASSWORD!, { name: 'db-password' })
 *
 * scrubber.scrubString('mail ada@example.com') // 'mail [REDACTED:email]'
 * const { value, transforms } = scrubber.scrub({ user: { email: 'ada@example.com' }, password: 'x1y2z3' })
 * // value: { user: { email: '[REDACTED:email]' }, password: '[REDACTED:sensitive-key]' }
 * // transforms: [{ path: 'user.email', rule: 'email', action: 'redact' },
 * //              { path: 'password', rule: 'sensitive-key', action: 'redact' }]
 * ```
 */
export class Scrubber {
  readonly #engine: TextScrubber
  readonly #walker: Walker
  readonly #normalizer: Normalizer
  readonly #limits: NormalizeLimits

  /**
   * @throws PolicyError when `policy` is not a valid `scrub` section, or a
   *   custom pattern does not compile or reuses a rule id.
   * @throws InvalidArgumentError when `keys` is not a KeyRing.
   */
  constructor(options: ScrubberOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('Scrubber expects an options object: { policy?, keys? }')
    }
    assertKnownOptions('Scrubber', options, ['policy', 'keys'])
    if (typeof options.policy === 'object' && options.policy !== null && 'scrub' in options.policy) {
      throw new InvalidArgumentError('Scrubber expects the policy\'s scrub section ({ policy: policy.scrub }), got a whole policy')
    }
    const policy = options.policy ?? presets.balanced.scrub
    this.#engine = new TextScrubber(policy, options.keys)
    this.#limits = { maxDepth: policy.maxDepth, maxNodes: policy.maxNodes }
    this.#walker = new Walker(this.#engine)
    this.#normalizer = new Normalizer(this.#limits)
    setups.set(this, { policy, keys: options.keys, engine: this.#engine })
    // Secrets SDK providers resolved before this scrubber existed. Quietly:
    // each too-short one was warned about when resolved, if anyone listened.
    for (const secret of everyResolvedSecret()) this.#add(secret.reveal())
  }

  /** How many distinct secrets are registered. */
  get size(): number {
    return this.#engine.secrets.size
  }

  /**
   * Registers a known secret: from now on it, and its common encodings, are
   * replaced wherever they appear. A value shorter than
   * `scrub.minSecretLength` is refused (it would match ordinary text): the
   * result says so and a process warning (`AIRLOCK_SECRET_TOO_SHORT`) names
   * the secret's `name`, never its value or length.
   *
   * @throws InvalidArgumentError when `secret` is not a non-empty string or a `Secret<string>`.
   * @example
   * ```ts
   * scrubber.register(new Secret(token, 'api-token'))
   * scrubber.register('abc', { name: 'pin' }) // { registered: false, reason: 'too-short' } and a warning
   * ```
   */
  register(secret: string | Secret<string>, options: RegisterOptions = {}): RegisterResult {
    const value: unknown = secret instanceof Secret ? secret.reveal() : secret
    if (typeof value !== 'string' || value === '') {
      const found = secret instanceof Secret ? 'a Secret of another type' : secret === '' ? 'an empty string' : describeType(secret)
      throw new InvalidArgumentError(`register expects a non-empty string or a Secret<string>, got ${found}`)
    }
    const name = options.name ?? (secret instanceof Secret ? secret.name : undefined)
    if (!this.#add(value)) {
      const which = name === undefined ? 'an unnamed secret' : `secret "${name}"`
      process.emitWarning(
        `airlock: ${which} was not registered for masking: it is shorter than scrub.minSecretLength (${this.#engine.minSecretLength})`,
        { code: SECRET_TOO_SHORT_WARNING },
      )
      return { registered: false, reason: 'too-short' }
    }
    return { registered: true }
  }

  /** Adds a secret value to the matcher; false when it is too short to mask safely. */
  #add(value: string): boolean {
    if (value.length < this.#engine.minSecretLength) return false
    this.#engine.secrets.add(value)
    return true
  }

  /**
   * Registers every secret `provider` resolves from now on. Returns a
   * function that stops watching.
   *
   * @example
   * ```ts
   * const stop = scrubber.watch(new EnvSecretProvider())
   * const token = await provider.get('API_TOKEN') // masked from here on
   * stop()
   * ```
   */
  watch(provider: SecretProvider): () => void {
    if (typeof (provider as { subscribe?: unknown } | null)?.subscribe !== 'function') {
      throw new InvalidArgumentError(`watch expects a SecretProvider, got ${describeType(provider)}`)
    }
    return provider.subscribe((secret) => {
      this.register(secret)
    })
  }

  /**
   * Scrubs one string: registered secrets, detectors, custom patterns, then
   * the length bound. Returns `text` itself when nothing changed. Pass
   * `transforms` to collect what was done, under `path` (default `$`).
   *
   * @example
   * ```ts
   * const transforms: ScrubTransform[] = []
   * scrubber.scrubString('token ghp_...', transforms) // 'token [REDACTED:github-token]'
   * ```
   */
  scrubString(text: string, transforms?: ScrubTransform[], path = '$'): string {
    if (typeof text !== 'string') throw new InvalidArgumentError(`expected a string to scrub, got ${describeType(text)}`)
    const engine = this.#engine
    const scrubbed = engine.scrubBounded(text, false)
    if (transforms !== undefined) {
      for (let i = 0; i < engine.hitCount; i++) {
        const rule = engine.hits[i]!
        transforms.push({ path, rule: engine.ruleIds[rule]!, action: engine.ruleActions[rule]! })
      }
      if (engine.truncated) transforms.push({ path, rule: 'max-string-length', action: 'truncate' })
    }
    return scrubbed
  }

  /**
   * Whether `text` holds a registered secret (or one of its encodings, also
   * behind escape sequences), read whole: unlike the scrubbing methods, it
   * is not bounded by `maxStringLength`. For bytes an engine adapter would
   * pass in clear: a secret anywhere in a megabyte must be found.
   *
   * @throws InvalidArgumentError when `text` is not a string.
   * @example
   * ```ts
   * scrubber.register('s3cr3t-value')
   * scrubber.holdsRegisteredSecret(JSON.stringify({ dsn: 'pg://app:s3cr3t-value@db' })) // true
   * ```
   */
  holdsRegisteredSecret(text: string): boolean {
    if (typeof text !== 'string') throw new InvalidArgumentError(`holdsRegisteredSecret expects a string, got ${describeType(text)}`)
    if (this.#engine.secrets.size === 0) return false
    return this.#engine.scrubText(text, true) !== text
  }

  /**
   * Whether a value under `key` is replaced whole by {@link Scrubber.scrub}
   * (rule `sensitive-key`): whether `key` matches one of `scrub.sensitiveKeys`.
   *
   * @throws InvalidArgumentError when `key` is not a string.
   * @example
   * ```ts
   * scrubber.isSensitiveKey('X-Auth-Token') // true
   * scrubber.isSensitiveKey('author')       // false
   * ```
   */
  isSensitiveKey(key: string): boolean {
    if (typeof key !== 'string') throw new InvalidArgumentError(`isSensitiveKey expects a string key, got ${describeType(key)}`)
    return this.#engine.sensitiveKeys.matches(key)
  }

  /**
   * Scrubs any value into a new, JSON-ready value: {@link Scrubber.normalize}
   * first (see `Normalizer` for every type), then {@link Scrubber.walk}.
   * Never mutates its input and never throws: a value that cannot be read
   * safely comes back as `[airlock:withheld]`. Errors are written as their
   * fields, scrubbed; the boundary instead holds them to the exceptions policy.
   *
   * @example
   * ```ts
   * const { value, transforms } = scrubber.scrub({ headers: { authorization: 'Bearer abc.def' } })
   * ```
   */
  scrub(value: unknown): ScrubResult {
    if (typeof value === 'string') return this.#text(value, false)
    const { value: scrubbed, transforms } = this.walk(this.normalize(value))
    return { value: scrubbed, transforms }
  }

  /**
   * Like {@link Scrubber.scrub}, but replaces registered secrets only: no
   * detector, no sensitive key. For what the policy lets pass as is
   * (`allow` parameters, the `full` exception mode, the `permissive`
   * preset), where registered secrets are still masked. The bounds hold.
   *
   * @example
   * ```ts
   * scrubber.register('s3cr3t-value')
   * scrubber.maskRegistered({ dsn: 'pg://app:s3cr3t-value@db', email: 'ada@example.com' }).value
   * // { dsn: 'pg://app:[REDACTED:registered-secret]@db', email: 'ada@example.com' }
   * ```
   */
  maskRegistered(value: unknown): ScrubResult {
    if (typeof value === 'string') return this.#text(value, true)
    const { value: masked, transforms } = this.walk(this.normalize(value), MASK_ONLY)
    return { value: masked, transforms }
  }

  // A bare string needs no tree: the engine alone, as the walker would run it on a root string.
  #text(text: string, secretsOnly: boolean): ScrubResult<string> {
    const engine = this.#engine
    const scrubbed = engine.scrubBounded(text, secretsOnly)
    const transforms: ScrubTransform[] = []
    for (let i = 0; i < engine.hitCount; i++) {
      const rule = engine.hits[i]!
      transforms.push({ path: '$', rule: engine.ruleIds[rule]!, action: engine.ruleActions[rule]! })
    }
    if (engine.truncated) transforms.push({ path: '$', rule: 'max-string-length', action: 'truncate' })
    return { value: scrubbed, transforms }
  }

  /**
   * Normalizes any value into the one value model, under this scrubber's
   * `maxDepth` and `maxNodes` (see `Normalizer`): what every channel does
   * once, before any rule runs. Nothing is scrubbed yet.
   *
   * @example
   * ```ts
   * const tree = scrubber.normalize({ order: new Order(), err: new Error('x') })
   * ```
   */
  normalize(value: unknown): Normalized {
    // A toJSON or getter may normalize while we do; it gets a normalizer of its own.
    const normalizer = this.#normalizer.busy ? new Normalizer(this.#limits) : this.#normalizer
    return normalizer.run(value)
  }

  /**
   * Walks a normalized tree (see `Walker`): path rules, sensitive keys,
   * scrubbing, and with `defer` the errors, references and values to
   * encrypt handed back to the caller.
   *
   * @example
   * ```ts
   * const { value, transforms, deferred } = scrubber.walk(scrubber.normalize(fields), { rules, defer: true })
   * ```
   */
  walk(tree: Normalized, options: WalkOptions = SCRUB_ALL): WalkResult {
    // A getter cannot run here (the tree is plain data), but a caller's callback could re-enter.
    const walker = this.#walker.busy ? new Walker(this.#engine) : this.#walker
    return walker.run(tree, options)
  }

  toString(): string {
    return `Scrubber(${REDACTED})`
  }

  toJSON(): string {
    return `Scrubber(${REDACTED})`
  }

  [inspect.custom](): string {
    return this.toString()
  }

  /**
   * Replaces the user segment of home directories (`/home/<user>`,
   * `/Users/<user>`, `C:\\Users\\<user>`) and nothing else, whether or not the
   * `home-path` detector is on: stack traces lose them in every exception mode.
   *
   * @example
   * ```ts
   * scrubber.stripHomePaths('at /home/ada/app.js:1:1', [], 'stack') // 'at /home/[REDACTED:home-path]/app.js:1:1'
   * ```
   */
  stripHomePaths(text: string, transforms: ScrubTransform[], path: string): string {
    const engine = this.#engine
    const stripped = engine.stripHomePaths(text)
    if (engine.hitCount !== 0) transforms.push({ path, rule: 'home-path', action: engine.ruleActions[engine.hits[0]!]! })
    return stripped
  }
}
