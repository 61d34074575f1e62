import { PolicyError } from '../errors.js'
import { loadPolicy } from '../policy/load-policy.js'
import { help, type Command } from './cli-io.js'
import { onePositional, parseFlags } from './parse-flags.js'

const verb = 'policy check'

/** `airlock policy check <file>`: exit 0 if valid, else 1 listing each problem with its path. */
export const policyCheck: Command = {
  summary: 'validate a policy file (JSON or YAML)',
  usage: `usage: airlock policy check <file>

Validates a policy file (.json, .yaml or .yml) against the policy schema,
including custom patterns (RE2 syntax) and environment overrides in effect.
Prints the policy hash when valid.

Exit 0 if valid; exit 1 listing each problem with its path; exit 2 on bad usage.`,
  run(args, io) {
    const flags = parseFlags(args, {}, verb)
    if (flags.help) return Promise.resolve(help(io, this.usage))
    const path = onePositional(flags, verb, 'file')
    try {
      const policy = loadPolicy(path, { env: io.env })
      io.stdout.write(`policy ${path} is valid (hash ${policy.hash})\n`)
      return Promise.resolve(0)
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err
      io.stdout.write(`policy ${path} is invalid:\n`)
      for (const issue of err.issues) io.stdout.write(`  ${issue.path || '(root)'}: ${issue.message}\n`)
      return Promise.resolve(1)
    }
  },
}
