/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them */
// A write-only worker (issue 17, part 1): an Airlock whose ring holds only the
// public half of a sealing key runs flows, and everything it sends or stores
// encrypted is sealed to that key. The worker cannot read any of it back; the
// auditor's ring, which holds the private half, reads all of it.
import { createPublicKey } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CompactEncrypt } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { OutboundEvent } from '../../src/boundary/events.js'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { PayloadCipher, SEALED_PAYLOAD_FORMAT_VERSION } from '../../src/crypto/payload-cipher.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'
import { SealingKeyPublicOnlyError } from '../../src/errors.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { LocalResult } from '../../src/results/local-result.js'
import { airlockIn, filesUnder, workspace, type Workspace } from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

const card = '4111 1111 1111 1111'
const message = 'charge failed for card 4111-canary-5e2 of ada@example.com'
const location = '{flowName}/{taskName}/{taskRunId}.json'

describe('an Airlock with a public-only sealing ring', () => {
  it('runs flows, sealing locations, stored results, parameters and errors it cannot read back; the auditor reads them all', async () => {
    const auditor = KeyRing.generateSealing()
    const worker = KeyRing.fromJSON(JSON.parse(JSON.stringify(auditor.toPublic().export())))
    expect(worker.writeOnly).toBe(true)
    const resultsDir = join(ws.dir, 'results')
    const { airlock, controlPlane } = airlockIn(ws, {
      keys: worker,
      policy: definePolicy(
        { preset: 'balanced', parameters: { rules: { 'customer.card': 'encrypt', 'customer.id': 'hash' } }, exceptions: { mode: 'encrypted' } },
        { env: {} },
      ),
    })
    const load = airlock.task(async (n: number) => ({ rows: n, note: 'value-canary-81f' }), {
      name: 'load',
      result: new LocalResult({ dir: resultsDir, location, locationCipher: worker, payloadCipher: worker }),
    })
    const charge = airlock.task(
      async () => {
        throw new Error(message)
      },
      { name: 'charge' },
    )
    const etl = airlock.flow('etl', async ({ n }: { n: number; customer: { id: number; card: string } }) => load(n))
    const billing = airlock.flow('billing', async () => charge())

    const ok = await etl.run({ n: 42, customer: { id: 4711, card } })
    expect(ok.state).toBe('Success')
    expect(ok.value).toEqual({ rows: 42, note: 'value-canary-81f' })
    const failed = await billing.run({})
    expect(failed.state).toBe('Failed')
    await airlock.flush()

    const events = controlPlane.events
    const wire = JSON.stringify(events)
    for (const planted of [card, 'value-canary-81f', '4111-canary-5e2', 'ada@example.com', resultsDir]) expect(wire).not.toContain(planted)

    // Locations: sealed tokens the worker cannot open, the auditor's Result reads.
    const withResult = events.filter((e): e is Extract<OutboundEvent, { kind: 'task-run-state' }> => e.kind === 'task-run-state' && e.result !== undefined)
    expect(withResult.length).toBeGreaterThan(0)
    const token = withResult[0]!.result!.location
    expect(LocationCipher.isToken(token)).toBe(true)
    const workerResult = new LocalResult({ dir: resultsDir, location, locationCipher: worker, payloadCipher: worker })
    await expect(workerResult.read(token)).rejects.toBeInstanceOf(SealingKeyPublicOnlyError)
    await expect(workerResult.read(token)).rejects.toThrow(/holds only its public half/)
    const auditorResult = new LocalResult({ dir: resultsDir, location, locationCipher: auditor, payloadCipher: auditor })
    expect((await auditorResult.read(token)).value).toEqual({ rows: 42, note: 'value-canary-81f' })

    // The stored bytes: payload format version 2, sealed to the public key.
    const [stored] = await filesUnder(resultsDir)
    const bytes = await readFile(join(resultsDir, stored!))
    expect(PayloadCipher.isSealed(bytes)).toBe(true)
    expect(bytes[4]).toBe(SEALED_PAYLOAD_FORMAT_VERSION)
    expect(bytes.toString('latin1')).not.toContain('value-canary-81f')

    // Parameters: the encrypted card is a sealed value token; the hashed id a fingerprint both rings agree on.
    const params = events.find((e): e is Extract<OutboundEvent, { kind: 'parameters' }> => e.kind === 'parameters' && e.flowName === 'etl')!.parameters
    const customer = params.customer as { id: string; card: string }
    expect(ValueCipher.isToken(customer.card)).toBe(true)
    await expect(new ValueCipher(worker).decrypt(customer.card)).rejects.toBeInstanceOf(SealingKeyPublicOnlyError)
    expect(await new ValueCipher(auditor).decrypt(customer.card)).toBe(JSON.stringify(card))
    expect(customer.id).toBe(new Fingerprinter(auditor).fingerprint('4711'))
    expect(customer.id).toBe(new Fingerprinter(worker).fingerprint('4711'))

    // Errors under exceptions mode `encrypted`: the whole error sealed; only the auditor reads the message.
    const failures = events.flatMap((e) => ('failure' in e && e.failure?.token !== undefined ? [e.failure.token] : []))
    expect(failures.length).toBeGreaterThan(0)
    for (const sealed of failures) {
      await expect(new ValueCipher(worker).decrypt(sealed)).rejects.toBeInstanceOf(SealingKeyPublicOnlyError)
      expect((JSON.parse(await new ValueCipher(auditor).decrypt(sealed)) as { message: string }).message).toContain('4111-canary-5e2')
    }
  })

  it('seals again a location shaped like a sealed token that this process did not make: it cannot prove one genuine', async () => {
    const auditor = KeyRing.generateSealing()
    const worker = auditor.toPublic()
    const { airlock, controlPlane } = airlockIn(ws, { keys: worker })
    const { x } = auditor.export().keys[0] as { x: string }
    const foreign =
      'alk1.' +
      (await new CompactEncrypt(new TextEncoder().encode('s3://bucket/etl/load/9.json'))
        .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: worker.activeKid, typ: 'airlock-location' })
        .encrypt(createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' })))
    const own = await new LocationCipher(worker).encrypt('s3://bucket/etl/load/10.json')
    for (const location of [foreign, own]) {
      await airlock.emit({ kind: 'task-run-state', runId: 'r1', taskName: 'load', taskRunId: 't1', state: 'Success', result: { toJSON: () => ({ type: 's3', location }) } })
    }
    await airlock.flush()
    const [first, second] = controlPlane.events.map((e) => (e as Extract<OutboundEvent, { kind: 'task-run-state' }>).result?.location)
    expect(second).toBe(own)
    expect(first).not.toBe(foreign)
    expect(await new LocationCipher(auditor).decrypt(first!)).toBe(foreign)
  })

  it('a mixed ring rotated from symmetric to sealing: old results open with the auditor ring, new ones are sealed', async () => {
    const auditor = KeyRing.generate()
    const resultsDir = join(ws.dir, 'results')
    const before = await new LocalResult({ dir: resultsDir, location: 'old/{taskName}.json', locationCipher: auditor, payloadCipher: auditor }).write(
      { era: 'symmetric' },
      { taskName: 'load' },
    )
    auditor.rotate({ kind: 'sealing' })
    const worker = auditor.toPublic()
    const after = await new LocalResult({ dir: resultsDir, location: 'new/{taskName}.json', locationCipher: worker, payloadCipher: worker }).write(
      { era: 'sealing' },
      { taskName: 'load' },
    )
    const reader = new LocalResult({ dir: resultsDir, location: '{taskName}.json', locationCipher: auditor, payloadCipher: auditor })
    expect((await reader.read(before.location)).value).toEqual({ era: 'symmetric' })
    expect((await reader.read(after.location)).value).toEqual({ era: 'sealing' })
    const workerReader = new LocalResult({ dir: resultsDir, location: '{taskName}.json', locationCipher: worker, payloadCipher: worker })
    await expect(workerReader.read(after.location)).rejects.toBeInstanceOf(SealingKeyPublicOnlyError)
  })
})
