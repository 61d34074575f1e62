import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import { isOutboundEvent, outboundEventSchema, type FailureCause } from '../../src/boundary/events.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { MAX_CAUSE_DEPTH } from '../../src/policy/schema.js'

const envelope = { v: 1, id: '9d2d9e91-c73a-4f57-9a53-0d9b7d6a1f00', runId: 'run-1', time: '2026-12-07T21:09:02.123Z', policyHash: 'ph1.abc' }

// A chain of `levels` causes below the top failure.
function chain(levels: number): FailureCause[] | undefined {
  if (levels === 0) return undefined
  const below = chain(levels - 1)
  return [below === undefined ? { type: 'Error', message: 'leaf' } : { type: 'Error', causes: below }]
}

const valid: Record<string, unknown>[] = [
  { ...envelope, kind: 'flow-run-state', flowName: 'etl', state: 'Running' },
  { ...envelope, kind: 'flow-run-state', flowName: 'etl', state: 'Failed', message: 'm', tags: ['a'], failure: { type: 'Error', code: 'E1', causes: chain(3) } },
  { ...envelope, kind: 'task-run-state', taskName: 'load', taskRunId: 't1', state: 'Success', attempt: 1, mapIndex: 0, result: { type: 'local', location: 'alk1.x', bucket: 'b', n: 1 } },
  { ...envelope, kind: 'task-run-state', taskName: 'load', taskRunId: 't1', state: 'Failed', failure: { type: 'Error', causes: chain(MAX_CAUSE_DEPTH) } },
  { ...envelope, kind: 'log', level: 'info', msg: 'hi', fields: { a: { b: [1, 'x'] } }, taskRunId: 't1', truncated: true },
  { ...envelope, kind: 'parameters', flowName: 'etl', parameters: { x: 1, nested: { y: null } } },
  { ...envelope, kind: 'withheld', channel: 'logs', reason: 'policy:ERR_INTERNAL' },
  { ...envelope, kind: 'ledger-checkpoint', origin: 'airlock.ledger/abc', treeSize: 3, rootHash: 'a'.repeat(64), checkpoint: 'note' },
]

const invalid: Record<string, unknown>[] = [
  { ...envelope, kind: 'flow-run-state', flowName: 'etl', state: 'Running', extra: 1 },
  { ...envelope, kind: 'flow-run-state', flowName: 'etl', state: 'Sleeping' },
  { ...envelope, kind: 'flow-run-state', state: 'Running' },
  { ...envelope, id: 'not-a-uuid', kind: 'flow-run-state', flowName: 'etl', state: 'Running' },
  { ...envelope, time: 'yesterday', kind: 'flow-run-state', flowName: 'etl', state: 'Running' },
  { ...envelope, v: 2, kind: 'flow-run-state', flowName: 'etl', state: 'Running' },
  { ...envelope, runId: '', kind: 'flow-run-state', flowName: 'etl', state: 'Running' },
  { ...envelope, kind: 'task-run-state', taskName: 'load', taskRunId: 't1', state: 'Success', attempt: 0 },
  { ...envelope, kind: 'task-run-state', taskName: 'load', taskRunId: 't1', state: 'Success', mapIndex: 1.5 },
  { ...envelope, kind: 'task-run-state', taskName: 'load', taskRunId: 't1', state: 'Success', result: { type: 'local', location: 'x', nested: { a: 1 } } },
  { ...envelope, kind: 'task-run-state', taskName: 'load', taskRunId: 't1', state: 'Failed', failure: { type: 'Error', value: 'raw' } },
  { ...envelope, kind: 'task-run-state', taskName: 'load', taskRunId: 't1', state: 'Failed', failure: { type: 'Error', causes: [{ type: 'E', stack: 1 }] } },
  { ...envelope, kind: 'task-run-state', taskName: 'load', taskRunId: 't1', state: 'Failed', failure: { type: 'Error', causes: chain(MAX_CAUSE_DEPTH + 1) } },
  { ...envelope, kind: 'log', level: 'verbose', msg: 'hi' },
  { ...envelope, kind: 'log', level: 'info', msg: 'hi', truncated: 'yes' },
  { ...envelope, kind: 'parameters', flowName: 'etl', parameters: ['x'] },
  { ...envelope, kind: 'withheld', channel: 'logs', reason: 'r', payload: 'raw' },
  { ...envelope, kind: 'ledger-checkpoint', origin: 'o', treeSize: 0, rootHash: 'a'.repeat(64), checkpoint: 'note' },
  { ...envelope, kind: 'engine', sent: {} },
]

describe('isOutboundEvent', () => {
  it('accepts every kind of wire event the schema accepts', () => {
    for (const event of valid) {
      expect(outboundEventSchema.safeParse(event).success).toBe(true)
      expect(isOutboundEvent(event)).toBe(true)
    }
  })

  it('refuses what the strict schema refuses: extra members, wrong types, bad ids and times, chains deeper than the policy allows', () => {
    for (const event of invalid) {
      expect(outboundEventSchema.safeParse(event).success).toBe(false)
      expect(isOutboundEvent(event)).toBe(false)
    }
    expect(isOutboundEvent(null)).toBe(false)
    expect(isOutboundEvent('{}')).toBe(false)
  })

  it('lets a Failed state out with a cause chain as deep as a policy may ask, not withheld', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-events-'))
    const controlPlane = new MemoryControlPlane()
    const airlock = new AirlockBoundary({
      keys: KeyRing.generate(),
      controlPlane,
      ledger: { path: join(dir, 'ledger.ndjson') },
      policy: definePolicy({ preset: 'balanced', exceptions: { maxCauseDepth: MAX_CAUSE_DEPTH } }, { env: {} }),
    })
    try {
      let error = new Error('bottom')
      for (let i = 0; i < MAX_CAUSE_DEPTH + 8; i++) error = new Error(`level ${i}`, { cause: error })
      const sent = await airlock.emit({ kind: 'task-run-state', runId: 'run-1', taskName: 'load', taskRunId: 't1', state: 'Failed', error })
      expect(sent?.kind).toBe('task-run-state')
      let depth = 0
      for (let causes = (sent as { failure?: { causes?: FailureCause[] } }).failure?.causes; causes !== undefined; causes = causes[0]!.causes) depth++
      expect(depth).toBe(MAX_CAUSE_DEPTH)
    } finally {
      await airlock.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
