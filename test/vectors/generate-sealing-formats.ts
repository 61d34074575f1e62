// Writes test/vectors/sealing-formats.json: the wire formats of write-only
// workers (issue 17, part 1), made once with fixed test keys and frozen:
// a version 2 key set (private) and its worker set (public only), sealed
// location and value tokens (JWE ECDH-ES+A256KW on X25519), fingerprints
// under a sealing key, and version 2 payloads (the data key in a sealed box).
// Encryption is randomised, so the vectors are read back, never re-made: run
// this only to add the vectors of a new format version (and keep the old ones).
//   npx tsx test/vectors/generate-sealing-formats.ts
import { writeFile } from 'node:fs/promises'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { PayloadCipher } from '../../src/crypto/payload-cipher.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'
import { patternBytes } from './pattern-bytes.js'

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
// A ring as a team moves to write-only workers: a symmetric key, then two sealing pairs; the vectors are under the active one.
const auditor = KeyRing.generate()
const symmetricToken = await new ValueCipher(auditor).encrypt('{"era":"symmetric"}')
auditor.rotate({ kind: 'sealing' })
const olderSealed = await new ValueCipher(auditor.toPublic()).encrypt('{"era":"first sealing pair"}')
auditor.rotate()
const worker = auditor.toPublic()
const context = new TextEncoder().encode('airlock-vectors/v1\n')

const vectors = {
  description:
    'airlock write-only worker formats: key set version 2, sealed tokens (JWE ECDH-ES+A256KW / A256GCM on X25519), payload format version 2 (README, Write-only workers). Test keys: never use them for anything else.',
  keySet: auditor.export(),
  workerKeySet: worker.export(),
  locationTokens: [
    { plain: 'etl/load/42.json', binding: { flowName: 'etl', taskName: 'load' }, token: await new LocationCipher(worker).encrypt('etl/load/42.json', { flowName: 'etl', taskName: 'load' }) },
    { plain: 's3://bucket/results/ünïcødé päth.json', token: await new LocationCipher(worker).encrypt('s3://bucket/results/ünïcødé päth.json') },
  ],
  valueTokens: [
    { plain: '{"card":"4111 1111 1111 1111"}', token: await new ValueCipher(worker).encrypt('{"card":"4111 1111 1111 1111"}') },
    { plain: '{"era":"first sealing pair"}', token: olderSealed },
    { plain: '{"era":"symmetric"}', token: symmetricToken },
  ],
  fingerprints: ['ada@example.com', '4711'].map((input) => ({ input, fingerprint: new Fingerprinter(worker).fingerprint(input) })),
  payloads: [
    { plain: '{"rows":42}', sealed: b64(await new PayloadCipher(worker).seal(new TextEncoder().encode('{"rows":42}'))) },
    { plainPattern: 2 * 64 * 1024 + 1000, context: b64(context), sealed: b64(await new PayloadCipher(worker).seal(patternBytes(2 * 64 * 1024 + 1000), context)) },
    { plain: '', sealed: b64(await new PayloadCipher(worker).seal(new Uint8Array(0))) },
  ],
}
await writeFile(new URL('./sealing-formats.json', import.meta.url), JSON.stringify(vectors, null, 2) + '\n')
