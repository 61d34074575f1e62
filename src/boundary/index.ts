// airlock-sdk/boundary: the door on its own (AirlockBoundary), the
// control-plane transports and the events they carry. The root export keeps
// the three transports.

export { AirlockBoundary, type AirlockOptions, type AirlockStats } from './airlock-boundary.js'
export type { ControlPlane, DeliveryBatch, DeliveryOutcome, DeliveryRetry } from './control-plane.js'
export type { Transformed, OutboundRecord, OutboundDoor } from './outbound-door.js'
export { MemoryControlPlane } from './memory-control-plane.js'
export { FileControlPlane } from './file-control-plane.js'
export { HttpControlPlane, type HttpControlPlaneOptions, type HttpRetryOptions } from './http-control-plane.js'
export type { EmitInput, Channel, ResultLike } from './emit-input.js'
export {
  RUN_STATES,
  type RunState,
  type OutboundEvent,
  type OutboundEventKind,
  type FlowRunStateEvent,
  type TaskRunStateEvent,
  type LogEvent,
  type ParametersEvent,
  type WithheldEvent,
  type LedgerCheckpointEvent,
  type ResultReference,
  type Failure,
  type FailureCause,
} from './events.js'
