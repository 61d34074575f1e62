import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import type { DestinationStream } from 'pino'
import { workerEntry } from '../internal/worker-entry.js'
import { scrubberSetup, type Scrubber } from '../scrub/scrubber.js'

/**
 * The `process.emitWarning` code when the scrubbing thread fails: its
 * records, and every later one, are withheld from local output (counted,
 * never written raw).
 *
 * @example
 * ```ts
 * process.on('warning', (w) => { if ((w as { code?: string }).code === SCRUB_THREAD_FAILED_WARNING) page(w.message) })
 * ```
 */
export const SCRUB_THREAD_FAILED_WARNING = 'AIRLOCK_LOG_SCRUB_THREAD_FAILED'

/**
 * Counts of a logger's local output: lines written scrubbed, and lines
 * withheld because the scrubbing thread failed or stalled.
 *
 * @example
 * ```ts
 * const { written, withheld }: LocalOutputStats = localOutputStats(airlock.logger)!
 * ```
 */
export interface LocalOutputStats {
  readonly written: number
  readonly withheld: number
}

/** Where scrubbed lines go: a file path or descriptor the thread writes itself, or a stream of this thread. */
export type ScrubDestination = { readonly path: string | number } | { readonly stream: DestinationStream }

const DONE = 0
const FATAL = 1
// A batch goes to the thread when it holds this many lines, or at the next turn of the event loop.
const BATCH_LINES = 512
// Lines on their way before the calling thread waits (backpressure) for the scrubbing thread.
const MAX_PENDING_LINES = 64 * 1024
// How long the calling thread waits for a thread that makes no progress before it gives up on it.
const STALL_MS = 10_000

const threads = new Set<WeakRef<ScrubThread>>()
let exitHook = false

/**
 * The scrubbing thread of a logger's local output, as pino's transports
 * run theirs: the calling thread only hands each line over (pino has
 * already serialized it) and a worker thread scrubs it value by value
 * (`LineScrubber`) and writes it.
 *
 * The hand-off is an array push; lines go over in batches (every 512
 * lines, or at the next turn of the event loop), each batch one
 * `postMessage` of strings. Order is kept: one thread, one port, lines in
 * the order logged, and newly registered secrets travel on the same port
 * before the next line, so a secret registered before a log call is masked
 * in that record.
 *
 * Fail closed:
 * - raw lines go to the scrubbing thread and nowhere else;
 * - if the thread dies, what it had not finished and every later line is
 *   withheld: counted ({@link ScrubThread.stats}) and reported once as a
 *   process warning, never written unscrubbed;
 * - if it falls behind by more than 65,536 lines, the logging call waits
 *   (backpressure); a thread that makes no progress for 10 s is given up
 *   on, as if it had died.
 *
 * `flush` resolves once every line handed over so far is written (by the
 * thread for a path or descriptor; by this thread, in order, for a stream
 * of its own). At process exit, lines not yet written are written
 * synchronously (for a path or descriptor) within the stall bound.
 *
 * @example
 * ```ts
 * const thread = new ScrubThread(scrubber, policy.logs.redactPaths, { path: 1 })
 * thread.write(line, prefix, bindings, 30)
 * thread.flush(() => console.log('written'))
 * ```
 */
export class ScrubThread {
  readonly #scrubber: Scrubber
  readonly #worker: Worker
  readonly #back: MessagePort
  readonly #state: Int32Array
  readonly #stream: DestinationStream | undefined
  #lines: string[] = []
  #layout: number[] = []
  #levels: number[] = []
  #scheduled = false
  #secrets: number
  #posted = 0
  #written = 0
  #withheld = 0
  #dead = false
  #ended = false
  #flushId = 0
  readonly #flushes = new Map<number, () => void>()
  readonly #self = new WeakRef(this)

  constructor(scrubber: Scrubber, redactPaths: readonly string[], destination: ScrubDestination) {
    this.#scrubber = scrubber
    const setup = scrubberSetup(scrubber, 0)
    this.#secrets = setup.secrets.length
    this.#stream = 'stream' in destination ? destination.stream : undefined
    const channel = new MessageChannel()
    this.#back = channel.port1
    this.#state = new Int32Array(new SharedArrayBuffer(8))
    const entry = workerEntry(import.meta.url, 'scrub-worker')
    this.#worker = new Worker(entry.source, {
      eval: entry.eval,
      workerData: {
        setup,
        redactPaths,
        dest: 'path' in destination ? destination.path : undefined,
        back: channel.port2,
        state: this.#state,
      },
      transferList: [channel.port2],
      // The thread's own output (a crash message) must not go through this process's streams raw.
      stdout: true,
      stderr: true,
    })
    this.#worker.unref()
    this.#back.unref()
    this.#worker.on('error', this.#onDeath)
    this.#worker.on('exit', this.#onDeath)
    this.#back.on('message', this.#onBack)
    threads.add(this.#self)
    if (!exitHook) {
      exitHook = true
      process.once('exit', flushAllAtExit)
    }
  }

  /** Lines written scrubbed, and lines withheld. */
  get stats(): LocalOutputStats {
    return { written: this.#stream === undefined ? Atomics.load(this.#state, DONE) : this.#written, withheld: this.#withheld }
  }

  /**
   * Hands one line over: `prefix` characters of pino's level and time, then
   * `bindings` characters of the logger's bindings, then fields and message.
   */
  write(line: string, prefix: number, bindings: number, level: number): void {
    if (this.#dead || this.#ended) {
      this.#withheld++
      return
    }
    if (this.#scrubber.size !== this.#secrets) this.#sendSecrets()
    this.#lines.push(line)
    this.#layout.push(prefix, bindings)
    this.#levels.push(level)
    if (this.#lines.length >= BATCH_LINES) this.#post()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#onTurn)
    }
    if (this.#posted - this.#finished() > MAX_PENDING_LINES) this.#waitFor(this.#posted - MAX_PENDING_LINES / 2)
  }

  /** Calls `callback` once every line handed over so far is written (or withheld). */
  flush(callback: (err?: Error) => void): void {
    this.#post()
    if (this.#dead || this.#posted === this.#finished()) {
      this.#flushStream(callback)
      return
    }
    const id = ++this.#flushId
    this.#flushes.set(id, () => this.#flushStream(callback))
    this.#worker.ref()
    this.#worker.postMessage({ flush: id })
  }

  /** Writes what is pending now, waiting for the thread (at most the stall bound). */
  flushSync(): void {
    this.#post()
    this.#waitFor(this.#posted)
  }

  /**
   * Stops the thread at once, as a crash would: what it had not written,
   * and every later line, is withheld and counted. For tests of the fail
   * closed path, and for an operator who wants local output stopped now.
   *
   * @example
   * ```ts
   * await thread.kill()
   * thread.stats.withheld // lines handed over and never written
   * ```
   */
  async kill(): Promise<void> {
    this.#die()
    await this.#worker.terminate()
  }

  /** Flushes, then stops the thread; later lines are withheld and counted. */
  end(callback?: (err?: Error) => void): void {
    this.flush(() => {
      this.#ended = true
      threads.delete(this.#self)
      void this.#worker.terminate().then(() => callback?.())
    })
  }

  readonly #onTurn = (): void => {
    this.#scheduled = false
    this.#post()
  }

  #post(): void {
    if (this.#lines.length === 0 || this.#dead) return
    const lines = this.#lines
    this.#worker.postMessage({ lines, layout: this.#layout, levels: this.#levels })
    this.#posted += lines.length
    this.#lines = []
    this.#layout = []
    this.#levels = []
  }

  #sendSecrets(): void {
    // Lines before the registration go first: they are scrubbed as they would have been then.
    this.#post()
    const { secrets } = scrubberSetup(this.#scrubber, this.#secrets)
    this.#secrets += secrets.length
    this.#worker.postMessage({ secrets })
  }

  // Lines finished: written by the thread, or handed back and written here.
  #finished(): number {
    return this.#stream === undefined ? Atomics.load(this.#state, DONE) : this.#written
  }

  // Blocks the calling thread until `target` lines are finished, the thread dies, or it stalls.
  #waitFor(target: number): void {
    let progress = this.#finished()
    let since = Date.now()
    while (!this.#dead && this.#finished() < target) {
      if (this.#stream !== undefined) this.#drainBack()
      if (Atomics.load(this.#state, FATAL) === 1) {
        this.#die()
        return
      }
      Atomics.wait(this.#state, DONE, Atomics.load(this.#state, DONE), 50)
      const now = this.#finished()
      if (now !== progress) {
        progress = now
        since = Date.now()
      } else if (Date.now() - since > STALL_MS) {
        this.#die()
        return
      }
    }
  }

  #drainBack(): void {
    for (let message = receiveMessageOnPort(this.#back); message !== undefined; message = receiveMessageOnPort(this.#back)) {
      this.#onBack(message.message as BackMessage)
    }
  }

  readonly #onBack = (message: BackMessage): void => {
    if ('flushed' in message) {
      const done = this.#flushes.get(message.flushed)
      this.#flushes.delete(message.flushed)
      if (this.#flushes.size === 0) this.#worker.unref()
      done?.()
      return
    }
    const stream = this.#stream!
    const wantsMetadata = (stream as unknown as { [key: symbol]: unknown })[NEEDS_METADATA] === true
    for (let i = 0; i < message.lines.length; i++) {
      if (wantsMetadata) (stream as unknown as { lastLevel: number }).lastLevel = message.levels[i]!
      stream.write(message.lines[i]!)
      this.#written++
    }
  }

  #flushStream(callback: (err?: Error) => void): void {
    if (this.#stream === undefined) {
      callback()
      return
    }
    const flush = (this.#stream as { flush?: (cb: (err?: Error) => void) => void }).flush
    if (typeof flush === 'function') flush.call(this.#stream, callback)
    else callback()
  }

  readonly #onDeath = (): void => {
    if (this.#ended) return
    this.#die()
  }

  #die(): void {
    if (this.#dead) return
    this.#dead = true
    threads.delete(this.#self)
    const finished = this.#stream === undefined ? Atomics.load(this.#state, DONE) : this.#written
    this.#withheld += this.#posted - finished + this.#lines.length
    this.#lines = []
    this.#layout = []
    this.#levels = []
    void this.#worker.terminate()
    process.emitWarning(
      `airlock: the logger's scrubbing thread failed; ${this.#withheld} local log lines were withheld, and later ones will be (never written unscrubbed)`,
      { code: SCRUB_THREAD_FAILED_WARNING },
    )
    for (const done of this.#flushes.values()) done()
    this.#flushes.clear()
  }
}

type BackMessage = { readonly flushed: number } | { readonly lines: readonly string[]; readonly levels: readonly number[] }

const NEEDS_METADATA = Symbol.for('pino.metadata')

function flushAllAtExit(): void {
  for (const ref of threads) ref.deref()?.flushSync()
}
