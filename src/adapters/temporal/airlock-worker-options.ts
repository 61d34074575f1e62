import type { DataConverter } from '@temporalio/common'
import type { WorkerInterceptors } from '@temporalio/worker'
import { AirlockActivityInbound } from './activity-failure-interceptor.js'
import { airlockDataConverter } from './airlock-data-converter.js'
import type { AirlockPayloadCodecOptions } from './airlock-payload-codec.js'

/**
 * What `Worker.create` needs from airlock: the data converter of
 * `airlockDataConverter` and the activity interceptor that has activity
 * errors' readable fields approved by the policy (and ledgered) before
 * they leave. Spread it into the worker's options; if you have
 * interceptors of your own, append yours to `interceptors.activity`.
 *
 * Without the interceptor nothing leaks: activity failures then keep no
 * readable message at all, only their sealed encoded attributes.
 *
 * @throws InvalidArgumentError as `AirlockPayloadCodec` does.
 * @example
 * ```ts
 * import { Worker } from '@temporalio/worker'
 * import { airlockWorkerOptions } from 'airlock-sdk/temporal'
 *
 * const worker = await Worker.create({ ...airlockWorkerOptions({ airlock }), workflowsPath, activities, taskQueue: 'etl' })
 * ```
 */
export function airlockWorkerOptions(options: AirlockPayloadCodecOptions): {
  readonly dataConverter: DataConverter
  readonly interceptors: WorkerInterceptors
} {
  const dataConverter = airlockDataConverter(options)
  const inbound = new AirlockActivityInbound(options.airlock)
  return { dataConverter, interceptors: { activity: [() => ({ inbound })] } }
}
