import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import type { Resource } from '@opentelemetry/resources'
import type { OutboundDoor } from '../../boundary/outbound-door.js'
import { ClosedError, InvalidArgumentError } from '../../errors.js'
import type { JsonObject } from '../../internal/canonical-json.js'
import { joinTransformPath } from '../../scrub/transform.js'
import type { ExporterLike } from './exporter-options.js'
import { reasonOf, type LedgerTransform, type ScopeLike, type Scrubbed } from './telemetry-policy.js'

/**
 * One record as the policy let it out: what the wrapped exporter gets,
 * what the ledger records (resource and scope by their index in the
 * entry), and where its transforms sit in the batch's list.
 */
export interface Prepared<Out> {
  /** Its index in the batch the SDK handed over. */
  readonly index: number
  readonly item: Out
  readonly json: Record<string, unknown>
  readonly resource: Scrubbed<Resource>
  readonly scope: Scrubbed<ScopeLike>
  readonly start: number
  /** Set once the record's last transform is in. */
  end: number
}

/**
 * Prepares one record, pushing its transforms (paths relative to it) onto
 * `transforms`; gives `undefined` when the policy does not ship it. Settled
 * in this turn when it can be (most records), a promise otherwise. It
 * throws (or rejects) when the policy cannot be applied: the record is then
 * withheld, never exported raw.
 */
export type PrepareRecord<In, Out> = (item: In, index: number, transforms: LedgerTransform[]) => Prepared<Out> | undefined | Promise<Prepared<Out> | undefined>

/** What a {@link BatchExport} is built with. */
export interface BatchExportOptions<In, Out> {
  /** Who this is, for errors. */
  readonly owner: string
  readonly door: OutboundDoor
  readonly inner: ExporterLike<Out>
  /** The channel the records are ledgered and counted under. */
  readonly channel: 'logs' | 'telemetry'
  /** The ledger entry's member that lists the records. */
  readonly listKey: 'records' | 'spans'
  /** Whether the policy exports this signal at all (`telemetry.spans`). */
  readonly ships: boolean
  readonly prepare: PrepareRecord<In, Out>
}

interface Withheld {
  readonly index: number
  readonly reason: string
}

interface Chunk<Out> {
  readonly items: Out[]
  readonly indexes: number[]
  readonly records: Record<string, unknown>[]
  readonly resources: JsonObject[]
  readonly scopes: JsonObject[]
  readonly resourceIndex: Map<Scrubbed<Resource>, number>
  readonly scopeIndex: Map<Scrubbed<ScopeLike>, number>
  readonly transforms: LedgerTransform[]
  withheld: Withheld[] | undefined
}

const SUCCESS: ExportResult = Object.freeze({ code: ExportResultCode.SUCCESS })
// One ledger entry per this many records at most, and never more transforms
// than an entry itemises (the boundary keeps 1,000): every transform names its record.
const MAX_RECORDS_PER_ENTRY = 64
const MAX_TRANSFORMS_PER_ENTRY = 1000

/**
 * The export path both wrappers share: prepare each record through the
 * policy (a record the policy fails on is withheld, the others go on),
 * ledger what will be handed over (entries made together share one fsync:
 * the ledger's group commit), and only then hand exactly that to the
 * wrapped exporter. Whatever was not ledgered is not exported. Internal to
 * the otel adapter.
 */
export class BatchExport<In, Out> {
  readonly #options: BatchExportOptions<In, Out>
  readonly #inFlight = new Set<Promise<ExportResult>>()
  #shutdown: Promise<void> | undefined

  constructor(options: BatchExportOptions<In, Out>) {
    this.#options = options
  }

  export(items: In[], resultCallback: (result: ExportResult) => void): void {
    const run = this.#run(items)
    this.#inFlight.add(run)
    void run.then((result) => {
      this.#inFlight.delete(run)
      resultCallback(result)
    })
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.#inFlight)
    await this.#options.inner.forceFlush?.()
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= Promise.all(this.#inFlight).then(() => this.#options.inner.shutdown())
    return this.#shutdown
  }

  async #run(items: In[]): Promise<ExportResult> {
    const { owner, door, channel, prepare } = this.#options
    if (this.#shutdown !== undefined) return failed(new ClosedError(`${owner} is shut down; it exports nothing more`))
    if (!Array.isArray(items)) return failed(new InvalidArgumentError(`${owner}.export expects an array of records`))
    if (!this.#options.ships) {
      door.suppress(channel, items.length)
      return SUCCESS
    }
    const prepared: Prepared<Out>[] = []
    const transforms: LedgerTransform[] = []
    const withheld: Withheld[] = []
    let suppressed = 0
    for (let i = 0; i < items.length; i++) {
      const mark = transforms.length
      try {
        // One record at a time: its transforms are the run from `mark` on.
        let record = prepare(items[i]!, i, transforms)
        if (record instanceof Promise) record = await record
        if (record === undefined) suppressed++
        else prepared.push(record)
      } catch (err) {
        // Fail closed for this record alone: none of it, nor what was recorded of it, goes on.
        transforms.length = mark
        withheld.push({ index: i, reason: reasonOf('policy', err) })
      }
    }
    if (suppressed > 0) door.suppress(channel, suppressed)
    if (prepared.length === 0 && withheld.length === 0) return SUCCESS
    const { items: recorded, ids, error } = await this.#ledger(this.#chunks(prepared, transforms, withheld))
    if (recorded.length === 0) return error === undefined ? SUCCESS : failed(error)
    const handed = await this.#handOver(recorded)
    // What was ledgered as handed over and then lost is a ledgered delivery failure, not a silent one.
    if (handed.code !== ExportResultCode.SUCCESS) door.failed(ids, 'export-failed')
    return error === undefined ? handed : failed(error)
  }

  #chunks(prepared: readonly Prepared<Out>[], transforms: readonly LedgerTransform[], withheld: Withheld[]): Chunk<Out>[] {
    const { listKey } = this.#options
    const chunks: Chunk<Out>[] = []
    let chunk = newChunk<Out>()
    for (const record of prepared) {
      const own = record.end - record.start
      if (chunk.items.length > 0 && (chunk.items.length >= MAX_RECORDS_PER_ENTRY || chunk.transforms.length + own > MAX_TRANSFORMS_PER_ENTRY)) {
        chunks.push(chunk)
        chunk = newChunk<Out>()
      }
      record.json.resource = indexIn(chunk, chunk.resourceIndex, chunk.resources, record.resource, 'resources')
      record.json.scope = indexIn(chunk, chunk.scopeIndex, chunk.scopes, record.scope, 'scopes')
      const at = `${listKey}[${chunk.records.length}]`
      chunk.records.push(record.json)
      chunk.items.push(record.item)
      chunk.indexes.push(record.index)
      // A record's transforms are its own (made while it was prepared): moved under its place, not copied.
      for (let t = record.start; t < record.end; t++) {
        const transform = transforms[t]!
        transform.path = joinTransformPath(at, transform.path)
        chunk.transforms.push(transform)
      }
    }
    chunks.push(chunk)
    if (withheld.length > 0) chunks[0]!.withheld = withheld
    return chunks
  }

  // Ledgers every chunk at once, so they share one group commit.
  async #ledger(chunks: Chunk<Out>[]): Promise<{ items: Out[]; ids: string[]; error: unknown }> {
    const results = await Promise.allSettled(chunks.map((chunk) => this.#record(chunk)))
    const items: Out[] = []
    const ids: string[] = []
    let error: unknown
    const refused: Withheld[] = []
    for (let c = 0; c < chunks.length; c++) {
      const result = results[c]!
      const chunk = chunks[c]!
      if (result.status === 'fulfilled') {
        for (const item of chunk.items) items.push(item)
        if (chunk.items.length > 0) ids.push(result.value)
      } else if (result.reason instanceof InvalidArgumentError) {
        // An entry the ledger refuses for what it holds (its size): record the chunk record by record, so one
        // oversized record is withheld alone and does not take the others with it.
        if (chunk.items.length > 1) for (const item of await this.#recordOneByOne(chunk, refused, ids)) items.push(item)
        else if (chunk.items.length === 1) refused.push({ index: chunk.indexes[0]!, reason: reasonOf('ledger', result.reason) })
        if (chunk.withheld !== undefined) refused.push(...chunk.withheld)
      } else {
        // The ledger cannot record at all (closed, or the disk): nothing more is ledgered, nor exported.
        error ??= result.reason
      }
    }
    if (refused.length > 0) {
      // Withheld records are ledgered too, if not on their first try then on their own.
      try {
        await this.#record({ ...newChunk<Out>(), withheld: refused })
      } catch (err) {
        error ??= err
      }
    }
    return { items, ids, error }
  }

  async #recordOneByOne(chunk: Chunk<Out>, refused: Withheld[], ids: string[]): Promise<Out[]> {
    const { listKey } = this.#options
    const prefix = `${listKey}[`
    const singles = chunk.records.map((json, r) => {
      const single = newChunk<Out>()
      single.records.push({ ...json, resource: 0, scope: 0 })
      single.resources.push(chunk.resources[json.resource as number]!)
      single.scopes.push(chunk.scopes[json.scope as number]!)
      single.items.push(chunk.items[r]!)
      single.indexes.push(chunk.indexes[r]!)
      const at = `${prefix}${r}]`
      for (const t of chunk.transforms) {
        if (t.path === at || t.path.startsWith(`${at}.`) || t.path.startsWith(`${at}[`)) single.transforms.push({ ...t, path: `${prefix}0]${t.path.slice(at.length)}` })
      }
      return single
    })
    const results = await Promise.allSettled(singles.map((single) => this.#record(single)))
    const items: Out[] = []
    for (let r = 0; r < singles.length; r++) {
      const result = results[r]!
      if (result.status === 'fulfilled') {
        items.push(singles[r]!.items[0]!)
        ids.push(result.value)
      }
      else refused.push({ index: singles[r]!.indexes[0]!, reason: reasonOf('ledger', result.reason) })
    }
    return items
  }

  #record(chunk: Chunk<Out>): Promise<string> {
    const { door, channel, listKey } = this.#options
    // Members in sorted order (`records` sorts before `resources`, `spans` after `signal`): the ledger's canonical
    // JSON of an entry already in order is JSON.stringify's, after one check.
    const sent: Record<string, unknown> =
      listKey === 'records'
        ? { records: chunk.records, resources: chunk.resources, scopes: chunk.scopes, signal: listKey, withheld: chunk.withheld }
        : { resources: chunk.resources, scopes: chunk.scopes, signal: listKey, spans: chunk.records, withheld: chunk.withheld }
    return door.record({ channel, engine: 'otel', sent: sent as JsonObject, transforms: chunk.transforms, withheld: chunk.withheld?.length ?? 0 })
  }

  #handOver(items: Out[]): Promise<ExportResult> {
    return new Promise((resolve) => {
      try {
        this.#options.inner.export(items, resolve)
      } catch (err) {
        resolve(failed(err))
      }
    })
  }
}

function newChunk<Out>(): Chunk<Out> {
  return { items: [], indexes: [], records: [], resources: [], scopes: [], resourceIndex: new Map(), scopeIndex: new Map(), transforms: [], withheld: undefined }
}

// The index of a resource or scope in this entry, adding it (and its transforms) on first use.
function indexIn<T>(chunk: Chunk<unknown>, index: Map<Scrubbed<T>, number>, list: JsonObject[], scrubbed: Scrubbed<T>, key: string): number {
  let at = index.get(scrubbed)
  if (at !== undefined) return at
  at = list.length
  index.set(scrubbed, at)
  list.push(scrubbed.json)
  const prefix = `${key}[${at}]`
  for (const t of scrubbed.transforms) chunk.transforms.push({ action: t.action, path: joinTransformPath(prefix, t.path), rule: t.rule })
  return at
}

function failed(error: unknown): ExportResult {
  return { code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error('export failed') }
}
