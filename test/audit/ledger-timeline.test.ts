import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/internal/canonical-json.js'
import { GENESIS_HASH, sha256Hex } from '../../src/audit/ledger-entry.js'
import { buildLedgerReport } from '../../src/audit/ledger-report.js'
import { TIMELINE_CHANNEL_LIMIT, TIMELINE_MAX_BUCKETS, TimelineTally, type LedgerTimeline } from '../../src/audit/ledger-timeline.js'
import { Ledger } from '../../src/audit/ledger.js'

const DAY = Date.parse('2026-11-21T00:00:00.000Z')

/** What each bucket should hold, counted the slow way from the timeline's own start and width. */
function bruteForce(timeline: LedgerTimeline, events: readonly [string, number][]): Record<string, number[]> {
  const start = Date.parse(timeline.start)
  const expected: Record<string, number[]> = {}
  for (const [channel, time] of events) {
    const row = (expected[channel] ??= new Array<number>(timeline.buckets).fill(0))
    const index = Math.floor((time - start) / timeline.bucketMs)
    expect(index).toBeGreaterThanOrEqual(0)
    expect(index).toBeLessThan(timeline.buckets)
    row[index]!++
  }
  return expected
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

describe('TimelineTally', () => {
  it('is null with no events, and one 1 ms bucket for a single event', () => {
    const tally = new TimelineTally()
    expect(tally.toTimeline()).toBeNull()
    tally.add('logs', DAY + 1234)
    expect(tally.toTimeline()).toEqual({ start: '2026-11-21T00:00:01.234Z', bucketMs: 1, buckets: 1, perChannel: { logs: [1] }, other: [0] })
  })

  it('widens buckets to fit a day into at most 100, merging counts exactly', () => {
    const tally = new TimelineTally()
    const events: [string, number][] = []
    for (let minute = 0; minute < 1440; minute++) events.push([minute % 3 === 0 ? 'states' : 'logs', DAY + minute * 60_000])
    for (const [channel, time] of events) tally.add(channel, time)
    const timeline = tally.toTimeline()!
    // 10 min buckets would need 144; 30 min buckets need 48.
    expect(timeline.bucketMs).toBe(1_800_000)
    expect(timeline.buckets).toBe(48)
    expect(timeline.start).toBe('2026-11-21T00:00:00.000Z')
    expect(timeline.perChannel).toEqual(bruteForce(timeline, events))
    expect(timeline.perChannel.states!.every((n) => n === 10)).toBe(true)
    expect(timeline.perChannel.logs!.every((n) => n === 20)).toBe(true)
  })

  it('takes entries out of time order (a clock stepped back) and still counts each once', () => {
    const tally = new TimelineTally()
    const events: [string, number][] = [
      ['logs', DAY + 50_000],
      ['logs', DAY + 50_001],
      ['states', DAY + 10_000],
      ['logs', DAY + 90_000],
      ['states', DAY - 5_000],
    ]
    for (const [channel, time] of events) tally.add(channel, time)
    const timeline = tally.toTimeline()!
    expect(timeline.buckets).toBeLessThanOrEqual(TIMELINE_MAX_BUCKETS)
    expect(Date.parse(timeline.start) % timeline.bucketMs).toBe(0)
    expect(timeline.perChannel).toEqual(bruteForce(timeline, events))
  })

  it('stays within 100 buckets over any span, aligned to its width, and agrees with a brute-force count', () => {
    // Park–Miller: deterministic, and exact in doubles.
    let seed = 7
    const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647
    for (const span of [5, 999, 86_400_000, 40 * 365 * 86_400_000]) {
      const tally = new TimelineTally()
      const events: [string, number][] = []
      for (let i = 0; i < 2000; i++) events.push([`c${Math.floor(random() * 4)}`, DAY + Math.floor(random() * span)])
      for (const [channel, time] of events) tally.add(channel, time)
      const timeline = tally.toTimeline()!
      expect(timeline.buckets).toBeLessThanOrEqual(TIMELINE_MAX_BUCKETS)
      expect(Date.parse(timeline.start) % timeline.bucketMs).toBe(0)
      expect(timeline.perChannel).toEqual(bruteForce(timeline, events))
      expect(sum(Object.values(timeline.perChannel).flat())).toBe(2000)
    }
  })

  it(`charts the first ${TIMELINE_CHANNEL_LIMIT} channels on their own and counts later ones under other`, () => {
    const tally = new TimelineTally()
    for (let c = 0; c <= TIMELINE_CHANNEL_LIMIT + 1; c++) tally.add(`channel-${c}`, DAY)
    tally.add('channel-0', DAY)
    tally.add('__proto__', DAY)
    const timeline = tally.toTimeline()!
    expect(Object.keys(timeline.perChannel)).toHaveLength(TIMELINE_CHANNEL_LIMIT)
    expect(timeline.perChannel['channel-0']).toEqual([2])
    expect(timeline.other).toEqual([3])
  })
})

describe('buildLedgerReport timeline', () => {
  it('counts every event entry once, per channel, and nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-timeline-'))
    try {
      const path = join(dir, 'ledger.ndjson')
      const ledger = await Ledger.open({ path })
      const base = { policyHash: 'sha256:aaaa', transforms: [], status: 'sent' } as const
      for (let i = 0; i < 30; i++) {
        await ledger.append({ ...base, channel: i % 3 === 0 ? 'parameters' : 'logs', eventId: `e${i}`, event: { n: i } })
      }
      await ledger.appendDelivery({ eventIds: ['e1'], status: 'failed', error: { code: 'http-503' } })
      await ledger.close()
      const report = await buildLedgerReport(path)
      const timeline = report.timeline!
      expect(timeline.buckets).toBeLessThanOrEqual(TIMELINE_MAX_BUCKETS)
      expect(Object.fromEntries(Object.entries(timeline.perChannel).map(([channel, row]) => [channel, sum(row)]))).toEqual(report.perChannel)
      expect(report.perChannel).toEqual({ logs: 20, parameters: 10 })
      expect(Date.parse(timeline.start)).toBeLessThanOrEqual(Date.parse(report.timeSpan!.first))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('places each event at its Date.parse time, whatever the form and order of its time', async () => {
    // Millisecond times within one second and across seconds, times with no or more fraction digits
    // (valid, though the writer never writes them), and a step back: the report reads a time
    // differently when it shares a second with the one before.
    const times = [
      '2026-11-21T09:00:00.950Z', '2026-11-21T09:00:00.951Z', '2026-11-21T09:00:00.999Z', '2026-11-21T09:00:01.000Z',
      '2026-11-21T09:00:01.007Z', '2026-11-21T09:00:01Z', '2026-11-21T09:00:01.0405Z', '2026-11-21T09:00:01.030Z',
      '2026-11-21T09:00:01.03Z', '2026-11-21T09:00:00.960Z', '2026-11-21T09:00:01.049Z', '2026-11-21T09:01:01.001Z',
      '2026-11-21T09:01:01.002Z', '2025-11-21T09:01:01.003Z',
    ]
    const dir = await mkdtemp(join(tmpdir(), 'airlock-timeline-'))
    try {
      const path = join(dir, 'ledger.ndjson')
      let prev = GENESIS_HASH
      const lines: string[] = []
      for (const [i, time] of times.entries()) {
        const body = {
          v: 1, kind: 'event', seq: i + 1, time, prev, channel: 'logs', eventId: `e${i}`, policyHash: 'p1', event: { i }, transforms: [], status: 'sent',
        }
        prev = sha256Hex(canonicalJson(body))
        lines.push(`${canonicalJson({ ...body, hash: prev })}\n`)
      }
      for (const count of [11, times.length]) {
        await writeFile(path, lines.slice(0, count).join(''))
        const report = await buildLedgerReport(path)
        expect(report.verified).toMatchObject({ ok: true, entries: count })
        const expected = new TimelineTally()
        for (const time of times.slice(0, count)) expected.add('logs', Date.parse(time))
        expect(report.timeline).toEqual(expected.toTimeline())
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
