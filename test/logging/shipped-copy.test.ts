import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LogEvent } from '../../src/boundary/events.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { wrapPinoLogger } from '../../src/logging/wrap-pino-logger.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import type { PolicyInput } from '../../src/policy/policy-input.js'
import { Airlock } from '../../src/runtime/airlock.js'

// The shipped copy of a log record may never hold more than the logger that
// wrote it: not what the application's own logger keeps out of its log, not
// bytes spelled out one field each, not an error's message the exceptions
// mode withholds.

const SSN = '078-05-1120-x9'
const CARD_NOTE = 'card-on-file-7781'
const PASSWORD = 'pw-canary-84d1c0'
const REGISTERED = 'Reg1stered-S3cret-q8Z'
const MESSAGE = 'balance of customer 4711 is 93,000 EUR'

let dir: string
const open: Airlock[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-shipped-'))
})
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((a) => a.close()))
  await rm(dir, { recursive: true, force: true })
})

function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(String(chunk))
      callback()
    },
  })
  return { stream, lines }
}

function harness(policy: PolicyInput = {}) {
  const controlPlane = new MemoryControlPlane()
  const ledgerPath = join(dir, `ledger-${open.length}.ndjson`)
  const local = sink()
  const airlock = new Airlock({
    policy: definePolicy(policy, { env: {} }),
    keys: KeyRing.generate(),
    controlPlane,
    ledger: { path: ledgerPath },
    logger: { destination: local.stream, level: 'trace' },
  })
  open.push(airlock)
  const wrap = (app: pino.Logger): pino.Logger =>
    wrapPinoLogger(app, {
      policy: airlock.policy,
      scrubber: airlock.scrubber,
      ship: ({ level, msg, fields, msgFromError }) => void airlock.emit({ kind: 'log', runId: 'r1', level, msg, fields, msgFromError }),
    })
  const sent = async (): Promise<string> => {
    await airlock.flush()
    return `${JSON.stringify(controlPlane.events)}\n${await readFile(ledgerPath, 'utf8')}`
  }
  const logs = (): LogEvent[] => controlPlane.events.filter((e): e is LogEvent => e.kind === 'log')
  return { airlock, controlPlane, local, wrap, sent, logs }
}

describe('wrapPinoLogger ships no more than the application logger writes', () => {
  for (const scrubLocal of [true, false]) {
    it(`keeps the application's redact paths, serializers and formatters.log (scrubLocal ${scrubLocal})`, async () => {
      const h = harness({ logs: { scrubLocal } })
      const app = pino(
        {
          redact: { paths: ['user.ssn', '*.password', 'card'], censor: '[app-redacted]' },
          serializers: { account: (a: { id: number; note: string }) => ({ id: a.id }) },
          formatters: {
            log: (object: Record<string, unknown>) => {
              const { internal: _internal, ...rest } = object
              return rest
            },
          },
        },
        sink().stream,
      )
      h.wrap(app).child({ task: 'load' }).info(
        {
          user: { id: 7, ssn: SSN },
          db: { password: PASSWORD },
          card: CARD_NOTE,
          account: { id: 3, note: CARD_NOTE },
          internal: { ssn: SSN },
        },
        'loaded',
      )
      const sent = await h.sent()
      for (const kept of [SSN, PASSWORD, CARD_NOTE]) expect(sent).not.toContain(kept)
      expect(h.logs()[0]?.fields).toMatchObject({ task: 'load', user: { id: 7, ssn: '[app-redacted]' }, account: { id: 3 } })
      expect(h.logs()[0]?.fields).not.toHaveProperty('internal')
    })
  }

  it('keeps a child\'s own redact paths and serializers, and removed keys stay removed', async () => {
    const h = harness()
    const app = pino({ redact: { paths: ['secretNote'], remove: true } }, sink().stream)
    const child = h.wrap(app).child({}, { redact: ['token'], serializers: { user: (u: { id: number }) => ({ id: u.id }) } })
    child.info({ secretNote: CARD_NOTE, token: PASSWORD, user: { id: 1, ssn: SSN } }, 'child')
    const sent = await h.sent()
    for (const kept of [SSN, PASSWORD, CARD_NOTE]) expect(sent).not.toContain(kept)
  })

  it('still holds an error to the exceptions policy when the application serializes it itself', async () => {
    const h = harness({ preset: 'strict' })
    const app = pino({ serializers: { err: (e: Error) => ({ kind: e.name, message: e.message, stack: e.stack }) } }, sink().stream)
    h.wrap(app).error({ err: new RangeError(MESSAGE) }, 'failed')
    const sent = await h.sent()
    expect(sent).not.toContain('93,000')
    expect(sent).not.toMatch(/\s{4}at /)
    expect(h.logs()[0]?.fields?.err).toEqual({ type: 'RangeError' })
  })
})

describe('a logged object that is not a record', () => {
  const shapes: [string, () => object][] = [
    ['Buffer', () => Buffer.from(REGISTERED)],
    ['Uint8Array', () => new TextEncoder().encode(REGISTERED)],
    ['boxed String', () => new String(REGISTERED)],
  ]

  it.each(shapes)('a %s is never spelled out one field per element, locally or shipped', async (_shape, make) => {
    const h = harness()
    h.airlock.scrubber.register(REGISTERED)
    h.airlock.logger.info(make(), 'bytes')
    const sent = await h.sent()
    const fields = h.logs()[0]?.fields ?? {}
    expect(Object.keys(fields)).not.toContain('0')
    expect(Object.keys(fields)).not.toContain('1')
    const local = h.local.lines.join('')
    expect(local).not.toMatch(/"0":/)
    for (const text of [sent, local]) expect(text).not.toContain(REGISTERED)
    // No character-by-character rebuild: the characters never appear as separate values in order.
    const rebuilt = JSON.stringify([...REGISTERED].map((c) => c))
    expect(sent).not.toContain(rebuilt.slice(1, -1))
  })

  it('ships an array logged as the merging object whole, under value', async () => {
    const h = harness()
    h.airlock.logger.info(['a', 'b'], 'list')
    await h.sent()
    expect(h.logs()[0]?.fields).toEqual({ value: ['a', 'b'] })
    expect(JSON.parse(h.local.lines[0]!)).toMatchObject({ value: ['a', 'b'], msg: 'list' })
  })
})

describe('a message taken from an error obeys the exceptions mode', () => {
  it.each([
    ['type', ''],
    ['fingerprint', ''],
    ['encrypted', ''],
  ] as const)('under %s, logger.error(err) ships no message text', async (mode, expected) => {
    const h = harness({ exceptions: { mode } })
    h.airlock.logger.error(new Error(MESSAGE))
    h.airlock.logger.error({ err: new Error(MESSAGE) })
    const sent = await h.sent()
    expect(sent).not.toContain('93,000')
    expect(h.logs().map((e) => e.msg)).toEqual([expected, expected])
  })

  it('under scrubbed, the message is scrubbed like the error\'s own', async () => {
    const h = harness({ exceptions: { mode: 'scrubbed' } })
    h.airlock.logger.error(new Error('no quota for ada@example.com'))
    await h.sent()
    expect(h.logs()[0]?.msg).toBe('no quota for [REDACTED:email]')
  })

  it('leaves a message the caller wrote alone', async () => {
    const h = harness({ exceptions: { mode: 'type' } })
    h.airlock.logger.error({ err: new Error(MESSAGE) }, 'charging failed')
    await h.sent()
    expect(h.logs()[0]?.msg).toBe('charging failed')
  })
})
