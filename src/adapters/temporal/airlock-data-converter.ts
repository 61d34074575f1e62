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
 * This one withholds an application failure type nobody approved (thrown in
 * workflow code, where the sandbox has no keys to fingerprint it): what a
 * policy that hashes names (`states.names: hash`) needs, and safe under any
 * policy. Prefer `airlockDataConverter(...).failureConverterPath`, which
 * picks {@link FAILURE_CONVERTER_PATH_CLEAR_TYPES} when names pass.
 *
 * The module is ESM; Temporal loads it with `require()`, which needs Node
 * 20.19 or later (22.12 or later on Node 22).
 *
 * @example
 * ```ts
 * await bundleWorkflowCode({ workflowsPath, failureConverterPath: FAILURE_CONVERTER_PATH })
 * ```
 */
export const FAILURE_CONVERTER_PATH: string = modulePath('failure-converter')

/**
 * The absolute path of the failure-converter module that keeps an
 * application failure type nobody approved as thrown: for a policy whose
 * names rule lets names pass (`states.names: allow`). `airlockDataConverter`
 * picks it for such a policy.
 *
 * @example
 * ```ts
 * await bundleWorkflowCode({ workflowsPath, failureConverterPath: airlockDataConverter({ airlock }).failureConverterPath })
 * ```
 */
export const FAILURE_CONVERTER_PATH_CLEAR_TYPES: string = modulePath('failure-converter-clear-types')

function modulePath(name: string): string {
  return fileURLToPath(new URL(`./${name}${extname(fileURLToPath(import.meta.url))}`, import.meta.url))
}

/**
 * A complete data-converter configuration for a Temporal worker or client:
 * `payloadCodecs: [AirlockPayloadCodec]` and `failureConverterPath` naming
 * airlock's failure converter for the policy's names rule
 * ({@link FAILURE_CONVERTER_PATH} under `states.names: hash`,
 * {@link FAILURE_CONVERTER_PATH_CLEAR_TYPES} under `allow`). Use this rather
 * than wiring the two by hand: the converter only works by path, and a
 * failure converter without the codec would leave its encoded attributes
 * readable. If you bundle workflows ahead, give `bundleWorkflowCode` this
 * `failureConverterPath` too.
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
  const codec = new AirlockPayloadCodec(options)
  const names = options.airlock.policy.states.names
  return { payloadCodecs: [codec], failureConverterPath: names === 'allow' ? FAILURE_CONVERTER_PATH_CLEAR_TYPES : FAILURE_CONVERTER_PATH }
}
