import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Issue 14, item 5: the README's canary recipe compiles and passes as written, under the default policy.
const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const MARKER = '<!-- readme-test: canary-recipe -->'
let dir: string
let file: string

beforeAll(async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const at = readme.indexOf(MARKER)
  expect(at, 'the README marks its canary recipe').toBeGreaterThan(0)
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))?.[1]
  expect(block).toBeDefined()
  // The package's own names, pointed at the sources: nothing else of the snippet changes.
  const source = block!
    .replaceAll("from 'airlock-sdk/testing'", `from ${JSON.stringify(join(root, 'src/testing/index.ts'))}`)
    .replaceAll("from 'airlock-sdk'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`)
  dir = await mkdtemp(join(tmpdir(), 'airlock-readme-'))
  file = join(dir, 'canary-recipe.mts')
  await writeFile(file, source)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the README canary recipe', () => {
  it('type-checks in strict mode', { timeout: 120_000 }, async () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc')
    const args = [tsc, '--noEmit', '--strict', '--target', 'ES2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck',
      '--allowImportingTsExtensions', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types'), file]
    const result = await run(process.execPath, args, { cwd: root, timeout: 110_000 }).catch((err: { stdout?: string; code?: number }) => err)
    expect((result).stdout ?? '').toBe('')
  })

  it('runs under the default policy, and expectNoLeaks finds nothing', { timeout: 60_000 }, async () => {
    // A clean environment: the recipe must pass under the defaults, not under this machine's AIRLOCK_* settings.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AIRLOCK_')))
    // tsx by its file URL: the recipe runs in a temp dir, which has no node_modules.
    const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href
    const { stderr } = await run(process.execPath, ['--import', tsx, file], { cwd: dir, env: { ...env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') }, timeout: 50_000 })
    expect(stderr).not.toContain('ERR_CANARY_LEAKED')
    const ledger = await readFile(join(dir, 'audit/test-ledger.ndjson'), 'utf8')
    expect(ledger).toContain('"kind":"parameters"')
  })
})
