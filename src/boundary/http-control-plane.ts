import { setTimeout as sleep } from 'node:timers/promises'
import { inspect } from 'node:util'
import { Secret } from '../crypto/secret.js'
import { ClosedError, InvalidArgumentError } from '../errors.js'
import { parseDuration, type Duration } from '../internal/duration.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { renamedOption } from '../internal/renamed-option.js'
import type { ControlPlane, DeliveryBatch, DeliveryOutcome, DeliveryRetry } from './control-plane.js'

/**
 * Backoff between attempts at one batch.
 *
 * @example
 * ```ts
 * const retry: HttpRetryOptions = { base: '500ms', max: '1m', retries: 19 }   // after 20 attempts (19 retries) a batch is rejected
 * new HttpControlPlane({ url: 'https://cp.example.com/v1/events', retry })
 * ```
 */
export interface HttpRetryOptions {
  /** The first backoff ceiling; it doubles with each failed attempt. Default `'200ms'`. */
  readonly base?: Duration
  /** The largest backoff; also the cap on a server's `Retry-After`. Default `'30s'`. */
  readonly max?: Duration
  /** @deprecated The older name of {@link HttpRetryOptions.base}, in ms. Setting both is a `ConflictingOptionsError`. */
  readonly baseMs?: number
  /** @deprecated The older name of {@link HttpRetryOptions.max}, in ms. Setting both is a `ConflictingOptionsError`. */
  readonly maxMs?: number
  /**
   * Retries per batch after its first attempt, as a task's `retries` counts
   * them (`retries: 2` is three attempts); past them the batch is reported
   * `rejected` (reason `attempts-exhausted`) and dropped. Unlimited by
   * default: a control plane that is down delays events, it does not lose
   * them. Setting it trades that guarantee for a bound on how long a batch is
   * held.
   */
  readonly retries?: number
  /**
   * @deprecated The older form of {@link HttpRetryOptions.retries}, counting attempts: `maxAttempts: n` is `retries: n - 1`.
   * Setting both is a `ConflictingOptionsError`.
   */
  readonly maxAttempts?: number
}

/**
 * Options of {@link HttpControlPlane}.
 *
 * @example
 * ```ts
 * const options: HttpControlPlaneOptions = { url: 'https://cp.example.com/v1/events', token: await secrets.get('CP_TOKEN'), maxBatch: 50 }
 * const controlPlane = new HttpControlPlane(options)
 * ```
 */
export interface HttpControlPlaneOptions {
  /** Where batches are POSTed. `https:`, or `http:` to a loopback host only. No credentials in it. */
  readonly url: string | URL
  /** Sent as `Authorization: Bearer <token>`. Printable ASCII, no spaces. */
  readonly token?: string | Secret<string>
  /** Most events per request. Default 100. */
  readonly maxBatch?: number
  /** Per attempt, until the response headers arrive. Default `'10s'`. */
  readonly timeout?: Duration
  /** How long the Airlock's `close()` waits for delivery before it leaves the rest in the outbox (its ledger). Default `'5s'`. */
  readonly closeTimeout?: Duration
  /** @deprecated The older name of {@link HttpControlPlaneOptions.timeout}, in ms. Setting both is a `ConflictingOptionsError`. */
  readonly timeoutMs?: number
  /** @deprecated The older name of {@link HttpControlPlaneOptions.closeTimeout}, in ms. Setting both is a `ConflictingOptionsError`. */
  readonly closeTimeoutMs?: number
  /** Backoff between attempts. Default `{ base: '200ms', max: '30s' }`, unlimited attempts. */
  readonly retry?: HttpRetryOptions
  /** A WHATWG `fetch`, e.g. one bound to a proxy agent. Default: Node's global `fetch`. */
  readonly fetch?: typeof globalThis.fetch
}

/** What one attempt came to. `httpStatus` is absent when no response arrived. */
interface Attempt {
  readonly httpStatus?: number
  /** `timeout`, `network`, `aborted` (the transport is closing) or `http-<status>`. */
  readonly reason: string
  readonly retryAfterMs?: number
}

const TIMEOUT: Attempt = { reason: 'timeout' }
const NETWORK: Attempt = { reason: 'network' }
const ABORTED: Attempt = { reason: 'aborted' }

/** The version of the request body, `{"v":1,"batch":[...]}`. */
const WIRE_VERSION = 1
const BEARER_TOKEN = /^[\x21-\x7e]+$/
const LOOPBACK_HOSTS = new Set(['localhost', '[::1]'])

/**
 * A control plane reached over HTTP. It holds no queue of its own: the
 * Airlock's ledger is the outbox (docs/design.md, invariants 5 and 8), which hands
 * it one batch at a time, in ledger order, and records how far delivery got,
 * so a control plane that is down, or a process that dies, delays events and
 * loses none.
 *
 * Wire format, version 1. Each batch is one request:
 * ```
 * POST <url>
 * Content-Type: application/json
 * Authorization: Bearer <token>          (when a token is set)
 * Idempotency-Key: alb1.<base64url(SHA-256(id1 "\n" id2 "\n" ... idN))>
 *
 * {"v":1,"batch":[<event>, ...]}         (events in order, each its canonical JSON as ledgered)
 * ```
 * The key is derived from the batch's event ids, and the outbox records a
 * batch before it is sent, so every attempt at a batch carries the same key,
 * in this process and in the next one. A control plane should store a key
 * with its outcome and answer a repeat with that outcome without counting
 * the batch again, and may also dedupe by event `id`. Redirects are not
 * followed: events go to `url` and nowhere else.
 *
 * Outcomes:
 * - any 2xx: delivered;
 * - 408, 429, 5xx, a 3xx, a timeout or a network error: another attempt
 *   after a full-jitter exponential backoff, or after `Retry-After` when the
 *   server sends one, capped at `retry.max` (each failed attempt is
 *   reported, and ledgered as `retrying`);
 * - any other 4xx: rejected with its status, not retried, and ledgered as
 *   `failed`.
 *
 * One request is in flight at a time. While a batch is being retried the
 * backoff timer keeps the process alive: close the Airlock, which waits up
 * to `closeTimeout` and leaves the rest in its ledger for the next process.
 *
 * The token never appears in errors, reports, `toString`, `toJSON` or
 * `inspect`, and plain `http:` is refused except to a loopback host.
 *
 * @example
 * ```ts
 * import { Airlock, EnvSecretProvider, HttpControlPlane, KeyRing } from 'airlock-sdk'
 *
 * const controlPlane = new HttpControlPlane({
 *   url: 'https://control-plane.example.com/v1/events',
 *   token: await new EnvSecretProvider().get('AIRLOCK_CONTROL_PLANE_TOKEN'),
 * })
 * const airlock = new Airlock({ keys: KeyRing.generate(), controlPlane, ledger: { path: '/var/lib/my-worker/ledger.ndjson' } })
 * // ...
 * await airlock.close()   // waits up to closeTimeout; what is undelivered stays in the ledger for the next process
 * ```
 */
export class HttpControlPlane implements ControlPlane {
  readonly maxBatch: number
  readonly closeTimeoutMs: number
  readonly #url: URL
  readonly #authorization: Secret<string> | undefined
  readonly #fetch: typeof globalThis.fetch
  readonly #timeoutMs: number
  readonly #baseMs: number
  readonly #maxMs: number
  readonly #maxAttempts: number
  /** Aborted by close: ends the backoff in progress and keeps new attempts from starting. */
  readonly #stop = new AbortController()
  /**
   * Aborts the attempt in flight when closing. One per attempt: combining a
   * long-lived signal with `AbortSignal.any` on every request leaks in Node.
   */
  #inflight: AbortController | undefined

  /** @throws {InvalidArgumentError} on a malformed or unknown option (the spill options are gone: the ledger is the outbox). */
  constructor(options: HttpControlPlaneOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('HttpControlPlane needs an options object')
    for (const removed of ['spillDir', 'maxQueue'] as const) {
      if (Object.hasOwn(options, removed)) {
        throw new InvalidArgumentError(
          `HttpControlPlane { ${removed} } was removed: undelivered events stay in the Airlock's ledger, which is the outbox, and the next process delivers them first (README: Delivery)`,
        )
      }
    }
    assertKnownOptions('HttpControlPlane', options, [
      'url',
      'token',
      'maxBatch',
      'timeout',
      'timeoutMs',
      'closeTimeout',
      'closeTimeoutMs',
      'retry',
      'fetch',
    ])
    this.#url = parseUrl(options.url)
    this.#authorization = options.token === undefined ? undefined : new Secret(`Bearer ${checkToken(options.token)}`)
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new InvalidArgumentError(`HttpControlPlane { fetch } must be a function; found ${typeof options.fetch}`)
    }
    this.#fetch = options.fetch ?? globalThis.fetch
    this.maxBatch = positiveInteger('maxBatch', options.maxBatch, 100)
    this.#timeoutMs = durationOption(options, 'timeout', 'timeoutMs', 10_000)
    if (this.#timeoutMs === 0) throw new InvalidArgumentError('HttpControlPlane { timeout } must be more than 0')
    this.closeTimeoutMs = durationOption(options, 'closeTimeout', 'closeTimeoutMs', 5_000)
    const retry: HttpRetryOptions = options.retry ?? {}
    if (typeof retry !== 'object' || retry === null) throw new InvalidArgumentError('HttpControlPlane { retry } must be { base?, max?, retries? }')
    assertKnownOptions('HttpControlPlane { retry }', retry, ['base', 'max', 'baseMs', 'maxMs', 'retries', 'maxAttempts'])
    this.#baseMs = durationOption(retry, 'base', 'baseMs', 200, 'retry.')
    this.#maxMs = durationOption(retry, 'max', 'maxMs', 30_000, 'retry.')
    if (this.#baseMs === 0) throw new InvalidArgumentError('HttpControlPlane { retry.base } must be more than 0')
    if (this.#maxMs < this.#baseMs) {
      throw new InvalidArgumentError(`HttpControlPlane { retry.max } must be at least retry.base (${this.#baseMs} ms); found ${this.#maxMs} ms`)
    }
    renamedOption('HttpControlPlane { retry }', retry, 'retries', 'maxAttempts')
    this.#maxAttempts =
      retry.retries !== undefined
        ? nonNegativeInteger('retry.retries', retry.retries) + 1
        : retry.maxAttempts !== undefined
          ? positiveInteger('retry.maxAttempts', retry.maxAttempts, undefined)
          : Infinity
  }

  /**
   * POSTs the batch until it is delivered or refused for good, reporting each
   * failed attempt it will make again.
   *
   * @throws {ClosedError} when `close()` stops it first; the batch stays in the outbox.
   */
  async deliver(batch: DeliveryBatch, onRetry: (retry: DeliveryRetry) => void): Promise<DeliveryOutcome> {
    if (this.#stop.signal.aborted) throw new ClosedError('HttpControlPlane is closed')
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': batch.idempotencyKey,
    }
    if (this.#authorization !== undefined) headers.authorization = this.#authorization.reveal()
    const body = `{"v":${WIRE_VERSION},"batch":[${batch.lines.join(',')}]}`
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#post(headers, body)
      const status = outcome.httpStatus
      if (status !== undefined && status >= 200 && status < 300) return { status: 'delivered', httpStatus: status, attempt }
      if (status !== undefined && isPermanent(status)) return { status: 'rejected', httpStatus: status, reason: outcome.reason, attempt }
      if (outcome === ABORTED || this.#stop.signal.aborted) throw new ClosedError('HttpControlPlane closed before the batch was delivered')
      if (attempt >= this.#maxAttempts) return { status: 'rejected', httpStatus: status, reason: 'attempts-exhausted', attempt }
      const retry: DeliveryRetry = status === undefined ? { reason: outcome.reason, attempt } : { reason: outcome.reason, httpStatus: status, attempt }
      onRetry(retry)
      const delay = outcome.retryAfterMs ?? Math.random() * Math.min(this.#maxMs, this.#baseMs * 2 ** (attempt - 1))
      try {
        await sleep(delay, undefined, { signal: this.#stop.signal })
      } catch {
        throw new ClosedError('HttpControlPlane closed before the batch was delivered')
      }
    }
  }

  /** Abandons the attempt in flight and the backoff; `deliver` rejects with `ClosedError` from then on. Safe to call twice. */
  close(): Promise<void> {
    this.#stop.abort()
    this.#inflight?.abort()
    return Promise.resolve()
  }

  toString(): string {
    return `HttpControlPlane(${this.#url.origin}${this.#url.pathname})`
  }

  toJSON(): { type: 'HttpControlPlane'; url: string } {
    return { type: 'HttpControlPlane', url: `${this.#url.origin}${this.#url.pathname}` }
  }

  [inspect.custom](): string {
    return this.toString()
  }

  async #post(headers: Record<string, string>, body: string): Promise<Attempt> {
    if (this.#stop.signal.aborted) return ABORTED
    let response: Response
    const inflight = new AbortController()
    this.#inflight = inflight
    // Called unbound: a fetch such as a browser's refuses another `this`.
    const fetch = this.#fetch
    try {
      response = await fetch(this.#url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([inflight.signal, AbortSignal.timeout(this.#timeoutMs)]),
      })
    } catch (err) {
      if (this.#stop.signal.aborted) return ABORTED
      return (err as Error | undefined)?.name === 'TimeoutError' ? TIMEOUT : NETWORK
    } finally {
      this.#inflight = undefined
    }
    // The body is never read: it is not needed, and a report must not carry it.
    try {
      await response.body?.cancel()
    } catch {
      // The connection is already gone; the status is what counts.
    }
    const status = response.status
    return {
      httpStatus: status,
      reason: `http-${status}`,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), this.#maxMs),
    }
  }
}

/** A status that another attempt cannot change: a 4xx, except 408 (timeout) and 429 (too many requests). */
function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429
}

/** `Retry-After` in ms (delta-seconds or an HTTP date), capped at `maxMs`; `undefined` when absent or malformed. */
function parseRetryAfter(value: string | null, maxMs: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - Date.now()
  if (Number.isNaN(ms)) return undefined
  return Math.min(Math.max(ms, 0), maxMs)
}

function parseUrl(value: unknown): URL {
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw new InvalidArgumentError(`HttpControlPlane needs { url } as a string or URL; found ${typeof value}`)
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    // The value itself is not echoed: a url can carry a tenant or a key.
    throw new InvalidArgumentError('HttpControlPlane { url } is not an absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidArgumentError(`HttpControlPlane { url } must be https: (or http: to a loopback host); found ${url.protocol}`)
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidArgumentError('HttpControlPlane { url } must not carry credentials; pass { token } instead')
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new InvalidArgumentError(
      `HttpControlPlane { url } uses plain http: to ${url.hostname}, which would expose the token and the events; use https:`,
    )
  }
  return url
}

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
}

function checkToken(token: unknown): string {
  const value = token instanceof Secret ? (token.reveal() as unknown) : token
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(`HttpControlPlane { token } must be a string or a Secret<string>; found ${typeof value}`)
  }
  // Checked here so that fetch never throws a header error, whose message
  // could quote the value.
  if (!BEARER_TOKEN.test(value)) {
    throw new InvalidArgumentError('HttpControlPlane { token } must be non-empty printable ASCII without spaces')
  }
  return value
}

function positiveInteger(name: string, value: unknown, fallback: number | undefined): number {
  if (value === undefined && fallback !== undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new InvalidArgumentError(`HttpControlPlane { ${name} } must be a positive integer; found ${describeNumber(value)}`)
  }
  return value as number
}

function nonNegativeInteger(name: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidArgumentError(`HttpControlPlane { ${name} } must be a non-negative integer; found ${describeNumber(value)}`)
  }
  return value as number
}

/**
 * A {@link Duration} option in whole ms, under its name or its older `…Ms`
 * name; `fallback` when neither is set. A fraction of a ms is rounded up, so
 * a timeout is never shorter than asked.
 */
function durationOption(options: object, name: string, oldName: string, fallback: number, prefix = ''): number {
  const value = renamedOption(prefix === '' ? 'HttpControlPlane' : `HttpControlPlane { ${prefix.slice(0, -1)} }`, options, name, oldName)
  if (value === undefined) return fallback
  const given = Object.hasOwn(options, name) ? name : oldName
  return Math.ceil(parseDuration(value, `HttpControlPlane { ${prefix}${given} }`))
}

/** A value for an error message: numbers as themselves, anything else by its type, so no content is echoed. */
function describeNumber(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value
}
