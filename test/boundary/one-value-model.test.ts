import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { OutboundEvent } from '../../src/boundary/events.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import type { PolicyInput } from '../../src/policy/policy-input.js'
import { LocalResult } from '../../src/results/local-result.js'
import { Airlock } from '../../src/runtime/airlock.js'

// Each class of the adversarial review, through the public API: emit, the
// real logger, the runtime. Every assertion is on what reached the control
// plane, the ledger and local output.

const SSN = '078-05-1120-canary'
// `#4711`, not `4711`: random ids and hashes in what is sent are hex, and held `4711` once in a while.
const MESSAGE = 'balance of customer #4711 is 93,000 EUR'
const EMAIL = 'ada.lovelace@example.com'
const GITHUB = `ghp_${'A1b2C3d4E5'.repeat(3)}Zz9Yx8`

let dir: string
const open: Airlock[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-value-model-'))
})
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((a) => a.close()))
  await rm(dir, { recursive: true, force: true })
})

interface Harness {
  airlock: Airlock
  keys: KeyRing
  controlPlane: MemoryControlPlane
  ledgerPath: string
  local: string[]
  /** Everything that left or was recorded: the wire, the ledger, local output. */
  everything(): Promise<string>
}

function harness(policy: PolicyInput = {}): Harness {
  const controlPlane = new MemoryControlPlane()
  const keys = KeyRing.generate()
  const ledgerPath = join(dir, `ledger-${open.length}.ndjson`)
  const local: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      local.push(String(chunk))
      callback()
    },
  })
  const airlock = new Airlock({
    policy: definePolicy(policy, { env: {} }),
    keys,
    controlPlane,
    ledger: { path: ledgerPath },
    logger: { destination, level: 'trace' },
  })
  open.push(airlock)
  return {
    airlock,
    keys,
    controlPlane,
    ledgerPath,
    local,
    async everything() {
      await airlock.flush()
      return `${JSON.stringify(controlPlane.events)}\n${await readFile(ledgerPath, 'utf8')}\n${local.join('')}`
    },
  }
}

class Customer {
  readonly name = 'Ada'
  constructor(readonly ssn: string) {}
}

class OrmDocument {
  readonly #row: Record<string, unknown>
  constructor(row: Record<string, unknown>) {
    this.#row = row
  }
  toJSON(): Record<string, unknown> {
    return { ...this.#row }
  }
}

/** The same data, `{ name, ssn }`, in every shape a value can take. */
const SHAPES: [string, () => unknown][] = [
  ['plain object', () => ({ name: 'Ada', ssn: SSN })],
  ['class instance', () => new Customer(SSN)],
  ['object with toJSON', () => ({ toJSON: () => ({ name: 'Ada', ssn: SSN }) })],
  ['ORM document (private state, toJSON)', () => new OrmDocument({ name: 'Ada', ssn: SSN })],
  ['Map', () => new Map([['name', 'Ada'], ['ssn', SSN]])],
  ['null-prototype object', () => Object.assign(Object.create(null) as object, { name: 'Ada', ssn: SSN })],
  ['Proxy', () => new Proxy({ name: 'Ada', ssn: SSN }, {})],
  ['toJSON returning a Map', () => ({ toJSON: () => new Map([['name', 'Ada'], ['ssn', SSN]]) })],
]

function parametersOf(controlPlane: MemoryControlPlane): Record<string, unknown> {
  const event = controlPlane.events.find((e): e is Extract<OutboundEvent, { kind: 'parameters' }> => e.kind === 'parameters')
  if (event === undefined) throw new Error('no parameters event')
  return event.parameters
}

describe('path rules see through every shape of value', () => {
  it.each(SHAPES)('parameters.rules redact and drop inside a %s', async (_shape, make) => {
    const h = harness({ parameters: { default: 'scrub', rules: { 'customer.ssn': 'redact', 'doc.ssn': 'drop' } } })
    await h.airlock.emit({ kind: 'parameters', runId: 'r1', flowName: 'etl', parameters: { customer: make(), doc: make() } })
    expect(await h.everything()).not.toContain(SSN)
    const parameters = parametersOf(h.controlPlane)
    expect(parameters.customer).toMatchObject({ name: 'Ada', ssn: '[REDACTED:customer.ssn]' })
    expect(parameters.doc).toMatchObject({ name: 'Ada' })
    expect(parameters.doc).not.toHaveProperty('ssn')
  })

  it.each(SHAPES)('logs.redactPaths replace a field inside a %s, on the wire and in local output', async (_shape, make) => {
    const h = harness({ logs: { redactPaths: ['user.ssn', 'order.customer.ssn'] } })
    h.airlock.logger.info({ user: make(), order: { customer: make() } }, 'loaded')
    expect(await h.everything()).not.toContain(SSN)
    const log = h.controlPlane.events.find((e) => e.kind === 'log')
    expect(log).toMatchObject({ fields: { user: { name: 'Ada', ssn: '[REDACTED:redact-path]' } } })
    expect(h.local.join('')).toContain('[REDACTED:redact-path]')
  })

  it('settles a container whole only when no earlier rule names something inside it', async () => {
    // File order decides: both earlier rules name something under db, so db is walked into, not encrypted whole.
    const h = harness({ parameters: { default: 'scrub', rules: { '**.password': 'drop', 'db.host': 'allow', db: 'encrypt' } } })
    await h.airlock.emit({ kind: 'parameters', runId: 'r1', flowName: 'etl', parameters: { db: { host: 'db.internal', port: 5432, password: 'pw-x-1234567' } } })
    const db = parametersOf(h.controlPlane).db as Record<string, string>
    expect(db.host).toBe('db.internal')
    expect(await new ValueCipher(h.keys).decrypt(db.port!)).toBe('5432')
    expect(db).not.toHaveProperty('password')
    expect(await h.everything()).not.toContain('pw-x-1234567')
  })
})

/** An Error hidden in every position a value can hold one. */
function errorPositions(err: Error): [string, unknown][] {
  class Holder {
    constructor(readonly inner: unknown) {}
  }
  const aggregate = new AggregateError([err], 'several')
  return [
    ['a Map value', new Map([['e', err]])],
    ['a Set member', new Set([err])],
    ['a class instance', new Holder(err)],
    ['deep in plain data', { a: [{ b: { c: err } }] }],
    ['a toJSON result', { toJSON: () => ({ e: err }) }],
    ['an AggregateError', aggregate],
    ['the cause of another error', new Error('outer', { cause: err })],
    ['a field of a thrown object', { nested: { reason: err } }],
  ]
}

describe('an error anywhere obeys the exceptions policy', () => {
  it.each(errorPositions(new RangeError(MESSAGE)))('under strict, an error in %s ships its type only, from log fields', async (_where, holder) => {
    const h = harness({ preset: 'strict' })
    h.airlock.logger.error({ holder }, 'failed')
    const wire = JSON.stringify(h.controlPlane.events)
    await h.airlock.flush()
    const sent = JSON.stringify(h.controlPlane.events) + (await readFile(h.ledgerPath, 'utf8'))
    expect(wire).not.toContain('93,000')
    expect(sent).not.toContain('93,000')
    expect(sent).not.toContain('#4711')
    expect(sent).not.toMatch(/\s{4}at /)
    expect(sent).toContain('RangeError')
  })

  it.each(errorPositions(new RangeError(MESSAGE)))('under strict, an error in %s ships its type only, from parameters the policy allows', async (_where, holder) => {
    const h = harness({ preset: 'strict', parameters: { rules: { cfg: 'allow' } } })
    await h.airlock.emit({ kind: 'parameters', runId: 'r1', flowName: 'etl', parameters: { cfg: holder } })
    const sent = await h.everything()
    expect(sent).not.toContain('93,000')
    expect(sent).not.toMatch(/\s{4}at /)
    expect(sent).toContain('RangeError')
  })

  it.each(errorPositions(new RangeError(MESSAGE)))('with stacks dropped, a task that throws %s sends no stack', async (_where, holder) => {
    const h = harness({ exceptions: { mode: 'scrubbed', stack: 'drop' } })
    // Rejects rather than throws: a task wraps async functions.
    const task = h.airlock.task(() => Promise.reject(holder as Error), { name: 'load' })
    await expect(task()).rejects.toBe(holder)
    await h.airlock.flush()
    const sent = JSON.stringify(h.controlPlane.events) + (await readFile(h.ledgerPath, 'utf8'))
    expect(sent).not.toMatch(/\s{4}at /)
    expect(sent).toContain('RangeError')
  })

  it('holds a thrown non-Error that carries an error to the same mode', async () => {
    const h = harness({ exceptions: { mode: 'scrubbed', stack: 'drop' } })
    await h.airlock.emit({
      kind: 'task-run-state',
      runId: 'r1',
      taskName: 'load',
      taskRunId: 't1',
      state: 'Failed',
      error: { code: 'E_GATEWAY', inner: new TypeError(`gateway said ${EMAIL}`) },
    })
    const sent = await h.everything()
    expect(sent).not.toContain(EMAIL)
    expect(sent).not.toMatch(/\s{4}at /)
    const failure = (h.controlPlane.events[0] as Extract<OutboundEvent, { kind: 'task-run-state' }>).failure
    expect(failure?.type).toBe('NonError')
    expect(failure?.message).toContain('TypeError')
  })
})

describe('every string that leaves is scrubbed first, cut after', () => {
  it('scrubs a direct emit\'s runId and taskRunId, and a withheld event carries no run id built from data', async () => {
    const h = harness()
    await h.airlock.emit({ kind: 'task-run-state', runId: `run-for-${EMAIL}`, taskName: 'load', taskRunId: GITHUB, state: 'Running' })
    await h.airlock.emit({ kind: 'parameters', runId: EMAIL, flowName: 'etl', parameters: 'not-an-object' as never })
    const sent = await h.everything()
    expect(sent).not.toContain(EMAIL)
    expect(sent).not.toContain(GITHUB.slice(4, 20))
    expect(h.controlPlane.events[1]).toMatchObject({ kind: 'withheld', runId: 'unknown' })
  })

  it('scrubs a result reference\'s type and backend identifiers', async () => {
    const h = harness()
    const result = { inline: false, toJSON: () => ({ type: `local-${EMAIL}`, location: 'a/b.json', bucket: GITHUB, [EMAIL]: 'x' }) }
    await h.airlock.emit({ kind: 'task-run-state', runId: 'r1', taskName: 'load', taskRunId: 't1', state: 'Success', result })
    const sent = await h.everything()
    expect(sent).not.toContain(EMAIL)
    expect(sent).not.toContain(GITHUB.slice(4, 20))
  })

  it('scrubs an error code and type before cutting them, so no head of a secret is left', async () => {
    const h = harness()
    // Cut first, the 64th and 128th characters would fall inside the token, leaving a head too short to recognise.
    const err = Object.assign(new Error('boom'), { code: `${'E'.repeat(50)}:${GITHUB}` })
    const typeName = `Err${'x'.repeat(110)}$${GITHUB}`
    const Named = { [typeName]: class extends Error {} }[typeName]!
    await h.airlock.emit({ kind: 'task-run-state', runId: 'r1', taskName: 'load', taskRunId: 't1', state: 'Failed', error: err })
    await h.airlock.emit({ kind: 'task-run-state', runId: 'r1', taskName: 'load', taskRunId: 't2', state: 'Failed', error: new Named('x') })
    const sent = await h.everything()
    expect(sent).not.toContain(GITHUB.slice(0, 12))
    const failure = (h.controlPlane.events[0] as Extract<OutboundEvent, { kind: 'task-run-state' }>).failure
    expect(failure?.code?.length).toBeLessThanOrEqual(64)
    expect(failure?.code).toMatch(/^E{50}:\[REDACTED/)
  })

  it('masks registered secrets in the type and code inside an encrypted-mode token', async () => {
    const h = harness({ exceptions: { mode: 'encrypted' } })
    const secret = 'Zq7-registered-9XkP'
    h.airlock.scrubber.register(secret)
    const Named = { [`Err${secret}`]: class extends Error {} }[`Err${secret}`]
    const err = Object.assign(new Named(`failed with ${secret}`), { code: `CODE-${secret}` })
    await h.airlock.emit({ kind: 'task-run-state', runId: 'r1', taskName: 'load', taskRunId: 't1', state: 'Failed', error: err })
    await h.airlock.flush()
    const failure = (h.controlPlane.events[0] as Extract<OutboundEvent, { kind: 'task-run-state' }>).failure
    const plaintext = await new ValueCipher(h.keys).decrypt(failure?.token ?? '')
    expect(plaintext).not.toContain(secret)
    expect(JSON.parse(plaintext)).toMatchObject({ type: 'Err[REDACTED:registered-secret]', code: 'CODE-[REDACTED:registered-secret]' })
  })

  it('hides the names the names rule hides in the messages and failures of their own event', async () => {
    const h = harness({ states: { names: 'hash' }, exceptions: { mode: 'scrubbed', stack: 'scrubbed' } })
    await h.airlock.emit({
      kind: 'task-run-state',
      runId: 'r1',
      flowName: 'nightly-billing',
      taskName: 'charge-cards',
      taskRunId: 't1',
      state: 'Failed',
      message: 'charge-cards of nightly-billing gave up',
      error: new Error('charge-cards could not reach the bank'),
      tags: ['tenant-acme'],
    })
    const sent = await h.everything()
    for (const name of ['nightly-billing', 'charge-cards']) expect(sent.split('\n').slice(0, -1).join('\n')).not.toContain(name)
  })
})

describe('fail closed, and counted', () => {
  it('withholds (and counts) an input whose getters throw, instead of rejecting with the caller\'s error', async () => {
    const h = harness()
    const boom = new Error(`getter read ${EMAIL}`)
    const hostile = {
      kind: 'parameters',
      flowName: 'etl',
      get runId(): string {
        throw boom
      },
      parameters: {},
    }
    const sent = await h.airlock.emit(hostile as never)
    expect(sent).toMatchObject({ kind: 'withheld', channel: 'parameters', runId: 'unknown' })
    const nested = {
      kind: 'log',
      runId: 'r1',
      level: 'info',
      msg: 'x',
      get fields(): Record<string, unknown> {
        throw boom
      },
    }
    expect(await h.airlock.emit(nested as never)).toMatchObject({ kind: 'withheld', channel: 'logs' })
    expect(h.airlock.stats().withheld).toEqual({ parameters: 1, logs: 1 })
    expect(await h.everything()).not.toContain(EMAIL)
  })

  it('bounds attacker-chosen keys in transform paths, so the ledger records the event and it is sent', async () => {
    const h = harness()
    let fields: Record<string, unknown> = { token: GITHUB }
    for (let i = 0; i < 25; i++) fields = { [`${'k'.repeat(120)}${i}`]: fields }
    h.airlock.logger.warn(fields, 'deep')
    await h.airlock.flush()
    expect(h.controlPlane.events.map((e) => e.kind)).toEqual(['log'])
    expect(h.airlock.stats().ledgerFailures).toBe(0)
    const [entry] = (await readFile(h.ledgerPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { transforms: { path: string }[] })
    expect(entry!.transforms.length).toBeGreaterThan(0)
    for (const t of entry!.transforms) expect(t.path.length).toBeLessThanOrEqual(512)
    expect(await h.everything()).not.toContain(GITHUB.slice(4, 20))
  })

  it('puts a ledgered withheld event on the wire when the ledger refuses an entry for its content', async () => {
    const longRule = 'x'.repeat(300)
    const h = harness({ parameters: { default: 'scrub', rules: { [longRule]: 'drop' } } })
    const sent = await h.airlock.emit({ kind: 'parameters', runId: 'r1', flowName: 'etl', parameters: { [longRule]: 'gone', keep: 1 } })
    expect(sent).toMatchObject({ kind: 'withheld', channel: 'parameters', reason: 'ledger:ERR_INVALID_ARGUMENT' })
    await h.airlock.flush()
    expect(h.controlPlane.events).toEqual([sent])
    const ledger = (await readFile(h.ledgerPath, 'utf8')).trim().split('\n')
    expect(ledger).toHaveLength(1)
    expect(JSON.parse(ledger[0]!)).toMatchObject({ status: 'withheld', eventId: sent?.id })
    expect(h.airlock.stats()).toMatchObject({ withheld: { parameters: 1 }, ledgerFailures: 0 })
  })
})

describe('transform paths carry scrubbed keys only', () => {
  it('never writes a key that is itself an email into the ledger: redact-path wildcards, errors and results under it', async () => {
    const h = harness({ logs: { redactPaths: ['byEmail.*'] } })
    const written = await new LocalResult({ dir: join(dir, 'results'), location: 'r.json' }).write(1, {})
    h.airlock.logger.info({ byEmail: { [EMAIL]: 'x' }, errors: { [EMAIL]: new Error('x') }, results: { [EMAIL]: written } }, 'keyed')
    await h.airlock.emit({ kind: 'parameters', runId: 'r1', flowName: 'etl', parameters: { [EMAIL]: { err: new Error('y'), ref: written } } })
    await h.airlock.flush()
    const ledger = await readFile(h.ledgerPath, 'utf8')
    expect(ledger).not.toContain(EMAIL)
    expect(JSON.stringify(h.controlPlane.events)).not.toContain(EMAIL)
    expect(ledger).toContain('[REDACTED:email]')
  })
})
