import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Ledger } from '../../src/audit/ledger.js'
import { runCli } from '../../src/cli/run-cli.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-cli-prove-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(argv, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {} })
  return { code, out, err }
}

/** A ledger signed with the key `airlock keys generate --ledger-key` wrote. */
async function signedLedger(events: number): Promise<{ ledger: string; publicKey: string }> {
  const keyFile = join(dir, 'ledger.key.json')
  expect((await cli(['keys', 'generate', '--out', join(dir, 'keys.json'), '--ledger-key', keyFile])).code).toBe(0)
  const ledger = join(dir, 'ledger.ndjson')
  const writer = await Ledger.open({ path: ledger, signingKey: JSON.parse(await readFile(keyFile, 'utf8')) as object, checkpointEvery: 4 })
  for (let i = 0; i < events; i++) {
    await writer.append({ channel: 'states', eventId: `e${i}`, policyHash: 'ph1.test', event: { i, state: 'Running' }, transforms: [], status: 'sent' })
  }
  await writer.close()
  return { ledger, publicKey: `${keyFile}.pub.json` }
}

describe('airlock audit prove and check-proof', () => {
  it('proves one entry, which an auditor checks with the public key alone; an edited entry fails', async () => {
    const { ledger, publicKey } = await signedLedger(10) // 4, cp 5, 4, cp 10, 2, closing cp 13
    const proofFile = join(dir, 'seq-7.proof.json')
    const proved = await cli(['audit', 'prove', ledger, '--seq', '7', '--out', proofFile])
    expect(proved).toMatchObject({ code: 0, out: `inclusion proof of entry 7 written to ${proofFile}\n` })
    await rm(ledger) // the auditor has the proof and the key, not the ledger

    const checked = await cli(['audit', 'check-proof', proofFile, '--public-key', publicKey])
    expect(checked.code).toBe(0)
    expect(checked.out).toMatch(/holds: entry 7 is in airlock\.ledger\/[0-9a-f]{64} at 12 entries, signed by the key/)
    expect(checked.out).toContain('"i":5')

    const proof = JSON.parse(await readFile(proofFile, 'utf8')) as { entry: string }
    proof.entry = proof.entry.replace('"i":5', '"i":6')
    const edited = join(dir, 'edited.proof.json')
    await writeFile(edited, JSON.stringify(proof))
    const refused = await cli(['audit', 'check-proof', edited, proofFile, '--public-key', publicKey])
    expect(refused.code).toBe(1)
    expect(refused.out).toContain(`proof ${edited} does NOT hold: the entry is not intact`)
    expect(refused.out).toContain(`proof ${proofFile} holds`)
  })

  it('proves a later checkpoint extends an earlier one, and fails a history swapped in', async () => {
    const { ledger, publicKey } = await signedLedger(10)
    const good = await cli(['audit', 'prove', ledger, '--from', '4'])
    expect(good.code).toBe(0)
    const proofFile = join(dir, 'consistency.json')
    await writeFile(proofFile, good.out)
    expect((await cli(['audit', 'check-proof', proofFile, '--public-key', publicKey])).out).toMatch(/at 12 entries extends its 4 entries/)

    const proof = JSON.parse(good.out) as { from: string; to: string }
    const earlier = JSON.parse((await cli(['audit', 'prove', ledger, '--from', '4', '--size', '9'])).out) as { to: string }
    const swapped = join(dir, 'swapped.json')
    await writeFile(swapped, JSON.stringify({ ...proof, to: earlier.to }))
    const refused = await cli(['audit', 'check-proof', swapped, '--public-key', publicKey])
    expect(refused).toMatchObject({ code: 1 })
    expect(refused.out).toMatch(/does not extend the one of 4: its history was rewritten/)
  })

  it('refuses bad usage with exit 2', async () => {
    const { ledger, publicKey } = await signedLedger(2)
    expect((await cli(['audit', 'prove', ledger])).code).toBe(2)
    expect((await cli(['audit', 'prove', ledger, '--seq', '1', '--from', '1'])).code).toBe(2)
    expect((await cli(['audit', 'prove', ledger, '--seq', '0'])).code).toBe(2)
    expect((await cli(['audit', 'check-proof', ledger])).code).toBe(2)
    expect((await cli(['audit', 'check-proof', '--public-key', publicKey])).code).toBe(2)
    // Past the last checkpoint: a finding about the ledger, not usage.
    expect((await cli(['audit', 'prove', ledger, '--seq', '3'])).code).toBe(1)
  })
})
