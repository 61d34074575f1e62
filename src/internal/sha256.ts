import * as crypto from 'node:crypto'

/*
 * SHA-256 in one call. `crypto.hash` (Node 20.12 and later) costs a third to
 * a half of `createHash(...).update(...).digest(...)` for the few hundred
 * bytes of a ledger line or the 33 and 65 bytes of a Merkle leaf and node:
 * the ledger writer, the verifier and the tree hash that often, once or
 * twice per entry. Older Node 20 releases get the streaming API.
 */

type OneShot = (algorithm: string, data: Uint8Array | string, encoding: 'hex' | 'latin1' | 'base64url') => string
const oneShot = (crypto as { hash?: OneShot }).hash

/**
 * Writes SHA-256 of bytes, 32 of them, into `target` at `offset`. The digest
 * travels as a latin1 string: a Buffer made by `crypto.hash` itself costs
 * twice the hashing of a Merkle node.
 *
 * @example
 * ```ts
 * sha256Into(node, leaves, 64)   // leaves[64..96] = SHA-256(node)
 * ```
 */
export const sha256Into: (data: Uint8Array, target: Buffer, offset: number) => void =
  oneShot === undefined
    ? (data, target, offset) => void crypto.createHash('sha256').update(data).digest().copy(target, offset)
    : (data, target, offset) => {
        // A loop, not Buffer#write: for 32 bytes, write's checks cost more than the copying.
        const digest = oneShot('sha256', data, 'latin1')
        if (offset < 0 || offset + 32 > target.length) throw new RangeError(`no room for 32 bytes at ${offset} of ${target.length}`)
        for (let i = 0; i < 32; i++) target[offset + i] = digest.charCodeAt(i)
      }

/**
 * SHA-256 of bytes as 32 bytes.
 *
 * @example
 * ```ts
 * sha256(Buffer.from('abc')).length   // 32
 * ```
 */
export function sha256(data: Uint8Array): Buffer {
  const digest = Buffer.allocUnsafe(32)
  sha256Into(data, digest, 0)
  return digest
}

/**
 * SHA-256 of bytes, or of a string's UTF-8 bytes, as 64 lowercase hex digits.
 *
 * @example
 * ```ts
 * sha256Hex('')   // 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
 * ```
 */
export const sha256Hex: (data: Uint8Array | string) => string =
  oneShot === undefined ? (data) => crypto.createHash('sha256').update(data).digest('hex') : (data) => oneShot('sha256', data, 'hex')

/**
 * SHA-256 of bytes, or of a string's UTF-8 bytes, as unpadded base64url (43 characters).
 *
 * @example
 * ```ts
 * sha256Base64url('')   // '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU'
 * ```
 */
export const sha256Base64url: (data: Uint8Array | string) => string =
  oneShot === undefined ? (data) => crypto.createHash('sha256').update(data).digest('base64url') : (data) => oneShot('sha256', data, 'base64url')

/**
 * Whether SHA-256 of `data` is the 32 bytes `digest`, compared without
 * making a Buffer of the digest (see {@link sha256Into}).
 *
 * @example
 * ```ts
 * sha256Is(line, expectedDigest)   // true or false
 * ```
 */
export const sha256Is: (data: Uint8Array, digest: Uint8Array) => boolean =
  oneShot === undefined
    ? (data, digest) => crypto.createHash('sha256').update(data).digest().equals(digest)
    : (data, digest) => {
        const found = oneShot('sha256', data, 'latin1')
        let differ = digest.length ^ 32
        for (let i = 0; i < 32; i++) differ |= found.charCodeAt(i) ^ digest[i]!
        return differ === 0
      }
