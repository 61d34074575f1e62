import { readFileSync } from 'node:fs'
import { AirlockError, UsageError } from '../errors.js'
import { auditCheckProof } from './audit-check-proof.js'
import { auditProve } from './audit-prove.js'
import { auditReport } from './audit-report.js'
import { auditScan } from './audit-scan.js'
import { auditVerify } from './audit-verify.js'
import { codecServer } from './codec-server.js'
import type { CliIo, Command } from './cli-io.js'
import { errorsOpen } from './errors-open.js'
import { keysGenerate } from './keys-generate.js'
import { policyCheck } from './policy-check.js'

const COMMANDS: Readonly<Record<string, Command>> = {
  'audit verify': auditVerify,
  'audit report': auditReport,
  'audit scan': auditScan,
  'audit prove': auditProve,
  'audit check-proof': auditCheckProof,
  'keys generate': keysGenerate,
  'policy check': policyCheck,
  'errors open': errorsOpen,
  'codec-server': codecServer,
}

const USAGE = `usage: airlock <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(16)}${command.summary}`)
  .join('\n')}

Run airlock <command> --help for a command's options; airlock --version prints the version.`

/**
 * Runs the `airlock` command line and resolves with its exit code: 0 success,
 * 1 a failed check (a tampered ledger, an invalid policy), 2 bad usage or an
 * error. Errors print their code and message, never a stack.
 *
 * @example
 * ```ts
 * import { runCli } from 'airlock-sdk/cli'
 *
 * const code = await runCli(['audit', 'verify', 'audit/ledger.ndjson'], { stdout: process.stdout, stderr: process.stderr, env: process.env })
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [group, action, ...rest] = argv
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    io.stdout.write(USAGE + '\n')
    return group === undefined ? 2 : 0
  }
  if (group === '--version' || group === '-V' || group === 'version') {
    io.stdout.write(`airlock-sdk ${packageVersion()}\n`)
    return 0
  }
  // A one-word verb (codec-server) takes everything after it as its arguments.
  const single = COMMANDS[group]
  const command = single ?? COMMANDS[`${group} ${action ?? ''}`]
  const args = single === undefined ? rest : argv.slice(1)
  try {
    if (command === undefined) {
      const known = Object.keys(COMMANDS).filter((name) => name.startsWith(`${group} `))
      if (known.length > 0 && (action === undefined || action === '--help')) throw new UsageError(`airlock ${group}: choose one of: ${known.join(', ')}`)
      const typed = [group, action].filter(Boolean).join(' ')
      const guess = closestCommand(group, action)
      throw new UsageError(`unknown command "${typed}"; ${guess === undefined ? '' : `did you mean "airlock ${guess}"? `}run airlock --help`)
    }
    return await command.run(args, io)
  } catch (err) {
    if (err instanceof AirlockError) {
      io.stderr.write(`airlock: ${err.message} (${err.code})\n`)
      return err instanceof UsageError ? 2 : 1
    }
    io.stderr.write(`airlock: unexpected ${err instanceof Error ? err.name : 'error'}\n`)
    return 2
  }
}

// The command a mistyped one most likely meant: by edit distance over the whole verb
// (`audit verfy`, `aduit verify`), or over its last word alone (`verify`); none when nothing is close.
function closestCommand(group: string, action: string | undefined): string | undefined {
  const typed = action === undefined || action.startsWith('-') ? group : `${group} ${action}`
  let best: { name: string; distance: number } | undefined
  for (const name of Object.keys(COMMANDS)) {
    const words = name.split(' ')
    if (typed.length >= 3 && name.startsWith(typed) && typed.includes(' ')) return name
    const distance = Math.min(editDistance(typed, name), editDistance(group, words.at(-1) ?? name) + (words.length > 1 ? 1 : 0))
    if (best === undefined || distance < best.distance) best = { name, distance }
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(typed.length / 4)) ? best.name : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const swap = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1] ? (previous[j - 2] ?? 0) : Infinity
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1), swap)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

// The package's own version: package.json sits two levels up from src/cli and from dist/cli alike.
function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    return typeof manifest.version === 'string' ? manifest.version : 'unknown'
  } catch {
    return 'unknown'
  }
}
