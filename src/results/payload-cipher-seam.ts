import type { Transform } from 'node:stream'

/**
 * What a `Result` needs from a payload cipher: bytes in, sealed bytes out,
 * and back, each bound to a context (the `Result` passes the plain location;
 * see `Result`). A `Result` given one seals its serializer's bytes before they
 * reach storage and opens them before they are deserialized, so storage only
 * ever holds ciphertext.
 *
 * The SDK's own `PayloadCipher` (chunked AES-256-GCM, in `src/crypto`) is one;
 * a `KeyRing` given as `payloadCipher` is wrapped in it. This interface is the
 * seam for another implementation. `open` must authenticate before it returns
 * anything and throw a typed error (`ERR_PAYLOAD_TAMPERED`, `ERR_UNKNOWN_KID`)
 * on bytes it did not seal, or sealed with another context; a `Result` lets
 * that error through unchanged. A sealer that ignores the context does not
 * bind payloads to their location.
 *
 * `writeStream` and `readStream` need `encryptStream` and `decryptStream`
 * too: Transforms that hold a bounded amount of data whatever the payload's
 * size, and whose decrypting side releases nothing unauthenticated. A sealer
 * without them serves `write` and `read` only.
 *
 * @example
 * ```ts
 * import { KeyRing, LocalResult, PayloadCipher, type PayloadSealer } from 'airlock-sdk'
 *
 * const sealer: PayloadSealer = new PayloadCipher(KeyRing.generate())
 * const r = new LocalResult({ dir: 'results', locationCipher: keys, payloadCipher: sealer })
 * ```
 */
export interface PayloadSealer {
  /** The sealed form of `bytes`, bound to `context`. */
  seal(bytes: Uint8Array, context?: Uint8Array): Promise<Uint8Array>
  /** The bytes `seal` was given with this `context`; throws a typed error on anything else. */
  open(bytes: Uint8Array, context?: Uint8Array): Promise<Uint8Array>
  /** A Transform from plaintext to what `open` (and `decryptStream`) accept with this context. */
  encryptStream?(context?: Uint8Array): Transform
  /** A Transform from what `seal` or `encryptStream` made with this context back to plaintext. */
  decryptStream?(context?: Uint8Array): Transform
}
