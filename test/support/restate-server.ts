import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/**
 * A Restate server from its npm package, on free loopback ports, with a
 * temporary data directory: what the Restate adapter's end-to-end tests
 * run against. `stop()` ends it (SIGTERM, by its pid) and removes its data.
 */
export interface RestateServer {
  readonly ingressUrl: string
  readonly adminUrl: string
  /** Registers a service endpoint (`http://127.0.0.1:PORT`) and waits until the server accepts it. */
  register(uri: string): Promise<void>
  /** Runs SQL through the admin query API (`POST /query`) and returns the rows. */
  query(sql: string): Promise<Record<string, unknown>[]>
  stop(): Promise<void>
}

/** A free loopback port, as the system hands one out. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function serverBinary(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('@restatedev/restate-server-linux-x64/package.json')), 'bin', 'restate-server')
}

export async function startRestateServer(): Promise<RestateServer> {
  const baseDir = await mkdtemp(join(tmpdir(), 'airlock-restate-'))
  const [node, admin, ingress] = [await freePort(), await freePort(), await freePort()]
  const config = join(baseDir, 'restate.toml')
  await writeFile(
    config,
    [
      'cluster-name = "airlock-test"',
      'node-name = "n1"',
      `base-dir = "${join(baseDir, 'data')}"`,
      'disable-telemetry = true',
      'default-num-partitions = 2',
      'rocksdb-total-memory-size = "256 MiB"',
      `bind-address = "127.0.0.1:${node}"`,
      `advertised-address = "http://127.0.0.1:${node}/"`,
      'listen-mode = "tcp"',
      '[admin]',
      `bind-address = "127.0.0.1:${admin}"`,
      'disable-web-ui = true',
      '[admin.query-engine]',
      'memory-size = "128 MiB"',
      '[ingress]',
      `bind-address = "127.0.0.1:${ingress}"`,
      '',
    ].join('\n'),
  )
  let log = ''
  const child: ChildProcess = spawn(serverBinary(), ['--config-file', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  child.stdout!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)))
  child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const adminUrl = `http://127.0.0.1:${admin}`
  const ingressUrl = `http://127.0.0.1:${ingress}`

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    await rm(baseDir, { recursive: true, force: true })
  }

  try {
    await until(async () => (await fetch(`${adminUrl}/health`).catch(() => undefined))?.ok === true, 30_000, () => `the Restate server did not become healthy:\n${log}`)
    await until(async () => (await fetch(`${ingressUrl}/restate/health`).catch(() => undefined))?.ok === true, 30_000, () => `the ingress did not become healthy:\n${log}`)
  } catch (err) {
    await stop()
    throw err
  }

  return {
    ingressUrl,
    adminUrl,
    async register(uri) {
      const response = await fetch(`${adminUrl}/deployments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri, force: true }) })
      if (!response.ok) throw new Error(`registering ${uri} failed: ${response.status} ${await response.text()}`)
    },
    async query(sql) {
      const response = await fetch(`${adminUrl}/query`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query: sql }) })
      if (!response.ok) throw new Error(`query failed: ${response.status} ${await response.text()}`)
      return ((await response.json()) as { rows: Record<string, unknown>[] }).rows
    },
    stop,
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, failure: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(failure())
}
