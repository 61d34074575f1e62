import { describe, expect, it } from 'vitest'
import { Secret } from '../../src/crypto/secret.js'
import { presets } from '../../src/policy/presets.js'
import type { ScrubPolicy } from '../../src/policy/schema.js'
import { Scrubber } from '../../src/scrub/scrubber.js'

function scrubberWith(overrides: Partial<ScrubPolicy> = {}): Scrubber {
  return new Scrubber({ policy: { ...presets.balanced.scrub, ...overrides } })
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  }
  return value
}

class Order {
  id = 7
  customer = 'ada@example.com'
  total(): number {
    return 1
  }
}

describe('the walker', () => {
  it('never mutates its input, even deeply frozen, and returns new containers', () => {
    const input = deepFreeze({
      user: { email: 'ada@example.com', tags: ['x', 'bob@example.com'], profile: { password: 'hunter22' } },
      list: [{ ip: '10.0.0.1' }],
    })
    const before = JSON.stringify(input)
    const { value, transforms } = scrubberWith().scrub(input)
    expect(JSON.stringify(input)).toBe(before)
    expect(value).toEqual({
      user: { email: '[REDACTED:email]', tags: ['x', '[REDACTED:email]'], profile: { password: '[REDACTED:sensitive-key]' } },
      list: [{ ip: '[REDACTED:ipv4]' }],
    })
    const out = value as typeof input
    expect(out).not.toBe(input)
    expect(out.user).not.toBe(input.user)
    expect(out.user.tags).not.toBe(input.user.tags)
    expect(transforms.map((t) => t.path)).toEqual(['user.email', 'user.tags[1]', 'user.profile.password', 'list[0].ip'])
  })

  it('names a root string $', () => {
    expect(scrubberWith().scrub('ada@example.com')).toEqual({
      value: '[REDACTED:email]',
      transforms: [{ path: '$', rule: 'email', action: 'redact' }],
    })
  })

  it('marks cycles, and walks a shared (acyclic) object each time it appears', () => {
    const node: Record<string, unknown> = { name: 'a' }
    node.self = node
    const shared = { email: 'ada@example.com' }
    const { value } = scrubberWith().scrub({ node, left: shared, right: shared })
    expect(value).toEqual({
      node: { name: 'a', self: '[Circular]' },
      left: { email: '[REDACTED:email]' },
      right: { email: '[REDACTED:email]' },
    })
  })

  it('bounds depth with a marker', () => {
    const { value, transforms } = scrubberWith({ maxDepth: 2 }).scrub({ a: { b: { c: { d: 1 } } } })
    expect(value).toEqual({ a: { b: { c: '[airlock:max-depth]' } } })
    expect(transforms).toEqual([{ path: 'a.b.c', rule: 'max-depth', action: 'withhold' }])
  })

  it('replaces a value over the node bound whole', () => {
    const { value, transforms } = scrubberWith({ maxNodes: 50 }).scrub({ items: Array.from({ length: 100 }, (_, i) => i) })
    expect(value).toBe('[airlock:max-nodes]')
    expect(transforms).toEqual([{ path: '$', rule: 'max-nodes', action: 'withhold' }])
  })

  it('redacts before truncating: a secret across the cut does not half-leak', () => {
    const scrubber = scrubberWith({ maxStringLength: 30 })
    scrubber.register('Kx9-STRADDLING-secret-Qz7')
    const text = `${'.'.repeat(20)}Kx9-STRADDLING-secret-Qz7${'.'.repeat(20)}`
    const { value, transforms } = scrubber.scrub({ msg: text })
    const msg = (value as { msg: string }).msg
    expect(msg).not.toContain('Kx9')
    expect(msg).not.toContain('STRADDLING')
    expect(msg.startsWith(`${'.'.repeat(20)}[REDACTED:`)).toBe(true)
    expect(msg).toMatch(/\[airlock:truncated \d+ chars\]$/)
    expect(transforms).toEqual([
      { path: 'msg', rule: 'registered-secret', action: 'redact' },
      { path: 'msg', rule: 'max-string-length', action: 'truncate' },
    ])
  })

  it('withholds a node whose getter throws, keeps its siblings, and drops its partial transforms', () => {
    const hostile = {
      email: 'ada@example.com',
      get boom(): string {
        throw new Error('getter exploded with hunter22')
      },
    }
    const { value, transforms } = scrubberWith().scrub({ ok: 'bob@example.com', hostile })
    expect(value).toEqual({ ok: '[REDACTED:email]', hostile: '[airlock:withheld]' })
    expect(transforms).toEqual([
      { path: 'ok', rule: 'email', action: 'redact' },
      { path: 'hostile', rule: 'walker-error', action: 'withhold' },
    ])
    expect(JSON.stringify(value)).not.toContain('hunter22')
  })

  it('withholds a Proxy whose traps throw, and a root that cannot be read', () => {
    const trap = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no keys for you')
        },
      },
    )
    expect(scrubberWith().scrub({ trap }).value).toEqual({ trap: '[airlock:withheld]' })
    expect(scrubberWith().scrub(trap)).toEqual({
      value: '[airlock:withheld]',
      transforms: [{ path: '$', rule: 'walker-error', action: 'withhold' }],
    })
  })

  it('turns every kind of value into a JSON-ready one', () => {
    const err = new TypeError('bad input from ada@example.com', { cause: new Error('root cause 10.0.0.1') })
    Object.assign(err, { code: 'E_BAD', response: { headers: { authorization: 'Bearer abc123456' } } })
    const aggregate = new AggregateError([new Error('one ada@example.com'), 'two'], 'many')
    const input = {
      map: new Map<unknown, unknown>([
        ['k', 'ada@example.com'],
        [42, 'x'],
        [{ o: 1 }, 'object key'],
      ]),
      set: new Set(['bob@example.com', 1]),
      err,
      aggregate,
      order: new Order(),
      date: new Date(0),
      invalid: new Date(Number.NaN),
      buffer: Buffer.from('hunter22'),
      bytes: new Uint8Array(3),
      arrayBuffer: new ArrayBuffer(5),
      fn: () => 1,
      sym: Symbol('s'),
      big: 4111111111111111n,
      card: 4111111111111111,
      small: 42,
      wrapped: new Secret('value-hidden-by-toJSON'),
      boxed: new String('ada@example.com'),
      url: new URL('https://user:pw123@example.com/x'),
    }
    const { value } = scrubberWith().scrub(input)
    const out = value as Record<string, unknown>
    expect(out.map).toEqual({ k: '[REDACTED:email]', '42': 'x', '[key 0]': 'object key' })
    expect(out.set).toEqual(['[REDACTED:email]', 1])
    expect(out.err).toMatchObject({
      name: 'TypeError',
      message: 'bad input from [REDACTED:email]',
      code: 'E_BAD',
      cause: { name: 'Error', message: 'root cause [REDACTED:ipv4]' },
      response: { headers: { authorization: '[REDACTED:sensitive-key]' } },
    })
    expect(typeof (out.err as { stack: unknown }).stack).toBe('string')
    expect(out.aggregate).toMatchObject({ name: 'AggregateError', message: 'many', errors: [{ message: 'one [REDACTED:email]' }, 'two'] })
    expect(out.order).toEqual({ $class: 'Order', id: 7, customer: '[REDACTED:email]' })
    expect(out.date).toBe('1970-01-01T00:00:00.000Z')
    expect(out.invalid).toBe('Invalid Date')
    expect(out.buffer).toBe('[binary 8 bytes]')
    expect(out.bytes).toBe('[binary 3 bytes]')
    expect(out.arrayBuffer).toBe('[binary 5 bytes]')
    expect(out.fn).toBe('[Function]')
    expect(out.sym).toBe('[Symbol]')
    expect(out.big).toBe('[REDACTED:credit-card]')
    expect(out.card).toBe('[REDACTED:credit-card]')
    expect(out.small).toBe(42)
    expect(out.wrapped).toBe('[airlock:redacted]')
    expect(out.boxed).toBe('[REDACTED:email]')
    expect(out.url).toBe('https://[REDACTED:url-credentials]@example.com/x')
    expect(JSON.stringify(value)).not.toMatch(/hunter22|value-hidden|ada@|bob@|pw123/)
  })

  it('scrubs keys too, keeps colliding keys apart, and keeps a __proto__ key as data', () => {
    const input = JSON.parse('{"ada@example.com": 1, "bob@example.com": 2, "__proto__": {"polluted": true}}') as object
    const { value, transforms } = scrubberWith().scrub(input)
    expect(Object.keys(value as object)).toEqual(['[REDACTED:email]', '[REDACTED:email]#2', '__proto__'])
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(transforms.map((t) => t.path)).toEqual(['["[REDACTED:email]"]', '["[REDACTED:email]#2"]'])
  })

  it('records the hits of a scrubbed class name under its $class path', () => {
    const scrubber = scrubberWith()
    scrubber.register('Kx9ClassSecretQz7')
    const Named = { Kx9ClassSecretQz7: class {} }.Kx9ClassSecretQz7
    const { value, transforms } = scrubber.scrub({ job: new Named(), list: [new Named()] })
    expect(value).toEqual({ job: { $class: '[REDACTED:registered-secret]' }, list: [{ $class: '[REDACTED:registered-secret]' }] })
    expect(transforms).toEqual([
      { path: 'job.$class', rule: 'registered-secret', action: 'redact' },
      { path: 'list[0].$class', rule: 'registered-secret', action: 'redact' },
    ])
  })

  it('is safe to re-enter: a getter that scrubs during a walk gets its own walker', () => {
    const scrubber = scrubberWith()
    const input = {
      get nested(): unknown {
        return scrubber.scrub({ inner: 'bob@example.com' }).value
      },
      after: 'ada@example.com',
    }
    expect(scrubber.scrub(input).value).toEqual({ nested: { inner: '[REDACTED:email]' }, after: '[REDACTED:email]' })
  })
})
