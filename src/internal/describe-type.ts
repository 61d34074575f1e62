/**
 * A value's type for error messages, never its content: `'null'`, `'number'`,
 * `'an array'`, `'an object'`, `'an instance of Foo'`. Internal to airlock-sdk.
 *
 * @example
 * ```ts
 * describeType(new Map()) // 'an instance of Map'
 * ```
 */
export function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  if (Array.isArray(value)) return 'an array'
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null
  if (proto === null || proto === Object.prototype) return 'an object'
  const name = proto.constructor?.name
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an instance of an anonymous class'
}
