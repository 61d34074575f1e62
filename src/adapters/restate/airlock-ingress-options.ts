import { AirlockJournalCodec, type AirlockJournalCodecOptions } from './airlock-journal-codec.js'

/**
 * What an ingress client (`@restatedev/restate-sdk-clients`) needs to talk
 * to services behind `airlockEndpoint`: the same journal value codec, so
 * the inputs it sends are sealed before the server sees them and the
 * outputs it gets back are opened only here. Spread it into `connect()`.
 * The client's Airlock ledgers what it sends, like a service's. Inputs are
 * sealed inline, never offloaded (the service would read an offloaded input
 * before the write behind it completed); offloaded outputs are read from
 * `offload`.
 *
 * Restate's client encodes synchronously and sends at once, so an input's
 * ledger record becomes durable just after it is sent (the write-ahead
 * exception, see the README). What the client can do, it does: once its
 * Airlock is closed or its ledger failed, `encode` throws (`ERR_CLOSED`,
 * `ERR_STORAGE`) and the call is not made; a call's output is decoded only
 * once the records of what was sent are durable, or the call rejects with
 * the record's error. After one-way sends, await
 * `journalValueCodec.settled()`.
 *
 * Headers, the idempotency key, the target service, handler and object key
 * travel in clear: Restate reads them.
 *
 * @throws InvalidArgumentError as `AirlockJournalCodec.create` does.
 * @example
 * ```ts
 * import * as clients from '@restatedev/restate-sdk-clients'
 * import { airlockIngressOptions } from 'airlock-sdk/restate'
 *
 * const ingress = clients.connect({ url: 'http://localhost:8080', ...(await airlockIngressOptions({ airlock })) })
 * const receipt = await ingress.serviceClient(orders).checkout(order)
 * ```
 */
export async function airlockIngressOptions(options: AirlockJournalCodecOptions): Promise<{ readonly journalValueCodec: AirlockJournalCodec }> {
  return { journalValueCodec: await AirlockJournalCodec.forIngress(options) }
}
