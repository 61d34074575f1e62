import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { inspect } from 'node:util'
import { Secret } from '../crypto/secret.js'
import { AirlockError, ClosedError, DeliveryError, InvalidArgumentError } from '../errors.js'
import type { ControlPlane, DeliveryListener, DeliveryReport } from './control-plane.js'
import type { OutboundEvent } from './events.js'
import type { SpillBatch } from './spill-queue.js'
import { SpillQueue } from './spill-queue.js'

/**
 * Backoff between attempts at one batch.
 *
 * @example
 * ```ts
 * const retry: HttpRetryOptions = { baseMs: 500, maxMs: 60_000, maxAttempts: 20 }   // after 20 attempts a batch is rejected
 * new HttpControlPlane({ url: 'https://cp.example.com/v1/events', retry })
 * ```
 */
export interface HttpRetryOptions {
  /** The first backoff ceiling, in ms; it doubles with each failed attempt. */
  readonly baseMs: number
  /** The largest backoff, in ms; also the cap on a server's `Retry-After`. */
  readonly maxMs: number
  /**
   * Attempts per batch before it is reported `rejected` (reason
   * `attempts-exhausted`) and dropped. Unlimited by default: a control plane
   * that is down delays events, it does not lose them. Setting it trades that
   * guarantee for a bound on how long a batch is held.
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
  /** Where undelivered events spill to and survive restarts. Default `.airlock/spill`, from the working directory. */
  readonly spillDir?: string
  /** Most events per request. Default 100. */
  readonly maxBatch?: number
  /** Most events held in memory before they spill to disk. Default 10 000. */
  readonly maxQueue?: number
  /** Per attempt, until the response headers arrive. Default 10 000 ms. */
  readonly timeoutMs?: number
  /** How long `close()` waits for delivery before it leaves the rest in `spillDir`. Default 5 000 ms. */
  readonly closeTimeoutMs?: number
  /** Backoff between attempts. Default `{ baseMs: 200, maxMs: 30_000 }`, unlimited attempts. */
  readonly retry?: HttpRetryOptions
  /** A WHATWG `fetch`, e.g. one bound to a proxy agent. Default: Node's global `fetch`. */
  readonly fetch?: typeof globalThis.fetch
}

/**
 * Bounds on how long {@link HttpControlPlane.flush} or {@link HttpControlPlane.close} waits.
 *
 * @example
 * ```ts
 * await controlPlane.flush({ timeoutMs: 5_000 })   // throws ERR_DELIVERY if events are still undelivered; delivery goes on
 * await controlPlane.close({ signal: AbortSignal.timeout(10_000) })
 * ```
 */
export interface WaitOptions {
  /** Give up after this many ms. */
  readonly timeoutMs?: number
  /** Give up when this signal aborts. */
  readonly signal?: AbortSignal
}

/** What one attempt came to. `httpStatus` is absent when no response arrived. */
interface Attempt {
  readonly httpStatus?: number
  /** `timeout`, `network`, `aborted` (the transport is closing) or `http-<status>`. */
  readonly reason: string
  readonly retryAfterMs?: number
}

interface FlushWaiter {
  readonly target: number
  readonly finish: (settled: boolean) => void
}

const TIMEOUT: Attempt = { reason: 'timeout' }
const NETWORK: Attempt = { reason: 'network' }
const ABORTED: Attempt = { reason: 'aborted' }

/** The version of the request body, `{"v":1,"batch":[...]}`. */
const WIRE_VERSION = 1
const BEARER_TOKEN = /^[\x21-\x7e]+$/
const LOOPBACK_HOSTS = new Set(['localhost', '[::1]'])

/**
 * A control plane reached over HTTP, with a durable queue in front of it: a
 * control plane that is down delays events, it does not lose them
 * (DESIGN.md, invariant 5).
 *
 * Wire format, version 1. Each batch is one request:
 * ```
 * POST <url>
 * Content-Type: application/json
 * Authorization: Bearer <token>          (when a token is set)
 * Idempotency-Key: alb1.<base64url(SHA-256(id1 "\n" id2 "\n" ... idN))>
 *
 * {"v":1,"batch":[<event>, ...]}         (events in order; see OutboundEvent)
 * ```
 * The key is derived from the batch's event ids, so every attempt at a batch
 * carries the same key, in this process and in the next one. A control plane
 * should store a key with its outcome and answer a repeat with that outcome
 * without counting the batch again, and may also dedupe by event `id`.
 * Redirects are not followed: events go to `url` and nowhere else.
 *
 * Outcomes, reported through {@link HttpControlPlane.onDelivery}:
 * - any 2xx: `delivered`;
 * - 408, 429, 5xx, a 3xx, a timeout or a network error: `retrying` with a
 *   reason class (`http-503`, `timeout`, `network`; never a response body),
 *   then another attempt after a full-jitter exponential backoff, or after
 *   `Retry-After` when the server sends one, capped at `retry.maxMs`;
 * - any other 4xx: `rejected` with its status, not retried; the batch is
 *   dropped, and the Airlock records it in the ledger.
 *
 * Guarantees:
 * - order: strict FIFO across memory and disk, one request in flight;
 * - at least once: an event is forgotten only after a 2xx (or a rejection).
 *   With the idempotency key, a deduping server counts each batch once: a
 *   batch whose response was lost is resent under the same key, and so is a
 *   batch whose acknowledgement the process had not yet recorded on disk when
 *   it stopped (the next process forms the same batch from the same segment,
 *   given the same `maxBatch`);
 * - durability: `send` resolves once the events are queued. Up to `maxQueue`
 *   events are held in memory, then they spill to NDJSON segments in
 *   `spillDir` (fsynced, mode 0600). `close()` writes everything undelivered
 *   to `spillDir`, and the next `HttpControlPlane` on that directory delivers
 *   it first, in order. A process that dies without `close()` loses only what
 *   was in memory (at most `maxQueue` events and the batch in flight); the
 *   ledger still lists them as emitted with no delivery. A `spillDir` serves
 *   one process and one `url` at a time; see {@link SpillQueue}.
 *
 * A backlog found in `spillDir` is delivered once a listener is registered,
 * an event is sent, or `flush`/`close` is called, so its reports are not lost.
 * `spillDir` defaults to `.airlock/spill` in the working directory, beside the
 * Airlock's other local state; a second process there gets
 * `ERR_INVALID_ARGUMENT` instead of sharing it. While events are pending, the
 * backoff timer keeps the process alive: call `close()`.
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
 *   spillDir: '/var/lib/my-worker/airlock-spill',
 * })
 * const airlock = new Airlock({ keys: KeyRing.generate(), controlPlane })
 * // ...
 * await airlock.close()   // waits up to closeTimeoutMs; the rest stays in spillDir
 * ```
 */
export class HttpControlPlane implements ControlPlane {
  readonly #url: URL
  readonly #authorization: Secret<string> | undefined
  readonly #fetch: typeof globalThis.fetch
  readonly #maxBatch: number
  readonly #timeoutMs: number
  readonly #closeTimeoutMs: number
  readonly #baseMs: number
  readonly #maxMs: number
  readonly #maxAttempts: number
  readonly #queue: SpillQueue
  /** Aborted by close: ends the backoff in progress and keeps new attempts from starting. */
  readonly #stop = new AbortController()
  /**
   * Aborts the attempt in flight when closing. One per attempt: combining a
   * long-lived signal with `AbortSignal.any` on every request leaks in Node.
   */
  #inflight: AbortController | undefined
  #listener: DeliveryListener | undefined
  /** Events ever accepted, the backlog found on disk included. */
  #accepted: number
  /** Events delivered or rejected. Delivery is FIFO, so the first `#settled` of `#accepted` are done. */
  #settled = 0
  #waiters: FlushWaiter[] = []
  #running = false
  #loop: Promise<void> = Promise.resolve()
  #closing: Promise<void> | undefined
  /** A disk failure that stopped delivery. */
  #fault: AirlockError | undefined

  /**
   * @throws {InvalidArgumentError} on a malformed option, or when `spillDir`
   *   is in use by another process or holds a backlog for another `url`.
   * @throws {EventInvalidError} when `spillDir` holds a line that is not a valid event.
   */
  constructor(options: HttpControlPlaneOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('HttpControlPlane needs an options object')
    this.#url = parseUrl(options.url)
    this.#authorization = options.token === undefined ? undefined : new Secret(`Bearer ${checkToken(options.token)}`)
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new InvalidArgumentError(`HttpControlPlane { fetch } must be a function; found ${typeof options.fetch}`)
    }
    this.#fetch = options.fetch ?? globalThis.fetch
    this.#maxBatch = positiveInteger('maxBatch', options.maxBatch, 100)
    const maxQueue = positiveInteger('maxQueue', options.maxQueue, 10_000)
    this.#timeoutMs = positiveInteger('timeoutMs', options.timeoutMs, 10_000)
    this.#closeTimeoutMs = nonNegativeInteger('closeTimeoutMs', options.closeTimeoutMs, 5_000)
    const retry: HttpRetryOptions = options.retry ?? { baseMs: 200, maxMs: 30_000 }
    if (typeof retry !== 'object' || retry === null) throw new InvalidArgumentError('HttpControlPlane { retry } must be { baseMs, maxMs, maxAttempts? }')
    this.#baseMs = positiveInteger('retry.baseMs', retry.baseMs, undefined)
    this.#maxMs = positiveInteger('retry.maxMs', retry.maxMs, undefined)
    if (this.#maxMs < this.#baseMs) {
      throw new InvalidArgumentError(`HttpControlPlane { retry.maxMs } must be at least retry.baseMs (${this.#baseMs}); found ${this.#maxMs}`)
    }
    this.#maxAttempts = retry.maxAttempts === undefined ? Infinity : positiveInteger('retry.maxAttempts', retry.maxAttempts, undefined)
    if (options.spillDir !== undefined && (typeof options.spillDir !== 'string' || options.spillDir === '')) {
      throw new InvalidArgumentError('HttpControlPlane { spillDir } must be a non-empty path')
    }
    // Last: it takes the directory's lock, which nothing would release if a later check threw.
    this.#queue = new SpillQueue({ dir: options.spillDir ?? '.airlock/spill', maxQueue, destination: this.#url.href })
    this.#accepted = this.#queue.size
  }

  /** The absolute path of the spill directory. */
  get spillDir(): string {
    return this.#queue.dir
  }

  /** Events accepted and not yet delivered or rejected, wherever they are held. */
  get pending(): number {
    return this.#accepted - this.#settled
  }

  /**
   * Queues a batch for delivery after everything sent before it. Resolves once
   * the events are held (in memory, or on disk past `maxQueue`).
   *
   * @throws {ClosedError} after `close()`.
   * @throws {EventInvalidError} when an event has no id or is not JSON-serializable; nothing of the batch is queued.
   * @throws {DeliveryError} when spilling to disk fails (nothing of the batch is queued), or after such a failure stopped delivery.
   */
  send(batch: readonly OutboundEvent[]): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new ClosedError('HttpControlPlane is closed'))
    if (this.#fault !== undefined) return Promise.reject(this.#fault)
    try {
      this.#queue.push(batch)
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new DeliveryError('the batch could not be queued', { cause: err }))
    }
    this.#accepted += batch.length
    this.#start()
    return Promise.resolve()
  }

  /**
   * Resolves when every event accepted before the call is delivered or
   * rejected. Without options it waits as long as that takes.
   *
   * @throws {DeliveryError} when `timeoutMs` passes or `signal` aborts first
   *   (the events stay queued and delivery goes on), or when a disk failure stopped delivery.
   * @throws {ClosedError} when `close()` ends the wait; the events stay in `spillDir`.
   */
  async flush(options?: WaitOptions): Promise<void> {
    this.#start()
    const target = this.#accepted
    if (await this.#waitSettled(target, options)) return
    if (this.#fault !== undefined) throw this.#fault
    const undelivered = target - this.#settled
    if (this.#closing !== undefined) {
      throw new ClosedError(`HttpControlPlane closed with ${undelivered} events undelivered; they stay in ${this.spillDir} for the next process`)
    }
    throw new DeliveryError(`flush gave up with ${undelivered} events undelivered; they stay queued and delivery goes on`)
  }

  /**
   * Waits for delivery (up to `closeTimeoutMs`, or `options`), then stops:
   * what is still undelivered is written to `spillDir`, where the next
   * `HttpControlPlane` on that directory delivers it first. Sending after
   * close throws `ERR_CLOSED`. Calling close twice is safe.
   *
   * @throws {DeliveryError} when undelivered events cannot be written to `spillDir`.
   */
  async close(options?: WaitOptions): Promise<void> {
    if (this.#closing === undefined) {
      // Checked before anything changes: a bad option must not leave it half-closed.
      checkWaitOptions(options)
      this.#closing = this.#close(options)
    }
    return await this.#closing
  }

  /** Registers the listener for delivery reports, replacing any before it, and starts delivering a backlog. */
  onDelivery(listener: DeliveryListener): void {
    if (typeof listener !== 'function') throw new InvalidArgumentError(`onDelivery needs a function; found ${typeof listener}`)
    this.#listener = listener
    this.#start()
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

  async #close(options: WaitOptions | undefined): Promise<void> {
    this.#start()
    await this.#waitSettled(this.#accepted, { timeoutMs: options?.timeoutMs ?? this.#closeTimeoutMs, signal: options?.signal })
    this.#stop.abort()
    this.#inflight?.abort()
    await this.#loop
    for (const waiter of [...this.#waiters]) waiter.finish(false)
    this.#queue.close()
  }

  #start(): void {
    if (this.#running || this.#stop.signal.aborted || this.#fault !== undefined) return
    this.#loop = this.#run()
  }

  async #run(): Promise<void> {
    this.#running = true
    try {
      let batch: SpillBatch | undefined
      while (!this.#stop.signal.aborted && (batch = this.#queue.next(this.#maxBatch)) !== undefined) {
        if (!(await this.#deliver(batch))) return
        this.#queue.ack()
        this.#settled += batch.ids.length
        this.#wakeWaiters()
      }
    } catch (err) {
      // Only the disk can fail here. Delivery stops; what is held stays held,
      // and send and flush report the failure rather than pretend.
      this.#fault = err instanceof AirlockError ? err : new DeliveryError('delivery stopped on an unexpected error', { cause: err })
      for (const waiter of [...this.#waiters]) waiter.finish(false)
    } finally {
      this.#running = false
    }
  }

  /** Attempts one batch until it is settled (`true`) or the transport closes (`false`). */
  async #deliver(batch: SpillBatch): Promise<boolean> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey(batch.ids),
    }
    if (this.#authorization !== undefined) headers.authorization = this.#authorization.reveal()
    const body = `{"v":${WIRE_VERSION},"batch":[${batch.lines.join(',')}]}`
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#post(headers, body)
      const status = outcome.httpStatus
      if (status !== undefined && status >= 200 && status < 300) {
        this.#report({ eventIds: batch.ids, status: 'delivered', httpStatus: status, attempt })
        return true
      }
      if (status !== undefined && isPermanent(status)) {
        this.#report({ eventIds: batch.ids, status: 'rejected', httpStatus: status, reason: outcome.reason, attempt })
        return true
      }
      if (outcome === ABORTED || this.#stop.signal.aborted) return false
      if (attempt >= this.#maxAttempts) {
        this.#report({ eventIds: batch.ids, status: 'rejected', httpStatus: status, reason: 'attempts-exhausted', attempt })
        return true
      }
      this.#report({ eventIds: batch.ids, status: 'retrying', httpStatus: status, reason: outcome.reason, attempt })
      const delay = outcome.retryAfterMs ?? Math.random() * Math.min(this.#maxMs, this.#baseMs * 2 ** (attempt - 1))
      try {
        await sleep(delay, undefined, { signal: this.#stop.signal })
      } catch {
        return false
      }
    }
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

  #report(report: DeliveryReport): void {
    try {
      this.#listener?.(report)
    } catch (err) {
      // The listener is the ledger's way in; its failure must be seen, but must
      // not stop delivery.
      process.emitWarning(
        `HttpControlPlane: the delivery listener threw ${(err as Error | undefined)?.name ?? 'an error'} on a '${report.status}' report for ${report.eventIds.length} events`,
      )
    }
  }

  #waitSettled(target: number, options: WaitOptions | undefined): Promise<boolean> {
    checkWaitOptions(options)
    if (this.#settled >= target) return Promise.resolve(true)
    const signal = options?.signal
    const timeoutMs = options?.timeoutMs
    if (signal?.aborted === true || timeoutMs === 0 || this.#fault !== undefined || this.#stop.signal.aborted) return Promise.resolve(false)
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const giveUp = (): void => waiter.finish(false)
      const waiter: FlushWaiter = {
        target,
        finish: (settled) => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', giveUp)
          const index = this.#waiters.indexOf(waiter)
          if (index >= 0) this.#waiters.splice(index, 1)
          resolve(settled)
        },
      }
      this.#waiters.push(waiter)
      if (timeoutMs !== undefined) timer = setTimeout(giveUp, timeoutMs)
      signal?.addEventListener('abort', giveUp, { once: true })
    })
  }

  #wakeWaiters(): void {
    // Targets only grow, so the waiters are in order of target.
    while (this.#waiters.length > 0 && (this.#waiters[0] as FlushWaiter).target <= this.#settled) {
      ;(this.#waiters[0] as FlushWaiter).finish(true)
    }
  }
}

/** `alb1.` + base64url(SHA-256 of the event ids joined by "\n"): the same for every attempt at the same batch. */
function idempotencyKey(ids: readonly string[]): string {
  return `alb1.${createHash('sha256').update(ids.join('\n')).digest('base64url')}`
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

function checkWaitOptions(options: WaitOptions | undefined): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`wait options must be { timeoutMs?, signal? }; found ${typeof options}`)
  const { timeoutMs, signal } = options
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs > 2 ** 31 - 1)) {
    throw new InvalidArgumentError(`{ timeoutMs } must be a number of ms from 0 to 2147483647; found ${describeNumber(timeoutMs)}`)
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError('{ signal } must be an AbortSignal')
}

function positiveInteger(name: string, value: unknown, fallback: number | undefined): number {
  if (value === undefined && fallback !== undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new InvalidArgumentError(`HttpControlPlane { ${name} } must be a positive integer; found ${describeNumber(value)}`)
  }
  return value as number
}

function nonNegativeInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidArgumentError(`HttpControlPlane { ${name} } must be a non-negative integer; found ${describeNumber(value)}`)
  }
  return value as number
}

/** A value for an error message: numbers as themselves, anything else by its type, so no content is echoed. */
function describeNumber(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value
}
