import {
  brotliCompressSync,
  brotliDecompressSync,
  deflateSync,
  gunzipSync,
  gzipSync,
  inflateSync,
} from 'node:zlib'
import { InvalidArgumentError, PayloadFormatError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { PayloadFrame } from './payload-frame.js'
import type { Serializer } from './serializer.js'

/**
 * A compression `CompressedSerializer` applies, each from node:zlib.
 *
 * @example
 * ```ts
 * const format: Compression = 'gzip'
 * new LocalResult({ dir: 'results', serializer: new CompressedSerializer(new JSONSerializer(), { format }) })
 * ```
 */
export type Compression = 'gzip' | 'brotli' | 'deflate'

const codecs: Readonly<Record<Compression, { compress(b: Uint8Array): Uint8Array; decompress(b: Uint8Array): Uint8Array }>> = {
  gzip: { compress: (b) => gzipSync(b), decompress: (b) => gunzipSync(b) },
  brotli: { compress: (b) => brotliCompressSync(b), decompress: (b) => brotliDecompressSync(b) },
  deflate: { compress: (b) => deflateSync(b), decompress: (b) => inflateSync(b) },
}

/**
 * Compresses what another serializer writes.
 *
 * Wire format: the payload header naming the compression (format name
 * `gzip`, `brotli` or `deflate`; see `PayloadFrame`), then the compressed
 * bytes of the inner serializer's whole payload, header included. So a
 * reader checks the compression first, then the inner format.
 *
 * @example
 * ```ts
 * import { CompressedSerializer, JSONSerializer, LocalResult } from 'airlock-sdk'
 *
 * const serializer = new CompressedSerializer(new JSONSerializer(), { format: 'brotli' })
 * const r = new LocalResult({ dir: 'results', serializer })   // files named <id>.brotli
 * ```
 */
export class CompressedSerializer<T = unknown> implements Serializer<T> {
  /** The compression's name, as written in the header. */
  readonly format: Compression
  readonly #inner: Serializer<T>
  readonly #frame: PayloadFrame

  constructor(inner: Serializer<T>, options: { format?: Compression } = {}) {
    if (typeof inner?.serialize !== 'function' || typeof inner.deserialize !== 'function') {
      throw new InvalidArgumentError(`CompressedSerializer wraps a Serializer, found ${describeType(inner)}`)
    }
    assertKnownOptions('CompressedSerializer', options, ['format'])
    const format = options.format ?? 'gzip'
    if (!Object.hasOwn(codecs, format)) {
      throw new InvalidArgumentError(`CompressedSerializer format must be gzip, brotli or deflate, found ${JSON.stringify(format)}`)
    }
    this.format = format
    this.#inner = inner
    this.#frame = new PayloadFrame(format)
  }

  serialize(value: T): Uint8Array {
    return this.#frame.wrap(codecs[this.format].compress(this.#inner.serialize(value)))
  }

  deserialize(bytes: Uint8Array): T {
    const body = this.#frame.unwrap(bytes)
    let inner: Uint8Array
    try {
      inner = codecs[this.format].decompress(body)
    } catch {
      throw new PayloadFormatError(`expected a ${this.format} body, found one that does not decompress (corrupt or truncated)`)
    }
    return this.#inner.deserialize(inner)
  }
}
