import { InvalidArgumentError, PayloadFormatError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'

/**
 * The four magic bytes that open every airlock payload: ASCII `ALKS`.
 *
 * @example
 * ```ts
 * const isAirlockPayload = PAYLOAD_MAGIC.every((b, i) => bytes[i] === b)
 * ```
 */
export const PAYLOAD_MAGIC = Uint8Array.of(0x41, 0x4c, 0x4b, 0x53)

/**
 * The payload header version {@link PayloadFrame} writes and accepts.
 *
 * @example
 * ```ts
 * bytes[4] === PAYLOAD_HEADER_VERSION // true for a payload this version wrote
 * ```
 */
export const PAYLOAD_HEADER_VERSION = 1

const FORMAT_NAME = /^[a-z0-9][a-z0-9.+-]{0,63}$/
const PREFIX_BYTES = PAYLOAD_MAGIC.length + 2

/**
 * The payload header of one format. Every {@link Serializer} frames its body
 * with it. Built once per serializer, so framing is one copy and checking is
 * a byte comparison.
 *
 * Wire format, header version 1:
 *
 * ```
 * offset  size  field
 * 0       4     magic: the ASCII bytes "ALKS"
 * 4       1     header version: 0x01
 * 5       1     N: the length of the format name, 1-64
 * 6       N     the format name in ASCII, [a-z0-9][a-z0-9.+-]*: "json", "v8", "gzip", ...
 * 6+N     ...   the body, as the named format defines it
 * ```
 *
 * A reader accepts exactly its own format name; anything else is a
 * `PayloadFormatError` naming what was expected and what was found.
 *
 * @example
 * ```ts
 * const frame = new PayloadFrame('csv')
 * const bytes = frame.wrap(new TextEncoder().encode('a,b\n1,2\n'))
 * frame.unwrap(bytes)                    // the body, as a view
 * new PayloadFrame('json').unwrap(bytes) // throws ERR_PAYLOAD_FORMAT: expected json, found csv
 * ```
 */
export class PayloadFrame {
  /** The format name this frame writes and accepts. */
  readonly format: string
  readonly #header: Uint8Array

  constructor(format: string) {
    if (typeof format !== 'string' || !FORMAT_NAME.test(format)) {
      throw new InvalidArgumentError(
        'a payload format name is 1-64 characters of [a-z0-9.+-] starting with a letter or digit',
      )
    }
    this.format = format
    const header = new Uint8Array(PREFIX_BYTES + format.length)
    header.set(PAYLOAD_MAGIC, 0)
    header[4] = PAYLOAD_HEADER_VERSION
    header[5] = format.length
    for (let i = 0; i < format.length; i++) header[PREFIX_BYTES + i] = format.charCodeAt(i)
    this.#header = header
  }

  /**
   * The header followed by `body`.
   *
   * @example
   * ```ts
   * frame.wrap(body).length === frame.wrap(new Uint8Array()).length + body.length // true
   * ```
   */
  wrap(body: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.#header.length + body.length)
    out.set(this.#header, 0)
    out.set(body, this.#header.length)
    return out
  }

  /**
   * The body of a payload in this format: a view into `bytes`, not a copy.
   *
   * @throws {PayloadFormatError} when the header is missing, truncated, of another version or names another format.
   *
   * @example
   * ```ts
   * const body = frame.unwrap(await readFile(path))
   * ```
   */
  unwrap(bytes: Uint8Array): Uint8Array {
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidArgumentError(`a ${this.format} payload is read from a Uint8Array, found ${describeType(bytes)}`)
    }
    if (bytes.length < PREFIX_BYTES || !startsWith(bytes, PAYLOAD_MAGIC)) {
      throw new PayloadFormatError(`expected a ${this.format} payload opening with the airlock header ALKS, found bytes without it`)
    }
    if (bytes[4] !== PAYLOAD_HEADER_VERSION) {
      throw new PayloadFormatError(`expected payload header version ${PAYLOAD_HEADER_VERSION}, found version ${bytes[4]}`)
    }
    const nameLength = bytes[5] ?? 0
    if (bytes.length < PREFIX_BYTES + nameLength) {
      throw new PayloadFormatError(`expected a ${this.format} payload, found a truncated header`)
    }
    if (!startsWith(bytes, this.#header)) {
      const found = String.fromCharCode(...bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + nameLength))
      // A foreign header is untrusted: name its format only when it looks like one.
      const what = FORMAT_NAME.test(found) ? `a ${found} payload${readBy(found)}` : 'an unreadable format name'
      throw new PayloadFormatError(`expected a ${this.format} payload, found ${what}`)
    }
    return bytes.subarray(this.#header.length)
  }
}

// The built-in serializer that reads a format, for the message of a reader that cannot.
const READERS: Readonly<Record<string, string>> = {
  json: 'JSONSerializer',
  v8: 'StructuredSerializer',
  datetime: 'DateTimeSerializer',
  gzip: 'CompressedSerializer',
  brotli: 'CompressedSerializer',
  deflate: 'CompressedSerializer',
}

function readBy(format: string): string {
  const reader = Object.hasOwn(READERS, format) ? READERS[format] : undefined
  return reader === undefined ? '' : ` (written by ${reader}: read it with one)`
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
  return true
}
