import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * What the server does with the next authorized request(s), in place of
 * accepting it. `times` (default 1) repeats a step; `Infinity` keeps it.
 * - `{ status }`: answers with that status (and `headers`), without processing;
 * - `{ hang: true }`: never answers; the request ends when the client gives up;
 * - `{ lose: true }`: processes the batch (it counts), then destroys the socket
 *   before answering: the response is lost.
 */
export type Step = (
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>> }
  | { readonly hang: true }
  | { readonly lose: true }
) & { readonly times?: number }

/** One request as the server saw it. */
export interface ReceivedRequest {
  readonly authorization: string | undefined
  readonly idempotencyKey: string | undefined
  readonly eventIds: readonly string[]
  readonly outcome: 'accepted' | 'duplicate' | 'unauthorized' | 'malformed' | 'scripted' | 'hung' | 'lost'
  readonly status: number | undefined
}

/** An event as received: the server only relies on `id`. */
export type ReceivedEvent = { readonly id: string } & Record<string, unknown>

const PATH = '/v1/events'
const MAX_BODY = 10 * 1024 * 1024

/**
 * A small control plane for the tests of `HttpControlPlane`: a real node:http
 * server on 127.0.0.1 that speaks wire format version 1, checks the bearer
 * token, and counts a batch once per `Idempotency-Key`. It can be scripted to
 * fail, and stopped and restarted on the same port; what it has accepted
 * survives a restart, as a real control plane's store would.
 *
 * @example
 * ```ts
 * const server = await ControlPlaneServer.start({ token: 'tok_test' })
 * server.script({ status: 503, times: 2 }, { lose: true })
 * const controlPlane = new HttpControlPlane({ url: server.url, token: 'tok_test', spillDir })
 * // ...
 * server.events.map((e) => e.id)   // every accepted event, once, in order
 * await server.stop()
 * ```
 */
export class ControlPlaneServer {
  /** Every event accepted, each batch counted once, in order of arrival. */
  readonly events: ReceivedEvent[] = []
  /** Every request, accepted or not, in order of arrival. */
  readonly requests: ReceivedRequest[] = []
  readonly #token: string | undefined
  readonly #seen = new Set<string>()
  readonly #steps: Step[] = []
  readonly #waiters: { count: number; resolve: () => void }[] = []
  #server: Server | undefined
  #port = 0

  private constructor(token: string | undefined) {
    this.#token = token
  }

  /** Starts a server on a free loopback port. */
  static async start(options: { token?: string } = {}): Promise<ControlPlaneServer> {
    const server = new ControlPlaneServer(options.token)
    await server.#listen(0)
    return server
  }

  /** The endpoint to POST batches to. It stays the same across `stop` and `restart`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}${PATH}`
  }

  /** How many requests repeated an `Idempotency-Key` already processed. */
  get duplicates(): number {
    return this.requests.filter((r) => r.outcome === 'duplicate').length
  }

  /** Queues behaviours for the next authorized requests, in order. */
  script(...steps: Step[]): void {
    this.#steps.push(...steps)
  }

  /** Drops the remaining scripted steps: requests are accepted again. */
  clearScript(): void {
    this.#steps.length = 0
  }

  /** Resolves once `count` requests have arrived in total. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push({ count, resolve }))
  }

  /** Stops listening and drops every open connection: the control plane is down. */
  async stop(): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
    server.closeAllConnections()
    await closed
  }

  /** Listens again on the same port: the control plane is back. */
  async restart(): Promise<void> {
    if (this.#server !== undefined) return
    await this.#listen(this.#port)
  }

  #listen(port: number): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res))
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        this.#server = server
        this.#port = (server.address() as AddressInfo).port
        resolve()
      })
    })
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST' || req.url !== PATH) {
      res.writeHead(404).end()
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) req.destroy()
      else chunks.push(chunk)
    })
    req.on('end', () => this.#process(req, res, Buffer.concat(chunks).toString('utf8')))
  }

  #process(req: IncomingMessage, res: ServerResponse, text: string): void {
    const authorization = req.headers.authorization
    const key = req.headers['idempotency-key']
    const idempotencyKey = typeof key === 'string' ? key : undefined
    const batch = parseBatch(text)
    const eventIds = batch?.map((e) => e.id) ?? []
    const record = (outcome: ReceivedRequest['outcome'], status: number | undefined): void => {
      this.requests.push({ authorization, idempotencyKey, eventIds, outcome, status })
      for (const waiter of [...this.#waiters]) {
        if (this.requests.length >= waiter.count) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
          waiter.resolve()
        }
      }
    }

    if (this.#token !== undefined && authorization !== `Bearer ${this.#token}`) {
      record('unauthorized', 401)
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}')
      return
    }
    if (batch === undefined || idempotencyKey === undefined) {
      record('malformed', 400)
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"malformed batch"}')
      return
    }

    const step = this.#takeStep()
    if (step !== undefined && 'status' in step) {
      record('scripted', step.status)
      // A body the client must never copy into a report.
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers }).end('{"error":"scripted failure body"}')
      return
    }
    if (step !== undefined && 'hang' in step) {
      record('hung', undefined)
      return
    }

    const duplicate = this.#seen.has(idempotencyKey)
    if (!duplicate) {
      this.#seen.add(idempotencyKey)
      this.events.push(...batch)
    }
    if (step !== undefined && 'lose' in step) {
      record('lost', undefined)
      req.socket.destroy()
      return
    }
    record(duplicate ? 'duplicate' : 'accepted', 200)
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: batch.length, duplicate }))
  }

  #takeStep(): Step | undefined {
    const step = this.#steps[0]
    if (step === undefined) return undefined
    const times = (step.times ?? 1) - 1
    if (times <= 0) this.#steps.shift()
    else this.#steps[0] = { ...step, times }
    return step
  }
}

function parseBatch(text: string): ReceivedEvent[] | undefined {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof body !== 'object' || body === null) return undefined
  const { v, batch } = body as { v?: unknown; batch?: unknown }
  if (v !== 1 || !Array.isArray(batch)) return undefined
  if (!batch.every((e): e is ReceivedEvent => typeof e === 'object' && e !== null && typeof (e as { id?: unknown }).id === 'string')) {
    return undefined
  }
  return batch
}
