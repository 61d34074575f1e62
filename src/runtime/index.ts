// airlock-sdk/runtime: Airlock with its tasks and flows, caching and the
// running task's context. The root export keeps Airlock and cacheValidators.

export { Airlock, type AirlockRuntimeOptions, type Task, type MapItem } from './airlock.js'
export type { Flow, FlowOptions, FlowRun, FlowRunOptions } from './flow.js'
export type { TaskOptions } from './task-options.js'
export { RUNTIME_WARNING_CODE, type MapOptions } from './task-runner.js'
export { currentTask, type TaskRunContext, type TaskRunSummary } from './run-context.js'
export { cacheValidators, NEVER_USE, type CacheValidator, type CacheSubject } from './cache-validators.js'
export type { CacheStore, CacheEntry } from './cache-store.js'
export { MemoryCacheStore } from './memory-cache-store.js'
export { ResultCacheStore, type ResultCacheStoreOptions } from './result-cache-store.js'
export type { Duration } from '../internal/duration.js'
export type { ExponentialBackoff, RetryDelay } from './retry-delay.js'
