import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { ShippedRecord } from '../../src/logging/shipped-record.js'
import { flushLogger } from '../../src/logging/local-output.js'
import { wrapPinoLogger } from '../../src/logging/wrap-pino-logger.js'
import type { LoggingOptions } from '../../src/logging/logging-options.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import type { PolicyInput } from '../../src/policy/policy-input.js'
import { Scrubber } from '../../src/scrub/scrubber.js'

const EMAIL = 'canary.user@example.com'
const AWS_KEY = 'AKIAQ3EGRTMXCANARY7Z'
const REGISTERED = 'reg-secret-7f3a9c2e51'
const PASSWORD = 'pw-canary-84d1c0'

function lineSink(): { stream: Writable; lines: string[]; records: () => Record<string, unknown>[] } {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(String(chunk))
      callback()
    },
  })
  return { stream, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) }
}

function options(policyInput: PolicyInput = { preset: 'balanced' }): LoggingOptions & { shipped: ShippedRecord[] } {
  const policy = definePolicy(policyInput, { env: {} })
  const shipped: ShippedRecord[] = []
  return { policy, scrubber: new Scrubber({ policy: policy.scrub }), ship: (record) => shipped.push(record), shipped }
}

describe('wrapPinoLogger', () => {
  it('ships and scrubs what an existing logger logs, keeping its serializers, redact paths and message key', async () => {
    const sink = lineSink()
    const existing = pino(
      {
        level: 'debug',
        base: { service: 'api', admin: EMAIL },
        messageKey: 'message',
        redact: ['card'],
        serializers: { user: (user: { id: number; email: string }) => ({ id: user.id, email: user.email }) },
      },
      sink.stream,
    )
    const opts = options()
    opts.scrubber.register(REGISTERED)
    const logger = wrapPinoLogger(existing, opts)

    logger
      .child({ task: 'load' })
      .info(
        { user: { id: 7, email: EMAIL, notes: 'x' }, card: '4111 1111 1111 1111', creds: { password: PASSWORD }, key: AWS_KEY },
        'user %s uses %s',
        EMAIL,
        REGISTERED,
      )

    await flushLogger(logger)
    const text = sink.lines.join('')
    for (const canary of [EMAIL, AWS_KEY, REGISTERED, PASSWORD]) expect(text).not.toContain(canary)
    expect(sink.records()[0]).toMatchObject({
      service: 'api',
      admin: '[REDACTED:email]',
      task: 'load',
      user: { id: 7, email: '[REDACTED:email]' },
      card: '[Redacted]',
      creds: { password: '[REDACTED:sensitive-key]' },
      key: '[REDACTED:aws-access-key-id]',
      message: 'user [REDACTED:email] uses [REDACTED:registered-secret]',
    })
    expect(sink.records()[0]!.user).not.toHaveProperty('notes')

    expect(opts.shipped).toHaveLength(1)
    expect(opts.shipped[0]).toMatchObject({
      level: 'info',
      msg: `user ${EMAIL} uses ${REGISTERED}`,
      fields: {
        service: 'api',
        admin: EMAIL,
        task: 'load',
        user: { id: 7, email: EMAIL },
        card: '[Redacted]',
        creds: { password: PASSWORD },
        key: AWS_KEY,
      },
    })
    // What the application's own serializer and redact paths keep out of its log never ships.
    expect((opts.shipped[0]!.fields.user as Record<string, unknown>).notes).toBeUndefined()
    expect(JSON.stringify(opts.shipped[0])).not.toContain('4111')
    expect(opts.shipped[0]!.fields).not.toHaveProperty('message')
  })

  it('scrubs errors through the existing err serializer', async () => {
    const sink = lineSink()
    const opts = options()
    const logger = wrapPinoLogger(pino(sink.stream), opts)
    const err = new RangeError(`no quota for ${EMAIL}`)
    logger.error({ err }, 'quota')
    await flushLogger(logger)
    const local = sink.records()[0]!.err as Record<string, unknown>
    expect(local.type).toBe('RangeError')
    expect(local.message).toBe('no quota for [REDACTED:email]')
    expect(String(local.stack)).toContain('RangeError: no quota for [REDACTED:email]')
    expect(sink.lines.join('')).not.toContain(EMAIL)
    expect(opts.shipped[0]!.fields.err).toBe(err)
  })

  it('leaves the existing logger itself alone', () => {
    const sink = lineSink()
    const existing = pino(sink.stream)
    const opts = options()
    wrapPinoLogger(existing, opts)
    existing.info({ contact: EMAIL }, 'direct')
    existing.child({ task: 'x' }).info({ contact: EMAIL }, 'direct child')
    expect(sink.lines.join('')).toContain(EMAIL)
    expect(opts.shipped).toEqual([])
  })

  it('ships raw and writes raw when scrubLocal is off', async () => {
    const sink = lineSink()
    const opts = options({ preset: 'balanced', logs: { scrubLocal: false, level: 'warn' } })
    const logger = wrapPinoLogger(pino({ level: 'trace' }, sink.stream), opts)
    logger.info({ contact: EMAIL }, 'info')
    logger.warn({ contact: EMAIL }, 'warn')
    await flushLogger(logger)
    expect(sink.lines.join('')).toContain(EMAIL)
    expect(sink.lines).toHaveLength(2)
    expect(opts.shipped.map((r) => [r.level, r.fields.contact])).toEqual([['warn', EMAIL]])
  })

  it('keeps routing by level through a pino.multistream destination', async () => {
    const all = lineSink()
    const errors = lineSink()
    const existing = pino({ level: 'debug' }, pino.multistream([{ level: 'debug', stream: all.stream }, { level: 'error', stream: errors.stream }]))
    const opts = options()
    const logger = wrapPinoLogger(existing, opts)
    logger.info({ contact: EMAIL }, 'info')
    logger.error({ contact: EMAIL }, 'error')
    await flushLogger(logger)
    expect(all.records().map((r) => r.msg)).toEqual(['info', 'error'])
    expect(errors.records().map((r) => r.msg)).toEqual(['error'])
    expect([...all.lines, ...errors.lines].join('')).not.toContain(EMAIL)
    expect(opts.shipped.map((r) => r.msg)).toEqual(['info', 'error'])
  })

  it('ships a custom level as the standard level it outranks', async () => {
    const sink = lineSink()
    const existing = pino({ level: 'info', customLevels: { notice: 35 } }, sink.stream)
    const opts = options()
    const logger = wrapPinoLogger(existing, opts)
    logger.notice('heads up')
    await flushLogger(logger)
    expect(sink.records()[0]).toMatchObject({ level: 35, msg: 'heads up' })
    expect(opts.shipped.map((r) => [r.level, r.msg])).toEqual([['info', 'heads up']])
  })

  it('masks a secret registered after wrapping, in bindings inherited from the existing logger too', async () => {
    const sink = lineSink()
    const existing = pino({ base: { dsn: `postgres://app@db/${REGISTERED}` } }, sink.stream)
    const opts = options()
    const logger = wrapPinoLogger(existing, opts)
    opts.scrubber.register(REGISTERED)
    logger.info(`value ${REGISTERED}`)
    await flushLogger(logger)
    expect(sink.lines.join('')).not.toContain(REGISTERED)
  })

  it('scrubs the bindings of new children under custom time, level labels and custom levels', async () => {
    const sink = lineSink()
    const existing = pino(
      {
        level: 'debug',
        customLevels: { notice: 35 },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ severity: label }) },
      },
      sink.stream,
    )
    // A redact path is applied only by value-level scrubbing of the bindings, never by a text fallback.
    const opts = options({ preset: 'balanced', logs: { redactPaths: ['site'] } })
    const logger = wrapPinoLogger(existing, opts)
    logger.child({ site: 'berlin-3', contact: EMAIL }).notice('first line of a new child')
    logger.child({ site: 'paris-1' }).child({ owner: EMAIL }).error('grandchild')

    await flushLogger(logger)
    const [first, second] = sink.records()
    expect(first).toMatchObject({ severity: 'notice', site: '[REDACTED:redact-path]', contact: '[REDACTED:email]', msg: 'first line of a new child' })
    expect(typeof first!.time).toBe('string')
    expect(second).toMatchObject({ severity: 'error', site: '[REDACTED:redact-path]', owner: '[REDACTED:email]' })
    expect(opts.shipped.map((r) => [r.level, r.fields])).toEqual([
      ['info', { site: 'berlin-3', contact: EMAIL }],
      ['error', { site: 'paris-1', owner: EMAIL }],
    ])
    expect(opts.shipped[0]!.time).toBe(Date.parse(String(first!.time)))
  })

  it('refuses what is not a pino logger', () => {
    const opts = options()
    expect(() => wrapPinoLogger({ info() {} } as unknown as pino.Logger, opts)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(() => wrapPinoLogger(pino(lineSink().stream), { ...opts, ship: undefined } as unknown as LoggingOptions)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })
})
