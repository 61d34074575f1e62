// Workflow code runs in Temporal's sandbox: it never sees keys. What it
// returns and throws goes out through the worker's codec and airlock's
// failure converter.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow'
import type * as activities from './activities.js'

export interface Order {
  readonly id: string
  readonly email: string
  readonly card: string
  readonly amountCents: number
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[]
}

const { chargeCard, sendReceipt } = proxyActivities<typeof activities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['CardDeclined'] },
})

export async function processOrder(order: Order): Promise<{ receipt: string; charged: number }> {
  if (order.lines.length === 0) throw ApplicationFailure.nonRetryable(`order ${order.id} for ${order.email} has no lines`, 'EmptyOrder')
  const charged = await chargeCard(order)
  const receipt = await sendReceipt(order, charged)
  return { receipt, charged }
}
