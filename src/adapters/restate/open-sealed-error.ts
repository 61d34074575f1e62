import type { KeyRing } from '../../crypto/key-ring.js'
import { ValueCipher } from '../../crypto/value-cipher.js'

/**
 * A whole error as `airlockHooks` sealed it (`airlock.error`), opened:
 * the token itself, and an `Error` of the same type name, message, code,
 * stack and causes, for the policy to present anew.
 *
 * @example
 * ```ts
 * const opened: OpenedError | undefined = await openSealedError(keys, err.metadata?.['airlock.error'])
 * ```
 */
export interface OpenedError {
  readonly token: string
  readonly error: Error
}

// scrubError's sealed form is bounded (64 causes in all); so is what is rebuilt from one.
const MAX_CAUSES = 64

/**
 * Opens what claims to be a sealed error with the key ring. Resolves
 * `undefined` for anything that is not one this ring sealed: not a value
 * token, a token that does not open (another key, modified), or one that
 * does not hold a sealed error. Never throws. Internal to the adapter.
 *
 * @example
 * ```ts
 * const opened = await openSealedError(keys, terminal.metadata?.[SEALED_ERROR_METADATA])
 * if (opened !== undefined) await presentError(airlock, opened.error)
 * ```
 */
export async function openSealedError(keys: KeyRing, token: unknown): Promise<OpenedError | undefined> {
  if (typeof token !== 'string' || !ValueCipher.isToken(token)) return undefined
  let sealed: unknown
  try {
    sealed = JSON.parse(await new ValueCipher(keys).decrypt(token))
  } catch {
    return undefined
  }
  if (typeof sealed !== 'object' || sealed === null || (sealed as { v?: unknown }).v !== 1) return undefined
  const budget = { causes: MAX_CAUSES }
  const error = rebuilt(sealed, budget)
  return error === undefined ? undefined : { token, error }
}

function rebuilt(node: unknown, budget: { causes: number }): Error | undefined {
  if (typeof node !== 'object' || node === null) return undefined
  const { type, message, code, stack, causes } = node as Record<string, unknown>
  if (typeof type !== 'string' || typeof message !== 'string') return undefined
  // A class of the sealed type's name: the normalizer reads an error's type from its constructor.
  const Named = { [type]: class extends Error {} }[type]!
  const error = new Named(message)
  Object.defineProperty(error, 'name', { value: type, enumerable: false, writable: true, configurable: true })
  Object.defineProperty(error, 'stack', { value: typeof stack === 'string' ? stack : '', enumerable: false, writable: true, configurable: true })
  if (typeof code === 'string') Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true })
  const chained: Error[] = []
  if (Array.isArray(causes)) {
    for (const cause of causes) {
      if (budget.causes-- <= 0) break
      const level = rebuilt(cause, budget)
      if (level !== undefined) chained.push(level)
    }
  }
  // scrubError lists `cause` first, then an AggregateError's `errors`.
  if (chained.length > 0) Object.defineProperty(error, 'cause', { value: chained[0], enumerable: false, writable: true, configurable: true })
  if (chained.length > 1) Object.defineProperty(error, 'errors', { value: chained.slice(1), enumerable: false, writable: true, configurable: true })
  return error
}
