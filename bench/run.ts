// Runs every bench in this folder, one child process each, so one bench's
// heap and JIT state never skew another's numbers. Each bench measures its
// baseline in the same run and prints ratios against it.
//
//   npm run bench                 every bench
//   npm run bench -- scrubber     only bench/scrubber.ts
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2)
const benches = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.slice(0, -3))
  .filter((name) => wanted.length === 0 || wanted.includes(name))

if (benches.length === 0) {
  console.error(`no bench named ${wanted.join(', ')}; available: ${readdirSync(here).filter((f) => f !== 'run.ts').join(', ')}`)
  process.exit(2)
}

let failed = 0
for (const name of benches) {
  console.log(`\n=== bench/${name}.ts`)
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`)], { stdio: 'inherit' })
  if (child.status !== 0) failed++
}
process.exitCode = failed === 0 ? 0 : 1
