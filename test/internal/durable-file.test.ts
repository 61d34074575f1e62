import fs from 'node:fs'
import { mkdtemp, open, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { syncDirectory, syncDirectorySync } from '../../src/internal/durable-file.js'

// Windows has no directory fsync; both functions are no-ops there.
describe.skipIf(process.platform === 'win32')('durable-file', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-durable-'))
  })
  afterEach(async () => {
    vi.restoreAllMocks()
    syncBuiltinESMExports()
    await rm(dir, { recursive: true, force: true })
  })

  // The fsync itself is watched (the real call still runs): a version that
  // opened and closed the directory without syncing it would fail here.
  it('fsyncs the directory itself, async', async () => {
    await writeFile(join(dir, 'entry'), 'x')
    const probe = await open(dir, 'r')
    const handlePrototype = Object.getPrototypeOf(probe) as FileHandle
    await probe.close()
    const synced: number[] = []
    vi.spyOn(handlePrototype, 'sync').mockImplementation(async function (this: FileHandle) {
      synced.push((await this.stat()).ino)
      fs.fsyncSync(this.fd) // the real fsync, on the same descriptor
    })
    await expect(syncDirectory(dir)).resolves.toBeUndefined()
    expect(synced).toEqual([(await stat(dir)).ino])
  })

  it('fsyncs the directory itself, sync', async () => {
    await writeFile(join(dir, 'entry'), 'x')
    const real = fs.fsyncSync
    const synced: number[] = []
    vi.spyOn(fs, 'fsyncSync').mockImplementation((fd: number) => {
      synced.push(fs.fstatSync(fd).ino)
      real(fd)
    })
    syncBuiltinESMExports()
    expect(syncDirectorySync(dir)).toBeUndefined()
    expect(synced).toEqual([(await stat(dir)).ino])
  })

  it('opens the directory for real: a missing one fails with ENOENT', async () => {
    const missing = join(dir, 'missing')
    await expect(syncDirectory(missing)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(() => syncDirectorySync(missing)).toThrow(expect.objectContaining({ code: 'ENOENT' }))
  })
})
