import { PolicyError, UsageError } from '../errors.js'
import { loadPolicy } from '../policy/load-policy.js'
import { help, type Command } from './cli-io.js'
import { onePositional, parseFlags } from './parse-flags.js'

const verb = 'policy check'

/** `airlock policy check [file]`: exit 0 if valid, else 1 listing each problem with its path. */
export const policyCheck: Command = {
  summary: 'validate a policy file (JSON or YAML)',
  usage: `usage: airlock policy check [<file>]

Validates a policy file (.json, .yaml or .yml) against the policy schema,
including custom patterns (RE2 syntax) and environment overrides in effect.
Without <file>, checks the file AIRLOCK_POLICY names, as loadPolicy() would
load it. Prints the policy hash when valid.

Exit 0 if valid; exit 1 listing each problem with its path; exit 2 on bad usage.`,
  run(args, io) {
    const flags = parseFlags(args, {}, verb)
    if (flags.help) return Promise.resolve(help(io, this.usage))
    const fromEnv = flags.positionals.length === 0 ? io.env.AIRLOCK_POLICY : undefined
    if (flags.positionals.length === 0 && (fromEnv === undefined || fromEnv === '')) {
      throw new UsageError(`airlock ${verb}: missing <file>, and AIRLOCK_POLICY is not set; see airlock ${verb} --help`)
    }
    const path = fromEnv ?? onePositional(flags, verb, 'file')
    const label = fromEnv === undefined ? path : `${path} (from AIRLOCK_POLICY)`
    try {
      const policy = loadPolicy(path, { env: io.env })
      io.stdout.write(`policy ${label} is valid (hash ${policy.hash})\n`)
      return Promise.resolve(0)
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err
      io.stdout.write(`policy ${label} is invalid:\n`)
      for (const issue of err.issues) io.stdout.write(`  ${issue.path || '(root)'}: ${issue.message}\n`)
      return Promise.resolve(1)
    }
  },
}
