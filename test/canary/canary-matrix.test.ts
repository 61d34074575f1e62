import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LedgerEntry, LedgerEventEntry } from '../../src/audit/ledger-entry.js'
import { scanLedger } from '../../src/audit/scan-ledger.js'
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import type { EmitInput } from '../../src/boundary/emit-input.js'
import type { OutboundEvent } from '../../src/boundary/events.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { CanaryLeakError } from '../../src/errors.js'
import { createLogger } from '../../src/logging/create-logger.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { JSONResult } from '../../src/results/json-result.js'
import { LocalResult } from '../../src/results/local-result.js'
import { expectNoLeaks, generateCanaries, type Canary } from '../../src/testing/index.js'

/*
 * The canary matrix (issue 4) and the leaky ledger (issue 7), through the
 * real pipeline: a pino logger from createLogger shipping into
 * AirlockBoundary.emit, Failed states carrying errors, parameters, state
 * messages, results. Every check of "nothing leaked" goes through the
 * testing kit (expectNoLeaks) and the leak scan (scanLedger), and is
 * cross-checked against the raw ledger bytes.
 */

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-canary-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const runId = 'run-canary'

/** One planted item: the event it went out in, and what the ledger must say was done to it. */
interface Plant {
  readonly canary: Canary
  readonly eventId: string
  readonly what: string
  /**
   * The transform the ledger must hold for it (absent in the leaky direction):
   * one of `rules`, at `path` or below it. Below, because how a path spells a
   * cause chain (`err.cause` or `err.causes[0]`) is the boundary's business.
   */
  readonly path?: string
  readonly rules?: readonly string[]
}

function coveredBy(plant: Plant, t: { path: string; rule: string }): boolean {
  const path = plant.path!
  return plant.rules!.includes(t.rule) && (t.path === path || t.path.startsWith(`${path}.`) || t.path.startsWith(`${path}[`))
}

interface Harness {
  readonly airlock: AirlockBoundary
  readonly controlPlane: MemoryControlPlane
  readonly ledgerPath: string
  readonly logger: Logger
  readonly local: string[]
  readonly canaries: Canary[]
  /** Logs through `fn`, which must log exactly one record the policy ships; resolves with the event sent. */
  log(fn: () => void): Promise<OutboundEvent>
  emit(input: EmitInput): Promise<OutboundEvent>
}

function harness(preset: 'permissive' | 'balanced' | 'strict'): Harness {
  const controlPlane = new MemoryControlPlane()
  const ledgerPath = join(dir, `${preset}.ndjson`)
  const policy = definePolicy({ preset }, { env: {} })
  const airlock = new AirlockBoundary({ keys: KeyRing.generate(), controlPlane, ledger: { path: ledgerPath }, policy })
  const canaries = generateCanaries()
  for (const c of canaries) if (c.kind === 'high-entropy') expect(airlock.scrubber.register(c.value)).toEqual({ registered: true })
  const shipped: Promise<OutboundEvent | undefined>[] = []
  const local: string[] = []
  const logger = createLogger({
    policy,
    scrubber: airlock.scrubber,
    ship: ({ level, msg, fields }) => {
      shipped.push(airlock.emit({ kind: 'log', runId, level, msg, fields }))
    },
    destination: { write: (line: string) => void local.push(line) },
    base: null,
  })
  return {
    airlock,
    controlPlane,
    ledgerPath,
    logger,
    local,
    canaries,
    async log(fn) {
      const before = shipped.length
      fn()
      expect(shipped.length, 'one record shipped').toBe(before + 1)
      const event = await shipped[before]
      expect(event?.kind).toBe('log')
      return event!
    },
    async emit(input) {
      const event = await airlock.emit(input)
      expect(event, 'emitted').toBeDefined()
      expect(event!.kind).not.toBe('withheld')
      return event!
    },
  }
}

/** The forms a canary is planted in: itself; a registered secret also URL-encoded, base64 and JSON-escaped. */
function forms(canary: Canary): string[] {
  if (canary.kind !== 'high-entropy') return [canary.value]
  return [
    canary.value,
    encodeURIComponent(canary.value),
    Buffer.from(canary.value).toString('base64'),
    JSON.stringify(canary.value).slice(1, -1),
  ]
}

async function ledgerEvents(path: string): Promise<LedgerEventEntry[]> {
  const text = await readFile(path, 'utf8')
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LedgerEntry)
    .filter((e): e is LedgerEventEntry => e.kind === 'event')
}

/** Every text that must appear nowhere in the ledger file: secrets, their registered forms, and those as JSON writes them. */
function forbiddenTexts(canaries: readonly Canary[]): string[] {
  const texts = canaries.flatMap((c) => (c.kind === 'high-entropy' ? forms(c) : [c.secret]))
  return [...new Set(texts.flatMap((t) => [t, JSON.stringify(t).slice(1, -1)]))]
}

// A location LocalResult accepts as one path segment.
const pathSafe = (c: Canary): boolean => /^[^\s/\\{}]+$/.test(c.value)

// One case per canary: a failure names the canary kind that leaked. Generated here only to name the cases;
// each case plants the canary at the same index of its own harness's fresh set.
const CASES = generateCanaries().map((c, i) => [`${c.kind} (canary #${i})`, i] as const)

describe.each(['balanced', 'strict'] as const)('canary matrix under %s', (preset) => {
  it.each(CASES)('%s reaches neither the control plane nor the ledger, each plant has its transform, and the scan finds nothing', async (_, index) => {
    const h = harness(preset)
    const plants: Plant[] = []
    // strict hashes parameters whole and sends an error's type only: those are the transforms it must record.
    const paramRules = (rule: string): string[] => (preset === 'strict' ? ['parameters.default'] : [rule])
    const errorRules = (rule: string): string[] => (preset === 'strict' ? ['exception-mode'] : [rule])
    // A logged Error is scrubbed as a log field, or as an exception under the exceptions policy.
    const loggedErrorRules = (rule: string): string[] => (preset === 'strict' ? ['exception-mode', rule] : [rule])

    for (const canary of [h.canaries[index]!]) {
      for (const form of forms(canary)) {
        const rule = canary.rule
        const plant = (event: OutboundEvent, what: string, path: string, rules: string[] = [rule]): void => {
          plants.push({ canary, eventId: event.id, what, path, rules })
        }
        plant(await h.log(() => h.logger.warn(`event ${form} happened`)), 'log message', 'msg')
        plant(await h.log(() => h.logger.warn({ note: `see ${form}` }, 'field')), 'log field', 'fields.note')
        plant(await h.log(() => h.logger.warn({ a: { b: [{ c: form }] } }, 'nested')), 'nested log field', 'fields.a.b')
        plant(await h.log(() => h.logger.warn({ password: form }, 'sensitive key')), 'log field under a sensitive key', 'fields.password', ['sensitive-key'])
        plant(await h.log(() => h.logger.warn({ err: new Error(`failed: ${form}`) }, 'error')), 'logged error message', 'fields.err', loggedErrorRules(rule))
        plant(
          await h.log(() => h.logger.warn({ err: new Error('outer', { cause: new Error(`inner ${form}`) }) }, 'cause')),
          'logged error cause',
          'fields.err',
          loggedErrorRules(rule),
        )
        plant(
          await h.log(() => h.logger.warn({ err: new AggregateError([new Error(`agg ${form}`)], 'many') }, 'aggregate')),
          'logged AggregateError',
          'fields.err',
          loggedErrorRules(rule),
        )

        const failed = (error: unknown): EmitInput => ({ kind: 'task-run-state', runId, taskName: 'load', taskRunId: 't1', state: 'Failed', error })
        plant(await h.emit(failed(new Error(`failed: ${form}`))), 'error message', 'failure.message', errorRules(rule))
        plant(await h.emit(failed(new Error('outer', { cause: new Error(`inner ${form}`) }))), 'error cause', 'failure', errorRules(rule))
        plant(await h.emit(failed(new AggregateError([new Error(`agg ${form}`)], 'many'))), 'AggregateError', 'failure', errorRules(rule))
        plant(await h.emit(failed(`thrown ${form}`)), 'thrown string', 'failure.message', errorRules(rule))
        plant(await h.emit(failed({ note: form })), 'thrown object', 'failure.message', errorRules(rule))

        const parameters = await h.emit({ kind: 'parameters', runId, flowName: 'etl', parameters: { note: form, nested: { deep: [`x ${form}`] }, password: form } })
        plant(parameters, 'parameter', 'note', paramRules(rule))
        plant(parameters, 'nested parameter', 'nested.deep', paramRules(rule))
        plant(parameters, 'parameter under a sensitive key', 'password', paramRules('sensitive-key'))

        plant(await h.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running', message: `state ${form}` }), 'state message', 'message')

        // A location without a cipher of its own is encrypted at the door; an inline value is refused.
        if (pathSafe(canary) && form === canary.value) {
          const written = await new LocalResult({ dir: join(dir, 'results'), location: `loc/${form}/out.json` }).write({ rows: 1 }, {})
          const located = await h.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId: 't2', state: 'Success', result: written })
          expect((located as { result?: { location: string } }).result?.location).toMatch(/^alk1\./)
          plant(located, 'location', 'result.location', ['locations.mode'])
        }
        const inline = await new JSONResult().write({ note: form })
        plant(await h.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId: 't3', state: 'Success', result: inline }), 'inline value', 'result.location', ['inlineValues.mode'])
      }
    }
    await h.airlock.close()

    // The kit: nothing reached the control plane, nor the ledger.
    expect(h.controlPlane.events.length).toBe(new Set(plants.map((p) => p.eventId)).size)
    expectNoLeaks(h.controlPlane, h.canaries)
    await expectNoLeaks(h.ledgerPath, h.canaries)
    // The same, checked on the raw bytes without the kit; local output is scrubbed too under this preset.
    const raw = await readFile(h.ledgerPath, 'utf8')
    const localOutput = h.local.join('')
    for (const text of forbiddenTexts(h.canaries)) {
      expect(raw.includes(text), `a canary form is in the ledger file`).toBe(false)
      expect(localOutput.includes(text), `a canary form is in the local log output`).toBe(false)
    }

    // Each plant has its transform in the ledger.
    const entries = new Map((await ledgerEvents(h.ledgerPath)).map((e) => [e.eventId, e]))
    const missing = plants.filter((p) => !entries.get(p.eventId)?.transforms.some((t) => coveredBy(p, t)))
    expect(
      missing.map((p) => `${p.canary.kind} in ${p.what}: no ${p.rules!.join('/')} transform at ${p.path}; got ${JSON.stringify(entries.get(p.eventId)?.transforms)}`),
    ).toEqual([])

    // And the leak scan, with every detector, the canaries and the registered secrets, finds nothing.
    const registered = h.canaries.filter((c) => c.kind === 'high-entropy').map((c) => c.value)
    const scan = await scanLedger(h.ledgerPath, { canaries: h.canaries, registered })
    expect(scan.verified.ok).toBe(true)
    expect(scan.events).toBe(h.controlPlane.events.length)
    expect(scan.findings).toEqual([])
  })
})

describe('the leaky direction: a permissive ledger with canaries in every channel', () => {
  it('the scan finds every planted canary, except registered secrets, which permissive still masks; expectNoLeaks lists them', async () => {
    const h = harness('permissive')
    const plants: Plant[] = []
    const resultsDir = join(dir, 'results')
    for (const canary of h.canaries) {
      const plant = (event: OutboundEvent, what: string): void => void plants.push({ canary, eventId: event.id, what })
      const v = canary.value
      plant(await h.emit({ kind: 'parameters', runId, flowName: 'etl', parameters: { note: v } }), 'parameters')
      plant(await h.log(() => h.logger.info(`log ${v}`)), 'log message')
      plant(await h.log(() => h.logger.info({ nested: { note: v } }, 'field')), 'log field')
      plant(
        await h.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId: 't1', state: 'Failed', error: new Error('outer', { cause: new Error(`inner ${v}`) }) }),
        'exception',
      )
      if (pathSafe(canary)) {
        const written = await new LocalResult({ dir: resultsDir, location: `loc/${v}/out.json` }).write({ rows: 1 }, {})
        expect(written.location).toContain(v)
        plant(await h.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId: 't2', state: 'Success', result: written }), 'location')
      }
      const inline = await new JSONResult().write({ note: v })
      plant(await h.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId: 't3', state: 'Success', result: inline }), 'inline value')
      plant(await h.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running', message: `state ${v}` }), 'state message')
    }
    await h.airlock.close()
    expect(plants.filter((p) => p.what === 'location').length).toBeGreaterThanOrEqual(15)

    const index = new Map(h.canaries.map((c, i) => [c, i]))
    const leaky = plants.filter((p) => p.canary.kind !== 'high-entropy')
    const masked = plants.filter((p) => p.canary.kind === 'high-entropy')

    // With the canaries: a canary finding for every plant of every detector kind, in its event.
    const withCanaries = await scanLedger(h.ledgerPath, { canaries: h.canaries })
    expect(withCanaries.verified.ok).toBe(true)
    const canaryHits = new Set(withCanaries.findings.filter((f) => f.rule === 'canary').map((f) => `${f.eventId} ${f.canary}`))
    expect(leaky.filter((p) => !canaryHits.has(`${p.eventId} ${index.get(p.canary)}`)).map((p) => `${p.canary.kind} in ${p.what}`)).toEqual([])

    // With detectors alone: every detector kind is found by its own detector, in every channel.
    const byDetectors = await scanLedger(h.ledgerPath)
    const ruleHits = new Set(byDetectors.findings.map((f) => `${f.eventId} ${f.rule}`))
    expect(leaky.filter((p) => !ruleHits.has(`${p.eventId} ${p.canary.rule}`)).map((p) => `${p.canary.kind} in ${p.what}`)).toEqual([])

    // Registered secrets are masked even here: never found, each masked with a registered-secret transform.
    expect(withCanaries.findings.filter((f) => f.canary !== undefined && h.canaries[f.canary]!.kind === 'high-entropy')).toEqual([])
    const entries = new Map((await ledgerEvents(h.ledgerPath)).map((e) => [e.eventId, e]))
    expect(masked.filter((p) => !entries.get(p.eventId)?.transforms.some((t) => t.rule === 'registered-secret')).map((p) => p.what)).toEqual([])

    // The kit lists them: every detector kind, none of the registered ones, never a canary itself.
    let thrown: unknown
    try {
      expectNoLeaks(h.controlPlane, h.canaries)
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(CanaryLeakError)
    const error = thrown as CanaryLeakError
    expect(error.code).toBe('ERR_CANARY_LEAKED')
    expect(new Set(error.leaks.map((l) => l.kind))).toEqual(new Set(leaky.map((p) => p.canary.kind)))
    expect(new Set(error.leaks.map((l) => l.eventId))).toEqual(new Set(leaky.map((p) => p.eventId)))
    expect(error.message).toMatch(/^\d+ canary leaks in the control plane's events; expected none:\n {2}- \S+ canary #\d+ \(marker /)
    for (const c of h.canaries) {
      expect(error.message.includes(c.secret)).toBe(false)
      expect(JSON.stringify(error.leaks).includes(c.secret)).toBe(false)
    }
    await expect(expectNoLeaks(h.ledgerPath, h.canaries)).rejects.toMatchObject({ code: 'ERR_CANARY_LEAKED', total: error.total })
  })
})
