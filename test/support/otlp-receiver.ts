import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the receiver got it: the raw bytes, untouched. */
export interface ReceivedRequest {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

/**
 * A local OTLP/HTTP receiver, as a collector's `otlphttp` receiver answers:
 * `POST /v1/logs` and `POST /v1/traces` get 200 with an empty
 * `Export*ServiceResponse` (`{}`), in JSON or protobuf as asked. It keeps
 * every request's raw bytes, so a test can search exactly what left the
 * process. No collector binary runs offline (see the team's notes on
 * engines), so the suite carries this one.
 *
 * @example
 * ```ts
 * const receiver = await OtlpReceiver.start()
 * new OTLPLogExporter({ url: `${receiver.url}/v1/logs` })
 * receiver.text()   // every body received so far, as UTF-8
 * await receiver.close()
 * ```
 */
export class OtlpReceiver {
  readonly requests: ReceivedRequest[]
  readonly #server: Server
  readonly url: string

  private constructor(server: Server, url: string, requests: ReceivedRequest[]) {
    this.#server = server
    this.url = url
    this.requests = requests
  }

  static async start(): Promise<OtlpReceiver> {
    const requests: ReceivedRequest[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
        const json = (req.headers['content-type'] ?? '').includes('json')
        res.writeHead(req.method === 'POST' && /^\/v1\/(logs|traces|metrics)$/.test(req.url ?? '') ? 200 : 404, {
          'content-type': json ? 'application/json' : 'application/x-protobuf',
        })
        res.end(json ? '{}' : '')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    return new OtlpReceiver(server, `http://127.0.0.1:${port}`, requests)
  }

  /** Every body received so far, as UTF-8, joined: what a leak search reads. */
  text(path?: string): string {
    return this.requests
      .filter((r) => path === undefined || r.path === path)
      .map((r) => r.body.toString('utf8'))
      .join('\n')
  }

  /** The JSON bodies received on `path`, parsed. */
  json(path: string): unknown[] {
    return this.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body.toString('utf8')) as unknown)
  }

  clear(): void {
    this.requests.splice(0)
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.#server.close((err) => (err ? reject(err) : resolve())))
  }
}

type AnyValueJson = {
  stringValue?: string
  intValue?: number | string
  doubleValue?: number
  boolValue?: boolean
  bytesValue?: string
  arrayValue?: { values?: AnyValueJson[] }
  kvlistValue?: { values?: { key: string; value: AnyValueJson }[] }
}

/** An OTLP JSON `AnyValue` as the plain value it stands for. */
export function otlpValue(value: AnyValueJson | undefined): unknown {
  if (value === undefined) return undefined
  if (value.stringValue !== undefined) return value.stringValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return value.doubleValue
  if (value.boolValue !== undefined) return value.boolValue
  if (value.bytesValue !== undefined) return { bytes: value.bytesValue }
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(otlpValue)
  if (value.kvlistValue !== undefined) return otlpAttributes(value.kvlistValue.values)
  return undefined
}

/** OTLP JSON attributes (`[{ key, value }]`) as an object. */
export function otlpAttributes(list: { key: string; value: AnyValueJson }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const { key, value } of list ?? []) out[key] = otlpValue(value)
  return out
}

interface ScopeJson {
  name?: string
  version?: string
  attributes?: { key: string; value: AnyValueJson }[]
}

/** One received log record, flattened, with its resource and scope. */
export interface ReceivedLogRecord {
  readonly resource: Record<string, unknown>
  readonly scope: ScopeJson
  readonly severityNumber?: number
  readonly severityText?: string
  readonly body: unknown
  readonly eventName?: string
  readonly attributes: Record<string, unknown>
  readonly traceId?: string
}

/** Every log record received on `/v1/logs`, in order. */
export function receivedLogRecords(receiver: OtlpReceiver): ReceivedLogRecord[] {
  const out: ReceivedLogRecord[] = []
  for (const body of receiver.json('/v1/logs') as { resourceLogs?: unknown[] }[]) {
    for (const rl of (body.resourceLogs ?? []) as { resource?: { attributes?: never }; scopeLogs?: unknown[] }[]) {
      const resource = otlpAttributes(rl.resource?.attributes)
      for (const sl of (rl.scopeLogs ?? []) as { scope?: ScopeJson; logRecords?: Record<string, unknown>[] }[]) {
        for (const r of sl.logRecords ?? []) {
          out.push({
            resource,
            scope: sl.scope ?? {},
            severityNumber: r.severityNumber as number | undefined,
            severityText: r.severityText as string | undefined,
            body: otlpValue(r.body as AnyValueJson | undefined),
            eventName: r.eventName as string | undefined,
            attributes: otlpAttributes(r.attributes as never),
            traceId: r.traceId as string | undefined,
          })
        }
      }
    }
  }
  return out
}

/** One received span, flattened, with its resource and scope. */
export interface ReceivedSpan {
  readonly resource: Record<string, unknown>
  readonly scope: ScopeJson
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly traceState?: string
  readonly attributes: Record<string, unknown>
  readonly events: { name: string; attributes: Record<string, unknown> }[]
  readonly links: { traceId: string; spanId: string; traceState?: string; attributes: Record<string, unknown> }[]
  readonly status: { code?: number; message?: string }
}

/** Every span received on `/v1/traces`, in order. */
export function receivedSpans(receiver: OtlpReceiver): ReceivedSpan[] {
  const out: ReceivedSpan[] = []
  for (const body of receiver.json('/v1/traces') as { resourceSpans?: unknown[] }[]) {
    for (const rs of (body.resourceSpans ?? []) as { resource?: { attributes?: never }; scopeSpans?: unknown[] }[]) {
      const resource = otlpAttributes(rs.resource?.attributes)
      for (const ss of (rs.scopeSpans ?? []) as { scope?: ScopeJson; spans?: Record<string, unknown>[] }[]) {
        for (const s of ss.spans ?? []) {
          out.push({
            resource,
            scope: ss.scope ?? {},
            name: s.name as string,
            traceId: s.traceId as string,
            spanId: s.spanId as string,
            parentSpanId: s.parentSpanId as string | undefined,
            traceState: s.traceState as string | undefined,
            attributes: otlpAttributes(s.attributes as never),
            events: ((s.events ?? []) as { name: string; attributes?: never }[]).map((e) => ({ name: e.name, attributes: otlpAttributes(e.attributes) })),
            links: ((s.links ?? []) as { traceId: string; spanId: string; traceState?: string; attributes?: never }[]).map((l) => ({
              traceId: l.traceId,
              spanId: l.spanId,
              traceState: l.traceState,
              attributes: otlpAttributes(l.attributes),
            })),
            status: (s.status ?? {}),
          })
        }
      }
    }
  }
  return out
}
