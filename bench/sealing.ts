/**
 * Write-only workers: how to seal a payload's data key to a public key.
 * Every sealed payload (a result, a Temporal payload, a Restate journal
 * value) gets a fresh 256-bit data key; in sealing mode that key travels in
 * the payload's header, sealed to the ring's X25519 public key. Two
 * candidates, against the symmetric mode's per-payload key derivation in the
 * same run:
 * - `HKDF-SHA256 per-payload key` (baseline): what the symmetric format does
 *   for every payload (one HKDF under the ring's payload subkey);
 * - libsodium-wrappers `crypto_box_seal` / `crypto_box_seal_open` of the
 *   32-byte key (X25519 + XSalsa20-Poly1305, WASM; synchronous once loaded);
 * - jose `CompactEncrypt` / `compactDecrypt` with `ECDH-ES+A256KW` on X25519
 *   and `A256GCM`, the 32-byte key as plaintext (WebCrypto; asynchronous only).
 *
 * Each row is the median of 7 passes of 2,000 operations after a warm-up,
 * the cases taking turns pass by pass, and the bytes each adds to a payload.
 * No target: the rows decide the choice, recorded in bench/README.md.
 *
 * @example
 * ```sh
 * npx tsx bench/sealing.ts
 * ```
 */
import { generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto'
import { CompactEncrypt, compactDecrypt } from 'jose'
import sodium from 'libsodium-wrappers'

const OPS = 2_000
const ROUNDS = 7

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]!
}

async function perSecond(pass: () => unknown): Promise<number> {
  const start = process.hrtime.bigint()
  for (let i = 0; i < OPS; i++) await pass()
  return OPS / (Number(process.hrtime.bigint() - start) / 1e9)
}

const readyStart = process.hrtime.bigint()
await sodium.ready
const readyMs = Number(process.hrtime.bigint() - readyStart) / 1e6

const { publicKey, privateKey } = generateKeyPairSync('x25519')
const jwk = privateKey.export({ format: 'jwk' })
const x = new Uint8Array(Buffer.from(jwk.x!, 'base64url'))
const d = new Uint8Array(Buffer.from(jwk.d!, 'base64url'))
const subkey = randomBytes(32)
const dataKey = new Uint8Array(randomBytes(32))
const boxed = sodium.crypto_box_seal(dataKey, x)
const jwe = await new CompactEncrypt(dataKey).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'k' }).encrypt(publicKey)

const cases: Record<string, { run: () => unknown; bytes: number }> = {
  'HKDF-SHA256 per-payload key (baseline)': { run: () => hkdfSync('sha256', subkey, randomBytes(32), 'airlock', 32), bytes: 32 },
  'libsodium crypto_box_seal': { run: () => sodium.crypto_box_seal(dataKey, x), bytes: boxed.length },
  'libsodium crypto_box_seal_open': { run: () => sodium.crypto_box_seal_open(boxed, x, d), bytes: boxed.length },
  'jose ECDH-ES+A256KW wrap': {
    run: () => new CompactEncrypt(dataKey).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'k' }).encrypt(publicKey),
    bytes: jwe.length,
  },
  'jose ECDH-ES+A256KW unwrap': { run: () => compactDecrypt(jwe, privateKey), bytes: jwe.length },
}

for (const c of Object.values(cases)) await perSecond(c.run)
const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, c] of Object.entries(cases)) samples.get(name)!.push(await perSecond(c.run))
}

const baseline = median(samples.get('HKDF-SHA256 per-payload key (baseline)')!)
console.log(`libsodium-wrappers ready in ${readyMs.toFixed(1)} ms (once per process)`)
console.log('| case | ops/s | vs baseline | bytes per payload |')
console.log('|---|---|---|---|')
for (const [name, values] of samples) {
  const value = median(values)
  console.log(`| ${name} | ${Math.round(value).toLocaleString('en')} | ${(value / baseline).toFixed(3)}× | ${cases[name]!.bytes} |`)
}
