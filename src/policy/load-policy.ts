import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { LineCounter, parseDocument } from 'yaml'
import { PolicyError } from '../errors.js'
import { assertKnownOptions } from '../internal/known-options.js'
import { definePolicy, resolvePolicy } from './define-policy.js'
import type { DefinePolicyOptions, ResolvedPolicy } from './define-policy.js'

/**
 * Loads a policy file and resolves it like {@link definePolicy}: the file
 * has the same shape as definePolicy's input (it may name a `preset`), and
 * the environment's switches apply on top.
 *
 * `path` defaults to `AIRLOCK_POLICY` from the environment; with neither,
 * the result is the `balanced` preset (plus the environment's switches).
 * The format follows the extension: `.json`, or `.yaml` / `.yml` (YAML 1.2,
 * so `yes` and `on` are strings, not booleans). The read is synchronous,
 * because a policy is loaded once at startup, before anything is emitted.
 *
 * @throws InvalidArgumentError for an options object with a key other than `env`.
 * @throws PolicyError naming the file: unreadable, an unknown extension, a
 *   syntax error (with line and column for YAML), or every invalid field.
 * @example
 * ```ts
 * import { loadPolicy } from 'airlock-sdk'
 *
 * // airlock.policy.yaml:
 * //   preset: strict
 * //   parameters:
 * //     rules: { region: allow }
 * const policy = loadPolicy('airlock.policy.yaml')
 * const fromEnv = loadPolicy()   // AIRLOCK_POLICY, or the balanced preset
 * ```
 */
export function loadPolicy(path?: string, options?: DefinePolicyOptions): ResolvedPolicy {
  if (options !== undefined) assertKnownOptions('loadPolicy', options, ['env'])
  const env = options?.env ?? process.env
  const file = path ?? env.AIRLOCK_POLICY
  if (file === undefined) return definePolicy(undefined, { env })
  if (file === '') {
    const origin = path === undefined ? 'AIRLOCK_POLICY' : 'path'
    throw new PolicyError([{ path: '', message: `expected a file path, got an empty string (from ${origin})` }])
  }
  return resolvePolicy(parsePolicyFile(file), env, file)
}

function parsePolicyFile(file: string): unknown {
  const format = formatOf(file)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error'
    throw new PolicyError([{ path: '', message: `cannot read the file (${code})` }], file)
  }
  return format === 'json' ? parseJson(text, file) : parseYaml(text, file)
}

function formatOf(file: string): 'json' | 'yaml' {
  const extension = extname(file).toLowerCase()
  if (extension === '.json') return 'json'
  if (extension === '.yaml' || extension === '.yml') return 'yaml'
  throw new PolicyError(
    [
      {
        path: '',
        message: `expected a .json, .yaml or .yml file, got ${extension === '' ? 'no extension' : JSON.stringify(extension.slice(0, 16))}`,
      },
    ],
    file,
  )
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    const reason = (err as Error).message
    throw new PolicyError([{ path: '', message: `expected valid JSON: ${reason.slice(0, 120)}` }], file)
  }
}

function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter()
  // uniqueKeys: a key given twice must not let the second silently win.
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  // Warnings (an unknown tag, say) are errors too: the value would otherwise be guessed.
  const problems = [...document.errors, ...document.warnings]
  if (problems.length > 0) {
    throw new PolicyError(
      problems.map((problem) => {
        const { line, col } = lineCounter.linePos(problem.pos[0])
        return { path: '', message: `YAML ${problem.code} at line ${line}, column ${col}: ${problem.message}` }
      }),
      file,
    )
  }
  if (document.contents === null) {
    throw new PolicyError([{ path: '', message: 'expected a mapping of policy fields, got an empty document' }], file)
  }
  try {
    return document.toJS({ maxAliasCount: 100 }) as unknown
  } catch (err) {
    // An unresolved alias or an alias bomb fails here, after parsing.
    throw new PolicyError([{ path: '', message: `YAML cannot be converted: ${(err as Error).message.slice(0, 120)}` }], file)
  }
}
