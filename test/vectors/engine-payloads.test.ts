// The frozen vectors of the engine payload formats, version 1: what this
// version wrote must open, byte for byte, in every later version.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AirlockJournalCodec } from '../../src/adapters/restate/airlock-journal-codec.js'
import { AirlockPayloadCodec } from '../../src/adapters/temporal/airlock-payload-codec.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { LocalResult } from '../../src/results/local-result.js'
import { EngineFixture } from '../support/engine-fixture.js'

interface JsonPayload {
  metadata: Record<string, string>
  data: string
}
interface Vectors {
  keySet: unknown
  temporal: { sealed: { encoded: JsonPayload; decoded: JsonPayload }; offloaded: { encoded: JsonPayload; decoded: JsonPayload; stored: { location: string; bytes: string } } }
  restate: { journal: { binding: string; encoded: string; decoded: string } }
}

const vectors = JSON.parse(await readFile(new URL('./engine-payloads.json', import.meta.url), 'utf8')) as Vectors
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'))
const payload = (p: JsonPayload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, bytes(v)])), data: bytes(p.data) })
const text = (b64: string) => Buffer.from(b64, 'base64').toString('utf8')

let fixture: EngineFixture
beforeEach(async () => {
  fixture = await EngineFixture.create('vectors')
})
afterEach(async () => {
  await fixture.close()
})

describe('engine payload format v1 vectors', () => {
  const keys = () => KeyRing.fromJSON(vectors.keySet)

  it('a sealed Temporal payload: its metadata names the format and kid, its data is ALKC v1 under that kid, and it opens to the payload', async () => {
    const { encoded, decoded } = vectors.temporal.sealed
    expect(text(encoded.metadata.encoding!)).toBe('binary/airlock')
    expect(text(encoded.metadata['airlock-format']!)).toBe('alkc1')
    const kid = text(encoded.metadata['airlock-kid']!)
    const data = bytes(encoded.data)
    expect(Buffer.from(data.subarray(0, 4)).toString('latin1')).toBe('ALKC')
    expect(data[4]).toBe(1)
    expect(Buffer.from(data.subarray(6, 6 + data[5]!)).toString('latin1')).toBe(kid)
    const { airlock } = fixture.airlock({}, keys())
    const [opened] = await new AirlockPayloadCodec({ airlock }).decode([payload(encoded)])
    expect(opened!.metadata).toEqual(payload(decoded).metadata)
    expect(Buffer.from(opened!.data!).equals(Buffer.from(payload(decoded).data))).toBe(true)
  })

  it('an offloaded Temporal payload: ALKO, version 1, an alk1. token; the stored object opens at its location only', async () => {
    const { encoded, decoded, stored } = vectors.temporal.offloaded
    expect(text(encoded.metadata['airlock-format']!)).toBe('alko1')
    const data = bytes(encoded.data)
    expect(Buffer.from(data.subarray(0, 5)).toString('latin1')).toBe('ALKO\u0001')
    expect(Buffer.from(data.subarray(5)).toString('utf8')).toMatch(/^alk1\./)
    const dir = join(fixture.dir, 'offload')
    await mkdir(dirname(join(dir, stored.location)), { recursive: true })
    await writeFile(join(dir, stored.location), bytes(stored.bytes))
    const { airlock } = fixture.airlock({}, keys())
    const codec = new AirlockPayloadCodec({ airlock, offload: new LocalResult({ dir, location: '{engine}/{randomId}.alkc' }) })
    const [opened] = await codec.decode([payload(encoded)])
    expect(Buffer.from(opened!.data!).equals(Buffer.from(payload(decoded).data))).toBe(true)
    // The same object copied to another location, with a valid token for that location, does not open: it is sealed for its own.
    await writeFile(join(dir, 'temporal', 'elsewhere.alkc'), bytes(stored.bytes))
    const token = await new LocationCipher(keys()).encrypt('temporal/elsewhere.alkc', { use: 'engine-offload', binding: 'temporal' })
    const moved = { ...payload(encoded), data: new Uint8Array(Buffer.concat([Buffer.from('ALKO\u0001', 'latin1'), Buffer.from(token)])) }
    await expect(codec.decode([moved])).rejects.toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
  })

  it('a Restate journal value: ALKC v1 sealed for restate:journal, opening to the value, and as nothing else', async () => {
    const { encoded, decoded } = vectors.restate.journal
    const { airlock } = fixture.airlock({}, keys())
    const codec = await AirlockJournalCodec.create({ airlock })
    expect(Buffer.from(await codec.decode(bytes(encoded))).toString('utf8')).toBe(text(decoded))
    // Bound to its binding: a Temporal codec does not open it as a Temporal payload.
    const asTemporal = { metadata: { encoding: bytes(vectors.temporal.sealed.encoded.metadata.encoding!), 'airlock-format': bytes(vectors.temporal.sealed.encoded.metadata['airlock-format']!) }, data: bytes(encoded) }
    await expect(new AirlockPayloadCodec({ airlock }).decode([asTemporal])).rejects.toMatchObject({ code: 'ERR_PAYLOAD_TAMPERED' })
  })
})
