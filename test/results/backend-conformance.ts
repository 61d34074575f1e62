import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import type { Result, ResultOptions } from '../../src/results/result.js'
import { digestOf, flipped, generatedBytes, rejection } from './byte-streams.js'
import { expectCacheSharedThroughStorage } from './shared-cache.js'

/**
 * One storage backend as the conformance suite drives it. `make` builds a
 * result of the backend with the given shared options and a client of its
 * own; `stored` and `put` reach the storage directly (not through the result)
 * by object name, as written under the result's `prefix` when it has one.
 */
export interface Backend {
  /** The result's `type`, e.g. `'s3'`. */
  readonly type: string
  /** What `toJSON` names besides type and location, e.g. `{ bucket }`. */
  readonly identifiers: Readonly<Record<string, string>>
  make(options: ResultOptions & { prefix?: string }): Result
  stored(name: string): Promise<Buffer>
  put(name: string, bytes: Uint8Array): Promise<void>
  /** Whether the backend takes `prefix` (the cloud ones do). */
  readonly prefixes: boolean
  /** Whether the test server checks `overwrite: false` atomically, so a race between two writers can be tested. */
  readonly atomicConditionalWrites: boolean
}

/**
 * What every stored `Result` does the same way, whatever the storage: the
 * round trip, `exists`, encrypted locations and payloads, tampering, missing
 * objects, `overwrite`, the prefix, and a cache shared through the storage.
 * What a backend does its own way (its uploads, its errors, its options) stays
 * in its own test file.
 */
export function describeBackendConformance(name: string, backend: () => Backend): void {
  describe(`${name}: the backend conformance suite`, () => {
    // A fresh folder per suite run: the S3 and GCS buckets are shared.
    const root = `conformance-${randomUUID()}`

    it('round-trips a small value, plain and encrypted; toJSON is {type, location, identifiers}', async () => {
      const b = backend()
      const keys = KeyRing.generate()
      const plain = b.make({ location: `${root}/small/{taskName}.json` })
      const written = await plain.write({ rows: [1, 2, 3], who: 'ada' }, { taskName: 'plain' })
      expect(written.toJSON()).toEqual({ type: b.type, location: `${root}/small/plain.json`, ...b.identifiers })
      expect(Object.keys(written.toJSON())).toEqual(['type', 'location', ...Object.keys(b.identifiers)])
      expect((await plain.read(written.location)).value).toEqual({ rows: [1, 2, 3], who: 'ada' })
      expect((await b.stored(`${root}/small/plain.json`)).toString('latin1')).toContain('ada')

      const sealed = b.make({ location: `${root}/small/{taskName}.json`, payloadCipher: keys })
      const secret = await sealed.write({ who: `needle-${b.type}-payload` }, { taskName: 'sealed' })
      expect((await b.stored(`${root}/small/sealed.json`)).toString('latin1')).not.toContain(`needle-${b.type}-payload`)
      expect((await sealed.read(secret.location)).value).toEqual({ who: `needle-${b.type}-payload` })
    })

    it('writes a Buffer with the default serializer and reads it back as a Buffer (issue 14, item 2)', async () => {
      const r = backend().make({ location: `${root}/bytes/{taskName}.json`, payloadCipher: KeyRing.generate() })
      const written = await r.write(Buffer.from('%PDF-1.7 receipt'), { taskName: 'receipt' })
      const back = (await r.read(written.location)).value
      expect(Buffer.isBuffer(back)).toBe(true)
      expect((back as Buffer).toString()).toBe('%PDF-1.7 receipt')
    })

    it('answers exists true and false, by token, plain location and template', async () => {
      const r = backend().make({ location: `${root}/exists/{taskName}.json`, locationCipher: KeyRing.generate() })
      const written = await r.write(1, { taskName: 'there' })
      expect(await r.exists(written.location)).toBe(true)
      expect(await r.exists(`${root}/exists/there.json`)).toBe(true)
      expect(await r.exists(`${root}/exists/{taskName}.json`, { taskName: 'there' })).toBe(true)
      expect(await r.exists(`${root}/exists/missing.json`)).toBe(false)
      expect(await r.exists(`${root}/exists/{taskName}.json`, { taskName: 'missing' })).toBe(false)
    })

    it('reads an encrypted location back from its token, on another instance with the same keys', async () => {
      const b = backend()
      const keys = KeyRing.generate()
      const options = { location: `${root}/token/{taskName}.json`, locationCipher: keys }
      const written = await b.make(options).write({ n: 7 }, { taskName: 'load' })
      expect(written.location?.startsWith('alk1.')).toBe(true)
      expect(JSON.stringify(written)).not.toContain('token/load')
      const other = b.make(options)
      const read = await other.read(written.location)
      expect(read.value).toEqual({ n: 7 })
      expect(read.plainLocation).toBe(`${root}/token/load.json`)
      // readStream gives what write stored: the serializer's framed bytes.
      expect(Buffer.concat(await (await other.readStream(written.location)).toArray()).subarray(0, 4).toString()).toBe('ALKS')
      const stranger = b.make({ ...options, locationCipher: KeyRing.generate() })
      expect(await rejection(stranger.read(written.location))).toMatchObject({ code: 'ERR_UNKNOWN_KID' })
    })

    it('refuses a stored object flipped by one byte, cut short, or moved to another name, with ERR_PAYLOAD_TAMPERED', async () => {
      const b = backend()
      const keys = KeyRing.generate()
      const r = b.make({ location: `${root}/tamper/{name}`, payloadCipher: keys })
      await r.write({ amount: 100 }, { name: 'value.json' })
      const name = `${root}/tamper/value.json`
      const original = await b.stored(name)
      for (const index of [60, -1]) {
        await b.put(name, flipped(original, index))
        expect(await rejection(r.read(name))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
        expect(await rejection(r.readStream(name).then(digestOf))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
      }
      await b.put(name, original.subarray(0, original.length - 1))
      expect(await rejection(r.read(name))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })

      // A whole sealed object copied over another one does not open there: the payload is bound to its name.
      await r.write({ amount: 1 }, { name: 'small.json' })
      await b.put(name, await b.stored(`${root}/tamper/small.json`))
      expect(await rejection(r.read(name))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
      expect((await r.read(`${root}/tamper/small.json`)).value).toEqual({ amount: 1 })

      const unknownKid = b.make({ location: `${root}/tamper/{name}`, payloadCipher: KeyRing.generate() })
      expect(await rejection(unknownKid.read(`${root}/tamper/small.json`))).toMatchObject({ code: 'ERR_UNKNOWN_KID' })
    })

    it('throws ResultNotFoundError for a missing object, from read and readStream', async () => {
      const r = backend().make({})
      expect(await rejection(r.read(`${root}/missing.json`))).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
      expect(await rejection(r.readStream(`${root}/missing.json`))).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
    })

    it('overwrites by default; with overwrite: false a second write fails with ERR_RESULT_EXISTS and changes nothing', async () => {
      const b = backend()
      const replacing = b.make({ location: `${root}/overwrite/{name}` })
      expect(replacing.overwrite).toBe(true)
      await replacing.write('first', { name: 'default.json' })
      await replacing.write('second', { name: 'default.json' })
      expect((await replacing.read(`${root}/overwrite/default.json`)).value).toBe('second')
      await replacing.writeStream(generatedBytes(10).stream, { name: 'default.json' })
      expect((await b.stored(`${root}/overwrite/default.json`)).length).toBe(10)

      const once = b.make({ location: `${root}/overwrite/{name}`, overwrite: false })
      expect(once.overwrite).toBe(false)
      await once.write('first', { name: 'once.json' })
      const before = await b.stored(`${root}/overwrite/once.json`)
      expect(await rejection(once.write('second', { name: 'once.json' }))).toMatchObject({ code: 'ERR_RESULT_EXISTS', name: 'ResultExistsError' })
      expect(await rejection(once.writeStream(generatedBytes(6 * 1024 * 1024).stream, { name: 'once.json' }))).toMatchObject({
        code: 'ERR_RESULT_EXISTS',
      })
      expect(await b.stored(`${root}/overwrite/once.json`)).toEqual(before)
      expect((await once.read(`${root}/overwrite/once.json`)).value).toBe('first')
      await once.writeStream(generatedBytes(10).stream, { name: 'streamed-once.bin' })
      expect(await rejection(once.writeStream(generatedBytes(10).stream, { name: 'streamed-once.bin' }))).toMatchObject({
        code: 'ERR_RESULT_EXISTS',
      })
      expect(() => b.make({ overwrite: 'no' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    })

    it('lets only one of two racing writers with overwrite: false succeed', async (context) => {
      const b = backend()
      if (!b.atomicConditionalWrites) context.skip('the test server checks the condition apart from the write')
      const racing = [b.make({ location: `${root}/race/{name}`, overwrite: false }), b.make({ location: `${root}/race/{name}`, overwrite: false })]
      const outcomes = await Promise.allSettled(racing.map((r, i) => r.write(`writer ${i}`, { name: 'once.json' })))
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
      const refused = outcomes.find((o) => o.status === 'rejected')
      expect(refused?.status === 'rejected' && refused.reason).toMatchObject({ code: 'ERR_RESULT_EXISTS' })
    })

    it('stores every object under its prefix; the location that leaves does not name it', async () => {
      const b = backend()
      if (!b.prefixes) {
        expect(() => b.make({ prefix: 'team-a' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
        return
      }
      const r = b.make({ prefix: `${root}/team-a/`, location: 'prefixed/{name}' })
      const written = await r.write({ n: 1 }, { name: 'one.json' })
      expect(written.location).toBe('prefixed/one.json')
      expect(JSON.stringify(written)).not.toContain('team-a')
      expect((await b.stored(`${root}/team-a/prefixed/one.json`)).toString()).toContain('"n"')
      expect(await r.exists('prefixed/one.json')).toBe(true)
      expect(await b.make({ location: 'prefixed/{name}' }).exists('prefixed/one.json')).toBe(false)
      for (const bad of ['/abs', 'a/../b', 'a//b', '.', 'a\\b', 7]) {
        expect(() => b.make({ prefix: bad as never }), String(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
      }
    })

    it('gives a cache hit to another Airlock, with clients of its own, through the storage', async () => {
      const b = backend()
      const keys = KeyRing.generate()
      const machine = (): { result: Result; index: Result } => ({
        result: b.make({ location: `${root}/cache/{taskName}/{taskRunId}.json`, locationCipher: keys, payloadCipher: keys }),
        index: b.make({ location: `${root}/cache/.airlock-cache/{cacheKey}/{variant}.json`, payloadCipher: keys }),
      })
      await expectCacheSharedThroughStorage(keys, [machine(), machine()])
    })
  })
}
