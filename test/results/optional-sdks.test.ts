import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const source = (path: string): string => pathToFileURL(join(repo, 'src', path)).href

// Resolution of every cloud SDK fails, as when the optional peer dependencies are not installed.
const HOOKS = `
export async function resolve(specifier, context, next) {
  if (/^@(aws-sdk|google-cloud|azure)\\//.test(specifier)) {
    throw Object.assign(new Error('Cannot find package ' + specifier), { code: 'ERR_MODULE_NOT_FOUND' })
  }
  return next(specifier, context)
}
`

const CHILD = `
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
const { KeyRing } = await import(${JSON.stringify(source('crypto/key-ring.ts'))})
const { LocalResult } = await import(${JSON.stringify(source('results/local-result.ts'))})
const { S3Result } = await import(${JSON.stringify(source('results/s3-result.ts'))})
const { GCSResult } = await import(${JSON.stringify(source('results/gcs-result.ts'))})
const { AzureResult } = await import(${JSON.stringify(source('results/azure-result.ts'))})
const keys = KeyRing.generate()
const local = new LocalResult({ dir: await mkdtemp(join(tmpdir(), 'airlock-optional-sdks-')), location: 'a.json', payloadCipher: keys })
const out = { local: (await local.read((await local.write({ ok: 1 })).location)).value }
const clouds = {
  s3: new S3Result({ bucket: 'b' }),
  gcs: new GCSResult({ bucket: 'b' }),
  azure: new AzureResult({ container: 'c', connectionString: 'UseDevelopmentStorage=true' }),
}
for (const [name, result] of Object.entries(clouds)) {
  out[name] = await result.write(1).then(() => 'written', (err) => ({ code: err.code, message: err.message }))
}
process.stdout.write(JSON.stringify(out))
`

function runNode(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text))
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text))
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`child exited with ${code}: ${stderr}`))))
  })
}

describe('the cloud SDKs are optional', () => {
  it('loads every result module without them; LocalResult works and each cloud result names the package it needs', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-optional-sdks-test-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'hooks.mjs'), HOOKS)
    await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module'\nregister('./hooks.mjs', import.meta.url)\n`)
    await writeFile(join(dir, 'child.mts'), CHILD)
    const out = JSON.parse(await runNode(['--import', 'tsx', '--import', pathToFileURL(join(dir, 'register.mjs')).href, join(dir, 'child.mts')])) as Record<string, unknown>
    expect(out).toEqual({
      local: { ok: 1 },
      s3: { code: 'ERR_STORAGE', message: 'S3Result needs @aws-sdk/client-s3 and @aws-sdk/lib-storage: npm install @aws-sdk/client-s3 @aws-sdk/lib-storage' },
      gcs: { code: 'ERR_STORAGE', message: 'GCSResult needs @google-cloud/storage: npm install @google-cloud/storage' },
      azure: { code: 'ERR_STORAGE', message: 'AzureResult needs @azure/storage-blob: npm install @azure/storage-blob' },
    })
  })
})
