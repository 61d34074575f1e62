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

Run airlock <command> --help for a command's options.`

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
  // A one-word verb (codec-server) takes everything after it as its arguments.
  const single = COMMANDS[group]
  const command = single ?? COMMANDS[`${group} ${action ?? ''}`]
  const args = single === undefined ? rest : argv.slice(1)
  try {
    if (command === undefined) {
      const known = Object.keys(COMMANDS).filter((name) => name.startsWith(`${group} `))
      throw new UsageError(
        known.length > 0 && (action === undefined || action === '--help')
          ? `airlock ${group}: choose one of: ${known.join(', ')}`
          : `unknown command "${[group, action].filter(Boolean).join(' ')}"; run airlock --help`,
      )
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
