// Activities run in the worker process, outside the sandbox: their errors
// pass airlock's activity interceptor, so what stays readable in history is
// what exceptions.mode allows; the full error is sealed for key holders.
import { heartbeat } from '@temporalio/activity'
import { ApplicationFailure } from '@temporalio/common'
import type { Order } from './workflows.js'

const LIMIT_CENTS = 500_000

export async function chargeCard(order: Order): Promise<number> {
  heartbeat({ stage: 'authorising', card: order.card })
  if (order.amountCents > LIMIT_CENTS) {
    throw ApplicationFailure.nonRetryable(`card ${order.card} of ${order.email} declined: over limit`, 'CardDeclined', { amountCents: order.amountCents })
  }
  return order.amountCents
}

export async function sendReceipt(order: Order, chargedCents: number): Promise<string> {
  return `receipt for ${order.email}: ${(chargedCents / 100).toFixed(2)} EUR`
}
