import sodium from 'libsodium-wrappers'
import { PayloadTamperedError, SealingNotReadyError } from '../errors.js'

/*
 * libsodium's sealed boxes (`crypto_box_seal`: an ephemeral X25519 key,
 * XSalsa20-Poly1305, 48 bytes of overhead), used to seal a payload's data
 * key to a sealing key's public half. Internal to src/crypto. Chosen over a
 * JWE (`ECDH-ES+A256KW`) per payload for three reasons measured in
 * bench/sealing.ts: it is synchronous once loaded (Restate's journal codec
 * and serdes cannot wait; jose's WebCrypto path is asynchronous only), it
 * adds 80 bytes to a payload instead of about 320, and it opens about 3x
 * faster; sealing costs the same (one X25519 key generation either way).
 *
 * libsodium-wrappers is WebAssembly, loaded asynchronously: loading starts
 * when this module is imported and takes about 10 ms. The synchronous calls
 * throw SealingNotReadyError before that; `sealedBoxReady()` waits.
 */

let loaded = false
const loading: Promise<void> = sodium.ready.then(() => {
  loaded = true
})

/** Bytes a sealed box adds to what it seals: an ephemeral public key and a tag. */
export const SEALED_BOX_OVERHEAD = 48

/**
 * Resolves once libsodium is loaded; the synchronous functions here work from then on.
 *
 * @example
 * ```ts
 * await sealedBoxReady()
 * sealToPublicKey(dataKey, publicKey)
 * ```
 */
export function sealedBoxReady(): Promise<void> {
  return loading
}

/**
 * `crypto_box_seal(message, publicKey)`: only the holder of the matching
 * X25519 private key opens the result.
 *
 * @throws {SealingNotReadyError} before libsodium finished loading.
 * @example
 * ```ts
 * const sealed = sealToPublicKey(dataKey, sealingPublicKey(ring, kid).raw)   // dataKey.length + 48 bytes
 * ```
 */
export function sealToPublicKey(message: Uint8Array, publicKey: Uint8Array): Uint8Array {
  ready()
  return sodium.crypto_box_seal(message, publicKey)
}

/**
 * `crypto_box_seal_open(sealed, publicKey, privateKey)`.
 *
 * @throws {SealingNotReadyError} before libsodium finished loading.
 * @throws {PayloadTamperedError} when the box does not open (modified, or sealed to another key).
 * @example
 * ```ts
 * const dataKey = openWithPrivateKey(sealed, publicKey, privateKey)
 * ```
 */
export function openWithPrivateKey(sealed: Uint8Array, publicKey: Uint8Array, privateKey: Uint8Array): Uint8Array {
  ready()
  try {
    return sodium.crypto_box_seal_open(sealed, publicKey, privateKey)
  } catch {
    throw new PayloadTamperedError('sealed payload key does not open: modified, or sealed to another key with the same kid')
  }
}

function ready(): void {
  if (!loaded) {
    throw new SealingNotReadyError(
      'libsodium (sealed boxes, WebAssembly) is still loading: await PayloadCipher.ready() once before sealing or opening synchronously under a sealing key',
    )
  }
}
