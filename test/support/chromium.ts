/**
 * Finds a Chromium for browser tests, or installs Debian's `chromium`.
 *
 * Looked for, in order: `/usr/bin/chromium`, then `chromium` and
 * `chromium-browser` on PATH. When none is there and the process runs as
 * root with apt-get, it runs `apt-get update` and
 * `apt-get install -y --no-install-recommends chromium`, within
 * {@link INSTALL_TIMEOUT_MS} in all.
 *
 * Test files run in parallel processes, so the install is guarded by a lock
 * directory under `os.tmpdir()` (mkdir is atomic): one process installs, the
 * others wait and then find the binary. A failed install is remembered in a
 * marker file keyed by the test runner's pid, so the other files of the same
 * run skip at once instead of trying again; the next run tries afresh.
 */
import { execFile } from 'node:child_process'
import { constants } from 'node:fs'
import { access, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/** The whole install (update and install) gets this long. */
export const INSTALL_TIMEOUT_MS = 5 * 60_000

/** Give a test hook that may install this long: the install, plus waiting for the lock. */
export const CHROMIUM_HOOK_TIMEOUT_MS = INSTALL_TIMEOUT_MS + 90_000

/**
 * Flags for a headless Chromium in a sandbox without network: nothing phones
 * home, updates or syncs, and QUIC (UDP) is never tried. `--user-data-dir`
 * is not here: Playwright takes it as `launchPersistentContext`'s first
 * argument, and refuses it in `args`.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const

/** A Chromium to launch, or why the browser tests must skip. */
export type ChromiumLookup = { executablePath: string } | { skipReason: string }

const LOCK_DIR = join(tmpdir(), 'airlock-chromium-install.lock')
// The runner's pid: the same for every test file of one vitest run (they are its children).
const FAILURE_MARKER = join(tmpdir(), `airlock-chromium-install-failed-${process.ppid}.txt`)
const LOCK_POLL_MS = 500
// A lock older than this is left over from a killed run.
const STALE_LOCK_MS = INSTALL_TIMEOUT_MS + 60_000

/**
 * Finds Chromium, installing it when it can; see the module comment. Never throws.
 *
 * @example
 * ```ts
 * const found = await ensureChromium()
 * if ('skipReason' in found) console.warn(found.skipReason)
 * else await chromium.launchPersistentContext(profileDir, { executablePath: found.executablePath, args: [...CHROMIUM_ARGS] })
 * ```
 */
export async function ensureChromium(): Promise<ChromiumLookup> {
  const found = await findChromium()
  if (found !== undefined) return { executablePath: found }
  const cannot = await whyNoInstall()
  if (cannot !== undefined) return { skipReason: `Chromium not found (/usr/bin/chromium, chromium on PATH) and ${cannot}` }
  const failed = await readFailure()
  if (failed !== undefined) return { skipReason: failed }

  if (!(await acquireLock())) return { skipReason: 'another process held the Chromium install lock for too long' }
  try {
    const installedMeanwhile = await findChromium()
    if (installedMeanwhile !== undefined) return { executablePath: installedMeanwhile }
    const failedMeanwhile = await readFailure()
    if (failedMeanwhile !== undefined) return { skipReason: failedMeanwhile }
    const problem = await aptInstall()
    const installed = await findChromium()
    if (installed !== undefined) return { executablePath: installed }
    const reason = `Chromium could not be installed with apt-get: ${problem ?? 'apt-get succeeded but no chromium binary appeared'}`
    await writeFile(FAILURE_MARKER, reason)
    return { skipReason: reason }
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true })
  }
}

async function findChromium(): Promise<string | undefined> {
  const candidates = ['/usr/bin/chromium']
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '') candidates.push(join(dir, 'chromium'), join(dir, 'chromium-browser'))
  }
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) return candidate
  }
  return undefined
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

async function whyNoInstall(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `installing it is only automated on Debian (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'installing it needs root (apt-get); install the chromium package to run the browser tests'
  if (!(await isExecutable('/usr/bin/apt-get'))) return 'apt-get is not available to install it'
  return undefined
}

async function readFailure(): Promise<string | undefined> {
  try {
    return `${await readFile(FAILURE_MARKER, 'utf8')} (remembered from an earlier attempt in this run)`
  } catch {
    return undefined
  }
}

async function acquireLock(): Promise<boolean> {
  const deadline = Date.now() + CHROMIUM_HOOK_TIMEOUT_MS - 30_000
  while (Date.now() < deadline) {
    try {
      await mkdir(LOCK_DIR)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false
    }
    try {
      if (Date.now() - (await stat(LOCK_DIR)).mtimeMs > STALE_LOCK_MS) await rm(LOCK_DIR, { recursive: true, force: true })
    } catch {
      // Released between the two calls: try again.
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS))
  }
  return false
}

/** Runs the install; the problem, or undefined when apt-get exited 0. */
async function aptInstall(): Promise<string | undefined> {
  const deadline = Date.now() + INSTALL_TIMEOUT_MS
  console.warn('browser tests: Chromium not found; installing Debian chromium with apt-get (up to 5 minutes)')
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
    const problem = await run('apt-get', args, deadline - Date.now())
    if (problem !== undefined) return problem
  }
  return undefined
}

function run(command: string, args: string[], timeout: number): Promise<string | undefined> {
  if (timeout <= 0) return Promise.resolve(`timed out after ${INSTALL_TIMEOUT_MS / 1000} s`)
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { timeout, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
      (err, _stdout, stderr) => {
        if (err === null) return resolve(undefined)
        const what = err.killed ? `timed out after ${INSTALL_TIMEOUT_MS / 1000} s` : `exit ${String(err.code)}`
        const tail = stderr.trim().split('\n').slice(-3).join(' | ')
        resolve(`apt-get ${args[0]} failed (${what})${tail === '' ? '' : `: ${tail}`}`)
      },
    )
  })
}
