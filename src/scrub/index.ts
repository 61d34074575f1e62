// airlock-sdk/scrub: the scrubber, scrubError and the value model they walk.
// The root export keeps Scrubber and scrubError.

export { Scrubber, SECRET_TOO_SHORT_WARNING, type ScrubberOptions, type RegisterOptions, type RegisterResult } from './scrubber.js'
export { scrubError, type ScrubbedError, type ScrubbedErrorNode, type ScrubErrorOptions, type ExceptionMode } from './scrub-error.js'
export type { Normalized, NormalizedObject, ErrorNode, ErrorNodeChanges, ReferenceNode, MarkerNode } from './value-nodes.js'
export type { WalkOptions, WalkResult, DeferredNode } from './walk.js'
export { DETECTORS, type Detector } from './detectors.js'
export type { ScrubTransform, ScrubResult, TransformAction } from './transform.js'
