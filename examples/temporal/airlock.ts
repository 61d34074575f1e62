// What every process of the example shares: the team's key set, one policy,
// and where large payloads go. Each worker process keeps a ledger of its own,
// named by its identity, so a fleet is audited with
//   airlock audit verify .airlock/temporal-example/ledgers
import { hostname } from 'node:os'
import { join } from 'node:path'
import { Airlock, FileControlPlane, KeyRing, LocalResult, definePolicy } from '../../src/index.js'

export const home = process.env.AIRLOCK_EXAMPLE_DIR ?? join('.airlock', 'temporal-example')

/** The key set: `airlock keys generate --out .airlock/temporal-example/keys.json` once, shared by workers, clients and the codec server. */
export function teamKeys(): KeyRing {
  return KeyRing.fromFile(process.env.AIRLOCK_KEYS_FILE ?? join(home, 'keys.json'))
}

/** Where payloads over 64 KiB go: sealed, at a random location; history keeps an encrypted token. */
export function offloadResult(): LocalResult {
  return new LocalResult({ dir: join(home, 'offload'), location: '{engine}/{today}/{randomId}.alkc' })
}

export function exampleAirlock(identity = `${process.pid}@${hostname()}`): Airlock {
  return new Airlock({
    keys: teamKeys(),
    policy: definePolicy({
      preset: 'balanced',
      exceptions: { mode: 'scrubbed' },
      // Payload names are temporal:<encoding>; null results carry nothing, so they may pass clear.
      payloads: { offloadAbove: 64 * 1024, rules: { 'temporal:binary/null': 'clear' } },
    }),
    // Temporal is the control plane here; airlock's own events (none in this example) would go to this file.
    controlPlane: new FileControlPlane({ path: join(home, 'control-plane', `${identity.replace(/[^A-Za-z0-9_.@-]/g, '_')}.ndjson`) }),
    ledger: { path: join(home, 'ledgers', `${identity.replace(/[^A-Za-z0-9_.@-]/g, '_')}.ndjson`) },
  })
}
