import type { Payload } from '@temporalio/common'
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Ledger, type LedgerOptions } from '../../audit/ledger.js'
import type { OutboundRecord } from '../../boundary/outbound-door.js'
import { isKeyRing, type KeyRing } from '../../crypto/key-ring.js'
import { AirlockError, InvalidArgumentError, SealingKeyPublicOnlyError } from '../../errors.js'
import type { JsonObject } from '../../internal/canonical-json.js'
import { assertKnownOptions } from '../../internal/known-options.js'
import { definePolicy } from '../../policy/define-policy.js'
import { EnginePayloads, type PayloadHost } from '../shared/engine-payloads.js'
import { AIRLOCK_ENCODING, codecOnHost, type AirlockPayloadCodec } from './airlock-payload-codec.js'
import { CodecServerTokens, type CodecServerToken } from './codec-server-tokens.js'

/**
 * Options of {@link createCodecServerHandler}.
 *
 * @example
 * ```ts
 * const options: CodecServerOptions = {
 *   keys: KeyRing.fromFile('keys.json'),
 *   tokens: CodecServerTokens.fromFile('codec-tokens.json'),
 *   ledger: { path: 'audit/codec-server.ndjson' },
 *   corsOrigins: ['https://cloud.temporal.io'],
 * }
 * ```
 */
export interface CodecServerOptions {
  /**
   * The key set the workers encode with (retired keys included, to read old history). Under
   * sealing keys, the private key set: a write-only (public-only) ring is refused.
   */
  readonly keys: KeyRing
  /** The bearer tokens accepted: every request without one of them is refused (401). */
  readonly tokens: CodecServerTokens | readonly CodecServerToken[]
  /** The codec server's own ledger: every request, who made it, and what kinds of payloads; never a value. */
  readonly ledger: LedgerOptions
  /** Browser origins allowed to call (the Temporal Web UI's), matched exactly. Default: none. */
  readonly corsOrigins?: readonly string[]
  /** The `Result` workers offload to, so offloaded payloads decode too. */
  readonly offload?: unknown
  /** As `AirlockPayloadCodec`'s: `pass` payloads airlock did not encode (default), or `refuse` them. */
  readonly unsealed?: 'pass' | 'refuse'
  /** Largest request body accepted, in bytes. Default 8 MiB. */
  readonly maxBodyBytes?: number
  /** A path prefix the routes live under (`/codec`), when the handler shares a server. Default none. */
  readonly basePath?: string
}

/**
 * A Node request listener serving Temporal's codec server protocol, and
 * `close()`, which closes its ledger.
 *
 * @example
 * ```ts
 * const handler: CodecServerHandler = await createCodecServerHandler(options)
 * http.createServer(handler).listen(8888)
 * ```
 */
export interface CodecServerHandler {
  (request: IncomingMessage, response: ServerResponse): void
  /** Whether a request's path is one of this handler's (under `basePath`). */
  handles(request: IncomingMessage): boolean
  close(): Promise<void>
}

const OPTION_KEYS = ['keys', 'tokens', 'ledger', 'corsOrigins', 'offload', 'unsealed', 'maxBodyBytes', 'basePath'] as const
const ROUTE = /^\/(?:([A-Za-z0-9._-]{1,255})\/)?(encode|decode)$/
const NAMESPACE = /^[A-Za-z0-9._-]{1,255}$/
const MAX_PAYLOADS = 10_000
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/
const ALLOWED_HEADERS = 'authorization, content-type, x-namespace'
const ACCESS_CHANNEL = 'codec-access'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

interface Access {
  op: 'encode' | 'decode' | 'unknown'
  namespace?: string
  caller: string
  origin?: string
  payloads?: { count: number; sealed: number; offloaded: number; unsealed: number }
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail)
  }
}

/**
 * Temporal's codec server protocol (what the Web UI and `temporal`'s
 * `--codec-endpoint` call) over airlock's ciphers, as a Node request
 * listener:
 *
 * - `POST /encode`, `POST /decode`, and the same under `/{namespace}/`;
 *   the namespace comes from the path or the `X-Namespace` header (both
 *   given must agree). Bodies are proto3 JSON,
 *   `{"payloads":[{"metadata":{"<key>":"<base64>"},"data":"<base64>"}]}`.
 * - Every request needs `Authorization: Bearer <token>` with one of the
 *   configured tokens; anything else gets 401, so no anonymous decode is
 *   possible. Preflight (`OPTIONS`) from a configured origin is answered
 *   without a token, as browsers send none; other origins get no CORS headers.
 * - `/decode` opens what `AirlockPayloadCodec` wrote, fetching offloaded
 *   payloads from `offload`; a payload it cannot open (tampered, another
 *   key, a moved token) gets 400 with its error code and index, never a value.
 * - `/encode` seals every payload (the codec server has no policy to let
 *   anything through clear), as the UI does for a signal's input.
 * - Every request is recorded in the codec server's own ledger before the
 *   answer leaves (channel `codec-access`): operation, namespace, the
 *   caller's subject (`anonymous` when refused), the allowed origin, and how
 *   many payloads of which kind (sealed, offloaded, unsealed); never a value
 *   or a token. Payloads it encodes are ledgered under `payloads` as well.
 *   If the ledger cannot record, the answer is 503 and carries no payload.
 *
 * @throws InvalidArgumentError on unknown or malformed options.
 * @throws SealingKeyPublicOnlyError for a write-only (public-only) key set: decoding needs the private keys.
 * @throws StorageError / LedgerTamperedError when the ledger cannot be opened.
 * @example
 * ```ts
 * import http from 'node:http'
 * import { createCodecServerHandler, CodecServerTokens } from 'airlock-sdk/temporal'
 *
 * const handler = await createCodecServerHandler({
 *   keys, tokens: CodecServerTokens.fromFile('codec-tokens.json'),
 *   ledger: { path: 'audit/codec-server.ndjson' }, corsOrigins: ['https://cloud.temporal.io'],
 * })
 * http.createServer(handler).listen(8888, '127.0.0.1')
 * ```
 */
export async function createCodecServerHandler(options: CodecServerOptions): Promise<CodecServerHandler> {
  assertKnownOptions('createCodecServerHandler', options, OPTION_KEYS)
  if (!isKeyRing(options.keys)) throw new InvalidArgumentError('the codec server needs { keys: KeyRing }')
  if (options.keys.writeOnly) {
    // Decoding is what a codec server is for; a worker's public-only key set cannot.
    throw new SealingKeyPublicOnlyError(
      'the codec server decodes, and this key set holds sealing keys without their private halves (a write-only worker\'s key set): give it the private key set (the FILE of airlock keys generate --sealing --out FILE)',
    )
  }
  const tokens = options.tokens instanceof CodecServerTokens ? options.tokens : new CodecServerTokens(options.tokens)
  const origins = new Set(options.corsOrigins ?? [])
  for (const origin of origins) {
    if (typeof origin !== 'string' || !/^https?:\/\/[^\s/]+$/.test(origin)) {
      throw new InvalidArgumentError('a CORS origin is scheme://host[:port], with no path (for example https://cloud.temporal.io)')
    }
  }
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) throw new InvalidArgumentError('maxBodyBytes is a positive integer')
  const basePath = options.basePath ?? ''
  if (basePath !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath)) throw new InvalidArgumentError('basePath is a path like /codec, without a trailing slash')

  const policy = definePolicy({ preset: 'strict', payloads: { default: 'encrypt', rules: {} } }, { env: {} })
  const ledger = await Ledger.open(options.ledger)
  const record = async (entry: OutboundRecord): Promise<string> => {
    const id = randomUUID()
    const event: JsonObject = { v: 1, kind: 'engine', id, engine: entry.engine, time: new Date().toISOString(), policyHash: policy.hash, sent: entry.sent }
    await ledger.append({ channel: entry.channel, eventId: id, policyHash: policy.hash, event, transforms: [...(entry.transforms ?? [])], status: 'sent' })
    return id
  }
  const host: PayloadHost = { keys: options.keys, policy: policy.payloads, holdsRegisteredSecret: () => false, record }
  const codec = codecOnHost(host, { offload: options.offload, unsealed: options.unsealed ?? 'pass' })

  const access = async (entry: Access, status: number, error?: string): Promise<void> => {
    const id = randomUUID()
    const event: JsonObject = { v: 1, kind: 'codec-access', id, time: new Date().toISOString(), status, ...(entry as unknown as JsonObject) }
    await ledger.append({
      channel: ACCESS_CHANNEL,
      eventId: id,
      policyHash: policy.hash,
      event,
      transforms: [],
      status: error === undefined ? 'sent' : 'failed',
      ...(error === undefined ? {} : { error: { code: error, status } }),
    })
  }

  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const entry: Access = { op: 'unknown', caller: 'anonymous' }
    const origin = typeof request.headers.origin === 'string' && origins.has(request.headers.origin) ? request.headers.origin : undefined
    if (origin !== undefined) {
      entry.origin = origin
      response.setHeader('Access-Control-Allow-Origin', origin)
      response.setHeader('Access-Control-Allow-Credentials', 'true')
    }
    response.setHeader('Vary', 'Origin')
    try {
      const path = pathOf(request, basePath)
      if (request.method === 'OPTIONS') {
        if (origin === undefined || path === undefined || !ROUTE.test(path)) throw new HttpProblem(403, 'ERR_CORS', 'this origin may not call the codec server')
        response.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS')
        response.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS)
        response.setHeader('Access-Control-Max-Age', '600')
        response.writeHead(204).end()
        return
      }
      const route = path === undefined ? null : ROUTE.exec(path)
      if (route === null) throw new HttpProblem(404, 'ERR_NOT_FOUND', 'the codec server serves POST /encode and /decode, also under /{namespace}/')
      entry.op = route[2] as 'encode' | 'decode'
      if (request.method !== 'POST') {
        response.setHeader('Allow', 'POST, OPTIONS')
        throw new HttpProblem(405, 'ERR_METHOD', 'use POST')
      }
      entry.namespace = namespaceOf(route[1], request.headers['x-namespace'])
      const subject = tokens.subjectOf(request.headers.authorization)
      if (subject === undefined) {
        response.setHeader('WWW-Authenticate', 'Bearer')
        throw new HttpProblem(401, 'ERR_UNAUTHORIZED', 'a valid bearer token is required')
      }
      entry.caller = subject
      const payloads = parsePayloads(await readBody(request, maxBodyBytes))
      entry.payloads = census(payloads)
      const answered = entry.op === 'encode' ? await codec.encode(payloads) : await decodeEach(codec, payloads)
      const body = JSON.stringify({ payloads: answered.map(toJson) })
      // Write-ahead: who read what is on disk before they get it.
      try {
        await access(entry, 200)
      } catch {
        throw new HttpProblem(503, 'ERR_STORAGE', 'the access ledger cannot record; nothing is decoded without a record')
      }
      send(response, 200, body)
    } catch (err) {
      const problem = asProblem(err)
      if (problem.status !== 503) await access(entry, problem.status, problem.code).catch(() => undefined)
      send(response, problem.status, JSON.stringify({ error: problem.code, message: problem.detail }))
    }
  }

  const handles = (request: IncomingMessage): boolean => pathOf(request, basePath) !== undefined
  const handler = ((request: IncomingMessage, response: ServerResponse): void => {
    void serve(request, response)
  }) as CodecServerHandler
  handler.handles = handles
  handler.close = () => ledger.close()
  return handler
}

function pathOf(request: IncomingMessage, basePath: string): string | undefined {
  let path: string
  try {
    path = new URL(request.url ?? '/', 'http://codec.invalid').pathname
  } catch {
    return undefined
  }
  if (basePath === '') return path
  return path.startsWith(`${basePath}/`) ? path.slice(basePath.length) : undefined
}

function namespaceOf(fromPath: string | undefined, header: string | string[] | undefined): string {
  if (Array.isArray(header)) throw new HttpProblem(400, 'ERR_BAD_REQUEST', 'X-Namespace is given more than once')
  if (header !== undefined && !NAMESPACE.test(header)) throw new HttpProblem(400, 'ERR_BAD_REQUEST', 'X-Namespace is not a namespace name')
  if (fromPath !== undefined && header !== undefined && fromPath !== header) {
    throw new HttpProblem(400, 'ERR_BAD_REQUEST', 'the namespace in the path and X-Namespace differ')
  }
  return fromPath ?? header ?? 'default'
}

async function readBody(request: IncomingMessage, max: number): Promise<string> {
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > max) throw new HttpProblem(413, 'ERR_TOO_LARGE', `the body is larger than ${max} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > max) throw new HttpProblem(413, 'ERR_TOO_LARGE', `the body is larger than ${max} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

// proto3 JSON of `{ payloads: Payload[] }`: every bytes field base64 (standard or URL-safe, padded or not).
function parsePayloads(text: string): Payload[] {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new HttpProblem(400, 'ERR_BAD_REQUEST', 'the body is not JSON')
  }
  const payloads = (body as { payloads?: unknown } | null)?.payloads
  if (!Array.isArray(payloads)) throw new HttpProblem(400, 'ERR_BAD_REQUEST', 'the body must be {"payloads": [...]}')
  if (payloads.length > MAX_PAYLOADS) throw new HttpProblem(400, 'ERR_BAD_REQUEST', `at most ${MAX_PAYLOADS} payloads per request`)
  return payloads.map((payload: unknown, i) => {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new HttpProblem(400, 'ERR_BAD_REQUEST', `payload ${i} is not an object`)
    const { metadata, data } = payload as { metadata?: unknown; data?: unknown }
    const out: Payload = { metadata: {} }
    if (metadata !== undefined && metadata !== null) {
      if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new HttpProblem(400, 'ERR_BAD_REQUEST', `payload ${i}: metadata is not an object`)
      for (const [key, value] of Object.entries(metadata)) out.metadata![key] = bytesOf(value, i, 'a metadata value')
    }
    if (data !== undefined && data !== null) out.data = bytesOf(data, i, 'data')
    return out
  })
}

function bytesOf(value: unknown, index: number, what: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new HttpProblem(400, 'ERR_BAD_REQUEST', `payload ${index}: ${what} is not base64`)
  return new Uint8Array(Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64'))
}

function toJson(payload: Payload): JsonObject {
  const metadata: Record<string, string> = {}
  for (const [key, value] of Object.entries(payload.metadata ?? {})) metadata[key] = Buffer.from(value ?? new Uint8Array(0)).toString('base64')
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array(0)).toString('base64') }
}

function census(payloads: readonly Payload[]): NonNullable<Access['payloads']> {
  const counts = { count: payloads.length, sealed: 0, offloaded: 0, unsealed: 0 }
  for (const payload of payloads) {
    const encoding = payload.metadata?.encoding
    const ours = encoding !== undefined && decoder.decode(encoding) === AIRLOCK_ENCODING
    const kind = ours ? EnginePayloads.kind(payload.data ?? new Uint8Array(0)) : undefined
    if (kind === 'sealed') counts.sealed++
    else if (kind === 'offloaded') counts.offloaded++
    else counts.unsealed++
  }
  return counts
}

// One by one, so a failure names the payload it is about.
async function decodeEach(codec: AirlockPayloadCodec, payloads: readonly Payload[]): Promise<Payload[]> {
  const out: Payload[] = []
  for (const [i, payload] of payloads.entries()) {
    try {
      out.push(...(await codec.decode([payload])))
    } catch (err) {
      if (err instanceof AirlockError) throw new HttpProblem(400, err.code, `payload ${i} could not be decoded (${err.code})`)
      throw err
    }
  }
  return out
}

function asProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err
  if (err instanceof AirlockError) return new HttpProblem(err.code === 'ERR_STORAGE' || err.code === 'ERR_CLOSED' ? 503 : 400, err.code, `the request could not be served (${err.code})`)
  return new HttpProblem(500, 'ERR_INTERNAL', 'the codec server failed')
}

function send(response: ServerResponse, status: number, body: string): void {
  if (response.headersSent) return
  response.setHeader('Content-Type', 'application/json')
  response.setHeader('Cache-Control', 'no-store')
  response.setHeader('X-Content-Type-Options', 'nosniff')
  response.writeHead(status).end(encoder.encode(body))
}
