// Writes test/vectors/core-formats.json: the core wire formats of version 1
// (location and value tokens, fingerprints, payload frames and chunks,
// serializer headers, ledger entries and checkpoints, the delivery cursor),
// made once with fixed test keys and frozen. Encryption is randomised, so the
// vectors are read back, never re-made: run this only to add the vectors of
// a new format version (and keep the old ones).
//   npx tsx test/vectors/generate-core-formats.ts
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateLedgerSigningKey } from '../../src/audit/ledger-signing-key.js'
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import { DeliveryCursor } from '../../src/boundary/delivery-cursor.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { PayloadCipher } from '../../src/crypto/payload-cipher.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { JSONSerializer } from '../../src/results/json-serializer.js'
import { PayloadFrame } from '../../src/results/payload-frame.js'
import { patternBytes } from './pattern-bytes.js'

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
const dir = await mkdtemp(join(tmpdir(), 'airlock-vectors-'))
const keys = KeyRing.generate()
keys.rotate() // two keys: the vectors are under the active one, and a retired one must not matter

const locations = new LocationCipher(keys)
const values = new ValueCipher(keys)
const payloads = new PayloadCipher(keys)
const context = new TextEncoder().encode('airlock-vectors/v1\n')
// Two full 64 KiB chunks and a short last one.
const longPlain = patternBytes(2 * 64 * 1024 + 1000)
const shortPlain = new TextEncoder().encode('{"rows":42}')

const { privateKey, publicKey } = await generateLedgerSigningKey()
const ledgerPath = join(dir, 'ledger.ndjson')
const airlock = new AirlockBoundary({
  keys,
  controlPlane: new MemoryControlPlane(),
  ledger: { path: ledgerPath, signingKey: privateKey, checkpointEvery: 3 },
  policy: definePolicy({ preset: 'balanced' }, { env: {} }),
})
await airlock.emit({ kind: 'flow-run-state', runId: 'run-1', flowName: 'etl', state: 'Running' })
await airlock.emit({ kind: 'parameters', runId: 'run-1', flowName: 'etl', parameters: { email: 'ada@example.com', rows: 3 } })
await airlock.emit({ kind: 'log', runId: 'run-1', level: 'warn', msg: 'loaded rows for ada@example.com', fields: { rows: 3 } })
await airlock.emit({ kind: 'task-run-state', runId: 'run-1', taskName: 'load', taskRunId: 't-1', state: 'Failed', error: new Error('db at 10.0.0.7 refused') })
await airlock.emit({ kind: 'flow-run-state', runId: 'run-1', flowName: 'etl', state: 'Failed' })
await airlock.close()

const cursorPath = join(dir, 'ledger.ndjson.cursor')
const initial = { delivered: 0, offset: 0, hash: '0'.repeat(64), inflight: null }
const { cursor } = await DeliveryCursor.open(cursorPath, initial)
const position = { delivered: 2, offset: 1234, hash: 'ab'.repeat(32), inflight: { from: 3, to: 5, key: 'batch-3-5' } }
await cursor.write({ ...position, inflight: null })
await cursor.write(position)
await cursor.close()

const vectors = {
  description: 'airlock core wire formats, version 1 (README, Tokens and payloads). Test keys: never use them for anything else.',
  keySet: keys.export(),
  locationTokens: [
    { plain: 'etl/load/42.json', binding: { taskName: 'load' }, token: await locations.encrypt('etl/load/42.json', { taskName: 'load' }) },
    { plain: 'results/ünïcødé päth.json', token: await locations.encrypt('results/ünïcødé päth.json') },
  ],
  valueTokens: [{ plain: '{"card":"4111 1111 1111 1111"}', token: await values.encrypt('{"card":"4111 1111 1111 1111"}') }],
  fingerprints: [
    { input: 'ada@example.com', fingerprint: new Fingerprinter(keys).fingerprint('ada@example.com') },
    { input: '', fingerprint: new Fingerprinter(keys).fingerprint('') },
  ],
  payloads: [
    { plain: b64(shortPlain), sealed: b64(await payloads.seal(shortPlain)) },
    { plain: b64(shortPlain), context: b64(context), sealed: b64(await payloads.seal(shortPlain, context)) },
    { plainPattern: longPlain.length, sealed: b64(await payloads.seal(longPlain)) },
  ],
  frames: [{ format: 'csv', body: b64(new TextEncoder().encode('a,b\n1,2\n')), framed: b64(new PayloadFrame('csv').wrap(new TextEncoder().encode('a,b\n1,2\n'))) }],
  serializers: { json: { value: { rows: 42, name: 'load' }, bytes: b64(new JSONSerializer().serialize({ rows: 42, name: 'load' })) } },
  ledger: { publicKey, ndjson: await readFile(ledgerPath, 'utf8') },
  deliveryCursor: { position, file: b64(await readFile(cursorPath)) },
}
await writeFile(new URL('./core-formats.json', import.meta.url), JSON.stringify(vectors, null, 2) + '\n')
await rm(dir, { recursive: true, force: true })
process.stdout.write('wrote test/vectors/core-formats.json\n')
