import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { link, mkdir, open, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join, posix, resolve, sep, win32 } from 'node:path'
import type { Readable } from 'node:stream'
import { InvalidArgumentError, LocationEscapesDirError, ResultExistsError, ResultNotFoundError, StorageError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'
import { syncDirectory } from '../internal/durable-file.js'
import { Result, type ResultOptions } from './result.js'

/**
 * Options of a {@link LocalResult}.
 *
 * @example
 * ```ts
 * const options: LocalResultOptions = { dir: 'results', location: '{taskName}/{today}.json', locationCipher: keys }
 * ```
 */
export interface LocalResultOptions<T = unknown> extends ResultOptions<T> {
  /** The directory every location is relative to; created on the first write. Relative paths resolve against the working directory at construction. */
  dir: string
  /**
   * The permission bits of every file written: results, persisted inputs,
   * cache entries. Default `0o600` (owner read and write). The file gets
   * exactly these bits, whatever the process umask. Widen it only when other
   * accounts must read the results directly (`0o640` for a group); it must
   * keep `0o600` and may not be world-writable.
   */
  fileMode?: number
  /**
   * The permission bits of every directory a write creates, `dir` included
   * when it does not exist yet. Default `0o700`. A created directory gets
   * exactly these bits, whatever the umask; a directory that already exists
   * is left as it is (it is yours). It must keep `0o700` and may not be
   * world-writable.
   */
  dirMode?: number
}

/** The default {@link LocalResultOptions.fileMode}: owner read and write. */
const DEFAULT_FILE_MODE = 0o600
/** The default {@link LocalResultOptions.dirMode}: owner only. */
const DEFAULT_DIR_MODE = 0o700
// A directory opened to set its mode: never through a symlink swapped in for it.
const DIRECTORY_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0)

const MISSING = new Set(['ENOENT', 'ENOTDIR'])
const DRIVE_LETTER = /^[A-Za-z]:/
// O_NOFOLLOW does not exist on Windows; there the realpath check stands alone.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0)
// readStream reads 1 MiB at a time: measured 1.3x (encrypted) to 2.5x (plain)
// the throughput of the default 64 KiB, whose pieces never line up with the
// cipher's 64 KiB + 16-byte segments either.
const READ_CHUNK_BYTES = 1024 * 1024

/**
 * Results stored as files under one directory.
 *
 * Writes are atomic: the bytes go to a temporary file in the target's own
 * directory, which is fsynced and then renamed over the target, and the
 * directory is fsynced after the rename (as is every directory the write
 * created). A crash leaves the old file or the new one, never half of one;
 * a write that fails removes its temporary file. `writeStream` is atomic the
 * same way: the stream goes to the temporary file, which becomes the result
 * only once the whole stream is in it; `readStream` reads the file in 1 MiB
 * pieces. Memory stays constant whatever the size.
 *
 * A location never leaves `dir`. On every write, read and exists, before any
 * file is touched, a location is refused with `LocationEscapesDirError`
 * (`ERR_LOCATION_ESCAPES_DIR`) if it holds a NUL byte, a backslash, a `..`
 * segment, or is absolute (`/x`, `C:x`). Then it is resolved through the
 * real path of its deepest existing ancestor, so a symlink inside `dir`
 * that points outside it is refused too; symlinks that stay inside are
 * followed. The check is made against the file system at the time of the
 * call: someone who can write inside `dir` concurrently can still race it,
 * as with any path-based check, and reads open the file with `O_NOFOLLOW`
 * to narrow that window.
 *
 * Files are private by default, since without a payload cipher they hold
 * task values and inputs in the clear: every file written is `0o600` and
 * every directory a write creates is `0o700`, set by the SDK itself (not left
 * to the umask). A directory that already exists keeps its mode. `fileMode`
 * and `dirMode` widen them when other accounts must read the files.
 *
 * `toJSON()` is `{ type: 'local', location }`. `dir` is left out on
 * purpose: it is a path on this machine (often with a user name in it),
 * which the control plane does not need and should not learn.
 *
 * @throws {InvalidArgumentError} at construction for a `dir`, `fileMode` or
 *   `dirMode` that is not valid.
 *
 * @example
 * ```ts
 * import { KeyRing, LocalResult } from 'airlock-sdk'
 *
 * const shared = new LocalResult({ dir: 'results', fileMode: 0o640, dirMode: 0o750 })   // readable by the group
 * const r = new LocalResult({ dir: 'results', location: '{taskName}/{date}.json', locationCipher: KeyRing.generate() })
 * const written = await r.write({ rows: 42 }, { taskName: 'load', date: '2026-11-21' })
 * written.plainLocation          // 'load/2026-11-21.json'
 * await r.read(written.location) // .value is { rows: 42 }
 * await r.read('../etc/passwd')  // throws ERR_LOCATION_ESCAPES_DIR
 * ```
 */
export class LocalResult<T = unknown> extends Result<T> {
  readonly #dir: string
  readonly #modes: Modes

  constructor(options: LocalResultOptions<T>) {
    super(options, ['dir', 'fileMode', 'dirMode'])
    const dir: unknown = options.dir
    if (typeof dir !== 'string' || dir === '' || dir.includes('\0')) {
      throw new InvalidArgumentError(`LocalResult needs dir, a non-empty path without NUL bytes, found ${describeType(dir)}`)
    }
    this.#dir = resolve(dir)
    this.#modes = {
      file: checkedMode(options.fileMode, DEFAULT_FILE_MODE, 'fileMode'),
      dir: checkedMode(options.dirMode, DEFAULT_DIR_MODE, 'dirMode'),
    }
  }

  get type(): 'local' {
    return 'local'
  }

  protected writeBytes(plainLocation: string, bytes: Uint8Array): Promise<void> {
    return this.#store(plainLocation, bytes)
  }

  protected override writeStreamAt(plainLocation: string, body: Readable): Promise<void> {
    return this.#store(plainLocation, body)
  }

  protected override async readStreamAt(plainLocation: string): Promise<Readable> {
    const target = await this.#existingTarget(plainLocation)
    if (target === undefined) throw notFound()
    let handle: FileHandle | undefined
    let isFile = false
    try {
      handle = await open(target, READ_FLAGS)
      // Opening a directory read-only succeeds; reading it would not.
      isFile = (await handle.stat()).isFile()
    } catch (err) {
      await handle?.close()
      if (MISSING.has(code(err))) throw notFound()
      throw storageError('read the result', err)
    }
    if (!isFile) {
      await handle.close()
      throw notFound()
    }
    const chunks = handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES })
    return this.storageStream(chunks, (err) => storageError('read the result', err))
  }

  async #store(plainLocation: string, content: Uint8Array | Readable): Promise<void> {
    const segments = relativeSegments(plainLocation)
    await makeDirectories(this.#dir, this.#modes.dir)
    const root = await storage('resolve the result directory', realpath(this.#dir))
    // Resolved before any directory is made: `mkdir -p` through a symlink
    // that points outside would create directories there.
    const target = await insideTarget(root, segments)
    await makeDirectories(dirname(target), this.#modes.dir)
    // A directory on the way could have been swapped for a symlink meanwhile.
    const parent = await storage('resolve the result directory', realpath(dirname(target)))
    assertInside(root, parent)
    await writeAtomically(join(parent, basename(target)), content, this.#modes.file, this.overwrite)
  }

  protected async readBytes(plainLocation: string): Promise<Uint8Array> {
    const target = await this.#existingTarget(plainLocation)
    if (target === undefined) throw notFound()
    let handle: FileHandle | undefined
    try {
      handle = await open(target, READ_FLAGS)
      return await handle.readFile()
    } catch (err) {
      if (MISSING.has(code(err)) || code(err) === 'EISDIR') throw notFound()
      throw storageError('read the result', err)
    } finally {
      await handle?.close()
    }
  }

  protected async existsAt(plainLocation: string): Promise<boolean> {
    const target = await this.#existingTarget(plainLocation)
    if (target === undefined) return false
    try {
      return (await stat(target)).isFile()
    } catch (err) {
      if (MISSING.has(code(err))) return false
      throw storageError('check the result', err)
    }
  }

  // The real path of a location, or undefined when `dir` does not exist yet.
  async #existingTarget(plainLocation: string): Promise<string | undefined> {
    const segments = relativeSegments(plainLocation)
    let root: string
    try {
      root = await realpath(this.#dir)
    } catch (err) {
      if (MISSING.has(code(err))) return undefined
      throw storageError('resolve the result directory', err)
    }
    return insideTarget(root, segments)
  }
}

function escapes(how: string): LocationEscapesDirError {
  return new LocationEscapesDirError(`a LocalResult location must stay inside its directory, found one that ${how}`)
}

function notFound(): ResultNotFoundError {
  return new ResultNotFoundError('LocalResult found no result at the given location')
}

// The lexical check: everything that can be refused without the file system.
function relativeSegments(location: string): string[] {
  if (location.includes('\0')) throw escapes('holds a NUL byte')
  // A separator on Windows, and never needed in a portable location.
  if (location.includes('\\')) throw escapes('holds a backslash')
  if (posix.isAbsolute(location) || win32.isAbsolute(location) || DRIVE_LETTER.test(location)) {
    throw escapes('is an absolute path')
  }
  const segments = location.split('/')
  if (segments.includes('..')) throw escapes("has a '..' segment")
  const last = segments.at(-1)
  if (last === '' || last === '.') {
    throw new InvalidArgumentError('a LocalResult location must name a file, found one ending in / or .')
  }
  return segments.filter((s) => s !== '' && s !== '.')
}

function assertInside(root: string, real: string): void {
  if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw escapes('resolves through a symlink to outside the directory')
  }
}

// The target's path with every existing component resolved: the real path of
// its deepest existing ancestor (the target itself when it exists), checked
// to be inside `root`, followed by the components that do not exist yet.
async function insideTarget(root: string, segments: readonly string[]): Promise<string> {
  for (let depth = segments.length; depth > 0; depth--) {
    let real: string
    try {
      real = await realpath(join(root, ...segments.slice(0, depth)))
    } catch (err) {
      if (MISSING.has(code(err))) continue
      throw storageError('resolve the location', err)
    }
    assertInside(root, real)
    return join(real, ...segments.slice(depth))
  }
  return join(root, ...segments)
}

async function makeDirectories(path: string, mode: number): Promise<void> {
  // Created with `mode` (which the umask can only narrow), then set to it exactly.
  const created = await storage('create the result directory', mkdir(path, { recursive: true, mode }))
  if (created === undefined) return
  const stop = dirname(created)
  for (let dir = path; dir !== stop && dir !== dirname(dir); dir = dirname(dir)) {
    await storage('set the mode of the result directory', setDirectoryMode(dir, mode))
  }
  // Each new directory's entry lives in its parent: sync from the deepest
  // new directory up to the parent of the first one made.
  for (let dir = path; ; dir = dirname(dir)) {
    await storage('sync the result directory', syncDirectory(dir))
    if (dir === stop || dir === dirname(dir)) break
  }
}

// Through a handle opened without following a symlink, so a directory swapped
// for a link after mkdir fails the write rather than lending its mode to the
// link's target. Windows has no POSIX modes to set.
async function setDirectoryMode(dir: string, mode: number): Promise<void> {
  if (process.platform === 'win32') return
  const handle = await open(dir, DIRECTORY_FLAGS)
  try {
    await handle.chmod(mode)
  } finally {
    await handle.close()
  }
}

async function writeAtomically(target: string, content: Uint8Array | Readable, mode: number, overwrite: boolean): Promise<void> {
  const temp = join(dirname(target), `.airlock-${randomBytes(8).toString('hex')}.tmp`)
  let handle: FileHandle | undefined
  try {
    // `wx` is O_CREAT | O_EXCL: never follows or reuses something already there.
    // Created with `mode`, never wider, then set to it exactly whatever the umask,
    // before a byte is written; the rename keeps it.
    handle = await open(temp, 'wx', mode)
    await handle.chmod(mode)
    if (content instanceof Uint8Array) await handle.writeFile(content)
    else for await (const chunk of content as AsyncIterable<Uint8Array>) await writeAll(handle, chunk)
    await handle.sync()
    await handle.close()
    handle = undefined
    if (overwrite) {
      await rename(temp, target)
    } else {
      // link() fails with EEXIST when the target exists, atomically: unlike
      // rename, it never replaces. The temp name is then dropped.
      await link(temp, target)
      await rm(temp, { force: true })
    }
  } catch (err) {
    await handle?.close().catch(() => undefined)
    await rm(temp, { force: true }).catch(() => undefined)
    if (!overwrite && code(err) === 'EEXIST') {
      throw new ResultExistsError('LocalResult found a result already stored at the location, and overwrite is false')
    }
    throw storageError('write the result', err)
  }
  await storage('sync the result directory', syncDirectory(dirname(target)))
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  // A write may take fewer bytes than it was given.
  for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at)).bytesWritten
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? ''
}

// Node's own messages hold the path, which is the plain location: keep the code only.
function storageError(action: string, err: unknown): StorageError {
  return new StorageError(`LocalResult could not ${action}: ${code(err) || (err as Error)?.name || 'error'}`)
}

async function storage<T>(action: string, pending: Promise<T>): Promise<T> {
  try {
    return await pending
  } catch (err) {
    throw storageError(action, err)
  }
}

interface Modes {
  readonly file: number
  readonly dir: number
}

// The SDK must still read and write what it stores (the owner's bits), and a
// world-writable file or directory would let any account on the machine plant
// a result or a cache entry that a run then trusts.
// The defaults are exactly the owner's bits, which every mode must keep.
function checkedMode(given: unknown, fallback: number, option: 'fileMode' | 'dirMode'): number {
  if (given === undefined) return fallback
  const ownerBits = fallback
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 0 || given > 0o777) {
    throw new InvalidArgumentError(`LocalResult ${option} must be permission bits from 0o000 to 0o777, such as 0o${fallback.toString(8)}, found ${describeModeValue(given)}`)
  }
  if ((given & ownerBits) !== ownerBits) {
    throw new InvalidArgumentError(`LocalResult ${option} must keep the owner's bits 0o${ownerBits.toString(8)}, found 0o${given.toString(8)}`)
  }
  if ((given & 0o002) !== 0) {
    throw new InvalidArgumentError(`LocalResult ${option} must not be world-writable, found 0o${given.toString(8)}`)
  }
  return given
}

function describeModeValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : describeType(value)
}
