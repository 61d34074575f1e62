// End to end against a real Restate server (from its npm package), a real
// service endpoint registered with it, invoked through the real ingress
// client; then the server's own storage, read through its admin query API.
import * as restate from '@restatedev/restate-sdk'
import * as clients from '@restatedev/restate-sdk-clients'
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { airlockEndpoint, airlockIngressOptions, airlockSerde, SEALED_ERROR_METADATA } from '../../../src/adapters/restate/index.js'
import { verifyLedger } from '../../../src/audit/verify-ledger.js'
import { scanLedger } from '../../../src/audit/scan-ledger.js'
import { KeyRing } from '../../../src/crypto/key-ring.js'
import { ValueCipher } from '../../../src/crypto/value-cipher.js'
import { LocalResult } from '../../../src/results/local-result.js'
import type { Airlock } from '../../../src/runtime/airlock.js'
import { EngineFixture, plantSecrets, type PlantedSecrets } from '../../support/engine-fixture.js'
import { freePort, startRestateServer, type RestateServer } from '../../support/restate-server.js'
import { accountObject, ordersService, sealedEchoService, type Order, type Receipt } from './services.js'

// Restate SDK 1.17 calls Promise.withResolvers, which Node 20 lacks: the one line the README gives
// Node 20 users, loaded here, in this test's own setup (the adapter itself patches nothing).
;(Promise as { withResolvers?: unknown }).withResolvers ??= function <T>(this: PromiseConstructor) {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new this<T>((a, b) => ((resolve = a), (reject = b)))
  return { promise, resolve, reject }
}

const EMAIL = 'ada.lovelace@example.com'
let fixture: EngineFixture
let server: RestateServer
let secrets: PlantedSecrets
let keys: KeyRing
let serviceAirlock: Airlock
let serviceLedger: string
let clientAirlock: Airlock
let ingress: clients.Ingress
let plainIngress: clients.Ingress
let echo: ReturnType<typeof sealedEchoService>
const endpoints: Http2Server[] = []
const sessions = new Set<ServerHttp2Session>()

async function serve(endpoint: restate.RestateEndpoint): Promise<string> {
  // The SDK logs a failing handler's error, message and stack, to the local console (never to the
  // server); the tests keep their output readable.
  endpoint.setLogger(() => {})
  const port = await freePort()
  const http2 = createServer(endpoint.http2Handler())
  http2.on('session', (session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  await new Promise<void>((resolve) => http2.listen(port, '127.0.0.1', resolve))
  endpoints.push(http2)
  return `http://127.0.0.1:${port}`
}

beforeAll(async () => {
  fixture = await EngineFixture.create('restate')
  server = await startRestateServer()
  keys = KeyRing.generate()
  const policy = { payloads: { offloadAbove: 4096 } }
  let ledgerPath: string
  ;({ airlock: serviceAirlock, ledgerPath } = fixture.airlock(policy, keys))
  serviceLedger = ledgerPath
  secrets = plantSecrets(serviceAirlock)
  ;({ airlock: clientAirlock } = fixture.airlock(policy, keys))
  clientAirlock.scrubber.register(secrets.registered)
  const offload = new LocalResult({ dir: join(fixture.dir, 'offload'), location: '{engine}/{randomId}.alkc' })

  const protectedUrl = await serve(airlockEndpoint(restate.endpoint(), { airlock: serviceAirlock, offload }).bind(ordersService('Orders')).bind(accountObject('Account')))
  const plainUrl = await serve(restate.endpoint().bind(ordersService('PlainOrders')).bind(accountObject('PlainAccount')))
  const { airlock: stranger } = fixture.airlock(policy)
  const strangerUrl = await serve(airlockEndpoint(restate.endpoint(), { airlock: stranger }).bind(ordersService('StrangerOrders')))
  // Handler serdes alone, on an endpoint with no journal codec: the client seals with the same serdes.
  echo = sealedEchoService(
    'SealedEcho',
    airlockSerde<Order>({ airlock: serviceAirlock, name: 'restate:SealedEcho/echo/input' }),
    airlockSerde<Receipt>({ airlock: serviceAirlock, name: 'restate:SealedEcho/echo/output' }),
  )
  const serdeUrl = await serve(restate.endpoint().bind(echo))
  for (const url of [protectedUrl, plainUrl, strangerUrl, serdeUrl]) await server.register(url)

  ingress = clients.connect({ url: server.ingressUrl, ...(await airlockIngressOptions({ airlock: clientAirlock, offload })) })
  plainIngress = clients.connect({ url: server.ingressUrl })
}, 120_000)

afterAll(async () => {
  await server?.stop()
  for (const session of sessions) session.destroy()
  await Promise.all(endpoints.map((e) => new Promise((resolve) => e.close(resolve))))
  await fixture.close()
})

function order(id: string, rows = 3): Order {
  return { id, email: EMAIL, note: secrets.text, rows }
}

const orders = (name: string) => ({ name }) as restate.ServiceDefinition<string, ReturnType<typeof ordersService> extends restate.ServiceDefinition<string, infer S> ? S : never>
const account = (name: string) => ({ name }) as restate.VirtualObjectDefinition<string, ReturnType<typeof accountObject> extends restate.VirtualObjectDefinition<string, infer S> ? S : never>

/** Every row of every table the server keeps (information_schema aside). */
async function everyRow(): Promise<{ table: string; row: Record<string, unknown> }[]> {
  const tables = await server.query("SELECT table_name FROM information_schema.tables WHERE table_schema <> 'information_schema'")
  const out: { table: string; row: Record<string, unknown> }[] = []
  for (const { table_name } of tables) {
    for (const row of await server.query(`SELECT * FROM ${String(table_name)}`)) out.push({ table: String(table_name), row })
  }
  return out
}

/** Every text a value holds: as given, and decoded from base64, hex or byte arrays wherever it looks like them, nested. */
function readings(value: unknown, depth = 0): string[] {
  if (depth > 4 || value === null || value === undefined) return []
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'number' && v >= 0 && v < 256)) return readings(Buffer.from(value as number[]).toString('latin1'), depth + 1)
    return value.flatMap((v) => readings(v, depth + 1))
  }
  if (typeof value === 'object') return Object.values(value).flatMap((v) => readings(v, depth + 1))
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  const out = [text]
  for (const match of text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? []) {
    out.push(...readings(Buffer.from(match, match.includes('-') || match.includes('_') ? 'base64url' : 'base64').toString('latin1'), depth + 1))
    if (/^(?:[0-9a-f]{2})+$/i.test(match)) out.push(...readings(Buffer.from(match, 'hex').toString('latin1'), depth + 1))
  }
  return out
}

const STACK_FRAME = /\bat .{0,200}(?:\.ts|\.js|node:internal)[^\s]*:\d+:\d+/

function findings(rows: { table: string; row: Record<string, unknown> }[], forbidden: readonly string[]): string[] {
  const found = new Set<string>()
  for (const { table, row } of rows) {
    for (const [column, value] of Object.entries(row)) {
      for (const text of readings(value)) {
        for (const secret of forbidden) if (text.includes(secret)) found.add(`${table}.${column}: ${secret.slice(0, 6)}…`)
        if (STACK_FRAME.test(text)) found.add(`${table}.${column}: a stack frame`)
      }
    }
  }
  return [...found].sort()
}

describe('a Restate service behind airlock, against a real Restate server', () => {
  it('returns the right values to the client, through sealed inputs, outputs, step results, state and awakeables', async () => {
    const big = order('o-big', 200)
    const receipt = (await ingress.serviceClient(orders('Orders')).checkout(big))
    expect(receipt.receipt).toBe(`paid by ${EMAIL}: ${secrets.text}`)
    expect(receipt.charged).toEqual({ ok: true, note: `charged ${EMAIL} ${secrets.text}` })
    expect(receipt.rows).toHaveLength(200)
    expect(receipt.rows[199]).toBe(`199:${secrets.text}`)
    expect(await ingress.objectClient(account('Account'), 'acct-1').remember(order('o-state'))).toBe(`awoken ${secrets.text} / true`)
    expect(await ingress.serviceClient(orders('Orders')).transient(order('o-transient'))).toBe('recovered o-transient')

    const serdes = clients.rpc.opts({
      input: airlockSerde<Order>({ airlock: clientAirlock, name: 'restate:SealedEcho/echo/input' }),
      output: airlockSerde<Receipt>({ airlock: clientAirlock, name: 'restate:SealedEcho/echo/output' }),
    })
    const echoed = await plainIngress.serviceClient(echo).echo(order('o-echo'), serdes)
    expect(echoed.receipt).toBe(`echo ${EMAIL} ${secrets.text}`)
  }, 60_000)

  it('fails terminal and retryable errors with the readable message exceptions.mode allows, and the whole error sealed', async () => {
    const declined = await ingress.serviceClient(orders('Orders')).decline(order('o-declined')).then(
      () => undefined,
      (err: unknown) => err as Error,
    )
    expect(declined).toBeInstanceOf(Error)
    expect(declined!.message).toContain('TerminalError: card of [REDACTED:email] declined')
    for (const secret of [...secrets.forbidden, EMAIL]) expect(declined!.message).not.toContain(secret)
    const failed = await ingress.serviceClient(orders('Orders')).stepFails(order('o-step')).then(
      () => undefined,
      (err: unknown) => err as Error,
    )
    expect(failed).toBeInstanceOf(Error)
    for (const secret of [...secrets.forbidden, EMAIL]) expect(failed!.message).not.toContain(secret)

    // The server keeps the whole error sealed (a terminal failure's metadata); key holders open it.
    const tokens = new Set((await everyRow()).flatMap(({ row }) => readings(row).flatMap((text) => text.match(/alkv1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g) ?? [])))
    const opened = await Promise.all([...tokens].map((t) => new ValueCipher(keys).decrypt(t).then((text) => JSON.parse(text) as { message: string }, () => undefined)))
    expect(opened.some((e) => e?.message.includes(`card of ${EMAIL} declined`))).toBe(true)
    expect(opened.some((e) => e?.message.includes(`refused ${EMAIL}`))).toBe(true)
    expect(SEALED_ERROR_METADATA).toBe('airlock.error')
  }, 60_000)

  it('leaves no canary, registered secret, email or stack frame in any column of any table the server keeps', async () => {
    const rows = await everyRow()
    expect(rows.filter((r) => r.table === 'sys_journal').length).toBeGreaterThan(5)
    expect(rows.some((r) => r.table === 'state')).toBe(true)
    expect(rows.some((r) => r.table === 'sys_journal_events')).toBe(true)
    expect(findings(rows, [...secrets.forbidden, EMAIL])).toEqual([])
  }, 60_000)

  it('ledgers every journal value and error the service sent, with no canary, and the ledger verifies', async () => {
    await serviceAirlock.flush()
    const text = await fixture.ledgerText(serviceLedger)
    expect(text).toContain('"name":"restate:journal"')
    expect(text).toContain('"action":"offload"')
    expect(text).toMatch(/"channel":"exceptions".*"engine":"restate"/)
    for (const secret of [...secrets.forbidden, EMAIL]) expect(text).not.toContain(secret)
    const scan = await scanLedger(serviceLedger, { canaries: secrets.canaries.map((c) => ({ secret: c.secret })), registered: [secrets.registered] })
    expect(scan.findings).toEqual([])
    expect((await verifyLedger(serviceLedger)).ok).toBe(true)
  })

  it('fails with a typed error, not garbage, when the service holds another key', async () => {
    const refused = await ingress.serviceClient(orders('StrangerOrders')).checkout(order('o-stranger')).then(
      () => undefined,
      (err: unknown) => err as Error,
    )
    expect(refused).toBeInstanceOf(Error)
    expect(refused!.message).toContain('ERR_UNKNOWN_KID')
    for (const secret of [...secrets.forbidden, EMAIL]) expect(refused!.message).not.toContain(secret)
  }, 60_000)

  it('(the same scan finds them all when the same service runs without airlock)', async () => {
    await plainIngress.serviceClient(orders('PlainOrders')).checkout(order('p-big', 20))
    await plainIngress.objectClient(account('PlainAccount'), 'acct-1').remember(order('p-state'))
    await plainIngress.serviceClient(orders('PlainOrders')).decline(order('p-declined')).then(undefined, () => undefined)
    await plainIngress.serviceClient(orders('PlainOrders')).transient(order('p-transient'))
    const leaks = findings(await everyRow(), [...secrets.forbidden, EMAIL])
    expect(leaks.some((l) => l.startsWith('sys_journal.'))).toBe(true)
    expect(leaks.some((l) => l.startsWith('state.'))).toBe(true)
    expect(leaks.some((l) => l.endsWith('a stack frame'))).toBe(true)
  }, 60_000)
})
