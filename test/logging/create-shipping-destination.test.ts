import { once } from 'node:events'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createShippingDestination, type ShippingDestinationOptions } from '../../src/logging/create-shipping-destination.js'
import type { ShippedRecord } from '../../src/logging/shipped-record.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import type { PolicyInput } from '../../src/policy/policy-input.js'

const EMAIL = 'canary.user@example.com'

function shipping(policyInput: PolicyInput = { preset: 'balanced' }) {
  const shipped: ShippedRecord[] = []
  const destination = createShippingDestination({
    policy: definePolicy(policyInput, { env: {} }),
    ship: (record) => shipped.push(record),
  })
  return { destination, shipped }
}

function lineSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(String(chunk))
      callback()
    },
  })
  return { stream, lines }
}

describe('createShippingDestination', () => {
  it('ships the records of a pino.multistream at or above the policy level, with child bindings', () => {
    const { destination, shipped } = shipping({ preset: 'balanced', logs: { level: 'info' } })
    const stdout = lineSink()
    const logger = pino({ level: 'trace' }, pino.multistream([{ level: 'trace', stream: stdout.stream }, { level: 'trace', stream: destination }]))
    const child = logger.child({ task: 'load' })
    child.debug('debug')
    child.info({ contact: EMAIL, rows: 3 }, 'loaded %d', 3)
    child.error({ err: new Error('boom') }, 'failed')

    expect(stdout.lines).toHaveLength(3)
    expect(shipped.map((r) => [r.level, r.msg])).toEqual([
      ['info', 'loaded 3'],
      ['error', 'failed'],
    ])
    expect(shipped[0]!.fields).toEqual({ task: 'load', contact: EMAIL, rows: 3 })
    expect(typeof shipped[0]!.time).toBe('number')
    // The line is the contract: the error arrives as pino serialized it.
    expect(shipped[1]!.fields.err).toMatchObject({ type: 'Error', message: 'boom' })
  })

  it('is a destination pino writes to directly', () => {
    const { destination, shipped } = shipping()
    const logger = pino(destination)
    logger.warn({ contact: EMAIL }, 'direct')
    expect(shipped).toHaveLength(1)
    expect(shipped[0]).toMatchObject({ level: 'warn', msg: 'direct', fields: { contact: EMAIL } })
    expect(shipped[0]!.fields).not.toHaveProperty('pid')
    expect(shipped[0]!.fields).not.toHaveProperty('hostname')
  })

  it('ships nothing when the policy says ship: false', () => {
    const { destination, shipped } = shipping({ preset: 'balanced', logs: { ship: false } })
    pino(destination).fatal('fatal')
    expect(shipped).toEqual([])
  })

  it('reassembles lines split across chunks and ships a last line without a newline at the end', async () => {
    const { destination, shipped } = shipping()
    const text =
      '{"level":30,"time":1763683200000,"msg":"first","a":1}\n' +
      '{"level":40,"time":"2025-11-21T00:00:00.000Z","msg":"second ✓","b":2}\n' +
      '{"level":50,"time":1763683200,"msg":"third"}'
    const bytes = Buffer.from(text)
    // Split inside a multi-byte character too.
    const cut = bytes.indexOf(Buffer.from('✓')) + 1
    await pipeline(Readable.from([bytes.subarray(0, 20), bytes.subarray(20, cut), bytes.subarray(cut)]), destination)
    expect(shipped).toEqual([
      { level: 'info', msg: 'first', fields: { a: 1 }, time: 1763683200000 },
      { level: 'warn', msg: 'second ✓', fields: { b: 2 }, time: 1763683200000 },
      { level: 'error', msg: 'third', fields: {}, time: 1763683200000 },
    ])
  })

  it('ships nothing for lines that are not pino records, and carries on', async () => {
    const { destination, shipped } = shipping()
    destination.write('not json\n')
    destination.write('[1,2,3]\n')
    destination.write('{"level":"loud","msg":"unknown level"}\n')
    destination.write('{"level":20,"msg":"below the bar"}\n')
    destination.write('{"level":"error","msg":"level label"}\n')
    destination.end()
    await once(destination, 'finish')
    expect(shipped.map((r) => [r.level, r.msg])).toEqual([['error', 'level label']])
  })

  it('refuses bad options with typed errors', () => {
    const policy = definePolicy({ preset: 'balanced' }, { env: {} })
    const attempt = (options: unknown): unknown => createShippingDestination(options as ShippingDestinationOptions)
    expect(() => attempt(null)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => attempt({ policy })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => attempt({ policy: {}, ship: () => {} })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => attempt({ policy: { ...policy, logs: { ...policy.logs, ship: 'yes' } }, ship: () => {} })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_INVALID' }),
    )
  })
})
