// The package as a user gets it: `npm pack`, installed into a fresh ESM
// project with only the required dependencies (no cloud SDK, no engine), then
// compiled with skipLibCheck: false and run; and required from CommonJS.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '../..')
const OPTIONAL = /^@(aws-sdk|google-cloud|azure|temporalio|restatedev|opentelemetry)\//
// The SDK validates with zod and compiles custom patterns with re2js; neither is part of its types.
const IMPLEMENTATION = /^(zod|re2js)(\/|$)/

let dir: string
let app: string
let packed: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-packed-'))
  // prepack builds dist/ first.
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 })
  const tarball = join(dir, stdout.trim().split('\n').at(-1)!)
  app = join(dir, 'app')
  await mkdir(app)
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  const typesNode = JSON.parse(await readFile(join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `@types/node@${typesNode.version}`], { cwd: app })
  packed = join(app, 'node_modules/airlock-sdk')
}, 300_000)

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('the packed airlock-sdk', () => {
  it('installs no optional peer dependency, and ships LICENSE, docs, the policy schema and the sources its maps name', async () => {
    const installed = [...(await readdir(join(app, 'node_modules'))), ...(await readdir(join(app, 'node_modules/@types')))].join(' ')
    expect(installed).not.toMatch(/@?(aws-sdk|google-cloud|azure|temporalio|restatedev|opentelemetry)/)
    for (const file of ['LICENSE', 'README.md', 'docs/policy.md', 'docs/threat-model.md', 'docs/design.md', 'docs/policy.schema.json']) {
      await expect(readFile(join(packed, file)), file).resolves.toBeDefined()
    }
    for (const doc of ['README.md', 'docs/policy.md', 'docs/threat-model.md']) {
      expect(await readFile(join(packed, doc), 'utf8'), doc).not.toContain('DESIGN.md')
    }
    const manifest = JSON.parse(await readFile(join(packed, 'package.json'), 'utf8')) as { license: string; repository: { url: string } }
    expect(manifest.license).toBe('Apache-2.0')
    expect(manifest.repository.url).toMatch(/^git\+https:\/\//)
    for (const map of ['dist/index.js.map', 'dist/results/s3-result.js.map', 'dist/index.d.ts.map']) {
      const { sources } = JSON.parse(await readFile(join(packed, map), 'utf8')) as { sources: string[] }
      for (const source of sources) await expect(readFile(join(packed, map, '..', source)), `${map} -> ${source}`).resolves.toBeDefined()
    }
  })

  it('compiles against its types with skipLibCheck: false and runs the quick start', async () => {
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, types: ['node'], outDir: 'out' },
        include: ['index.ts'],
      }),
    )
    await writeFile(
      join(app, 'index.ts'),
      `import { Airlock, AirlockError, AzureResult, GCSResult, KeyRing, LocalResult, MemoryControlPlane, S3Result, cacheValidators, definePolicy, verifyLedger } from 'airlock-sdk'
import { buildLedgerReport } from 'airlock-sdk/audit'
import { AirlockBoundary } from 'airlock-sdk/boundary'
import { Secret } from 'airlock-sdk/crypto'
import { createLogger } from 'airlock-sdk/logging'
import { presets } from 'airlock-sdk/policy'
import { DateTimeSerializer } from 'airlock-sdk/results'
import { currentTask } from 'airlock-sdk/runtime'
import { DETECTORS } from 'airlock-sdk/scrub'
import { generateCanaries } from 'airlock-sdk/testing'
import schema from 'airlock-sdk/policy.schema.json' with { type: 'json' }
import type { OutboundEvent } from 'airlock-sdk'
import type { LedgerEntry } from 'airlock-sdk/audit'
import type { Failure, TaskRunStateEvent } from 'airlock-sdk/boundary'
import type { Policy, PolicyInput } from 'airlock-sdk/policy'

const keys = KeyRing.generate()
const controlPlane = new MemoryControlPlane()
const airlock = new Airlock({ policy: definePolicy({ preset: 'balanced' }), keys, controlPlane, ledger: { path: 'out/ledger.ndjson' } })
const double = airlock.task(async (x: number) => x * 2, {
  name: 'double',
  result: new LocalResult({ dir: 'out/results', location: '{flowName}/{taskName}/{taskRunId}.json' }),
  checkpoint: true,
  retries: 2,
  cacheFor: '1h',
  cacheValidator: cacheValidators.allInputs,
})
const etl = airlock.flow('etl', async ({ x }: { x: number }) => double(x))
const run = await etl.run({ x: 21 })
await airlock.close()
new S3Result({ bucket: 'b', clientConfig: { region: 'eu-west-1' }, uploadOptions: { ServerSideEncryption: 'aws:kms' } })
new GCSResult({ bucket: 'b', storageOptions: { projectId: 'p' } })
new AzureResult({ container: 'c', connectionString: new Secret('UseDevelopmentStorage=true') })
void [buildLedgerReport, AirlockBoundary, createLogger, presets, DateTimeSerializer, currentTask, DETECTORS, generateCanaries, AirlockError]
const verified = await verifyLedger('out/ledger.ndjson')
const input: PolicyInput = { preset: 'strict', logs: { level: 'error' }, scrub: { detectors: { ipv4: false } } }
const policy: Policy = definePolicy(input)
const tasks = controlPlane.events.filter((e: OutboundEvent): e is TaskRunStateEvent => e.kind === 'task-run-state')
const failures: (Failure | undefined)[] = tasks.map((e) => e.failure)
const seqOf = (entry: LedgerEntry): number => entry.seq
void [policy.exceptions.mode, failures, seqOf]
console.log(JSON.stringify({ state: run.state, value: run.value, verified: verified.ok, events: controlPlane.events.length, schema: typeof schema }))
`,
    )
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
    await expect(run(process.execPath, [tsc, '-p', '.'], { cwd: app }).then(() => 'compiled', (err: { stdout: string }) => err.stdout)).resolves.toBe('compiled')
    const { stdout } = await run(process.execPath, ['out/index.js'], { cwd: app })
    expect(JSON.parse(stdout)).toMatchObject({ state: 'Success', value: 42, verified: true, schema: 'object' })
  }, 240_000)

  it('loads with require() from CommonJS, and says it is ESM only where require cannot load ES modules', async () => {
    const cjs = join(dir, 'cjs')
    await mkdir(cjs)
    await writeFile(join(cjs, 'package.json'), JSON.stringify({ name: 'cjs', private: true }))
    await symlink(join(app, 'node_modules'), join(cjs, 'node_modules'))
    const probe = `const sdk = require('airlock-sdk'); const results = require('airlock-sdk/results'); console.log(typeof sdk.Airlock, typeof results.DateTimeSerializer)`
    expect((await run(process.execPath, ['-e', probe], { cwd: cjs })).stdout.trim()).toBe('function function')
    const refused = `try { require('airlock-sdk') } catch (err) { console.log(err.code, err.message) }`
    const { stdout } = await run(process.execPath, ['--no-experimental-require-module', '-e', refused], { cwd: cjs })
    expect(stdout).toMatch(/^ERR_AIRLOCK_ESM_ONLY airlock-sdk is an ES module \(ESM only\)/)
  })

  it('names no optional peer dependency in the types of the root or a core subpath', async () => {
    const seen = new Set<string>()
    const found: string[] = []
    const walk = async (file: string): Promise<void> => {
      if (seen.has(file)) return
      seen.add(file)
      const text = await readFile(file, 'utf8')
      for (const [, specifier] of text.matchAll(/from '([^']+)'/g)) {
        if (OPTIONAL.test(specifier!)) found.push(`${file.slice(packed.length)}: ${specifier}`)
        else if (specifier!.startsWith('.')) await walk(join(file, '..', specifier!.replace(/\.js$/, '.d.ts')))
      }
    }
    for (const entry of ['index', 'results/index', 'policy/index', 'audit/index', 'crypto/index', 'scrub/index', 'logging/index', 'boundary/index', 'runtime/index', 'testing/index']) {
      await walk(join(packed, 'dist', `${entry}.d.ts`))
    }
    expect(seen.size).toBeGreaterThan(50)
    expect(found).toEqual([])
  })

  it('names neither zod nor re2js in any shipped declaration, and every declaration compiles with skipLibCheck: false', async () => {
    const declarations = (await readdir(join(packed, 'dist'), { recursive: true }))
      .filter((file) => file.endsWith('.d.ts'))
      .map((file) => join(packed, 'dist', file))
    expect(declarations.length).toBeGreaterThan(100)

    // Every module a declaration names: imports, re-exports, import() types, triple-slash references, ambient modules.
    const named: string[] = []
    for (const file of declarations) {
      const source = ts.createSourceFile(file, await readFile(file, 'utf8'), ts.ScriptTarget.ES2022, true)
      const specifiers = [...source.typeReferenceDirectives, ...source.referencedFiles, ...source.libReferenceDirectives].map((ref) => ref.fileName)
      const visit = (node: ts.Node): void => {
        if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
          specifiers.push(node.moduleSpecifier.text)
        } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
          specifiers.push(node.argument.literal.text)
        } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
          specifiers.push(node.moduleReference.expression.text)
        } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) {
          specifiers.push(node.name.text)
        }
        ts.forEachChild(node, visit)
      }
      visit(source)
      for (const specifier of specifiers) if (IMPLEMENTATION.test(specifier)) named.push(`${file.slice(packed.length)}: ${specifier}`)
    }
    expect(named).toEqual([])

    // The compiler's view: with every declaration as a root, what resolves. zod and re2js are installed here (they are
    // dependencies), so a declaration that reached them by any route would pull their files in.
    const program = ts.createProgram(declarations, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      types: ['node'],
      typeRoots: [join(app, 'node_modules/@types')],
    })
    const reached = program.getSourceFiles().map((file) => file.fileName).filter((name) => /\/node_modules\/(zod|re2js)\//.test(name))
    expect(reached).toEqual([])
    // The optional peer dependencies are not installed: the adapters' and cloud results' declarations name them, and
    // that is the only error allowed (the root and core subpaths name none; see above).
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => !(d.code === 2307 && OPTIONAL.test(/'([^']+)'/.exec(ts.flattenDiagnosticMessageText(d.messageText, '\n'))?.[1] ?? '')))
      .map((d) => `${d.file?.fileName.slice(packed.length) ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
    expect(problems).toEqual([])
  }, 120_000)
})
