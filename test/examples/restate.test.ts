// examples/restate against a real Restate server: its service behind
// airlockEndpoint, its client through airlockIngressOptions.
import { writeFile } from 'node:fs/promises'
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import type { Airlock } from '../../src/runtime/airlock.js'
import { EngineFixture } from '../support/engine-fixture.js'
import { freePort, startRestateServer, type RestateServer } from '../support/restate-server.js'

// Node 20 lacks Promise.withResolvers, which Restate SDK 1.17 calls: the README's one line, in test setup.
;(Promise as { withResolvers?: unknown }).withResolvers ??= function <T>(this: PromiseConstructor) {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new this<T>((a, b) => ((resolve = a), (reject = b)))
  return { promise, resolve, reject }
}

let fixture: EngineFixture
let server: RestateServer
let http2: Http2Server
const sessions = new Set<ServerHttp2Session>()
const airlocks: Airlock[] = []

beforeAll(async () => {
  fixture = await EngineFixture.create('example-restate')
  process.env.AIRLOCK_EXAMPLE_DIR = fixture.dir
  await writeFile(join(fixture.dir, 'keys.json'), JSON.stringify(KeyRing.generate().export()), { mode: 0o600 })
  server = await startRestateServer()
  const { exampleAirlock } = await import('../../examples/restate/airlock.js')
  const { ordersEndpoint } = await import('../../examples/restate/service.js')
  airlocks.push(exampleAirlock('service'), exampleAirlock('client'))
  const endpoint = ordersEndpoint(airlocks[0])
  endpoint.setLogger(() => {})
  const port = await freePort()
  http2 = createServer(endpoint.http2Handler())
  http2.on('session', (s) => sessions.add(s))
  await new Promise<void>((resolve) => http2.listen(port, '127.0.0.1', resolve))
  await server.register(`http://127.0.0.1:${port}`)
}, 120_000)

afterAll(async () => {
  await server?.stop()
  for (const s of sessions) s.destroy()
  await new Promise((resolve) => http2?.close(resolve))
  await Promise.allSettled(airlocks.map((a) => a.close()))
  delete process.env.AIRLOCK_EXAMPLE_DIR
  await fixture.close()
})

describe('examples/restate', () => {
  it('checks out through the real server, which keeps neither the email nor the card', async () => {
    const { connect, checkout } = await import('../../examples/restate/client.js')
    const ingress = await connect(airlocks[1]!, server.ingressUrl)
    const order = { id: 'o-7', email: 'ada.lovelace@example.com', card: '4111 1111 1111 1111', amountCents: 12_900 }
    expect(await checkout(ingress, order)).toEqual({ receipt: 'ch_o-7 for ada.lovelace@example.com' })
    const declined = await checkout(ingress, { ...order, id: 'o-8', amountCents: 900_000 }).then(
      () => '',
      (err: unknown) => (err as Error).message,
    )
    expect(declined).toContain('declined')
    expect(declined).not.toContain(order.card)
    const stored = JSON.stringify([...(await server.query('SELECT * FROM sys_journal')), ...(await server.query('SELECT * FROM sys_invocation'))])
    expect(stored).toContain('Orders')
    for (const secret of [order.email, order.card, Buffer.from(order.email).toString('base64').slice(0, 20)]) expect(stored).not.toContain(secret)
  }, 60_000)
})
