import { Worker } from 'node:worker_threads'
import { HASH_CUT_OF_SOURCE } from './ledger-entry.js'

// The worker runs this source, not a module file: a file would have to be
// found next to this one both as TypeScript (tests, tsx) and as built
// JavaScript. `hashCutOf` comes as the text of the real function, plus a loop
// over a chunk's lines.
const SOURCE = `
const { parentPort } = require('node:worker_threads')
${HASH_CUT_OF_SOURCE}

parentPort.on('message', ({ shared, length }) => {
  const bytes = Buffer.from(shared, 0, length)
  const cuts = []
  for (let start = 0; start < length; ) {
    let end = bytes.indexOf(0x0a, start)
    if (end === -1) end = length
    cuts.push(hashCutOf(bytes.subarray(start, end)))
    start = end + 1
  }
  const out = Int32Array.from(cuts)
  parentPort.postMessage(out, [out.buffer])
})
`

/**
 * A second thread that runs `hashCutOf` over every line of a chunk, so the
 * verifier's thread spends its time parsing while this one hashes. Chunks
 * live in shared memory, so nothing is copied; each answer is one `Int32`
 * per line. Answers come back in the order chunks were sent.
 *
 * If the thread dies, every pending and later {@link LineHashWorker.check}
 * answers `undefined`, and the caller hashes the lines itself: a worker's
 * failure can cost time, never a verdict.
 *
 * @example
 * ```ts
 * const hasher = LineHashWorker.start()
 * const cuts = await hasher.check(shared, length) // cuts[i] for line i, or undefined
 * await hasher.close()
 * ```
 */
export class LineHashWorker {
  readonly #worker: Worker
  readonly #waiting: ((cuts: Int32Array | undefined) => void)[] = []
  #stopped = false

  private constructor() {
    this.#worker = new Worker(SOURCE, { eval: true })
    this.#worker.on('message', (cuts: Int32Array) => this.#waiting.shift()?.(cuts))
    this.#worker.on('error', () => this.#stop())
    this.#worker.on('exit', () => this.#stop())
  }

  /**
   * Starts the thread.
   *
   * @example
   * ```ts
   * const hasher = LineHashWorker.start()
   * ```
   */
  static start(): LineHashWorker {
    return new LineHashWorker()
  }

  /**
   * For each `\n`-terminated line in the first `length` bytes of `shared`
   * (the last line may lack its `\n`), what `hashCutOf` says of it; or
   * `undefined` when the thread is gone. `shared` must not change until the
   * answer is in.
   *
   * @example
   * ```ts
   * const cuts = await hasher.check(shared, length)
   * ```
   */
  check(shared: SharedArrayBuffer, length: number): Promise<Int32Array | undefined> {
    if (this.#stopped) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      this.#waiting.push(resolve)
      this.#worker.postMessage({ shared, length })
    })
  }

  /**
   * Stops the thread; pending checks answer `undefined`.
   *
   * @example
   * ```ts
   * await hasher.close()
   * ```
   */
  async close(): Promise<void> {
    this.#stop()
    await this.#worker.terminate()
  }

  #stop(): void {
    this.#stopped = true
    for (const resolve of this.#waiting.splice(0)) resolve(undefined)
  }
}
