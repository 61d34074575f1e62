/*
 * The module a LedgerLineWorkers thread runs: it checks a chunk of ledger
 * lines with the very functions the verifier's thread uses (checkLedgerLine,
 * hashCutOf, ledgerLeafHash), so the two cannot disagree on what an intact
 * line is.
 */
import { parentPort } from 'node:worker_threads'
import { checkLedgerLine, hashCutOf } from './ledger-entry.js'
import type { ChunkSummary, LineWork } from './ledger-line-workers.js'
import { ledgerLeafHash } from './merkle-tree.js'

const NEWLINE = 0x0a
const LEAF_BYTES = 32

parentPort?.on('message', ({ shared, length, summarize }: LineWork) => {
  const bytes = Buffer.from(shared, 0, length)
  if (!summarize) {
    const cuts = Int32Array.from(lineCuts(bytes))
    parentPort!.postMessage(cuts, [cuts.buffer])
    return
  }
  const summary = summarizeChunk(bytes)
  parentPort!.postMessage(summary, summary === null ? [] : [summary.leaves.buffer as ArrayBuffer, summary.checkpoints.buffer as ArrayBuffer])
})

function lineCuts(bytes: Buffer): number[] {
  const cuts: number[] = []
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(NEWLINE, start)
    if (end === -1) end = bytes.length
    cuts.push(hashCutOf(bytes.subarray(start, end)))
    start = end + 1
  }
  return cuts
}

/** The chunk's summary, or null at the first line that is not intact or does not follow the line before it. */
function summarizeChunk(bytes: Buffer): ChunkSummary | null {
  let leaves = new Uint8Array(LEAF_BYTES * 1024)
  const checkpoints: number[] = []
  let count = 0
  let firstSeq = 0
  let firstPrev = ''
  let firstHash = ''
  let firstV = 0
  let seq = 0
  let v = 0
  let head: string | undefined
  for (let start = 0; start < bytes.length; count++) {
    let end = bytes.indexOf(NEWLINE, start)
    if (end === -1) end = bytes.length
    const line = bytes.subarray(start, end)
    const entry = checkLedgerLine(line, hashCutOf(line), head)
    if (typeof entry === 'string') return null
    if (count === 0) {
      firstSeq = entry.seq
      firstPrev = entry.prev
      firstHash = entry.hash
      firstV = entry.v
    } else if (entry.seq !== seq + 1 || entry.prev !== head || entry.v < v) return null
    if (entry.kind === 'checkpoint') checkpoints.push(count, start, end)
    if ((count + 1) * LEAF_BYTES > leaves.length) {
      const grown = new Uint8Array(leaves.length * 2)
      grown.set(leaves)
      leaves = grown
    }
    leaves.set(ledgerLeafHash(entry.hash), count * LEAF_BYTES)
    seq = entry.seq
    v = entry.v
    head = entry.hash
    start = end + 1
  }
  if (count === 0) return null
  return { count, firstSeq, firstPrev, firstHash, lastHash: head!, firstV, lastV: v, leaves: leaves.slice(0, count * LEAF_BYTES), checkpoints: Int32Array.from(checkpoints) }
}
