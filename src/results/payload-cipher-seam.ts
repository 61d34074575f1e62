/**
 * What a `Result` needs from a payload cipher: bytes in, sealed bytes out,
 * and back. A `Result` given one seals its serializer's bytes before they
 * reach storage and opens them before they are deserialized, so storage only
 * ever holds ciphertext.
 *
 * This is the seam only: the authenticated cipher itself lives in
 * `src/crypto`. `open` must authenticate before it returns anything and
 * throw a typed error (`ERR_PAYLOAD_TAMPERED`, `ERR_UNKNOWN_KID`) on bytes it
 * did not seal; a `Result` lets that error through unchanged.
 *
 * @example
 * ```ts
 * import { LocalResult, type PayloadCipher } from 'airlock-sdk'
 *
 * declare const cipher: PayloadCipher   // e.g. the SDK's key-ring payload cipher
 * const r = new LocalResult({ dir: 'results', locationCipher: keys, payloadCipher: cipher })
 * ```
 */
export interface PayloadCipher {
  /** The sealed form of `bytes`. */
  seal(bytes: Uint8Array): Promise<Uint8Array>
  /** The bytes `seal` was given; throws a typed error on anything it did not seal. */
  open(bytes: Uint8Array): Promise<Uint8Array>
}
