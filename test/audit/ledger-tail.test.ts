import { spawn } from 'node:child_process'
import { createPrivateKey, sign, type JsonWebKey } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { canonicalJson, type JsonObject } from '../../src/internal/canonical-json.js'
import { GENESIS_HASH, sha256Hex } from '../../src/audit/ledger-entry.js'
import { buildLedgerReport, formatReportText } from '../../src/audit/ledger-report.js'
import { formatReportHtml } from '../../src/audit/html-report.js'
import { generateLedgerSigningKey, type LedgerSigningKeyPair } from '../../src/audit/ledger-signing-key.js'
import { Ledger, type LedgerEventInput } from '../../src/audit/ledger.js'
import { verifyLedger, type VerifyLedgerResult } from '../../src/audit/verify-ledger.js'
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { runCli } from '../../src/cli/run-cli.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { AirlockError, LedgerTamperedError, LedgerUnsignedTailError } from '../../src/errors.js'

const root = join(import.meta.dirname, '../..')
// In every event, so a test can tell that an error message quotes no entry.
const CONTENT = 'entry-content-3f9a1c'

let dir: string
let path: string
let keys: LedgerSigningKeyPair
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-ledger-tail-'))
  path = join(dir, 'ledger.ndjson')
  keys = await generateLedgerSigningKey()
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function sample(i: number): LedgerEventInput {
  return {
    channel: 'parameters',
    eventId: `e${i}`,
    policyHash: 'ph1.test',
    event: { kind: 'parameters', i, note: CONTENT, amount: i * 10 },
    transforms: [],
    status: 'sent',
  }
}

async function write(count: number, options: { signingKey?: object; checkpointEvery?: number; close?: boolean } = {}): Promise<Ledger> {
  const { close = true, ...open } = options
  const ledger = await Ledger.open({ path, ...open })
  for (let i = 0; i < count; i++) await ledger.append(sample(i))
  if (close) await ledger.close()
  return ledger
}

async function lines(): Promise<string[]> {
  return (await readFile(path, 'utf8')).trimEnd().split('\n')
}

async function rewrite(edited: readonly string[]): Promise<void> {
  await writeFile(path, edited.map((l) => l + '\n').join(''))
}

function kinds(all: readonly string[]): string {
  return all.map((l) => (JSON.parse(l) as { kind: string }).kind[0]).join('')
}

/**
 * What someone with write access to the file but not the signing key does:
 * edit the event of entry `at`, drop every checkpoint from there on (it
 * could not be re-signed), renumber and re-chain the rest with the real
 * hashing: the entry's SHA-256 over its canonical JSON.
 */
function reseal(original: readonly string[], at: number, event: JsonObject): string[] {
  const out: string[] = []
  let prev = GENESIS_HASH
  for (const line of original) {
    const entry = JSON.parse(line) as Record<string, unknown>
    if ((entry.seq as number) < at) {
      out.push(line)
      prev = entry.hash as string
      continue
    }
    if (entry.kind === 'checkpoint') continue
    const { hash: _, ...body } = entry
    if (entry.seq === at) body.event = event
    body.seq = out.length + 1
    body.prev = prev
    prev = sha256Hex(canonicalJson(body))
    out.push(canonicalJson({ ...body, hash: prev }))
  }
  return out
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

/** Opening must refuse, and leave the file byte for byte as it was. */
async function refused(options: Parameters<typeof Ledger.open>[0]): Promise<AirlockError> {
  const before = await readFile(path)
  const err = await rejection(Ledger.open(options))
  expect((await readFile(path)).equals(before), 'the refused open wrote to the file').toBe(true)
  expect(err.message).not.toContain(CONTENT)
  return err
}

function intact(result: VerifyLedgerResult): Extract<VerifyLedgerResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected an intact ledger, got seq ${result.firstBadSeq}: ${result.reason}`)
  return result
}

/**
 * A writer in another process that appends `count` entries, each awaited
 * (so on disk), and is then killed with SIGKILL before it can close.
 */
async function crashAfterAppending(count: number, from: number): Promise<void> {
  const script = join(dir, 'writer.mjs')
  await writeFile(
    script,
    `const { Ledger } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/audit/ledger.ts')).href)})
const [path, key, count, from] = [process.argv[2], JSON.parse(process.env.LEDGER_KEY), Number(process.argv[3]), Number(process.argv[4])]
const ledger = await Ledger.open({ path, signingKey: key })
for (let i = from; i < from + count; i++) {
  await ledger.append({ channel: 'parameters', eventId: 'e' + i, policyHash: 'ph1.test', event: { kind: 'parameters', i, note: ${JSON.stringify(CONTENT)} }, transforms: [], status: 'sent' })
}
process.stdout.write('appended\\n')
setInterval(() => {}, 60_000)
`,
  )
  const child = spawn(process.execPath, ['--import', 'tsx', script, path, String(count), String(from)], {
    cwd: root,
    env: { ...process.env, LEDGER_KEY: JSON.stringify(keys.privateKey) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = once(child, 'exit')
  let out = ''
  for await (const chunk of child.stdout) {
    out += String(chunk)
    if (out.includes('appended')) break
  }
  expect(out).toContain('appended')
  child.kill('SIGKILL')
  const [code, signal] = await exited
  expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' })
}

describe('Ledger.open with a signing key: the resealing attack', () => {
  it('refuses to sign over history edited and re-chained after the last checkpoint, naming the first entry no checkpoint covers', async () => {
    await write(10, { signingKey: keys.privateKey, checkpointEvery: 4 })
    const original = await lines()
    expect(kinds(original)).toBe('eeeec' + 'eeeec' + 'eec') // checkpoints at 5 and 10; the closing one at 13
    expect(intact(await verifyLedger(path, { publicKey: keys.publicKey })).entries).toBe(13)

    // Entry 7 (an event after the checkpoint at 5) is edited; the checkpoints at 10 and 13 go.
    const forged = reseal(original, 7, { kind: 'parameters', i: 5, note: CONTENT, amount: 0 })
    expect(kinds(forged)).toBe('eeeec' + 'eeeeee')
    await rewrite(forged)
    // The hash chain alone cannot see it: that is the attack.
    expect(intact(await verifyLedger(path)).entries).toBe(11)

    const err = await refused({ path, signingKey: keys.privateKey })
    expect(err).toBeInstanceOf(LedgerUnsignedTailError)
    expect(err.code).toBe('ERR_LEDGER_UNSIGNED_TAIL')
    expect(err).toMatchObject({ seq: 6, lastSeq: 11, signedThrough: 5 })
    expect(err.message).toMatch(/entries seq 6 to 11 are not covered by a checkpoint of this signing key/)
    expect(err.message).toMatch(/last checkpoint this signing key signed is seq 5/)
    expect(err.message).toMatch(/verify the file.*adoptUnsignedTail: true/)
    // Nothing was signed over the forgery: it still fails with the public key, where the forgery starts.
    const result = await verifyLedger(path, { publicKey: keys.publicKey })
    expect(result).toMatchObject({ ok: false, firstBadSeq: 12 })
    // And the refusal released the path: a writer can try again.
    expect(await rejection(Ledger.open({ path, signingKey: keys.privateKey }))).toBeInstanceOf(LedgerUnsignedTailError)
  })

  it('refuses the whole file, from seq 1, when the edit came before the key’s first checkpoint', async () => {
    await write(6, { signingKey: keys.privateKey, checkpointEvery: 4 })
    await rewrite(reseal(await lines(), 2, { kind: 'parameters', i: 1, note: CONTENT, amount: 0 }))
    const err = await refused({ path, signingKey: keys.privateKey })
    expect(err).toMatchObject({ code: 'ERR_LEDGER_UNSIGNED_TAIL', seq: 1, lastSeq: 6, signedThrough: 0 })
    expect(err.message).toMatch(/this signing key signed no checkpoint in the file/)
  })

  it('refuses a forged tail even when a checkpoint of another key closes it', async () => {
    await write(4, { signingKey: keys.privateKey })
    const forged = reseal(await lines(), 3, { kind: 'parameters', i: 9, note: CONTENT })
    await rewrite(forged)
    // The attacker signs a closing checkpoint with a key of their own: it covers nothing for this writer.
    const attacker = await generateLedgerSigningKey()
    const ledger = await Ledger.open({ path, signingKey: attacker.privateKey, adoptUnsignedTail: true })
    await ledger.close()
    expect(intact(await verifyLedger(path)).entries).toBe(6)

    const err = await refused({ path, signingKey: keys.privateKey })
    expect(err).toMatchObject({ code: 'ERR_LEDGER_UNSIGNED_TAIL', seq: 1, lastSeq: 6, signedThrough: 0 })
  })

  it('treats a checkpoint that names this key but does not verify as tampering, never as adoptable', async () => {
    await write(3, { signingKey: keys.privateKey })
    const original = await lines() // 3 events, closing checkpoint 4
    const last = JSON.parse(original[3]!) as Record<string, unknown>
    // The same note and signature line (this key's ID), signed with another key.
    const other = createPrivateKey({ key: (await generateLedgerSigningKey()).privateKey as JsonWebKey, format: 'jwk' })
    const note = last.note as string
    const text = note.slice(0, note.indexOf('\n\n') + 1)
    const signatureLine = note.slice(note.indexOf('\n\n') + 2, -1)
    const [dash, name, signature] = signatureLine.split(' ')
    const keyId = Buffer.from(signature!, 'base64').subarray(0, 4)
    const forged = Buffer.concat([keyId, sign(null, Buffer.from(text), other)]).toString('base64')
    const { hash: _, ...rest } = last
    const body = { ...rest, note: `${text}\n${dash} ${name} ${forged}\n` }
    await rewrite([...original.slice(0, 3), canonicalJson({ ...body, hash: sha256Hex(canonicalJson(body)) })])

    for (const adoptUnsignedTail of [false, true]) {
      const err = await refused({ path, signingKey: keys.privateKey, adoptUnsignedTail })
      expect(err).toBeInstanceOf(LedgerTamperedError)
      expect(err).toMatchObject({ code: 'ERR_LEDGER_TAMPERED', seq: 4 })
      expect(err.message).toMatch(/names key .* but its signature does not verify/)
    }
  })

  it('refuses a genuine closing checkpoint kept behind a re-chained history, naming the first bad seq', async () => {
    await write(6, { signingKey: keys.privateKey })
    const original = await lines() // 6 events, closing checkpoint 7
    const forged = reseal(original.slice(0, 6), 4, { kind: 'parameters', i: 3, note: CONTENT, amount: 1 })
    // The signed checkpoint, untouched, still names the old head: it no longer follows the line before it.
    await rewrite([...forged, original[6]!])
    for (const adoptUnsignedTail of [false, true]) {
      const err = await refused({ path, signingKey: keys.privateKey, adoptUnsignedTail })
      expect(err).toMatchObject({ code: 'ERR_LEDGER_TAMPERED', seq: 7 })
    }
    // A signed checkpoint copied to the end of the file does not pass for the last one either.
    await rewrite([...original, original[6]!])
    expect(await refused({ path, signingKey: keys.privateKey })).toMatchObject({ code: 'ERR_LEDGER_TAMPERED', seq: 8 })
  })
})

describe('Ledger.open with a signing key: a crashed writer', () => {
  it('refuses the tail a writer killed before close() left, then adopts it on request, on record for every audit', async () => {
    await write(3, { signingKey: keys.privateKey }) // 3 events, closing checkpoint 4
    await crashAfterAppending(3, 3) // entries 5, 6, 7: on disk, never signed
    expect(kinds(await lines())).toBe('eeec' + 'eee')

    const err = await refused({ path, signingKey: keys.privateKey })
    expect(err).toMatchObject({ code: 'ERR_LEDGER_UNSIGNED_TAIL', seq: 5, lastSeq: 7, signedThrough: 4 })

    const ledger = await Ledger.open({ path, signingKey: keys.privateKey, adoptUnsignedTail: true })
    expect(ledger.adopted).toEqual({ from: 5, to: 7, bySeq: 8 })
    // The adopting checkpoint is on disk before open resolves, and signs the range.
    const adopting = JSON.parse((await lines())[7]!) as { kind: string; seq: number; note: string }
    expect(adopting).toMatchObject({ kind: 'checkpoint', seq: 8 })
    expect(adopting.note.split('\n').slice(1, 5)).toEqual(['7', expect.any(String), 'airlock-adopted 5 7', ''])
    expect((await ledger.append(sample(9))).seq).toBe(9)
    await ledger.close()

    const verified = intact(await verifyLedger(path, { publicKey: keys.publicKey }))
    expect(verified).toMatchObject({ entries: 10, checkpoints: 3, signaturesChecked: true, adopted: [{ from: 5, to: 7, bySeq: 8 }], adoptions: 1 })
    // The adoption is signed: the payload cannot be changed without the key.
    const other = await generateLedgerSigningKey()
    expect((await verifyLedger(path, { publicKey: other.publicKey })).ok).toBe(false)

    // Reports say it, in words.
    const said = 'entries 5–7 were not signed by their writer; adopted at seq 8'
    const report = await buildLedgerReport(path, { publicKey: keys.publicKey })
    expect(formatReportText(report)).toContain(`adopted:     ${said}`)
    expect(formatReportHtml(report)).toMatch(new RegExp(`data-testid="adopted".*<li data-seq="8">${said}</li>`))
    const keyPath = join(dir, 'ledger.pub.json')
    await writeFile(keyPath, JSON.stringify(keys.publicKey))
    let out = ''
    const code = await runCli(['audit', 'verify', path, '--public-key', keyPath], { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true }, env: {} })
    expect(code).toBe(0)
    expect(out).toContain(`is intact: 10 entries, 3 signed checkpoints verified\n  adopted: ${said}\n`)
    let json = ''
    await runCli(['audit', 'report', path, '--format', 'json', '--public-key', keyPath], { stdout: { write: (t: string) => (json += t) }, stderr: { write: () => true }, env: {} })
    expect((JSON.parse(json) as { verified: unknown }).verified).toMatchObject({ ok: true, adopted: [{ from: 5, to: 7, bySeq: 8 }] })

    // Reopened, the ledger ends with this key's checkpoint: nothing left to adopt.
    const again = await Ledger.open({ path, signingKey: keys.privateKey, adoptUnsignedTail: true })
    expect(again.adopted).toBeUndefined()
    await again.close()
    expect(intact(await verifyLedger(path, { publicKey: keys.publicKey })).adopted).toEqual([{ from: 5, to: 7, bySeq: 8 }])
  }, 30_000)

  it('adopts the tail after a periodic checkpoint, and only that', async () => {
    const ledger = await write(5, { signingKey: keys.privateKey, checkpointEvery: 4, close: false }) // 4 events, checkpoint 5, event 6
    // As a crash leaves it: what was appended, without the closing checkpoint. (A second open of a path this process holds is refused.)
    const copy = join(dir, 'crashed.ndjson')
    await writeFile(copy, await readFile(path))
    await ledger.close()
    path = copy
    expect(kinds(await lines())).toBe('eeeece')
    expect(await refused({ path, signingKey: keys.privateKey })).toMatchObject({ seq: 6, lastSeq: 6, signedThrough: 5 })
    expect((await rejection(Ledger.open({ path, signingKey: keys.privateKey }))).message).toMatch(/entry seq 6 is not covered/)
    const adopter = await Ledger.open({ path, signingKey: keys.privateKey, adoptUnsignedTail: true })
    expect(adopter.adopted).toEqual({ from: 6, to: 6, bySeq: 7 })
    await adopter.close()
    expect(intact(await verifyLedger(path, { publicKey: keys.publicKey })).adopted).toEqual([{ from: 6, to: 6, bySeq: 7 }])
    expect(formatReportText(await buildLedgerReport(path))).toContain('entry 6 was not signed by its writer; adopted at seq 7')
  })

  it('never adopts a broken chain, and drops a torn last line before adopting', async () => {
    await write(3, { signingKey: keys.privateKey })
    await crashAfterAppending(3, 3) // entries 5 to 7
    const crashed = await lines()
    const edited = [...crashed]
    edited[5] = edited[5]!.replace('"i":4', '"i":44') // entry 6, not re-chained
    await rewrite(edited)
    for (const adoptUnsignedTail of [false, true]) {
      const err = await refused({ path, signingKey: keys.privateKey, adoptUnsignedTail })
      expect(err).toBeInstanceOf(LedgerTamperedError)
      expect(err).toMatchObject({ seq: 6 })
      expect(err.message).toMatch(/hash does not match.*cannot be adopted/)
    }

    // A torn last line (a crash mid-write) was never synced, so never sent: open drops it, and the rest is adoptable.
    await rewrite(crashed)
    const whole = await readFile(path)
    await writeFile(path, whole.subarray(0, whole.length - 10))
    const ledger = await Ledger.open({ path, signingKey: keys.privateKey, adoptUnsignedTail: true })
    expect(ledger.adopted).toEqual({ from: 5, to: 6, bySeq: 7 })
    await ledger.close()
  }, 30_000)

  it('does not count a checkpoint another key signed', async () => {
    await write(2, { signingKey: keys.privateKey }) // closing checkpoint 3, this key
    const other = await generateLedgerSigningKey()
    const otherWriter = await Ledger.open({ path, signingKey: other.privateKey, adoptUnsignedTail: true }) // adopts 1–3 for the other key
    expect(otherWriter.adopted).toEqual({ from: 1, to: 3, bySeq: 4 })
    await otherWriter.append(sample(5))
    await otherWriter.close() // closing checkpoint 6, the other key
    expect(kinds(await lines())).toBe('eec' + 'cec')

    // For this key, everything after its own checkpoint at 3 is unsigned, other key's checkpoints included.
    expect(await refused({ path, signingKey: keys.privateKey })).toMatchObject({ code: 'ERR_LEDGER_UNSIGNED_TAIL', seq: 4, lastSeq: 6, signedThrough: 3 })
    const ledger = await Ledger.open({ path, signingKey: keys.privateKey, adoptUnsignedTail: true })
    expect(ledger.adopted).toEqual({ from: 4, to: 6, bySeq: 7 })
    await ledger.close()
  })

  it('adopts, on request, a ledger written without a key that a signing writer takes over', async () => {
    await write(3)
    expect(await refused({ path, signingKey: keys.privateKey })).toMatchObject({ seq: 1, lastSeq: 3, signedThrough: 0 })
    const ledger = await Ledger.open({ path, signingKey: keys.privateKey, adoptUnsignedTail: true })
    expect(ledger.adopted).toEqual({ from: 1, to: 3, bySeq: 4 })
    await ledger.close()
    expect(intact(await verifyLedger(path, { publicKey: keys.publicKey }))).toMatchObject({ entries: 5, adopted: [{ from: 1, to: 3, bySeq: 4 }] })
  })
})

describe('Ledger.open with a signing key: the common case', () => {
  it('continues a ledger that ends with its closing checkpoint, reading only its end', async () => {
    await write(20, { signingKey: keys.privateKey, checkpointEvery: 8 })
    // Damage well before the last checkpoint: a writer that read the whole file would refuse.
    // The closing checkpoint already vouches for the chain before it, so the writer only reads its tail.
    const damaged = await lines()
    damaged[2] = damaged[2]!.replace('"i":2', '"i":3')
    await rewrite(damaged)
    const ledger = await Ledger.open({ path, signingKey: keys.privateKey, adoptUnsignedTail: true })
    expect(ledger.adopted).toBeUndefined()
    expect((await ledger.append(sample(20))).seq).toBe(24)
    await ledger.close()
    // The damage stays visible to an audit.
    expect(await verifyLedger(path, { publicKey: keys.publicKey })).toMatchObject({ ok: false, firstBadSeq: 3 })
  })

  it('opens an empty file, and signs nothing over no entries', async () => {
    await writeFile(path, '')
    await (await Ledger.open({ path, signingKey: keys.privateKey })).close()
    expect(await readFile(path, 'utf8')).toBe('')
    const ledger = await Ledger.open({ path, signingKey: keys.privateKey })
    expect((await ledger.append(sample(0))).seq).toBe(1)
    await ledger.close()
    expect(intact(await verifyLedger(path, { publicKey: keys.publicKey })).entries).toBe(2)
  })

  it('continues after a closing checkpoint whose previous line is longer than a read chunk', async () => {
    const ledger = await Ledger.open({ path, signingKey: keys.privateKey })
    await ledger.append({ ...sample(0), event: { blob: 'x'.repeat(200_000) } })
    await ledger.close()
    const again = await Ledger.open({ path, signingKey: keys.privateKey })
    expect((await again.append(sample(1))).seq).toBe(3)
    await again.close()
    expect(intact(await verifyLedger(path, { publicKey: keys.publicKey })).entries).toBe(4)
  })

  it('finds its last checkpoint wherever the backward reads cut it', async () => {
    // The writer reads the end of the file in 64 KiB chunks. Crash tails of
    // sizes around that put the chunk boundary before, inside and after the
    // checkpoint line it must find.
    const CHUNK = 64 * 1024
    const crashTail = async (file: string, blob: number): Promise<{ size: number; anchorStart: number; anchorEnd: number }> => {
      path = file
      await write(2, { signingKey: keys.privateKey }) // closing checkpoint 3
      const anchorEnd = (await readFile(path)).length - 1
      const anchorStart = (await readFile(path)).lastIndexOf('\n', anchorEnd - 1) + 1
      const writer = await Ledger.open({ path, signingKey: keys.privateKey })
      await writer.append({ ...sample(3), event: { blob: 'x'.repeat(blob) } })
      const crashed = await readFile(path)
      await writer.close()
      await writeFile(path, crashed) // what a crash leaves: the entry, not the closing checkpoint
      return { size: crashed.length, anchorStart, anchorEnd }
    }
    const probe = await crashTail(join(dir, 'probe.ndjson'), 1000)
    const overhead = probe.size - probe.anchorEnd - 1 - 1000
    const anchorLength = probe.anchorEnd - probe.anchorStart
    let straddled = 0
    // With a tail of CHUNK + k bytes, the first read starts k + 1 bytes after the anchor's newline.
    for (let k = -anchorLength - 8; k <= 8; k += 11) {
      const at = await crashTail(join(dir, `tail-${k}.ndjson`), CHUNK - overhead + k)
      if (at.anchorStart < at.size - CHUNK && at.size - CHUNK <= at.anchorEnd) straddled++
      expect(await refused({ path, signingKey: keys.privateKey }), `blob ${k}`).toMatchObject({ code: 'ERR_LEDGER_UNSIGNED_TAIL', seq: 4, lastSeq: 4, signedThrough: 3 })
    }
    expect(straddled).toBeGreaterThan(10)
  })

  it('refuses adoptUnsignedTail without a signing key, and adopts nothing when nothing is unsigned', async () => {
    expect(await rejection(Ledger.open({ path, adoptUnsignedTail: true }))).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/adoptUnsignedTail needs a signingKey/),
    })
    expect((await rejection(Ledger.open({ path, signingKey: keys.privateKey, adoptUnsignedTail: 'yes' as never }))).code).toBe('ERR_INVALID_ARGUMENT')
    await write(2, { signingKey: keys.privateKey })
    const before = await readFile(path)
    const ledger = await Ledger.open({ path, signingKey: keys.privateKey, adoptUnsignedTail: true })
    expect(ledger.adopted).toBeUndefined()
    expect((await readFile(path)).equals(before)).toBe(true)
    await ledger.close()
  })
})

describe('an Airlock takes adoptUnsignedTail through its ledger option', () => {
  it('sends nothing over an unsigned tail, and adopts it when asked', async () => {
    // What a writer killed before close() leaves: its entry, on disk, never signed.
    const elsewhere = join(dir, 'elsewhere.ndjson')
    const writer = await Ledger.open({ path: elsewhere, signingKey: keys.privateKey })
    await writer.append(sample(0))
    await writeFile(path, await readFile(elsewhere))
    await writer.close()

    const refusedPlane = new MemoryControlPlane()
    const refusing = new AirlockBoundary({ keys: KeyRing.generate(), controlPlane: refusedPlane, ledger: { path, signingKey: keys.privateKey } })
    await expect(refusing.emit({ kind: 'flow-run-state', runId: 'r1', flowName: 'etl', state: 'Running' })).rejects.toMatchObject({
      code: 'ERR_LEDGER_UNSIGNED_TAIL',
    })
    expect(refusedPlane.events).toHaveLength(0)
    expect(refusing.stats().ledgerFailures).toBe(1)
    await expect(refusing.close()).rejects.toMatchObject({ code: 'ERR_LEDGER_UNSIGNED_TAIL', seq: 1 })

    const plane = new MemoryControlPlane()
    const adopting = new AirlockBoundary({ keys: KeyRing.generate(), controlPlane: plane, ledger: { path, signingKey: keys.privateKey, adoptUnsignedTail: true } })
    await adopting.emit({ kind: 'flow-run-state', runId: 'r1', flowName: 'etl', state: 'Running' })
    await adopting.close()
    expect(plane.events).toHaveLength(1)
    expect(intact(await verifyLedger(path, { publicKey: keys.publicKey })).adopted).toEqual([{ from: 1, to: 1, bySeq: 2 }])
  })
})
