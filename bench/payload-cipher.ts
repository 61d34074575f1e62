/**
 * Throughput of the payload cipher and of the primitives it was chosen from,
 * on one 64 MiB random buffer, in one run, so the ratios compare like with
 * like on a noisy machine.
 *
 * - baselines: a memory copy into a reused buffer, a copy into fresh memory
 *   (what `seal`/`open` must return), and the same stream pipeline with a
 *   copying Transform in place of the cipher;
 * - the STREAM construction over node:crypto aes-256-gcm and chacha20-poly1305
 *   (64 KiB chunks, a fresh cipher per chunk, header as AAD: what
 *   PayloadCipher does), and libsodium-wrappers' crypto_secretstream_xchacha20poly1305
 *   (WASM) with the same chunk size;
 * - PayloadCipher itself: seal/open and encryptStream/decryptStream.
 *
 * Each row is the best of 5 timed runs after one warm-up. MB/s are 10^6 bytes
 * per second of plaintext.
 *
 * @example
 * ```sh
 * npx tsx bench/payload-cipher.ts
 * ```
 */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto'
import { Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import sodium from 'libsodium-wrappers'
import { KeyRing } from '../src/crypto/key-ring.js'
import { PayloadCipher } from '../src/crypto/payload-cipher.js'

const SIZE = 64 * 1024 * 1024
const CHUNK = 64 * 1024
const RUNS = 5

type Aead = CipherGCMTypes | 'chacha20-poly1305'

function best(run: () => void): number {
  run()
  let fastest = Infinity
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint()
    run()
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e9)
  }
  return fastest
}

async function bestAsync(run: () => Promise<void>): Promise<number> {
  await run()
  let fastest = Infinity
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint()
    await run()
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e9)
  }
  return fastest
}

function nonceFor(prefix: Buffer, index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12)
  prefix.copy(nonce, 0)
  nonce.writeUInt32BE(index, 7)
  nonce[11] = last ? 1 : 0
  return nonce
}

// The raw loops write into a reused output buffer: they measure the cipher,
// not the page faults of a fresh 64 MiB allocation (which cost ~100 ms on a VM).
function streamSeal(aead: Aead, key: Buffer, prefix: Buffer, aad: Buffer, plaintext: Buffer, out: Buffer): Buffer {
  const chunks = Math.floor(plaintext.length / CHUNK) + 1
  let at = 0
  for (let i = 0; i < chunks; i++) {
    const last = i === chunks - 1
    const cipher = createCipheriv(aead as CipherGCMTypes, key, nonceFor(prefix, i, last), { authTagLength: 16 })
    cipher.setAAD(aad)
    at += cipher.update(plaintext.subarray(i * CHUNK, last ? plaintext.length : (i + 1) * CHUNK)).copy(out, at)
    cipher.final()
    at += cipher.getAuthTag().copy(out, at)
  }
  return out.subarray(0, at)
}

function streamOpen(aead: Aead, key: Buffer, prefix: Buffer, aad: Buffer, sealed: Buffer, out: Buffer): void {
  const segment = CHUNK + 16
  const full = Math.floor(sealed.length / segment)
  let at = 0
  for (let i = 0; i <= full; i++) {
    const last = i === full
    const seg = sealed.subarray(i * segment, last ? sealed.length : (i + 1) * segment)
    const decipher = createDecipheriv(aead as CipherGCMTypes, key, nonceFor(prefix, i, last), { authTagLength: 16 })
    decipher.setAAD(aad)
    decipher.setAuthTag(seg.subarray(seg.length - 16))
    at += decipher.update(seg.subarray(0, seg.length - 16)).copy(out, at)
    decipher.final()
  }
}

function sodiumSeal(key: Uint8Array, plaintext: Buffer): Uint8Array[] {
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key)
  const parts: Uint8Array[] = [header]
  const chunks = Math.floor(plaintext.length / CHUNK) + 1
  for (let i = 0; i < chunks; i++) {
    const last = i === chunks - 1
    const tag = last ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
    parts.push(sodium.crypto_secretstream_xchacha20poly1305_push(state, plaintext.subarray(i * CHUNK, last ? plaintext.length : (i + 1) * CHUNK), null, tag))
  }
  return parts
}

function sodiumOpen(key: Uint8Array, parts: Uint8Array[]): number {
  const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(parts[0]!, key)
  let total = 0
  for (let i = 1; i < parts.length; i++) {
    const result = sodium.crypto_secretstream_xchacha20poly1305_pull(state, parts[i]!, null)
    if (result === false) throw new Error('libsodium pull failed')
    total += result.message.length
  }
  return total
}

function source(data: Buffer): Readable {
  let at = 0
  return new Readable({
    read() {
      this.push(at < data.length ? data.subarray(at, (at += CHUNK)) : null)
    },
  })
}

// The same stream plumbing with no cipher: each piece is copied, as a cipher's output is new memory.
function copyStream(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, Buffer.from(chunk))
    },
  })
}

function sink(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback()
    },
  })
}

await sodium.ready
const data = randomBytes(SIZE)
const key = randomBytes(32)
const prefix = randomBytes(7)
const aad = randomBytes(45)
const cipher = new PayloadCipher(KeyRing.generate())

const copyTarget = Buffer.allocUnsafe(SIZE)
const rows: [string, number][] = []
const record = (name: string, seconds: number): void => {
  rows.push([name, SIZE / 1e6 / seconds])
}

record('baseline: Buffer.copy (memcpy)', best(() => data.copy(copyTarget)))
// seal and open must return fresh memory: this is their fair baseline.
record('baseline: Buffer.from (fresh copy)', best(() => void Buffer.from(data)))
record('baseline: stream pipeline, copy, no cipher', await bestAsync(() => pipeline(source(data), copyStream(), sink())))

const sealedOut = Buffer.allocUnsafe(SIZE + (SIZE / CHUNK + 1) * 16)
const openedOut = Buffer.allocUnsafe(SIZE)
for (const aead of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
  const sealed = Buffer.from(streamSeal(aead, key, prefix, aad, data, sealedOut))
  record(`node:crypto ${aead} seal`, best(() => streamSeal(aead, key, prefix, aad, data, sealedOut)))
  record(`node:crypto ${aead} open`, best(() => streamOpen(aead, key, prefix, aad, sealed, openedOut)))
}

const sodiumKey = sodium.crypto_secretstream_xchacha20poly1305_keygen()
const sodiumSealed = sodiumSeal(sodiumKey, data)
record('libsodium secretstream xchacha20 push', best(() => sodiumSeal(sodiumKey, data)))
record('libsodium secretstream xchacha20 pull', best(() => sodiumOpen(sodiumKey, sodiumSealed)))

const sealed = await cipher.seal(data)
record('PayloadCipher.seal', await bestAsync(async () => void (await cipher.seal(data))))
record('PayloadCipher.open', await bestAsync(async () => void (await cipher.open(sealed))))
record('PayloadCipher.encryptStream', await bestAsync(() => pipeline(source(data), cipher.encryptStream(), sink())))
record(
  'PayloadCipher.decryptStream',
  await bestAsync(() => pipeline(source(Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length)), cipher.decryptStream(), sink())),
)

const rate = (name: string): number => rows.find(([n]) => n === name)![1]
const memcpy = rate('baseline: Buffer.copy (memcpy)')
const freshCopy = rate('baseline: Buffer.from (fresh copy)')
const width = Math.max(...rows.map(([n]) => n.length))
console.log(`64 MiB, ${CHUNK / 1024} KiB chunks, best of ${RUNS}; Node ${process.version}, ${process.arch}\n`)
console.log(`${'case'.padEnd(width)}  ${'MB/s'.padStart(8)}  ${'vs memcpy'.padStart(9)}  ${'vs fresh copy'.padStart(13)}`)
for (const [name, mbps] of rows) {
  console.log(
    `${name.padEnd(width)}  ${mbps.toFixed(0).padStart(8)}  ${(mbps / memcpy).toFixed(3).padStart(9)}  ${(mbps / freshCopy).toFixed(3).padStart(13)}`,
  )
}

const ratio = (a: string, b: string): string => `${(rate(a) / rate(b)).toFixed(2)}x`
console.log('\nratios')
console.log(`  aes-256-gcm seal / libsodium push:          ${ratio('node:crypto aes-256-gcm seal', 'libsodium secretstream xchacha20 push')}`)
console.log(`  aes-256-gcm open / libsodium pull:          ${ratio('node:crypto aes-256-gcm open', 'libsodium secretstream xchacha20 pull')}`)
console.log(`  chacha20-poly1305 seal / libsodium push:    ${ratio('node:crypto chacha20-poly1305 seal', 'libsodium secretstream xchacha20 push')}`)
console.log(`  aes-256-gcm seal / chacha20-poly1305 seal:  ${ratio('node:crypto aes-256-gcm seal', 'node:crypto chacha20-poly1305 seal')}`)
console.log(`  PayloadCipher.seal / fresh copy:            ${ratio('PayloadCipher.seal', 'baseline: Buffer.from (fresh copy)')}`)
console.log(`  PayloadCipher.open / fresh copy:            ${ratio('PayloadCipher.open', 'baseline: Buffer.from (fresh copy)')}`)
console.log(`  encryptStream / copying pipeline:           ${ratio('PayloadCipher.encryptStream', 'baseline: stream pipeline, copy, no cipher')}`)
console.log(`  decryptStream / copying pipeline:           ${ratio('PayloadCipher.decryptStream', 'baseline: stream pipeline, copy, no cipher')}`)
