/**
 * What payload encryption costs a `LocalResult` on local disk, and how much
 * memory a large streamed result needs, in one run, so the ratios compare
 * like with like on a noisy machine.
 *
 * 1. Streaming throughput: `writeStream` and `readStream` of 256 MiB, plain
 *    and with a payload cipher (AES-256-GCM STREAM, 64 KiB chunks), next to a
 *    raw `fs` write (with the same fsync) and read (in 1 MiB pieces, as
 *    `readStream`) of the same bytes. Writes
 *    include the fsync and rename that make them atomic.
 * 2. Whole-value throughput: `write` and `read` of a 16 MiB `Buffer` value
 *    (StructuredSerializer), plain and encrypted.
 * 3. libsodium's secretstream against node:crypto: `bench/payload-cipher.ts`,
 *    run as is.
 * 4. Peak memory: a child process streams 1 GiB from a generator into a
 *    `LocalResult` and back (hashing it), plain and encrypted, and reports
 *    `process.resourceUsage().maxRSS`, next to a baseline child that loads
 *    the same modules and does nothing else.
 *
 * Rows 1 and 2 are the best of 5 timed runs after one warm-up. MB/s are 10^6
 * bytes per second of plaintext.
 *
 * @example
 * ```sh
 * npx tsx bench/results-throughput.ts
 * ```
 */
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { KeyRing } from '../src/crypto/key-ring.js'
import { LocalResult } from '../src/results/local-result.js'
import { StructuredSerializer } from '../src/results/structured-serializer.js'

/** One measured case. */
export interface ThroughputRow {
  readonly name: string
  readonly mbPerSecond: number
  /** The case this one is compared with. */
  readonly baseline?: string
  /** mbPerSecond / the baseline's mbPerSecond. */
  readonly ratio?: number
}

/** Peak resident memory of one child process. */
export interface MemoryRow {
  readonly name: string
  /** `process.resourceUsage().maxRSS`, in MiB. */
  readonly maxRssMiB: number
  /** maxRssMiB minus the baseline child's. */
  readonly overBaselineMiB: number
}

/** Everything one run measured. */
export interface ResultsBench {
  readonly throughput: ThroughputRow[]
  readonly memory: MemoryRow[]
}

const MiB = 1024 * 1024
const STREAMED = 256 * MiB
const WHOLE = 16 * MiB
const STREAMED_FOR_RSS = 1024 * MiB
const PIECE = MiB
const RUNS = 5

async function best(run: () => Promise<void>): Promise<number> {
  await run()
  let fastest = Infinity
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint()
    await run()
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e9)
  }
  return fastest
}

/** `size` bytes as a stream of 1 MiB pieces of one random buffer: generating data is not what is measured. */
function source(size: number, piece: Buffer): Readable {
  let sent = 0
  return new Readable({
    read() {
      if (sent >= size) {
        this.push(null)
        return
      }
      const next = piece.subarray(0, Math.min(piece.length, size - sent))
      sent += next.length
      this.push(next)
    },
  })
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0
  for await (const chunk of stream) bytes += chunk.length
  return bytes
}

async function rawWrite(path: string, size: number, piece: Buffer): Promise<void> {
  const handle = await open(path, 'w')
  try {
    for await (const chunk of source(size, piece) as AsyncIterable<Buffer>) await handle.write(chunk)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function measureThroughput(dir: string): Promise<ThroughputRow[]> {
  const piece = randomBytes(PIECE)
  const keys = KeyRing.generate()
  const plain = new LocalResult({ dir, location: 'plain.bin' })
  const sealed = new LocalResult({ dir, location: 'sealed.bin', payloadCipher: keys })
  const rows: ThroughputRow[] = []
  const record = (name: string, seconds: number, bytes: number, baseline?: string): void => {
    const mbPerSecond = bytes / 1e6 / seconds
    const base = rows.find((r) => r.name === baseline)
    rows.push(base === undefined ? { name, mbPerSecond } : { name, mbPerSecond, baseline: base.name, ratio: mbPerSecond / base.mbPerSecond })
  }

  const rawPath = join(dir, 'raw.bin')
  record('fs write + fsync, 256 MiB (baseline)', await best(() => rawWrite(rawPath, STREAMED, piece)), STREAMED)
  // 1 MiB reads, as LocalResult.readStream does.
  record('fs read, 256 MiB (baseline)', await best(async () => void (await drain(createReadStream(rawPath, { highWaterMark: MiB })))), STREAMED)
  record('LocalResult.writeStream plain, 256 MiB', await best(async () => void (await plain.writeStream(source(STREAMED, piece)))), STREAMED, 'fs write + fsync, 256 MiB (baseline)')
  record('LocalResult.writeStream encrypted, 256 MiB', await best(async () => void (await sealed.writeStream(source(STREAMED, piece)))), STREAMED, 'LocalResult.writeStream plain, 256 MiB')
  record('LocalResult.readStream plain, 256 MiB', await best(async () => void (await drain(await plain.readStream('plain.bin')))), STREAMED, 'fs read, 256 MiB (baseline)')
  record('LocalResult.readStream encrypted, 256 MiB', await best(async () => void (await drain(await sealed.readStream('sealed.bin')))), STREAMED, 'LocalResult.readStream plain, 256 MiB')

  const value = randomBytes(WHOLE)
  const serializer = new StructuredSerializer<Buffer>()
  const plainValue = new LocalResult<Buffer>({ dir, location: 'plain.v8', serializer })
  const sealedValue = new LocalResult<Buffer>({ dir, location: 'sealed.v8', serializer, payloadCipher: keys })
  record('LocalResult.write plain, 16 MiB value', await best(async () => void (await plainValue.write(value))), WHOLE)
  record('LocalResult.write encrypted, 16 MiB value', await best(async () => void (await sealedValue.write(value))), WHOLE, 'LocalResult.write plain, 16 MiB value')
  record('LocalResult.read plain, 16 MiB value', await best(async () => void (await plainValue.read('plain.v8'))), WHOLE)
  record('LocalResult.read encrypted, 16 MiB value', await best(async () => void (await sealedValue.read('sealed.v8'))), WHOLE, 'LocalResult.read plain, 16 MiB value')
  return rows
}

type ChildMode = 'baseline' | 'plain' | 'encrypted'

/** In the child: stream 1 GiB into a LocalResult and back (or nothing, as the baseline); print maxRSS in KiB. */
async function child(mode: ChildMode): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-rss-'))
  try {
    if (mode !== 'baseline') {
      const keys = KeyRing.generate()
      const r = new LocalResult({ dir, location: 'big.bin', payloadCipher: mode === 'encrypted' ? keys : undefined })
      const piece = randomBytes(PIECE)
      await r.writeStream(source(STREAMED_FOR_RSS, piece))
      const hash = createHash('sha256')
      let bytes = 0
      for await (const chunk of await r.readStream('big.bin')) {
        hash.update(chunk as Buffer)
        bytes += (chunk as Buffer).length
      }
      if (bytes !== STREAMED_FOR_RSS) throw new Error(`read back ${bytes} bytes, expected ${STREAMED_FOR_RSS}`)
    }
    process.stdout.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function runChild(mode: ChildMode): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    proc.stdout.setEncoding('utf8').on('data', (text: string) => (out += text))
    proc.once('error', reject)
    proc.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the ${mode} child exited with code ${code}`))
      else resolve((JSON.parse(out) as { maxRssKiB: number }).maxRssKiB / 1024)
    })
  })
}

async function measureMemory(): Promise<MemoryRow[]> {
  const baseline = await runChild('baseline')
  const rows: MemoryRow[] = [{ name: 'baseline child: modules loaded, no I/O', maxRssMiB: baseline, overBaselineMiB: 0 }]
  for (const mode of ['plain', 'encrypted'] as const) {
    const peak = await runChild(mode)
    rows.push({ name: `1 GiB through LocalResult and back, ${mode}`, maxRssMiB: peak, overBaselineMiB: peak - baseline })
  }
  return rows
}

/**
 * Runs every measurement and prints the tables; returns the numbers.
 *
 * @example
 * ```ts
 * import { run } from './results-throughput.js'
 * const { throughput, memory } = await run()
 * ```
 */
export async function run(): Promise<ResultsBench> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-results-'))
  let throughput: ThroughputRow[]
  try {
    throughput = await measureThroughput(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  const memory = await measureMemory()

  console.log(`LocalResult on local disk (${tmpdir()}), best of ${RUNS}; Node ${process.version}, ${process.arch}\n`)
  const width = Math.max(...throughput.map((r) => r.name.length))
  console.log(`${'case'.padEnd(width)}  ${'MB/s'.padStart(7)}  ratio`)
  for (const row of throughput) {
    const ratio = row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x ${row.baseline?.includes('baseline') ? 'of fs' : 'of plain'}`
    console.log(`${row.name.padEnd(width)}  ${row.mbPerSecond.toFixed(0).padStart(7)}  ${ratio}`)
  }
  console.log('\npeak RSS (process.resourceUsage().maxRSS)')
  const memoryWidth = Math.max(...memory.map((r) => r.name.length))
  for (const row of memory) {
    console.log(`${row.name.padEnd(memoryWidth)}  ${row.maxRssMiB.toFixed(0).padStart(5)} MiB  (+${row.overBaselineMiB.toFixed(0)} MiB)`)
  }

  console.log('\nlibsodium secretstream against node:crypto (bench/payload-cipher.ts)\n')
  await import('./payload-cipher.js')
  return { throughput, memory }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as ChildMode)
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run()
}
