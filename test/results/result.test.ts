import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { PayloadTamperedError, ResultNotFoundError } from '../../src/errors.js'
import { JSONSerializer } from '../../src/results/json-serializer.js'
import type { PayloadSealer } from '../../src/results/payload-cipher-seam.js'
import { Result, type ResultOptions } from '../../src/results/result.js'
import type { Serializer } from '../../src/results/serializer.js'

/**
 * A backend the way S3, GCS and Azure are meant to be written: three hooks,
 * a type, identifiers, and #private state, which the hooks may use.
 */
class MapResult<T = unknown> extends Result<T> {
  readonly #objects: Map<string, Uint8Array>
  readonly #bucket: string

  constructor(options: ResultOptions<T> & { bucket: string; objects?: Map<string, Uint8Array> }) {
    super(options, ['bucket', 'objects'])
    this.#bucket = options.bucket
    this.#objects = options.objects ?? new Map<string, Uint8Array>()
  }

  get type(): string {
    return 'map'
  }

  get bucket(): string {
    return this.configured.#bucket
  }

  protected writeBytes(plainLocation: string, bytes: Uint8Array): Promise<void> {
    this.#objects.set(plainLocation, bytes)
    return Promise.resolve()
  }

  protected readBytes(plainLocation: string): Promise<Uint8Array> {
    const bytes = this.#objects.get(plainLocation)
    return bytes === undefined ? Promise.reject(new ResultNotFoundError('no such object')) : Promise.resolve(bytes)
  }

  protected existsAt(plainLocation: string): Promise<boolean> {
    return Promise.resolve(this.#objects.has(plainLocation))
  }

  protected override identifiers(): Readonly<Record<string, string>> {
    return { bucket: this.#bucket, type: 'spoofed', location: 'spoofed' }
  }
}

/** AES-256-GCM, enough to prove the seam seals before storage and opens after. */
class GcmCipher implements PayloadSealer {
  readonly #key = randomBytes(32)

  seal(bytes: Uint8Array): Promise<Uint8Array> {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    const body = Buffer.concat([cipher.update(bytes), cipher.final()])
    return Promise.resolve(new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), body])))
  }

  open(bytes: Uint8Array): Promise<Uint8Array> {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, 12))
      decipher.setAuthTag(bytes.subarray(12, 28))
      return Promise.resolve(new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()])))
    } catch {
      return Promise.reject(new PayloadTamperedError('payload failed authentication'))
    }
  }
}

async function rejection(pending: Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await pending
  } catch (err) {
    return err as Error & { code: string }
  }
  throw new Error('expected a rejection')
}

describe('Result (through a backend that implements only the hooks)', () => {
  it('round-trips through the hooks, with #private state in the backend', async () => {
    const objects = new Map<string, Uint8Array>()
    const r = new MapResult({ bucket: 'b1', objects, location: '{taskName}.json', locationCipher: KeyRing.generate() })
    const written = await r.write({ n: 1 }, { taskName: 't' })
    expect([...objects.keys()]).toEqual(['t.json'])
    expect(written).toBeInstanceOf(MapResult)
    expect(written.bucket).toBe('b1')
    expect((await written.read(written.location)).value).toEqual({ n: 1 })
    expect(await r.exists(written.location)).toBe(true)
    expect(await r.exists('missing.json')).toBe(false)
  })

  it('puts identifiers in toJSON after type and location, and never lets them replace those', async () => {
    const r = new MapResult({ bucket: 'b1', location: 'a.json' })
    const written = await r.write(1)
    expect(written.toJSON()).toEqual({ type: 'map', location: 'a.json', bucket: 'b1' })
    expect(Object.keys(written.toJSON())).toEqual(['type', 'location', 'bucket'])
    expect(r.toJSON()).toEqual({ type: 'map', bucket: 'b1' })
    expect(inspect(written)).toBe("MapResult { type: 'map', location: 'a.json', bucket: 'b1' }")
  })

  it('seals bytes with the payload cipher before storage and opens them after', async () => {
    const objects = new Map<string, Uint8Array>()
    const r = new MapResult({ bucket: 'b', objects, location: 'a.json', payloadCipher: new GcmCipher() })
    await r.write({ secret: 'needle-payload' })
    const stored = objects.get('a.json') as Uint8Array
    expect(Buffer.from(stored).toString('latin1')).not.toContain('needle-payload')
    expect(Buffer.from(stored).toString('latin1')).not.toContain('ALKS')
    expect((await r.read('a.json')).value).toEqual({ secret: 'needle-payload' })
  })

  it('lets the payload cipher errors through unchanged', async () => {
    const objects = new Map<string, Uint8Array>()
    const r = new MapResult({ bucket: 'b', objects, location: 'a.json', payloadCipher: new GcmCipher() })
    await r.write({ a: 1 })
    const stored = objects.get('a.json') as Uint8Array
    stored[stored.length - 1] = (stored[stored.length - 1] as number) ^ 1
    expect(await rejection(r.read('a.json'))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
    const other = new MapResult({ bucket: 'b', objects, payloadCipher: new GcmCipher() })
    await r.write({ a: 1 })
    expect(await rejection(other.read('a.json'))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
  })

  it('wraps a foreign serializer error as a typed error without its message', async () => {
    const leaky: Serializer = {
      format: 'leaky',
      serialize: () => new Uint8Array(1),
      deserialize: () => {
        throw new Error('needle-deserialize')
      },
    }
    const r = new MapResult({ bucket: 'b', location: 'a', serializer: leaky })
    await r.write(1)
    const err = await rejection(r.read('a'))
    expect(err).toMatchObject({ code: 'ERR_PAYLOAD_FORMAT' })
    expect(err.message).not.toContain('needle')
    const wrongType = new MapResult({ bucket: 'b', serializer: { ...leaky, serialize: () => 'text' as unknown as Uint8Array } })
    expect(await rejection(wrongType.write(1))).toMatchObject({ code: 'ERR_SERIALIZATION' })
  })

  it('refuses a location function that returns no string', () => {
    const r = new MapResult({ bucket: 'b', location: () => '' })
    expect(() => r.format({})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it.each([
    ['a bad location', { location: 42 }],
    ['a bad serializer', { serializer: { format: 'x' } }],
    ['a bad location cipher', { locationCipher: { encrypt: () => 'x' } }],
    ['a bad payload cipher', { payloadCipher: { seal: () => 1 } }],
    ['an unknown option', { locationCiper: KeyRing.generate() }],
    ['a malformed template', { location: '{taskName' }],
  ])('refuses %s at construction', (_name, options) => {
    expect(() => new MapResult({ bucket: 'b', ...(options as ResultOptions) })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })

  it('refuses a location that is not a non-empty string', async () => {
    const r = new MapResult({ bucket: 'b' })
    expect(await rejection(r.read(''))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(await rejection(r.read(1 as unknown as string))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })

  it('uses the JSON serializer by default', async () => {
    const objects = new Map<string, Uint8Array>()
    await new MapResult({ bucket: 'b', objects, location: 'a' }).write({ b: 1, a: 2 })
    expect(new JSONSerializer().deserialize(objects.get('a') as Uint8Array)).toEqual({ a: 2, b: 1 })
  })
})
