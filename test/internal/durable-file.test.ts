import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { syncDirectory, syncDirectorySync } from '../../src/internal/durable-file.js'

// Windows has no directory fsync; both functions are no-ops there.
describe.skipIf(process.platform === 'win32')('durable-file', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-durable-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('fsyncs an existing directory, async and sync', async () => {
    await writeFile(join(dir, 'entry'), 'x')
    await expect(syncDirectory(dir)).resolves.toBeUndefined()
    expect(syncDirectorySync(dir)).toBeUndefined()
  })

  it('opens the directory for real: a missing one fails with ENOENT', async () => {
    const missing = join(dir, 'missing')
    await expect(syncDirectory(missing)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(() => syncDirectorySync(missing)).toThrow(expect.objectContaining({ code: 'ENOENT' }))
  })
})
