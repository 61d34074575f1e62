import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from '../errors.js'

/** Parsed flags: strings for valued flags, booleans for switches. */
export interface ParsedFlags {
  readonly values: Readonly<Record<string, string | boolean | undefined>>
  readonly positionals: readonly string[]
  readonly help: boolean
}

/**
 * `node:util` parseArgs in strict mode, with every complaint turned into a
 * UsageError that names the verb and points at its `--help`.
 */
export function parseFlags(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>, verb: string): ParsedFlags {
  try {
    const parsed = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
    const values = parsed.values as Record<string, string | boolean | undefined>
    return { values, positionals: parsed.positionals, help: values.help === true }
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? 'bad arguments') : 'bad arguments'
    throw new UsageError(`airlock ${verb}: ${message}; see airlock ${verb} --help`)
  }
}

/** The one positional a verb takes, or a UsageError naming what is missing. */
export function onePositional(flags: ParsedFlags, verb: string, name: string): string {
  const [first, ...rest] = flags.positionals
  if (first === undefined) throw new UsageError(`airlock ${verb}: missing <${name}>; see airlock ${verb} --help`)
  if (rest.length > 0) throw new UsageError(`airlock ${verb}: unexpected argument ${JSON.stringify(rest[0])}; see airlock ${verb} --help`)
  return first
}

/** A string flag's value, when given. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const value = flags.values[name]
  return typeof value === 'string' ? value : undefined
}
