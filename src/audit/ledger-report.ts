import type { JsonObject, JsonValue } from '../internal/canonical-json.js'
import { describeAdoption } from './ledger-checkpoint.js'
import { escapeControl, type LedgerDeliveryError, type LedgerEntry } from './ledger-entry.js'
import { TimelineTally, type LedgerTimeline } from './ledger-timeline.js'
import { verifyLedger, type VerifyLedgerOptions, type VerifyLedgerResult } from './verify-ledger.js'

/** At most this many withheld events and delivery failures are listed; `total` counts them all. */
export const REPORT_LIST_LIMIT = 1000

/** At most this many distinct keys per tally (field paths, channels, ...); the rest are counted in `omitted`. */
export const REPORT_KEY_LIMIT = 10_000

/** A withheld event, in brief. `reason` is the event's own `reason` member when it is a string. */
export interface WithheldSummary {
  seq: number
  time: string
  channel: string
  eventId: string
  reason?: string
}

/** At most this many event ids are listed per delivery failure; `eventCount` counts them all. */
export const REPORT_IDS_PER_FAILURE = 10

/**
 * A failed delivery: an event entry with status `failed`, or a delivery
 * entry with status `retrying` (failed for now) or `failed` (for good).
 */
export interface DeliveryFailureSummary {
  seq: number
  time: string
  status: 'retrying' | 'failed'
  /** Set for an event entry; a delivery entry names events, not channels. */
  channel?: string
  eventIds: string[]
  eventCount: number
  error?: LedgerDeliveryError
}

/**
 * What reached the control plane, per a ledger. JSON output is this object
 * as is (report format v1). Counts cover the entries that verified: when
 * `verified.ok` is false, entries from `verified.firstBadSeq` on are left out.
 *
 * @example
 * ```ts
 * const report: LedgerReport = await buildLedgerReport('audit/ledger.ndjson')
 * report.perChannel                      // { logs: 120, states: 9, parameters: 1 }
 * report.fieldPaths['parameters.email']  // how many events carried it
 * ```
 */
export interface LedgerReport {
  v: 1
  path: string
  verified: VerifyLedgerResult
  entries: { total: number; events: number; deliveries: number; checkpoints: number }
  /** The `time` of the first and last entries, or null for an empty ledger. */
  timeSpan: { first: string; last: string } | null
  /** Event entries by `status`. */
  perStatus: Record<string, number>
  /** Event entries by `policyHash`. */
  policyHashes: Record<string, number>
  /** Event entries by `channel`. */
  perChannel: Record<string, number>
  /** Transforms applied, by rule, then action. */
  transforms: Record<string, Record<string, number>>
  /**
   * For each leaf path in the events (a string, number, boolean, null, or
   * empty array or object), the number of events that carried it. Paths look
   * like `parameters.email`, `tags[]`, `items[].id`, `headers["x.y"]`.
   * Every event entry counts, whatever its status: it is what may have reached
   * the control plane.
   */
  fieldPaths: Record<string, number>
  withheld: { total: number; first: WithheldSummary[] }
  deliveryFailures: { total: number; first: DeliveryFailureSummary[] }
  /** Event entries per channel over time, by entry `time`; null for a ledger without events. */
  timeline: LedgerTimeline | null
  /** Occurrences not tallied because a tally hit {@link REPORT_KEY_LIMIT} distinct keys. */
  omitted: { policyHashes: number; perChannel: number; transforms: number; fieldPaths: number }
}

/**
 * Options of {@link buildLedgerReport}: passed on to {@link verifyLedger}.
 * `onEntry` sees each intact entry after the report has tallied it, so
 * another reader (a leak scan) can share the one streaming pass.
 *
 * @example
 * ```ts
 * const scanner = new LedgerLeakScanner()
 * const options: LedgerReportOptions = { publicKey, onEntry: (entry) => scanner.add(entry) }   // report and scan in one pass
 * const report = await buildLedgerReport('audit/ledger.ndjson', options)
 * ```
 */
export type LedgerReportOptions = Pick<VerifyLedgerOptions, 'publicKey' | 'onProgress' | 'onEntry' | 'witness'>

/**
 * Reads a ledger once, streaming, verifying it and tallying what reached the
 * control plane. Memory is bounded by {@link REPORT_KEY_LIMIT} and
 * {@link REPORT_LIST_LIMIT}, not by the file's size.
 *
 * @throws {StorageError} when the file cannot be read.
 *
 * @example
 * ```ts
 * import { buildLedgerReport, formatReportText } from 'airlock-sdk'
 *
 * const report = await buildLedgerReport('audit/ledger.ndjson', { publicKey })
 * process.stdout.write(formatReportText(report))
 * ```
 */
export async function buildLedgerReport(path: string, options: LedgerReportOptions = {}): Promise<LedgerReport> {
  const tally = new ReportTally()
  const also = options.onEntry
  const onEntry = (entry: LedgerEntry): void => {
    tally.add(entry)
    also?.(entry)
  }
  const verified = await verifyLedger(path, { ...options, onEntry })
  return tally.toReport(path, verified)
}

/**
 * The report as plain text for a person: verification first, then counts
 * sorted from most to least frequent.
 *
 * @example
 * ```ts
 * console.log(formatReportText(await buildLedgerReport('audit/ledger.ndjson')))
 * ```
 */
export function formatReportText(report: LedgerReport): string {
  const out: string[] = [`airlock ledger report: ${report.path}`, '']
  const v = report.verified
  if (v.ok) {
    out.push(
      `verified:    intact, ${v.entries} entries, head ${v.head}`,
      `signatures:  ${v.signaturesChecked ? `${v.checkpoints} checkpoint${v.checkpoints === 1 ? '' : 's'} verified; the ledger ends with its closing checkpoint` : `not checked (no public key): an edit with recomputed hashes, or truncation of the end, cannot be detected`}`,
    )
    // Built by hand, a report from before adoptions existed has none.
    const adopted = v.adopted ?? []
    adopted.forEach((a, i) => out.push(`${i === 0 ? 'adopted:    ' : '            '} ${describeAdoption(a)}`))
    if ((v.adoptions ?? 0) > adopted.length) out.push(`             ... and ${v.adoptions - adopted.length} more adoptions`)
  } else if (v.empty) {
    out.push('verified:    EMPTY: the ledger holds no entries, so it shows nothing about what was sent')
  } else {
    out.push(`verified:    NOT INTACT at seq ${v.firstBadSeq}: ${v.reason}`, `             counts below cover seq 1 to ${v.entries} only`)
  }
  const e = report.entries
  out.push(`entries:     ${e.total} (${e.events} events, ${e.deliveries} delivery records, ${e.checkpoints} checkpoints)`)
  out.push(`time span:   ${report.timeSpan === null ? '(empty)' : `${report.timeSpan.first} to ${report.timeSpan.last}`}`)

  section(out, 'events by channel', report.perChannel, report.omitted.perChannel)
  section(out, 'events by status', report.perStatus, 0)
  section(out, 'events by policy hash', report.policyHashes, report.omitted.policyHashes)
  const transforms: Record<string, number> = {}
  for (const [rule, actions] of Object.entries(report.transforms)) {
    for (const [action, count] of Object.entries(actions)) transforms[`${rule} / ${action}`] = count
  }
  section(out, 'transforms (rule / action)', transforms, report.omitted.transforms)
  section(out, 'field paths sent (events carrying each)', report.fieldPaths, report.omitted.fieldPaths)

  out.push('', `withheld events: ${report.withheld.total}`)
  for (const w of report.withheld.first) {
    out.push(`  seq ${w.seq}  ${w.time}  ${w.channel}  ${w.eventId}${w.reason === undefined ? '' : `  ${escapeControl(w.reason)}`}`)
  }
  more(out, report.withheld)
  out.push('', `delivery failures: ${report.deliveryFailures.total}`)
  for (const f of report.deliveryFailures.first) {
    const error = f.error === undefined ? '' : `  ${f.error.code}${f.error.status === undefined ? '' : ` ${f.error.status}`}`
    const more = f.eventCount > f.eventIds.length ? ` (+${f.eventCount - f.eventIds.length})` : ''
    out.push(`  seq ${f.seq}  ${f.time}  ${f.status}  ${f.channel ?? '-'}  ${f.eventIds.join(',')}${more}${error}`)
  }
  more(out, report.deliveryFailures)
  return out.join('\n') + '\n'
}

function section(out: string[], title: string, counts: Record<string, number>, omitted: number): void {
  out.push('', `${title}:`)
  const rows = Object.entries(counts)
  if (rows.length === 0) out.push('  (none)')
  const width = Math.max(0, ...rows.map(([key]) => escapeControl(key).length))
  for (const [key, count] of rows) out.push(`  ${escapeControl(key).padEnd(width)}  ${count}`)
  if (omitted > 0) out.push(`  (${omitted} more occurrences of other keys not tallied)`)
}

function more(out: string[], list: { total: number; first: unknown[] }): void {
  if (list.total > list.first.length) out.push(`  ... and ${list.total - list.first.length} more`)
}

/** Counts per key, up to {@link REPORT_KEY_LIMIT} distinct keys. A Map, so keys like `__proto__` are plain data. */
class Tally {
  readonly counts = new Map<string, number>()
  omitted = 0

  add(key: string): void {
    const count = this.counts.get(key)
    if (count !== undefined) this.counts.set(key, count + 1)
    else if (this.counts.size < REPORT_KEY_LIMIT) this.counts.set(key, 1)
    else this.omitted++
  }

  /** Most frequent first; ties by key, so output is stable. */
  sorted(): [string, number][] {
    return [...this.counts].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0))
  }

  toRecord(): Record<string, number> {
    return Object.fromEntries(this.sorted())
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/
// Joins rule and action into one tally key. Actions cannot contain it (the
// schema allows [a-z0-9-]), so the last one found is the separator.
const RULE_ACTION = '\u0000'

/** `2026-11-21T09:00:00.000Z`: what `toISOString()` writes. */
const ISO_MS_LENGTH = 24

/** The milliseconds of a `YYYY-MM-DDTHH:MM:SS.sssZ` time. */
function millisOf(time: string): number {
  return (time.charCodeAt(20) - 0x30) * 100 + (time.charCodeAt(21) - 0x30) * 10 + (time.charCodeAt(22) - 0x30)
}

class ReportTally {
  total = 0
  events = 0
  deliveries = 0
  checkpoints = 0
  first: string | undefined
  last: string | undefined
  readonly perStatus = new Tally()
  readonly policyHashes = new Tally()
  readonly perChannel = new Tally()
  readonly transforms = new Tally()
  readonly fieldPaths = new FieldPathTally()
  readonly withheld = { total: 0, first: [] as WithheldSummary[] }
  readonly deliveryFailures = { total: 0, first: [] as DeliveryFailureSummary[] }
  readonly timeline = new TimelineTally()
  /** The second of the last millisecond time parsed, up to its `.`, and its start in ms since the epoch. */
  #second = '-'
  #secondMs = 0

  add(entry: LedgerEntry): void {
    this.total++
    this.first ??= entry.time
    this.last = entry.time
    if (entry.kind === 'checkpoint') {
      this.checkpoints++
      return
    }
    if (entry.kind === 'delivery') {
      this.deliveries++
      if (entry.status !== 'sent') this.#failure(entry.seq, entry.time, entry.status, undefined, entry.eventIds, entry.error)
      return
    }
    this.events++
    this.perStatus.add(entry.status)
    this.policyHashes.add(entry.policyHash)
    this.perChannel.add(entry.channel)
    this.timeline.add(entry.channel, this.#timeMs(entry.time))
    for (const t of entry.transforms) this.transforms.add(t.rule + RULE_ACTION + t.action)
    this.fieldPaths.addEvent(entry.event)
    if (entry.status === 'failed') this.#failure(entry.seq, entry.time, 'failed', entry.channel, [entry.eventId], entry.error)
    if (entry.status === 'withheld') {
      this.withheld.total++
      if (this.withheld.first.length < REPORT_LIST_LIMIT) {
        const reason = entry.event.reason
        const summary: WithheldSummary = { seq: entry.seq, time: entry.time, channel: entry.channel, eventId: entry.eventId }
        if (typeof reason === 'string') summary.reason = reason.slice(0, 200)
        this.withheld.first.push(summary)
      }
    }
  }

  /**
   * `Date.parse` of an entry's `time`, which the verifier checked is ISO 8601
   * UTC. It was the largest cost of an entry's tally; but entries come in
   * time order, many to a second, so the second is remembered, and a time in
   * it, `YYYY-MM-DDTHH:MM:SS.sssZ`, costs its three digits of milliseconds.
   */
  #timeMs(time: string): number {
    if (time.length === ISO_MS_LENGTH && time.startsWith(this.#second)) return this.#secondMs + millisOf(time)
    const ms = Date.parse(time)
    if (time.length === ISO_MS_LENGTH) {
      this.#second = time.slice(0, ISO_MS_LENGTH - 4)
      this.#secondMs = ms - millisOf(time)
    }
    return ms
  }

  #failure(
    seq: number,
    time: string,
    status: 'retrying' | 'failed',
    channel: string | undefined,
    eventIds: string[],
    error: LedgerDeliveryError | undefined,
  ): void {
    this.deliveryFailures.total++
    if (this.deliveryFailures.first.length < REPORT_LIST_LIMIT) {
      const summary: DeliveryFailureSummary = {
        seq,
        time,
        status,
        eventIds: eventIds.slice(0, REPORT_IDS_PER_FAILURE),
        eventCount: eventIds.length,
      }
      if (channel !== undefined) summary.channel = channel
      if (error !== undefined) summary.error = error
      this.deliveryFailures.first.push(summary)
    }
  }

  toReport(path: string, verified: VerifyLedgerResult): LedgerReport {
    const byRule = new Map<string, [string, number][]>()
    for (const [key, count] of this.transforms.sorted()) {
      const cut = key.lastIndexOf(RULE_ACTION)
      const rule = key.slice(0, cut)
      const actions = byRule.get(rule)
      if (actions === undefined) byRule.set(rule, [[key.slice(cut + 1), count]])
      else actions.push([key.slice(cut + 1), count])
    }
    // Object.fromEntries defines own properties, so a rule named `__proto__` stays data.
    const transforms = Object.fromEntries([...byRule].map(([rule, actions]) => [rule, Object.fromEntries(actions)]))
    return {
      v: 1,
      path,
      verified,
      entries: { total: this.total, events: this.events, deliveries: this.deliveries, checkpoints: this.checkpoints },
      timeSpan: this.first === undefined ? null : { first: this.first, last: this.last! },
      perStatus: this.perStatus.toRecord(),
      policyHashes: this.policyHashes.toRecord(),
      perChannel: this.perChannel.toRecord(),
      transforms,
      fieldPaths: this.fieldPaths.toRecord(),
      withheld: this.withheld,
      deliveryFailures: this.deliveryFailures,
      timeline: this.timeline.toTimeline(),
      omitted: {
        policyHashes: this.policyHashes.omitted,
        perChannel: this.perChannel.omitted,
        transforms: this.transforms.omitted,
        fieldPaths: this.fieldPaths.omitted,
      },
    }
  }
}

/** A field path seen in events, with its children: each path string is built once, not once per event. */
class PathNode {
  readonly path: string
  /** Children by object key. */
  readonly members = new Map<string, PathNode>()
  /** The child for array items, `path[]`. */
  items: PathNode | undefined
  /** Events that carried this path as a leaf, once it holds one of the tally's {@link REPORT_KEY_LIMIT} places. */
  count = 0
  counted = false
  /** The last event that counted this path: an event counts each of its paths once. */
  lastEvent = 0

  constructor(path: string) {
    this.path = path
  }
}

/**
 * The most field-path nodes kept, leaves and the paths leading to them. Past
 * it, paths are spelled out per event, as strings, so a ledger of endlessly
 * varied keys costs time, not memory.
 */
const PATH_NODE_LIMIT = 4 * REPORT_KEY_LIMIT

/**
 * `fieldPaths` of the report: for each leaf path, the events that carried
 * it, up to {@link REPORT_KEY_LIMIT} distinct paths, first seen first in.
 * Events walk a tree of the paths seen so far, so a path seen before costs
 * one map lookup per step and allocates nothing.
 */
class FieldPathTally {
  readonly #root = new PathNode('')
  #nodes = 1
  #event = 0
  /** Paths holding a place, in the tree or beyond it. */
  readonly #counted: PathNode[] = []
  /** Counts of paths met when the tree was full; they share the places with the tree's. */
  readonly #beyond = new Map<string, number>()
  readonly #beyondThisEvent = new Set<string>()
  omitted = 0

  addEvent(event: JsonObject): void {
    this.#event++
    this.#beyondThisEvent.clear()
    this.#walkObject(event, this.#root)
  }

  /** Most frequent first; ties by path, so output is stable. Own properties, so a path like `__proto__` stays data. */
  toRecord(): Record<string, number> {
    const rows: [string, number][] = this.#counted.map((node) => [node.path, node.count])
    for (const row of this.#beyond) rows.push(row)
    return Object.fromEntries(rows.sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0)))
  }

  #walk(value: JsonValue, node: PathNode): void {
    if (typeof value !== 'object' || value === null) this.#leaf(node)
    else if (Array.isArray(value)) {
      if (value.length === 0) this.#leaf(node)
      else {
        const items = (node.items ??= this.#child(node.path + '[]'))
        if (items === undefined) for (const item of value) this.#walkBeyond(item, `${node.path}[]`)
        else for (const item of value) this.#walk(item, items)
      }
    } else if (this.#walkObject(value, node)) this.#leaf(node)
  }

  /** Walks the members; true when there were none (an empty object is a leaf, except the event itself). */
  #walkObject(value: JsonObject, node: PathNode): boolean {
    let empty = true
    for (const key in value) {
      empty = false
      let member = node.members.get(key)
      if (member === undefined) {
        const path = step(node.path, key)
        member = this.#child(path)
        if (member === undefined) {
          this.#walkBeyond(value[key]!, path)
          continue
        }
        node.members.set(key, member)
      }
      this.#walk(value[key]!, member)
    }
    return empty
  }

  /** A new node, or undefined when the tree is full. */
  #child(path: string): PathNode | undefined {
    if (this.#nodes >= PATH_NODE_LIMIT) return undefined
    this.#nodes++
    return new PathNode(path)
  }

  #leaf(node: PathNode): void {
    if (node.lastEvent === this.#event) return
    node.lastEvent = this.#event
    if (node.counted) node.count++
    else if (this.#places() < REPORT_KEY_LIMIT) {
      node.counted = true
      node.count = 1
      this.#counted.push(node)
    } else this.omitted++
  }

  /** The walk below a path that has no node: paths are spelled out. */
  #walkBeyond(value: JsonValue, path: string): void {
    if (typeof value !== 'object' || value === null) this.#leafBeyond(path)
    else if (Array.isArray(value)) {
      if (value.length === 0) this.#leafBeyond(path)
      for (const item of value) this.#walkBeyond(item, `${path}[]`)
    } else {
      let empty = true
      for (const key in value) {
        empty = false
        this.#walkBeyond(value[key]!, step(path, key))
      }
      if (empty) this.#leafBeyond(path)
    }
  }

  #leafBeyond(path: string): void {
    if (this.#beyondThisEvent.has(path)) return
    this.#beyondThisEvent.add(path)
    const count = this.#beyond.get(path)
    if (count !== undefined) this.#beyond.set(path, count + 1)
    else if (this.#places() < REPORT_KEY_LIMIT) this.#beyond.set(path, 1)
    else this.omitted++
  }

  #places(): number {
    return this.#counted.length + this.#beyond.size
  }
}

/** The path of member `key` below `path`: `a.b` for identifiers, `a["x.y"]` otherwise. */
function step(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`
  return path === '' ? key : `${path}.${key}`
}
