import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A small, in-memory Google Cloud Storage JSON-API server for the test suite.
 * No GCS emulator is installable from the registries (see
 * the team's storage-server notes), so this one speaks just the part
 * of the API that `@google-cloud/storage` 7 uses for object I/O:
 *
 * | request | answer |
 * |---|---|
 * | `POST /upload/storage/v1/b/{b}/o?uploadType=multipart` (`multipart/related`: JSON metadata, then media) | 200, object resource |
 * | `POST /upload/storage/v1/b/{b}/o?uploadType=media&name=...` | 200, object resource |
 * | `POST /upload/storage/v1/b/{b}/o?uploadType=resumable&name=...` | 200, `Location:` session URL |
 * | `PUT {session URL}`, a middle chunk: `Content-Range: bytes a-b/*`, or `bytes a-b/N` short of N | 308, `Range: bytes=0-b` |
 * | `PUT {session URL}`, the end: `bytes a-b/N` reaching N, or `bytes a-*` (the rest, in this request) | 200, object resource |
 * | `PUT {session URL}`, a status query: `Content-Range: bytes *` then `/*` or `/N` | 308 (with `Range` once bytes arrived); 200 when done |
 * | `GET /storage/v1/b/{b}/o/{name}?alt=media` (optional `Range: bytes=s-e`, `s-`, `-n`) | 200 / 206, with `x-goog-hash` |
 * | `GET /storage/v1/b/{b}/o/{name}` | 200, object resource |
 * | `DELETE /storage/v1/b/{b}/o/{name}` | 204 |
 * | `GET /storage/v1/b/{b}/o?prefix=&delimiter=&maxResults=&pageToken=` | 200, `storage#objects` |
 * | `GET /storage/v1/b/{b}`, `POST /storage/v1/b?project=p` (JSON `{name}`) | bucket get / create |
 *
 * Uploads answer `md5Hash` and `crc32c` (base64, CRC32C big-endian), which the
 * client checks, and verify an `X-Goog-Hash` request header when one is sent.
 * `ifGenerationMatch` is honoured on uploads and deletes (`0`: only if absent).
 * Errors have GCS's shape: `{"error":{"code":404,"message":...,"errors":[{"reason":"notFound",...}]}}`.
 * There is no authentication: with a custom `apiEndpoint` the client sends none.
 *
 * @example
 * ```ts
 * import { Storage } from '@google-cloud/storage'
 * import { startGcsServer } from '../support/gcs-server.js'
 *
 * const server = await startGcsServer({ buckets: ['results'] })
 * const storage = new Storage({ apiEndpoint: server.endpoint, projectId: 'test' })
 * await storage.bucket('results').file('a.txt').save('hello')
 * await server.close()   // later requests fail with ECONNREFUSED
 * ```
 */
export interface GcsServer {
  /** `http://127.0.0.1:PORT`: pass it as the client's `apiEndpoint`. */
  readonly endpoint: string
  /** The buckets that existed at start. */
  readonly buckets: readonly string[]
  /** Stops listening and drops open connections, so in-flight requests fail at once. Idempotent. */
  readonly close: () => Promise<void>
}

/** Options of {@link startGcsServer}. */
export interface GcsServerOptions {
  /** Buckets that exist from the start. Others can be made with `bucket.create()`. Default `['airlock-test']`. */
  readonly buckets?: readonly string[]
}

/**
 * Starts a private GCS server on a random loopback port.
 *
 * @example
 * ```ts
 * const { endpoint, close } = await startGcsServer()
 * ```
 */
export async function startGcsServer(options: GcsServerOptions = {}): Promise<GcsServer> {
  const bucketNames = [...(options.buckets ?? ['airlock-test'])]
  const state: ServerState = {
    endpoint: '',
    buckets: new Map(bucketNames.map((name) => [name, new Map<string, StoredObject>()])),
    sessions: new Map(),
    nextGeneration: Date.now() * 1000,
  }
  const server = createServer((req, res) => {
    handle(state, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'internalError', err instanceof Error ? err.message : 'internal error')
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  state.endpoint = `http://127.0.0.1:${port}`
  let closed: Promise<void> | undefined
  return {
    endpoint: state.endpoint,
    buckets: bucketNames,
    close: () =>
      (closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        // Keep-alive sockets would hold close() open; a stopped server must look stopped.
        server.closeAllConnections()
      })),
  }
}

/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as GCS reports it.
 * Node's zlib has CRC32 only, a different polynomial.
 *
 * @example
 * ```ts
 * crc32c(Buffer.from('123456789')) === 0xe3069283 // true
 * ```
 */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

interface StoredObject {
  readonly data: Buffer
  readonly resource: ObjectResource
}

interface ObjectResource {
  kind: 'storage#object'
  id: string
  selfLink: string
  mediaLink: string
  name: string
  bucket: string
  generation: string
  metageneration: string
  contentType: string
  storageClass: 'STANDARD'
  size: string
  md5Hash: string
  crc32c: string
  etag: string
  timeCreated: string
  updated: string
  metadata?: Record<string, string>
}

interface UploadSession {
  readonly bucket: string
  readonly name: string
  readonly metadata: UploadMetadata
  readonly ifGenerationMatch: string | null
  readonly chunks: Buffer[]
  received: number
  finished: ObjectResource | undefined
}

interface UploadMetadata {
  contentType?: string
  metadata?: Record<string, string>
}

interface ServerState {
  endpoint: string
  readonly buckets: Map<string, Map<string, StoredObject>>
  readonly sessions: Map<string, UploadSession>
  nextGeneration: number
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message)
  }
}

async function handle(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', state.endpoint)
  // Split before decoding: object names arrive with `/` encoded as %2F.
  const segments = url.pathname.split('/').slice(1)
  if (segments[0] === 'download') segments.shift()
  try {
    if (segments[0] === 'upload' && segments[1] === 'storage' && segments[2] === 'v1' && segments[3] === 'b' && segments[5] === 'o') {
      const bucket = decodeURIComponent(segments[4] ?? '')
      if (req.method === 'POST') return await startUpload(state, bucket, url, req, res)
      if (req.method === 'PUT') return await continueUpload(state, url, req, res)
    } else if (segments[0] === 'storage' && segments[1] === 'v1' && segments[2] === 'b') {
      if (segments.length === 3 && req.method === 'POST') return await createBucket(state, req, res)
      const bucket = decodeURIComponent(segments[3] ?? '')
      if (segments.length === 4 && req.method === 'GET') {
        bucketObjects(state, bucket)
        return sendJson(res, 200, { kind: 'storage#bucket', id: bucket, name: bucket })
      }
      if (segments[4] === 'o' && segments.length === 5 && req.method === 'GET') {
        return sendJson(res, 200, listObjects(state, bucket, url))
      }
      if (segments[4] === 'o' && segments.length > 5) {
        const name = segments.slice(5).map(decodeURIComponent).join('/')
        if (req.method === 'GET') return getObject(state, bucket, name, url, req, res)
        if (req.method === 'DELETE') return deleteObject(state, bucket, name, url, res)
      }
    }
    throw new HttpError(404, 'notFound', `Not Found: ${req.method ?? ''} ${url.pathname}`)
  } catch (err) {
    if (!(err instanceof HttpError)) throw err
    // Unread request bodies would otherwise stall keep-alive connections.
    req.resume()
    sendError(res, err.status, err.reason, err.message)
  }
}

function bucketObjects(state: ServerState, bucket: string): Map<string, StoredObject> {
  const objects = state.buckets.get(bucket)
  if (objects === undefined) throw new HttpError(404, 'notFound', 'The specified bucket does not exist.')
  return objects
}

async function createBucket(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseJsonBody(await readBody(req)) as { name?: unknown }
  if (typeof body.name !== 'string' || body.name === '') throw new HttpError(400, 'required', 'Required: bucket name')
  if (state.buckets.has(body.name)) {
    throw new HttpError(409, 'conflict', 'Your previous request to create the named bucket succeeded and you already own it.')
  }
  state.buckets.set(body.name, new Map())
  sendJson(res, 200, { kind: 'storage#bucket', id: body.name, name: body.name })
}

async function startUpload(state: ServerState, bucket: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  bucketObjects(state, bucket)
  const uploadType = url.searchParams.get('uploadType')
  const ifGenerationMatch = url.searchParams.get('ifGenerationMatch')
  const body = await readBody(req)
  if (uploadType === 'multipart') {
    const { metadata, media } = parseMultipart(req.headers['content-type'], body)
    const name = url.searchParams.get('name') ?? (typeof metadata.name === 'string' ? metadata.name : '')
    checkHashHeader(req, media)
    return sendJson(res, 200, store(state, bucket, requireName(name), media, metadata, ifGenerationMatch))
  }
  if (uploadType === 'media') {
    checkHashHeader(req, body)
    const metadata: UploadMetadata = { contentType: req.headers['content-type'] ?? 'application/octet-stream' }
    return sendJson(res, 200, store(state, bucket, requireName(url.searchParams.get('name')), body, metadata, ifGenerationMatch))
  }
  if (uploadType === 'resumable') {
    const metadata = (body.length === 0 ? {} : parseJsonBody(body)) as UploadMetadata & { name?: unknown }
    const name = requireName(url.searchParams.get('name') ?? (typeof metadata.name === 'string' ? metadata.name : null))
    const contentType = req.headers['x-upload-content-type']
    if (typeof contentType === 'string') metadata.contentType = contentType
    const id = randomUUID()
    state.sessions.set(id, { bucket, name, metadata, ifGenerationMatch, chunks: [], received: 0, finished: undefined })
    const session = new URL(`/upload/storage/v1/b/${encodeURIComponent(bucket)}/o`, state.endpoint)
    session.searchParams.set('uploadType', 'resumable')
    session.searchParams.set('name', name)
    session.searchParams.set('upload_id', id)
    res.writeHead(200, { Location: session.toString(), 'Content-Length': '0' })
    res.end()
    return
  }
  throw new HttpError(400, 'invalid', `unsupported uploadType ${JSON.stringify(uploadType)}`)
}

const CONTENT_RANGE = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/

async function continueUpload(state: ServerState, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const session = state.sessions.get(url.searchParams.get('upload_id') ?? '')
  if (session === undefined) throw new HttpError(404, 'notFound', 'No such upload session.')
  const body = await readBody(req)
  if (session.finished !== undefined) return sendJson(res, 200, session.finished)

  const header = req.headers['content-range']
  const match = header === undefined ? ['', '0', '*', '*'] : CONTENT_RANGE.exec(header)
  if (match === null) throw new HttpError(400, 'invalid', `malformed Content-Range ${JSON.stringify(header)}`)
  const [, first, last, totalText] = match
  const total = totalText === '*' ? undefined : Number(totalText)

  if (first !== undefined) {
    if (Number(first) !== session.received) {
      throw new HttpError(400, 'invalid', `Content-Range starts at ${first}, but ${session.received} bytes were received`)
    }
    if (last !== '*' && Number(last) - Number(first) + 1 !== body.length) {
      throw new HttpError(400, 'invalid', `Content-Range ${header ?? ''} does not match a body of ${body.length} bytes`)
    }
    session.chunks.push(body)
    session.received += body.length
  }
  // `a-*` means "the rest, in this request"; otherwise the upload ends once the announced total is in.
  const complete = (first !== undefined && last === '*') || (total !== undefined && session.received === total)
  if (total !== undefined && session.received > total) {
    throw new HttpError(400, 'invalid', `received ${session.received} bytes, more than the announced ${total}`)
  }
  if (!complete) {
    const headers: Record<string, string> = { 'Content-Length': '0' }
    if (session.received > 0) headers.Range = `bytes=0-${session.received - 1}`
    res.writeHead(308, headers)
    res.end()
    return
  }
  const media = Buffer.concat(session.chunks)
  session.chunks.length = 0
  checkHashHeader(req, media)
  session.finished = store(state, session.bucket, session.name, media, session.metadata, session.ifGenerationMatch)
  sendJson(res, 200, session.finished)
}

function store(
  state: ServerState,
  bucket: string,
  name: string,
  data: Buffer,
  metadata: UploadMetadata,
  ifGenerationMatch: string | null,
): ObjectResource {
  const objects = bucketObjects(state, bucket)
  checkGeneration(objects.get(name), ifGenerationMatch)
  const generation = String(state.nextGeneration++)
  const now = new Date().toISOString()
  const path = `b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`
  const resource: ObjectResource = {
    kind: 'storage#object',
    id: `${bucket}/${name}/${generation}`,
    selfLink: `${state.endpoint}/storage/v1/${path}`,
    mediaLink: `${state.endpoint}/download/storage/v1/${path}?generation=${generation}&alt=media`,
    name,
    bucket,
    generation,
    metageneration: '1',
    contentType: metadata.contentType ?? 'application/octet-stream',
    storageClass: 'STANDARD',
    size: String(data.length),
    md5Hash: createHash('md5').update(data).digest('base64'),
    crc32c: crc32cBase64(data),
    etag: createHash('md5').update(generation).digest('base64'),
    timeCreated: now,
    updated: now,
  }
  if (metadata.metadata !== undefined) resource.metadata = metadata.metadata
  objects.set(name, { data, resource })
  return resource
}

function getObject(state: ServerState, bucket: string, name: string, url: URL, req: IncomingMessage, res: ServerResponse): void {
  const stored = bucketObjects(state, bucket).get(name)
  if (stored === undefined) throw new HttpError(404, 'notFound', `No such object: ${bucket}/${name}`)
  if (url.searchParams.get('alt') !== 'media') return sendJson(res, 200, stored.resource)

  const { data, resource } = stored
  const headers: Record<string, string> = {
    'Content-Type': resource.contentType,
    ETag: resource.etag,
    'Last-Modified': new Date(resource.updated).toUTCString(),
    'Accept-Ranges': 'bytes',
    'x-goog-generation': resource.generation,
    'x-goog-metageneration': resource.metageneration,
    'x-goog-hash': `crc32c=${resource.crc32c},md5=${resource.md5Hash}`,
    'x-goog-stored-content-encoding': 'identity',
    'x-goog-stored-content-length': resource.size,
  }
  const range = req.headers.range
  if (range === undefined) {
    res.writeHead(200, { ...headers, 'Content-Length': String(data.length) })
    res.end(data)
    return
  }
  const [start, end] = parseRange(range, data.length)
  res.writeHead(206, { ...headers, 'Content-Length': String(end - start + 1), 'Content-Range': `bytes ${start}-${end}/${data.length}` })
  res.end(data.subarray(start, end + 1))
}

/** An inclusive byte range from `bytes=s-e`, `bytes=s-` or `bytes=-n`, clamped to the object. */
function parseRange(header: string, size: number): [number, number] {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header)
  if (match === null || (match[1] === '' && match[2] === '')) {
    throw new HttpError(400, 'invalid', `unsupported Range ${JSON.stringify(header)}`)
  }
  const [, from = '', to = ''] = match
  const start = from === '' ? Math.max(0, size - Number(to)) : Number(from)
  const end = from === '' || to === '' ? size - 1 : Math.min(Number(to), size - 1)
  if (start >= size || end < start) {
    throw new HttpError(416, 'requestedRangeNotSatisfiable', 'The requested range cannot be satisfied.')
  }
  return [start, end]
}

function deleteObject(state: ServerState, bucket: string, name: string, url: URL, res: ServerResponse): void {
  const objects = bucketObjects(state, bucket)
  const stored = objects.get(name)
  if (stored === undefined) throw new HttpError(404, 'notFound', `No such object: ${bucket}/${name}`)
  checkGeneration(stored, url.searchParams.get('ifGenerationMatch'))
  objects.delete(name)
  res.writeHead(204)
  res.end()
}

interface ObjectList {
  kind: 'storage#objects'
  items?: ObjectResource[]
  prefixes?: string[]
  nextPageToken?: string
}

function listObjects(state: ServerState, bucket: string, url: URL): ObjectList {
  const objects = bucketObjects(state, bucket)
  const prefix = url.searchParams.get('prefix') ?? ''
  const delimiter = url.searchParams.get('delimiter') ?? ''
  const maxResults = Math.min(Number(url.searchParams.get('maxResults') ?? 1000) || 1000, 1000)
  const pageToken = url.searchParams.get('pageToken')
  const after = pageToken === null ? undefined : Buffer.from(pageToken, 'base64url').toString('utf8')

  // Objects and delimiter-collapsed prefixes share one sorted sequence, so a page boundary cuts through both alike.
  const entries = new Map<string, ObjectResource | undefined>()
  for (const [name, stored] of objects) {
    if (!name.startsWith(prefix)) continue
    const cut = delimiter === '' ? -1 : name.indexOf(delimiter, prefix.length)
    if (cut === -1) entries.set(name, stored.resource)
    else entries.set(name.slice(0, cut + delimiter.length), undefined)
  }
  const keys = [...entries.keys()].sort().filter((key) => after === undefined || key > after)
  const page = keys.slice(0, maxResults)
  const list: ObjectList = { kind: 'storage#objects' }
  const items = page.map((key) => entries.get(key)).filter((r): r is ObjectResource => r !== undefined)
  const prefixes = page.filter((key) => entries.get(key) === undefined)
  if (items.length > 0) list.items = items
  if (prefixes.length > 0) list.prefixes = prefixes
  if (keys.length > page.length) list.nextPageToken = Buffer.from(page.at(-1)!, 'utf8').toString('base64url')
  return list
}

function checkGeneration(current: StoredObject | undefined, ifGenerationMatch: string | null): void {
  if (ifGenerationMatch === null) return
  const generation = current?.resource.generation ?? '0'
  if (generation !== ifGenerationMatch) {
    throw new HttpError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.')
  }
}

function checkHashHeader(req: IncomingMessage, media: Buffer): void {
  const header = req.headers['x-goog-hash']
  if (typeof header !== 'string') return
  for (const pair of header.split(',')) {
    const eq = pair.indexOf('=')
    const kind = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    const actual = kind === 'crc32c' ? crc32cBase64(media) : kind === 'md5' ? createHash('md5').update(media).digest('base64') : value
    if (actual !== value) {
      throw new HttpError(400, 'invalid', `Provided ${kind} hash "${value}" doesn't match calculated ${kind} hash "${actual}".`)
    }
  }
}

function crc32cBase64(data: Uint8Array): string {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32c(data))
  return out.toString('base64')
}

/** Splits a `multipart/related` body into its JSON metadata part and its media part. */
function parseMultipart(contentType: string | undefined, body: Buffer): { metadata: UploadMetadata & { name?: unknown }; media: Buffer } {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1]
  if (boundary === undefined) throw new HttpError(400, 'invalid', 'multipart upload without a boundary')
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: Buffer[] = []
  let at = body.indexOf(delimiter)
  while (at !== -1) {
    const start = at + delimiter.length
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break // `--boundary--` closes the body
    const next = body.indexOf(delimiter, start)
    if (next === -1) break
    // A part is CRLF, headers, CRLF CRLF, content, CRLF, then the next delimiter.
    const part = body.subarray(start + 2, next - 2)
    const headerEnd = part.indexOf('\r\n\r\n')
    parts.push(headerEnd === -1 ? Buffer.alloc(0) : part.subarray(headerEnd + 4))
    at = next
  }
  const [metadataPart, media] = parts
  if (parts.length !== 2 || metadataPart === undefined || media === undefined) {
    throw new HttpError(400, 'invalid', `multipart upload needs 2 parts (metadata, media), found ${parts.length}`)
  }
  return { metadata: parseJsonBody(metadataPart) as UploadMetadata & { name?: unknown }, media }
}

function requireName(name: string | null): string {
  if (name === null || name === '') throw new HttpError(400, 'required', 'Required: object name')
  return name
}

function parseJsonBody(body: Buffer): unknown {
  try {
    const value = JSON.parse(body.toString('utf8')) as unknown
    if (typeof value === 'object' && value !== null) return value
  } catch {
    // answered below
  }
  throw new HttpError(400, 'parseError', 'request body is not a JSON object')
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': String(Buffer.byteLength(body)) })
  res.end(body)
}

function sendError(res: ServerResponse, status: number, reason: string, message: string): void {
  sendJson(res, status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } })
}
