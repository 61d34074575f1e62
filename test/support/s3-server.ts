import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * An s3rver 3.7.1 child process on a random loopback port, storing objects in
 * a temp dir that {@link S3Server.close} removes.
 *
 * Client settings that work with it: `{ region: 'us-east-1', endpoint,
 * forcePathStyle: true, credentials: S3RVER_CREDENTIALS }`.
 *
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { startS3Server, S3RVER_CREDENTIALS } from '../support/s3-server.js'
 *
 * const server = await startS3Server({ buckets: ['results'] })
 * const s3 = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS })
 * await server.close()   // later requests fail with ECONNREFUSED
 * ```
 */
export interface S3Server {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string
  /** The buckets created at start. */
  readonly buckets: readonly string[]
  /** Stops the process and removes its temp dir. Idempotent. */
  readonly close: () => Promise<void>
}

/** Options of {@link startS3Server}. */
export interface S3ServerOptions {
  /** Buckets to create at start. Default `['airlock-test']`. */
  readonly buckets?: readonly string[]
}

/**
 * The credentials s3rver accepts.
 *
 * @example
 * ```ts
 * new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS })
 * ```
 */
// Not frozen: the AWS SDK tags the credentials object it is given.
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

const S3RVER_BIN = fileURLToPath(new URL('../../node_modules/s3rver/bin/s3rver.js', import.meta.url))

/**
 * Starts a private s3rver. Ready in about 150 ms.
 *
 * @example
 * ```ts
 * const { endpoint, buckets, close } = await startS3Server()
 * ```
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const buckets = [...(options.buckets ?? ['airlock-test'])]
  const server = await startNodeServer({
    name: 's3rver',
    // Without the legacy provider, a truncated ListObjectsV2 answers 500 (ERR_OSSL_EVP_UNSUPPORTED).
    nodeArgs: ['--openssl-legacy-provider'],
    script: S3RVER_BIN,
    args: (dir) => ['-d', dir, '-a', '127.0.0.1', '-p', '0', '--silent', ...buckets.flatMap((b) => ['--configure-bucket', b])],
    ready: /S3rver listening on 127\.0\.0\.1:(\d+)/,
  })
  return { endpoint: `http://127.0.0.1:${server.port}`, buckets, close: server.stop }
}

/** What {@link startNodeServer} needs to run one server script. */
export interface NodeServerSpec {
  /** For error messages and the temp dir's name. */
  readonly name: string
  readonly nodeArgs?: readonly string[]
  readonly script: string
  /** The script's arguments, given the process's own temp dir (also its working directory). */
  readonly args: (dir: string) => readonly string[]
  /** Matched against stdout; group 1 is the port. */
  readonly ready: RegExp
  /** How long to wait for `ready`. Default 15 s. */
  readonly timeoutMs?: number
}

/** A running server process. */
export interface NodeServerProcess {
  readonly port: number
  /** SIGTERM (SIGKILL after 3 s), then removes the temp dir. Idempotent. */
  readonly stop: () => Promise<void>
}

// The child exits when its stdin closes, which happens when the parent dies in
// any way, SIGKILL included, so no server outlives the test run.
const EXIT_WITH_PARENT = 'data:text/javascript,process.stdin.on("end",()=>process.exit(0)).resume()'

/**
 * Runs a Node server script as a child process, in a temp dir of its own, and
 * resolves once it prints its port. The child dies with the parent: on
 * `stop()`, on the parent's `exit` (which also removes the temp dir), and,
 * through its stdin closing, when the parent is killed. Shared by the s3rver
 * and azurite launchers.
 *
 * @example
 * ```ts
 * const { port, stop } = await startNodeServer({ name: 'x', script, args: (dir) => ['-d', dir], ready: /port (\d+)/ })
 * ```
 */
export async function startNodeServer(spec: NodeServerSpec): Promise<NodeServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), `airlock-${spec.name}-`))
  const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), '--import', EXIT_WITH_PARENT, spec.script, ...spec.args(dir)], {
    cwd: dir,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const onParentExit = (): void => {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  process.on('exit', onParentExit)
  const exited = new Promise<void>((resolve) => {
    if (child.pid === undefined) resolve()
    else child.once('exit', () => resolve())
  })

  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        const forceKill = setTimeout(() => child.kill('SIGKILL'), 3000)
        child.kill('SIGTERM')
        await exited
        clearTimeout(forceKill)
      }
      process.off('exit', onParentExit)
      await rm(dir, { recursive: true, force: true })
    })())

  return new Promise<NodeServerProcess>((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    const onStderr = (text: string): void => {
      stderr += text
    }
    const onStdout = (text: string): void => {
      stdout += text
      const port = spec.ready.exec(stdout)?.[1]
      if (port === undefined) return
      detach()
      resolve({ port: Number(port), stop })
    }
    const onError = (err: Error): void => fail(err.message)
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`exited early with ${signal ?? `code ${code}`}`)
    const timeoutMs = spec.timeoutMs ?? 15_000
    const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs)
    const detach = (): void => {
      clearTimeout(timer)
      child.stdout.off('data', onStdout)
      child.stderr.off('data', onStderr)
      child.off('error', onError)
      child.off('exit', onExit)
      // Keep draining the pipes so a chatty server never blocks on a full buffer.
      child.stdout.resume()
      child.stderr.resume()
    }
    function fail(reason: string): void {
      detach()
      void stop().then(() => reject(new Error(`${spec.name} did not start: ${reason}\nstdout: ${stdout}\nstderr: ${stderr}`)))
    }
    child.stdout.setEncoding('utf8').on('data', onStdout)
    child.stderr.setEncoding('utf8').on('data', onStderr)
    child.once('error', onError)
    child.once('exit', onExit)
  })
}
