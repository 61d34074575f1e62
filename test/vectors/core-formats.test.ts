// The frozen vectors of the core wire formats, version 1: what this version
// wrote must read back, byte for byte, in every later version. The ledger
// vectors are the v1 entry and checkpoint format as first shipped.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LedgerKeyInput } from '../../src/audit/ledger-signing-key.js'
import { verifyLedger } from '../../src/audit/verify-ledger.js'
import { DeliveryCursor } from '../../src/boundary/delivery-cursor.js'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { PayloadCipher } from '../../src/crypto/payload-cipher.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'
import { JSONSerializer } from '../../src/results/json-serializer.js'
import { PayloadFrame } from '../../src/results/payload-frame.js'
import { patternBytes } from './pattern-bytes.js'

interface Vectors {
  keySet: unknown
  locationTokens: { plain: string; binding?: Record<string, string>; token: string }[]
  valueTokens: { plain: string; token: string }[]
  fingerprints: { input: string; fingerprint: string }[]
  payloads: { plain?: string; plainPattern?: number; context?: string; sealed: string }[]
  frames: { format: string; body: string; framed: string }[]
  serializers: { json: { value: unknown; bytes: string } }
  ledger: { publicKey: LedgerKeyInput; ndjson: string }
  deliveryCursor: { position: unknown; file: string }
}

const vectors = JSON.parse(await readFile(new URL('./core-formats.json', import.meta.url), 'utf8')) as Vectors
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'))
const keys = KeyRing.fromJSON(vectors.keySet)
const jose = (token: string, prefix: string) => JSON.parse(Buffer.from(token.slice(prefix.length).split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-core-vectors-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('core wire format v1 vectors', () => {
  it.each(vectors.locationTokens)('a location token ($plain) is alk1. + a dir/A256GCM JWE naming its kid, and opens with its binding only', async ({ plain, binding, token }) => {
    expect(token).toMatch(/^alk1\.[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(jose(token, 'alk1.')).toMatchObject({ alg: 'dir', enc: 'A256GCM', kid: keys.list().find((k) => k.status === 'active')!.kid })
    const cipher = new LocationCipher(keys)
    expect(await cipher.decrypt(token, binding)).toBe(plain)
    if (binding !== undefined) await expect(cipher.decrypt(token, { taskName: 'other' })).rejects.toHaveProperty('code')
  })

  it.each(vectors.valueTokens)('a value token is alkv1. + JWE, and opens to its plaintext', async ({ plain, token }) => {
    expect(jose(token, 'alkv1.')).toMatchObject({ alg: 'dir', enc: 'A256GCM' })
    expect(await new ValueCipher(keys).decrypt(token)).toBe(plain)
    // Tokens of one kind never open as the other.
    await expect(new LocationCipher(keys).decrypt(token)).rejects.toHaveProperty('code')
  })

  it.each(vectors.fingerprints)('a fingerprint of "$input" is recomputed exactly', ({ input, fingerprint }) => {
    expect(fingerprint).toMatch(/^fp1\.\d{8}-[0-9a-f]{8}\.[\w-]{43}$/)
    expect(new Fingerprinter(keys).fingerprint(input)).toBe(fingerprint)
  })

  it.each(vectors.payloads.map((p, i) => ({ ...p, i })))('payload $i: ALKC, version 1, its kid, and it opens to its plaintext', async ({ plain, plainPattern, context, sealed }) => {
    const frame = bytes(sealed)
    expect(Buffer.from(frame.subarray(0, 4)).toString('latin1')).toBe('ALKC')
    expect(frame[4]).toBe(1)
    expect(keys.has(Buffer.from(frame.subarray(6, 6 + frame[5]!)).toString('latin1'))).toBe(true)
    const expected = plain !== undefined ? bytes(plain) : patternBytes(plainPattern!)
    const cipher = new PayloadCipher(keys)
    const opened = context === undefined ? await cipher.open(frame) : await cipher.open(frame, bytes(context))
    expect(Buffer.from(opened).equals(Buffer.from(expected))).toBe(true)
    if (context !== undefined) await expect(cipher.open(frame)).rejects.toHaveProperty('code')
    const tampered = Uint8Array.from(frame)
    tampered[tampered.length - 1]! ^= 1
    await expect(cipher.open(tampered, context === undefined ? undefined : bytes(context))).rejects.toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
  })

  it.each(vectors.frames)('a $format serializer frame (ALKS header) is written and read byte for byte', ({ format, body, framed }) => {
    const frame = new PayloadFrame(format)
    expect(Buffer.from(frame.wrap(bytes(body))).equals(Buffer.from(bytes(framed)))).toBe(true)
    expect(Buffer.from(frame.unwrap(bytes(framed))).equals(Buffer.from(bytes(body)))).toBe(true)
  })

  it('JSONSerializer reads the bytes version 1 wrote', () => {
    expect(new JSONSerializer().deserialize(bytes(vectors.serializers.json.bytes))).toEqual(vectors.serializers.json.value)
  })

  it('a v1 ledger (entries and signed checkpoints) verifies with its public key, and any changed byte is found', async () => {
    const path = join(dir, 'ledger.ndjson')
    await writeFile(path, vectors.ledger.ndjson)
    const lines = vectors.ledger.ndjson.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; v: number; seq: number })
    expect(lines.map((l) => l.kind)).toEqual(['event', 'event', 'event', 'checkpoint', 'event', 'event', 'checkpoint'])
    expect(lines.every((l, i) => l.v === 1 && l.seq === i + 1)).toBe(true)
    const verified = await verifyLedger(path, { publicKey: vectors.ledger.publicKey })
    expect(verified.ok).toBe(true)
    await writeFile(path, vectors.ledger.ndjson.replace('"Running"', '"Runninh"'))
    expect((await verifyLedger(path, { publicKey: vectors.ledger.publicKey })).ok).toBe(false)
  })

  it('a v1 delivery cursor file reads back its last position', async () => {
    const path = join(dir, 'ledger.ndjson.cursor')
    await writeFile(path, bytes(vectors.deliveryCursor.file))
    const { cursor, created } = await DeliveryCursor.open(path, { delivered: 0, offset: 0, hash: '0'.repeat(64), inflight: null })
    expect(created).toBe(false)
    expect(cursor.position).toEqual(vectors.deliveryCursor.position)
    await cursor.close()
  })
})
