import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LedgerEntry } from '../../src/audit/ledger-entry.js'
import { verifyLedger } from '../../src/audit/verify-ledger.js'
import { AirlockBoundary, type AirlockOptions } from '../../src/boundary/airlock-boundary.js'
import { FileControlPlane } from '../../src/boundary/file-control-plane.js'
import { HttpControlPlane } from '../../src/boundary/http-control-plane.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import type { OutboundEvent } from '../../src/boundary/events.js'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { MemorySecretProvider } from '../../src/crypto/secret.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { JSONResult } from '../../src/results/json-result.js'
import { LocalResult } from '../../src/results/local-result.js'
import { ControlPlaneServer } from '../support/control-plane-server.js'

let dir: string
const open: AirlockBoundary[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-boundary-'))
})
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((a) => a.close()))
  await rm(dir, { recursive: true, force: true })
})

function boundary(options: Partial<AirlockOptions> = {}): { airlock: AirlockBoundary; controlPlane: MemoryControlPlane; keys: KeyRing; ledgerPath: string } {
  const controlPlane = new MemoryControlPlane()
  const keys = options.keys ?? KeyRing.generate()
  const ledgerPath = join(dir, 'ledger.ndjson')
  const airlock = new AirlockBoundary({ keys, controlPlane, ledger: { path: ledgerPath }, policy: definePolicy({}, { env: {} }), ...options })
  open.push(airlock)
  return { airlock, controlPlane: (options.controlPlane as MemoryControlPlane | undefined) ?? controlPlane, keys, ledgerPath }
}

async function ledgerEntries(path: string): Promise<LedgerEntry[]> {
  const text = await readFile(path, 'utf8')
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LedgerEntry)
}

const runId = 'run-1'
const email = 'ada.lovelace@example.com'
const awsKey = 'AKIAQ3EXAMPLEKEY7X2B'

describe('AirlockBoundary.emit', () => {
  it('stamps id, time and policy hash, and ledgers the exact JSON it sends', async () => {
    const { airlock, controlPlane, ledgerPath } = boundary()
    const sent = await airlock.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running' })
    await airlock.close()
    expect(controlPlane.events).toHaveLength(1)
    const event = controlPlane.events[0]
    expect(event).toEqual(sent)
    expect(event).toMatchObject({ v: 1, kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running', policyHash: airlock.policyHash })
    expect(event?.id).toMatch(/^[0-9a-f-]{36}$/)
    const [entry] = await ledgerEntries(ledgerPath)
    expect(entry).toMatchObject({ kind: 'event', channel: 'states', eventId: event?.id, policyHash: airlock.policyHash, status: 'sent' })
    expect((entry as { event: unknown }).event).toEqual(event)
    expect((await verifyLedger(ledgerPath)).ok).toBe(true)
  })

  it('replaces an event whose policy step throws by a withheld event, and sends nothing else', async () => {
    const { airlock, controlPlane, ledgerPath } = boundary()
    const planted = 'location-that-must-not-leave/secret-path.json'
    const hostile = {
      toJSON(): never {
        throw new Error(`cannot describe ${planted}`)
      },
    }
    const sent = await airlock.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId: 't1', state: 'Success', result: hostile })
    await airlock.close()
    expect(controlPlane.events).toEqual([sent])
    // Normalizing reads the result once, and a toJSON that throws makes it no result at all.
    expect(sent).toMatchObject({ kind: 'withheld', channel: 'states', reason: 'validate:ERR_EVENT_INVALID', runId })
    expect(Object.keys(sent ?? {}).sort()).toEqual(['channel', 'id', 'kind', 'policyHash', 'reason', 'runId', 'time', 'v'])
    expect(JSON.stringify(controlPlane.events)).not.toContain(planted)
    expect(JSON.stringify(controlPlane.events)).not.toContain('load')
    const entries = await ledgerEntries(ledgerPath)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ status: 'withheld', channel: 'states' })
    expect(await readFile(ledgerPath, 'utf8')).not.toContain(planted)
    expect(airlock.stats().withheld).toEqual({ states: 1 })
  })

  it('withholds an event that fails validation, naming only the channel and the reason class', async () => {
    const { airlock, controlPlane } = boundary()
    // A state the schema does not know, carrying a value that must not leak.
    const sent = await airlock.emit({ kind: 'parameters', runId, flowName: 'etl', parameters: 'not-an-object' as never })
    await airlock.flush()
    expect(sent).toMatchObject({ kind: 'withheld', channel: 'parameters' })
    expect((sent as { reason: string }).reason).toMatch(/^validate:/)
    expect(controlPlane.events).toHaveLength(1)
    expect(JSON.stringify(controlPlane.events)).not.toContain('not-an-object')
  })

  it('applies per-key parameter rules: allow, scrub, hash, encrypt, redact, drop and the default', async () => {
    const keys = KeyRing.generate()
    const policy = definePolicy(
      {
        parameters: {
          default: 'scrub',
          rules: { region: 'allow', 'customer.id': 'hash', 'customer.card': 'encrypt', notes: 'redact', 'debug.*': 'drop' },
        },
      },
      { env: {} },
    )
    const { airlock, controlPlane, ledgerPath } = boundary({ keys, policy })
    await airlock.emit({
      kind: 'parameters',
      runId,
      flowName: 'etl',
      parameters: {
        region: 'eu-west-1',
        customer: { id: 4711, card: '4111 1111 1111 1111', contact: email },
        notes: 'call back tomorrow',
        debug: { trace: true },
        db: { password: 'pw-that-is-long-enough' },
        batch: 3,
      },
    })
    await airlock.close()
    const event = controlPlane.events[0] as Extract<OutboundEvent, { kind: 'parameters' }>
    const params = event.parameters
    expect(params.region).toBe('eu-west-1')
    expect(params.batch).toBe(3)
    const customer = params.customer as Record<string, string>
    expect(customer.id).toBe(new Fingerprinter(keys).fingerprint('4711'))
    expect(await new ValueCipher(keys).decrypt(customer.card ?? '')).toBe('"4111 1111 1111 1111"')
    expect(customer.contact).toBe('[REDACTED:email]')
    expect(params.notes).toBe('[REDACTED:notes]')
    expect(params.debug).toEqual({})
    expect(params.db).toEqual({ password: '[REDACTED:sensitive-key]' })
    const wire = JSON.stringify(controlPlane.events)
    for (const planted of [email, '4111 1111 1111 1111', 'call back tomorrow', 'pw-that-is-long-enough']) expect(wire).not.toContain(planted)

    const [entry] = await ledgerEntries(ledgerPath)
    const transforms = (entry as { transforms: { path: string; rule: string; action: string }[] }).transforms
    expect(transforms).toEqual(
      expect.arrayContaining([
        { path: 'customer.id', rule: 'customer.id', action: 'hash' },
        { path: 'customer.card', rule: 'customer.card', action: 'encrypt' },
        { path: 'customer.contact', rule: 'email', action: 'redact' },
        { path: 'notes', rule: 'notes', action: 'redact' },
        { path: 'debug.trace', rule: 'debug.*', action: 'drop' },
        { path: 'db.password', rule: 'sensitive-key', action: 'redact' },
      ]),
    )
    expect(JSON.stringify(transforms)).not.toContain(email)
    expect(airlock.stats().actions.parameters).toMatchObject({ hash: 1, encrypt: 1, drop: 1 })
  })

  it('scrubs parameter keys, not only values, under every preset', async () => {
    for (const preset of ['balanced', 'strict'] as const) {
      const { airlock, controlPlane, ledgerPath } = boundary({ policy: definePolicy({ preset }, { env: {} }) })
      await airlock.emit({ kind: 'parameters', runId, flowName: 'etl', parameters: { balances: { [email]: 1200, [awsKey]: 1 } } })
      await airlock.close()
      expect(JSON.stringify(controlPlane.events)).not.toContain(email)
      expect(JSON.stringify(controlPlane.events)).not.toContain(awsKey)
      const ledger = await readFile(ledgerPath, 'utf8')
      expect(ledger).not.toContain(email)
      expect(ledger).not.toContain(awsKey)
      await rm(ledgerPath)
    }
  })

  it('applies parameter rules inside arrays, and never lets a dotted key pose as a path', async () => {
    const policy = definePolicy(
      { preset: 'strict', parameters: { rules: { 'customers.*.ssn': 'drop', '**.iban_hint': 'encrypt', 'tenants.*.displayName': 'allow' } } },
      { env: {} },
    )
    const { airlock, controlPlane } = boundary({ policy })
    await airlock.emit({
      kind: 'parameters',
      runId,
      flowName: 'etl',
      parameters: {
        customers: [{ ssn: '123-45-6789', iban_hint: 'DE89 3704' }],
        tenants: { acme: { displayName: 'Acme' }, 'evil.displayName': 'tok_live_abcdef123' },
      },
    })
    await airlock.flush()
    const parameters = (controlPlane.events[0] as Extract<OutboundEvent, { kind: 'parameters' }>).parameters
    const [customer] = parameters.customers as Record<string, string>[]
    expect(customer).not.toHaveProperty('ssn')
    expect(customer?.iban_hint).toMatch(/^alkv1\./)
    const tenants = parameters.tenants as Record<string, unknown>
    expect(tenants.acme).toEqual({ displayName: 'Acme' })
    expect(String(tenants['evil.displayName'])).toMatch(/^fp1\./)
    expect(JSON.stringify(controlPlane.events)).not.toContain('tok_live_abcdef123')
    expect(JSON.stringify(controlPlane.events)).not.toContain('123-45-6789')
  })

  it('withholds parameters over the node budget, and walks cycles once', async () => {
    const policy = definePolicy({ scrub: { maxNodes: 100 } }, { env: {} })
    const { airlock, controlPlane } = boundary({ policy })
    const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]))
    const tooWide = await airlock.emit({ kind: 'parameters', runId, flowName: 'etl', parameters: wide })
    expect(tooWide).toMatchObject({ kind: 'withheld', channel: 'parameters' })
    const cfg: Record<string, unknown> = { name: 'cfg' }
    cfg.left = cfg
    cfg.right = cfg
    const cyclic = await airlock.emit({ kind: 'parameters', runId, flowName: 'etl', parameters: { cfg } })
    expect(cyclic).toMatchObject({ kind: 'parameters', parameters: { cfg: { name: 'cfg', left: '[Circular]', right: '[Circular]' } } })
    await airlock.flush()
    expect(controlPlane.events).toHaveLength(2)
  })

  it('encrypts a location that merely looks like a token', async () => {
    const { airlock, controlPlane, keys } = boundary()
    const forged = { inline: false, toJSON: () => ({ type: 'local', location: `alk1.${email}/orders.json` }) }
    await airlock.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId: 't1', state: 'Success', result: forged })
    await airlock.flush()
    const location = (controlPlane.events[0] as Extract<OutboundEvent, { kind: 'task-run-state' }>).result?.location ?? ''
    expect(location).not.toContain(email)
    expect(await new LocationCipher(keys).decrypt(location)).toBe(`alk1.${email}/orders.json`)
  })

  it('holds Errors and Results inside log fields to the exceptions and locations policies', async () => {
    const policy = definePolicy({ preset: 'strict', logs: { level: 'info' } }, { env: {} })
    const { airlock, controlPlane } = boundary({ policy })
    const written = await new LocalResult({ dir, location: 'customers/acme-gmbh/ledger.json' }).write(1, {})
    const err = new Error('balance for customer 4711 is 93,000 EUR')
    await airlock.emit({ kind: 'log', runId, level: 'error', msg: 'failed', fields: { err, nested: { result: written } } })
    await airlock.flush()
    const wire = JSON.stringify(controlPlane.events)
    expect(wire).not.toContain('93,000')
    expect(wire).not.toContain('acme-gmbh')
    expect(wire).not.toContain('    at ')
    const fields = (controlPlane.events[0] as Extract<OutboundEvent, { kind: 'log' }>).fields as { err: unknown; nested: { result: { location: string } } }
    expect(fields.err).toEqual({ type: 'Error' })
    expect(LocationCipher.isToken(fields.nested.result.location)).toBe(true)
  })

  it('registers every secret an SDK provider resolves, with no wiring', async () => {
    const policy = definePolicy({ preset: 'permissive' }, { env: {} })
    const { airlock, controlPlane } = boundary({ policy })
    const provider = new MemorySecretProvider({ warehouse: 'wh-secret-resolved-7q2' })
    await provider.get('warehouse')
    await airlock.emit({ kind: 'parameters', runId, flowName: 'etl', parameters: { dsn: 'user:wh-secret-resolved-7q2@wh' } })
    await airlock.close()
    expect(JSON.stringify(controlPlane.events)).not.toContain('wh-secret-resolved-7q2')
    // A closed Airlock stops listening: nothing holds on to it.
    const sizeAfterClose = airlock.scrubber.size
    provider.set('other', 'another-secret-5x8')
    await provider.get('other')
    expect(airlock.scrubber.size).toBe(sizeAfterClose)
  })

  it('masks registered secrets even in parameters the policy allows', async () => {
    const policy = definePolicy({ preset: 'permissive' }, { env: {} })
    const { airlock, controlPlane } = boundary({ policy })
    airlock.scrubber.register('hunter2-registered-secret', { name: 'db' })
    await airlock.emit({ kind: 'parameters', runId, flowName: 'etl', parameters: { dsnish: 'user=x pass=hunter2-registered-secret', email } })
    await airlock.flush()
    const wire = JSON.stringify(controlPlane.events)
    expect(wire).not.toContain('hunter2-registered-secret')
    // permissive sends everything else as it is.
    expect(wire).toContain(email)
  })

  it('masks a secret registered after ids holding it were sent clean, in run ids and task run ids alike', async () => {
    const { airlock, controlPlane, ledgerPath } = boundary()
    const secret = 'zq8-late-secret-77ab12cd34'
    const id = `run-${secret}`
    const events = [
      { kind: 'flow-run-state', runId: id, flowName: 'etl', state: 'Running' },
      { kind: 'task-run-state', runId: id, taskName: 'load', taskRunId: id, state: 'Running' },
      { kind: 'log', runId: id, level: 'info', msg: 'loaded', taskRunId: id },
    ] as const
    for (const event of events) await airlock.emit(event)
    // Before it is registered the id is nothing any rule finds: it leaves as it is.
    expect(JSON.stringify(controlPlane.events)).toContain(secret)
    airlock.scrubber.register(secret, { name: 'late' })
    const before = controlPlane.events.length
    for (const event of events) await airlock.emit(event)
    await airlock.close()
    const after = controlPlane.events.slice(before)
    expect(after).toHaveLength(3)
    expect(JSON.stringify(after)).not.toContain(secret)
    const entries = await ledgerEntries(ledgerPath)
    expect(JSON.stringify(entries.slice(-3))).not.toContain(secret)
  })

  it('encrypts a plain location at the door, and refuses inline values under balanced', async () => {
    const { airlock, controlPlane, keys } = boundary()
    const plainResult = await new LocalResult({ dir, location: 'etl/load/out.json' }).write({ rows: 1 }, {})
    const inline = await new JSONResult().write({ card: '4111111111111111' }, {})
    await airlock.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId: 't1', state: 'Success', result: plainResult })
    await airlock.emit({ kind: 'task-run-state', runId, taskName: 'inline', taskRunId: 't2', state: 'Success', result: inline })
    await airlock.close()
    const [first, second] = controlPlane.events as Extract<OutboundEvent, { kind: 'task-run-state' }>[]
    expect(first?.result?.type).toBe('local')
    expect(LocationCipher.isToken(first?.result?.location ?? '')).toBe(true)
    expect(await new LocationCipher(keys).decrypt(first?.result?.location ?? '')).toBe('etl/load/out.json')
    expect(second?.result).toEqual({ type: 'json', location: '[airlock:refused]' })
    expect(JSON.stringify(controlPlane.events)).not.toContain('4111111111111111')
    expect(JSON.stringify(controlPlane.events)).not.toContain('etl/load/out.json')
    expect(airlock.stats().actions).toMatchObject({ locations: { encrypt: 1 }, 'inline values': { refuse: 1 } })
  })

  it('sends a Failed state with a scrubbed message and no stack under balanced', async () => {
    const { airlock, controlPlane } = boundary()
    const err = new Error(`connect failed for ${email} with key ${awsKey}`, { cause: new Error(`retry ${awsKey}`) })
    await airlock.emit({ kind: 'task-run-state', runId, taskName: 'load', taskRunId: 't1', state: 'Failed', error: err })
    await airlock.flush()
    const event = controlPlane.events[0] as Extract<OutboundEvent, { kind: 'task-run-state' }>
    expect(event.failure?.type).toBe('Error')
    expect(event.failure?.message).toContain('connect failed for')
    expect(event.failure?.stack).toBeUndefined()
    const wire = JSON.stringify(controlPlane.events)
    expect(wire).not.toContain(email)
    expect(wire).not.toContain(awsKey)
    expect(wire).not.toContain('at ')
  })

  it('ships logs at the policy level, with redact paths and scrubbing applied', async () => {
    const policy = definePolicy({ logs: { redactPaths: ['req.body.note'] } }, { env: {} })
    const { airlock, controlPlane, ledgerPath } = boundary({ policy })
    expect(await airlock.emit({ kind: 'log', runId, level: 'debug', msg: 'noisy' })).toBeUndefined()
    await airlock.emit({
      kind: 'log',
      runId,
      level: 'info',
      msg: `loaded for ${email}`,
      fields: { req: { body: { note: 'private note' } }, user: { apiKey: 'k-123456789' }, restore: 'nightly' },
    })
    await airlock.close()
    expect(controlPlane.events).toHaveLength(1)
    const log = controlPlane.events[0] as Extract<OutboundEvent, { kind: 'log' }>
    expect(log.msg).toBe('loaded for [REDACTED:email]')
    expect(log.fields).toEqual({ req: { body: { note: '[REDACTED:redact-path]' } }, user: { apiKey: '[REDACTED:sensitive-key]' }, restore: 'nightly' })
    expect(airlock.stats().suppressedLogs).toBe(1)
    const [entry] = await ledgerEntries(ledgerPath)
    expect((entry as { transforms: unknown[] }).transforms).toEqual(
      expect.arrayContaining([{ path: 'fields.req.body.note', rule: 'redact-path', action: 'redact' }]),
    )
  })

  it('truncates an oversized log record after scrubbing', async () => {
    const policy = definePolicy({ logs: { maxRecordBytes: 1024 } }, { env: {} })
    const { airlock, controlPlane } = boundary({ policy })
    const msg = `${'x'.repeat(2000)} ${email}`
    await airlock.emit({ kind: 'log', runId, level: 'warn', msg, fields: { blob: 'y'.repeat(4000) } })
    await airlock.flush()
    const log = controlPlane.events[0] as Extract<OutboundEvent, { kind: 'log' }>
    expect(log.truncated).toBe(true)
    expect(log.fields).toBeUndefined()
    expect(Buffer.byteLength(JSON.stringify(log))).toBeLessThanOrEqual(1024)
    expect(JSON.stringify(log)).not.toContain('ada.lovelace')
  })

  it('keeps emit order on the wire and in the ledger, however long each policy step takes', async () => {
    const { airlock, controlPlane, ledgerPath } = boundary()
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < 200; i++) {
      // Odd events encrypt (async JWE), even ones do not: their policy steps finish out of order.
      const result = i % 2 === 1 ? await new LocalResult({ dir, location: `r/${i}.json` }).write(i, {}) : undefined
      sends.push(airlock.emit({ kind: 'task-run-state', runId, taskName: `t${i}`, taskRunId: `tr-${i}`, state: 'Success', result }))
    }
    await Promise.all(sends)
    await airlock.close()
    const names = controlPlane.events.map((e) => (e as { taskName: string }).taskName)
    expect(names).toEqual(Array.from({ length: 200 }, (_, i) => `t${i}`))
    const ledgered = (await ledgerEntries(ledgerPath)).filter((e) => e.kind === 'event').map((e) => (e as { eventId: string }).eventId)
    expect(ledgered).toEqual(controlPlane.events.map((e) => e.id))
  })

  it('refuses a ledger path that is a directory when it is built (issue 14, item 3)', () => {
    expect(() => boundary({ ledger: { path: dir } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('is a directory') }),
    )
  })

  it('refuses misspelt or mistyped ledger options when it is built (issue 14, item 3)', () => {
    for (const ledger of [{ pth: 'x.ndjson' }, { path: 'x.ndjson', checkpointEvry: 5 }, { path: 42 }, { path: 'x.ndjson', checkpointEvery: 5 }, 'x.ndjson']) {
      expect(() => new AirlockBoundary({ keys: KeyRing.generate(), controlPlane: new MemoryControlPlane(), ledger: ledger as never }), JSON.stringify(ledger)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    }
    expect(() => new AirlockBoundary({ keys: KeyRing.generate(), ledger: { pth: 'x' } as never })).toThrow(expect.objectContaining({ message: expect.stringContaining('pth') }))
  })

  it('sends nothing when the ledger cannot open, and every emit rejects saying why (issue 14, item 3)', async () => {
    // A file where the ledger's directory should be: the path passes the checks, the ledger cannot open.
    const blocker = join(dir, 'blocker')
    await writeFile(blocker, 'not a directory')
    const { airlock, controlPlane } = boundary({ ledger: { path: join(blocker, 'ledger.ndjson') } })
    await expect(airlock.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running' })).rejects.toMatchObject({
      code: 'ERR_STORAGE',
      message: expect.stringContaining('cannot open the ledger'),
    })
    expect(controlPlane.events).toHaveLength(0)
    expect(airlock.stats().ledgerFailures).toBe(1)
    await expect(airlock.close()).rejects.toMatchObject({ code: 'ERR_STORAGE' })
  })

  it('flush and close wait for emits still in flight, and lose none', async () => {
    const { airlock, controlPlane, ledgerPath } = boundary()
    const pending = Array.from({ length: 50 }, (_, i) =>
      airlock.emit({ kind: 'task-run-state', runId, taskName: `t${i}`, taskRunId: `tr-${i}`, state: 'Running' }),
    )
    await airlock.flush()
    expect(controlPlane.events).toHaveLength(50)
    const late = airlock.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Success' })
    await airlock.close()
    expect(await late).toMatchObject({ state: 'Success' })
    expect(await Promise.all(pending)).toHaveLength(50)
    expect(controlPlane.events).toHaveLength(51)
    expect((await ledgerEntries(ledgerPath)).filter((e) => e.kind === 'event')).toHaveLength(51)
    expect(airlock.stats().ledgerFailures).toBe(0)
  })

  it('every control plane refuses an option it does not have, when it is built (issue 14, item 3)', () => {
    const cases: [string, () => unknown][] = [
      ['MemoryControlPlane', () => new MemoryControlPlane({ url: 'https://cp.example.com' } as never)],
      ['FileControlPlane', () => new FileControlPlane({ path: join(dir, 'cp.ndjson'), pth: 'x' } as never)],
      ['HttpControlPlane', () => new HttpControlPlane({ url: 'https://cp.example.com/v1/events', tokn: 'x' } as never)],
    ]
    for (const [name, build] of cases) {
      expect(build, name).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(`${name} has no option`) }))
    }
    expect(() => new MemoryControlPlane()).not.toThrow()
    expect(() => new MemoryControlPlane({})).not.toThrow()
  })

  it('MemoryControlPlane.events holds every delivered event, parsed from its wire JSON, however often and whenever it is read', async () => {
    const { airlock, controlPlane } = boundary()
    const first = await airlock.emit({ kind: 'flow-run-state', runId: 'r1', flowName: 'etl', state: 'Running' })
    const seen = controlPlane.events
    expect(seen).toEqual([first])
    const second = await airlock.emit({ kind: 'flow-run-state', runId: 'r1', flowName: 'etl', state: 'Success' })
    const third = await airlock.emit({ kind: 'log', runId: 'r1', level: 'info', msg: 'done', fields: { rows: 3 } })
    expect(controlPlane.events).toEqual([first, second, third])
    // One array, read after read: a reference kept from before sees what came since once events is read again.
    expect(controlPlane.events).toBe(seen)
    // Parsed from the wire JSON: not the objects emit resolved with.
    expect(controlPlane.events[1]).not.toBe(second)
  })

  it('refuses a misspelt option instead of falling back to a default', () => {
    expect(() => new AirlockBoundary({ keys: KeyRing.generate(), contolPlane: new MemoryControlPlane() } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"contolPlane"') }),
    )
  })

  it('refuses emit after close', async () => {
    const { airlock } = boundary()
    await airlock.close()
    await expect(airlock.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running' })).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('writes to a FileControlPlane as NDJSON, exactly as ledgered', async () => {
    const path = join(dir, 'control-plane.ndjson')
    const { airlock, ledgerPath } = boundary({ controlPlane: new FileControlPlane({ path }) })
    await airlock.emit({ kind: 'parameters', runId, flowName: 'etl', parameters: { email } })
    await airlock.close()
    const lines = (await readFile(path, 'utf8')).trim().split('\n')
    expect(lines).toHaveLength(1)
    const sent = JSON.parse(lines[0] ?? '{}') as OutboundEvent
    const [entry] = await ledgerEntries(ledgerPath)
    expect((entry as { event: unknown }).event).toEqual(sent)
    expect(lines[0]).not.toContain(email)
  })

  it('records a 4xx from the HTTP control plane in the ledger, without retrying it', async () => {
    const server = await ControlPlaneServer.start({ token: 'tok_boundary_test' })
    try {
      server.script({ status: 422 })
      const controlPlane = new HttpControlPlane({
        url: server.url,
        token: 'tok_boundary_test',
        retry: { baseMs: 5, maxMs: 20 },
      })
      const { airlock, ledgerPath } = boundary({ controlPlane })
      const rejected = await airlock.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running' })
      await airlock.flush()
      const accepted = await airlock.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Success' })
      await airlock.close()
      expect(server.requests.filter((r) => r.eventIds.includes(rejected?.id ?? ''))).toHaveLength(1)
      expect(server.events.map((e) => e.id)).toEqual([accepted?.id])
      const entries = await ledgerEntries(ledgerPath)
      const delivery = entries.find((e) => e.kind === 'delivery')
      expect(delivery).toMatchObject({ kind: 'delivery', status: 'failed', eventIds: [rejected?.id], error: { status: 422 } })
      expect(await readFile(ledgerPath, 'utf8')).not.toContain('tok_boundary_test')
      expect(airlock.stats().deliveryFailures).toBe(1)
      expect((await verifyLedger(ledgerPath)).ok).toBe(true)
    } finally {
      await server.stop()
    }
  })
})
