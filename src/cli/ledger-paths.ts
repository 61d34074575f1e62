import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { UsageError } from '../errors.js'
import type { ParsedFlags } from './parse-flags.js'

/**
 * The ledger files the positionals of an audit verb name: each a ledger
 * file, or a directory whose `*.ndjson` files (not its subdirectories') are
 * ledgers, one per worker; in the order given, a directory's files sorted
 * by name. A fleet of workers keeps one ledger each, and the audit reads
 * them together.
 *
 * @throws UsageError when none is given, one does not exist, or a directory holds no ledger.
 * @example
 * ```ts
 * ledgerPaths(parseFlags(['audit/'], {}, 'audit verify'), 'audit verify')   // ['audit/worker-1.ndjson', 'audit/worker-2.ndjson']
 * ```
 */
export function ledgerPaths(flags: ParsedFlags, verb: string): string[] {
  if (flags.positionals.length === 0) throw new UsageError(`airlock ${verb}: missing <ledger…>; see airlock ${verb} --help`)
  const paths: string[] = []
  for (const given of flags.positionals) {
    let isDirectory: boolean
    try {
      isDirectory = statSync(given).isDirectory()
    } catch {
      throw new UsageError(`airlock ${verb}: no ledger at ${given}`)
    }
    if (!isDirectory) {
      paths.push(given)
      continue
    }
    const files = readdirSync(given, { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ndjson'))
      .map((entry) => entry.name)
      .sort()
    if (files.length === 0) throw new UsageError(`airlock ${verb}: the directory ${given} holds no ledger (*.ndjson)`)
    for (const name of files) paths.push(join(given, name))
  }
  return [...new Set(paths)]
}
