import { announceSecret, Secret } from '../crypto/secret.js'

/**
 * Registers `value` with every `Scrubber` of the process, open or built
 * later, as if a `SecretProvider` had resolved it: the way `airlock-sdk/testing`
 * plants a secret without reaching into src/crypto. Internal to airlock-sdk.
 *
 * @example
 * ```ts
 * maskEverywhere(canary.value, 'high-entropy canary')
 * ```
 */
export function maskEverywhere(value: string, name: string): void {
  announceSecret(new Secret(value, name))
}
