import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/internal/canonical-json.js'
import { GENESIS_HASH, ledgerEntrySchema, parseLedgerLine, sha256Hex } from '../../src/audit/ledger-entry.js'
import { outboundEventSchema } from '../../src/boundary/events.js'

const TIME = '2026-11-21T09:00:00.000Z'
const PREV = 'ab'.repeat(32)

/** A line as the writer writes it: canonical JSON, `hash` over the canonical JSON of the rest. */
function written(body: Record<string, unknown>): string {
  return canonicalJson({ ...body, hash: sha256Hex(canonicalJson(body)) })
}

function hashOf(line: string): string {
  return (JSON.parse(line) as { hash: string }).hash
}

function parse(line: string): { ok: boolean; reason?: string } {
  const parsed = parseLedgerLine(Buffer.from(line))
  return parsed.ok ? { ok: true } : { ok: false, reason: parsed.reason }
}

const eventBody = {
  v: 1,
  kind: 'event',
  seq: 7,
  time: TIME,
  prev: PREV,
  channel: 'logs',
  eventId: 'e7',
  policyHash: 'sha256:4f9a',
  // Nested `hash` and `kind` keys, as a real event may carry: the line's own `hash` member is the top-level one.
  event: {
    kind: 'log',
    hash: 'cd'.repeat(32),
    nested: { hash: 'cd'.repeat(32), kind: 'inner', note: ',"hash":"' + 'cd'.repeat(32) + '","kind":"x' },
    list: [{ hash: 'x', kind: 'y' }],
  },
  transforms: [{ path: 'msg', rule: 'email', action: 'scrub' }],
  status: 'sent',
}
const deliveryBody = {
  v: 1, kind: 'delivery', seq: 8, time: TIME, prev: PREV, eventIds: ['e1', 'e2'], status: 'retrying', error: { code: 'http-503', status: 503 },
}
const checkpointBody = { v: 1, kind: 'checkpoint', seq: 9, time: TIME, prev: PREV, jws: 'eyJh.eyJm.c2ln' }

describe('parseLedgerLine', () => {
  it('accepts what the writer writes, of every kind, whatever `hash` and `kind` keys the event nests', () => {
    for (const body of [eventBody, deliveryBody, checkpointBody, { ...eventBody, prev: GENESIS_HASH, seq: 1 }]) {
      const line = written(body)
      const parsed = parseLedgerLine(Buffer.from(line))
      expect(parsed).toMatchObject({ ok: true, entry: { ...body, hash: hashOf(line) } })
    }
  })

  it('refuses every one-byte change, insertion and deletion of a written line', () => {
    for (const body of [eventBody, deliveryBody, checkpointBody]) {
      const line = Buffer.from(written(body))
      for (let at = 0; at <= line.length; at++) {
        const variants: Buffer[] = [Buffer.concat([line.subarray(0, at), Buffer.from(' '), line.subarray(at)])]
        if (at < line.length) {
          const changed = Buffer.from(line)
          changed[at] = changed[at] === 0x30 ? 0x31 : 0x30
          variants.push(changed, Buffer.concat([line.subarray(0, at), line.subarray(at + 1)]))
        }
        for (const variant of variants) {
          if (parseLedgerLine(variant).ok) throw new Error(`an edit at byte ${at} of a ${String(body.kind)} line went unnoticed`)
        }
      }
    }
  })

  it('refuses the hash member moved into the event, beside a nested `kind`', () => {
    const line = written(eventBody)
    const member = `,"hash":"${hashOf(line)}"`
    const without = line.replace(member, '')
    const moved = without.replace('"hash":"' + 'cd'.repeat(32) + '","kind":"log"', '"hash":"' + 'cd'.repeat(32) + `"${member},"kind":"log"`)
    expect(moved).not.toBe(without)
    expect(parse(moved)).toMatchObject({ ok: false, reason: expect.stringMatching(/entry schema/) })
  })

  it('refuses the hash member moved elsewhere at the top level: the value is the same, the bytes are not', () => {
    const line = written(eventBody)
    const member = `,"hash":"${hashOf(line)}"`
    const last = `${line.replace(member, '').slice(0, -1)}${member}}`
    const first = `{${member.slice(1)},${line.replace(member, '').slice(1)}`
    for (const moved of [last, first]) {
      expect(JSON.parse(moved)).toEqual(JSON.parse(line))
      expect(parse(moved)).toMatchObject({ ok: false, reason: expect.stringMatching(/canonical form/) })
    }
  })

  it('refuses an added duplicate key, whether or not JSON.parse would see another value', () => {
    const line = written(eventBody)
    const changesValue = line.replace('"status":"sent"', '"status":"sent","status":"withheld"')
    expect((JSON.parse(changesValue) as { status: string }).status).toBe('withheld')
    expect(parse(changesValue)).toMatchObject({ ok: false, reason: expect.stringMatching(/hash does not match/) })
    const sameValue = line.replace('"v":1}', '"v":1,"v":1}')
    expect(JSON.parse(sameValue)).toEqual(JSON.parse(line))
    expect(parse(sameValue)).toMatchObject({ ok: false, reason: expect.stringMatching(/canonical form/) })
    const secondHash = line.replace('"v":1}', `"v":1,"hash":"${hashOf(line)}"}`)
    expect(parse(secondHash).ok).toBe(false)
  })

  it('refuses an edit of the hash member itself', () => {
    const line = written(deliveryBody)
    const hash = hashOf(line)
    const flipped = hash.slice(0, -1) + (hash.endsWith('0') ? '1' : '0')
    expect(parse(line.replace(hash, flipped))).toMatchObject({ ok: false, reason: expect.stringMatching(/hash does not match/) })
    expect(parse(line.replace(hash, hash.toUpperCase()))).toMatchObject({ ok: false, reason: expect.stringMatching(/entry schema/) })
  })

  it('refuses an event nested deeper than canonical JSON allows, even with a hash that covers its bytes', () => {
    const depth = 300
    const event = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    const before = `{"channel":"logs","event":${event},"eventId":"e1",`
    const after = `"kind":"event","policyHash":"p1","prev":"${GENESIS_HASH}","seq":1,"status":"sent","time":"${TIME}","transforms":[],"v":1}`
    const line = `${before}"hash":"${sha256Hex(before + after)}",${after}`
    expect(parse(line)).toMatchObject({ ok: false, reason: expect.stringMatching(/nests too deeply/) })
  })

  it('agrees with the zod schema on every field, at every limit', () => {
    const cases: Record<string, unknown>[] = []
    const vary = (base: Record<string, unknown>, key: string, values: unknown[]): void => {
      for (const value of values) cases.push({ ...base, [key]: value })
    }
    for (const base of [eventBody, deliveryBody, checkpointBody]) {
      vary(base, 'v', [1, 2, 0, 1.5, '1', null])
      vary(base, 'seq', [1, 0, -1, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 53, '7', null])
      vary(base, 'time', [TIME, '2026-11-21T09:00:00Z', '2026-11-21T09:00:00.123456Z', '2024-02-29T00:00:00Z', '2026-02-29T00:00:00Z', '2026-11-21T09:00Z', '2026-11-21T09:00:00+01:00', '2026-11-21 09:00:00Z', 5])
      vary(base, 'prev', [GENESIS_HASH, 'AB'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), 'g'.repeat(64), 5])
      vary(base, 'kind', ['event', 'delivery', 'checkpoint', 'other', 1])
      // Keys that sort before and after `hash`, and so before and after where the hash member is looked for.
      vary(base, 'extra', [1])
      vary(base, 'zz', [1])
      vary(base, 'error', [{ code: 'ECONNREFUSED' }, { code: 'x', status: 100 }, { code: 'x', status: 599 }, { code: 'x', status: 99 }, { code: 'x', status: 600 }, { code: 'x', status: 500.5 }, { code: 'x', extra: 1 }, { code: 'bad code' }, { status: 500 }, null, [], 'boom'])
      cases.push(Object.fromEntries(Object.entries(base).filter(([key]) => key !== 'time')))
      cases.push({ ...base, ...(JSON.parse('{"__proto__":1}') as object) })
    }
    vary(eventBody, 'channel', ['inline values', 'a'.repeat(64), 'a'.repeat(65), '', '1abc', 'a/b', 7])
    vary(eventBody, 'eventId', ['x:y.z_1-2', 'a'.repeat(128), 'a'.repeat(129), '-a', '', 'a b'])
    vary(eventBody, 'policyHash', ['sha256:ab+/=', 'a'.repeat(128), 'a'.repeat(129), '+a', ''])
    vary(eventBody, 'event', [{}, [], null, 'x', { deep: { er: [1, { x: null }] } }])
    vary(eventBody, 'status', ['sent', 'queued', 'failed', 'withheld', 'retrying', 'lost'])
    const transform = { path: 'a', rule: 'r', action: 'scrub' }
    vary(eventBody, 'transforms', [
      [],
      {},
      Array.from({ length: 10_000 }, () => transform),
      Array.from({ length: 10_001 }, () => transform),
      [{ ...transform, path: 'p'.repeat(1024) }],
      [{ ...transform, path: 'p'.repeat(1025) }],
      [{ ...transform, path: '' }],
      [{ ...transform, rule: '' }],
      [{ ...transform, rule: 'r'.repeat(256) }],
      [{ ...transform, rule: 'r'.repeat(257) }],
      [{ ...transform, rule: 'r\n' }],
      [{ ...transform, rule: 'r\u0085' }],
      [{ ...transform, rule: 'r\u200b' }],
      [{ ...transform, rule: 'r\u00a0x' }],
      [{ ...transform, action: 'Scrub' }],
      [{ ...transform, action: 'a'.repeat(32) }],
      [{ ...transform, action: 'a'.repeat(33) }],
      [{ ...transform, extra: 1 }],
      [{ path: 'a', rule: 'r' }],
      [null],
      [[]],
    ])
    vary(deliveryBody, 'eventIds', [['e1'], [], Array.from({ length: 10_000 }, (_, i) => `e${i}`), Array.from({ length: 10_001 }, (_, i) => `e${i}`), ['e 1'], 'e1'])
    vary(deliveryBody, 'status', ['sent', 'retrying', 'failed', 'queued'])
    vary(checkpointBody, 'jws', ['a.b.c', 'a_-.b.c', 'a.b', 'a.b.c.d', 'a.b.c=', `${'a'.repeat(4092)}.b.c`, `${'a'.repeat(4093)}.b.c`, 5])

    let accepted = 0
    for (const body of cases) {
      const line = written(body)
      const expected = ledgerEntrySchema.safeParse(JSON.parse(line)).success
      const parsed = parseLedgerLine(Buffer.from(line))
      if (parsed.ok !== expected) throw new Error(`parseLedgerLine says ${parsed.ok}, the schema ${expected}, for ${line.slice(0, 300)}`)
      if (expected) accepted++
    }
    expect(accepted).toBeGreaterThan(40)
    expect(cases.length - accepted).toBeGreaterThan(80)
  })
})

describe('the wire-format example of LedgerEntry', () => {
  it('is an intact first entry of a ledger, with a real event envelope', async () => {
    const source = await readFile(new URL('../../src/audit/ledger-entry.ts', import.meta.url), 'utf8')
    const line = /```json\n \* (\{.*\})\n/.exec(source)?.[1]
    expect(line).toBeDefined()
    const parsed = parseLedgerLine(Buffer.from(line!))
    expect(parsed).toMatchObject({ ok: true, entry: { kind: 'event', seq: 1, prev: GENESIS_HASH } })
    const entry = (parsed as { ok: true; entry: { event: Record<string, unknown>; policyHash: string } }).entry
    expect(entry.event).toMatchObject({ v: 1, kind: 'parameters', runId: 'r1', policyHash: entry.policyHash })
    expect(outboundEventSchema.safeParse(entry.event).success).toBe(true)
    expect(entry.policyHash).toMatch(/^ph1\./)
  })
})
