import { closeSync, fsyncSync, openSync } from 'node:fs'
import { open } from 'node:fs/promises'

/*
 * A file created, renamed or deleted is durable only once the directory that
 * holds its entry is fsynced: the file's own fsync does not cover the entry.
 * Windows cannot open a directory to fsync it; NTFS journals the change, so
 * there both functions do nothing. Errors are Node's own (they carry the
 * path): callers map them to their typed errors. Internal to airlock-sdk.
 */

/**
 * Fsyncs the directory `dir`, so that entries created, renamed or removed in
 * it survive a crash.
 *
 * @example
 * ```ts
 * await rename(temp, target)
 * await syncDirectory(dirname(target))
 * ```
 */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * {@link syncDirectory} for code that touches the disk synchronously.
 *
 * @example
 * ```ts
 * renameSync(temp, target)
 * syncDirectorySync(dirname(target))
 * ```
 */
export function syncDirectorySync(dir: string): void {
  if (process.platform === 'win32') return
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
