import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { verifyLedger } from '../../src/audit/verify-ledger.js'
import { PAYLOAD_MAGIC } from '../../src/crypto/payload-cipher.js'
import { S3RVER_CREDENTIALS } from '../support/s3-server.js'

const run = promisify(execFile)
const endpoint = inject('s3Endpoint')
const bucket = inject('s3Bucket')
let dir: string
let stdout: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-wrap-'))
  ;({ stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/wrap-existing-tasks.ts'], {
    // Killed rather than left running if it hangs, so a stuck example fails the suite instead of outliving it.
    timeout: 50_000,
    env: { ...process.env, AIRLOCK_EXAMPLE_DIR: dir, AIRLOCK_EXAMPLE_S3_ENDPOINT: endpoint, AIRLOCK_EXAMPLE_S3_BUCKET: bucket },
  }))
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The task's states in one run, as the example prints them. */
function statesOf(runNumber: number, taskName: string): string | undefined {
  const block = stdout.split(/\n(?=run \d)/).find((b) => b.startsWith(`run ${runNumber} `))
  return block?.split('\n').find((line) => line.trimStart().startsWith(`${taskName} `))?.trim().slice(taskName.length).trim()
}

describe('examples/wrap-existing-tasks.ts against s3rver', () => {
  it('uses S3, retries the load once, and takes the second extract from the cache', () => {
    expect(stdout).toContain(`results: S3Result, bucket ${bucket} at ${endpoint}`)
    expect(stdout).toMatch(/run 1 \([0-9a-f-]{36}\): Success, 2 regions loaded/)
    expect(stdout).toMatch(/run 2 \([0-9a-f-]{36}\): Success, 2 regions loaded/)
    expect(statesOf(1, 'extract')).toBe('Pending → Running → Success')
    expect(statesOf(1, 'load')).toBe('Pending → Running → Retrying → Running → Success')
    expect(statesOf(2, 'extract')).toBe('Pending → Cached')
    expect(statesOf(2, 'load')).toBe('Pending → Running → Success')
  })

  it('sends alk1. tokens, never a plain location', async () => {
    expect(stdout).toMatch(/extract\s+Cached\s+type=s3 bucket=\S+ location=alk1\./)
    expect(stdout).toContain('every location an alk1. token: yes; plain locations among them: none')
    const ledger = await readFile(join(dir, 'ledger.ndjson'), 'utf8')
    expect(ledger).toContain('"location":"alk1.')
    expect(ledger).not.toContain('orders-etl/')
    expect((await verifyLedger(join(dir, 'ledger.ndjson'))).ok).toBe(true)
  })

  it('checkpoints every value to the bucket, sealed with the payload cipher', async () => {
    const keys = [...new Set(stdout.match(/orders-etl\/(?:extract|transform|load)\/[0-9a-f-]{36}\.json/g))]
    // Run 1 writes three values, run 2 two (its extract is the cached one).
    expect(keys).toHaveLength(5)
    const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } })
    try {
      for (const Key of keys) {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))
        const bytes = Buffer.from(await object.Body!.transformToByteArray())
        expect(bytes.subarray(0, PAYLOAD_MAGIC.length), Key).toEqual(Buffer.from(PAYLOAD_MAGIC))
        expect(bytes.toString('latin1')).not.toContain('example.com')
      }
    } finally {
      s3.destroy()
    }
  })
})
