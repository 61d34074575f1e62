import { mkdtemp, readFile, rm, stat, truncate, writeFile, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateLedgerSigningKey } from '../../src/audit/ledger-signing-key.js'
import { Ledger, type LedgerEventInput, type LedgerListener } from '../../src/audit/ledger.js'
import { GENESIS_HASH, parseLedgerLine, type LedgerEntry } from '../../src/audit/ledger-entry.js'
import { verifyLedger } from '../../src/audit/verify-ledger.js'
import { AirlockError } from '../../src/errors.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-ledger-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function sample(i: number): LedgerEventInput {
  return {
    channel: ['parameters', 'logs', 'states'][i % 3]!,
    eventId: `e${i}`,
    policyHash: 'sha256:4f9a',
    event: { flowRunId: 'r1', i, parameters: { email: '[email]' } },
    transforms: [{ path: 'parameters.email', rule: 'email', action: 'scrub' }],
    status: 'sent',
  }
}

async function entries(path: string): Promise<LedgerEntry[]> {
  const text = await readFile(path, 'utf8')
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const parsed = parseLedgerLine(Buffer.from(l))
      if (!parsed.ok) throw new Error(parsed.reason)
      return parsed.entry
    })
}

async function rejection(promise: Promise<unknown>): Promise<AirlockError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof AirlockError) return err
    throw err
  }
  throw new Error('expected a rejection')
}

describe('Ledger', () => {
  it('appends entries with 1-based seqs, a genesis prev and a chain, and verifies', async () => {
    const path = join(dir, 'nested', 'deeper', 'ledger.ndjson')
    const ledger = await Ledger.open({ path })
    for (let i = 0; i < 5; i++) expect((await ledger.append(sample(i))).seq).toBe(i + 1)
    await ledger.close()

    const written = await entries(path)
    expect(written.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5])
    expect(written[0]!.prev).toBe(GENESIS_HASH)
    for (let i = 1; i < written.length; i++) expect(written[i]!.prev).toBe(written[i - 1]!.hash)
    const first = written[0]!
    expect(first.kind === 'event' && first.event).toEqual({ flowRunId: 'r1', i: 0, parameters: { email: '[email]' } })
    expect(await verifyLedger(path)).toEqual({
      ok: true,
      entries: 5,
      head: written[4]!.hash,
      checkpoints: 0,
      signaturesChecked: false,
      adopted: [],
      adoptions: 0,
      origin: `airlock.ledger/${written[0]!.hash}`,
      root: expect.stringMatching(/^[0-9a-f]{64}$/),
      witnessed: undefined,
    })
  })

  it('reopens and continues the chain', async () => {
    const path = join(dir, 'ledger.ndjson')
    const first = await Ledger.open({ path })
    for (let i = 0; i < 3; i++) await first.append(sample(i))
    await first.close()
    const second = await Ledger.open({ path })
    expect((await second.append(sample(3))).seq).toBe(4)
    await second.appendDelivery({ eventIds: ['e1', 'e2'], status: 'failed', error: { code: 'ERR_DELIVERY', status: 503 } })
    await second.close()

    const result = await verifyLedger(path)
    expect(result).toMatchObject({ ok: true, entries: 5 })
    const written = await entries(path)
    expect(written[3]!.prev).toBe(written[2]!.hash)
    expect(written[4]).toMatchObject({ kind: 'delivery', eventIds: ['e1', 'e2'], status: 'failed', error: { code: 'ERR_DELIVERY', status: 503 } })
  })

  it('reopens a signed ledger and verifies with the key across sessions', async () => {
    const path = join(dir, 'ledger.ndjson')
    const { privateKey, publicKey } = await generateLedgerSigningKey()
    for (let session = 0; session < 2; session++) {
      const ledger = await Ledger.open({ path, signingKey: privateKey, checkpointEvery: 4 })
      for (let i = 0; i < 6; i++) await ledger.append(sample(i))
      await ledger.close()
    }
    // per session: 4 events, checkpoint, 2 events, closing checkpoint
    const kinds = (await entries(path)).map((e) => e.kind[0]).join('')
    expect(kinds).toBe('eeeecee' + 'c' + 'eeeecee' + 'c')
    expect(await verifyLedger(path, { publicKey })).toMatchObject({ ok: true, entries: 16, checkpoints: 4, signaturesChecked: true })
  })

  it('commits 2,000 concurrent appends with contiguous seqs in call order', async () => {
    const path = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path })
    const results = await Promise.all(Array.from({ length: 2000 }, (_, i) => ledger.append(sample(i))))
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1))
    // appends made while the first commit is in flight land after it, still in order
    const more = [ledger.append(sample(2000))]
    await Promise.resolve()
    more.push(ledger.append(sample(2001)))
    expect((await Promise.all(more)).map((r) => r.seq)).toEqual([2001, 2002])
    await ledger.close()

    const written = await entries(path)
    expect(written.map((e) => (e.kind === 'event' ? e.event.i : null))).toEqual(Array.from({ length: 2002 }, (_, i) => i))
    expect(results[1999]!.hash).toBe(written[1999]!.hash)
    expect(await verifyLedger(path)).toMatchObject({ ok: true, entries: 2002 })
  })

  it('enqueue: chains and places an entry at once, and tells its listener once it is on disk, in ledger order', async () => {
    const path = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path })
    const heard: [string, number][] = []
    const listener = (name: string): LedgerListener => ({
      durable: (result) => heard.push([name, result.seq]),
      failed: () => heard.push([name, -1]),
    })
    const placed = [ledger.enqueue(sample(0), listener('a')), ledger.enqueue(sample(1), listener('b'))]
    // Known before anything is written, and nothing is heard before the entries are on disk.
    expect(placed.map((r) => r.seq)).toEqual([1, 2])
    expect(heard).toEqual([])
    const appended = await ledger.append(sample(2))
    expect(heard).toEqual([
      ['a', 1],
      ['b', 2],
    ])
    expect(appended.seq).toBe(3)
    const onDisk = await readFile(path)
    expect(placed[1]!.end).toBe(onDisk.indexOf('\n', placed[0]!.end) + 1)
    expect(appended.end).toBe(onDisk.length)
    const written = await entries(path)
    expect(written.map((e) => e.hash)).toEqual([placed[0]!.hash, placed[1]!.hash, appended.hash])
    expect(written[1]!.prev).toBe(placed[0]!.hash)
    // Refusals are thrown at once, and take no seq.
    expect(() => ledger.enqueue({ ...sample(3), channel: '' }, listener('bad'))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    await ledger.close()
    expect(() => ledger.enqueue(sample(4), listener('late'))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    expect(heard.map(([name]) => name)).toEqual(['a', 'b'])
    expect(await verifyLedger(path)).toMatchObject({ ok: true, entries: 3 })
  })

  it('records the event as it was when append was called', async () => {
    const path = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path })
    const event = { message: 'before' }
    const pending = ledger.append({ ...sample(0), event })
    event.message = 'after'
    await pending
    await ledger.close()
    const [entry] = await entries(path)
    expect(entry!.kind === 'event' && entry!.event).toEqual({ message: 'before' })
  })

  it('creates the file owner-only', async () => {
    const path = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path })
    await ledger.close()
    if (process.platform !== 'win32') expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('refuses appends after close with ERR_CLOSED, and close is idempotent', async () => {
    const ledger = await Ledger.open({ path: join(dir, 'ledger.ndjson') })
    await ledger.close()
    await ledger.close()
    expect((await rejection(ledger.append(sample(0)))).code).toBe('ERR_CLOSED')
    expect((await rejection(ledger.appendDelivery({ eventIds: ['e0'], status: 'sent' }))).code).toBe('ERR_CLOSED')
  })

  it('refuses input that does not match the entry schema, naming the field', async () => {
    const ledger = await Ledger.open({ path: join(dir, 'ledger.ndjson') })
    const cases: [unknown, RegExp][] = [
      [{ ...sample(0), channel: 'bad channel!' }, /channel/],
      [{ ...sample(0), channel: 'inline values', extra: 1 }, /Unrecognized key/],
      [{ ...sample(0), status: 'lost' }, /status/],
      [{ ...sample(0), transforms: [{ path: 'a', rule: 'r', action: 'scrub', value: 'x' }] }, /transforms\.0/],
      [{ ...sample(0), error: { code: 'connect to 10.0.0.1 refused' } }, /error\.code/],
      [{ ...sample(0), event: { when: new Date() } }, /event\.when/],
      [{ ...sample(0), event: { list: [1, undefined] } }, /event\.list\[1\]/],
      [{ ...sample(0), event: { n: Number.NaN } }, /event\.n/],
      [{ ...sample(0), event: ['not', 'an', 'object'] }, /event/],
    ]
    for (const [input, field] of cases) {
      const err = await rejection(ledger.append(input as LedgerEventInput))
      expect(err.code).toBe('ERR_INVALID_ARGUMENT')
      expect(err.message).toMatch(field)
    }
    expect((await rejection(ledger.appendDelivery({ eventIds: ['e0'], status: 'withheld' } as never))).code).toBe('ERR_INVALID_ARGUMENT')
    expect((await rejection(ledger.appendDelivery({ eventIds: [], status: 'failed' }))).message).toMatch(/eventIds/)
    expect((await rejection(ledger.appendDelivery({ eventIds: ['e0'], status: 'failed', error: 'boom' } as never))).message).toMatch(/error/)
    // nothing was half-written: the next append is seq 1 (and docs/design.md's `inline values` is a valid channel)
    expect((await ledger.append({ ...sample(0), channel: 'inline values' })).seq).toBe(1)
    await ledger.close()
  })

  it('refuses bad options and a path already open', async () => {
    const path = join(dir, 'ledger.ndjson')
    expect((await rejection(Ledger.open({ path, checkpointEvery: 10 }))).code).toBe('ERR_INVALID_ARGUMENT')
    expect((await rejection(Ledger.open({ path, signingKey: { kty: 'oct', k: 'AAAA' } }))).code).toBe('ERR_INVALID_ARGUMENT')
    const { publicKey } = await generateLedgerSigningKey()
    expect((await rejection(Ledger.open({ path, signingKey: publicKey }))).message).toMatch(/Ed25519 private key/)
    const ledger = await Ledger.open({ path })
    expect((await rejection(Ledger.open({ path }))).code).toBe('ERR_INVALID_ARGUMENT')
    await ledger.close()
  })

  it('never prints the signing key', async () => {
    const { privateKey } = await generateLedgerSigningKey()
    const ledger = await Ledger.open({ path: join(dir, 'ledger.ndjson'), signingKey: privateKey })
    for (const printed of [String(ledger), inspect(ledger, { showHidden: true, depth: 10 }), JSON.stringify(ledger)]) {
      expect(printed).not.toContain(privateKey.d)
      expect(printed).toContain('ledger.ndjson')
    }
    expect(String(ledger)).toContain('[airlock:redacted]')
    await ledger.close()
  })

  it('drops a torn last line (never synced, so never sent), says so, and continues from the entry before', async () => {
    const path = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path })
    for (let i = 0; i < 4; i++) await ledger.append(sample(i))
    await ledger.close()
    const { size } = await stat(path)
    await truncate(path, size - 20)
    const warnings = captureWarnings()
    const resumed = await Ledger.open({ path })
    warnings.stop()
    expect(resumed.openedAt.seq).toBe(3)
    expect(warnings.codes).toContain('AIRLOCK_LEDGER_REPAIRED')
    expect((await resumed.append(sample(9))).seq).toBe(4)
    await resumed.close()
    expect(await verifyLedger(path)).toMatchObject({ ok: true, entries: 4 })
  })

  it('drops newline-terminated lines a crash left broken at the end (e.g. zeros), and nothing before them', async () => {
    const path = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path })
    for (let i = 0; i < 3; i++) await ledger.append(sample(i))
    await ledger.close()
    const { size } = await stat(path)
    await appendFile(path, Buffer.from([0, 0, 0, 0, 0x0a, 0, 0, 0x0a, 0, 0]))
    const resumed = await Ledger.open({ path })
    expect(resumed.openedAt).toMatchObject({ seq: 3, end: size })
    await resumed.close()
    expect((await stat(path)).size).toBe(size)
  })

  it('never drops damage that has an intact entry after it: that is not a torn write, and verify names it', async () => {
    const path = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path })
    for (let i = 0; i < 4; i++) await ledger.append(sample(i))
    await ledger.close()
    const lines = (await readFile(path, 'utf8')).split('\n')
    lines[2] = '{"not":"an entry"}'
    await writeFile(path, lines.join('\n'))
    const { size } = await stat(path)
    const reopened = await Ledger.open({ path })
    expect(reopened.openedAt.seq).toBe(4)
    await reopened.close()
    expect((await stat(path)).size).toBe(size)
    expect(await verifyLedger(path)).toMatchObject({ ok: false, firstBadSeq: 3 })
  })

  it('reads a last line longer than one tail chunk', async () => {
    const path = join(dir, 'ledger.ndjson')
    const ledger = await Ledger.open({ path })
    await ledger.append(sample(0))
    await ledger.append({ ...sample(1), event: { blob: 'x'.repeat(200_000) } })
    await ledger.close()
    const again = await Ledger.open({ path })
    expect((await again.append(sample(2))).seq).toBe(3)
    await again.close()
    expect(await verifyLedger(path)).toMatchObject({ ok: true, entries: 3 })
  })

  it('opens an empty existing file as a new ledger', async () => {
    const path = join(dir, 'ledger.ndjson')
    await writeFile(path, '')
    const ledger = await Ledger.open({ path })
    expect((await ledger.append(sample(0))).seq).toBe(1)
    await ledger.close()
  })
})

function captureWarnings(): { codes: string[]; stop: () => void } {
  const codes: string[] = []
  const listener = (warning: Error & { code?: string }): void => {
    if (warning.code !== undefined) codes.push(warning.code)
  }
  process.on('warning', listener)
  return { codes, stop: () => process.off('warning', listener) }
}
