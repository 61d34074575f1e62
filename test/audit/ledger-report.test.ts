import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { canonicalJson, type JsonObject, type JsonValue } from '../../src/internal/canonical-json.js'
import { buildLedgerReport, formatReportText, REPORT_KEY_LIMIT, REPORT_LIST_LIMIT } from '../../src/audit/ledger-report.js'
import { generateLedgerSigningKey } from '../../src/audit/ledger-signing-key.js'
import { Ledger, type LedgerEventInput } from '../../src/audit/ledger.js'

let dir: string
let path: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-report-'))
  path = join(dir, 'ledger.ndjson')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const base = { policyHash: 'sha256:aaaa', transforms: [], status: 'sent' } as const

const appended: LedgerEventInput[] = [
  {
    ...base,
    channel: 'parameters',
    eventId: 'p1',
    event: { flowRunId: 'r1', parameters: { email: '[email]', user: { id: 7 } } },
    transforms: [
      { path: 'parameters.email', rule: 'email', action: 'scrub' },
      { path: 'parameters.token', rule: 'secrets', action: 'drop' },
    ],
  },
  {
    ...base,
    channel: 'parameters',
    eventId: 'p2',
    policyHash: 'sha256:bbbb',
    event: { flowRunId: 'r2', parameters: { email: '[email]' }, tags: ['a', 'b'] },
    transforms: [{ path: 'parameters.email', rule: 'email', action: 'scrub' }],
  },
  {
    ...base,
    channel: 'logs',
    eventId: 'l1',
    event: { msg: 'loaded', items: [{ id: 1 }, { id: 2, extra: null }], headers: { 'x.trace': 'fp1.k.abc' }, empty: {} },
    transforms: [{ path: 'msg', rule: 'email', action: 'redact' }],
    status: 'queued',
  },
  { ...base, channel: 'exceptions', eventId: 'x1', event: { withheld: true, channel: 'exceptions', reason: 'ScrubError' }, status: 'withheld' },
  { ...base, channel: 'states', eventId: 's1', event: { state: 'Failed' }, status: 'failed', error: { code: 'ECONNREFUSED' } },
]

async function writeLedger(options: { signingKey?: object } = {}): Promise<void> {
  const ledger = await Ledger.open({ path, ...options })
  for (const input of appended) await ledger.append(input)
  await ledger.appendDelivery({ eventIds: ['l1', 'p2'], status: 'retrying', error: { code: 'http-503', status: 503 } })
  await ledger.appendDelivery({ eventIds: ['l1'], status: 'failed', error: { code: 'attempts-exhausted' } })
  await ledger.appendDelivery({ eventIds: ['p2'], status: 'sent' })
  await ledger.close()
}

describe('buildLedgerReport', () => {
  it('counts channels, statuses, policies, transforms and field paths, and lists withheld events and failures', async () => {
    await writeLedger()
    const report = await buildLedgerReport(path)

    expect(report.verified).toMatchObject({ ok: true, entries: 8 })
    expect(report.entries).toEqual({ total: 8, events: 5, deliveries: 3, checkpoints: 0 })
    expect(report.timeSpan?.first).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(report.perChannel).toEqual({ parameters: 2, exceptions: 1, logs: 1, states: 1 })
    expect(report.perStatus).toEqual({ sent: 2, failed: 1, queued: 1, withheld: 1 })
    expect(report.policyHashes).toEqual({ 'sha256:aaaa': 4, 'sha256:bbbb': 1 })
    expect(report.transforms).toEqual({ email: { scrub: 2, redact: 1 }, secrets: { drop: 1 } })
    expect(report.fieldPaths).toEqual({
      flowRunId: 2,
      'parameters.email': 2,
      channel: 1,
      empty: 1,
      'headers["x.trace"]': 1,
      'items[].extra': 1,
      'items[].id': 1,
      msg: 1,
      'parameters.user.id': 1,
      reason: 1,
      state: 1,
      'tags[]': 1,
      withheld: 1,
    })
    expect(report.withheld).toEqual({
      total: 1,
      first: [{ seq: 4, time: expect.any(String) as unknown, channel: 'exceptions', eventId: 'x1', reason: 'ScrubError' }],
    })
    const time = expect.any(String) as unknown
    expect(report.deliveryFailures).toEqual({
      total: 3,
      first: [
        { seq: 5, time, status: 'failed', channel: 'states', eventIds: ['s1'], eventCount: 1, error: { code: 'ECONNREFUSED' } },
        { seq: 6, time, status: 'retrying', eventIds: ['l1', 'p2'], eventCount: 2, error: { code: 'http-503', status: 503 } },
        { seq: 7, time, status: 'failed', eventIds: ['l1'], eventCount: 1, error: { code: 'attempts-exhausted' } },
      ],
    })
    expect(report.omitted).toEqual({ policyHashes: 0, perChannel: 0, transforms: 0, fieldPaths: 0 })
    // JSON output is the object itself
    expect(JSON.parse(JSON.stringify(report))).toEqual(report)
  })

  it('formats a readable text report', async () => {
    const { privateKey, publicKey } = await generateLedgerSigningKey()
    await writeLedger({ signingKey: privateKey })
    const text = formatReportText(await buildLedgerReport(path, { publicKey }))
    expect(text).toContain('verified:    intact, 9 entries')
    expect(text).toContain('1 checkpoint verified; the ledger ends with its closing checkpoint')
    expect(text).toMatch(/events by channel:\n {2}parameters +2\n/)
    expect(text).toMatch(/ {2}email \/ scrub +2/)
    expect(text).toMatch(/ {2}headers\["x\.trace"\] +1/)
    expect(text).toMatch(/withheld events: 1\n {2}seq 4 .* exceptions {2}x1 {2}ScrubError/)
    expect(text).toMatch(/delivery failures: 3\n.*failed {2}states {2}s1 {2}ECONNREFUSED\n.*retrying {2}- {2}l1,p2 {2}http-503 503\n/)
  })

  it('reports on the intact prefix of a tampered ledger, and says so', async () => {
    await writeLedger()
    const lines = (await readFile(path, 'utf8')).split('\n')
    lines[2] = lines[2]!.replace('"loaded"', '"edited"')
    await writeFile(path, lines.join('\n'))
    const report = await buildLedgerReport(path)
    expect(report.verified).toMatchObject({ ok: false, firstBadSeq: 3 })
    expect(report.entries.total).toBe(2)
    expect(report.perChannel).toEqual({ parameters: 2 })
    expect(formatReportText(report)).toContain('NOT INTACT at seq 3')
  })

  it('tallies the first REPORT_KEY_LIMIT field paths seen and counts the rest as omitted, however many distinct paths and levels there are', async () => {
    // First, deep chains of new keys: the report's tree of paths fills up while few paths are
    // leaves. Then 400 new keys an event, far more paths than the report keeps. Throughout,
    // paths shared with other events, nested arrays and empty containers.
    const chain = (depth: number): JsonValue => (depth === 0 ? 1 : { a: chain(depth - 1) })
    const events: JsonObject[] = Array.from({ length: 60 }, (_, i) => {
      const event: JsonObject = { common: { id: i }, tags: ['a'], empty: {}, none: [] }
      if (i < 10) for (let j = 0; j < 100; j++) event[`chain${i}_${j}`] = chain(50)
      else for (let j = 0; j < 400; j++) event[`k${i}_${j}`] = j % 3 === 0 ? { deep: [{ x: j }, {}] } : j % 3 === 1 ? [] : 'v'
      event[`pair${Math.floor(i / 2)}`] = { items: [{ id: 1 }, { id: 2, 'odd.key': null }] }
      return event
    })
    const ledger = await Ledger.open({ path })
    for (const [i, event] of events.entries()) await ledger.append({ ...base, channel: 'logs', eventId: `e${i}`, event })
    await ledger.close()

    const report = await buildLedgerReport(path)
    // Walked in the ledger's order: the canonical JSON's sorted keys.
    const expected = referenceFieldPaths(events.map((event) => JSON.parse(canonicalJson(event)) as JsonObject))
    expect(Object.keys(report.fieldPaths)).toHaveLength(REPORT_KEY_LIMIT)
    expect(Object.entries(report.fieldPaths)).toEqual(Object.entries(expected.counts))
    expect(report.omitted.fieldPaths).toBe(expected.omitted)
    expect(report.omitted.fieldPaths).toBeGreaterThan(10_000)
    expect(report.fieldPaths['pair6.items[].id']).toBe(2)
  })

  it('caps the withheld list and keeps the total', async () => {
    const ledger = await Ledger.open({ path })
    const count = REPORT_LIST_LIMIT + 5
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        ledger.append({ ...base, channel: 'logs', eventId: `w${i}`, event: { withheld: true }, status: 'withheld' }),
      ),
    )
    await ledger.close()
    const report = await buildLedgerReport(path)
    expect(report.withheld.total).toBe(count)
    expect(report.withheld.first).toHaveLength(REPORT_LIST_LIMIT)
    expect(report.withheld.first[0]).not.toHaveProperty('reason')
    expect(formatReportText(report)).toContain('... and 5 more')
  })
})

describe('formatReportText', () => {
  it('escapes control characters that came from the ledger', async () => {
    const ledger = await Ledger.open({ path })
    await ledger.append({ ...base, channel: 'logs', eventId: 'w1', event: { reason: 'x\u001b[2Jy' }, status: 'withheld' })
    await ledger.close()
    const text = formatReportText(await buildLedgerReport(path))
    expect(text).toContain('x\\u001b[2Jy')
    expect(text).not.toContain('\u001b')
  })

  it('is never reached by control characters in rule names: the schema refuses them', async () => {
    const ledger = await Ledger.open({ path })
    await expect(
      ledger.append({ ...base, channel: 'logs', eventId: 'e1', event: {}, transforms: [{ path: 'a', rule: 'r\n', action: 'drop' }] }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await ledger.close()
  })
})

/** The field-path tally as DESIGN intends it, written plainly: every event's distinct leaf paths, first seen first in. */
function referenceFieldPaths(events: JsonObject[]): { counts: Record<string, number>; omitted: number } {
  const counts = new Map<string, number>()
  let omitted = 0
  const collect = (value: JsonValue, path: string, into: Set<string>): void => {
    if (typeof value !== 'object' || value === null) into.add(path)
    else if (Array.isArray(value)) {
      if (value.length === 0) into.add(path)
      for (const item of value) collect(item, `${path}[]`, into)
    } else {
      const keys = Object.keys(value)
      if (keys.length === 0 && path !== '') into.add(path)
      for (const key of keys) {
        const step = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`
        collect(value[key]!, step, into)
      }
    }
  }
  for (const event of events) {
    const paths = new Set<string>()
    collect(event, '', paths)
    for (const p of paths) {
      const count = counts.get(p)
      if (count !== undefined) counts.set(p, count + 1)
      else if (counts.size < REPORT_KEY_LIMIT) counts.set(p, 1)
      else omitted++
    }
  }
  const sorted = [...counts].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0))
  return { counts: Object.fromEntries(sorted), omitted }
}
