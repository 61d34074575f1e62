import { ConflictingOptionsError } from '../errors.js'

/**
 * The value of an option that has a current name and an older one kept
 * working (docs/design.md: rename nothing without keeping the old name).
 * `undefined` when neither is set. Internal to airlock-sdk.
 *
 * @throws {ConflictingOptionsError} when both names are set: which one was meant cannot be guessed.
 *
 * @example
 * ```ts
 * renamedOption('HttpControlPlane', { timeoutMs: 5_000 }, 'timeout', 'timeoutMs')                 // 5_000
 * renamedOption('HttpControlPlane', { timeout: '5s', timeoutMs: 5_000 }, 'timeout', 'timeoutMs')  // throws ERR_OPTIONS_CONFLICT
 * ```
 */
export function renamedOption(owner: string, options: object, name: string, oldName: string): unknown {
  const value = (options as Record<string, unknown>)[name]
  const old = (options as Record<string, unknown>)[oldName]
  if (value !== undefined && old !== undefined) {
    throw new ConflictingOptionsError(`${owner} takes ${name} or ${oldName} (its older name), not both`)
  }
  return value ?? old
}
