import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLogger, type CreateLoggerOptions } from '../../src/logging/create-logger.js'
import { flushLogger } from '../../src/logging/local-output.js'
import { SHIP_FAILED_WARNING } from '../../src/logging/record-shipper.js'
import type { ShippedRecord } from '../../src/logging/shipped-record.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import type { PolicyInput } from '../../src/policy/policy-input.js'
import { Scrubber } from '../../src/scrub/scrubber.js'

// Canaries: each must be absent from scrubbed output and present in the raw shipped copy.
const EMAIL = 'canary.user@example.com'
const AWS_KEY = 'AKIAQ3EGRTMXCANARY7Z'
const REGISTERED = 'reg-secret-7f3a9c2e51'
const PASSWORD = 'pw-canary-84d1c0'
const CANARIES = [EMAIL, AWS_KEY, REGISTERED, PASSWORD]

/** A real Writable that keeps each line pino writes, synchronously. */
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

function setup(policyInput: PolicyInput = {}, extra: Partial<CreateLoggerOptions> = {}) {
  const policy = definePolicy(policyInput, { env: {} })
  const scrubber = new Scrubber({ policy: policy.scrub })
  const sink = lineSink()
  const shipped: ShippedRecord[] = []
  const logger = createLogger({ policy, scrubber, ship: (record) => shipped.push(record), destination: sink.stream, ...extra })
  return { policy, scrubber, sink, shipped, logger }
}

function logCanaries(logger: ReturnType<typeof setup>['logger']): void {
  logger.info({ contact: EMAIL, db: { conn: { password: PASSWORD } }, key: AWS_KEY }, `token ${REGISTERED} for %s`, EMAIL)
}

describe('createLogger', () => {
  it('returns a pino logger whose children carry their bindings in both outputs', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced' }, { base: { service: 'etl' } })
    const child = logger.child({ flow: 'nightly' }).child({ task: 'load' })
    child.info({ rows: 3 }, 'loaded %d rows from %s', 3, 'users')

    await flushLogger(logger)
    const [local] = sink.records()
    expect(local).toMatchObject({ level: 30, service: 'etl', flow: 'nightly', task: 'load', rows: 3, msg: 'loaded 3 rows from users' })
    expect(typeof local!.time).toBe('number')
    expect(child.bindings()).toEqual({ service: 'etl', flow: 'nightly', task: 'load' })

    expect(shipped).toHaveLength(1)
    expect(shipped[0]).toEqual({
      level: 'info',
      msg: 'loaded 3 rows from users',
      fields: { service: 'etl', flow: 'nightly', task: 'load', rows: 3 },
      time: local!.time,
    })
  })

  it('leaves pid and hostname out of shipped fields but writes them locally', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced', logs: { scrubLocal: false } })
    logger.child({ task: 'load' }).warn('careful')
    await flushLogger(logger)
    const [local] = sink.records()
    expect(local!.pid).toBe(process.pid)
    expect(typeof local!.hostname).toBe('string')
    expect(shipped[0]!.fields).toEqual({ task: 'load' })
  })

  it('ships from the policy level up while writing from its own level up', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced', logs: { level: 'warn' } }, { level: 'debug' })
    logger.debug('d')
    logger.info('i')
    logger.warn('w')
    logger.error('e')
    logger.fatal('f')
    await flushLogger(logger)
    expect(sink.records().map((r) => r.msg)).toEqual(['d', 'i', 'w', 'e', 'f'])
    expect(shipped.map((r) => [r.level, r.msg])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
      ['fatal', 'f'],
    ])
  })

  it('writes nothing below its own level locally, and still ships what the policy ships (issue 14, item 4)', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced', logs: { level: 'debug' } }, { level: 'warn' })
    expect(logger.level).toBe('debug')
    logger.trace('t')
    logger.info('i')
    logger.warn('w')
    await flushLogger(logger)
    expect(sink.records().map((r) => r.msg)).toEqual(['w'])
    expect(shipped.map((r) => r.msg)).toEqual(['i', 'w'])
  })

  it('defaults its own level to the policy level when that is below info', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced', logs: { level: 'debug' } })
    expect(logger.level).toBe('debug')
    logger.debug('d')
    logger.trace('t')
    await flushLogger(logger)
    expect(sink.records().map((r) => r.msg)).toEqual(['d'])
    expect(shipped.map((r) => r.msg)).toEqual(['d'])
  })

  it('ships nothing when the policy says ship: false, and still scrubs locally', async () => {
    const { sink, shipped, logger, scrubber } = setup({ preset: 'balanced', logs: { ship: false } })
    scrubber.register(REGISTERED)
    logCanaries(logger)
    logger.fatal('fatal too')
    expect(shipped).toEqual([])
    await flushLogger(logger)
    expect(sink.lines).toHaveLength(2)
    for (const canary of CANARIES) expect(sink.lines.join('')).not.toContain(canary)
  })

  it('with scrubLocal on, keeps every canary out of local output and hands the raw record to ship', async () => {
    const { sink, shipped, logger, scrubber } = setup({ preset: 'balanced' })
    scrubber.register(REGISTERED)
    logCanaries(logger)

    await flushLogger(logger)
    const text = sink.lines.join('')
    for (const canary of CANARIES) expect(text).not.toContain(canary)
    expect(sink.records()[0]).toMatchObject({
      contact: '[REDACTED:email]',
      db: { conn: { password: '[REDACTED:sensitive-key]' } },
      key: '[REDACTED:aws-access-key-id]',
      msg: 'token [REDACTED:registered-secret] for [REDACTED:email]',
    })

    expect(shipped[0]).toMatchObject({
      msg: `token ${REGISTERED} for ${EMAIL}`,
      fields: { contact: EMAIL, db: { conn: { password: PASSWORD } }, key: AWS_KEY },
    })
  })

  it('with scrubLocal off, writes canaries locally and ships them raw (the boundary scrubs)', async () => {
    const { sink, shipped, logger, scrubber } = setup({ preset: 'balanced', logs: { scrubLocal: false } })
    scrubber.register(REGISTERED)
    logCanaries(logger)
    await flushLogger(logger)
    const text = sink.lines.join('')
    for (const canary of CANARIES) expect(text).toContain(canary)
    expect(shipped[0]!.fields).toEqual({ contact: EMAIL, db: { conn: { password: PASSWORD } }, key: AWS_KEY })
    expect(shipped[0]!.msg).toBe(`token ${REGISTERED} for ${EMAIL}`)
  })

  it('scrubs bindings: base, children and grandchildren, and ships them raw', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced' }, { base: { owner: EMAIL } })
    const child = logger.child({ key: AWS_KEY })
    child.child({ auth: { password: PASSWORD } }).info('hello')
    child.info('from the child')

    await flushLogger(logger)
    const [grand, own] = sink.records()
    expect(grand).toMatchObject({ owner: '[REDACTED:email]', key: '[REDACTED:aws-access-key-id]', auth: '[REDACTED:sensitive-key]' })
    expect(own).toMatchObject({ owner: '[REDACTED:email]', key: '[REDACTED:aws-access-key-id]' })
    expect(own).not.toHaveProperty('auth')
    for (const canary of [EMAIL, AWS_KEY, PASSWORD]) expect(sink.lines.join('')).not.toContain(canary)

    expect(shipped[0]!.fields).toEqual({ owner: EMAIL, key: AWS_KEY, auth: { password: PASSWORD } })
    expect(shipped[1]!.fields).toEqual({ owner: EMAIL, key: AWS_KEY })
  })

  it('scrubs an err field and a logged Error: message and stack, keeping pino\'s shape', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced' })
    const err = Object.assign(new Error(`connect failed for ${EMAIL} with ${AWS_KEY}`), { code: 'ECONNREFUSED' })
    logger.error({ err }, 'load failed')
    logger.error(err)

    await flushLogger(logger)
    const [withKey, bare] = sink.records()
    for (const record of [withKey!, bare!]) {
      const local = record.err as Record<string, unknown>
      expect(local.type).toBe('Error')
      expect(local.code).toBe('ECONNREFUSED')
      expect(local.message).toBe('connect failed for [REDACTED:email] with [REDACTED:aws-access-key-id]')
      expect(local.stack).toMatch(/^Error: connect failed for \[REDACTED:email\] with \[REDACTED:aws-access-key-id\]\n\s+at /)
    }
    expect(withKey!.msg).toBe('load failed')
    expect(bare!.msg).toBe('connect failed for [REDACTED:email] with [REDACTED:aws-access-key-id]')
    for (const canary of [EMAIL, AWS_KEY]) expect(sink.lines.join('')).not.toContain(canary)

    expect(shipped[0]!.fields.err).toBe(err)
    expect(shipped[1]).toMatchObject({ msg: err.message, fields: { err } })
  })

  it('masks a secret registered after the logger, and after a child holding it in its bindings, was made', async () => {
    const { sink, shipped, logger, scrubber } = setup({ preset: 'balanced' })
    // Under a name that says nothing secret (`pass=` is a password's name, which secret-assignment redacts anyway).
    const child = logger.child({ connection: `host=db user=app label=${REGISTERED}` })
    child.info('before')
    await flushLogger(logger)
    expect(sink.lines[0]).toContain(REGISTERED)

    expect(scrubber.register(REGISTERED).registered).toBe(true)
    child.info({ value: REGISTERED }, `now ${REGISTERED}`)
    logger.info(`root ${REGISTERED}`)
    await flushLogger(logger)

    expect(sink.lines[1]).not.toContain(REGISTERED)
    expect(sink.lines[2]).not.toContain(REGISTERED)
    expect(sink.records()[1]).toMatchObject({
      value: '[REDACTED:registered-secret]',
      msg: 'now [REDACTED:registered-secret]',
    })
    expect(String(sink.records()[1]!.connection)).toContain('[REDACTED:registered-secret]')
    expect(shipped[1]!.fields.connection).toBe(`host=db user=app label=${REGISTERED}`)
  })

  it('keeps children with their own serializers and formatters.log scrubbed', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced' })
    const child = logger.child(
      { task: 'load' },
      {
        serializers: { user: (user: { id: number; email: string }) => ({ id: user.id, email: user.email }) },
        formatters: { log: (object: object) => ({ ...object, tagged: `by ${EMAIL}` }) },
      },
    )
    child.info({ user: { id: 7, email: EMAIL, extra: 'x' }, key: AWS_KEY }, 'hi')
    child.child({ sub: 1 }).info({ user: { id: 8, email: EMAIL } }, 'grandchild')

    await flushLogger(logger)
    const [first, second] = sink.records()
    expect(first).toMatchObject({ user: { id: 7, email: '[REDACTED:email]' }, key: '[REDACTED:aws-access-key-id]', tagged: 'by [REDACTED:email]' })
    expect(second).toMatchObject({ sub: 1, user: { id: 8, email: '[REDACTED:email]' } })
    for (const canary of [EMAIL, AWS_KEY]) expect(sink.lines.join('')).not.toContain(canary)
    // The shipped copy is what the child's own serializer and formatter make of the record, unscrubbed:
    // `extra` was never in the child's log, so it never ships.
    expect(shipped[0]!.fields.user).toEqual({ id: 7, email: EMAIL })
    expect(shipped[0]!.fields.tagged).toBe(`by ${EMAIL}`)
  })

  it('follows setBindings in both outputs', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced' })
    const child = logger.child({ task: 'load' })
    child.info('one')
    child.setBindings({ user: EMAIL })
    child.info('two')
    await flushLogger(logger)
    expect(sink.records()[1]).toMatchObject({ task: 'load', user: '[REDACTED:email]' })
    expect(shipped[1]!.fields).toEqual({ task: 'load', user: EMAIL })
  })

  it('applies policy.logs.redactPaths to local output before scrubbing', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced', logs: { redactPaths: ['user.address', 'site'] } })
    logger.child({ site: 'berlin-3' }).info({ user: { address: '1 Main St', plan: 'pro' } }, 'signup')
    await flushLogger(logger)
    expect(sink.records()[0]).toMatchObject({ site: '[REDACTED:redact-path]', user: { address: '[REDACTED:redact-path]', plan: 'pro' } })
    expect(shipped[0]!.fields).toEqual({ site: 'berlin-3', user: { address: '1 Main St', plan: 'pro' } })
  })

  it('keeps a user field named restore when redactPaths apply', async () => {
    const { sink, shipped, logger } = setup({ preset: 'balanced', logs: { redactPaths: ['site'] } })
    logger.child({ restore: 'bound' }).info({ restore: 'mine', site: 'berlin-3' }, 'undo')
    await flushLogger(logger)
    const [line] = sink.lines
    expect(line!.match(/"restore"/g)).toHaveLength(2)
    expect(line).not.toContain('[Function]')
    expect(sink.records()[0]).toMatchObject({ restore: 'mine', site: '[REDACTED:redact-path]' })
    expect(line).toContain('"restore":"bound"')
    expect(shipped[0]!.fields).toEqual({ restore: 'mine', site: 'berlin-3' })
  })

  it('writes valid NDJSON, one record per line', async () => {
    const { sink, logger, scrubber } = setup({ preset: 'balanced' })
    scrubber.register('n3wline-secret\nvalue')
    logger.info({ text: 'line one\nAKIAQ3EGRTMXCANARY7Z "quoted" \\ back' }, 'with\ttabs n3wline-secret\nvalue')
    await flushLogger(logger)
    expect(sink.lines).toHaveLength(1)
    expect(sink.lines[0]!.endsWith('}\n')).toBe(true)
    const [record] = sink.records()
    expect(record!.text).toBe('line one\n[REDACTED:aws-access-key-id] "quoted" \\ back')
    expect(record!.msg).toBe('with\ttabs [REDACTED:registered-secret]')
  })

  describe('a file destination', () => {
    let dir: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'airlock-logging-'))
    })
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('writes scrubbed NDJSON to a file path', async () => {
      const policy = definePolicy({ preset: 'balanced' }, { env: {} })
      const scrubber = new Scrubber({ policy: policy.scrub })
      const file = join(dir, 'app.log')
      const shipped: ShippedRecord[] = []
      const logger = createLogger({ policy, scrubber, ship: (r) => shipped.push(r), destination: file })
      logger.info({ contact: EMAIL }, 'to a file')
      await new Promise<void>((resolve, reject) => logger.flush((err) => (err ? reject(err) : resolve())))
      const text = await readFile(file, 'utf8')
      expect(JSON.parse(text)).toMatchObject({ contact: '[REDACTED:email]', msg: 'to a file' })
      expect(shipped[0]!.fields.contact).toBe(EMAIL)
    })
  })

  it('does not let a failing ship reach the code that logged, and warns once', async () => {
    const policy = definePolicy({ preset: 'balanced' }, { env: {} })
    const scrubber = new Scrubber({ policy: policy.scrub })
    const sink = lineSink()
    const warnings: Error[] = []
    const onWarning = (warning: Error): void => void warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const logger = createLogger({
        policy,
        scrubber,
        destination: sink.stream,
        ship: () => {
          throw new TypeError(`bad record ${EMAIL}`)
        },
      })
      expect(() => logger.info('one')).not.toThrow()
      logger.info('two')
      await new Promise((resolve) => setImmediate(resolve))
      await flushLogger(logger)
      expect(sink.lines).toHaveLength(2)
      const ours = warnings.filter((w) => (w as Error & { code?: string }).code === SHIP_FAILED_WARNING)
      expect(ours).toHaveLength(1)
      expect(ours[0]!.message).toContain('TypeError')
      expect(ours[0]!.message).not.toContain(EMAIL)
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('does not ship a record logged from inside ship', async () => {
    const policy = definePolicy({ preset: 'balanced' }, { env: {} })
    const scrubber = new Scrubber({ policy: policy.scrub })
    const sink = lineSink()
    const shipped: ShippedRecord[] = []
    const logger = createLogger({
      policy,
      scrubber,
      destination: sink.stream,
      ship: (record) => {
        shipped.push(record)
        logger.warn('shipping a record')
      },
    })
    logger.info('outer')
    expect(shipped.map((r) => r.msg)).toEqual(['outer'])
    // The local line is written before the record ships.
    await flushLogger(logger)
    expect(sink.records().map((r) => r.msg)).toEqual(['outer', 'shipping a record'])
  })

  it('refuses bad options with typed errors', () => {
    const policy = definePolicy({ preset: 'balanced' }, { env: {} })
    const scrubber = new Scrubber({ policy: policy.scrub })
    const ship = (): void => {}
    const attempt = (options: unknown): unknown => createLogger(options as CreateLoggerOptions)
    expect(() => attempt(undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => attempt({ scrubber, ship })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => attempt({ policy, ship })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => attempt({ policy, scrubber })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => attempt({ policy, scrubber, ship, level: 'loud' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => attempt({ policy, scrubber, ship, destination: {} })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => attempt({ policy, scrubber, ship, base: 'x' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    const badLogs = { ...policy, logs: { ...policy.logs, level: 'verbose' } }
    expect(() => attempt({ policy: badLogs, scrubber, ship })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_INVALID', issues: [expect.objectContaining({ path: 'logs.level' })] }),
    )
  })
})

describe('the local level and the policy level (issue 14, item 4)', () => {
  it.each([true, false])('ships what the policy ships even when the local level hides it (scrubLocal %s)', async (scrubLocal) => {
    const { createLogger: make } = await import('../../src/logging/create-logger.js')
    const { definePolicy: define } = await import('../../src/policy/define-policy.js')
    const { Scrubber: MakeScrubber } = await import('../../src/scrub/scrubber.js')
    const policy = define({ preset: 'balanced', logs: { level: 'warn', scrubLocal } }, { env: {} })
    const shipped: { level: string; msg: string }[] = []
    const lines: string[] = []
    const logger = make({
      policy,
      scrubber: new MakeScrubber({ policy: policy.scrub }),
      ship: (record) => void shipped.push({ level: record.level, msg: record.msg }),
      destination: { write: (line: string) => void lines.push(line) },
      level: 'error',
    })
    logger.info('info: below both')
    logger.warn('warn: shipped, not written locally')
    logger.error('error: shipped and written')
    await new Promise<void>((resolve) => logger.flush(() => resolve()))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(shipped.map((r) => r.msg)).toEqual(['warn: shipped, not written locally', 'error: shipped and written'])
    expect(lines.join('')).toContain('error: shipped and written')
    expect(lines.join('')).not.toContain('warn: shipped')
    expect(lines.join('')).not.toContain('info: below both')
  })
})
