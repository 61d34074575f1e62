/**
 * `airlock-sdk/otel`: spans and log records exported through OpenTelemetry
 * pass the same door as the Airlock's events (the policy, the scrubber, the
 * ciphers and the ledger), in front of any exporter.
 *
 * @example
 * ```ts
 * import { AirlockLogRecordExporter, AirlockSpanExporter, OtelLogTee } from 'airlock-sdk/otel'
 * ```
 */
export { AirlockLogRecordExporter } from './airlock-log-record-exporter.js'
export { AirlockSpanExporter } from './airlock-span-exporter.js'
export type { AirlockExporterOptions } from './exporter-options.js'
export { OtelLogTee, type OtelLogTeeOptions } from './otel-log-tee.js'
export { EXCEPTION_FINGERPRINT, EXCEPTION_TOKEN } from './telemetry-policy.js'
