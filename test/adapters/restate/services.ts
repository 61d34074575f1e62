/* eslint-disable @typescript-eslint/require-await -- Restate handlers are async functions whether or not a body awaits */
// The services the Restate end-to-end tests deploy, with or without airlock:
// every kind of value and error Restate journals, each carrying the order's
// note (canaries and a registered secret) and an email.
import * as restate from '@restatedev/restate-sdk'

export interface Order {
  readonly id: string
  readonly email: string
  readonly note: string
  readonly rows: number
}

export interface Receipt {
  readonly receipt: string
  readonly charged: { readonly ok: boolean; readonly note: string }
  readonly rows: readonly string[]
}

// Handler-level retries: the first attempt of each `transient` order fails.
const attempts = new Map<string, number>()

export function ordersService(name: string) {
  return restate.service({
    name,
    handlers: {
      checkout: async (ctx: restate.Context, order: Order): Promise<Receipt> => {
        const charged = await ctx.run('charge', () => ({ ok: true, note: `charged ${order.email} ${order.note}` }))
        return { receipt: `paid by ${order.email}: ${order.note}`, charged, rows: Array.from({ length: order.rows }, (_, i) => `${i}:${order.note}`) }
      },
      decline: async (_ctx: restate.Context, order: Order): Promise<Receipt> => {
        throw new restate.TerminalError(`card of ${order.email} declined: ${order.note}`, { errorCode: 402, metadata: { customer: order.email, reason: 'limit' } })
      },
      stepFails: async (ctx: restate.Context, order: Order): Promise<string> => {
        // A retryable error inside a step, twice, then the step gives up (terminal).
        return ctx.run('reserve', () => {
          throw new Error(`db at postgres://app:${order.note}@db.internal refused ${order.email}`)
        }, { maxRetryAttempts: 2, initialRetryInterval: { milliseconds: 20 } })
      },
      transient: async (_ctx: restate.Context, order: Order): Promise<string> => {
        const seen = (attempts.get(order.id) ?? 0) + 1
        attempts.set(order.id, seen)
        if (seen === 1) throw new Error(`upstream timeout for ${order.email}: ${order.note}`)
        return `recovered ${order.id}`
      },
    },
    options: { retryPolicy: { initialInterval: { milliseconds: 20 }, maxAttempts: 5 } },
  })
}

export function accountObject(name: string) {
  return restate.object({
    name,
    handlers: {
      remember: async (ctx: restate.ObjectContext, order: Order): Promise<string> => {
        ctx.set('profile', { email: order.email, note: order.note })
        const awakeable = ctx.awakeable<string>()
        ctx.resolveAwakeable(awakeable.id, `awoken ${order.note}`)
        return `${await awakeable.promise} / ${(await ctx.get<{ note: string }>('profile'))?.note === order.note}`
      },
    },
  })
}

/** A service whose handler seals its input and output with serdes of its own (no journal codec on its endpoint). */
export function sealedEchoService(name: string, input: restate.Serde<Order>, output: restate.Serde<Receipt>) {
  return restate.service({
    name,
    handlers: {
      echo: restate.handlers.handler({ input, output }, async (_ctx: restate.Context, order: Order): Promise<Receipt> => {
        return { receipt: `echo ${order.email} ${order.note}`, charged: { ok: true, note: order.note }, rows: [] }
      }),
    },
  })
}
