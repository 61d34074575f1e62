import type { TransformAction } from './transform.js'

/*
 * The nodes of the one value model (docs/design.md, invariant 7) besides plain
 * data. `normalize` turns whatever a channel is handed into plain data
 * (null-prototype objects, arrays, strings, numbers, booleans, null) and
 * these three kinds of node; the walker, the path rules and the exceptions
 * and locations policies then all see that same tree.
 */

/**
 * A normalized value: plain data, or one of the nodes below.
 *
 * @example
 * ```ts
 * const tree: Normalized = normalize({ err: new Error('x'), at: new Date(0) }, limits)
 * // { err: ErrorNode { type: 'Error', message: 'x', … }, at: '1970-01-01T00:00:00.000Z' }
 * ```
 */
export type Normalized =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly Normalized[]
  | NormalizedObject
  | ErrorNode
  | ReferenceNode
  | MarkerNode

/**
 * A normalized object: own enumerable string keys only, no prototype (so a
 * key such as `__proto__` or `constructor` is only a key).
 *
 * @example
 * ```ts
 * const fields = normalize({ user: 'ada' }, limits) as NormalizedObject
 * Object.getPrototypeOf(fields) // null
 * ```
 */
export interface NormalizedObject {
  readonly [key: string]: Normalized
}

/**
 * An Error, wherever it sat, read once: the exceptions policy decides what
 * of it may leave (the boundary), or the walker writes its fields scrubbed
 * (local log output). Every field is as read, unscrubbed.
 *
 * @example
 * ```ts
 * const node = normalize(new TypeError('bad input'), limits) as ErrorNode
 * node.type    // 'TypeError'
 * node.message // 'bad input'
 * ```
 */
export class ErrorNode {
  constructor(
    /** The class name (`TypeError`, `PgError`), else `err.name`, else `Error`. Raw: it is scrubbed where it leaves. */
    readonly type: string,
    /** `err.name` as read. */
    readonly name: Normalized,
    /** `err.message`: a string, or the normalized value a non-string message was. */
    readonly message: Normalized,
    /** `err.stack` as read. */
    readonly stack: Normalized,
    /** `err.code` as read, when present. */
    readonly code: Normalized,
    /** `err.cause`, normalized (often another ErrorNode). */
    readonly cause: Normalized,
    /** `AggregateError.errors`, normalized, when an array. */
    readonly errors: readonly Normalized[] | undefined,
    /** Its other own enumerable properties. */
    readonly props: NormalizedObject | undefined,
  ) {}

  /** A copy with some fields replaced (a redact path inside an error). */
  with(fields: ErrorNodeChanges): ErrorNode {
    return new ErrorNode(
      this.type,
      'name' in fields ? fields.name : this.name,
      'message' in fields ? fields.message : this.message,
      'stack' in fields ? fields.stack : this.stack,
      'code' in fields ? fields.code : this.code,
      'cause' in fields ? fields.cause : this.cause,
      'errors' in fields ? fields.errors : this.errors,
      'props' in fields ? fields.props : this.props,
    )
  }
}

/**
 * Fields of an {@link ErrorNode} to replace in a copy; a field present with
 * `undefined` is removed.
 *
 * @example
 * ```ts
 * const changes: ErrorNodeChanges = { message: '[REDACTED:redact-path]' }
 * node.with(changes)
 * ```
 */
export interface ErrorNodeChanges {
  name?: Normalized
  message?: Normalized
  stack?: Normalized
  code?: Normalized
  cause?: Normalized
  errors?: readonly Normalized[] | undefined
  props?: NormalizedObject | undefined
}

/**
 * A written `Result` (anything whose `toJSON()` gives a reference and that
 * says whether it is `inline`): the locations or inline-values policy
 * decides what of it may leave.
 *
 * @example
 * ```ts
 * const node = normalize(await results.write(rows, ctx), limits) as ReferenceNode
 * node.json.location // 'alk1.…'
 * ```
 */
export class ReferenceNode {
  constructor(
    /** Its `toJSON()`, normalized. */
    readonly json: NormalizedObject,
    /** A `JSONResult`: the location is the value itself. */
    readonly inline: boolean,
  ) {}
}

/**
 * What normalizing put in place of something it would not read or keep:
 * bytes, a container too deep, a value over the node budget, a getter or
 * Proxy that threw. The walker writes `text` and records the transform
 * under the (scrubbed) path where it found the marker.
 *
 * @example
 * ```ts
 * const node = normalize(Buffer.from('secret'), limits) as MarkerNode
 * node.text // '[binary 6 bytes]'
 * node.rule // 'binary'
 * ```
 */
export class MarkerNode {
  constructor(
    readonly text: string,
    readonly rule: string,
    readonly action: TransformAction,
  ) {}
}
