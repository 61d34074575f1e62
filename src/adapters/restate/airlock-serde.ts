import { serde as restateSerde, type Serde } from '@restatedev/restate-sdk'
import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import { InvalidArgumentError } from '../../errors.js'
import { assertKnownOptions } from '../../internal/known-options.js'
import { RestatePayloads } from './restate-payloads.js'

/**
 * Options of {@link airlockSerde}.
 *
 * @example
 * ```ts
 * const options: AirlockSerdeOptions<Order> = { airlock, name: 'restate:Orders/checkout/input' }
 * ```
 */
export interface AirlockSerdeOptions<T> {
  readonly airlock: AirlockBoundary
  /**
   * The payload name for the `payloads` policy, and what the value is sealed
   * for: `restate:<service>/<handler>/input`, `restate:<service>/<handler>/output`,
   * or for a step `restate:<service>/<handler>/run/<step>`. The client side
   * uses the same name.
   */
  readonly name: string
  /** The serde of the value itself. Default Restate's `serde.json`. */
  readonly serde?: Serde<T>
  /** `pass` values airlock did not seal (the default), or `refuse` them. */
  readonly unsealed?: 'pass' | 'refuse'
}

const OPTION_KEYS = ['airlock', 'name', 'serde', 'unsealed'] as const
const NAME = /^restate:[^\s]{1,1000}$/

/**
 * A Restate `Serde` that seals what another serde writes: for a handler's
 * `input` and `output` and a step's `{ serde }`, on the service, and for
 * `rpc.opts({ input, output })` on an ingress client, so the value is sealed
 * between the two under its own name (a value sealed as one handler's input
 * opens as no other's). Use it where the endpoint has no journal value codec
 * (`AirlockJournalCodec`), or for per-handler `payloads` rules; with both,
 * the value is sealed twice.
 *
 * The policy decides per `name` as for every payload; Restate's serdes are
 * synchronous, so `offload` seals instead (an offloaded value could not be
 * read back here), and the ledger record is appended in order and made
 * durable by the ledger's next group commit (`airlockHooks` waits for it
 * before the handler's outcome is released).
 *
 * @throws InvalidArgumentError on unknown options, a name not shaped `restate:<...>`, or a missing Airlock.
 * @example
 * ```ts
 * import * as restate from '@restatedev/restate-sdk'
 * import { airlockSerde } from 'airlock-sdk/restate'
 *
 * const checkout = restate.service({
 *   name: 'Orders',
 *   handlers: {
 *     checkout: restate.handlers.handler(
 *       { input: airlockSerde<Order>({ airlock, name: 'restate:Orders/checkout/input' }),
 *         output: airlockSerde<Receipt>({ airlock, name: 'restate:Orders/checkout/output' }) },
 *       async (ctx, order) => charge(order)),
 *   },
 * })
 * // client: ingress.serviceClient(checkout).checkout(order, clients.rpc.opts({ input: sameInputSerde, output: sameOutputSerde }))
 * ```
 */
export function airlockSerde<T>(options: AirlockSerdeOptions<T>): Serde<T> {
  assertKnownOptions('airlockSerde', options, OPTION_KEYS)
  if (typeof options.name !== 'string' || !NAME.test(options.name)) {
    throw new InvalidArgumentError('airlockSerde needs a name restate:<service>/<handler>/input (or /output, or /run/<step>)')
  }
  const inner: Serde<T> = options.serde ?? (restateSerde.json as Serde<T>)
  if (typeof inner?.serialize !== 'function' || typeof inner.deserialize !== 'function') {
    throw new InvalidArgumentError('airlockSerde\'s serde must have serialize and deserialize')
  }
  const values = new RestatePayloads(options.airlock, undefined, options.unsealed ?? 'pass')
  const name = options.name
  return {
    contentType: 'application/octet-stream',
    serialize: (value: T): Uint8Array => values.encode(inner.serialize(value), name, name),
    deserialize: (data: Uint8Array): T => inner.deserialize(values.decodeSync(data, name)),
  }
}
