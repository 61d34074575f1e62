import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { workerEntry } from '../internal/worker-entry.js'

/**
 * What a line worker found in a chunk whose every line is intact and links
 * to the line before it: enough for the verifier's thread to link the chunk
 * to the chain and grow the Merkle tree without parsing a line but the
 * checkpoints, and without hashing a leaf. A chunk with any line that is not
 * intact, or that breaks the chain inside the chunk, gets no summary: the
 * verifier then checks it line by line itself, so the reason it gives is the
 * one it always gave.
 *
 * @example
 * ```ts
 * if (summary.firstSeq === expected && summary.firstPrev === head) head = summary.lastHash
 * ```
 */
export interface ChunkSummary {
  /** Number of lines. */
  readonly count: number
  readonly firstSeq: number
  readonly firstPrev: string
  readonly firstHash: string
  readonly lastHash: string
  /** Format versions of the first and last lines: none goes back in between. */
  readonly firstV: number
  readonly lastV: number
  /**
   * The lines' RFC 9162 leaves folded into perfect subtrees (`foldLeaves`,
   * leaf i being the entry of seq i + 1), broken at every stop: their roots,
   * 32 bytes each, in order.
   */
  readonly subtrees: Uint8Array
  /** Each subtree's height: 0 for a single leaf. */
  readonly heights: Uint8Array
  /**
   * Where the verifier stops before a line, in line order, as
   * `[index, start, end, subtreesBefore]` quadruples: each checkpoint, with
   * its bytes in the chunk (without `\n`), and each line before which the
   * tree reaches a size of {@link LineWork.rootsAt}, with `start` and `end`
   * -1. `subtreesBefore`: how many subtrees come before that line.
   */
  readonly stops: Int32Array
}

/**
 * A request to a line worker: the first `length` bytes of `shared` are whole
 * `\n`-terminated lines (the last may lack its `\n`).
 */
export interface LineWork {
  readonly shared: SharedArrayBuffer
  readonly length: number
  /**
   * `cuts`: answer `hashCutOf` of each line as an `Int32Array`. `parse`:
   * check every line as `checkLedgerLine` does and answer a
   * {@link ChunkSummary}, or `null` when a line fails. `link`: the same, but
   * link event and delivery lines from their bytes (`linkLedgerLine`), which
   * only a verification that a signature then vouches for may do.
   */
  readonly check: 'cuts' | 'parse' | 'link'
  /** Tree sizes whose roots the verifier needs: the summary's subtrees break there. */
  readonly rootsAt?: readonly number[] | undefined
}

/** At most this many line workers, however many cores: past it, reading the file is the limit. */
const MAX_WORKERS = 4

/** How long the shared threads wait for the next ledger before they stop: a fleet audit verifies many in a row. */
const IDLE_MS = 2_000

type Answer = ChunkSummary | Int32Array | null | undefined

/** A chunk waiting for a thread, with where its answer goes. */
interface Queued {
  readonly work: LineWork
  readonly answer: (answer: Answer) => void
}

/**
 * Threads that check a ledger's lines while the verifier's thread links
 * them: chunks (in shared memory, never copied) wait in one queue, and each
 * goes to the first thread that is free, so a thread the machine runs more
 * slowly holds up none of the others' chunks. The caller gets one promise a
 * chunk and takes the answers in the order it sent the chunks. One thread
 * per core, at most {@link MAX_WORKERS}.
 *
 * A worker that dies answers `undefined` for the chunk it held, and the
 * caller checks that chunk itself; the other threads take the rest, and once
 * none is left every chunk answers `undefined`: a worker's failure can cost
 * time, never a verdict.
 *
 * The verifier borrows one set of threads for the process
 * ({@link LedgerLineWorkers.borrow}), so verifying ledger after ledger starts
 * them once; they never keep the process alive, and stop once no ledger
 * has needed them for {@link IDLE_MS}.
 *
 * @example
 * ```ts
 * const workers = LedgerLineWorkers.borrow()
 * const summary = await workers.check({ shared, length, check: 'parse' })   // ChunkSummary, null or undefined
 * workers.giveBack()
 * ```
 */
export class LedgerLineWorkers {
  static #shared: LedgerLineWorkers | undefined
  readonly #threads: LineThread[]
  readonly #queue: Queued[] = []
  #borrowers = 0
  #idle: NodeJS.Timeout | undefined

  private constructor(count: number) {
    this.#threads = Array.from({ length: count }, () => new LineThread(() => this.#dispatch()))
  }

  /**
   * Starts one thread per core, at most {@link MAX_WORKERS}, for the caller alone: {@link close} stops them.
   *
   * @example
   * ```ts
   * const workers = LedgerLineWorkers.start()
   * ```
   */
  static start(): LedgerLineWorkers {
    return new LedgerLineWorkers(Math.min(MAX_WORKERS, Math.max(1, availableParallelism())))
  }

  /**
   * The process's shared threads, started when none are running (or one of
   * them died). Give them back with {@link giveBack} when done.
   *
   * @example
   * ```ts
   * const workers = LedgerLineWorkers.borrow()
   * try { await workers.check(work) } finally { workers.giveBack() }
   * ```
   */
  static borrow(): LedgerLineWorkers {
    let shared = LedgerLineWorkers.#shared
    if (shared === undefined || shared.#threads.some((thread) => thread.stopped)) {
      if (shared !== undefined && shared.#borrowers === 0) void shared.close()
      shared = LedgerLineWorkers.#shared = LedgerLineWorkers.start()
      for (const thread of shared.#threads) thread.unref()
    }
    clearTimeout(shared.#idle)
    shared.#borrowers++
    return shared
  }

  /**
   * Gives back threads from {@link borrow}; the last borrower's return starts the idle clock.
   *
   * @example
   * ```ts
   * workers.giveBack()
   * ```
   */
  giveBack(): void {
    if (--this.#borrowers > 0) return
    this.#idle = setTimeout(() => {
      if (LedgerLineWorkers.#shared === this) LedgerLineWorkers.#shared = undefined
      void this.close()
    }, IDLE_MS)
    this.#idle.unref()
  }

  /** How many threads check chunks: how many chunks are worth reading ahead. */
  get size(): number {
    return this.#threads.length
  }

  /**
   * The answer for one chunk (see {@link LineWork}), or `undefined` when no
   * thread could give one. `shared` must not change until the answer is in.
   *
   * @example
   * ```ts
   * const cuts = await workers.check({ shared, length, check: 'cuts' }) as Int32Array | undefined
   * ```
   */
  check(work: LineWork): Promise<Answer> {
    return new Promise((answer) => {
      this.#queue.push({ work, answer })
      this.#dispatch()
    })
  }

  /**
   * Stops the threads; pending checks answer `undefined`.
   *
   * @example
   * ```ts
   * await workers.close()
   * ```
   */
  async close(): Promise<void> {
    await Promise.all(this.#threads.map((thread) => thread.close()))
  }

  /** Hands queued chunks to free threads, oldest first; with no thread left, answers them all `undefined`. */
  #dispatch(): void {
    for (const thread of this.#threads) {
      if (this.#queue.length === 0) return
      if (thread.free) thread.take(this.#queue.shift()!)
    }
    if (this.#threads.every((thread) => thread.stopped)) for (const { answer } of this.#queue.splice(0)) answer(undefined)
  }
}

/** One worker thread, checking one chunk at a time. */
class LineThread {
  readonly #worker: Worker
  readonly #onFree: () => void
  #current: Queued | undefined
  #stopped = false
  #idleUnref = false

  /** `onFree`: called each time the thread finishes a chunk or stops, to hand it the next. */
  constructor(onFree: () => void) {
    this.#onFree = onFree
    const entry = workerEntry(import.meta.url, 'ledger-line-worker')
    this.#worker = new Worker(entry.source, { eval: entry.eval })
    this.#worker.on('message', (answer: Answer) => {
      const current = this.#current
      this.#current = undefined
      if (this.#idleUnref) this.#worker.unref()
      current?.answer(answer)
      this.#onFree()
    })
    this.#worker.on('error', () => this.#stop())
    this.#worker.on('exit', () => this.#stop())
  }

  get stopped(): boolean {
    return this.#stopped
  }

  /** Whether it can take a chunk now. */
  get free(): boolean {
    return !this.#stopped && this.#current === undefined
  }

  /**
   * Lets the process exit while the thread idles. A chunk it holds still
   * holds the process: an awaited answer is not a handle, and without the
   * thread's the process would end mid-verification.
   */
  unref(): void {
    this.#idleUnref = true
    if (this.#current === undefined) this.#worker.unref()
  }

  /** Starts on a chunk; only when {@link free}. */
  take(queued: Queued): void {
    this.#current = queued
    this.#worker.ref()
    this.#worker.postMessage(queued.work)
  }

  async close(): Promise<void> {
    this.#stop()
    await this.#worker.terminate()
  }

  #stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    const current = this.#current
    this.#current = undefined
    current?.answer(undefined)
    this.#onFree()
  }
}
