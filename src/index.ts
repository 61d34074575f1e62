// The public surface of airlock-sdk: re-exports only. DESIGN.md's names are a
// contract; add freely, rename nothing without keeping the old name.

// errors
export * from './errors.js'

// crypto
export { KeyRing, type KeyInfo, type KeySet, type KeyStatus } from './crypto/key-ring.js'
export { LocationCipher, LOCATION_TOKEN_PREFIX } from './crypto/location-cipher.js'
export { ValueCipher, VALUE_TOKEN_PREFIX } from './crypto/value-cipher.js'
export type { TokenBinding } from './crypto/token-cipher.js'
export { Fingerprinter, FINGERPRINT_PREFIX } from './crypto/fingerprinter.js'
export { PayloadCipher, PAYLOAD_MAGIC, PAYLOAD_FORMAT_VERSION, PAYLOAD_CHUNK_SIZE } from './crypto/payload-cipher.js'
export { REDACTED } from './crypto/redacted.js'
export {
  Secret,
  SecretProvider,
  EnvSecretProvider,
  FileSecretProvider,
  MemorySecretProvider,
  RESOLVED_SECRETS_WARNING,
  type SecretListener,
} from './crypto/secret.js'

// policy
export { definePolicy, type ResolvedPolicy, type DefinePolicyOptions } from './policy/define-policy.js'
export { loadPolicy } from './policy/load-policy.js'
export { presets, PRESET_NAMES, type PresetName } from './policy/presets.js'
export { policyHash } from './policy/policy-hash.js'
export { policyJsonSchema } from './policy/policy-json-schema.js'
export { policyInputSchema, type PolicyInput } from './policy/policy-input.js'
export { POLICY_ENV_VARS, readPolicyEnv } from './policy/env-overrides.js'
export { matchParameterRule, type ParameterRuleMatch } from './policy/parameter-rules.js'
export { matchPayloadRule, type PayloadRuleMatch } from './policy/payload-rules.js'
export { compileCustomPattern } from './policy/custom-pattern.js'
export {
  DETECTOR_IDS,
  DETECTOR_PACKS,
  DEFAULT_SENSITIVE_KEYS,
  PACK_IDS,
  packOf,
  type DetectorId,
  type PackId,
} from './policy/detector-ids.js'
export {
  policySchema,
  type Policy,
  type ParameterAction,
  type ScrubAction,
  type LogLevel,
  type ExceptionPolicy,
  type ScrubPolicy,
  type LogPolicy,
} from './policy/schema.js'

// scrub
export { Scrubber, SECRET_TOO_SHORT_WARNING, type ScrubberOptions, type RegisterOptions, type RegisterResult } from './scrub/scrubber.js'
export { scrubError, type ScrubbedError, type ScrubbedErrorNode, type ScrubErrorOptions, type ExceptionMode } from './scrub/scrub-error.js'
export type { Normalized, NormalizedObject, ErrorNode, ErrorNodeChanges, ReferenceNode, MarkerNode } from './scrub/value-nodes.js'
export type { WalkOptions, WalkResult, DeferredNode } from './scrub/walk.js'
export type { PathRuleSet, PathRuleDecision } from './policy/path-rule-set.js'
export { DETECTORS, type Detector } from './scrub/detectors.js'
export {
  REGISTERED_SECRET_RULE,
  SENSITIVE_KEY_RULE,
  type ScrubTransform,
  type ScrubResult,
  type TransformAction,
} from './scrub/transform.js'
export { WITHHELD_MARKER } from './scrub/markers.js'

// results
export { Result, type ResultOptions, type ResultJSON, type ByteSource, type Carried, type Located } from './results/result.js'
export { LocalResult, type LocalResultOptions } from './results/local-result.js'
export { JSONResult, type JSONResultOptions } from './results/json-result.js'
export { ConstantResult } from './results/constant-result.js'
export { SecretResult } from './results/secret-result.js'
export { S3Result, type S3ResultOptions, type S3UploadOptions } from './results/s3-result.js'
export { GCSResult, type GCSResultOptions } from './results/gcs-result.js'
export { AzureResult, type AzureResultOptions } from './results/azure-result.js'
export { LocationTemplate, type TemplateContext } from './results/location-template.js'
export type { Serializer } from './results/serializer.js'
export { JSONSerializer } from './results/json-serializer.js'
export { StructuredSerializer } from './results/structured-serializer.js'
export { CompressedSerializer, type Compression } from './results/compressed-serializer.js'
export { DateTimeSerializer } from './results/date-time-serializer.js'
export { PayloadFrame } from './results/payload-frame.js'
export type { PayloadSealer } from './results/payload-cipher-seam.js'

// logging
export { createLogger, type CreateLoggerOptions } from './logging/create-logger.js'
export { SHIP_FAILED_WARNING } from './logging/record-shipper.js'
export { closeLogger, flushLogger, localOutputStats } from './logging/local-output.js'
export { SCRUB_THREAD_FAILED_WARNING, type LocalOutputStats } from './logging/scrub-thread.js'
export { wrapPinoLogger } from './logging/wrap-pino-logger.js'
export { createShippingDestination, type ShippingDestinationOptions } from './logging/create-shipping-destination.js'
export type { ShippedRecord, ShipRecord } from './logging/shipped-record.js'

// audit
export {
  Ledger,
  LEDGER_CHANNEL,
  type LedgerOptions,
  type LedgerEventInput,
  type LedgerDeliveryInput,
  type LedgerAppendResult,
  type LedgerStats,
  type LedgerCheckpointHead,
} from './audit/ledger.js'
export { proveLedgerInclusion, type ProveLedgerInclusionOptions } from './audit/prove-ledger-inclusion.js'
export { proveLedgerConsistency, type ProveLedgerConsistencyOptions } from './audit/prove-ledger-consistency.js'
export { verifyLedgerProof, type VerifyLedgerProofResult } from './audit/verify-ledger-proof.js'
export { ledgerInclusionProofSchema, ledgerConsistencyProofSchema, type LedgerInclusionProof, type LedgerConsistencyProof } from './audit/ledger-proof.js'
export { parseCheckpointNote, ledgerVerifierKey, type LedgerCheckpointBody, type ParsedCheckpointNote } from './audit/checkpoint-note.js'
export { verifyLedger, ADOPTED_LIST_LIMIT, type VerifyLedgerOptions, type VerifyLedgerResult } from './audit/verify-ledger.js'
export type { LedgerAdoption } from './audit/ledger-checkpoint.js'
export { buildLedgerReport, formatReportText, type LedgerReport, type LedgerReportOptions } from './audit/ledger-report.js'
export { mergeLedgerReports, formatFleetReportText, type FleetReport, type FleetLedger } from './audit/fleet-report.js'
export { formatReportHtml, HTML_REPORT_CSP, type HtmlReportOptions, type ReportFinding, type ReportScan } from './audit/html-report.js'
export type { LedgerTimeline } from './audit/ledger-timeline.js'
export { scanLedger, LedgerLeakScanner, SCAN_FINDING_LIMIT, type LeakFinding, type LedgerScanResult } from './audit/scan-ledger.js'
export { generateLedgerSigningKey, type LedgerSigningKeyPair, type LedgerKeyInput } from './audit/ledger-signing-key.js'
export type { LedgerEntry } from './audit/ledger-entry.js'

// boundary
export { AirlockBoundary, type AirlockOptions, type AirlockStats } from './boundary/airlock-boundary.js'
export type { ControlPlane, DeliveryBatch, DeliveryOutcome, DeliveryRetry } from './boundary/control-plane.js'
export type { Transformed, OutboundRecord, OutboundDoor } from './boundary/outbound-door.js'
export { MemoryControlPlane } from './boundary/memory-control-plane.js'
export { FileControlPlane } from './boundary/file-control-plane.js'
export { HttpControlPlane, type HttpControlPlaneOptions, type HttpRetryOptions } from './boundary/http-control-plane.js'
export type { EmitInput, Channel, ResultLike } from './boundary/emit-input.js'
export {
  RUN_STATES,
  outboundEventSchema,
  type RunState,
  type OutboundEvent,
  type OutboundEventKind,
  type FlowRunStateEvent,
  type TaskRunStateEvent,
  type LogEvent,
  type ParametersEvent,
  type WithheldEvent,
  type ResultReference,
  type Failure,
  type FailureCause,
} from './boundary/events.js'

// runtime: the public Airlock is the boundary plus task, flow and logger
export { Airlock, type AirlockRuntimeOptions, type Task, type MapItem } from './runtime/airlock.js'
export type { Flow, FlowOptions, FlowRun, FlowRunOptions } from './runtime/flow.js'
export type { TaskOptions } from './runtime/task-options.js'
export { RUNTIME_WARNING_CODE, type MapOptions } from './runtime/task-runner.js'
export { currentTask, type TaskRunContext, type TaskRunSummary } from './runtime/run-context.js'
export { cacheValidators, NEVER_USE, type CacheValidator, type CacheSubject } from './runtime/cache-validators.js'
export type { CacheStore, CacheEntry } from './runtime/cache-store.js'
export { MemoryCacheStore } from './runtime/memory-cache-store.js'
export { ResultCacheStore, type ResultCacheStoreOptions } from './runtime/result-cache-store.js'
export type { Duration } from './runtime/duration.js'
export type { RetryDelay } from './runtime/retry-delay.js'
