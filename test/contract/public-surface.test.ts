// The root export is DESIGN's public surface and the types it is spelled in;
// the rest of the SDK lives in subpaths, one per part. This pins both lists:
// a name added to or dropped from the root, or a subpath losing a name it
// had, fails here first.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import * as root from '../../src/index.js'
import * as audit from '../../src/audit/index.js'
import * as boundary from '../../src/boundary/index.js'
import * as crypto from '../../src/crypto/index.js'
import * as logging from '../../src/logging/index.js'
import * as policy from '../../src/policy/index.js'
import * as results from '../../src/results/index.js'
import * as runtime from '../../src/runtime/index.js'
import * as scrub from '../../src/scrub/index.js'
import * as errors from '../../src/errors.js'

const DESIGN_NAMES = [
  'Airlock', 'MemoryControlPlane', 'FileControlPlane', 'HttpControlPlane',
  'KeyRing', 'definePolicy', 'loadPolicy',
  'Result', 'LocalResult', 'JSONResult', 'ConstantResult', 'SecretResult',
  'S3Result', 'GCSResult', 'AzureResult',
  'JSONSerializer', 'StructuredSerializer', 'CompressedSerializer',
  'Scrubber', 'scrubError', 'verifyLedger', 'cacheValidators', 'AirlockError',
]

const SUBPATHS = {
  audit: [
    'Ledger', 'verifyLedger', 'buildLedgerReport', 'formatReportText', 'mergeLedgerReports', 'formatFleetReportText',
    'formatReportHtml', 'scanLedger', 'LedgerLeakScanner', 'generateLedgerSigningKey',
    'LEDGER_CHANNEL', 'proveLedgerInclusion', 'proveLedgerConsistency', 'verifyLedgerProof', 'parseCheckpointNote', 'ledgerVerifierKey',
    'readLedgerWitness',
  ],
  boundary: ['AirlockBoundary', 'MemoryControlPlane', 'FileControlPlane', 'HttpControlPlane', 'RUN_STATES'],
  crypto: [
    'KeyRing', 'LocationCipher', 'ValueCipher', 'Fingerprinter', 'PayloadCipher', 'REDACTED',
    'Secret', 'SecretProvider', 'EnvSecretProvider', 'FileSecretProvider', 'MemorySecretProvider', 'RESOLVED_SECRETS_WARNING',
  ],
  logging: [
    'createLogger', 'SHIP_FAILED_WARNING', 'closeLogger', 'flushLogger', 'localOutputStats', 'SCRUB_THREAD_FAILED_WARNING',
    'wrapPinoLogger', 'createShippingDestination',
  ],
  policy: [
    'definePolicy', 'loadPolicy', 'presets', 'PRESET_NAMES', 'policyHash', 'policyJsonSchema', 'POLICY_ENV_VARS', 'readPolicyEnv',
    'matchParameterRule', 'matchPayloadRule', 'DETECTOR_IDS', 'DETECTOR_PACKS', 'DEFAULT_SENSITIVE_KEYS', 'PACK_IDS', 'packOf',
  ],
  results: [
    'Result', 'LocalResult', 'JSONResult', 'ConstantResult', 'SecretResult', 'S3Result', 'GCSResult', 'AzureResult',
    'LocationTemplate', 'JSONSerializer', 'StructuredSerializer', 'CompressedSerializer', 'DateTimeSerializer', 'PayloadFrame',
  ],
  runtime: [
    'Airlock', 'RUNTIME_WARNING_CODE', 'currentTask', 'cacheValidators', 'NEVER_USE', 'MemoryCacheStore', 'ResultCacheStore',
  ],
  scrub: ['Scrubber', 'SECRET_TOO_SHORT_WARNING', 'scrubError', 'DETECTORS'],
}

const MODULES = { audit, boundary, crypto, logging, policy, results, runtime, scrub }

describe('the root export', () => {
  it('is exactly DESIGN\'s names and the typed errors', () => {
    const errorNames = Object.keys(errors)
    expect(Object.keys(root).sort()).toEqual([...new Set([...DESIGN_NAMES, ...errorNames])].sort())
  })

  it('exports no internal constant, zod schema or RE2 compiler', () => {
    for (const name of [
      'LOCATION_TOKEN_PREFIX', 'VALUE_TOKEN_PREFIX', 'FINGERPRINT_PREFIX', 'PAYLOAD_MAGIC', 'PAYLOAD_FORMAT_VERSION', 'PAYLOAD_CHUNK_SIZE',
      'WITHHELD_MARKER', 'REGISTERED_SECRET_RULE', 'SENSITIVE_KEY_RULE', 'ADOPTED_LIST_LIMIT', 'SCAN_FINDING_LIMIT', 'HTML_REPORT_CSP',
      'policySchema', 'policyInputSchema', 'outboundEventSchema', 'compileCustomPattern',
    ]) {
      expect(root, name).not.toHaveProperty(name)
      for (const [subpath, mod] of Object.entries(MODULES)) expect(mod, `${subpath}: ${name}`).not.toHaveProperty(name)
    }
  })
})

describe.each(Object.entries(SUBPATHS))('airlock-sdk/%s', (subpath, names) => {
  it('exports exactly its names', () => {
    expect(Object.keys(MODULES[subpath as keyof typeof MODULES]).sort()).toEqual([...names].sort())
  })

  it('is a package export with types, import and a require entry', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> }
    expect(manifest.exports[`./${subpath}`]).toEqual({
      types: `./dist/${subpath}/index.d.ts`,
      import: `./dist/${subpath}/index.js`,
      require: `./dist/${subpath}/index.cjs`,
    })
  })
})
