// A Restate service behind airlock: what the Restate server journals (inputs,
// step results, state, outputs, errors) is sealed or scrubbed by policy.
//   npx @restatedev/restate-server            # the server, from its npm package
//   npx tsx examples/restate/service.ts       # this endpoint, on :9080
//   curl -X POST localhost:9070/deployments -H 'content-type: application/json' -d '{"uri":"http://localhost:9080"}'
// On Node 20, Restate SDK 1.17 needs Promise.withResolvers first (see the README); Node 22 has it.
import * as restate from '@restatedev/restate-sdk'
import { pathToFileURL } from 'node:url'
import { airlockEndpoint } from '../../src/adapters/restate/index.js'
import { exampleAirlock, offloadResult } from './airlock.js'

export interface Order {
  readonly id: string
  readonly email: string
  readonly card: string
  readonly amountCents: number
}

export const orders = restate.service({
  name: 'Orders',
  handlers: {
    checkout: async (ctx: restate.Context, order: Order): Promise<{ receipt: string }> => {
      const charge = await ctx.run('charge', async () => {
        if (order.amountCents > 500_000) throw new restate.TerminalError(`card ${order.card} of ${order.email} declined`, { errorCode: 402 })
        return { chargeId: `ch_${order.id}`, amountCents: order.amountCents }
      })
      return { receipt: `${charge.chargeId} for ${order.email}` }
    },
  },
})

export function ordersEndpoint(airlock = exampleAirlock('service')): restate.RestateEndpoint {
  return airlockEndpoint(restate.endpoint(), { airlock, offload: offloadResult() }).bind(orders)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = await ordersEndpoint().listen(9080)
  console.log(`Orders listening on :${port}`)
}
