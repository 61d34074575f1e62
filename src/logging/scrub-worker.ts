/*
 * The logger's scrubbing thread (see ScrubThread, which starts it). It owns
 * a Scrubber built like the calling thread's (same `scrub` policy, keys and
 * registered secrets, kept in step by `secrets` messages that arrive in
 * order with the lines), scrubs each line value by value (LineScrubber), and
 * either writes it to the destination file or descriptor itself or hands
 * it back to the calling thread for a destination stream that lives there.
 *
 * Shared state (Int32Array over a SharedArrayBuffer):
 *   [DONE]  lines finished (written, or handed back), for flush and backpressure;
 *   [FATAL] 1 once this thread failed: the calling thread withholds from then on.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { pino } from 'pino'
import { scrubberFromSetup, type ScrubberSetup } from '../scrub/scrubber.js'
import { LineScrubber } from './local-scrub.js'

/** What the calling thread hands this thread when it starts it. */
interface ScrubWorkerData {
  readonly setup: ScrubberSetup
  readonly redactPaths: readonly string[]
  /** A path or descriptor this thread writes to; undefined: lines go back over `back`. */
  readonly dest: string | number | undefined
  readonly back: MessagePort
  readonly state: Int32Array
}

/** A batch of lines: `layout` holds two numbers per line (prefix, bindings); `levels` one. */
interface Batch {
  readonly lines: readonly string[]
  readonly layout: readonly number[]
  readonly levels: readonly number[]
}

const DONE = 0
const FATAL = 1

const data = workerData as ScrubWorkerData
const { state, back } = data
const port = parentPort!

function fail(): void {
  Atomics.store(state, FATAL, 1)
  Atomics.notify(state, DONE)
}
process.on('uncaughtException', () => {
  fail()
  process.exit(1)
})

const scrubber = scrubberFromSetup(data.setup)
const lines = new LineScrubber(scrubber, data.redactPaths)
const sink = data.dest === undefined ? undefined : pino.destination({ dest: data.dest, sync: true })

port.on('message', (message: Batch | { secrets: string[] } | { flush: number }) => {
  if ('secrets' in message) {
    for (const secret of message.secrets) scrubber.register(secret)
    return
  }
  if ('flush' in message) {
    sink?.flushSync()
    back.postMessage({ flushed: message.flush })
    return
  }
  const scrubbed = new Array<string>(message.lines.length)
  for (let i = 0; i < message.lines.length; i++) {
    scrubbed[i] = lines.scrub(message.lines[i]!, { prefix: message.layout[2 * i]!, bindings: message.layout[2 * i + 1]! })
  }
  if (sink === undefined) {
    back.postMessage({ lines: scrubbed, levels: message.levels })
  } else {
    sink.write(scrubbed.join(''))
  }
  Atomics.add(state, DONE, scrubbed.length)
  Atomics.notify(state, DONE)
})
