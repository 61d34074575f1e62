// What the service and its clients share: the team's key set and one policy.
// Each process keeps its own ledger.
import { join } from 'node:path'
import { Airlock, FileControlPlane, KeyRing, LocalResult, definePolicy } from '../../src/index.js'

export const home = process.env.AIRLOCK_EXAMPLE_DIR ?? join('.airlock', 'restate-example')

export function exampleAirlock(role: 'service' | 'client'): Airlock {
  return new Airlock({
    keys: KeyRing.fromFile(process.env.AIRLOCK_KEYS_FILE ?? join(home, 'keys.json')),
    policy: definePolicy({ preset: 'balanced', exceptions: { mode: 'scrubbed' }, payloads: { offloadAbove: 64 * 1024 } }),
    controlPlane: new FileControlPlane({ path: join(home, `${role}-control-plane.ndjson`) }),
    ledger: { path: join(home, 'ledgers', `${role}-${process.pid}.ndjson`) },
  })
}

/** Where journal values over 64 KiB go: sealed, at a random location; the journal keeps an encrypted token. */
export function offloadResult(): LocalResult {
  return new LocalResult({ dir: join(home, 'offload'), location: '{engine}/{today}/{randomId}.alkc' })
}
