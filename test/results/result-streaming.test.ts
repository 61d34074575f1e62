import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setImmediate } from 'node:timers/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { PayloadCipher } from '../../src/crypto/payload-cipher.js'
import { ConstantResult } from '../../src/results/constant-result.js'
import { JSONResult } from '../../src/results/json-result.js'
import { LocalResult } from '../../src/results/local-result.js'
import type { PayloadSealer } from '../../src/results/payload-cipher-seam.js'
import { digestOf, flipped, generatedBytes, rejection, STREAMED_BYTES } from './byte-streams.js'

let root: string
let dir: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'airlock-result-streaming-'))
  dir = join(root, 'results')
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(path, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(path.length + 1))
    .sort()
}

/** A sealer with only the whole-buffer half of the interface. */
function wholeOnly(cipher: PayloadCipher): PayloadSealer {
  return { seal: (bytes, context) => cipher.seal(bytes, context), open: (bytes, context) => cipher.open(bytes, context) }
}

describe('LocalResult streaming', () => {
  it('streams 64 MiB to disk and back, plain: the file is exactly the bytes given', { timeout: 120_000 }, async () => {
    const r = new LocalResult({ dir, location: '{taskName}/{name}' })
    const source = generatedBytes(STREAMED_BYTES, 'plain')
    const written = await r.writeStream(source.stream, { taskName: 'export', name: 'plain.bin' })
    expect(written).toBeInstanceOf(LocalResult)
    expect(written.value).toBeUndefined()
    expect(written.location).toBe('export/plain.bin')
    expect(JSON.stringify(written)).toBe('{"type":"local","location":"export/plain.bin"}')
    expect(await digestOf(createReadStream(join(dir, 'export/plain.bin')))).toEqual({ sha256: source.digest(), bytes: STREAMED_BYTES })
    expect(await digestOf(await r.readStream('export/plain.bin'))).toEqual({ sha256: source.digest(), bytes: STREAMED_BYTES })
  })

  it('streams 64 MiB encrypted: the file is ciphertext, the token reads it back', { timeout: 120_000 }, async () => {
    const keys = KeyRing.generate()
    const r = new LocalResult({ dir, location: '{taskName}/{name}', locationCipher: keys, payloadCipher: keys })
    const source = generatedBytes(STREAMED_BYTES, 'sealed')
    const written = await r.writeStream(source.stream, { taskName: 'export', name: 'sealed.bin' })
    expect(written.location?.startsWith('alk1.')).toBe(true)
    expect(written.plainLocation).toBe('export/sealed.bin')
    const onDisk = await digestOf(createReadStream(join(dir, 'export/sealed.bin')))
    expect(onDisk.sha256).not.toBe(source.digest())
    expect(onDisk.bytes).toBe(45 + keys.activeKid.length + STREAMED_BYTES + 16 * (STREAMED_BYTES / 65536 + 1))
    expect(await digestOf(await r.readStream(written.location as string))).toEqual({ sha256: source.digest(), bytes: STREAMED_BYTES })
  })

  it('takes a file stream, an async generator, and an empty source', async () => {
    const keys = KeyRing.generate()
    const r = new LocalResult({ dir, location: '{name}', payloadCipher: keys })
    await writeFile(join(root, 'input.csv'), 'a,b\n1,2\n')
    await r.writeStream(createReadStream(join(root, 'input.csv')), { name: 'from-file.csv' })
    expect(Buffer.concat(await (await r.readStream('from-file.csv')).toArray()).toString()).toBe('a,b\n1,2\n')
    async function* lines(): AsyncGenerator<Uint8Array> {
      for (const line of ['x\n', 'y\n']) yield await Promise.resolve(new TextEncoder().encode(line))
    }
    await r.writeStream(lines(), { name: 'generated.txt' })
    expect(Buffer.concat(await (await r.readStream('generated.txt')).toArray()).toString()).toBe('x\ny\n')
    await r.writeStream(Readable.from([]), { name: 'empty.bin' })
    expect(await digestOf(await r.readStream('empty.bin'))).toMatchObject({ bytes: 0 })
  })

  it('is atomic: nothing is at the location until the whole stream is written', async () => {
    const r = new LocalResult({ dir, location: 'out/{name}' })
    await r.write('old', { name: 'v.json' })
    let release: () => void = () => undefined
    let paused: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const midway = new Promise<void>((resolve) => (paused = resolve))
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1024 * 1024).fill(1)
      // Asked for more: the first megabyte was taken by the writer, which has its temporary file open.
      paused()
      await gate
      yield new Uint8Array(10).fill(2)
    }
    const writing = r.writeStream(slow(), { name: 'v.json' })
    await midway
    expect((await r.read('out/v.json')).value).toBe('old')
    expect((await filesUnder(dir)).filter((f) => f.endsWith('.tmp'))).toHaveLength(1)
    release()
    await writing
    expect((await readFile(join(dir, 'out/v.json'))).length).toBe(1024 * 1024 + 10)
    expect(await filesUnder(dir)).toEqual(['out/v.json'])
  })

  it("throws the source's own error, keeps the old file and leaves no temporary file", async () => {
    const keys = KeyRing.generate()
    for (const r of [new LocalResult({ dir, location: '{name}' }), new LocalResult({ dir, location: '{name}', payloadCipher: keys })]) {
      await r.write('old', { name: 'kept.json' })
      const broken = new Error('the source broke')
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array(200_000)
        await setImmediate()
        throw broken
      }
      expect(await rejection(r.writeStream(failing(), { name: 'kept.json' }))).toBe(broken)
      expect(await rejection(r.writeStream(failing(), { name: 'new.json' }))).toBe(broken)
      expect((await r.read('kept.json')).value).toBe('old')
      expect(await filesUnder(dir)).toEqual(['kept.json'])
    }
  })

  it('destroys a Readable source when the write fails', async () => {
    const escaping = Readable.from([Buffer.from('x')])
    expect(await rejection(new LocalResult({ dir, location: '../escape' }).writeStream(escaping))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
    expect(escaping.destroyed).toBe(true)
    const untemplated = Readable.from([Buffer.from('x')])
    expect(await rejection(new LocalResult({ dir, location: '{taskName}' }).writeStream(untemplated))).toMatchObject({ code: 'ERR_TEMPLATE_KEY_UNKNOWN' })
    expect(untemplated.destroyed).toBe(true)
  })

  it('refuses a source that is not bytes', async () => {
    const r = new LocalResult({ dir, location: 'a.bin' })
    expect(await rejection(r.writeStream('text' as never))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(await rejection(r.writeStream(Readable.from([{ a: 1 }])))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    // The source's own error, unchanged.
    expect(await rejection(r.writeStream(createReadStream(join(root, 'nothing'))))).toMatchObject({ code: 'ENOENT' })
    await writeFile(join(root, 'text.txt'), 'text')
    expect(await rejection(r.writeStream(createReadStream(join(root, 'text.txt')).setEncoding('utf8')))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    async function* strings(): AsyncGenerator<string> {
      yield await Promise.resolve('not bytes')
    }
    expect(await rejection(r.writeStream(strings() as never))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(await filesUnder(dir)).toEqual([])
  })

  it('keeps every location check: escapes, symlinks out, missing files and directories', async () => {
    const r = new LocalResult({ dir, location: '{name}' })
    expect(await rejection(r.readStream('../outside.bin'))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
    const escaping = new LocalResult({ dir, location: '../{name}' })
    expect(await rejection(escaping.writeStream(Readable.from([Buffer.from('x')]), { name: 'x' }))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
    await mkdir(join(dir, 'sub'), { recursive: true })
    await writeFile(join(root, 'outside.bin'), 'secret')
    await symlink(join(root, 'outside.bin'), join(dir, 'link.bin'))
    expect(await rejection(r.readStream('link.bin'))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
    expect(await rejection(r.readStream('missing.bin'))).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
    expect(await rejection(r.readStream('sub'))).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
    expect(await rejection(new LocalResult({ dir: join(root, 'none') }).readStream('a'))).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
  })

  it('refuses a stored file flipped by one byte, cut short, or moved, with ERR_PAYLOAD_TAMPERED; a foreign key with ERR_UNKNOWN_KID', async () => {
    const keys = KeyRing.generate()
    const r = new LocalResult({ dir, location: '{name}', payloadCipher: keys })
    await r.writeStream(generatedBytes(300_000).stream, { name: 'big.bin' })
    const original = await readFile(join(dir, 'big.bin'))
    for (const damaged of [flipped(original, 100), flipped(original, 200_000), flipped(original, -1), original.subarray(0, 65_600 + 60)]) {
      await writeFile(join(dir, 'big.bin'), damaged)
      expect(await rejection(r.readStream('big.bin').then(digestOf))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
    }
    await writeFile(join(dir, 'moved.bin'), original)
    expect(await rejection(r.readStream('moved.bin').then(digestOf))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
    const written = await r.write({ a: 1 }, { name: 'value.json' })
    await writeFile(join(dir, 'copy.json'), await readFile(join(dir, 'value.json')))
    expect(await rejection(r.read('copy.json'))).toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
    expect((await r.read(written.location)).value).toEqual({ a: 1 })
    const stranger = new LocalResult({ dir, payloadCipher: KeyRing.generate() })
    expect(await rejection(stranger.readStream('moved.bin').then(digestOf))).toMatchObject({ code: 'ERR_UNKNOWN_KID' })
    expect(await rejection(stranger.read('value.json'))).toMatchObject({ code: 'ERR_UNKNOWN_KID' })
  })

  it('reads a plain stream with a cipher set as ERR_PAYLOAD_FORMAT, never as plaintext', async () => {
    await new LocalResult({ dir, location: 'plain.bin' }).writeStream(Readable.from([Buffer.from('not sealed at all')]))
    const sealed = new LocalResult({ dir, payloadCipher: KeyRing.generate() })
    expect(await rejection(sealed.readStream('plain.bin').then(digestOf))).toMatchObject({ code: 'ERR_PAYLOAD_FORMAT' })
  })

  it('reads with readStream what write stored: the serializer framing, decrypted', async () => {
    const keys = KeyRing.generate()
    const r = new LocalResult({ dir, location: 'v.json', payloadCipher: keys })
    await r.write({ n: 1 })
    const bytes = Buffer.concat(await (await r.readStream('v.json')).toArray())
    expect(bytes.subarray(0, 4).toString()).toBe('ALKS')
    expect(bytes.toString()).toContain('{"n":1}')
  })

  it('takes a KeyRing, a PayloadCipher or any sealer as payloadCipher; streaming needs the stream half', async () => {
    const keys = KeyRing.generate()
    const viaRing = new LocalResult({ dir, location: '{name}', payloadCipher: keys })
    const viaCipher = new LocalResult({ dir, location: '{name}', payloadCipher: new PayloadCipher(keys) })
    await viaRing.writeStream(Readable.from([Buffer.from('shared')]), { name: 'a.bin' })
    expect(Buffer.concat(await (await viaCipher.readStream('a.bin')).toArray()).toString()).toBe('shared')

    const partial = new LocalResult({ dir, location: '{name}', payloadCipher: wholeOnly(new PayloadCipher(keys)) })
    await partial.write({ ok: 1 }, { name: 'b.json' })
    expect((await viaRing.read('b.json')).value).toEqual({ ok: 1 })
    expect(await rejection(partial.writeStream(Readable.from([Buffer.from('x')]), { name: 'c.bin' }))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(await rejection(partial.readStream('a.bin'))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(await filesUnder(dir)).toEqual(['a.bin', 'b.json'])
    expect(() => new LocalResult({ dir, payloadCipher: { seal: () => 1, open: () => 1, encryptStream: 'x' } as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })

  it('is refused by results that keep nothing in storage', async () => {
    expect(await rejection(new ConstantResult(1).writeStream(Readable.from([Buffer.from('x')])))).toMatchObject({ code: 'ERR_RESULT_READ_ONLY' })
    expect(await rejection(new ConstantResult(1).readStream('x'))).toMatchObject({ code: 'ERR_RESULT_READ_ONLY' })
    expect(await rejection(new JSONResult().writeStream(Readable.from([Buffer.from('x')])))).toMatchObject({ code: 'ERR_RESULT_READ_ONLY' })
    expect(await rejection(new JSONResult().readStream('1'))).toMatchObject({ code: 'ERR_RESULT_READ_ONLY' })
  })

  it('ends the file read when the consumer stops early', async () => {
    const r = new LocalResult({ dir, location: 'big.bin' })
    await r.writeStream(generatedBytes(4 * 1024 * 1024).stream)
    const stream = await r.readStream('big.bin')
    for await (const chunk of stream) {
      expect(chunk).toBeInstanceOf(Buffer)
      break
    }
    expect(stream.destroyed).toBe(true)
  })
})
