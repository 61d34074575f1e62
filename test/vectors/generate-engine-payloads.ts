// Writes test/vectors/engine-payloads.json: the engine payload formats of
// version 1, made once with a fixed test key set and frozen. Sealing is
// randomised, so the vectors are read back, never re-made: run this only to
// add the vectors of a new format version (and keep the old ones).
//   npx tsx test/vectors/generate-engine-payloads.ts
import { defaultPayloadConverter } from '@temporalio/common'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { AirlockJournalCodec } from '../../src/adapters/restate/airlock-journal-codec.js'
import { AirlockPayloadCodec } from '../../src/adapters/temporal/airlock-payload-codec.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { LocalResult } from '../../src/results/local-result.js'
import { Airlock } from '../../src/runtime/airlock.js'

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
const dir = await mkdtemp(join(tmpdir(), 'airlock-vectors-'))
const keys = KeyRing.generate()
const airlock = new Airlock({ keys, controlPlane: new MemoryControlPlane(), ledger: { path: join(dir, 'ledger.ndjson') }, policy: definePolicy({ payloads: { offloadAbove: 128 } }, { env: {} }) })
const offloadDir = join(dir, 'offload')
const offload = new LocalResult({ dir: offloadDir, location: '{engine}/{randomId}.alkc' })

const temporalCodec = new AirlockPayloadCodec({ airlock, offload })
const small = defaultPayloadConverter.toPayload({ order: 42, note: 'sealed in history' })
const large = defaultPayloadConverter.toPayload({ order: 43, note: 'offloaded to a Result', pad: 'x'.repeat(200) })
const [sealed, offloaded] = await temporalCodec.encode([small, large])
const temporalFile = (await readdir(join(offloadDir, 'temporal')))[0]!

const journal = await AirlockJournalCodec.create({ airlock, offload })
const journalPlain = new TextEncoder().encode('{"journal":"value"}')
const journalFrame = journal.encode(journalPlain)
await airlock.close()

const payload = (p: typeof small) => ({ metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, b64(v)])), data: b64(p.data!) })
const vectors = {
  description: 'airlock engine payload formats, version 1 (README, Tokens and payloads). A test key set: never use it for anything else.',
  keySet: keys.export(),
  temporal: {
    sealed: { encoded: payload(sealed!), decoded: payload(small) },
    offloaded: {
      encoded: payload(offloaded!),
      decoded: payload(large),
      stored: { location: relative(offloadDir, join(offloadDir, 'temporal', temporalFile)), bytes: b64(await readFile(join(offloadDir, 'temporal', temporalFile))) },
    },
  },
  restate: { journal: { binding: 'restate:journal', encoded: b64(journalFrame), decoded: b64(journalPlain) } },
}
await writeFile(new URL('./engine-payloads.json', import.meta.url), JSON.stringify(vectors, null, 2) + '\n')
await rm(dir, { recursive: true, force: true })
process.stdout.write('wrote test/vectors/engine-payloads.json\n')
