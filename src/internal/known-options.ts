import { InvalidArgumentError } from '../errors.js'
import { describeType } from './describe-type.js'

/**
 * Checks that an options object holds only known keys. A misspelt
 * `locationCipher` must not quietly turn into a plain location on its way
 * out, so an unknown key is an error, not a no-op. Internal to airlock-sdk.
 *
 * @throws {InvalidArgumentError} when `options` is not an object or has a key outside `known`.
 *
 * @example
 * ```ts
 * assertKnownOptions('LocalResult', { dir: 'r', lcoationCipher: keys }, ['dir', 'locationCipher'])
 * // throws ERR_INVALID_ARGUMENT: LocalResult has no option "lcoationCipher"; its options are dir, locationCipher
 * ```
 */
export function assertKnownOptions(owner: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${owner} takes an options object, found ${describeType(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const options = known.length === 0 ? 'it takes none' : `its options are ${known.join(', ')}`
      throw new InvalidArgumentError(`${owner} has no option ${JSON.stringify(key)}; ${options}`)
    }
  }
}
