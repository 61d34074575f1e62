/**
 * Finds a Chromium for browser tests. It is installed by `.ci/run` (and by
 * hand, see the README's Development section), never from a test: looked for
 * are `/usr/bin/chromium`, then `chromium` and `chromium-browser` on PATH.
 *
 * Outside CI a missing Chromium skips the browser tests with a warning. When
 * `CI` is set, it is an error: CI must not pass with the browser tests
 * silently skipped.
 */
import { constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { delimiter, join } from 'node:path'

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

const MISSING = 'Chromium not found (/usr/bin/chromium, chromium or chromium-browser on PATH): install the chromium package'

/**
 * Finds Chromium; see the module comment.
 *
 * @example
 * ```ts
 * const found = await findChromium(process.env)
 * if ('skipReason' in found) console.warn(found.skipReason)
 * else await chromium.launchPersistentContext(profileDir, { executablePath: found.executablePath, args: [...CHROMIUM_ARGS] })
 * ```
 * @throws Error when none is found and `env.CI` is set.
 */
export async function findChromium(env: NodeJS.ProcessEnv): Promise<ChromiumLookup> {
  const candidates = ['/usr/bin/chromium']
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '') candidates.push(join(dir, 'chromium'), join(dir, 'chromium-browser'))
  }
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) return { executablePath: candidate }
  }
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false') throw new Error(`${MISSING} (CI is set, so the browser tests fail rather than skip)`)
  return { skipReason: MISSING }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
