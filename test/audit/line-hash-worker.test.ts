import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/internal/canonical-json.js'
import { GENESIS_HASH, hashCutOf, sha256Hex } from '../../src/audit/ledger-entry.js'
import { LineHashWorker } from '../../src/audit/line-hash-worker.js'

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

/** Lines the two copies of `hashCutOf` must agree on: intact, edited, truncated, and not ledger lines at all. */
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

async function workerCuts(input: string[]): Promise<number[] | undefined> {
  const bytes = Buffer.from(input.map((line) => `${line}\n`).join(''))
  const shared = new SharedArrayBuffer(bytes.length)
  bytes.copy(Buffer.from(shared))
  const hasher = LineHashWorker.start()
  try {
    const cuts = await hasher.check(shared, bytes.length)
    return cuts === undefined ? undefined : Array.from(cuts)
  } finally {
    await hasher.close()
  }
}

describe('LineHashWorker', () => {
  it('finds what hashCutOf finds, line by line', async () => {
    const expected = lines.map((line) => hashCutOf(Buffer.from(line)))
    expect(expected.filter((cut) => cut >= 0)).toHaveLength(3)
    expect(await workerCuts(lines)).toEqual(expected)
  })

  it('answers undefined once closed, so the caller hashes itself', async () => {
    const hasher = LineHashWorker.start()
    await hasher.close()
    expect(await hasher.check(new SharedArrayBuffer(8), 8)).toBeUndefined()
  })
})
