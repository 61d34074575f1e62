import { defaultPayloadConverter, type Payload } from '@temporalio/common'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AirlockPayloadCodec } from '../../../src/adapters/temporal/airlock-payload-codec.js'
import { CodecServerTokens } from '../../../src/adapters/temporal/codec-server-tokens.js'
import { mountCodecServer } from '../../../src/adapters/temporal/mount-codec-server.js'
import { verifyLedger } from '../../../src/audit/verify-ledger.js'
import { KeyRing } from '../../../src/crypto/key-ring.js'
import { LocalResult } from '../../../src/results/local-result.js'
import { EngineFixture, leaksIn, plantSecrets, type PlantedSecrets } from '../../support/engine-fixture.js'

const UI_ORIGIN = 'http://ui.example.test:8080'
const TOKEN = `tok-${randomBytes(24).toString('base64url')}`
const OTHER_TOKEN = `tok-${randomBytes(24).toString('base64url')}`

let fixture: EngineFixture
let keys: KeyRing
let secrets: PlantedSecrets
let sealed: Payload
let offloaded: Payload
let ledgerPath: string
let server: ChildProcess
let url: string
const values = { sealed: {} as unknown, offloaded: {} as unknown }
// Well above what the sealed value takes (all the canaries once), well below the offloaded one (sized from
// the canary text below), so each stays what its name says however the canary set grows or shrinks.
const OFFLOAD_ABOVE = 64 * 1024

beforeAll(async () => {
  fixture = await EngineFixture.create('codec-server')
  keys = KeyRing.generate()
  const offloadDir = join(fixture.dir, 'offload')
  const { airlock } = fixture.airlock({ payloads: { offloadAbove: OFFLOAD_ABOVE } }, keys)
  secrets = plantSecrets(airlock)
  const codec = new AirlockPayloadCodec({ airlock, offload: new LocalResult({ dir: offloadDir, location: '{engine}/{randomId}.alkc' }) })
  values.sealed = { customer: secrets.text }
  values.offloaded = { rows: Array.from({ length: Math.ceil((4 * OFFLOAD_ABOVE) / secrets.text.length) }, () => secrets.text) }
  ;[sealed, offloaded] = (await codec.encode([defaultPayloadConverter.toPayload(values.sealed), defaultPayloadConverter.toPayload(values.offloaded)])) as [Payload, Payload]
  // Every test below relies on these two formats: fail here, by name, if the sizes ever drift.
  expect([formatOf(sealed), formatOf(offloaded)]).toEqual(['alkc1', 'alko1'])

  const keysPath = join(fixture.dir, 'keys.json')
  const tokensPath = join(fixture.dir, 'tokens.json')
  ledgerPath = join(fixture.dir, 'codec-ledger.ndjson')
  await writeFile(keysPath, JSON.stringify(keys.export()), { mode: 0o600 })
  await writeFile(tokensPath, JSON.stringify({ tokens: [{ subject: 'ui-proxy', token: TOKEN }, { subject: 'oncall@example.test', token: OTHER_TOKEN }] }), { mode: 0o600 })
  server = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'codec-server', '--keys', keysPath, '--token-file', tokensPath, '--port', '0', '--cors-origin', UI_ORIGIN, '--ledger', ledgerPath, '--offload-dir', offloadDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  url = await new Promise<string>((resolve, reject) => {
    let out = ''
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out)
      if (match) resolve(match[1]!)
    })
    server.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()))
    server.once('exit', (code) => reject(new Error(`codec-server exited with ${code}: ${out}`)))
  })
}, 60_000)

afterAll(async () => {
  if (server.exitCode === null) {
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
  }
  await fixture.close()
})

function formatOf(payload: Payload): string {
  return new TextDecoder().decode(payload.metadata?.['airlock-format'])
}

function json(payloads: readonly Payload[]) {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      data: Buffer.from(p.data ?? []).toString('base64'),
    })),
  }
}

function fromJson(body: { payloads: { metadata: Record<string, string>; data: string }[] }): Payload[] {
  return body.payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: new Uint8Array(Buffer.from(p.data, 'base64')),
  }))
}

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
}

describe('airlock codec-server over real HTTP', () => {
  it('refuses every request without the right bearer token (401), decoding nothing', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer nope-not-a-token-at-all-000000000' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]
    for (const headers of attempts) {
      const response = await post('/decode', json([sealed]), headers)
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe('Bearer')
      const text = await response.text()
      expect(leaksIn(text, secrets.forbidden)).toEqual([])
      expect(text).not.toContain('payloads')
    }
  })

  it('answers CORS preflight for the configured UI origin only', async () => {
    const allowed = await fetch(`${url}/default/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-namespace' },
    })
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN)
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST')
    expect(allowed.headers.get('access-control-allow-headers')).toContain('x-namespace')
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization')
    const stranger = await fetch(`${url}/default/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })
    expect(stranger.status).toBe(403)
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('decodes sealed and offloaded payloads in proto3 JSON, under /{namespace}/ and with X-Namespace; passes foreign payloads as they are', async () => {
    const plain = defaultPayloadConverter.toPayload({ before: 'airlock' })
    const response = await post('/billing/decode', json([sealed, offloaded, plain]), { authorization: `Bearer ${TOKEN}`, origin: UI_ORIGIN, 'x-namespace': 'billing' })
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const decoded = fromJson((await response.json()) as never)
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([values.sealed, values.offloaded, { before: 'airlock' }])

    const viaHeader = await post('/decode', json([sealed]), { authorization: `Bearer ${OTHER_TOKEN}`, 'x-namespace': 'payments' })
    expect(viaHeader.status).toBe(200)
    const mismatch = await post('/billing/decode', json([sealed]), { authorization: `Bearer ${TOKEN}`, 'x-namespace': 'payments' })
    expect(mismatch.status).toBe(400)
  })

  it('encodes what the UI sends (sealed, never clear), and decodes it back', async () => {
    const input = defaultPayloadConverter.toPayload({ signal: 'approve', by: 'ada@example.com' })
    const encoded = await post('/default/encode', json([input]), { authorization: `Bearer ${TOKEN}` })
    expect(encoded.status).toBe(200)
    const [sealedByServer] = fromJson((await encoded.json()) as never)
    expect(new TextDecoder().decode(sealedByServer!.metadata!.encoding)).toBe('binary/airlock')
    expect(Buffer.from(sealedByServer!.data!).includes('ada@example.com')).toBe(false)
    const back = await post('/default/decode', json([sealedByServer!]), { authorization: `Bearer ${TOKEN}` })
    expect(defaultPayloadConverter.fromPayload(fromJson((await back.json()) as never)[0]!)).toEqual({ signal: 'approve', by: 'ada@example.com' })
  })

  it('answers a tampered payload with a 4xx naming its error and index, and no value', async () => {
    const data = Buffer.from(sealed.data!)
    data[data.length - 1]! ^= 1
    const response = await post('/default/decode', json([offloaded, { ...sealed, data }]), { authorization: `Bearer ${TOKEN}` })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: string; message: string }
    expect(body).toEqual({ error: 'ERR_PAYLOAD_TAMPERED', message: 'payload 1 could not be decoded (ERR_PAYLOAD_TAMPERED)' })
    const foreign = await new AirlockPayloadCodec({ airlock: fixture.airlock().airlock }).encode([defaultPayloadConverter.toPayload(secrets.text)])
    const other = await post('/default/decode', json(foreign), { authorization: `Bearer ${TOKEN}` })
    expect(other.status).toBe(400)
    expect(((await other.json()) as { error: string }).error).toBe('ERR_UNKNOWN_KID')
    for (const bad of ['not json', JSON.stringify({ payloads: [{ data: '***' }] }), JSON.stringify({ nope: 1 })]) {
      const malformed = await fetch(`${url}/decode`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: bad })
      expect(malformed.status).toBe(400)
    }
    expect((await fetch(`${url}/decode`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405)
    expect((await post('/default/other', json([sealed]), { authorization: `Bearer ${TOKEN}` })).status).toBe(404)
  })

  it('keeps an access ledger of who decoded what, with no value and no token, that verifies', async () => {
    server.kill('SIGTERM')
    const code = await new Promise((resolve) => server.once('exit', resolve))
    expect(code).toBe(0)
    const text = await fixture.ledgerText(ledgerPath)
    expect(leaksIn(text, secrets.forbidden)).toEqual([])
    expect(text).not.toContain(TOKEN)
    expect(text).not.toContain(OTHER_TOKEN)
    expect(text).not.toContain('ada@example.com')
    const events = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { channel?: string; status?: string; event?: Record<string, unknown> })
      .filter((e) => e.channel === 'codec-access')
      .map((e): Record<string, unknown> => ({ ledgerStatus: e.status, ...e.event }))
    expect(events).toContainEqual(
      expect.objectContaining({ op: 'decode', namespace: 'billing', caller: 'ui-proxy', origin: UI_ORIGIN, status: 200, payloads: { count: 3, sealed: 1, offloaded: 1, unsealed: 1 } }),
    )
    expect(events).toContainEqual(expect.objectContaining({ op: 'decode', namespace: 'payments', caller: 'oncall@example.test', status: 200 }))
    expect(events.filter((e) => e.caller === 'anonymous' && e.status === 401)).toHaveLength(4)
    expect(events).toContainEqual(expect.objectContaining({ op: 'decode', caller: 'ui-proxy', status: 400 }))
    expect(text).toContain('"channel":"payloads"')
    expect((await verifyLedger(ledgerPath)).ok).toBe(true)
  })
})

describe('mountCodecServer', () => {
  it('serves the codec routes under a base path of an existing server and leaves its other routes alone', async () => {
    const own: Server = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`own route ${request.url}`)
    })
    const handler = await mountCodecServer(own, {
      basePath: '/codec',
      keys,
      tokens: new CodecServerTokens([{ subject: 'app', token: TOKEN }]),
      ledger: { path: join(fixture.dir, 'mounted-ledger.ndjson') },
    })
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(own.address() as AddressInfo).port}`
    try {
      expect(await (await fetch(`${base}/health`)).text()).toBe('own route /health')
      const decoded = await fetch(`${base}/codec/default/decode`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(json([sealed])) })
      expect(decoded.status).toBe(200)
      expect(defaultPayloadConverter.fromPayload(fromJson((await decoded.json()) as never)[0]!)).toEqual(values.sealed)
      expect((await fetch(`${base}/codec/decode`, { method: 'POST', body: JSON.stringify(json([sealed])) })).status).toBe(401)
    } finally {
      await new Promise((resolve) => own.close(resolve))
      await handler.close()
    }
  })

  it('reads token files as JSON or one token per line, and refuses short or repeated tokens', async () => {
    const lines = join(fixture.dir, 'tokens.txt')
    await writeFile(lines, `${TOKEN}\n\n${OTHER_TOKEN}\r\n`)
    const tokens = CodecServerTokens.fromFile(lines)
    expect(tokens.subjectOf(`Bearer ${TOKEN}`)).toMatch(/^token-[0-9a-f]{12}$/)
    expect(tokens.subjectOf(`Bearer ${OTHER_TOKEN}`)).not.toBe(tokens.subjectOf(`Bearer ${TOKEN}`))
    expect(String(tokens)).not.toContain(TOKEN)
    expect(() => new CodecServerTokens([{ subject: 'a', token: 'short' }])).toThrow(/32 to 4096/)
    expect(() => new CodecServerTokens([{ subject: 'a', token: TOKEN }, { subject: 'b', token: TOKEN }])).toThrow(/repeats/)
    expect(() => new CodecServerTokens([])).toThrow(/at least one/)
  })
})
