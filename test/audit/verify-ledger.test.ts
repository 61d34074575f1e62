import { createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CompactSign } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/internal/canonical-json.js'
import { GENESIS_HASH, MAX_LINE_BYTES, sha256Hex } from '../../src/audit/ledger-entry.js'
import { generateLedgerSigningKey, type LedgerSigningKeyPair } from '../../src/audit/ledger-signing-key.js'
import { Ledger, type LedgerEventInput } from '../../src/audit/ledger.js'
import { verifyLedger, type VerifyLedgerResult } from '../../src/audit/verify-ledger.js'
import { LedgerTamperedError } from '../../src/errors.js'

let dir: string
let path: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-verify-'))
  path = join(dir, 'ledger.ndjson')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function sample(i: number): LedgerEventInput {
  return {
    channel: 'parameters',
    eventId: `e${i}`,
    policyHash: 'sha256:4f9a',
    event: { flowRunId: 'r1', i, amount: i * 10 },
    transforms: [],
    status: 'sent',
  }
}

async function write(count: number, options: { signingKey?: LedgerSigningKeyPair['privateKey']; checkpointEvery?: number } = {}) {
  const ledger = await Ledger.open({ path, ...options })
  for (let i = 0; i < count; i++) await ledger.append(sample(i))
  await ledger.close()
}

async function lines(): Promise<string[]> {
  const text = await readFile(path, 'utf8')
  expect(text.endsWith('\n')).toBe(true)
  return text.slice(0, -1).split('\n')
}

async function rewrite(edited: string[]): Promise<void> {
  await writeFile(path, edited.map((l) => l + '\n').join(''))
}

/** A line an attacker without the key could forge: right seq, right prev, a fresh hash. */
function forge(seq: number, prev: string, event: Record<string, unknown>): string {
  const body = {
    v: 2, kind: 'event', seq, time: new Date().toISOString(), channel: 'parameters',
    eventId: `forged${seq}`, policyHash: 'sha256:4f9a', event, transforms: [], status: 'sent', prev,
  }
  return canonicalJson({ ...body, hash: sha256Hex(canonicalJson(body)) })
}

function bad(result: VerifyLedgerResult): { firstBadSeq: number; reason: string; entries: number } {
  if (result.ok) throw new Error('expected the ledger to fail verification')
  return result
}

describe('verifyLedger', () => {
  it('names the seq of an edited field', async () => {
    await write(10)
    const edited = await lines()
    expect(edited[6]).toContain('"amount":60')
    edited[6] = edited[6]!.replace('"amount":60', '"amount":61')
    await rewrite(edited)
    const result = bad(await verifyLedger(path))
    expect(result).toMatchObject({ firstBadSeq: 7, entries: 6 })
    expect(result.reason).toMatch(/hash does not match/)
  })

  it('names the seq of a deleted line', async () => {
    await write(10)
    const edited = await lines()
    edited.splice(3, 1)
    await rewrite(edited)
    const result = bad(await verifyLedger(path))
    expect(result.firstBadSeq).toBe(4)
    expect(result.reason).toMatch(/expected seq 4, found seq 5/)
  })

  it('names the seq of an inserted copy, and of a forged line where the chain breaks', async () => {
    await write(10)
    const original = await lines()
    const copied = [...original]
    copied.splice(5, 0, original[4]!) // line 5 again, as line 6
    await rewrite(copied)
    expect(bad(await verifyLedger(path)).firstBadSeq).toBe(6)

    const prev = (JSON.parse(original[4]!) as { hash: string }).hash
    const forged = [...original]
    forged.splice(5, 0, forge(6, prev, { flowRunId: 'r1', i: 99 })) // a consistent line 6; the real 6 follows it
    await rewrite(forged)
    const result = bad(await verifyLedger(path))
    expect(result.firstBadSeq).toBe(7)
    expect(result.reason).toMatch(/expected seq 7, found seq 6/)
  })

  it('names the seq of two swapped lines', async () => {
    await write(10)
    const edited = await lines()
    ;[edited[2], edited[3]] = [edited[3]!, edited[2]!]
    await rewrite(edited)
    const result = bad(await verifyLedger(path))
    expect(result.firstBadSeq).toBe(3)
    expect(result.reason).toMatch(/expected seq 3, found seq 4/)
  })

  it('names the seq after an entry rewritten with a fresh hash', async () => {
    await write(10)
    const edited = await lines()
    const prev = (JSON.parse(edited[3]!) as { hash: string }).hash
    edited[4] = forge(5, prev, { flowRunId: 'r1', i: 4, amount: 0 })
    await rewrite(edited)
    const result = bad(await verifyLedger(path))
    expect(result.firstBadSeq).toBe(6)
    expect(result.reason).toMatch(/prev does not match the hash of seq 5/)
  })

  it('names the seq of a torn last line', async () => {
    await write(10)
    const { size } = await stat(path)
    await truncate(path, size - 30)
    const result = bad(await verifyLedger(path))
    expect(result).toMatchObject({ firstBadSeq: 10, entries: 9 })
    expect(result.reason).toMatch(/torn/)
  })

  it('names the seq of a line longer than MAX_LINE_BYTES, with or without its newline', async () => {
    await write(2)
    const intact = await readFile(path)
    const long = Buffer.alloc(MAX_LINE_BYTES + 1, 0x78)
    for (const tail of [Buffer.from('\n'), Buffer.alloc(0)]) {
      await writeFile(path, Buffer.concat([intact, long, tail]))
      expect(bad(await verifyLedger(path))).toMatchObject({ firstBadSeq: 3, entries: 2, reason: expect.stringMatching(/longer than/) as unknown })
    }
    // one byte less is a line like any other: here, not JSON
    await writeFile(path, Buffer.concat([intact, long.subarray(1), Buffer.from('\n')]))
    expect(bad(await verifyLedger(path))).toMatchObject({ firstBadSeq: 3, reason: expect.stringMatching(/not valid JSON/) as unknown })
  })

  it('finds bytes that do not change the JSON value: whitespace and a carriage return', async () => {
    await write(5)
    const spaced = await lines()
    spaced[1] = spaced[1]!.replace('"kind":', '"kind": ')
    await rewrite(spaced)
    expect(bad(await verifyLedger(path))).toMatchObject({ firstBadSeq: 2, reason: expect.stringMatching(/canonical form/) as unknown })

    const crlf = (await lines()).map((l) => l.replace('"kind": ', '"kind":'))
    crlf[2] += '\r'
    await rewrite(crlf)
    expect(bad(await verifyLedger(path)).firstBadSeq).toBe(3)
  })

  it('reports a line that is not JSON or not an entry', async () => {
    await write(3)
    const edited = await lines()
    edited[1] = '{"v":1'
    await rewrite(edited)
    expect(bad(await verifyLedger(path))).toMatchObject({ firstBadSeq: 2, reason: expect.stringMatching(/not valid JSON/) as unknown })
    edited[1] = '{"v":2}'
    await rewrite(edited)
    expect(bad(await verifyLedger(path)).reason).toMatch(/entry schema/)
  })

  it('reports an empty file as empty, not intact, with or without a key', async () => {
    await writeFile(path, '')
    const { publicKey } = await generateLedgerSigningKey()
    for (const result of [await verifyLedger(path), await verifyLedger(path, { publicKey })]) {
      expect(result).toEqual({ ok: false, empty: true, firstBadSeq: 1, entries: 0, reason: expect.stringMatching(/^the ledger is empty/) })
    }
    // One empty line is not an empty ledger: it is a bad first entry.
    await writeFile(path, '\n')
    expect(bad(await verifyLedger(path))).toMatchObject({ empty: false, firstBadSeq: 1 })
  })

  it('throws ERR_STORAGE for a missing file', async () => {
    await expect(verifyLedger(join(dir, 'missing.ndjson'))).rejects.toMatchObject({ code: 'ERR_STORAGE' })
  })

  it('calls onEntry for each intact entry, in order', async () => {
    await write(4)
    const seen: number[] = []
    await verifyLedger(path, { onEntry: (e) => seen.push(e.seq) })
    expect(seen).toEqual([1, 2, 3, 4])
  })

  it('gives the CLI what it needs to throw LedgerTamperedError', async () => {
    await write(3)
    const edited = await lines()
    edited.pop()
    edited.push('garbage')
    await rewrite(edited)
    const result = bad(await verifyLedger(path))
    const err = new LedgerTamperedError(result.firstBadSeq, result.reason)
    expect(err.code).toBe('ERR_LEDGER_TAMPERED')
    expect(err.seq).toBe(3)
  })
})

describe('verifyLedger with signed checkpoints', () => {
  let keys: LedgerSigningKeyPair
  beforeEach(async () => {
    keys = await generateLedgerSigningKey()
  })

  it('verifies with the right public key, as a JWK or a KeyObject', async () => {
    await write(25, { signingKey: keys.privateKey, checkpointEvery: 10 })
    // 10 events, checkpoint (11), 10 events, checkpoint (22), 5 events, closing checkpoint (28)
    const expected = { ok: true, entries: 28, checkpoints: 3, signaturesChecked: true }
    expect(await verifyLedger(path, { publicKey: keys.publicKey })).toMatchObject(expected)
    const keyObject = createPublicKey({ key: keys.publicKey as JsonWebKey, format: 'jwk' })
    expect(await verifyLedger(path, { publicKey: keyObject })).toMatchObject(expected)
    expect(await verifyLedger(path)).toMatchObject({ ok: true, entries: 28, checkpoints: 3, signaturesChecked: false })
  })

  it('fails with another key, at the first checkpoint', async () => {
    await write(15, { signingKey: keys.privateKey, checkpointEvery: 10 })
    const other = await generateLedgerSigningKey()
    const result = bad(await verifyLedger(path, { publicKey: other.publicKey }))
    expect(result.firstBadSeq).toBe(11)
    expect(result.reason).toContain(`not by the given public key ${other.publicKey.kid}`)
  })

  it('refuses a private key as the verification key', async () => {
    await write(1, { signingKey: keys.privateKey })
    await expect(verifyLedger(path, { publicKey: keys.privateKey })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })

  it('detects whole trailing lines cut off only with the key (missing closing checkpoint)', async () => {
    await write(15, { signingKey: keys.privateKey, checkpointEvery: 10 })
    const cut = await lines() // 10 events, cp 11, 5 events, closing cp 17
    await rewrite(cut.slice(0, 14))
    // A hash chain alone cannot see it:
    expect(await verifyLedger(path)).toMatchObject({ ok: true, entries: 14 })
    const result = bad(await verifyLedger(path, { publicKey: keys.publicKey }))
    expect(result.firstBadSeq).toBe(15)
    expect(result.reason).toMatch(/3 entries after the last checkpoint \(seq 11\)/)

    await rewrite(cut.slice(0, 11)) // ends on the periodic checkpoint
    const periodic = bad(await verifyLedger(path, { publicKey: keys.publicKey }))
    expect(periodic.firstBadSeq).toBe(12)
    expect(periodic.reason).toMatch(/periodic checkpoint, not the closing one/)
  })

  it('fails a ledger written without a signing key when a key is given', async () => {
    await write(5)
    const result = bad(await verifyLedger(path, { publicKey: keys.publicKey }))
    expect(result.firstBadSeq).toBe(6)
    expect(result.reason).toMatch(/none of the 5 entries is a signed checkpoint/)
  })

  it('catches a tail rewritten with fresh hashes only with the key', async () => {
    await write(5, { signingKey: keys.privateKey })
    const original = await lines() // 5 events, closing checkpoint 6
    const rewritten = original.slice(0, 3)
    let prev = (JSON.parse(original[2]!) as { hash: string }).hash
    for (let seq = 4; seq <= 5; seq++) {
      rewritten.push(forge(seq, prev, { flowRunId: 'r1', i: seq }))
      prev = (JSON.parse(rewritten.at(-1)!) as { hash: string }).hash
    }
    // the attacker keeps the old closing checkpoint, re-chained: its signature names the old head
    const checkpoint = JSON.parse(original[5]!) as Record<string, unknown>
    delete checkpoint.hash
    checkpoint.prev = prev
    rewritten.push(canonicalJson({ ...checkpoint, hash: sha256Hex(canonicalJson(checkpoint)) }))
    await rewrite(rewritten)
    expect(bad(await verifyLedger(path)).reason).toMatch(/signs another Merkle root/)
    expect(bad(await verifyLedger(path, { publicKey: keys.publicKey })).firstBadSeq).toBe(6)

    // dropping the checkpoint leaves a chain-valid file that only the key rejects
    await rewrite(rewritten.slice(0, 5))
    expect(await verifyLedger(path)).toMatchObject({ ok: true, entries: 5 })
    expect(bad(await verifyLedger(path, { publicKey: keys.publicKey })).firstBadSeq).toBe(6)
  })

  it('reports progress every 100,000 entries', async () => {
    // Written directly (small delivery entries) so the test spends its time verifying.
    const chunks: string[] = []
    let prev = GENESIS_HASH
    for (let seq = 1; seq <= 100_001; seq++) {
      const body = { v: 1, kind: 'delivery', seq, time: '2026-11-21T09:00:00.000Z', eventIds: [`e${seq}`], status: 'sent', prev }
      prev = sha256Hex(canonicalJson(body))
      chunks.push(canonicalJson({ ...body, hash: prev }) + '\n')
    }
    await writeFile(path, chunks.join(''))
    const progress: number[] = []
    expect(await verifyLedger(path, { onProgress: (n) => progress.push(n) })).toMatchObject({ ok: true, entries: 100_001, head: prev })
    expect(progress).toEqual([100_000])
  })
})

describe('verifyLedger and the checkpoint payload versions', () => {
  let keys: LedgerSigningKeyPair
  beforeEach(async () => {
    keys = await generateLedgerSigningKey()
  })

  /**
   * A ledger built by hand, as any writer of the format would: `n` events,
   * then a checkpoint whose payload `payload(seq, head)` makes, signed with
   * `keys`, then the closing checkpoint (payload v1).
   */
  async function handMade(n: number, payload: (seq: number, head: string) => Record<string, unknown>): Promise<void> {
    const key = createPrivateKey({ key: keys.privateKey as JsonWebKey, format: 'jwk' })
    const sign = (body: Record<string, unknown>): Promise<string> =>
      new CompactSign(Buffer.from(canonicalJson(body))).setProtectedHeader({ alg: 'EdDSA', typ: 'airlock-ledger-checkpoint', kid: keys.publicKey.kid! }).sign(key)
    const out: string[] = []
    let prev = GENESIS_HASH
    const push = (body: Record<string, unknown>): void => {
      const entry = { ...body, v: 1, seq: out.length + 1, time: '2026-11-21T09:00:00.000Z', prev }
      prev = sha256Hex(canonicalJson(entry))
      out.push(canonicalJson({ ...entry, hash: prev }))
    }
    for (let i = 0; i < n; i++) push({ kind: 'event', channel: 'logs', eventId: `e${i}`, policyHash: 'ph1.test', event: { i }, transforms: [], status: 'sent' })
    push({ kind: 'checkpoint', jws: await sign(payload(out.length, prev)) })
    push({ kind: 'checkpoint', jws: await sign({ final: true, head: prev, seq: out.length, v: 1 }) })
    await rewrite(out)
  }

  it('writes signed notes now, and still verifies v1 checkpoints made by hand', async () => {
    await write(9, { signingKey: keys.privateKey, checkpointEvery: 4 })
    const notes = (await lines())
      .map((l) => JSON.parse(l) as { kind: string; v: number; note?: string; jws?: string })
      .filter((e) => e.kind === 'checkpoint')
    expect(notes.map((e) => [e.v, e.jws])).toEqual([[2, undefined], [2, undefined], [2, undefined]])
    expect(notes.map((e) => e.note!.split('\n').slice(1, 4))).toEqual([
      ['4', expect.any(String), ''],
      ['9', expect.any(String), ''],
      ['11', expect.any(String), 'airlock-final'],
    ])

    await handMade(3, (seq, head) => ({ final: false, head, seq, v: 1 }))
    expect(await verifyLedger(path, { publicKey: keys.publicKey })).toMatchObject({ ok: true, entries: 5, checkpoints: 2, adopted: [], adoptions: 0 })
  })

  it('reads an adopted range from a v2 payload, and holds it to the chain', async () => {
    await handMade(3, (seq, head) => ({ adopted: { from: 1, to: seq }, final: false, head, seq, v: 2 }))
    expect(await verifyLedger(path, { publicKey: keys.publicKey })).toMatchObject({ ok: true, adopted: [{ from: 1, to: 3, bySeq: 4 }], adoptions: 1 })

    // A range that does not end at the entry before the checkpoint says something the chain does not.
    await handMade(3, (seq, head) => ({ adopted: { from: 1, to: seq - 1 }, final: false, head, seq, v: 2 }))
    for (const result of [await verifyLedger(path), await verifyLedger(path, { publicKey: keys.publicKey })]) {
      expect(bad(result)).toMatchObject({ firstBadSeq: 4, reason: expect.stringMatching(/adopts a range that does not end at the entry before it/) })
    }
    // With the key, a range must start right after the last checkpoint: the writer adopts exactly what followed it.
    await handMade(3, (seq, head) => ({ adopted: { from: 2, to: seq }, final: false, head, seq, v: 2 }))
    expect(bad(await verifyLedger(path, { publicKey: keys.publicKey }))).toMatchObject({ firstBadSeq: 4, reason: expect.stringMatching(/from seq 2, but the last checkpoint before it is seq 0/) })
    // A payload of a version this verifier does not know, or v2 without its range, is refused, not half-read.
    for (const payload of [
      (seq: number, head: string) => ({ adopted: { from: 1, to: seq }, final: false, head, seq, v: 3 }),
      (seq: number, head: string) => ({ final: false, head, seq, v: 2 }),
      (seq: number, head: string) => ({ adopted: { from: 1, to: seq }, final: false, head, seq, v: 1 }),
    ]) {
      await handMade(3, payload)
      expect(bad(await verifyLedger(path))).toMatchObject({ firstBadSeq: 4, reason: 'the checkpoint JWS is malformed' })
    }
  })
})

/** Verifies twice: line by line on this thread (onEntry set) and through the worker threads' summaries; both must agree. */
async function verifyBothWays(options: Parameters<typeof verifyLedger>[1] = {}): Promise<VerifyLedgerResult> {
  const checked: number[] = []
  const lineByLine = await verifyLedger(path, { ...options, onEntry: (e) => checked.push(e.seq) })
  const summarized = await verifyLedger(path, options)
  expect(summarized).toEqual(lineByLine)
  expect(checked).toEqual(Array.from({ length: checked.length }, (_, i) => i + 1))
  return summarized
}

describe('verifyLedger on a ledger large enough to be checked on worker threads', () => {
  // Over WORKER_MIN_BYTES (32 MiB), so worker threads check the lines, which straddle every 4 MiB chunk.
  // Few long lines: the threads start either way, and the test stays quick.
  const COUNT = 10_000
  let original: string[]

  beforeEach(async () => {
    original = []
    let prev = GENESIS_HASH
    for (let seq = 1; seq <= COUNT; seq++) {
      const body = {
        v: 1, kind: 'event', seq, time: '2026-11-21T09:00:00.000Z', channel: 'logs', eventId: `e${seq}`, policyHash: 'sha256:4f9a',
        // a nested `hash`, as the writer could record, to be told from the entry's own
        event: { hash: sha256Hex(String(seq)), kind: 'log', msg: `loaded ${seq} rows`, fields: { note: 'x'.repeat(3_400 + (seq % 200)) } },
        transforms: [], status: 'sent', prev,
      }
      prev = sha256Hex(canonicalJson(body))
      original.push(canonicalJson({ ...body, hash: prev }))
    }
    await rewrite(original)
    expect((await stat(path)).size).toBeGreaterThan(32 * 1024 * 1024)
  })

  it('verifies it, passing every entry in order', async () => {
    let seen = 0
    const result = await verifyLedger(path, { onEntry: (e) => expect(e.seq).toBe(++seen) })
    expect(result).toMatchObject({ ok: true, entries: COUNT, head: (JSON.parse(original.at(-1)!) as { hash: string }).hash })
    expect(seen).toBe(COUNT)
  })

  it('names the first bad seq of each kind of damage', async () => {
    const cases: [string, (lines: string[]) => void, number, RegExp][] = [
      ['an edited value', (l) => (l[7_999] = l[7_999]!.replace('"msg":"loaded', '"msg":"Loaded')), 8_000, /hash does not match/],
      ['an edited nested hash', (l) => (l[4_344] = l[4_344]!.replace('"hash":"', '"hash":"0')), 4_345, /hash does not match/],
      ['added whitespace', (l) => (l[6_000] = l[6_000]!.replace('"kind":', '"kind": ')), 6_001, /canonical form/],
      ['a carriage return', (l) => (l[5] += '\r'), 6, /JSON|canonical/],
      ['a deleted line', (l) => l.splice(9_000, 1), 9_001, /expected seq 9001, found seq 9002/],
      ['two swapped lines', (l) => ([l[100], l[101]] = [l[101]!, l[100]!]), 101, /expected seq 101, found seq 102/],
      ['the first line deleted', (l) => l.shift(), 1, /expected seq 1, found seq 2/],
      ['the last line edited', (l) => (l[COUNT - 1] = l[COUNT - 1]!.replace('"msg":"loaded', '"msg":"Loaded')), COUNT, /hash does not match/],
      ['a line not JSON', (l) => (l[5_000] = l[5_000]!.slice(0, -1)), 5_001, /not valid JSON/],
    ]
    for (const [what, damage, seq, reason] of cases) {
      const lines = [...original]
      damage(lines)
      await rewrite(lines)
      const result = bad(await verifyBothWays())
      expect({ what, seq: result.firstBadSeq, entries: result.entries }).toEqual({ what, seq, entries: seq - 1 })
      expect(result.reason).toMatch(reason)
    }
  }, 120_000)

  it('names a torn last line', async () => {
    await writeFile(path, original.join('\n'))
    expect(bad(await verifyBothWays())).toMatchObject({ firstBadSeq: COUNT, reason: expect.stringMatching(/torn/) as unknown })
  })

  it('checks every signed checkpoint of a large ledger, linking its lines from their bytes, and says what parsing them says of any damage', async () => {
    const keys = await generateLedgerSigningKey()
    await rm(path)
    const ledger = await Ledger.open({ path, signingKey: keys.privateKey, checkpointEvery: 2_000 })
    for (let from = 0; from < 8_000; from += 1_000) {
      await Promise.all(
        Array.from({ length: 1_000 }, (_, i) =>
          ledger.append({
            channel: 'logs', eventId: `e${from + i}`, policyHash: 'ph1.test',
            // A nested `kind` and `hash`: places a moved hash member could hide.
            event: { kind: 'log', msg: `row ${from + i}`, hash: 'ab'.repeat(32), pad: 'y'.repeat(4_500) }, transforms: [], status: 'sent',
          }),
        ),
      )
    }
    await ledger.close()
    expect((await stat(path)).size).toBeGreaterThan(32 * 1024 * 1024)
    const intact = await verifyBothWays({ publicKey: keys.publicKey })
    expect(intact).toMatchObject({ ok: true, checkpoints: 5, signaturesChecked: true })
    const original = (await readFile(path, 'utf8')).split('\n').slice(0, -1)
    const at = original.findIndex((line) => line.startsWith('{"hash":"'))

    /** Line i rehashed after `edit`, and every later line too (checkpoints then no longer verify): a forger without the key. */
    const rehashedFrom = (lines: string[], i: number, edit: (body: Record<string, unknown>) => string): void => {
      let prev: string | undefined
      for (let j = i; j < lines.length; j++) {
        const { hash: _, ...body } = JSON.parse(lines[j]!) as Record<string, unknown>
        if (prev !== undefined) body.prev = prev
        const content = j === i ? edit(body) : canonicalJson(body)
        prev = sha256Hex(content)
        const cut = content.indexOf(',"kind":"', content.lastIndexOf(',"eventId":"'))
        lines[j] = body.kind === 'checkpoint' ? `{"hash":"${prev}",${content.slice(1)}` : `${content.slice(0, cut)},"hash":"${prev}"${content.slice(cut)}`
      }
    }
    const cases: [string, (lines: string[]) => void][] = [
      // Another root, the same signature: the note no longer verifies, wherever the checkpoint sits in its chunk.
      ['a checkpoint with another root', (l) => {
        const checkpoint = JSON.parse(l[at]!) as { note: string }
        const edited = { ...checkpoint, note: checkpoint.note.replace(/\n([A-Za-z0-9+/]{43}=)\n/, (_, root: string) => `\n${root.startsWith('A') ? 'B' : 'A'}${root.slice(1)}\n`) }
        expect(edited.note).not.toBe(checkpoint.note)
        const { hash: _, ...body } = edited as unknown as Record<string, unknown>
        l[at] = canonicalJson({ ...body, hash: sha256Hex(canonicalJson(body)) })
      }],
      ['an edited value', (l) => (l[5_000] = l[5_000]!.replace('"msg":"row', '"msg":"Row'))],
      ['the hash member moved beside the nested kind', (l) => {
        const line = l[3_000]!
        const member = line.slice(line.lastIndexOf(',"hash":"'), line.lastIndexOf(',"hash":"') + 74)
        l[3_000] = line.replace(member, '').replace(',"kind":"log"', `${member},"kind":"log"`)
        expect(l[3_000]).not.toBe(line)
      }],
      ['a line rehashed as JSON that is no entry, and the chain after it', (l) => rehashedFrom(l, 4_000, (body) => canonicalJson({ ...body, seq: String(body.seq) }))],
      ['a line rehashed as bytes that are no JSON, and the chain after it', (l) => rehashedFrom(l, 4_000, (body) => canonicalJson(body).replace('"status":"sent"', '"status":sent'))],
      ['a deleted line', (l) => l.splice(6_500, 1)],
      ['two swapped lines', (l) => ([l[100], l[101]] = [l[101]!, l[100]!])],
      ['the closing checkpoint cut off', (l) => l.pop()],
      ['added whitespace', (l) => (l[7_000] = l[7_000]!.replace('"kind":"event"', '"kind": "event"'))],
    ]
    for (const [what, damage] of cases) {
      const lines = [...original]
      damage(lines)
      await rewrite(lines)
      const result = await verifyBothWays({ publicKey: keys.publicKey })
      expect({ what, ok: result.ok }).toEqual({ what, ok: false })
    }
  }, 120_000)
})
