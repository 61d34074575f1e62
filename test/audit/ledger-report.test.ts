import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildLedgerReport, formatReportText, REPORT_LIST_LIMIT } from '../../src/audit/ledger-report.js'
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
