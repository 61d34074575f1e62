import { ResultReadOnlyError } from '../errors.js'

/**
 * The refusal a result that keeps nothing in storage (JSON, constant,
 * secret) gives from the storage hooks of `Result`. Their public methods
 * never call the hooks; this keeps a subclass that does from failing open.
 * Internal to airlock-sdk.
 *
 * @example
 * ```ts
 * protected writeBytes(): Promise<never> { return unstored('ConstantResult') }
 * ```
 */
export function unstored(owner: string): Promise<never> {
  return Promise.reject(new ResultReadOnlyError(`${owner} keeps nothing in storage`))
}
