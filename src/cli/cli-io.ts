import { readFileSync } from 'node:fs'
import { UsageError } from '../errors.js'

/** Where a command writes, and what it may read; the real process or a test's capture. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean }
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean }
  readonly env: NodeJS.ProcessEnv
  /** Aborted when a long-running verb (`codec-server`) should stop: main.ts aborts it on SIGINT and SIGTERM. */
  readonly signal?: AbortSignal
}

/** A verb of the CLI: its help text and what it does. Returns the exit code. */
export interface Command {
  readonly usage: string
  readonly summary: string
  run(args: readonly string[], io: CliIo): Promise<number>
}

/** Reads a file a flag or argument names, with an error that names it. */
export function readNamedFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
}

/** Parses JSON a user handed over, without echoing its content on failure (it may be a key). */
export function parseJsonFile(text: string, path: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new UsageError(`${what} ${path} is not valid JSON`)
  }
}

/** Prints a verb's usage; `--help` exits 0. */
export function help(io: CliIo, usage: string): number {
  io.stdout.write(usage + '\n')
  return 0
}
