/**
 * Turns a value into bytes for storage and back. Every airlock serializer
 * frames its body with the versioned payload header of {@link PayloadFrame}
 * (magic `ALKS`, a version byte, the format name), so a reader tells a
 * foreign, corrupted or differently-serialized payload from its own before it
 * parses a byte of body.
 *
 * Serializers are synchronous: node:zlib and node:v8 both offer sync APIs,
 * and a result is serialized once per write, off any hot path.
 *
 * @example
 * ```ts
 * import { JSONSerializer, type Serializer } from 'airlock-sdk'
 *
 * const serializer: Serializer = new JSONSerializer()
 * const bytes = serializer.serialize({ rows: 42 })   // "ALKS" 0x01 0x04 "json" {"rows":42}
 * serializer.deserialize(bytes)                       // { rows: 42 }
 * ```
 */
export interface Serializer<T = unknown> {
  /** The format name written into the payload header; also the default file extension. */
  readonly format: string
  /**
   * The framed bytes of a value.
   *
   * @throws {SerializationError} when the value cannot be encoded (`ERR_SERIALIZATION`).
   */
  serialize(value: T): Uint8Array
  /**
   * The value of framed bytes.
   *
   * @throws {PayloadFormatError} on a missing or foreign header, or a corrupt body (`ERR_PAYLOAD_FORMAT`).
   */
  deserialize(bytes: Uint8Array): T
}
