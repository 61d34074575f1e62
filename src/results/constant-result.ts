import { ResultReadOnlyError } from '../errors.js'
import { Result, type Carried } from './result.js'
import { unstored } from './unstored.js'

/**
 * A result that always holds the value it was made with: for task inputs
 * that are literals, so the runtime can treat every input as a result.
 * Read-only, and it has no location. `toJSON()` is `{ type: 'constant' }`:
 * the value never appears in it or in `util.inspect`.
 *
 * @example
 * ```ts
 * import { ConstantResult } from 'airlock-sdk'
 *
 * const r = new ConstantResult(42)
 * r.value                       // 42
 * (await r.read()).value        // 42
 * JSON.stringify(r)             // {"type":"constant"}
 * await r.write()              // throws ERR_RESULT_READ_ONLY
 * ```
 */
export class ConstantResult<T = unknown> extends Result<T> {
  readonly #value: T

  constructor(value: T) {
    super({})
    this.#value = value
  }

  get type(): 'constant' {
    return 'constant'
  }

  /** The value given at construction. */
  override get value(): T {
    return this.configured.#value
  }

  /** @throws {ResultReadOnlyError} always. */
  override write(): Promise<never> {
    return Promise.reject(new ResultReadOnlyError('ConstantResult is read-only: its value is fixed at construction'))
  }

  /** A new result carrying the value; there is no location to give. */
  override read(): Promise<this & Carried<T>> {
    return Promise.resolve(this.carry(this.configured.#value, undefined, undefined))
  }

  /** Always true: the value is always there. */
  override exists(): Promise<boolean> {
    return Promise.resolve(true)
  }

  /** @throws {ResultReadOnlyError} always: a constant has no location. */
  override format(): string {
    throw new ResultReadOnlyError('ConstantResult has no location')
  }

  protected writeBytes(): Promise<never> {
    return unstored('ConstantResult')
  }

  protected readBytes(): Promise<never> {
    return unstored('ConstantResult')
  }

  protected existsAt(): Promise<never> {
    return unstored('ConstantResult')
  }
}
