import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ScrubThread } from '../../src/logging/scrub-thread.js'
import { Scrubber } from '../../src/scrub/scrubber.js'

const SECRET = 'reg-secret-7f3a9c2e51'

function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(String(chunk))
      callback()
    },
  })
  return { stream, lines }
}

// A line as pino lays it out: level and time, bindings, fields and message, end.
function line(i: number, text: string): { line: string; prefix: number; bindings: number } {
  const prefix = `{"level":30,"time":${1000 + i}`
  const bindings = ',"task":"load"'
  return { line: `${prefix}${bindings},"i":${i},"msg":${JSON.stringify(text)}}\n`, prefix: prefix.length, bindings: bindings.length }
}

function flush(thread: ScrubThread): Promise<void> {
  return new Promise((resolve) => thread.flush(() => resolve()))
}

describe('ScrubThread', () => {
  it('keeps the order of lines, and masks a secret from the first line logged after it is registered', async () => {
    const scrubber = new Scrubber()
    const out = sink()
    const thread = new ScrubThread(scrubber, [], { stream: out.stream })
    for (let i = 0; i < 1500; i++) {
      if (i === 700) scrubber.register(SECRET)
      const { line: text, prefix, bindings } = line(i, `n${i} ${SECRET} ada@example.com`)
      thread.write(text, prefix, bindings, 30)
    }
    await flush(thread)
    expect(out.lines).toHaveLength(1500)
    const records = out.lines.map((l) => JSON.parse(l) as { i: number; msg: string; task: string })
    expect(records.map((r) => r.i)).toEqual([...Array(1500).keys()])
    expect(records.every((r) => r.task === 'load' && !r.msg.includes('ada@example.com'))).toBe(true)
    expect(records.slice(0, 700).every((r) => r.msg.includes(SECRET))).toBe(true)
    expect(records.slice(700).some((r) => r.msg.includes(SECRET))).toBe(false)
    expect(thread.stats).toEqual({ written: 1500, withheld: 0 })
    await new Promise<void>((resolve) => thread.end(() => resolve()))
  })

  it('fails closed when the thread dies: nothing raw is written, every line after is withheld and counted', async () => {
    const scrubber = new Scrubber()
    scrubber.register(SECRET)
    const out = sink()
    const thread = new ScrubThread(scrubber, [], { stream: out.stream })
    const warnings: string[] = []
    const onWarning = (w: Error): void => void warnings.push((w as Error & { code?: string }).code ?? '')
    process.on('warning', onWarning)
    try {
      for (let i = 0; i < 10; i++) thread.write(line(i, `before ${SECRET}`).line, line(i, '').prefix, line(i, '').bindings, 30)
      await flush(thread)
      await thread.kill()
      for (let i = 10; i < 20; i++) thread.write(line(i, `after ${SECRET}`).line, line(i, '').prefix, line(i, '').bindings, 30)
      await flush(thread)
      await new Promise((resolve) => setImmediate(resolve))
      expect(out.lines).toHaveLength(10)
      expect(out.lines.join('')).not.toContain(SECRET)
      expect(thread.stats).toEqual({ written: 10, withheld: 10 })
      expect(warnings).toContain('AIRLOCK_LOG_SCRUB_THREAD_FAILED')
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('scrubs a line whose layout it does not recognise as text, never writing it raw', async () => {
    const scrubber = new Scrubber()
    scrubber.register(SECRET)
    const out = sink()
    const thread = new ScrubThread(scrubber, [], { stream: out.stream })
    thread.write(`not json ${SECRET} ada@example.com\n`, 0, 0, 30)
    thread.write(line(1, SECRET).line, 999, 3, 30)
    await flush(thread)
    expect(out.lines).toHaveLength(2)
    expect(out.lines.join('')).not.toContain(SECRET)
    expect(out.lines.join('')).not.toContain('ada@example.com')
    await new Promise<void>((resolve) => thread.end(() => resolve()))
  })
})
