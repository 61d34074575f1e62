// A workflow for replay tests: every decision it takes depends on a value the
// codec decoded, so a payload that did not decode, or decoded to something
// else, changes its commands and fails the replay.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow'

export interface Order {
  readonly id: string
  readonly activity: string
  readonly note: string
}

export interface Ledger {
  readonly rows: readonly { readonly i: number; readonly note: string }[]
}

type Activities = Record<string, (order: Order) => Promise<string>>

export async function checkout(order: Order, ledger: Ledger): Promise<string> {
  if (ledger.rows.length === 0 || !ledger.rows.every((row, i) => row.i === i && row.note === order.note)) {
    throw ApplicationFailure.nonRetryable('the offloaded input did not decode to what was sent')
  }
  const activities = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } })
  try {
    return await activities[order.activity]!(order)
  } catch (err) {
    // The failure's full message is readable here, inside the sandbox, only because the codec opened it.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.message.endsWith(order.note)) {
      return `declined ${err.cause.type ?? ''}`
    }
    throw err
  }
}
