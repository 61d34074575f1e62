/**
 * The process the crash test kills: it opens an Airlock boundary on the
 * ledger given, with an HttpControlPlane to the test's server, and emits
 * task states in small concurrent groups, forever, printing `emitted N`
 * each time a group is durable (its emits resolved). The test SIGKILLs it
 * at a random point; nothing here expects to finish.
 *
 * argv: <ledger path> <control plane url> <token>
 */
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import { HttpControlPlane } from '../../src/boundary/http-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'

const [ledgerPath, url, token] = process.argv.slice(2)
if (ledgerPath === undefined || url === undefined || token === undefined) throw new Error('usage: <ledger> <url> <token>')

const airlock = new AirlockBoundary({
  keys: KeyRing.generate(),
  controlPlane: new HttpControlPlane({ url, token, retry: { baseMs: 5, maxMs: 50 }, maxBatch: 7 }),
  ledger: { path: ledgerPath },
  policy: definePolicy({}, { env: {} }),
})

let emitted = 0
for (let group = 0; ; group++) {
  const size = 1 + (group % 5)
  await Promise.all(
    Array.from({ length: size }, (_, i) =>
      airlock.emit({ kind: 'task-run-state', runId: `pid-${process.pid}`, taskName: 'crash', taskRunId: `t-${group}-${i}`, state: 'Running' }),
    ),
  )
  emitted += size
  process.stdout.write(`emitted ${emitted}\n`)
  if (group % 7 === 6) await airlock.flush()
}
