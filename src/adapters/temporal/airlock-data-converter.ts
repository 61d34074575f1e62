import type { DataConverter } from '@temporalio/common'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AirlockPayloadCodec, type AirlockPayloadCodecOptions } from './airlock-payload-codec.js'

/**
 * The absolute path of the failure-converter module (its `failureConverter`
 * export is an `AirlockFailureConverter`): what `failureConverterPath` must
 * name, for the worker and for `bundleWorkflowCode`. Temporal loads a
 * failure converter from a path only: an instance given inline is ignored
 * without a word, and messages and stacks then leave in clear.
 *
 * The module is ESM; Temporal loads it with `require()`, which needs Node
 * 20.19 or later (22.12 or later on Node 22).
 *
 * @example
 * ```ts
 * await bundleWorkflowCode({ workflowsPath, failureConverterPath: FAILURE_CONVERTER_PATH })
 * ```
 */
export const FAILURE_CONVERTER_PATH: string = fileURLToPath(
  new URL(`./failure-converter${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
)

/**
 * A complete data-converter configuration for a Temporal worker or client:
 * `payloadCodecs: [AirlockPayloadCodec]` and `failureConverterPath` naming
 * airlock's failure converter. Use this rather than wiring the two by hand:
 * the converter only works by path, and a failure converter without the
 * codec would leave its encoded attributes readable.
 *
 * Add Temporal's `externalStorage` (with an `AirlockStorageDriver`) if you
 * prefer its claim check to the codec's own `offload`.
 *
 * @throws InvalidArgumentError as `AirlockPayloadCodec` does.
 * @example
 * ```ts
 * import { Client } from '@temporalio/client'
 * import { airlockDataConverter } from 'airlock-sdk/temporal'
 *
 * const client = new Client({ connection, dataConverter: airlockDataConverter({ airlock }) })
 * ```
 */
export function airlockDataConverter(options: AirlockPayloadCodecOptions): DataConverter & {
  readonly payloadCodecs: [AirlockPayloadCodec]
  readonly failureConverterPath: string
} {
  return { payloadCodecs: [new AirlockPayloadCodec(options)], failureConverterPath: FAILURE_CONVERTER_PATH }
}
