/*
 * The markers the scrubber puts in place of what it removes. They are part
 * of the wire format (version 1): the control plane and `airlock audit`
 * recognise them, so they never change.
 */

/**
 * The marker of a redacted match or value.
 *
 * @example
 * ```ts
 * redactedMarker('email') // '[REDACTED:email]'
 * ```
 */
export function redactedMarker(rule: string): string {
  return `[REDACTED:${rule}]`
}

/**
 * A value the scrubber could not read safely (a throwing getter, a hostile Proxy): fail closed.
 *
 * @example
 * ```ts
 * scrubber.scrub(new Proxy({}, { ownKeys() { throw new Error() } })).value === WITHHELD_MARKER // true
 * ```
 */
export const WITHHELD_MARKER = '[airlock:withheld]'

/**
 * A reference back to an enclosing object.
 *
 * @example
 * ```ts
 * const node: Record<string, unknown> = {}
 * node.self = node
 * scrubber.scrub(node).value // { self: '[Circular]' }
 * ```
 */
export const CIRCULAR_MARKER = '[Circular]'

/**
 * A container nested deeper than `scrub.maxDepth`.
 *
 * @example
 * ```ts
 * new Scrubber({ policy: { ...scrub, maxDepth: 1 } }).scrub({ a: { b: {} } }).value // { a: { b: '[airlock:max-depth]' } }
 * ```
 */
export const MAX_DEPTH_MARKER = '[airlock:max-depth]'

/**
 * A whole value with more nodes than `scrub.maxNodes`.
 *
 * @example
 * ```ts
 * new Scrubber({ policy: { ...scrub, maxNodes: 10 } }).scrub(new Array(100).fill(0)).value // '[airlock:max-nodes]'
 * ```
 */
export const MAX_NODES_MARKER = '[airlock:max-nodes]'

/**
 * A function value.
 *
 * @example
 * ```ts
 * scrubber.scrub({ onDone: () => {} }).value // { onDone: '[Function]' }
 * ```
 */
export const FUNCTION_MARKER = '[Function]'

/**
 * A symbol value.
 *
 * @example
 * ```ts
 * scrubber.scrub([Symbol('x')]).value // ['[Symbol]']
 * ```
 */
export const SYMBOL_MARKER = '[Symbol]'

/**
 * A Buffer, typed array, DataView or ArrayBuffer: bytes are never sent, only their count.
 *
 * @example
 * ```ts
 * binaryMarker(16) // '[binary 16 bytes]'
 * ```
 */
export function binaryMarker(bytes: number): string {
  return `[binary ${bytes} bytes]`
}

/**
 * Appended to a string cut at `scrub.maxStringLength` (after scrubbing).
 * `removed` counts the code units not shown: those of the scrubbed text past
 * the cut, plus those of a long input past the part that was scanned.
 *
 * @example
 * ```ts
 * truncatedMarker(120) // '[airlock:truncated 120 chars]'
 * ```
 */
export function truncatedMarker(removed: number): string {
  return `[airlock:truncated ${removed} chars]`
}
