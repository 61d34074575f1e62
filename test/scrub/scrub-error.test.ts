import { describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { presets } from '../../src/policy/presets.js'
import type { ExceptionPolicy } from '../../src/policy/schema.js'
import { scrubError } from '../../src/scrub/scrub-error.js'
import { Scrubber } from '../../src/scrub/scrubber.js'

const SECRET = 'Reg1stered-S3cret-v4lue'

function setup(): Scrubber {
  const scrubber = new Scrubber()
  scrubber.register(SECRET)
  return scrubber
}

function exceptions(overrides: Partial<ExceptionPolicy>): ExceptionPolicy {
  return { mode: 'scrubbed', stack: 'drop', maxCauseDepth: 5, ...overrides }
}

class PgError extends Error {
  code = '28P01'
}

// An error with a stack we control: a message line, then frames with a home directory.
function failure(message: string, cause?: unknown): PgError {
  const err = new PgError(message, cause === undefined ? undefined : { cause })
  err.stack = [
    `PgError: ${message}`,
    '    at Client.connect (/home/ada/app/node_modules/pg/client.js:132:17)',
    `    at loadOrders (/Users/ada/app/src/etl.ts:41:9)`,
    '    at /home/ada/app/src/main.ts:7:3',
  ].join('\n')
  return err
}

describe('scrubError', () => {
  it('scrubbed (default): scrubbed message, stack dropped, code kept', async () => {
    const err = failure(`auth failed for ada@example.com using ${SECRET}`)
    const out = await scrubError(err, presets.balanced, { scrubber: setup() })
    expect(out).toMatchObject({ mode: 'scrubbed', type: 'PgError', code: '28P01' })
    expect(out.message).toBe('auth failed for [REDACTED:email] using [REDACTED:registered-secret]')
    expect(out.stack).toBeUndefined()
    expect(out.transforms).toEqual([
      { path: 'message', rule: 'email', action: 'redact' },
      { path: 'message', rule: 'registered-secret', action: 'redact' },
      { path: 'stack', rule: 'exception-stack', action: 'remove' },
    ])
    expect(String(out)).toBe('PgError [28P01]: auth failed for [REDACTED:email] using [REDACTED:registered-secret]')
  })

  it('scrubbed with stack "scrubbed" keeps frames, without home directories', async () => {
    const out = await scrubError(failure('boom 10.0.0.1'), exceptions({ stack: 'scrubbed' }), { scrubber: setup() })
    expect(out.stack).toContain('at Client.connect (/home/[REDACTED:home-path]/app/node_modules/pg/client.js:132:17)')
    expect(out.stack).toContain('/Users/[REDACTED:home-path]/app/src/etl.ts')
    expect(out.stack).not.toMatch(/ada|10\.0\.0\.1/)
  })

  it('scrubbed with stack "frames" keeps function names only', async () => {
    const out = await scrubError(failure('boom'), exceptions({ stack: 'frames' }), { scrubber: setup() })
    expect(out.stack).toBe('    at Client.connect\n    at loadOrders\n    at <anonymous>')
    // The ledger and report say what was done to the stack: cut to frames, not removed.
    expect(out.transforms).toContainEqual({ path: 'stack', rule: 'exception-stack', action: 'frames' })
    expect(out.transforms).not.toContainEqual(expect.objectContaining({ path: 'stack', action: 'remove' }))
  })

  it('full: message and stack pass, with registered secrets masked and home directories removed', async () => {
    const out = await scrubError(failure(`ada@example.com ${SECRET}`), exceptions({ mode: 'full' }), { scrubber: setup() })
    expect(out.message).toBe('ada@example.com [REDACTED:registered-secret]')
    expect(out.stack).toContain('PgError: ada@example.com [REDACTED:registered-secret]')
    expect(out.stack).toContain('/home/[REDACTED:home-path]/app/src/main.ts:7:3')
    expect(out.stack).not.toContain(SECRET)
  })

  it('type: class name and code only, for the whole cause chain', async () => {
    const err = failure(`secret ${SECRET}`, new TypeError('inner ada@example.com'))
    const out = await scrubError(err, presets.strict, { scrubber: setup() })
    expect(JSON.parse(JSON.stringify(out))).toEqual({
      mode: 'type',
      type: 'PgError',
      code: '28P01',
      message: '',
      causes: [{ type: 'TypeError', message: '' }],
      transforms: [
        { path: 'message', rule: 'exception-mode', action: 'remove' },
        { path: 'stack', rule: 'exception-mode', action: 'remove' },
      ],
    })
    expect(String(out)).toBe('PgError [28P01]\nCaused by: TypeError')
  })

  it('fingerprint: one bug groups under one keyed value; another bug or another key does not', async () => {
    const keys = KeyRing.generate()
    const policy = exceptions({ mode: 'fingerprint' })
    const fingerprintOf = async (err: Error, ring = keys): Promise<string> =>
      (await scrubError(err, policy, { scrubber: setup(), keys: ring })).fingerprint!
    const bug = (id: string, n: number): Error => {
      const err = new Error(`order ${id} failed after ${n} retries`)
      err.stack = `Error: x\n    at load (/home/${id}/app/etl.js:${n}:3)`
      return err
    }
    const first = await fingerprintOf(bug('3f9a1c2b-0000-4000-8000-00000000aaaa', 3))
    expect(first).toMatch(new RegExp(`^fp1\\.${keys.activeKid}\\.`))
    expect(await fingerprintOf(bug('77c0ffee-1111-4111-8111-11111111bbbb', 12))).toBe(first)
    expect(await fingerprintOf(new Error('a different bug'))).not.toBe(first)
    expect((await fingerprintOf(bug('3f9a1c2b-0000-4000-8000-00000000aaaa', 3), KeyRing.generate())).split('.')[2]).not.toBe(
      first.split('.')[2],
    )
    const out = await scrubError(bug('x', 1), policy, { scrubber: setup(), keys })
    expect(out.message).toBe('')
    expect(out.stack).toBeUndefined()
  })

  it('fingerprint: covers the first 65,536 code units of a message and of a stack, so a huge one costs no more', async () => {
    const keys = KeyRing.generate()
    const policy = exceptions({ mode: 'fingerprint' })
    const fingerprintOf = async (message: string, stack = 'Error: x\n    at load (/app/etl.js:1:3)'): Promise<string> => {
      const err = new Error(message)
      err.stack = stack
      return (await scrubError(err, policy, { scrubber: setup(), keys })).fingerprint!
    }
    const words = 'lorem ipsum dolor sit amet '.repeat(2_500) // 67,500 code units
    const head = await fingerprintOf(`${words}tail one`)
    expect(await fingerprintOf(`${words}tail two${' and more'.repeat(500_000)}`)).toBe(head)
    expect(await fingerprintOf(`lorem changed ${words}tail one`)).not.toBe(head)
    const frames = '\n    at load (/app/etl.js:1:3)'.repeat(3_000) // 90,000 code units
    const deep = await fingerprintOf('boom', `Error: boom${frames}`)
    expect(await fingerprintOf('boom', `Error: boom${frames}\n    at other (/app/other.js:1:1)`)).toBe(deep)
    expect(await fingerprintOf('boom', `Error: boom\n    at other (/app/other.js:1:1)${frames}`)).not.toBe(deep)
  })

  it('frames: reads the function names of the whole lines within the first 65,536 code units of a stack', async () => {
    const err = new Error('boom')
    err.stack = `Error: boom${'\n    at load (/app/etl.js:1:3)'.repeat(10_000)}`
    const scrubber = new Scrubber({ policy: { ...presets.balanced.scrub, maxStringLength: 1_000_000 } })
    const out = await scrubError(err, exceptions({ stack: 'frames' }), { scrubber })
    const wholeLines = err.stack.slice(0, err.stack.lastIndexOf('\n', 65_536)).split('\n').length - 1
    expect(out.stack).toBe(Array.from({ length: wholeLines }, () => '    at load').join('\n'))
    expect(wholeLines).toBeLessThan(10_000)
  })

  it('encrypted: a value token only the key holder opens, registered secrets masked inside', async () => {
    const keys = KeyRing.generate()
    const err = failure(`failed with ${SECRET} for ada@example.com`, new RangeError('inner'))
    const out = await scrubError(err, exceptions({ mode: 'encrypted' }), { scrubber: setup(), keys })
    expect(out.message).toBe('')
    expect(out.token).toMatch(/^alkv1\./)
    const opened = JSON.parse(await new ValueCipher(keys).decrypt(out.token!)) as Record<string, unknown>
    expect(opened).toMatchObject({
      v: 1,
      type: 'PgError',
      code: '28P01',
      message: 'failed with [REDACTED:registered-secret] for ada@example.com',
      causes: [{ type: 'RangeError', message: 'inner' }],
    })
    expect(opened.stack).toContain('/home/[REDACTED:home-path]/')
    await expect(new ValueCipher(KeyRing.generate()).decrypt(out.token!)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_KID' })
  })

  it('fingerprint and encrypted without keys fall back to type', async () => {
    for (const mode of ['fingerprint', 'encrypted'] as const) {
      const out = await scrubError(failure('x ada@example.com'), exceptions({ mode }), { scrubber: setup() })
      expect(out.mode).toBe('type')
      expect(out.fingerprint).toBeUndefined()
      expect(out.token).toBeUndefined()
      expect(JSON.stringify(out)).not.toContain('ada@')
    }
  })

  it('follows cause chains and AggregateError.errors to maxCauseDepth, and survives cycles', async () => {
    const deepest = new Error('level 3 ada@example.com')
    const chain = new Error('level 0', { cause: new Error('level 1', { cause: new Error('level 2', { cause: deepest }) }) })
    const shallow = await scrubError(chain, exceptions({ maxCauseDepth: 2 }), { scrubber: setup() })
    expect(shallow.causes?.[0]?.message).toBe('level 1')
    expect(shallow.causes?.[0]?.causes?.[0]?.message).toBe('level 2')
    expect(shallow.causes?.[0]?.causes?.[0]?.causes).toBeUndefined()
    const none = await scrubError(chain, exceptions({ maxCauseDepth: 0 }), { scrubber: setup() })
    expect(none.causes).toBeUndefined()

    const aggregate = new AggregateError([new Error('one ada@example.com'), 'two'], 'many', { cause: new Error('why') })
    const out = await scrubError(aggregate, exceptions({}), { scrubber: setup() })
    expect(out.causes?.map((c) => `${c.type}: ${c.message}`)).toEqual(['Error: why', 'Error: one [REDACTED:email]', 'NonError: "two"'])
    expect(out.transforms).toContainEqual({ path: 'causes[1].message', rule: 'email', action: 'redact' })

    const cyclic = new Error('loop')
    cyclic.cause = cyclic
    expect((await scrubError(cyclic, exceptions({}), { scrubber: setup() })).causes).toBeUndefined()

    const huge = new AggregateError(Array.from({ length: 500 }, (_, i) => new Error(`e${i}`)), 'huge')
    const bounded = await scrubError(huge, exceptions({}), { scrubber: setup() })
    expect(bounded.causes).toHaveLength(64)
    expect(bounded.transforms).toContainEqual({ path: 'causes', rule: 'max-causes', action: 'remove' })
  })

  it('treats thrown non-Errors as errors: scrubbed JSON, never raw', async () => {
    const scrubber = setup()
    const cases: [unknown, string][] = [
      [`plain ${SECRET} ada@example.com`, '"plain [REDACTED:registered-secret] [REDACTED:email]"'],
      [{ password: 'hunter22', to: 'ada@example.com' }, '{"password":"[REDACTED:sensitive-key]","to":"[REDACTED:email]"}'],
      [42, '42'],
      [null, 'null'],
      [undefined, 'undefined'],
    ]
    for (const [thrown, message] of cases) {
      for (const mode of ['full', 'scrubbed'] as const) {
        const out = await scrubError(thrown, exceptions({ mode }), { scrubber })
        expect(out.type).toBe('NonError')
        expect(out.message).toBe(message)
      }
    }
    const typed = await scrubError('raw ada@example.com', presets.strict, { scrubber })
    expect(String(typed)).toBe('NonError')
  })

  it('never throws on a hostile error: the result is withheld', async () => {
    const hostile = new Error('x')
    Object.defineProperty(hostile, 'message', {
      get() {
        throw new Error('getter exploded')
      },
    })
    const out = await scrubError(hostile, exceptions({}), { scrubber: setup() })
    expect(out.type).toBe('[airlock:withheld]')
    expect(out.transforms).toEqual([{ path: '$', rule: 'walker-error', action: 'withhold' }])
  })

  it('checks its arguments', async () => {
    await expect(scrubError(new Error('x'), { mode: 'loud' } as never, { scrubber: setup() })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(scrubError(new Error('x'), presets.balanced, {} as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(
      scrubError(new Error('x'), presets.balanced, { scrubber: setup(), keys: 'ring' as never }),
    ).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})
