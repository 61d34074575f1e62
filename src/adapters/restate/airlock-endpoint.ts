import type { RestateEndpointBase } from '@restatedev/restate-sdk'
import { AirlockJournalCodec, type AirlockJournalCodecOptions } from './airlock-journal-codec.js'
import { airlockHooks } from './airlock-hooks.js'

/**
 * Puts airlock in front of everything a Restate endpoint's services hand
 * the server: the journal value codec (`AirlockJournalCodec`) and, as the
 * endpoint's default service options, the hooks (`airlockHooks`). Returns
 * the endpoint. A service that sets `options.hooks` of its own replaces the
 * default: list `airlockHooks({ airlock })` first there.
 *
 * It patches nothing global. Restate SDK 1.17 calls `Promise.withResolvers`,
 * which Node 20 lacks; on Node 20, load this one line before the SDK:
 * `Promise.withResolvers ??= function () { let resolve, reject; const promise = new this((a, b) => { resolve = a; reject = b }); return { promise, resolve, reject } }`.
 *
 * @throws InvalidArgumentError as `AirlockJournalCodec.create` and `airlockHooks` do.
 * @example
 * ```ts
 * import * as restate from '@restatedev/restate-sdk'
 * import { airlockEndpoint } from 'airlock-sdk/restate'
 *
 * await airlockEndpoint(restate.endpoint(), { airlock, offload }).bind(orders).listen(9080)
 * ```
 */
export function airlockEndpoint<E extends RestateEndpointBase<E>>(endpoint: E, options: AirlockJournalCodecOptions): E {
  const hooks = airlockHooks({ airlock: options.airlock })
  // One codec for the endpoint, made once and reused by every invocation.
  let codec: Promise<AirlockJournalCodec> | undefined
  return endpoint.journalValueCodecProvider(() => (codec ??= AirlockJournalCodec.create(options))).defaultServiceOptions({ hooks: [hooks] })
}
