// The real worker core and workflow sandbox, with no server: Worker.runReplayHistory
// over histories built here, whose events carry what airlock encoded.
import { ApplicationFailure, type LoadedDataConverter, type Payload, type ProtoFailure } from '@temporalio/common'
import { encodeErrorToFailure, encodeToPayloads, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js'
import { temporal } from '@temporalio/proto'
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { approveFailure } from '../../../src/adapters/temporal/activity-failure-interceptor.js'
import { airlockDataConverter, FAILURE_CONVERTER_PATH } from '../../../src/adapters/temporal/airlock-data-converter.js'
import { LocalResult } from '../../../src/results/local-result.js'
import type { Airlock } from '../../../src/runtime/airlock.js'
import { EngineFixture, leaksIn, plantSecrets, type PlantedSecrets } from '../../support/engine-fixture.js'
import { requireTypeScriptInThisFile } from '../../support/ts-require.js'

requireTypeScriptInThisFile()

const WORKFLOWS = join(fileURLToPath(new URL('.', import.meta.url)), 'workflows', 'checkout.ts')
const TASK_QUEUE = 'replay'
// Well above the order (all the canaries once), well below the ledger (sized from the canary text), so the
// order is sealed and the ledger offloaded however the canary set grows or shrinks.
const OFFLOAD_ABOVE = 64 * 1024

let fixture: EngineFixture
let bundle: WorkflowBundleWithSourceMap
let airlock: Airlock
let secrets: PlantedSecrets
let converter: LoadedDataConverter
let dataConverter: ReturnType<typeof airlockDataConverter>

beforeAll(async () => {
  // This test process's Temporal runtime: quiet, so a failing replay's reason is what the test shows.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } })
  fixture = await EngineFixture.create('temporal-replay')
  ;({ airlock } = fixture.airlock({ payloads: { offloadAbove: OFFLOAD_ABOVE } }))
  secrets = plantSecrets(airlock)
  dataConverter = airlockDataConverter({ airlock, offload: new LocalResult({ dir: join(fixture.dir, 'offload'), location: '{engine}/{randomId}.alkc' }) })
  converter = loadDataConverter(dataConverter)
  // bundleWorkflowCode with the adapter's failure-converter path: the converter runs inside the sandbox.
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, failureConverterPath: FAILURE_CONVERTER_PATH, logger: quietLogger() })
}, 120_000)

afterAll(async () => {
  await fixture.close()
})

function quietLogger() {
  const noop = (): void => {}
  return { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop }
}

let time = Date.UTC(2026, 10, 21, 9, 0, 0) / 1000
function event(eventId: number, eventType: string, attributes: Record<string, unknown>) {
  const key = `${eventType.charAt(0).toLowerCase()}${eventType.slice(1)}EventAttributes`
  const constant = eventType.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c : `_${c}`)).toUpperCase()
  return { eventId: String(eventId), eventTime: { seconds: String(time++) }, eventType: `EVENT_TYPE_${constant}`, [key]: attributes }
}

function workflowTask(first: number) {
  return [
    event(first, 'WorkflowTaskScheduled', { taskQueue: { name: TASK_QUEUE }, startToCloseTimeout: { seconds: '10' }, attempt: 1 }),
    event(first + 1, 'WorkflowTaskStarted', { scheduledEventId: String(first), identity: 'replay-test' }),
    event(first + 2, 'WorkflowTaskCompleted', { scheduledEventId: String(first), startedEventId: String(first + 1), identity: 'replay-test' }),
  ]
}

function history(input: readonly Payload[], activityFailure: ProtoFailure, result: readonly Payload[]) {
  return temporal.api.history.v1.History.fromObject({
    events: [
      event(1, 'WorkflowExecutionStarted', {
        workflowType: { name: 'checkout' },
        taskQueue: { name: TASK_QUEUE },
        input: { payloads: input },
        workflowTaskTimeout: { seconds: '10' },
        originalExecutionRunId: 'b6b5a4e1-5a43-4f4f-8a3f-6f0bb1a6f001',
        firstExecutionRunId: 'b6b5a4e1-5a43-4f4f-8a3f-6f0bb1a6f001',
        attempt: 1,
      }),
      ...workflowTask(2),
      event(5, 'ActivityTaskScheduled', {
        activityId: '1',
        activityType: { name: 'chargeCard' },
        taskQueue: { name: TASK_QUEUE },
        startToCloseTimeout: { seconds: '60' },
        workflowTaskCompletedEventId: '4',
        retryPolicy: { maximumAttempts: 1 },
      }),
      event(6, 'ActivityTaskStarted', { scheduledEventId: '5', identity: 'replay-test', attempt: 1 }),
      event(7, 'ActivityTaskFailed', { failure: activityFailure, scheduledEventId: '5', startedEventId: '6', retryState: 'RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED' }),
      ...workflowTask(8),
      event(11, 'WorkflowExecutionCompleted', { result: { payloads: result }, workflowTaskCompletedEventId: '10' }),
    ],
  })
}

async function recordedRun() {
  const order = { id: 'o-42', activity: 'chargeCard', note: secrets.text }
  const ledger = { rows: Array.from({ length: Math.ceil((4 * OFFLOAD_ABOVE) / secrets.text.length) }, (_, i) => ({ i, note: secrets.text })) }
  const input = (await encodeToPayloads(converter, order, ledger))!
  const declined = ApplicationFailure.create({ message: `card of ada@example.com declined: ${secrets.text}`, type: 'CardDeclined', cause: new Error(secrets.text) })
  const failure = await encodeErrorToFailure(converter, await approveFailure(airlock, declined))
  const result = (await encodeToPayloads(converter, 'declined CardDeclined'))!
  return { input, failure, result }
}

describe('Worker.runReplayHistory over airlock-encoded history', () => {
  it('decodes sealed and offloaded input and an airlock-encoded failure in the real worker core and sandbox, and the workflow replays', async () => {
    const { input, failure, result } = await recordedRun()
    expect(new TextDecoder().decode(input[0]!.metadata!['airlock-format'])).toBe('alkc1')
    expect(new TextDecoder().decode(input[1]!.metadata!['airlock-format'])).toBe('alko1')
    const recorded = history(input, failure, result)
    // What the service would hold: no canary, no registered secret, no email, anywhere in the history.
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(recorded).finish())
    expect(leaksIn(bytes, secrets.forbidden)).toEqual([])
    expect(bytes.includes('ada@example.com')).toBe(false)

    await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter }, recorded, 'wf-replay-ok')
  }, 60_000)

  it('fails the replay when a payload was tampered with: the codec refuses, the workflow never sees garbage', async () => {
    const { input, failure, result } = await recordedRun()
    // The sealed payload, so what fails is the seal's authentication, not an offload token's shape.
    expect(new TextDecoder().decode(input[0]!.metadata!['airlock-format'])).toBe('alkc1')
    const data = Buffer.from(input[0]!.data!)
    data[data.length - 2]! ^= 1
    const modified = { ...input[0]!, data }
    await expect(dataConverter.payloadCodecs[0].decode([modified])).rejects.toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
    const tampered = history([modified, input[1]!], failure, result)
    // The activation fails in the codec (ERR_PAYLOAD_TAMPERED); the worker reports that failure through
    // airlock's converter too, so even its message is sealed in what the service would see.
    await expect(Worker.runReplayHistory({ workflowBundle: bundle, dataConverter }, tampered, 'wf-replay-tampered')).rejects.toThrow(/workflow task failure/)
  }, 60_000)

  it('fails the replay when the failure decoded to something else than what was sent (the workflow\'s decision depends on it)', async () => {
    const { input, result } = await recordedRun()
    const other = await encodeErrorToFailure(converter, await approveFailure(airlock, ApplicationFailure.create({ message: 'something else', type: 'CardDeclined' })))
    await expect(Worker.runReplayHistory({ workflowBundle: bundle, dataConverter }, history(input, other, result), 'wf-replay-other')).rejects.toThrow(/[Nn]ondeterminism/)
  }, 60_000)
})
