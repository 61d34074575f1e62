import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/internal/canonical-json.js'
import { GENESIS_HASH, checkLedgerLine, sha256Hex, type LedgerEntry } from '../../src/audit/ledger-entry.js'
import { hashCutOf, hexOf, linkLedgerLine, newLedgerLineLink, type LedgerLineLink } from '../../src/audit/ledger-line-bytes.js'
import { Ledger } from '../../src/audit/ledger.js'
import { generateLedgerSigningKey } from '../../src/audit/ledger-signing-key.js'

const TIME = '2026-11-21T09:00:00.000Z'
const PREV = 'ab'.repeat(32)

/** A line as the writer writes it: canonical JSON, `hash` over the canonical JSON of the rest. */
function written(body: Record<string, unknown>): string {
  return canonicalJson({ ...body, hash: sha256Hex(canonicalJson(body)) })
}

/** Links a line the way the worker does: inside a chunk, between other lines. */
function link(line: string | Buffer): LedgerLineLink | undefined {
  const bytes = Buffer.isBuffer(line) ? line : Buffer.from(line)
  const before = Buffer.from(`${written({ ...deliveryBody, seq: 1 })}\n`)
  const chunk = Buffer.concat([before, bytes, Buffer.from(`\n${written({ ...deliveryBody, seq: 3 })}\n`)])
  const unchanged = Buffer.from(chunk)
  const found = newLedgerLineLink()
  const linked = linkLedgerLine(chunk, before.length, before.length + bytes.length, found)
  expect(chunk.equals(unchanged), 'the chunk is only read').toBe(true)
  return linked ? { ...found, prevAt: found.prevAt - before.length } : undefined
}

/** What linking must read from a line the writer wrote: what parsing it reads. */
function expectLinkedAsParsed(line: string): void {
  const bytes = Buffer.from(line)
  const entry = checkLedgerLine(bytes) as LedgerEntry
  expect(typeof entry, 'the writer wrote it').toBe('object')
  const found = link(bytes)
  expect(found, line).toBeDefined()
  expect({
    hash: found!.hash.toString('hex'),
    prev: bytes.toString('latin1', found!.prevAt, found!.prevAt + 64),
    seq: found!.seq,
    v: found!.v,
  }).toEqual({ hash: entry.hash, prev: entry.prev, seq: entry.seq, v: entry.v })
}

const eventBody = {
  v: 2,
  kind: 'event',
  seq: 7,
  time: TIME,
  prev: PREV,
  channel: 'logs',
  eventId: 'e7',
  policyHash: 'ph1.4f9a',
  // Members the top level has too, nested: only the top-level ones are the line's.
  event: {
    kind: 'log',
    hash: 'cd'.repeat(32),
    prev: 'ef'.repeat(32),
    seq: 99,
    nested: { hash: 'cd'.repeat(32), kind: 'inner', v: 3, note: `,"hash":"${'cd'.repeat(32)}","kind":"x","prev":"${'ef'.repeat(32)}","seq":5,"v":1}` },
    list: [{ hash: 'x', kind: 'y' }],
  },
  transforms: [{ path: 'kind', rule: '"kind":"x', action: 'scrub' }],
  status: 'sent',
}
const deliveryBody = {
  v: 1, kind: 'delivery', seq: 8, time: TIME, prev: PREV, eventIds: ['e1', 'e2'], status: 'retrying', error: { code: 'http-503', status: 503 },
}
const checkpointBody = { v: 1, kind: 'checkpoint', seq: 9, time: TIME, prev: PREV, jws: 'eyJh.eyJm.c2ln' }

/** JSON values whose keys and strings are the ones a line's members are found by. */
const tricky = fc.constantFrom('hash', 'kind', 'prev', 'seq', 'v', ',"kind":"', '","kind":"', ',"hash":"', '\\', '"', '}', 'é✓', '\u2028', 'k')
const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(tricky, fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(tricky, fc.string({ maxLength: 6 })), tie('value'), { maxKeys: 4 }),
  ),
})).value

const writerLine = fc
  .record({
    event: fc.dictionary(fc.oneof(tricky, fc.string({ maxLength: 6 })), jsonValue, { maxKeys: 5 }),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    v: fc.constantFrom(1, 2),
    paths: fc.array(fc.oneof(tricky, fc.string({ maxLength: 12 })), { maxLength: 3 }),
    delivery: fc.boolean(),
    withError: fc.boolean(),
  })
  .map(({ event, seq, v, paths, delivery, withError }) => {
    const base = { v, seq, time: TIME, prev: sha256Hex(String(seq)), ...(withError ? { error: { code: 'ECONNRESET' } } : {}) }
    return written(
      delivery
        ? { ...base, kind: 'delivery', eventIds: ['e1'], status: 'failed' }
        : { ...base, kind: 'event', channel: 'logs', eventId: 'e1', policyHash: 'ph1.x', event: event, transforms: paths.map((path) => ({ path, rule: 'r', action: 'scrub' })), status: 'queued' },
    )
  })

describe('linkLedgerLine', () => {
  it('links every event and delivery line the writer writes, reading what parsing reads', () => {
    expectLinkedAsParsed(written(eventBody))
    expectLinkedAsParsed(written(deliveryBody))
    expectLinkedAsParsed(written({ ...eventBody, seq: Number.MAX_SAFE_INTEGER, prev: GENESIS_HASH, v: 1 }))
    fc.assert(fc.property(writerLine, (line) => expectLinkedAsParsed(line)), { numRuns: 300 })
  })

  it('links the lines a real Ledger writes, and leaves its checkpoints to be parsed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-line-bytes-'))
    try {
      const path = join(dir, 'ledger.ndjson')
      const ledger = await Ledger.open({ path, signingKey: (await generateLedgerSigningKey()).privateKey, checkpointEvery: 3 })
      for (let i = 0; i < 10; i++) {
        await ledger.append({ channel: 'logs', eventId: `e${i}`, policyHash: 'ph1.test', event: { kind: 'log', msg: `row ${i}`, hash: 'x' }, transforms: [], status: 'sent' })
      }
      await ledger.close()
      const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1)
      const checkpoints = lines.filter((line) => line.startsWith('{"hash":"'))
      expect(checkpoints.length).toBeGreaterThan(1)
      for (const line of checkpoints) expect(link(line)).toBeUndefined()
      for (const line of lines.filter((line) => !checkpoints.includes(line))) expectLinkedAsParsed(line)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('accepts the hash member at the place the writer put it, and at no other place in the line', () => {
    // The same content D with the member put back anywhere else hashes the same: only the place tells the lines apart.
    const check = (text: string): void => {
      const line = Buffer.from(text)
      const cut = hashCutOf(line)
      const member = line.subarray(cut, cut + 74)
      expect(member.toString('latin1')).toMatch(/^,"hash":"[0-9a-f]{64}"$/)
      const content = Buffer.concat([line.subarray(0, cut), line.subarray(cut + 74)])
      const accepted: number[] = []
      for (let at = 0; at <= content.length; at++) {
        if (link(Buffer.concat([content.subarray(0, at), member, content.subarray(at)])) !== undefined) accepted.push(at)
      }
      expect(accepted).toEqual([cut])
    }
    check(written(eventBody))
    check(written(deliveryBody))
    fc.assert(fc.property(writerLine, check), { numRuns: 40 })
  })

  it('refuses every one-byte change, insertion and deletion of a written line', () => {
    for (const body of [eventBody, deliveryBody]) {
      const line = Buffer.from(written(body))
      for (let at = 0; at <= line.length; at++) {
        const variants: Buffer[] = [Buffer.concat([line.subarray(0, at), Buffer.from(' '), line.subarray(at)])]
        if (at < line.length) {
          const changed = Buffer.from(line)
          changed[at] = changed[at] === 0x30 ? 0x31 : 0x30
          variants.push(changed, Buffer.concat([line.subarray(0, at), line.subarray(at + 1)]))
        }
        for (const variant of variants) {
          if (link(variant) !== undefined) throw new Error(`an edit at byte ${at} of a ${String(body.kind)} line went unnoticed`)
        }
      }
    }
  })

  it('reads a line the same wherever it sits in memory, shared or not, and refuses it changed there too', () => {
    for (const body of [eventBody, deliveryBody]) {
      const line = Buffer.from(written(body))
      const expected = link(line)!
      const changed = Buffer.from(line)
      changed[line.length - 20] = changed[line.length - 20]! ^ 1
      for (const memory of [new SharedArrayBuffer(line.length + 64), new ArrayBuffer(line.length + 64)]) {
        // A view that starts at an odd byte of its buffer, and the line at each offset of a word and then some.
        const view = Buffer.from(memory, 3, line.length + 40)
        for (let at = 0; at < 20; at++) {
          line.copy(view, at)
          const found = newLedgerLineLink()
          expect(linkLedgerLine(view, at, at + line.length, found), `at ${at}`).toBe(true)
          expect({ hash: found.hash.toString('hex'), prevAt: found.prevAt - at, seq: found.seq, v: found.v }).toEqual({ ...expected, hash: expected.hash.toString('hex') })
          expect(hashCutOf(view.subarray(at, at + line.length))).toBe(hashCutOf(line))
          changed.copy(view, at)
          expect(linkLedgerLine(view, at, at + line.length, newLedgerLineLink()), `changed, at ${at}`).toBe(false)
          expect(hashCutOf(view.subarray(at, at + line.length))).toBe(-1)
        }
      }
    }
  })

  it('refuses checkpoints, and lines that are not ledger lines', () => {
    for (const line of [written(checkpointBody), '', '{}', 'garbage', ',"kind":"', `,"hash":"${'a'.repeat(64)}","kind":"event","v":1}`]) {
      expect(link(line)).toBeUndefined()
    }
  })

  it('refuses a hash in any spelling but lowercase hex, and a line whose prev and seq only a later line holds', () => {
    for (const body of [eventBody, deliveryBody]) {
      const line = written(body)
      const hashOf = (text: string): string => (JSON.parse(text) as { hash: string }).hash
      const hash = hashOf(line)
      // The digest still matches the 32 bytes (the member is not hashed), but the line is not the writer's.
      expect(link(line.replace(hash, hash.toUpperCase()))).toBeUndefined()
      // One high digit upper-cased: a decoder that let through bytes other than lowercase hex would read `F` as `f` here.
      const withF = Array.from({ length: 200 }, (_, seq) => written({ ...body, seq: seq + 1 })).find((l) => /^(..)*f/.test(hashOf(l)))!
      const fHash = hashOf(withF)
      const at = fHash.search(/^(..)*f/) + (fHash.match(/^(..)*f/)![0].length - 1)
      expect(link(withF)).toBeDefined()
      expect(link(withF.replace(fHash, `${fHash.slice(0, at)}F${fHash.slice(at + 1)}`))).toBeUndefined()
      // Hashed right, without prev and seq: the chunk's next line has both, and they must not be read as this one's.
      const { prev: _prev, seq: _seq, ...rest } = body
      expect(link(written(rest))).toBeUndefined()
    }
  })
})

describe('hexOf', () => {
  it('is true exactly for the 64 lowercase hex digits of the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(63), fc.nat(3), (bytes, at, spelling) => {
        const hex = Buffer.from(bytes).toString('hex')
        const source = Buffer.from(`xx${hex}yy`)
        expect(hexOf(source, 2, bytes)).toBe(true)
        expect(hexOf(source, 1, bytes) && hexOf(source, 3, bytes)).toBe(false)
        expect(hexOf(source, source.length - 63, bytes)).toBe(false)
        const changed = Buffer.from(source)
        const digit = changed[2 + at]!
        // Another digit, the same digit upper-cased (when a letter), or a byte that is no digit at all.
        changed[2 + at] = [digit === 0x30 ? 0x31 : 0x30, digit >= 0x61 ? digit - 0x20 : 0x47, 0x20, 0x3a][spelling]!
        expect(hexOf(changed, 2, bytes)).toBe(false)
      }),
      { numRuns: 300 },
    )
  })
})
