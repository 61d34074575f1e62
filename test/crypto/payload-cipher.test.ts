import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { deriveSubkey, KeyRing } from '../../src/crypto/key-ring.js'
import { PAYLOAD_CHUNK_SIZE, PayloadCipher } from '../../src/crypto/payload-cipher.js'
import { REDACTED } from '../../src/crypto/redacted.js'
import { AirlockError, InvalidArgumentError, PayloadFormatError, PayloadTamperedError, UnknownKeyError } from '../../src/errors.js'

const CHUNK = PAYLOAD_CHUNK_SIZE
const TAG = 16
const SEGMENT = CHUNK + TAG

const ring = KeyRing.generate()
const cipher = new PayloadCipher(ring)

const headerLength = (sealed: Uint8Array): number => 45 + sealed[5]!

/** The sealed payload cut into header and segments (ciphertext || tag). */
function split(sealed: Uint8Array): { header: Buffer; segments: Buffer[] } {
  const bytes = Buffer.from(sealed)
  const h = headerLength(bytes)
  const segments: Buffer[] = []
  for (let at = h; at < bytes.length; at += SEGMENT) segments.push(bytes.subarray(at, Math.min(at + SEGMENT, bytes.length)))
  return { header: bytes.subarray(0, h), segments }
}

function flip(sealed: Uint8Array, index: number): Buffer {
  const copy = Buffer.from(sealed)
  copy[index]! ^= 0x01
  return copy
}

/** Feeds `input` in pieces of the given sizes (cycled) through a Transform and collects the output. */
async function through(transform: NodeJS.ReadWriteStream, input: Uint8Array, sizes: readonly number[] = [CHUNK]): Promise<Buffer> {
  const pieces: Buffer[] = []
  for (let at = 0, i = 0; at < input.length; i++) {
    const size = sizes[i % sizes.length]!
    pieces.push(Buffer.from(input.subarray(at, at + size)))
    at += size
  }
  const out: Buffer[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk)
      callback()
    },
  })
  await pipeline(Readable.from(pieces), transform, sink)
  return Buffer.concat(out)
}

/** Opens with open() and with decryptStream(); both must fail with the same code. Returns it. */
async function failureCode(sealed: Uint8Array, by: PayloadCipher = cipher): Promise<string> {
  const whole = await by.open(sealed).then(
    () => 'opened',
    (err: unknown) => (err instanceof AirlockError ? err.code : `non-airlock: ${String(err)}`),
  )
  const streamed = await through(by.decryptStream(), sealed, [1000, 7, 70_000]).then(
    () => 'opened',
    (err: unknown) => (err instanceof AirlockError ? err.code : `non-airlock: ${String(err)}`),
  )
  expect(streamed).toBe(whole)
  return whole
}

describe('PayloadCipher round trips', () => {
  it.each([
    ['empty', 0],
    ['1 byte', 1],
    ['one chunk less a byte', CHUNK - 1],
    ['exactly one chunk', CHUNK],
    ['one chunk and a byte', CHUNK + 1],
    ['exactly two chunks', 2 * CHUNK],
    ['5 MiB', 5 * 1024 * 1024],
  ])('seal/open %s', async (_name, size) => {
    const plaintext = randomBytes(size)
    const sealed = await cipher.seal(plaintext)
    expect(PayloadCipher.isSealed(sealed)).toBe(true)
    // Every chunk but the last is full; the last is shorter, possibly empty.
    expect(sealed.length).toBe(headerLength(sealed) + size + TAG * (Math.floor(size / CHUNK) + 1))
    expect(Buffer.from(await cipher.open(sealed)).equals(plaintext)).toBe(true)
  })

  it('gives different bytes each time for the same plaintext (fresh salt and nonce prefix)', async () => {
    const plaintext = Buffer.from('same')
    const a = Buffer.from(await cipher.seal(plaintext))
    const b = Buffer.from(await cipher.seal(plaintext))
    expect(a.equals(b)).toBe(false)
  })

  it('writes magic ALKC, version 1 and the active kid in the header', async () => {
    const sealed = Buffer.from(await cipher.seal(Buffer.from('x')))
    expect(sealed.subarray(0, 4).toString('latin1')).toBe('ALKC')
    expect(sealed[4]).toBe(1)
    expect(sealed.subarray(6, 6 + sealed[5]!).toString('latin1')).toBe(ring.activeKid)
  })

  it('streams with odd-sized pieces (1 byte, 7 bytes, 100 KiB) both ways, interchangeably with seal/open', async () => {
    const plaintext = randomBytes(3 * CHUNK + 12_345)
    const sealed = await through(cipher.encryptStream(), plaintext, [1, 7, 100 * 1024])
    expect(Buffer.from(await cipher.open(sealed)).equals(plaintext)).toBe(true)
    expect((await through(cipher.decryptStream(), sealed, [1, 7, 100 * 1024])).equals(plaintext)).toBe(true)
    expect((await through(cipher.decryptStream(), await cipher.seal(plaintext), [7])).equals(plaintext)).toBe(true)
  })

  it('streams an empty input to one empty final chunk', async () => {
    const sealed = await through(cipher.encryptStream(), new Uint8Array(0))
    expect(sealed.length).toBe(headerLength(sealed) + TAG)
    expect((await cipher.open(sealed)).length).toBe(0)
    expect((await through(cipher.decryptStream(), sealed)).length).toBe(0)
  })

  it('streams 64 MiB without holding it: generated input, digests compared', async () => {
    const total = 64 * 1024 * 1024
    const piece = 100 * 1024 + 3 // not a multiple of the chunk size
    const inputHash = createHash('sha256')
    const outputHash = createHash('sha256')
    let produced = 0
    let seed = randomBytes(32)
    const source = new Readable({
      read() {
        if (produced >= total) return void this.push(null)
        const size = Math.min(piece, total - produced)
        const bytes = Buffer.alloc(size, seed) // a repeated, changing pattern
        seed = createHash('sha256').update(seed).digest()
        inputHash.update(bytes)
        produced += size
        this.push(bytes)
      },
    })
    let received = 0
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length
        outputHash.update(chunk)
        callback()
      },
    })
    await pipeline(source, cipher.encryptStream(), cipher.decryptStream(), sink)
    expect(received).toBe(total)
    expect(outputHash.digest('hex')).toBe(inputHash.digest('hex'))
  })
})

// An independent reading of the wire format in the PayloadCipher doc comment:
// if the code drifts from the document, these fail.
describe('PayloadCipher wire format, version 1', () => {
  const payloadKey = (header: Buffer): Buffer => {
    const n = header[5]!
    const kid = header.subarray(6, 6 + n).toString('latin1')
    const salt = header.subarray(6 + n, 38 + n)
    return Buffer.from(hkdfSync('sha256', deriveSubkey(ring, 'payload', kid), salt, 'airlock-sdk/payload-cipher/v1', 32))
  }
  const nonce = (header: Buffer, index: number, last: boolean): Buffer => {
    const n = header[5]!
    const out = Buffer.alloc(12)
    header.copy(out, 0, 38 + n, 45 + n)
    out.writeUInt32BE(index, 7)
    out[11] = last ? 1 : 0
    return out
  }

  it('decrypts by the document: per-payload HKDF key, prefix || index || last nonce, header as AAD', async () => {
    const plaintext = randomBytes(2 * CHUNK + 777)
    const { header, segments } = split(await cipher.seal(plaintext))
    expect(header.length).toBe(45 + ring.activeKid.length)
    const key = payloadKey(header)
    const opened = segments.map((segment, i) => {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce(header, i, i === segments.length - 1), { authTagLength: 16 })
      decipher.setAAD(header)
      decipher.setAuthTag(segment.subarray(segment.length - TAG))
      return Buffer.concat([decipher.update(segment.subarray(0, segment.length - TAG)), decipher.final()])
    })
    expect(Buffer.concat(opened).equals(plaintext)).toBe(true)
  })

  it('opens a payload built by the document, and refuses one whose last chunk lacks the last flag', async () => {
    const header = split(await cipher.seal(new Uint8Array(0))).header
    const key = payloadKey(header)
    const build = (chunks: Buffer[], lastFlagOnLast: boolean): Buffer =>
      Buffer.concat([
        header,
        ...chunks.map((chunk, i) => {
          const last = i === chunks.length - 1 && lastFlagOnLast
          const c = createCipheriv('aes-256-gcm', key, nonce(header, i, last), { authTagLength: 16 })
          c.setAAD(header)
          return Buffer.concat([c.update(chunk), c.final(), c.getAuthTag()])
        }),
      ])
    const chunks = [randomBytes(CHUNK), Buffer.from('tail')]
    expect(Buffer.from(await cipher.open(build(chunks, true))).equals(Buffer.concat(chunks))).toBe(true)
    expect(await failureCode(build(chunks, false))).toBe(PayloadTamperedError.code)
  })
})

describe('PayloadCipher detects tampering', () => {
  const plaintext = randomBytes(3 * CHUNK + 500) // chunks 0, 1, 2 full; chunk 3 holds 500 bytes
  const sealedP = cipher.seal(plaintext)

  it('every single-byte change in the header fails; salt and nonce-prefix changes as ERR_PAYLOAD_TAMPERED', async () => {
    const sealed = await sealedP
    const h = headerLength(sealed)
    const kidEnd = 6 + sealed[5]!
    for (let i = 0; i < h; i++) {
      const code = await failureCode(flip(sealed, i))
      if (i < 5) expect(code, `byte ${i}`).toBe(PayloadFormatError.code) // magic, version
      else if (i < kidEnd) expect([PayloadTamperedError.code, UnknownKeyError.code], `byte ${i}`).toContain(code)
      else expect(code, `byte ${i}`).toBe(PayloadTamperedError.code)
    }
  })

  it('a flipped byte in a chunk body or in a tag fails', async () => {
    const sealed = await sealedP
    const h = headerLength(sealed)
    expect(await failureCode(flip(sealed, h))).toBe(PayloadTamperedError.code) // chunk 0 body
    expect(await failureCode(flip(sealed, h + SEGMENT + 1234))).toBe(PayloadTamperedError.code) // chunk 1 body
    expect(await failureCode(flip(sealed, h + SEGMENT - 1))).toBe(PayloadTamperedError.code) // chunk 0 tag
    expect(await failureCode(flip(sealed, sealed.length - 1))).toBe(PayloadTamperedError.code) // last tag
    expect(await failureCode(flip(sealed, sealed.length - TAG - 1))).toBe(PayloadTamperedError.code) // last body
  })

  it('truncation fails: last chunk dropped, cut inside a chunk, body dropped, cut inside the header', async () => {
    const sealed = await sealedP
    const { header, segments } = split(sealed)
    expect(segments).toHaveLength(4)
    expect(await failureCode(Buffer.concat([header, ...segments.slice(0, 3)]))).toBe(PayloadTamperedError.code)
    expect(await failureCode(sealed.subarray(0, sealed.length - 1))).toBe(PayloadTamperedError.code)
    expect(await failureCode(sealed.subarray(0, headerLength(sealed) + SEGMENT + 100))).toBe(PayloadTamperedError.code)
    expect(await failureCode(header)).toBe(PayloadTamperedError.code)
    expect(await failureCode(header.subarray(0, 20))).toBe(PayloadTamperedError.code)
    expect(await failureCode(header.subarray(0, 4))).toBe(PayloadTamperedError.code)
  })

  it('dropping the empty final chunk of a plaintext that fills whole chunks fails', async () => {
    const sealed = await cipher.seal(randomBytes(2 * CHUNK))
    const { header, segments } = split(sealed)
    expect(segments.map((s) => s.length)).toEqual([SEGMENT, SEGMENT, TAG])
    expect(await failureCode(Buffer.concat([header, segments[0]!, segments[1]!]))).toBe(PayloadTamperedError.code)
  })

  it('a dropped middle chunk fails', async () => {
    const { header, segments } = split(await sealedP)
    expect(await failureCode(Buffer.concat([header, segments[0]!, segments[2]!, segments[3]!]))).toBe(PayloadTamperedError.code)
  })

  it('two swapped chunks fail', async () => {
    const { header, segments } = split(await sealedP)
    expect(await failureCode(Buffer.concat([header, segments[1]!, segments[0]!, segments[2]!, segments[3]!]))).toBe(
      PayloadTamperedError.code,
    )
  })

  it('a chunk appended from another payload fails, and so do appended bytes', async () => {
    const sealed = await sealedP
    const other = split(await cipher.seal(randomBytes(2 * CHUNK + 10)))
    expect(await failureCode(Buffer.concat([sealed, other.segments[2]!]))).toBe(PayloadTamperedError.code)
    expect(await failureCode(Buffer.concat([sealed, other.segments[0]!]))).toBe(PayloadTamperedError.code)
    expect(await failureCode(Buffer.concat([sealed, Buffer.from([0])]))).toBe(PayloadTamperedError.code)
  })

  it('the body of one payload under the header of another (same key, same length) fails', async () => {
    const a = split(await cipher.seal(randomBytes(CHUNK + 99)))
    const b = split(await cipher.seal(randomBytes(CHUNK + 99)))
    expect(a.header.subarray(0, 6 + a.header[5]!).equals(b.header.subarray(0, 6 + b.header[5]!))).toBe(true) // same kid
    expect(await failureCode(Buffer.concat([a.header, ...b.segments]))).toBe(PayloadTamperedError.code)
    // a chunk swapped between the two at the same position
    expect(await failureCode(Buffer.concat([a.header, b.segments[0]!, a.segments[1]!]))).toBe(PayloadTamperedError.code)
  })

  it('releases no plaintext of a chunk before it authenticates', async () => {
    const sealed = await sealedP
    const h = headerLength(sealed)
    const emitted = async (bytes: Buffer): Promise<number> => {
      let count = 0
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          count += chunk.length
          callback()
        },
      })
      await expect(pipeline(Readable.from([bytes]), cipher.decryptStream(), sink)).rejects.toBeInstanceOf(PayloadTamperedError)
      return count
    }
    expect(await emitted(flip(sealed, h + 5))).toBe(0)
    expect(await emitted(flip(sealed, h + SEGMENT + 5))).toBe(CHUNK)
    expect(await emitted(flip(sealed, sealed.length - 1))).toBe(3 * CHUNK)
  })
})

describe('PayloadCipher context', () => {
  const where = Buffer.from('etl/load/42.json')
  const elsewhere = Buffer.from('etl/load/43.json')

  it('opens only with the context it was sealed with, whole and streamed', async () => {
    const plaintext = randomBytes(2 * CHUNK + 99)
    const sealed = await cipher.seal(plaintext, where)
    expect(Buffer.from(await cipher.open(sealed, where)).equals(plaintext)).toBe(true)
    expect((await through(cipher.decryptStream(where), sealed, [1000, 70_000])).equals(plaintext)).toBe(true)
    for (const wrong of [elsewhere, undefined, new Uint8Array(0), Buffer.concat([where, Buffer.from([0])])]) {
      await expect(cipher.open(sealed, wrong)).rejects.toMatchObject({ code: PayloadTamperedError.code })
      await expect(through(cipher.decryptStream(wrong), sealed)).rejects.toMatchObject({ code: PayloadTamperedError.code })
    }
  })

  it('binds a streamed payload the same way, and an empty context is no context', async () => {
    const plaintext = randomBytes(CHUNK + 5)
    const streamed = await through(cipher.encryptStream(where), plaintext)
    expect(Buffer.from(await cipher.open(streamed, where)).equals(plaintext)).toBe(true)
    await expect(cipher.open(streamed, elsewhere)).rejects.toMatchObject({ code: PayloadTamperedError.code })
    const unbound = await cipher.seal(plaintext, new Uint8Array(0))
    expect(Buffer.from(await cipher.open(unbound)).equals(plaintext)).toBe(true)
  })

  it('puts the context after the header in the AAD, as documented', async () => {
    const { header, segments } = split(await cipher.seal(Buffer.from('tail'), where))
    const n = header[5]!
    const salt = header.subarray(6 + n, 38 + n)
    const key = Buffer.from(hkdfSync('sha256', deriveSubkey(ring, 'payload', ring.activeKid), salt, 'airlock-sdk/payload-cipher/v1', 32))
    const nonce = Buffer.alloc(12)
    header.copy(nonce, 0, 38 + n, 45 + n)
    nonce[11] = 1
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 })
    decipher.setAAD(Buffer.concat([header, where]))
    const segment = segments[0]!
    decipher.setAuthTag(segment.subarray(segment.length - TAG))
    expect(Buffer.concat([decipher.update(segment.subarray(0, segment.length - TAG)), decipher.final()]).toString()).toBe('tail')
  })

  it('refuses a context that is not bytes', async () => {
    await expect(cipher.seal(Buffer.from('x'), 'where' as unknown as Uint8Array)).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(() => cipher.decryptStream('where' as unknown as Uint8Array)).toThrow(InvalidArgumentError)
  })
})

describe('PayloadCipher keys', () => {
  it('opens payloads sealed before a rotation; new payloads use the new kid', async () => {
    const keys = KeyRing.generate()
    const own = new PayloadCipher(keys)
    const before = await own.seal(Buffer.from('before rotation'))
    const { kid } = keys.rotate()
    expect(Buffer.from(await own.open(before)).toString()).toBe('before rotation')
    expect((await through(own.decryptStream(), before)).toString()).toBe('before rotation')
    const after = Buffer.from(await own.seal(Buffer.from('after')))
    expect(after.subarray(6, 6 + after[5]!).toString('latin1')).toBe(kid)
  })

  it('a payload from a ring without its kid fails with ERR_UNKNOWN_KID', async () => {
    const sealed = await cipher.seal(Buffer.from('x'))
    const stranger = new PayloadCipher(KeyRing.generate())
    await expect(stranger.open(sealed)).rejects.toBeInstanceOf(UnknownKeyError)
    expect(await failureCode(sealed, stranger)).toBe('ERR_UNKNOWN_KID')
  })

  it('the same kid with other key bytes fails as tampered, not as plaintext', async () => {
    const keySet = ring.export()
    const impostor = KeyRing.fromJSON({ keys: keySet.keys.map((k) => ({ ...k, k: randomBytes(32).toString('base64url') })) })
    expect(await failureCode(await cipher.seal(Buffer.from('x')), new PayloadCipher(impostor))).toBe(PayloadTamperedError.code)
  })
})

describe('PayloadCipher input checks', () => {
  it('bytes without the magic fail with ERR_PAYLOAD_FORMAT, empty bytes included', async () => {
    expect(await failureCode(Buffer.from('{"rows":42}'))).toBe('ERR_PAYLOAD_FORMAT')
    expect(await failureCode(new Uint8Array(0))).toBe('ERR_PAYLOAD_FORMAT')
    expect(await failureCode(Buffer.from('AL'))).toBe('ERR_PAYLOAD_FORMAT')
    expect(PayloadCipher.isSealed(Buffer.from('{"rows":42}'))).toBe(false)
    expect(PayloadCipher.isSealed(Buffer.from('ALK'))).toBe(false)
  })

  it('an unknown version fails with ERR_PAYLOAD_FORMAT naming it', async () => {
    const sealed = Buffer.from(await cipher.seal(Buffer.from('x')))
    sealed[4] = 3
    await expect(cipher.open(sealed)).rejects.toThrow(/format version 3/)
    expect(await failureCode(sealed)).toBe('ERR_PAYLOAD_FORMAT')
  })

  it('refuses non-bytes and non-rings with ERR_INVALID_ARGUMENT', async () => {
    await expect(cipher.seal('text' as unknown as Uint8Array)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cipher.open('text' as unknown as Uint8Array)).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(() => new PayloadCipher({} as KeyRing)).toThrow(InvalidArgumentError)
  })
})

describe('PayloadCipher printing', () => {
  it('prints [airlock:redacted] and nothing of the keys', () => {
    const keyBytes = ring.export().keys.map((k) => (k as { k: string }).k)
    const printed = [String(cipher), JSON.stringify({ cipher }), inspect(cipher), inspect({ nested: cipher }, { depth: 5 })]
    for (const text of printed) {
      expect(text).toContain(REDACTED)
      for (const k of keyBytes) expect(text).not.toContain(k)
    }
    expect(JSON.stringify({ cipher })).toBe(`{"cipher":"${REDACTED}"}`)
  })
})

describe('PayloadCipher synchronous seal and open (for engine interfaces that cannot wait)', () => {
  it('writes the format seal() writes and reads what seal() wrote, context included', async () => {
    const plaintext = randomBytes(CHUNK + 17)
    const where = Buffer.from('restate:journal')
    const sealed = cipher.sealSync(plaintext, where)
    expect(Buffer.from(await cipher.open(sealed, where)).equals(plaintext)).toBe(true)
    expect(Buffer.from(cipher.openSync(await cipher.seal(plaintext, where), where)).equals(plaintext)).toBe(true)
    expect(sealed.length).toBe((await cipher.seal(plaintext, where)).length)
  })

  it('throws the typed errors open() rejects with', () => {
    const sealed = Buffer.from(cipher.sealSync(Buffer.from('x')))
    sealed[sealed.length - 1]! ^= 1
    expect(() => cipher.openSync(sealed)).toThrow(expect.objectContaining({ code: 'ERR_PAYLOAD_TAMPERED' }))
    expect(() => cipher.openSync(cipher.sealSync(Buffer.from('x'), Buffer.from('a')), Buffer.from('b'))).toThrow(
      expect.objectContaining({ code: 'ERR_PAYLOAD_TAMPERED' }),
    )
    expect(() => cipher.openSync(Buffer.from('{"a":1}'))).toThrow(expect.objectContaining({ code: 'ERR_PAYLOAD_FORMAT' }))
    expect(() => new PayloadCipher(KeyRing.generate()).openSync(cipher.sealSync(Buffer.from('x')))).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_KID' }),
    )
    expect(() => cipher.sealSync('text' as unknown as Uint8Array)).toThrow(InvalidArgumentError)
  })
})

describe('PayloadCipher salts and nonce prefixes', () => {
  it('are fresh for every payload, across many refills of the random pool', () => {
    const seen = new Set<string>()
    const kidLength = ring.activeKid.length
    for (let i = 0; i < 2000; i++) {
      const sealed = Buffer.from(cipher.sealSync(Buffer.from('x')))
      const fresh = sealed.subarray(6 + kidLength, 6 + kidLength + 39).toString('hex')
      expect(fresh).not.toMatch(/^(00)+$/)
      seen.add(fresh)
    }
    expect(seen.size).toBe(2000)
  })
})
