// The root of airlock-sdk: the public-surface names of the design and the
// types their options and results are spelled in. Everything else is a
// subpath, one per part of the SDK: airlock-sdk/results, /policy, /audit,
// /crypto, /scrub, /logging, /boundary, /runtime (and /testing and the
// engine adapters). Rename nothing here without keeping the old name.

// Every thrown error is an AirlockError subclass with a stable .code.
export * from './errors.js'

export { Airlock, type AirlockRuntimeOptions, type Task, type MapItem } from './runtime/airlock.js'
export type { Flow, FlowOptions, FlowRun, FlowRunOptions } from './runtime/flow.js'
export type { TaskOptions } from './runtime/task-options.js'
export type { MapOptions } from './runtime/task-runner.js'
export { cacheValidators, type CacheValidator, type CacheSubject } from './runtime/cache-validators.js'
export type { Duration } from './internal/duration.js'
export type { ExponentialBackoff, RetryDelay } from './runtime/retry-delay.js'

export { MemoryControlPlane } from './boundary/memory-control-plane.js'
export { FileControlPlane } from './boundary/file-control-plane.js'
export { HttpControlPlane, type HttpControlPlaneOptions, type HttpRetryOptions } from './boundary/http-control-plane.js'
export type { ControlPlane, DeliveryBatch, DeliveryOutcome } from './boundary/control-plane.js'
export type { AirlockStats } from './boundary/airlock-boundary.js'
export type { OutboundEvent } from './boundary/events.js'

export { KeyRing, type KeySet } from './crypto/key-ring.js'

export { definePolicy, type ResolvedPolicy, type DefinePolicyOptions } from './policy/define-policy.js'
export { loadPolicy } from './policy/load-policy.js'
export type { PolicyInput } from './policy/policy-input.js'

export { Result, type ResultOptions, type ResultJSON } from './results/result.js'
export { LocalResult, type LocalResultOptions } from './results/local-result.js'
export { JSONResult, type JSONResultOptions } from './results/json-result.js'
export { ConstantResult } from './results/constant-result.js'
export { SecretResult } from './results/secret-result.js'
export { S3Result, type S3ResultOptions, type S3UploadOptions } from './results/s3-result.js'
export { GCSResult, type GCSResultOptions } from './results/gcs-result.js'
export { AzureResult, type AzureResultOptions } from './results/azure-result.js'
export type { Serializer } from './results/serializer.js'
export { JSONSerializer } from './results/json-serializer.js'
export { StructuredSerializer } from './results/structured-serializer.js'
export { CompressedSerializer, type Compression } from './results/compressed-serializer.js'

export { Scrubber, type ScrubberOptions, type RegisterOptions, type RegisterResult } from './scrub/scrubber.js'
export { scrubError, type ScrubbedError, type ScrubErrorOptions, type ExceptionMode } from './scrub/scrub-error.js'

export { verifyLedger, type VerifyLedgerOptions, type VerifyLedgerResult } from './audit/verify-ledger.js'
