/**
 * One step into a value: an object key, or an index into an array (or into
 * the encoded form of a Map or Set).
 */
export type PathSegment = string | number

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/**
 * A path into a value for error messages, as `$.rows[3].when`. Kept as an
 * array of segments while walking, and formatted only when an error needs
 * it, so a walk allocates nothing per node. Internal to airlock-sdk.
 *
 * @example
 * ```ts
 * formatPath(['rows', 3, 'a b']) // '$.rows[3]["a b"]'
 * ```
 */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '$'
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else out += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`
  }
  return out
}
