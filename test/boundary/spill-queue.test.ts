import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { OutboundEvent } from '../../src/boundary/events.js'
import { SpillQueue } from '../../src/boundary/spill-queue.js'

const DESTINATION = 'https://cp.example.com/v1/events'

function makeEvents(count: number, label = 'event'): OutboundEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    v: 1,
    id: randomUUID(),
    kind: 'log',
    runId: 'run-1',
    time: new Date().toISOString(),
    policyHash: 'policy-hash',
    level: 'info',
    msg: `${label} ${i}`,
  }))
}

/** Takes and acknowledges batches until the queue is empty; returns the ids in delivery order. */
function drain(queue: SpillQueue, max: number): string[] {
  const ids: string[] = []
  for (let batch = queue.next(max); batch !== undefined; batch = queue.next(max)) {
    ids.push(...batch.ids)
    queue.ack()
  }
  return ids
}

async function segments(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.ndjson')).sort()
}

describe('SpillQueue', () => {
  let dir: string
  const open: SpillQueue[] = []
  const openQueue = (maxQueue: number, destination = DESTINATION): SpillQueue => {
    const queue = new SpillQueue({ dir, maxQueue, destination })
    open.push(queue)
    return queue
  }

  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'airlock-spill-')), 'spill')
  })

  afterEach(async () => {
    for (const queue of open.splice(0)) queue.close()
    await rm(join(dir, '..'), { recursive: true, force: true })
  })

  it('keeps FIFO order across memory and disk, spilling to 0600 files in a 0700 directory', async () => {
    const queue = openQueue(4)
    const events = makeEvents(11)
    for (const event of events) queue.push([event])

    const files = await segments(dir)
    expect(files.length).toBe(2)
    expect((await stat(dir)).mode & 0o777).toBe(0o700)
    for (const file of files) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600)
    const firstSegment = (await readFile(join(dir, files[0] as string), 'utf8')).trimEnd().split('\n')
    expect(firstSegment.map((line) => (JSON.parse(line) as OutboundEvent).id)).toEqual(events.slice(0, 5).map((e) => e.id))
    expect(queue.size).toBe(11)

    expect(drain(queue, 3)).toEqual(events.map((e) => e.id))
    expect(queue.size).toBe(0)
    expect(await segments(dir)).toEqual([])
  })

  it('returns the same batch until it is acknowledged', () => {
    const queue = openQueue(100)
    queue.push(makeEvents(5))
    const first = queue.next(2)
    queue.push(makeEvents(1))
    expect(queue.next(2)).toBe(first)
    queue.ack()
    expect(queue.next(2)?.ids).not.toEqual(first?.ids)
  })

  it('writes a batch taken from memory ahead of segments spilled after it, so a reopen forms the same batch first', () => {
    const queue = new SpillQueue({ dir, maxQueue: 4, destination: DESTINATION })
    const early = makeEvents(3, 'early')
    queue.push(early)
    const out = queue.next(10)
    expect(out?.ids).toEqual(early.map((e) => e.id))
    const later = makeEvents(7, 'later')
    for (const event of later) queue.push([event])
    queue.close()

    const reopened = openQueue(4)
    expect(reopened.size).toBe(10)
    expect(reopened.next(10)?.ids).toEqual(early.map((e) => e.id))
    reopened.ack()
    expect(drain(reopened, 10)).toEqual(later.map((e) => e.id))
  })

  it('resumes a partly acknowledged segment after a reopen, from its cursor', async () => {
    const queue = new SpillQueue({ dir, maxQueue: 5, destination: DESTINATION })
    const events = makeEvents(6)
    queue.push(events)
    queue.next(2)
    queue.ack()
    queue.next(2)
    queue.ack()
    const cursor = JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8')) as unknown
    expect(cursor).toEqual({ v: 1, segment: 1, acked: 4 })
    queue.close()

    const reopened = openQueue(5)
    expect(reopened.size).toBe(2)
    expect(drain(reopened, 2)).toEqual(events.slice(4).map((e) => e.id))
    expect(await readdir(dir)).not.toContain('cursor.json')
  })

  it('holds nothing of a batch that cannot be serialized', () => {
    const queue = openQueue(100)
    queue.push(makeEvents(2))
    const bad = [...makeEvents(1), { ...makeEvents(1)[0], fields: { n: 1n } }] as unknown as OutboundEvent[]
    expect(() => queue.push(bad)).toThrow(expect.objectContaining({ code: 'ERR_EVENT_INVALID' }))
    const noId = [{ kind: 'log' }] as unknown as OutboundEvent[]
    expect(() => queue.push(noId)).toThrow(expect.objectContaining({ code: 'ERR_EVENT_INVALID' }))
    expect(queue.size).toBe(2)
    expect(drain(queue, 10)).toHaveLength(2)
  })

  it('refuses a directory another queue holds, and takes over a lock whose process is gone', async () => {
    const first = openQueue(10)
    expect(() => new SpillQueue({ dir, maxQueue: 10, destination: DESTINATION })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('in use by process') as unknown }),
    )
    first.close()

    const exited = spawnSync(process.execPath, ['-e', ''])
    expect(exited.pid).toBeGreaterThan(0)
    await writeFile(join(dir, 'lock'), String(exited.pid))
    const second = openQueue(10)
    expect(await readFile(join(dir, 'lock'), 'utf8')).toBe(String(process.pid))
    second.close()
    expect(await readdir(dir)).not.toContain('lock')
  })

  it('refuses a backlog queued for another destination, and adopts an empty directory', () => {
    const queue = new SpillQueue({ dir, maxQueue: 1, destination: DESTINATION })
    queue.push(makeEvents(2))
    queue.close()
    expect(() => new SpillQueue({ dir, maxQueue: 1, destination: 'https://other.example.com/' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('another destination') as unknown }),
    )

    const same = openQueue(1)
    expect(drain(same, 10)).toHaveLength(2)
    same.close()
    const other = openQueue(1, 'https://other.example.com/')
    expect(other.size).toBe(0)
  })

  it('refuses to open a segment holding a line that is not a valid event, without quoting it', async () => {
    const queue = new SpillQueue({ dir, maxQueue: 1, destination: DESTINATION })
    queue.push(makeEvents(2))
    queue.close()
    const [file] = await segments(dir)
    const path = join(dir, file as string)
    await writeFile(path, (await readFile(path, 'utf8')) + '{"v":1,"kind":"log","secret":"hunter2-hunter2"}\n')

    let caught: unknown
    try {
      new SpillQueue({ dir, maxQueue: 1, destination: DESTINATION })
    } catch (err) {
      caught = err
    }
    expect(caught).toMatchObject({ code: 'ERR_EVENT_INVALID' })
    expect((caught as Error).message).toContain('line 3')
    expect((caught as Error).message).not.toContain('hunter2')
    // The failed open released the lock.
    expect(await readdir(dir)).not.toContain('lock')

    const text = await readFile(path, 'utf8')
    await writeFile(path, text.split('\n').slice(0, 2).join('\n'))
    expect(() => new SpillQueue({ dir, maxQueue: 1, destination: DESTINATION })).toThrow(
      expect.objectContaining({ code: 'ERR_EVENT_INVALID', message: expect.stringContaining('newline') as unknown }),
    )
  })

  it('deletes writes that never completed', async () => {
    const queue = new SpillQueue({ dir, maxQueue: 1, destination: DESTINATION })
    queue.close()
    await writeFile(join(dir, '0000000000000009.ndjson.tmp'), '{"partial":')
    const reopened = openQueue(1)
    expect(reopened.size).toBe(0)
    expect(await readdir(dir)).not.toContain('0000000000000009.ndjson.tmp')
  })
})
