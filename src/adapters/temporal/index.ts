/**
 * `airlock-sdk/temporal`: one policy, one key set and one ledger for what
 * Temporal workers and clients send a Temporal service. The Temporal
 * packages (`@temporalio/common`, `@temporalio/proto`, and for
 * `airlockWorkerOptions` `@temporalio/worker`) are optional peer
 * dependencies of airlock-sdk: install them with your Temporal SDK.
 *
 * @example
 * ```ts
 * import { Worker } from '@temporalio/worker'
 * import { Client } from '@temporalio/client'
 * import { airlockDataConverter, airlockWorkerOptions } from 'airlock-sdk/temporal'
 *
 * const worker = await Worker.create({ ...airlockWorkerOptions({ airlock, offload }), workflowsPath, activities, taskQueue: 'orders' })
 * const client = new Client({ connection, dataConverter: airlockDataConverter({ airlock, offload }) })
 * ```
 */
export { AirlockPayloadCodec, AIRLOCK_ENCODING, type AirlockPayloadCodecOptions } from './airlock-payload-codec.js'
export { airlockDataConverter, FAILURE_CONVERTER_PATH, FAILURE_CONVERTER_PATH_CLEAR_TYPES } from './airlock-data-converter.js'
export { airlockWorkerOptions } from './airlock-worker-options.js'
export { AirlockActivityInbound, approveFailure } from './activity-failure-interceptor.js'
export { AirlockFailureConverter, APPROVED_FAILURE, FAILURE_ATTRIBUTES_METADATA, WITHHELD_FAILURE_TYPE, type AirlockFailureConverterOptions, type ApprovedFailure } from './failure-converter.js'
export { AirlockStorageDriver, type AirlockStorageDriverOptions } from './airlock-storage-driver.js'
export { fingerprintSearchAttributes } from './fingerprint-search-attributes.js'
export { fingerprintWorkflowId } from './fingerprint-workflow-id.js'
export { createCodecServerHandler, type CodecServerHandler, type CodecServerOptions } from './codec-server.js'
export { CodecServerTokens, type CodecServerToken } from './codec-server-tokens.js'
export { startCodecServer, type RunningCodecServer } from './start-codec-server.js'
export { mountCodecServer } from './mount-codec-server.js'
