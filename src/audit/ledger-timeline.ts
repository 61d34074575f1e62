/** The most buckets a timeline holds. When the span outgrows them, buckets widen and neighbours merge. */
export const TIMELINE_MAX_BUCKETS = 100

/** Channels charted on their own, in the order first seen; events of any later channel count under `other`. */
export const TIMELINE_CHANNEL_LIMIT = 12

// Bucket widths in ms. Each is a whole multiple of the one before, so
// widening merges whole buckets into whole buckets; beyond a week, doubling.
const WIDTHS_MS = [
  1, 2, 10, 20, 100, 200, 1000, 2000, 10_000, 30_000, 60_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000,
  43_200_000, 86_400_000, 604_800_000,
]

/**
 * Event counts per channel over time (report format v1, `timeline`).
 *
 * Bucket `i` covers `[start + i * bucketMs, start + (i + 1) * bucketMs)`.
 * Buckets are aligned to whole multiples of `bucketMs` since the Unix epoch,
 * and `bucketMs` is one of 1, 2, 10, 20, 100, 200 ms, 1, 2, 10, 30 s, 1, 2,
 * 10, 30 min, 1, 2, 6, 12 h, 1 day, 1 week, or a week times a power of two:
 * the smallest that fits the ledger's span into {@link TIMELINE_MAX_BUCKETS}.
 *
 * @example
 * ```ts
 * const { timeline } = await buildLedgerReport('audit/ledger.ndjson')
 * if (timeline !== null) console.log(timeline.bucketMs, timeline.perChannel.logs)
 * ```
 */
export interface LedgerTimeline {
  /** Start of bucket 0, ISO 8601 UTC. */
  start: string
  /** Width of every bucket, in milliseconds. */
  bucketMs: number
  /** Number of buckets: 1 to {@link TIMELINE_MAX_BUCKETS}. */
  buckets: number
  /** Counts per bucket (`buckets` of them) for each of the first {@link TIMELINE_CHANNEL_LIMIT} channels seen. */
  perChannel: Record<string, number[]>
  /** Counts per bucket of every other channel. All zeros when there were no more channels. */
  other: number[]
}

/**
 * Builds a {@link LedgerTimeline} in one pass over entries in any time order,
 * in memory bounded by {@link TIMELINE_MAX_BUCKETS} times
 * {@link TIMELINE_CHANNEL_LIMIT}, whatever the number of entries.
 *
 * @example
 * ```ts
 * const tally = new TimelineTally()
 * tally.add('logs', Date.parse('2026-11-21T09:00:00.000Z'))
 * tally.toTimeline()?.buckets // 1
 * ```
 */
export class TimelineTally {
  #widthMs = WIDTHS_MS[0]!
  /** Bucket 0's index counted from the epoch, in buckets of the current width. */
  #first = 0
  #length = 0
  readonly #rows = new Map<string, Float64Array<ArrayBuffer>>()
  #other = new Float64Array(TIMELINE_MAX_BUCKETS)

  /** Counts one event of `channel` at `timeMs` (ms since the epoch). */
  add(channel: string, timeMs: number): void {
    let index = Math.floor(timeMs / this.#widthMs)
    if (this.#length === 0) {
      this.#first = index
      this.#length = 1
    } else if (index < this.#first || index >= this.#first + this.#length) {
      this.#cover(index)
      index = Math.floor(timeMs / this.#widthMs)
    }
    let row = this.#rows.get(channel)
    if (row === undefined) {
      row = this.#rows.size < TIMELINE_CHANNEL_LIMIT ? new Float64Array(TIMELINE_MAX_BUCKETS) : this.#other
      if (row !== this.#other) this.#rows.set(channel, row)
    }
    row[index - this.#first]!++
  }

  /** The timeline so far, or null when nothing was added. */
  toTimeline(): LedgerTimeline | null {
    if (this.#length === 0) return null
    const length = this.#length
    return {
      start: new Date(this.#first * this.#widthMs).toISOString(),
      bucketMs: this.#widthMs,
      buckets: length,
      // Object.fromEntries defines own properties, so a channel named `__proto__` stays data.
      perChannel: Object.fromEntries([...this.#rows].map(([channel, row]) => [channel, Array.from(row.subarray(0, length))])),
      other: Array.from(this.#other.subarray(0, length)),
    }
  }

  /** Widens buckets until bucket `index` (at the current width) fits alongside the ones in use, and moves counts over. */
  #cover(index: number): void {
    let low = Math.min(this.#first, index)
    let high = Math.max(this.#first + this.#length - 1, index)
    let factor = 1
    let width = this.#widthMs
    while (high - low + 1 > TIMELINE_MAX_BUCKETS) {
      const next = WIDTHS_MS.find((w) => w > width) ?? width * 2
      const step = next / width
      low = Math.floor(low / step)
      high = Math.floor(high / step)
      factor *= step
      width = next
    }
    const offset = this.#first
    for (const [channel, row] of this.#rows) this.#rows.set(channel, regroup(row, this.#length, offset, factor, low))
    this.#other = regroup(this.#other, this.#length, offset, factor, low)
    this.#widthMs = width
    this.#first = low
    this.#length = high - low + 1
  }
}

/** The counts of `row` (bucket 0 at epoch index `offset`) in buckets `factor` times wider, bucket 0 at epoch index `first`. */
function regroup(row: Float64Array, length: number, offset: number, factor: number, first: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(TIMELINE_MAX_BUCKETS)
  for (let i = 0; i < length; i++) {
    const count = row[i]!
    if (count !== 0) out[Math.floor((offset + i) / factor) - first]! += count
  }
  return out
}
