import { deserialize, serialize } from 'node:v8'
import { PayloadFormatError, SerializationError } from '../errors.js'
import { PayloadFrame } from './payload-frame.js'
import type { Serializer } from './serializer.js'

const frame = new PayloadFrame('v8')

/**
 * The V8 structured-clone format through `node:v8`: JavaScript's counterpart
 * of Python's pickle. It carries what JSON cannot without tags: Dates, Maps,
 * Sets, BigInts, typed arrays, Buffers, ArrayBuffers, RegExps, Errors,
 * shared references and cycles.
 *
 * Wire format: the payload header (format name `v8`, see `PayloadFrame`),
 * then the bytes of `v8.serialize`, which carry V8's own format version.
 * Functions and symbols are refused with a `SerializationError`. Instances
 * of your own classes come back as plain objects: the format keeps data,
 * never prototypes or code.
 *
 * **Security.** Deserialize only what you wrote yourself. As with pickle,
 * reading V8 data from an untrusted source is unsafe: the deserializer is a
 * large native parser that has had memory-safety bugs, can be made to
 * allocate without bound, and the bytes are not tied to any one Node.js
 * version. Data from another party belongs in `JSONSerializer`.
 *
 * @example
 * ```ts
 * import { LocalResult, StructuredSerializer } from 'airlock-sdk'
 *
 * const r = new LocalResult({ dir: 'results', serializer: new StructuredSerializer() })
 * const written = await r.write(new Map([['pixels', new Uint8Array([1, 2, 3])]]))
 * ```
 */
export class StructuredSerializer<T = unknown> implements Serializer<T> {
  readonly format = frame.format

  serialize(value: T): Uint8Array {
    let body: Uint8Array
    try {
      body = serialize(value)
    } catch {
      // V8's message quotes the offending value (a function's source text): leave it out.
      throw new SerializationError(
        'StructuredSerializer cannot encode the value: it holds a function, a symbol or another value V8 cannot clone; ' +
          'JSONSerializer (the default) stores the data of class instances and names the path of what no serializer stores',
      )
    }
    return frame.wrap(body)
  }

  deserialize(bytes: Uint8Array): T {
    const body = frame.unwrap(bytes)
    try {
      return deserialize(body) as T
    } catch {
      throw new PayloadFormatError('expected a v8 body written by v8.serialize, found bytes it cannot read')
    }
  }
}
