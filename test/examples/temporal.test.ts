// examples/temporal without a Temporal server: its activities run in
// Temporal's own activity environment with the example's interceptors, its
// workflows bundle for the sandbox with the failure converter, and its
// client's start options are built for real.
import { ApplicationFailure } from '@temporalio/common'
import { encodeErrorToFailure, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js'
import proto from '@temporalio/proto'
import { MockActivityEnvironment } from '@temporalio/testing'
import { bundleWorkflowCode } from '@temporalio/worker'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAILURE_CONVERTER_PATH, airlockWorkerOptions } from '../../src/adapters/temporal/index.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import type { Airlock } from '../../src/runtime/airlock.js'
import { EngineFixture } from '../support/engine-fixture.js'
import { requireTypeScriptInThisFile } from '../support/ts-require.js'

requireTypeScriptInThisFile()

let fixture: EngineFixture
let airlock: Airlock
const order = { id: 'o-1042', email: 'ada.lovelace@example.com', card: '4111 1111 1111 1111', amountCents: 900_000, lines: [{ sku: 'book', quantity: 1 }] }

beforeAll(async () => {
  fixture = await EngineFixture.create('example-temporal')
  process.env.AIRLOCK_EXAMPLE_DIR = fixture.dir
  await writeFile(join(fixture.dir, 'keys.json'), JSON.stringify(KeyRing.generate().export()), { mode: 0o600 })
  const { exampleAirlock } = await import('../../examples/temporal/airlock.js')
  airlock = exampleAirlock('test-worker')
})
afterAll(async () => {
  await airlock.close()
  delete process.env.AIRLOCK_EXAMPLE_DIR
  await fixture.close()
})

describe('examples/temporal', () => {
  it('an activity\'s declined card leaves the worker with a scrubbed readable message and the rest sealed', async () => {
    const { chargeCard } = await import('../../examples/temporal/activities.js')
    const { offloadResult } = await import('../../examples/temporal/airlock.js')
    const options = airlockWorkerOptions({ airlock, offload: offloadResult() })
    const env = new MockActivityEnvironment(undefined, { interceptors: options.interceptors.activity! })
    const thrown = (await env.run(chargeCard, order).catch((err: unknown) => err)) as ApplicationFailure
    expect(thrown).toBeInstanceOf(ApplicationFailure)
    const failure = await encodeErrorToFailure(loadDataConverter(options.dataConverter), thrown)
    expect(failure.message).toBe('card [REDACTED:credit-card] of [REDACTED:email] declined: over limit')
    expect(failure.applicationFailureInfo?.type).toBe('CardDeclined')
    const wire = Buffer.from(proto.temporal.api.failure.v1.Failure.encode(failure).finish())
    expect(wire.includes(order.email)).toBe(false)
    expect(wire.includes(order.card)).toBe(false)
    expect(wire.includes('900000')).toBe(false)
  })

  it('its workflows bundle for the sandbox with airlock\'s failure converter', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: join(import.meta.dirname, '../../examples/temporal/workflows.ts'),
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    })
    expect(bundle.code).toContain('processOrder')
    expect(bundle.code).toContain('airlock-failure')
  }, 60_000)

  it('its client starts workflows under fingerprinted ids and search attributes', async () => {
    const { startOptions } = await import('../../examples/temporal/client.js')
    const options = await startOptions(airlock, order)
    expect(options.workflowId).toMatch(/^order-fp1\.[^.]+\.[A-Za-z0-9_-]+-fp1\./)
    expect(options.workflowId).not.toContain(order.email)
    const attributes = options.typedSearchAttributes as { getAll(): { value: unknown }[] }
    expect(attributes.getAll().map((pair) => pair.value)).toEqual([airlock.outbound.fingerprint(order.email)])
  })
})
