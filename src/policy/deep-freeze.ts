/**
 * Freezes a JSON-shaped value and everything inside it, so a policy handed
 * to the boundary cannot be widened later by code holding a reference.
 * Data only: no cycles, no class instances.
 *
 * @example
 * ```ts
 * const frozen = deepFreeze({ logs: { level: 'info' } })
 * Object.isFrozen(frozen.logs) // true
 * ```
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
