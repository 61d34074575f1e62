// Starts an order workflow. The id and the search attribute are keyed
// fingerprints: the Temporal UI can find the workflow by equality, the
// service never reads the customer's email.
//   npx tsx examples/temporal/client.ts
// (register the search attribute once: temporal operator search-attribute create --name CustomerEmail --type Keyword)
import { Client, Connection, type WorkflowStartOptions } from '@temporalio/client'
import { pathToFileURL } from 'node:url'
import { airlockDataConverter, fingerprintSearchAttributes, fingerprintWorkflowId } from '../../src/adapters/temporal/index.js'
import type { Airlock } from '../../src/index.js'
import { exampleAirlock, offloadResult } from './airlock.js'
import type { Order } from './workflows.js'

export async function startOptions(airlock: Airlock, order: Order): Promise<Pick<WorkflowStartOptions, 'workflowId' | 'typedSearchAttributes' | 'memo'>> {
  return {
    workflowId: await fingerprintWorkflowId(airlock, 'order-{customer}-{order}', { customer: order.email, order: order.id }),
    typedSearchAttributes: await fingerprintSearchAttributes(airlock, { CustomerEmail: order.email }),
    memo: { placedBy: order.email },   // memo is a payload: sealed by the codec
  }
}

async function main(): Promise<void> {
  const airlock = exampleAirlock('client')
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' })
  const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default', dataConverter: airlockDataConverter({ airlock, offload: offloadResult() }) })
  const order: Order = { id: 'o-1042', email: 'ada.lovelace@example.com', card: '4111 1111 1111 1111', amountCents: 12_900, lines: [{ sku: 'book', quantity: 1 }] }
  const handle = await client.workflow.start('processOrder', { taskQueue: 'orders', args: [order], ...(await startOptions(airlock, order)) })
  console.log(`started ${handle.workflowId}`)
  console.log('result:', await handle.result())
  await connection.close()
  await airlock.close()
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
