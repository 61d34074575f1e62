import { describe, expect, it } from 'vitest'
import { readEmitInput } from '../../src/boundary/emit-input.js'
import { Scrubber } from '../../src/scrub/scrubber.js'
import { ReferenceNode } from '../../src/scrub/value-nodes.js'

const scrubber = new Scrubber({})
const result = { toJSON: () => ({ type: 'local', location: 'alk1.x' }) }

describe('readEmitInput', () => {
  it('reads a valid input of every kind into its snapshot, and only the members the kind has', () => {
    const cases: Record<string, unknown>[] = [
      { kind: 'parameters', runId: 'r1', flowName: 'etl', parameters: { a: 1, when: new Date(0) } },
      { kind: 'flow-run-state', runId: 'r1', flowName: 'etl', state: 'Failed', message: 'm', error: new Error('boom'), tags: ['t'] },
      { kind: 'task-run-state', runId: 'r1', flowName: 'etl', taskName: 'load', taskRunId: 't1', state: 'Success', attempt: 2, mapIndex: 0, result },
      { kind: 'log', runId: 'r1', level: 'warn', msg: 'hi', fields: { n: 1 }, taskRunId: 't1', msgFromError: true },
    ]
    for (const raw of cases) {
      const { input, problem } = readEmitInput(raw, scrubber)
      expect(problem).toBeUndefined()
      expect(input).toBeDefined()
      expect(Object.keys(input!).sort()).toEqual(Object.keys(raw).sort())
      expect(input).not.toBe(raw)
    }
    const task = readEmitInput(cases[2], scrubber).input as { result: unknown; attempt: number }
    expect(task.result).toBeInstanceOf(ReferenceNode)
    expect(task.attempt).toBe(2)
    const parameters = readEmitInput(cases[0], scrubber).input as { parameters: Record<string, unknown> }
    expect(parameters.parameters).toEqual({ a: 1, when: '1970-01-01T00:00:00.000Z' })
  })

  it('leaves out members given as undefined', () => {
    const { input } = readEmitInput({ kind: 'task-run-state', runId: 'r1', taskName: 'load', taskRunId: 't1', state: 'Running', mapIndex: undefined, flowName: undefined }, scrubber)
    expect(input).toEqual({ kind: 'task-run-state', runId: 'r1', taskName: 'load', taskRunId: 't1', state: 'Running' })
    expect(Object.keys(input!)).not.toContain('mapIndex')
  })

  it('refuses wrong shapes, naming the path and never the value', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'flow-run-state', runId: 'r1', flowName: 'etl', state: 'Sleeping' }, 'state'],
      [{ kind: 'flow-run-state', runId: '', flowName: 'etl', state: 'Running' }, 'runId'],
      [{ kind: 'flow-run-state', runId: 'r1', flowName: 'x'.repeat(501), state: 'Running' }, 'flowName'],
      [{ kind: 'flow-run-state', runId: 'r1', flowName: 'etl', state: 'Running', tags: ['ada@example.com'.repeat(20)] }, 'tags'],
      [{ kind: 'task-run-state', runId: 'r1', taskName: 'load', taskRunId: 't1', state: 'Running', attempt: 0 }, 'attempt'],
      [{ kind: 'task-run-state', runId: 'r1', taskName: 'load', taskRunId: 't1', state: 'Running', mapIndex: 1.5 }, 'mapIndex'],
      [{ kind: 'task-run-state', runId: 'r1', taskName: 'load', taskRunId: 't1', state: 'Success', result: { location: 'ada@example.com' } }, 'result'],
      [{ kind: 'log', runId: 'r1', level: 'verbose', msg: 'hi' }, 'level'],
      [{ kind: 'log', runId: 'r1', level: 'info', msg: 'hi', fields: 'ada@example.com' }, 'fields'],
      [{ kind: 'log', runId: 'r1', level: 'info', msg: 'hi', msgFromError: 'yes' }, 'msgFromError'],
      [{ kind: 'parameters', runId: 'r1', flowName: 'etl', parameters: 'ada@example.com' }, 'parameters'],
    ]
    for (const [raw, path] of cases) {
      const { input, problem } = readEmitInput(raw, scrubber)
      expect(input).toBeUndefined()
      expect(problem?.message).toContain(path)
      expect(problem?.message).not.toContain('ada@example.com')
    }
  })
})
