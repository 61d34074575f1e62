import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * How to start a worker thread on the module `name` that sits next to the
 * caller (`callerUrl`, the caller's `import.meta.url`): `new Worker(source,
 * { eval })`. Built, the module is the `.js` next to the caller. Run from the
 * TypeScript sources (the tests, the benches), it is the `.ts`: module hooks
 * registered in this thread (tsx's) do not reach a worker, so the worker
 * starts with a line of JavaScript that loads it through tsx's API.
 *
 * @example
 * ```ts
 * const entry = workerEntry(import.meta.url, 'scrub-worker')
 * const worker = new Worker(entry.source, { eval: entry.eval, workerData })
 * ```
 */
export function workerEntry(callerUrl: string, name: string): { source: string | URL; eval: boolean } {
  if (!callerUrl.endsWith('.ts')) return { source: new URL(`./${name}.js`, callerUrl), eval: false }
  const url = new URL(`./${name}.ts`, callerUrl).href
  // Resolved here, not in the worker: an eval'd worker resolves from the working directory, which a caller may change.
  // (Found through its package.json: `require.resolve` would give the CommonJS entry.)
  const tsxRoot = dirname(createRequire(callerUrl).resolve('tsx/package.json'))
  const tsx = pathToFileURL(join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href
  return { source: `import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(url)}, ${JSON.stringify(callerUrl)}))`, eval: true }
}
