import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { outboundEventSchema, type OutboundEvent } from '../../src/boundary/events.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { Airlock } from '../../src/runtime/airlock.js'
import { generateCanaries, type Canary } from '../../src/testing/generate-canaries.js'
import { expectNoLeaks } from '../../src/testing/expect-no-leaks.js'

/*
 * The property behind the canary matrix: whatever shape a value takes
 * (objects, arrays, Maps, Sets, class instances, toJSON objects, Errors with
 * causes, bytes, long strings, JSON text with escapes), wherever it is
 * handed over (parameters, log messages, fields, bindings, logged errors,
 * task failures), under every preset, no canary reaches the control plane
 * or the ledger, and every event is sent or a counted withheld event.
 *
 * Runs per preset: AIRLOCK_PROPERTY_RUNS (default 350, so over 1,000 in all).
 * A failure prints fast-check's seed and shrunk counterexample; replay it
 * with `fc.assert(..., { seed, path })`.
 */

const RUNS = Number(process.env.AIRLOCK_PROPERTY_RUNS ?? 350)
const PRESETS = ['permissive', 'balanced', 'strict'] as const

const canaries = generateCanaries()
const registered = canaries.filter((c) => c.kind === 'high-entropy')
// permissive masks only registered secrets; the detectors are off there by design.
const mustNotLeak = (preset: (typeof PRESETS)[number]): Canary[] => (preset === 'permissive' ? registered : canaries)

// Every form of a registered secret the platform's own encoders make.
function encodings(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(JSON.stringify(secret)).slice(1, -1),
    new URLSearchParams({ q: secret }).toString().slice(2),
    encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('base64url'),
  ]
}

const needle = fc.oneof(
  fc.constantFrom(...canaries.map((c) => c.value)),
  fc.constantFrom(...registered.flatMap((c) => encodings(c.value))),
)
// What may stand between a canary and the text around it: a token needs a boundary to be one.
// Escape sequences are boundaries too, in JSON, JavaScript and URL text held in a string.
const separator = fc.constantFrom(' ', '\n', '\t', ', ', ' | ', '"', "'", '(', ')', '; ', ' = ', '\\n', '\\t', '\\r', '\\u0022', '\\\\n', '%20', '%0A', '%22', '\\x20')
const filler = fc.string({ maxLength: 24 })
const planted = fc
  .tuple(filler, separator, needle, separator, filler)
  .map(([before, open, value, close, after]) => `${before}${open}${value}${close}${after}`)
const text = fc.oneof(
  { weight: 3, arbitrary: planted },
  { weight: 1, arbitrary: filler },
  // The same text inside JSON held in a string: a log message carrying a response body.
  { weight: 2, arbitrary: planted.map((t) => JSON.stringify({ body: t, list: [t] })) },
  // Long strings: past the scrubber's string bound, with the canary anywhere.
  { weight: 1, arbitrary: fc.tuple(fc.nat(12_000), planted).map(([pad, t]) => `${'x '.repeat(pad >> 1)}${t}`) },
)
const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('id', 'note', 'user', 'body', 'meta', 'items') }, { weight: 1, arbitrary: planted })

class Holder {
  constructor(readonly inner: unknown) {}
}

const { value: tree } = fc.letrec<{ value: unknown; error: Error }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => new Set(items)),
    tie('value').map((inner) => new Holder(inner)),
    tie('value').map((inner) => ({ toJSON: () => inner })),
    tie('error'),
    text.map((t) => Buffer.from(t)),
  ),
  error: fc
    .tuple(text, fc.option(tie('error'), { nil: undefined }), fc.option(tie('value'), { nil: undefined }))
    .map(([message, cause, detail]) => {
      const err = new Error(message, cause === undefined ? undefined : { cause })
      if (detail !== undefined) Object.assign(err, { detail })
      return err
    }),
}))

const scenario = fc.record({
  parameters: fc.dictionary(key, tree, { maxKeys: 4 }),
  message: text,
  fields: fc.dictionary(key, tree, { maxKeys: 4 }),
  bindings: fc.dictionary(fc.constantFrom('tenant', 'job', 'origin'), text, { maxKeys: 2, noNullPrototype: true }),
  thrown: fc.oneof(tree, tree.map((inner) => new Error('task failed', { cause: inner }))),
})

describe.each(PRESETS)('under %s, no planted canary leaves, whatever shape carries it', (preset) => {
  let dir: string
  let airlock: Airlock
  let controlPlane: MemoryControlPlane
  let ledgerPath: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `airlock-property-${preset}-`))
    controlPlane = new MemoryControlPlane()
    ledgerPath = join(dir, 'ledger.ndjson')
    airlock = new Airlock({
      policy: definePolicy({ preset }, { env: {} }),
      keys: KeyRing.generate(),
      controlPlane,
      ledger: { path: ledgerPath },
      // Local output is the team's own; it is scrubbed too, but only what leaves is asserted here.
      logger: { destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }), level: 'warn' },
    })
    for (const canary of registered) airlock.scrubber.register(canary.value)
  })

  afterAll(async () => {
    await airlock.close()
    await rm(dir, { recursive: true, force: true })
  })

  it(`holds for ${RUNS} generated scenarios`, { timeout: 600_000 }, async () => {
    const failing = airlock.task((thrown: unknown) => Promise.reject(thrown as Error), { name: 'property-task' })
    let shippedLogs = 0
    await fc.assert(
      fc.asyncProperty(scenario, async ({ parameters, message, fields, bindings, thrown }) => {
        const from = controlPlane.events.length
        const emitted = await airlock.emit({ kind: 'parameters', runId: 'property-run', flowName: 'property-flow', parameters })
        expect(emitted).toBeDefined()
        const logger = airlock.logger.child(bindings)
        logger.warn(fields, message)
        logger.error({ err: thrown }, message)
        logger.error(thrown instanceof Error ? thrown : new Error(message))
        shippedLogs += 3
        await failing(thrown).catch(() => undefined)
        await airlock.flush()

        const sent = controlPlane.events.slice(from)
        for (const event of sent) expect(outboundEventSchema.safeParse(event).success).toBe(true)
        expectNoLeaks({ events: sent }, mustNotLeak(preset))
      }),
      { numRuns: RUNS },
    )

    // Nothing vanished: every emit is on the wire, as itself or as a counted withheld event, and in the ledger.
    const stats = airlock.stats()
    expect(stats.ledgerFailures).toBe(0)
    expect(stats.deliveryFailures).toBe(0)
    const counted = Object.values(stats.events).reduce((a, b) => a + b, 0) + Object.values(stats.withheld).reduce((a, b) => a + b, 0)
    expect(counted).toBe(controlPlane.events.length)
    const logEvents = controlPlane.events.filter((e: OutboundEvent) => e.kind === 'log' || (e.kind === 'withheld' && e.channel === 'logs'))
    expect(logEvents).toHaveLength(shippedLogs)
    const ledger = (await readFile(ledgerPath, 'utf8')).trim().split('\n')
    expect(ledger.filter((line) => line.includes('"kind":"event"'))).toHaveLength(controlPlane.events.length)
    await expectNoLeaks(ledgerPath, mustNotLeak(preset))
  })
})
