/**
 * Inputs built to make a scanner backtrack or rescan: the scrubber and a
 * custom RE2 pattern must stay linear on them. Each hostile input is timed
 * against a benign input of the same length in the same run (the median of a
 * few passes each), and the ratio is the target: linear work costs a small
 * multiple of the benign scan, a backtracking one thousands of times more.
 * These bounds moved here from the unit tests, which check only what the
 * scrubber returns. A missed target makes the bench exit 1.
 *
 * @example
 * ```sh
 * npx tsx bench/hostile-input.ts
 * ```
 */
import { definePolicy } from '../src/policy/define-policy.js'
import { compileCustomPattern } from '../src/policy/custom-pattern.js'
import { presets } from '../src/policy/presets.js'
import { Scrubber } from '../src/scrub/scrubber.js'

const PASSES = 5
const GOAL = 25

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

function timed(run: () => unknown): number {
  const times: number[] = []
  for (let i = 0; i < PASSES; i++) {
    const started = performance.now()
    run()
    times.push(performance.now() - started)
  }
  return median(times)
}

let missed = 0
function target(name: string, hostile: () => unknown, benign: () => unknown): void {
  const ratio = timed(hostile) / Math.max(timed(benign), 0.01)
  const met = ratio <= GOAL
  if (!met) missed++
  console.log(`target ${name}: ${ratio.toFixed(1)}x the benign input (goal <= ${GOAL}x): ${met ? 'met' : 'NOT met'}`)
}

const noEnv = { env: {} }
const balanced = new Scrubber({ policy: { ...presets.balanced.scrub, maxStringLength: 8_000_000 } })
const hostile: [string, string][] = [
  // secret-assignment once read a 1024-character value at every `a=` after a sensitive word.
  ['secret-assignment', `password a=${'a='.repeat(1 << 21)}`],
  // email once looked back to the start of the string for a dot at every '@'.
  ['email look-back', '://a@'.repeat(1 << 18)],
  // iban once read 34 characters and ran up to five checksums at every group.
  ['iban groups', 'AB12 '.repeat(1 << 18)],
]
for (const [name, text] of hostile) {
  const plain = 'lorem ipsum '.repeat(Math.ceil(text.length / 12)).slice(0, text.length)
  target(`scrubber ${name}`, () => balanced.scrubString(text), () => balanced.scrubString(plain))
}

const nested = new Scrubber({ policy: { ...definePolicy({ scrub: { patterns: [{ id: 'nested', pattern: '(a+)+$' }], maxStringLength: 4_000_000 } }, noEnv).scrub } })
const aaa = `${'a'.repeat(1 << 20)}!`
const bbb = `${'b'.repeat(1 << 20)}!`
target('scrubber pattern (a+)+$ over 1 MB', () => nested.scrubString(aaa), () => nested.scrubString(bbb))

const redos = compileCustomPattern(definePolicy({ scrub: { patterns: [{ id: 'redos', pattern: '(a+)+$' }] } }, noEnv).scrub.patterns[0]!)
const input = `${'a'.repeat(1e6)}b`
const benign = 'a'.repeat(1e6) // the same scan, ending in a match
target('custom pattern (a+)+$ over 1 MB', () => redos.matcher(input).find(), () => redos.matcher(benign).find())

process.exitCode = missed === 0 ? 0 : 1
