/**
 * The outbox crash test, harder: `test/boundary/outbox-crash.test.ts` kills a
 * writer with SIGKILL at random points and checks, against a real local HTTP
 * server, that every ledgered event arrived once, in ledger order, and that
 * the server holds nothing the ledger lacks (issue 15). CI runs 50 kills; this
 * runs `AIRLOCK_CRASH_ROUNDS` of them (default 500) through the same test, so
 * the stress and the suite can never check different things.
 *
 * Not a speed bench: its one target is that no round lost or reordered an
 * event. It prints the time per kill for whoever tunes the child.
 *
 * @example
 * ```sh
 * npx tsx bench/outbox-crash.ts
 * AIRLOCK_CRASH_ROUNDS=2000 npx tsx bench/outbox-crash.ts
 * ```
 */
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROUNDS = Number(process.env.AIRLOCK_CRASH_ROUNDS ?? 500)
if (!Number.isSafeInteger(ROUNDS) || ROUNDS < 1) {
  console.error(`AIRLOCK_CRASH_ROUNDS must be a positive integer; found ${process.env.AIRLOCK_CRASH_ROUNDS}`)
  process.exit(2)
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const started = process.hrtime.bigint()
const child = spawnSync(process.execPath, [vitest, 'run', 'test/boundary/outbox-crash.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, AIRLOCK_CRASH_ROUNDS: String(ROUNDS) },
})
const seconds = Number(process.hrtime.bigint() - started) / 1e9

console.log(`\n${ROUNDS} SIGKILL rounds (and ${Math.max(5, Math.floor(ROUNDS / 5))} with the server down) in ${seconds.toFixed(1)} s, ${((seconds * 1000) / ROUNDS).toFixed(0)} ms per round`)
const lost = child.status === 0 ? 0 : 1
console.log(`target crash runs that lost, reordered or invented an event: ${lost} (goal <= 0): ${lost === 0 ? 'met' : 'NOT met'}`)
process.exitCode = lost === 0 ? 0 : 1
