/**
 * Location and value tokens: what `LocationCipher` costs per token against
 * jose's own `CompactEncrypt` / `compactDecrypt` in the same run.
 *
 * Rows, each tokens per second over a 90-character location (a realistic
 * `s3://…` key), bound to `{ flowName, taskName }` as the runtime binds them:
 * - `jose CompactEncrypt` (baseline): `dir` / `A256GCM`, the same header,
 *   with the key imported once as a CryptoKey (jose's fastest use);
 * - `LocationCipher.encrypt`: what a `Result` does for every write; the
 *   binding tag (an HMAC) included;
 * - `jose compactDecrypt` (baseline) and `LocationCipher.decrypt` (every
 *   check included: prefix, header, alg/enc allow-list, kid, binding).
 *
 * Each row is the median of 9 passes of 20,000 tokens after a warm-up, the
 * cases taking turns pass by pass. Targets: ours >= 4x jose, both ways.
 *
 * @example
 * ```sh
 * npx tsx bench/tokens.ts
 * ```
 */
import { webcrypto } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { CompactEncrypt, compactDecrypt } from 'jose'
import { KeyRing, deriveSubkey } from '../src/crypto/key-ring.js'
import { LOCATION_TOKEN_PREFIX, LocationCipher } from '../src/crypto/location-cipher.js'

const TOKENS = 20_000
const ROUNDS = 9
const TARGET = 4

/** One row: tokens per second. */
export interface TokenBenchRow {
  readonly name: string
  readonly perSecond: number
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

async function seconds(pass: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint()
  await pass()
  return Number(process.hrtime.bigint() - start) / 1e9
}

/**
 * Runs every case; returns one row per case.
 *
 * @example
 * ```ts
 * for (const row of await run()) console.log(row.name, row.perSecond)
 * ```
 */
export async function run(): Promise<TokenBenchRow[]> {
  const keys = KeyRing.generate()
  const kid = keys.activeKid
  const cipher = new LocationCipher(keys)
  const binding = { flowName: 'nightly-etl', taskName: 'load-orders' }
  const location = 's3://acme-data-lake-prod/results/nightly-etl/load-orders/2026-11-21/3f9a1c2b-77aa-4e21-9c1d.json'
  const plaintext = new TextEncoder().encode(location)
  const subkey = deriveSubkey(keys, 'location', kid)
  const cryptoKey = await webcrypto.subtle.importKey('raw', subkey, 'AES-GCM', false, ['encrypt', 'decrypt'])
  const sample = await cipher.encrypt(location, binding)
  const header = JSON.parse(Buffer.from(sample.slice(LOCATION_TOKEN_PREFIX.length).split('.')[0]!, 'base64url').toString('utf8')) as {
    alg: string
    enc: string
  }
  const joseToken = await new CompactEncrypt(plaintext).setProtectedHeader(header).encrypt(cryptoKey)

  const cases: [string, () => Promise<void>][] = [
    [
      'jose CompactEncrypt',
      async () => {
        for (let i = 0; i < TOKENS; i++) await new CompactEncrypt(plaintext).setProtectedHeader(header).encrypt(cryptoKey)
      },
    ],
    [
      'LocationCipher.encrypt',
      async () => {
        for (let i = 0; i < TOKENS; i++) await cipher.encrypt(location, binding)
      },
    ],
    [
      'jose compactDecrypt',
      async () => {
        for (let i = 0; i < TOKENS; i++) await compactDecrypt(joseToken, cryptoKey)
      },
    ],
    [
      'LocationCipher.decrypt',
      async () => {
        for (let i = 0; i < TOKENS; i++) await cipher.decrypt(sample, binding)
      },
    ],
  ]
  for (const [, pass] of cases) await pass()
  const times = cases.map((): number[] => [])
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < cases.length; i++) times[i]!.push(await seconds(cases[i]![1]))
  }
  return cases.map(([name], i) => ({ name, perSecond: TOKENS / median(times[i]!) }))
}

async function main(): Promise<void> {
  const rows = await run()
  console.log(`${TOKENS} tokens per pass, median of ${ROUNDS}; Node ${process.version}, ${process.arch}\n`)
  const width = Math.max(...rows.map((r) => r.name.length))
  for (const row of rows) console.log(`${row.name.padEnd(width)}  ${row.perSecond.toFixed(0).padStart(9)} tokens/s`)
  const rate = (name: string): number => rows.find((r) => r.name === name)!.perSecond
  console.log('')
  for (const [ours, theirs, label] of [
    ['LocationCipher.encrypt', 'jose CompactEncrypt', 'encrypt'],
    ['LocationCipher.decrypt', 'jose compactDecrypt', 'decrypt'],
  ] as const) {
    const ratio = rate(ours) / rate(theirs)
    const met = ratio >= TARGET
    if (!met) process.exitCode = 1
    console.log(`target location token ${label} / jose: ${ratio.toFixed(2)}x (goal >= ${TARGET}x): ${met ? 'met' : 'NOT met'}`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
