import { createCipheriv, createHash } from 'node:crypto'
import { Readable } from 'node:stream'

/** 64 MiB: the size of the streamed round trips the backends are tested with. */
export const STREAMED_BYTES = 64 * 1024 * 1024

const PIECE = 256 * 1024

/** A byte stream of `size` pseudo-random bytes (AES-CTR keystream of `seed`), made as it is read, and its SHA-256. */
export interface GeneratedBytes {
  readonly stream: Readable
  /** The SHA-256 of everything the stream produced, hex; complete once the stream ended. */
  readonly digest: () => string
}

/**
 * Generates bytes on demand, hashing them on the way, so a test can move a
 * large payload without ever holding it whole.
 */
export function generatedBytes(size: number, seed = 'airlock'): GeneratedBytes {
  const keystream = createCipheriv('aes-128-ctr', createHash('sha256').update(seed).digest().subarray(0, 16), Buffer.alloc(16))
  const zeros = Buffer.alloc(PIECE)
  const hash = createHash('sha256')
  let produced = 0
  const stream = new Readable({
    read() {
      if (produced >= size) {
        this.push(null)
        return
      }
      const piece = keystream.update(zeros.subarray(0, Math.min(PIECE, size - produced)))
      produced += piece.length
      hash.update(piece)
      this.push(piece)
    },
  })
  let digest: string | undefined
  return { stream, digest: () => (digest ??= hash.digest('hex')) }
}

/** The SHA-256 (hex) and byte count of a stream, read incrementally. */
export async function digestOf(stream: AsyncIterable<Uint8Array>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of stream) {
    hash.update(chunk)
    bytes += chunk.length
  }
  return { sha256: hash.digest('hex'), bytes }
}

/** What a promise rejected with; fails the test if it resolved. */
export async function rejection(pending: Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await pending
  } catch (err) {
    return err as Error & { code: string }
  }
  throw new Error('expected a rejection')
}

/** A copy of `bytes` with one bit of the byte at `index` flipped (negative: from the end). */
export function flipped(bytes: Uint8Array, index: number): Buffer {
  const copy = Buffer.from(bytes)
  const at = index < 0 ? copy.length + index : index
  copy[at] = copy[at]! ^ 0x01
  return copy
}
