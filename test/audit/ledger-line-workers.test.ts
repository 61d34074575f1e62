import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/internal/canonical-json.js'
import { GENESIS_HASH, checkLedgerLine, sha256Hex, type LedgerEntry } from '../../src/audit/ledger-entry.js'
import { hashCutOf } from '../../src/audit/ledger-line-bytes.js'
import { LedgerLineWorkers, type ChunkSummary, type LineWork } from '../../src/audit/ledger-line-workers.js'
import { MerkleRange, ledgerLeafHash } from '../../src/audit/merkle-tree.js'

function written(body: Record<string, unknown>): string {
  return canonicalJson({ ...body, hash: sha256Hex(canonicalJson(body)) })
}

const common = { v: 1, seq: 1, time: '2026-11-21T09:00:00.000Z', prev: GENESIS_HASH }
const event = written({
  ...common, kind: 'event', channel: 'logs', eventId: 'e1', policyHash: 'p1', transforms: [], status: 'sent',
  event: { hash: 'cd'.repeat(32), kind: 'log', msg: 'héllo ✓' },
})
const checkpoint = written({ ...common, kind: 'checkpoint', jws: 'a.b.c' })
const delivery = written({ ...common, kind: 'delivery', eventIds: ['e1'], status: 'sent' })

/** Lines the two threads must agree on: intact, edited, truncated, and not ledger lines at all. */
const lines: string[] = [
  event,
  checkpoint,
  delivery,
  event.replace('"msg":"h', '"msg":"H'),
  checkpoint.replace('"jws":"a', '"jws":"b'),
  delivery.replace('"kind":', '"kind": '),
  event.slice(0, event.indexOf(',"hash":"') + 40),
  checkpoint.slice(0, 30),
  '{"hash":"',
  ',"hash":"',
  '',
  'garbage',
  '\u0000\u0001',
]

/** A chain of `count` intact entries from `seq`, linked from `prev`: events, with a delivery and a checkpoint among them. */
function chain(count: number, seq = 1, prev = GENESIS_HASH, versionOf = (_seq: number) => 1): string[] {
  const out: string[] = []
  for (let i = 0; i < count; i++, seq++) {
    const v = versionOf(seq)
    const base = { v, seq, time: '2026-11-21T09:00:00.000Z', prev }
    const body =
      seq % 7 === 0 && v === 1
        ? { ...base, kind: 'checkpoint', jws: `h.p${seq}.s` }
        : seq % 5 === 0
          ? { ...base, kind: 'delivery', eventIds: [`e${seq - 1}`], status: 'sent' }
          : { ...base, kind: 'event', channel: 'logs', eventId: `e${seq}`, policyHash: 'p1', transforms: [], status: 'sent', event: { kind: 'log', msg: `row ${seq}`, hash: sha256Hex(String(seq)) } }
    const line = written(body)
    prev = (JSON.parse(line) as { hash: string }).hash
    out.push(line)
  }
  return out
}

let workers: LedgerLineWorkers

async function ask(input: string[], check: LineWork['check'], rootsAt?: number[]): Promise<ChunkSummary | Int32Array | null | undefined> {
  const bytes = Buffer.from(input.map((line) => `${line}\n`).join(''))
  const shared = new SharedArrayBuffer(bytes.length)
  bytes.copy(Buffer.from(shared))
  return workers.check({ shared, length: bytes.length, check, rootsAt })
}

/** A tree of `size` leaves of its own, to grow from: leaves of the entries before a chunk are not at hand in a test. */
function rangeOf(size: number): MerkleRange {
  const range = new MerkleRange()
  for (let i = 0; i < size; i++) range.push(ledgerLeafHash(sha256Hex(`leaf ${i}`)))
  return range
}

describe('LedgerLineWorkers', () => {
  beforeAll(() => {
    workers = LedgerLineWorkers.start()
  })
  afterAll(() => workers.close())

  it('finds what hashCutOf finds, line by line', async () => {
    const expected = lines.map((line) => hashCutOf(Buffer.from(line)))
    expect(expected.filter((cut) => cut >= 0)).toHaveLength(3)
    expect(Array.from((await ask(lines, 'cuts')) as Int32Array)).toEqual(expected)
  })

  it.each(['parse', 'link'] as const)('summarizes a chunk of intact, linked lines as checking each one here does (%s)', async (check) => {
    const input = chain(40, 11, 'ab'.repeat(32))
    const entries = input.map((line) => checkLedgerLine(Buffer.from(line)) as LedgerEntry)
    // Sizes 23 and 30 are asked for (entries of seq 24 and 31 follow them); 9 and 60 lie outside the chunk.
    const summary = (await ask(input, check, [9, 23, 30, 60])) as ChunkSummary
    expect(summary).toMatchObject({
      count: 40, firstSeq: 11, firstPrev: 'ab'.repeat(32), firstHash: entries[0]!.hash, lastHash: entries.at(-1)!.hash, firstV: 1, lastV: 1,
    })
    // Growing a tree of the 10 entries before by the subtrees, stop by stop, gives the roots growing it leaf by leaf does.
    const byLeaf = rangeOf(10)
    const bySubtree = rangeOf(10)
    const rootsByLeaf = new Map<number, string>()
    for (const e of entries) {
      rootsByLeaf.set(byLeaf.size, byLeaf.root().toString('hex'))
      byLeaf.push(ledgerLeafHash(e.hash))
    }
    const bytes = Buffer.from(input.map((line) => `${line}\n`).join(''))
    const stops = Array.from(summary.stops)
    let grown = 0
    const growTo = (end: number): void => {
      for (; grown < end; grown++) bySubtree.pushSubtree(summary.heights[grown]!, Buffer.from(summary.subtrees.subarray(grown * 32, grown * 32 + 32)))
    }
    const seen: [number, string][] = []
    for (let at = 0; at < stops.length; at += 4) {
      const [index, start, end, before] = stops.slice(at, at + 4) as [number, number, number, number]
      growTo(before)
      expect(bySubtree.size).toBe(10 + index)
      expect(bySubtree.root().toString('hex')).toBe(rootsByLeaf.get(10 + index))
      seen.push([index, start < 0 ? 'root' : bytes.toString('utf8', start, end)])
    }
    growTo(summary.heights.length)
    expect(bySubtree.root()).toEqual(byLeaf.root())
    expect(summary.heights.length, 'subtrees, not a leaf each').toBeLessThan(entries.length)
    // Each checkpoint with its bytes, and each size asked for, in line order.
    const expected = entries.flatMap((e, i): [number, string][] =>
      e.kind === 'checkpoint' ? [[i, input[i]!]] : 10 + i === 23 || 10 + i === 30 ? [[i, 'root']] : [],
    )
    expect(seen).toEqual(expected)
  })

  it('gives no summary when any line is not intact or does not follow the one before it', async () => {
    const input = chain(30)
    const damaged: [string, (l: string[]) => void][] = [
      ['an edited value', (l) => (l[12] = l[12]!.replace('"msg":"row', '"msg":"Row'))],
      ['a deleted line', (l) => l.splice(17, 1)],
      ['two swapped lines', (l) => ([l[3], l[4]] = [l[4]!, l[3]!])],
      ['a line from another chain', (l) => (l[20] = chain(1, 21)[0]!)],
      ['a version that goes back', (l) => l.splice(0, l.length, ...chain(30, 1, GENESIS_HASH, (seq) => (seq <= 10 ? 2 : 1)))],
      ['garbage', (l) => (l[29] = 'garbage')],
    ]
    for (const check of ['parse', 'link'] as const) {
      expect(await ask(chain(30, 1, GENESIS_HASH, (seq) => (seq <= 10 ? 1 : 2)), check), 'v1 then v2 is the way forward').toMatchObject({ count: 30, firstV: 1, lastV: 2 })
      for (const [what, damage] of damaged) {
        const lines = [...input]
        damage(lines)
        expect({ what, check, summary: await ask(lines, check) }).toEqual({ what, check, summary: null })
      }
    }
  })

  it('gives each chunk to the first thread free, so a slow chunk holds up no other thread', async () => {
    expect(workers.size, 'this test needs two threads').toBeGreaterThanOrEqual(2)
    const slow = chain(20_000)
    const answered: string[] = []
    const asked = [ask(slow, 'parse').then((s) => answered.push(`slow ${(s as ChunkSummary).count}`))]
    // With chunks dealt in turns, every other one of these would wait behind the slow one.
    for (let i = 1; i <= 4; i++) asked.push(ask(chain(3), 'parse').then((s) => answered.push(`quick ${i}: ${(s as ChunkSummary).count}`)))
    await Promise.all(asked)
    expect(answered).toEqual(['quick 1: 3', 'quick 2: 3', 'quick 3: 3', 'quick 4: 3', 'slow 20000'])
  }, 60_000)

  it('answers undefined once closed, so the caller checks the chunk itself', async () => {
    const closed = LedgerLineWorkers.start()
    await closed.close()
    expect(await closed.check({ shared: new SharedArrayBuffer(8), length: 8, check: 'parse' })).toBeUndefined()
  })

  it('holds the process open while a borrowed thread owes an answer, though its threads never do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-line-workers-'))
    try {
      const root = fileURLToPath(new URL('../..', import.meta.url))
      const script = join(dir, 'borrow.mjs')
      // Nothing but the awaited answer keeps this process alive: if the unref'd thread did not hold it, it would end before printing.
      await writeFile(
        script,
        `const { LedgerLineWorkers } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/audit/ledger-line-workers.ts')).href)})
const line = Buffer.from(${JSON.stringify(`${chain(3).join('\n')}\n`)})
const shared = new SharedArrayBuffer(line.length)
line.copy(Buffer.from(shared))
const workers = LedgerLineWorkers.borrow()
const summary = await workers.check({ shared, length: line.length, check: 'parse' })
workers.giveBack()
process.stdout.write(JSON.stringify({ count: summary.count, lastV: summary.lastV }) + '\\n')
`,
      )
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      child.stdout.on('data', (chunk) => (out += String(chunk)))
      const [code] = await once(child, 'exit')
      expect({ code, out: out.trim() }).toEqual({ code: 0, out: JSON.stringify({ count: 3, lastV: 1 }) })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
