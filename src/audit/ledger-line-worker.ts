/*
 * The module a LedgerLineWorkers thread runs: it checks a chunk of ledger
 * lines with the very functions the verifier's thread uses (checkLedgerLine,
 * hashCutOf, linkLedgerLine, ledgerLeafHash, foldLeaves), so the two cannot
 * disagree on what an intact line is.
 */
import { parentPort } from 'node:worker_threads'
import { checkLedgerLine } from './ledger-entry.js'
import { HASH_HEX, hashCutOf, hexOf, linkLedgerLine, newLedgerLineLink, textAt } from './ledger-line-bytes.js'
import type { ChunkSummary, LineWork } from './ledger-line-workers.js'
import { foldLeaves, ledgerLeafHashInto } from './merkle-tree.js'

const NEWLINE = 0x0a
const LEAF_BYTES = 32
/** A stop that is not a checkpoint: the verifier wants the tree's root before that line. */
const ROOT_ONLY = -1

parentPort?.on('message', ({ shared, length, check, rootsAt }: LineWork) => {
  const bytes = Buffer.from(shared, 0, length)
  if (check === 'cuts') {
    const cuts = Int32Array.from(lineCuts(bytes))
    parentPort!.postMessage(cuts, [cuts.buffer])
    return
  }
  const summary = summarizeChunk(bytes, check === 'link', rootsAt)
  const transfer = summary === null ? [] : [summary.subtrees.buffer, summary.heights.buffer, summary.stops.buffer]
  parentPort!.postMessage(summary, transfer as ArrayBuffer[])
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

/** Two links, taking turns: the one last filled holds the hash the next line's `prev` must name. */
let link = newLedgerLineLink()
let spare = newLedgerLineLink()

/**
 * The chunk's summary, or null at the first line that is not intact or does
 * not follow the line before it. `byLink`: event and delivery lines are
 * linked from their bytes (`linkLedgerLine`), for a verification a signature
 * then vouches for; a line that does not link that way is parsed.
 */
function summarizeChunk(bytes: Buffer, byLink: boolean, rootsAt: readonly number[] | undefined): ChunkSummary | null {
  let leaves = Buffer.allocUnsafeSlow(LEAF_BYTES * 1024)
  const stops: number[] = []
  let count = 0
  let firstSeq = 0
  let firstPrev = ''
  let firstV = 0
  let seq = 0
  let v = 0
  // The hash the next line's `prev` must name: 32 bytes when its line was linked, hex when it was parsed.
  let head: Buffer | string = ''
  let firstHash = ''
  for (let start = 0; start < bytes.length; count++) {
    let end = bytes.indexOf(NEWLINE, start)
    if (end === -1) end = bytes.length
    let lineSeq: number
    let lineV: number
    if ((count + 1) * LEAF_BYTES > leaves.length) {
      const grown = Buffer.allocUnsafeSlow(leaves.length * 2)
      leaves.copy(grown)
      leaves = grown
    }
    if (byLink && linkLedgerLine(bytes, start, end, link)) {
      if (count === 0) firstPrev = bytes.toString('latin1', link.prevAt, link.prevAt + HASH_HEX)
      else if (typeof head === 'string' ? !textAt(bytes, link.prevAt, head) : !hexOf(bytes, link.prevAt, head)) return null
      lineSeq = link.seq
      lineV = link.v
      head = link.hash
      const filled = link
      link = spare
      spare = filled
    } else {
      const line = bytes.subarray(start, end)
      const headHex = typeof head === 'string' ? head : head.toString('hex')
      const entry = checkLedgerLine(line, hashCutOf(line), count > 0 ? headHex : undefined)
      if (typeof entry === 'string') return null
      if (count === 0) firstPrev = entry.prev
      else if (entry.prev !== headHex) return null
      if (entry.kind === 'checkpoint') stops.push(count, start, end)
      lineSeq = entry.seq
      lineV = entry.v
      head = entry.hash
    }
    ledgerLeafHashInto(typeof head === 'string' ? Buffer.from(head, 'hex') : head, leaves, count * LEAF_BYTES)
    if (count === 0) {
      firstSeq = lineSeq
      firstV = lineV
      firstHash = typeof head === 'string' ? head : head.toString('hex')
    } else if (lineSeq !== seq + 1 || lineV < v) return null
    seq = lineSeq
    v = lineV
    start = end + 1
  }
  if (count === 0) return null
  const lastHash = typeof head === 'string' ? head : head.toString('hex')
  for (const size of rootsAt ?? []) {
    const index = size - (firstSeq - 1)
    if (index > 0 && index < count && !stopsAt(stops, index)) stops.push(index, ROOT_ONLY, ROOT_ONLY)
  }
  return { count, firstSeq, firstPrev, firstHash, lastHash, firstV, lastV: v, ...fold(leaves, count, firstSeq - 1, stops) }
}

function stopsAt(stops: readonly number[], index: number): boolean {
  for (let i = 0; i < stops.length; i += 3) if (stops[i] === index) return true
  return false
}

/** The leaves as perfect subtrees, broken at every stop, with each stop's place among them. */
function fold(leaves: Buffer, count: number, firstLeaf: number, found: number[]): Pick<ChunkSummary, 'subtrees' | 'heights' | 'stops'> {
  const order = Array.from({ length: found.length / 3 }, (_, i) => i * 3).sort((a, b) => found[a]! - found[b]!)
  const roots: Buffer[] = []
  const heights: number[] = []
  const stops = new Int32Array(order.length * 4)
  let from = 0
  order.forEach((at, i) => {
    const index = found[at]!
    append(from, index)
    stops.set([index, found[at + 1]!, found[at + 2]!, roots.length], i * 4)
    from = index
  })
  append(from, count)
  // Not Buffer.concat: a small one comes from Buffer's shared pool, which must not be transferred.
  const subtrees = new Uint8Array(roots.length * LEAF_BYTES)
  roots.forEach((root, i) => subtrees.set(root, i * LEAF_BYTES))
  return { subtrees, heights: Uint8Array.from(heights), stops }

  function append(from: number, to: number): void {
    const folded = foldLeaves(leaves.subarray(from * LEAF_BYTES, to * LEAF_BYTES), firstLeaf + from)
    roots.push(...folded.roots)
    heights.push(...folded.heights)
  }
}
