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
 * And what a write-only worker pays per token, in the same run:
 * `LocationCipher.encrypt` under a symmetric ring (the mode's baseline)
 * against a worker's public-only sealing ring, and `decrypt` under the
 * auditor's ring.
 *
 * Each row is the median of 7 passes of 2,000 operations after a warm-up,
 * the cases taking turns pass by pass, and the bytes each adds to a payload.
 * Token rows are relative to the symmetric encrypt row, key rows to HKDF.
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
import { KeyRing } from '../src/crypto/key-ring.js'
import { LocationCipher } from '../src/crypto/location-cipher.js'

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

const LOCATION = 's3://team-results/etl/load/2026-12-07/0f4c2a9e-1b7d-4c8e-9a55-3e2f1d0c9b8a.json'
const binding = { flowName: 'etl', taskName: 'load' }
const symmetric = new LocationCipher(KeyRing.generate())
const auditor = KeyRing.generateSealing()
const sealedLocations = new LocationCipher(auditor.toPublic())
const symmetricToken = await symmetric.encrypt(LOCATION, binding)
const sealedToken = await sealedLocations.encrypt(LOCATION, binding)
const auditorLocations = new LocationCipher(auditor)

const cases: Record<string, { run: () => unknown; bytes: number }> = {
  'HKDF-SHA256 per-payload key (baseline)': { run: () => hkdfSync('sha256', subkey, randomBytes(32), 'airlock', 32), bytes: 32 },
  'libsodium crypto_box_seal': { run: () => sodium.crypto_box_seal(dataKey, x), bytes: boxed.length },
  'libsodium crypto_box_seal_open': { run: () => sodium.crypto_box_seal_open(boxed, x, d), bytes: boxed.length },
  'jose ECDH-ES+A256KW wrap': {
    run: () => new CompactEncrypt(dataKey).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'k' }).encrypt(publicKey),
    bytes: jwe.length,
  },
  'jose ECDH-ES+A256KW unwrap': { run: () => compactDecrypt(jwe, privateKey), bytes: jwe.length },
  'location token, symmetric encrypt (mode baseline)': { run: () => symmetric.encrypt(LOCATION, binding), bytes: symmetricToken.length },
  'location token, symmetric decrypt': { run: () => symmetric.decrypt(symmetricToken, binding), bytes: symmetricToken.length },
  'location token, sealed by a worker ring': { run: () => sealedLocations.encrypt(LOCATION, binding), bytes: sealedToken.length },
  'location token, sealed, opened by the auditor ring': { run: () => auditorLocations.decrypt(sealedToken, binding), bytes: sealedToken.length },
}

for (const c of Object.values(cases)) await perSecond(c.run)
const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, c] of Object.entries(cases)) samples.get(name)!.push(await perSecond(c.run))
}

const baseline = median(samples.get('HKDF-SHA256 per-payload key (baseline)')!)
console.log(`libsodium-wrappers ready in ${readyMs.toFixed(1)} ms (once per process)`)
const tokenBaseline = median(samples.get('location token, symmetric encrypt (mode baseline)')!)
console.log('| case | ops/s | vs baseline | bytes (per payload key, or per token) |')
console.log('|---|---|---|---|')
for (const [name, values] of samples) {
  const value = median(values)
  const against = name.startsWith('location token') ? tokenBaseline : baseline
  console.log(`| ${name} | ${Math.round(value).toLocaleString('en')} | ${(value / against).toFixed(3)}× | ${cases[name]!.bytes} |`)
}
