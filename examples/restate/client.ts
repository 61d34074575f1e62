// An ingress client whose inputs are sealed before the Restate server sees
// them, and whose outputs are opened only here.
//   npx tsx examples/restate/client.ts
import * as clients from '@restatedev/restate-sdk-clients'
import { pathToFileURL } from 'node:url'
import { airlockIngressOptions } from '../../src/adapters/restate/index.js'
import type { Airlock } from '../../src/index.js'
import { exampleAirlock, offloadResult } from './airlock.js'
import { orders, type Order } from './service.js'

export async function connect(airlock: Airlock, url: string): Promise<clients.Ingress> {
  return clients.connect({ url, ...(await airlockIngressOptions({ airlock, offload: offloadResult() })) })
}

export async function checkout(ingress: clients.Ingress, order: Order): Promise<{ receipt: string }> {
  return ingress.serviceClient(orders).checkout(order)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const airlock = exampleAirlock('client')
  const ingress = await connect(airlock, process.env.RESTATE_INGRESS ?? 'http://localhost:8080')
  console.log(await checkout(ingress, { id: 'o-7', email: 'ada.lovelace@example.com', card: '4111 1111 1111 1111', amountCents: 12_900 }))
  await airlock.close()
}
