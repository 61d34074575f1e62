/**
 * `airlock-sdk/testing`: the canary kit for your own test suites. Plant
 * format-valid fake secrets of every kind the SDK detects, run your flow,
 * then assert that none reached the control plane or the ledger.
 *
 * Nothing here imports a test framework: it works under vitest, jest and
 * node:test, because a failed check is a thrown error.
 *
 * @example
 * ```ts
 * import { generateCanaries, expectNoLeaks } from 'airlock-sdk/testing'
 *
 * const canaries = generateCanaries()   // high-entropy ones registered with every Airlock, as a SecretProvider's secrets are
 * await etl.run({ note: canaries.map((c) => c.value).join(' ') })
 * await airlock.close()
 * expectNoLeaks(controlPlane, canaries)
 * await expectNoLeaks('audit/ledger.ndjson', canaries)
 * ```
 */
export { generateCanaries, type Canary, type CanaryKind, type GenerateCanariesOptions } from './generate-canaries.js'
export { expectNoLeaks, type LeakSource } from './expect-no-leaks.js'
export { CanaryLeakError, type CanaryLeak } from '../errors.js'
