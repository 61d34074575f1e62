import { describe, expect, it } from 'vitest'
import { Normalizer } from '../../src/scrub/normalize.js'
import { ErrorNode, MarkerNode, ReferenceNode } from '../../src/scrub/value-nodes.js'

const limits = { maxDepth: 8, maxNodes: 200 }

function normalize(value: unknown): unknown {
  return new Normalizer(limits).run(value)
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  get norm(): number {
    return Math.hypot(this.x, this.y)
  }
}

describe('Normalizer', () => {
  it('turns every shape into plain data with no prototype', () => {
    const out = normalize({
      when: new Date(0),
      bad: new Date(Number.NaN),
      big: 12n ** 20n,
      re: /a+b/gi,
      boxed: new String('text'),
      map: new Map<unknown, unknown>([
        ['k', 1],
        [2, 'two'],
        [{}, 'object key'],
      ]),
      set: new Set(['a', 'b']),
      fn: () => 1,
      sym: Symbol('s'),
      point: new Point(3, 4),
      viaJSON: { toJSON: () => ({ shown: true }) },
    }) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBeNull()
    expect({ ...out, map: { ...(out.map as object) }, point: { ...(out.point as object) } }).toEqual({
      when: '1970-01-01T00:00:00.000Z',
      bad: 'Invalid Date',
      big: (12n ** 20n).toString(),
      re: '/a+b/gi',
      boxed: 'text',
      map: { k: 1, '2': 'two', '[key 0]': 'object key' },
      set: ['a', 'b'],
      fn: '[Function]',
      sym: '[Symbol]',
      point: { $class: 'Point', x: 3, y: 4 },
      viaJSON: expect.objectContaining({ shown: true }) as unknown,
    })
  })

  it('keeps bytes out as a binary marker, whatever view holds them', () => {
    for (const bytes of [Buffer.from('secret'), new Uint8Array(6), new DataView(new ArrayBuffer(6)), new ArrayBuffer(6)]) {
      const out = normalize({ bytes }) as { bytes: MarkerNode }
      expect(out.bytes).toBeInstanceOf(MarkerNode)
      expect(out.bytes).toMatchObject({ text: '[binary 6 bytes]', rule: 'binary', action: 'redact' })
    }
  })

  it('lifts an Error wherever it sits, with cause, errors and own properties', () => {
    const cause = new TypeError('inner')
    const err = Object.assign(new AggregateError([new Error('one')], 'outer', { cause }), { code: 'E_X', detail: { id: 7 } })
    const holder = normalize(new Map([['e', { deep: [err] }]])) as { e: { deep: ErrorNode[] } }
    const node = holder.e.deep[0]!
    expect(node).toBeInstanceOf(ErrorNode)
    expect(node.type).toBe('AggregateError')
    expect(node.message).toBe('outer')
    expect(node.code).toBe('E_X')
    expect(node.cause).toBeInstanceOf(ErrorNode)
    expect((node.cause as ErrorNode).type).toBe('TypeError')
    expect(node.errors?.[0]).toBeInstanceOf(ErrorNode)
    expect({ ...(node.props as object) }).toEqual({ detail: expect.objectContaining({ id: 7 }) as unknown })
    expect(typeof node.stack).toBe('string')
  })

  it('lifts a written Result as a reference, before its toJSON is taken as data', () => {
    const result = { inline: true, toJSON: () => ({ type: 'json', location: '{"a":1}' }) }
    const node = normalize({ result }) as { result: ReferenceNode }
    expect(node.result).toBeInstanceOf(ReferenceNode)
    expect(node.result.inline).toBe(true)
    expect({ ...node.result.json }).toEqual({ type: 'json', location: '{"a":1}' })
  })

  it('marks cycles, bounds depth, and replaces a value over the node budget whole', () => {
    const cyclic: Record<string, unknown> = { name: 'a' }
    cyclic.self = cyclic
    expect({ ...(normalize(cyclic) as object) }).toEqual({ name: 'a', self: '[Circular]' })
    let deep: Record<string, unknown> = {}
    for (let i = 0; i < 20; i++) deep = { d: deep }
    let cursor = normalize(deep) as Record<string, unknown>
    for (let i = 0; i < 8; i++) cursor = cursor.d as Record<string, unknown>
    expect(cursor.d).toMatchObject({ rule: 'max-depth', action: 'withhold' })
    expect(normalize(Array.from({ length: 500 }, (_, i) => i))).toMatchObject({ rule: 'max-nodes', text: '[airlock:max-nodes]' })
  })

  it('marks only a value among its own ancestors as a cycle, and forgets them between runs', () => {
    const normalizer = new Normalizer(limits)
    const shared = { id: 1 }
    // The same object twice side by side, and at two depths, is not a cycle.
    const twice = normalizer.run({ a: shared, b: [shared, { c: shared }] }) as Record<string, unknown>
    expect(JSON.parse(JSON.stringify(twice))).toEqual({ a: { id: 1 }, b: [{ id: 1 }, { c: { id: 1 } }] })
    // A cycle a few levels down is found, at the level it closes.
    const root: Record<string, unknown> = { name: 'root' }
    root.child = { list: [{ back: root }] }
    expect(JSON.parse(JSON.stringify(normalizer.run(root)))).toEqual({ name: 'root', child: { list: [{ back: '[Circular]' }] } })
    // A run that ends in a getter that throws or a value over the budget leaves no ancestor behind for the next run.
    const throwing = { ok: shared, get bad(): unknown { throw new Error('no') } }
    const withheld = normalizer.run({ nested: { throwing } }) as { nested: { throwing: unknown } }
    expect(withheld.nested.throwing).toMatchObject({ rule: 'walker-error', action: 'withhold' })
    expect(normalizer.run(Array.from({ length: 500 }, () => shared))).toMatchObject({ rule: 'max-nodes' })
    expect(JSON.parse(JSON.stringify(normalizer.run(shared)))).toEqual({ id: 1 })
    expect(JSON.parse(JSON.stringify(normalizer.run({ again: shared, root })))).toEqual({
      again: { id: 1 },
      root: { name: 'root', child: { list: [{ back: '[Circular]' }] } },
    })
  })

  it('reads each getter once, never mutates its input, and withholds what throws', () => {
    let reads = 0
    const input = {
      get counted(): number {
        reads++
        return 1
      },
      hostile: {
        get boom(): string {
          throw new Error('getter with hunter22')
        },
      },
      proxy: new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('no keys')
          },
        },
      ),
      throwingJSON: {
        toJSON(): never {
          throw new Error('nope')
        },
      },
    }
    const out = normalize(input) as Record<string, unknown>
    expect(reads).toBe(1)
    expect(out.counted).toBe(1)
    for (const key of ['hostile', 'proxy', 'throwingJSON']) expect(out[key]).toMatchObject({ rule: 'walker-error', action: 'withhold' })
    expect(JSON.stringify(out)).not.toContain('hunter22')
  })

  it('treats __proto__ and constructor as keys, never as the prototype', () => {
    const input = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}') as object
    const out = normalize(input) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBeNull()
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('is re-entrant through a fresh normalizer when a toJSON normalizes too', () => {
    const normalizer = new Normalizer(limits)
    const inner = { toJSON: () => ({ nested: normalizer.busy ? 'busy' : 'idle' }) }
    const out = normalizer.run({ inner }) as { inner: { nested: string } }
    expect(out.inner.nested).toBe('busy')
    expect(normalizer.busy).toBe(false)
  })
})
