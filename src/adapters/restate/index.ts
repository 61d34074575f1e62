/**
 * `airlock-sdk/restate`: what a Restate server journals, under airlock's
 * policy, keys and ledger. `@restatedev/restate-sdk` (and for the client
 * helper `@restatedev/restate-sdk-clients`) are optional peer dependencies
 * of airlock-sdk: install them with your Restate SDK.
 *
 * @example
 * ```ts
 * import * as restate from '@restatedev/restate-sdk'
 * import * as clients from '@restatedev/restate-sdk-clients'
 * import { airlockEndpoint, airlockIngressOptions } from 'airlock-sdk/restate'
 *
 * await airlockEndpoint(restate.endpoint(), { airlock }).bind(orders).listen(9080)
 * const ingress = clients.connect({ url, ...(await airlockIngressOptions({ airlock })) })
 * ```
 */
export { AirlockJournalCodec, JOURNAL_PAYLOAD_NAME, type AirlockJournalCodecOptions } from './airlock-journal-codec.js'
export { airlockSerde, type AirlockSerdeOptions } from './airlock-serde.js'
export { airlockHooks, SEALED_ERROR_METADATA, type AirlockHooksOptions } from './airlock-hooks.js'
export { airlockEndpoint } from './airlock-endpoint.js'
export { airlockIngressOptions } from './airlock-ingress-options.js'
