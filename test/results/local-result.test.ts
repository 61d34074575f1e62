import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { inspect } from 'node:util'
import { decodeProtectedHeader } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { CompressedSerializer } from '../../src/results/compressed-serializer.js'
import { DateTimeSerializer } from '../../src/results/date-time-serializer.js'
import { LocalResult } from '../../src/results/local-result.js'
import type { Serializer } from '../../src/results/serializer.js'
import { StructuredSerializer } from '../../src/results/structured-serializer.js'

let root: string
let dir: string
let outside: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'airlock-local-result-'))
  dir = join(root, 'results')
  outside = join(root, 'outside')
  await mkdir(outside)
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(path, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(path.length + 1))
    .sort()
}

function kidOf(token: string): unknown {
  return decodeProtectedHeader(token.slice('alk1.'.length)).kid
}

async function rejection(pending: Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await pending
  } catch (err) {
    return err as Error & { code: string }
  }
  throw new Error('expected a rejection')
}

describe('LocalResult', () => {
  it('works exactly as the docs/design.md example says', async () => {
    const keys = KeyRing.generate()
    const value = { customer: 'needle-value-ada@example.com', rows: [1, 2, 3] }
    const r = new LocalResult({ dir, location: '{taskName}/{date}.json', locationCipher: keys })
    const written = await r.write(value, { taskName: 'load', date: '2026-11-21' })
    expect(written.location?.startsWith('alk1.')).toBe(true)
    expect(LocationCipher.isToken(written.location)).toBe(true)
    expect(written.plainLocation).toBe('load/2026-11-21.json')
    expect(JSON.parse(JSON.stringify(written))).toEqual({ type: 'local', location: written.location })
    const read = await r.read(written.location)
    expect(read.value).toEqual(value)
    expect(read).toBeInstanceOf(LocalResult)
    expect(await r.exists(written.location)).toBe(true)
    expect(await filesUnder(dir)).toEqual(['load/2026-11-21.json'])
  })

  it('writes a Buffer and a class instance with the default serializer, and reads them back (issue 14, item 2)', async () => {
    class Receipt {
      constructor(readonly card: string, readonly amount: number, readonly at: Date) {}
    }
    const r = new LocalResult({ dir, locationCipher: KeyRing.generate() })
    const bytes = await r.write(Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff]))
    const back = (await r.read(bytes.location)).value
    expect(Buffer.isBuffer(back)).toBe(true)
    expect([...(back as Buffer)]).toEqual([0x25, 0x50, 0x44, 0x46, 0x00, 0xff])
    const receipt = await r.write(new Receipt('tok_visa', 1250, new Date('2026-11-21T09:00:00.000Z')))
    expect((await r.read(receipt.location)).value).toEqual({ card: 'tok_visa', amount: 1250, at: new Date('2026-11-21T09:00:00.000Z') })
  })

  it('returns new results of the same class and leaves the configured one empty', async () => {
    const r = new LocalResult({ dir, location: 'a.json' })
    const written = await r.write(1)
    expect(written).not.toBe(r)
    expect(written).toBeInstanceOf(LocalResult)
    expect(written.value).toBe(1)
    expect(r.value).toBeUndefined()
    expect(r.location).toBeUndefined()
    expect(r.plainLocation).toBeUndefined()
    expect(JSON.stringify(r)).toBe('{"type":"local"}')
    // A carried result works like its configured one.
    const again = await written.write(2)
    expect((await again.read('a.json')).value).toBe(2)
    expect(r.type).toBe('local')
    expect(r.inline).toBe(false)
  })

  it('keeps the value, the plain location and dir out of JSON, inspect and property walks', async () => {
    const value = { secret: 'needle-value-7f3a' }
    const r = new LocalResult({ dir, location: 'needle-loc-{taskName}/out.json', locationCipher: KeyRing.generate() })
    const written = await r.write(value, { taskName: 'q9' })
    expect(written.plainLocation).toBe('needle-loc-q9/out.json')
    for (const shown of [JSON.stringify(written), inspect(written, { depth: 10, showHidden: true }), JSON.stringify({ ...written }), String(Object.keys(written))]) {
      expect(shown).not.toContain('needle-value')
      expect(shown).not.toContain('needle-loc')
      expect(shown).not.toContain(root)
    }
    expect(inspect(written)).toMatch(/^LocalResult \{\s+type: 'local',\s+location: 'alk1\./)
    expect(Object.keys(JSON.parse(JSON.stringify(written)) as object)).toEqual(['type', 'location'])
  })

  it('without a location cipher, location is the plain location', async () => {
    const r = new LocalResult({ dir, location: '{taskName}.json' })
    const written = await r.write('v', { taskName: 'load' })
    expect(written.location).toBe('load.json')
    expect(written.plainLocation).toBe('load.json')
    expect((await r.read('load.json')).value).toBe('v')
  })

  it('reads a plain location when a cipher is set, and carries its token', async () => {
    const keys = KeyRing.generate()
    const r = new LocalResult({ dir, location: 'p.json', locationCipher: new LocationCipher(keys) })
    await r.write({ a: 1 })
    const read = await r.read('p.json')
    expect(read.value).toEqual({ a: 1 })
    expect(read.plainLocation).toBe('p.json')
    expect(read.location?.startsWith('alk1.')).toBe(true)
    expect((await r.read(read.location as string)).value).toEqual({ a: 1 })
  })

  describe('tokens', () => {
    it('refuses a token when no cipher is set', async () => {
      const token = await new LocationCipher(KeyRing.generate()).encrypt('a.json')
      const r = new LocalResult({ dir })
      expect(await rejection(r.read(token))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/no locationCipher/) as unknown })
      expect(await rejection(r.exists(token))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    })

    it('refuses a token made with another key ring with ERR_UNKNOWN_KID', async () => {
      const r = new LocalResult({ dir, location: 'a.json', locationCipher: KeyRing.generate() })
      const other = new LocalResult({ dir, location: 'a.json', locationCipher: KeyRing.generate() })
      const written = await other.write('v')
      expect(await rejection(r.read(written.location))).toMatchObject({ code: 'ERR_UNKNOWN_KID' })
      expect(await rejection(r.exists(written.location))).toMatchObject({ code: 'ERR_UNKNOWN_KID' })
    })

    it('refuses a modified token with ERR_TOKEN_INVALID', async () => {
      const r = new LocalResult({ dir, location: 'a.json', locationCipher: KeyRing.generate() })
      const token = (await r.write('v')).location
      const parts = token.split('.')
      const ciphertext = parts[4] as string
      parts[4] = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1)
      const modified = parts.join('.')
      expect(await rejection(r.read(modified))).toMatchObject({ code: 'ERR_TOKEN_INVALID' })
      expect(await rejection(r.exists(modified))).toMatchObject({ code: 'ERR_TOKEN_INVALID' })
      expect(await rejection(r.read(token.slice(0, -4)))).toMatchObject({ code: 'ERR_TOKEN_INVALID' })
    })

    it('survives a key rotation: written before, read after', async () => {
      const keys = KeyRing.generate()
      const r = new LocalResult({ dir, location: '{taskName}.json', locationCipher: keys })
      const before = await r.write({ v: 'old' }, { taskName: 'a' })
      const oldKid = keys.activeKid
      keys.rotate()
      expect((await r.read(before.location)).value).toEqual({ v: 'old' })
      const after = await r.write({ v: 'new' }, { taskName: 'b' })
      expect(kidOf(before.location)).toBe(oldKid)
      expect(kidOf(after.location)).toBe(keys.activeKid)
      expect(keys.activeKid).not.toBe(oldKid)
      // Another process loading the exported key set reads both.
      const elsewhere = new LocalResult({ dir, locationCipher: KeyRing.fromJSON(keys.export()) })
      expect((await elsewhere.read(before.location)).value).toEqual({ v: 'old' })
      expect((await elsewhere.read(after.location)).value).toEqual({ v: 'new' })
    })
  })

  describe('atomic writes', () => {
    it('leaves no temporary file after a successful write, and replaces an existing one', async () => {
      const r = new LocalResult({ dir, location: 'deep/er/{taskName}.json' })
      await r.write({ n: 1 }, { taskName: 't' })
      await r.write({ n: 2 }, { taskName: 't' })
      expect(await filesUnder(dir)).toEqual(['deep/er/t.json'])
      expect((await r.read('deep/er/t.json')).value).toEqual({ n: 2 })
    })

    it('leaves no file when the serializer fails', async () => {
      const failing: Serializer = {
        format: 'fail',
        serialize: () => {
          throw new Error('needle-serializer-message')
        },
        deserialize: () => undefined,
      }
      const r = new LocalResult({ dir, location: 'a/b.json', serializer: failing })
      const err = await rejection(r.write({ a: 1 }))
      expect(err).toMatchObject({ code: 'ERR_SERIALIZATION' })
      expect(err.message).not.toContain('needle-serializer-message')
      expect(await filesUnder(dir)).toEqual([])
      await new LocalResult({ dir }).write(1)
      const json = await rejection(new LocalResult({ dir, location: 'c.json' }).write({ fn: () => 1 }))
      expect(json).toMatchObject({ code: 'ERR_SERIALIZATION' })
      expect((await filesUnder(dir)).some((f) => f.startsWith('c.json') || f.includes('.tmp'))).toBe(false)
    })

    it('removes its temporary file when the rename fails', async () => {
      await mkdir(join(dir, 'taken.json', 'child'), { recursive: true })
      const r = new LocalResult({ dir, location: 'taken.json' })
      expect(await rejection(r.write({ a: 1 }))).toMatchObject({ code: 'ERR_STORAGE' })
      expect(await readdir(dir)).toEqual(['taken.json'])
    })
  })

  describe('locations that escape dir', () => {
    const lexical: [string, string][] = [
      ['a .. segment', '../escaped.json'],
      ['a .. segment deeper down', 'a/../../escaped.json'],
      ['a trailing .. segment', 'a/..'],
      ['an absolute path', '/tmp/outside/escaped.json'],
      ['a root path', '/etc/passwd'],
      ['a drive letter', 'C:/escaped.json'],
      ['a drive-relative path', 'C:escaped.json'],
      ['a NUL byte', 'a\u0000.json'],
      ['a backslash climb', '..\\escaped.json'],
      ['a backslash', 'a\\b.json'],
    ]

    it.each(lexical)('refuses %s on write, read and exists', async (_name, location) => {
      const r = new LocalResult({ dir, location: () => location })
      for (const pending of [r.write(1), r.read(location), r.exists(location)]) {
        const err = await rejection(pending)
        expect(err.code).toBe('ERR_LOCATION_ESCAPES_DIR')
        expect(err.message).not.toContain(location)
      }
      expect(await filesUnder(root)).toEqual([])
    })

    it('refuses an absolute path under the temp dir too', async () => {
      const absolute = join(outside, 'escaped.json')
      const err = await rejection(new LocalResult({ dir, location: () => absolute }).write(1))
      expect(err.code).toBe('ERR_LOCATION_ESCAPES_DIR')
      expect(err.message).not.toContain(outside)
    })

    it('refuses a template whose literal text climbs, but not a value that tries to', async () => {
      const climbing = new LocalResult({ dir, location: '../{taskName}.json' })
      expect(await rejection(climbing.write(1, { taskName: 't' }))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
      const r = new LocalResult({ dir, location: '{taskName}/{flowName}.json' })
      const written = await r.write(1, { taskName: '..', flowName: '../../escaped' })
      expect(written.plainLocation).toBe('%2E%2E/..%2F..%2Fescaped.json')
      expect(await filesUnder(root)).toEqual(['results/%2E%2E/..%2F..%2Fescaped.json'])
    })

    describe('through symlinks', () => {
      beforeEach(async () => {
        await mkdir(dir)
        await writeFile(join(outside, 'secret.json'), 'needle-outside-content')
        await symlink(outside, join(dir, 'evil'))
        await symlink(join(outside, 'secret.json'), join(dir, 'link.json'))
      })

      it('refuses a directory symlink that points outside, on write, read and exists', async () => {
        for (const location of ['evil/secret.json', 'evil/new/deeper/x.json', 'evil/x.json']) {
          const r = new LocalResult({ dir, location })
          expect(await rejection(r.write(1))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
          expect(await rejection(r.read(location))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
          expect(await rejection(r.exists(location))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
        }
        expect(await filesUnder(outside)).toEqual(['secret.json'])
        expect(await readdir(outside)).toEqual(['secret.json'])
        expect(await readFile(join(outside, 'secret.json'), 'utf8')).toBe('needle-outside-content')
      })

      it('refuses a file symlink that points outside', async () => {
        const r = new LocalResult({ dir, location: 'link.json' })
        expect(await rejection(r.read('link.json'))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
        expect(await rejection(r.exists('link.json'))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
        expect(await rejection(r.write(1))).toMatchObject({ code: 'ERR_LOCATION_ESCAPES_DIR' })
        expect(await readFile(join(outside, 'secret.json'), 'utf8')).toBe('needle-outside-content')
      })

      it('never writes through a dangling symlink to outside', async () => {
        await symlink(join(outside, 'created-by-write.json'), join(dir, 'dangling.json'))
        const r = new LocalResult({ dir, location: 'dangling.json' })
        await r.write({ a: 1 })
        expect(await readdir(outside)).toEqual(['secret.json'])
        expect((await r.read('dangling.json')).value).toEqual({ a: 1 })
      })

      it('follows symlinks that stay inside dir', async () => {
        await mkdir(join(dir, 'real'))
        await symlink(join(dir, 'real'), join(dir, 'alias'))
        const r = new LocalResult({ dir, location: 'alias/x.json' })
        await r.write({ a: 1 })
        expect((await r.read('alias/x.json')).value).toEqual({ a: 1 })
        expect((await r.read('real/x.json')).value).toEqual({ a: 1 })
        expect(await r.exists('alias/x.json')).toBe(true)
      })
    })
  })

  describe('missing results', () => {
    it('raise ERR_RESULT_NOT_FOUND on read, without the location in the message', async () => {
      const r = new LocalResult({ dir, location: 'a.json' })
      const missingDir = await rejection(r.read('needle-missing.json'))
      expect(missingDir).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
      await r.write(1)
      const missingFile = await rejection(r.read('needle-missing.json'))
      expect(missingFile).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
      expect(missingFile.message).not.toContain('needle')
      expect(await rejection(r.read('a.json/below.json'))).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
      await mkdir(join(dir, 'folder.json'))
      expect(await rejection(r.read('folder.json'))).toMatchObject({ code: 'ERR_RESULT_NOT_FOUND' })
    })

    it('give false from exists', async () => {
      const r = new LocalResult({ dir, location: 'a.json' })
      expect(await r.exists('a.json')).toBe(false)
      await r.write(1)
      await mkdir(join(dir, 'folder.json'))
      expect(await r.exists('a.json')).toBe(true)
      expect(await r.exists('b.json')).toBe(false)
      expect(await r.exists('folder.json')).toBe(false)
      expect(await r.exists('a.json/below.json')).toBe(false)
    })
  })

  it('checks exists for a template formatted with a context', async () => {
    const r = new LocalResult({ dir, location: '{taskName}/{today}.json' })
    await r.write(1, { taskName: 'load', today: '2026-11-21' })
    expect(await r.exists('{taskName}/{today}.json', { taskName: 'load', today: '2026-11-21' })).toBe(true)
    expect(await r.exists('{taskName}/{today}.json', { taskName: 'other', today: '2026-11-21' })).toBe(false)
  })

  it('uses a date-partitioned random default location named after the serializer', async () => {
    const r = new LocalResult({ dir, serializer: new CompressedSerializer(new StructuredSerializer(), { format: 'brotli' }) })
    const a = await r.write(new Map([['k', new Uint8Array([1])]]))
    const b = await r.write(2)
    expect(a.plainLocation).toMatch(/^\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}\.brotli$/)
    expect(a.plainLocation).not.toBe(b.plainLocation)
    expect((await r.read(a.plainLocation)).value).toEqual(new Map([['k', new Uint8Array([1])]]))
  })

  it('takes a location function of the context', async () => {
    const r = new LocalResult<Date>({ dir, location: (ctx) => `${String(ctx.taskName)}.txt`, serializer: new DateTimeSerializer() })
    const written = await r.write(new Date(0), { taskName: 'when' })
    expect(written.plainLocation).toBe('when.txt')
    expect((await r.read('when.txt')).value).toEqual(new Date(0))
    expect(r.format({ taskName: 'x' })).toBe('x.txt')
  })

  it('raises ERR_PAYLOAD_FORMAT for a file that is not its format', async () => {
    await mkdir(dir)
    await writeFile(join(dir, 'foreign.json'), '{"a":1}')
    const r = new LocalResult({ dir })
    expect(await rejection(r.read('foreign.json'))).toMatchObject({ code: 'ERR_PAYLOAD_FORMAT' })
  })

  it('raises TemplateKeyError before touching the disk', async () => {
    const r = new LocalResult({ dir, location: '{taskName}.json' })
    expect(await rejection(r.write(1, { flowName: 'f' }))).toMatchObject({ code: 'ERR_TEMPLATE_KEY_UNKNOWN' })
    expect(await filesUnder(root)).toEqual([])
  })

  it('refuses bad options', () => {
    expect(() => new LocalResult({ dir: '' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new LocalResult({} as { dir: string })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new LocalResult(undefined as unknown as { dir: string })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new LocalResult({ dir, lcoationCipher: KeyRing.generate() } as { dir: string })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/no option "lcoationCipher"/) as unknown }),
    )
    expect(() => new LocalResult({ dir, location: 'a/b.json/' }).format()).not.toThrow()
  })

  it('refuses a location that names a directory rather than a file', async () => {
    const r = new LocalResult({ dir, location: 'a/' })
    expect(await rejection(r.write(1))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(await rejection(r.read('a/.'))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })
})

describe.skipIf(process.platform === 'win32')('LocalResult file modes', () => {
  let umask: number
  beforeEach(() => {
    // No umask to narrow anything: whatever mode a file or directory has, the SDK set.
    umask = process.umask(0)
  })
  afterEach(() => {
    process.umask(umask)
  })

  async function modeOf(path: string): Promise<number> {
    return (await stat(path)).mode & 0o777
  }

  it('writes results 0600 and creates their directories 0700 by default', async () => {
    const r = new LocalResult({ dir, location: '{flowName}/{taskName}/{taskRunId}.json' })
    const written = await r.write({ rows: 1 }, { flowName: 'etl', taskName: 'load', taskRunId: 'r1' })
    const streamed = await r.writeStream(Readable.from([Buffer.from('raw bytes')]), { flowName: 'etl', taskName: 'load', taskRunId: 'r2' })
    expect(await modeOf(join(dir, written.plainLocation))).toBe(0o600)
    expect(await modeOf(join(dir, streamed.plainLocation!))).toBe(0o600)
    for (const created of [dir, join(dir, 'etl'), join(dir, 'etl', 'load')]) expect(await modeOf(created), created).toBe(0o700)
  })

  it('gives a rewritten file 0600 again, and leaves an existing directory as it is', async () => {
    await mkdir(join(dir, 'shared'), { recursive: true, mode: 0o755 })
    const r = new LocalResult({ dir, location: 'shared/{taskName}/value.json' })
    const first = await r.write(1, { taskName: 'load' })
    const file = join(dir, first.plainLocation)
    await chmod(file, 0o644)
    await r.write(2, { taskName: 'load' })
    expect(await modeOf(file)).toBe(0o600)
    expect(await modeOf(dir)).toBe(0o755)
    expect(await modeOf(join(dir, 'shared'))).toBe(0o755)
    expect(await modeOf(join(dir, 'shared', 'load'))).toBe(0o700)
  })

  it('sets fileMode and dirMode exactly, whatever the umask', async () => {
    process.umask(0o077)
    const r = new LocalResult({ dir, location: 'group/{taskName}.json', fileMode: 0o640, dirMode: 0o750 })
    const written = await r.write('shared with the group', { taskName: 'load' })
    expect(await modeOf(join(dir, written.plainLocation))).toBe(0o640)
    expect(await modeOf(dir)).toBe(0o750)
    expect(await modeOf(join(dir, 'group'))).toBe(0o750)
  })

  it('refuses a mode that is not permission bits, drops the owner bits or is world-writable, when built', () => {
    const bad: Record<string, unknown>[] = [
      { fileMode: '0600' },
      { fileMode: 1.5 },
      { fileMode: -1 },
      { fileMode: Number.NaN },
      { fileMode: 0o1600 },
      { fileMode: 0o400 },
      { fileMode: 0o200 },
      { fileMode: 0o606 },
      { fileMode: 0o666 },
      { dirMode: 0o600 },
      { dirMode: 0o500 },
      { dirMode: 0o777 },
      { dirMode: 0o2700 },
      { dirMode: null },
    ]
    for (const modes of bad) {
      expect(() => new LocalResult({ dir, ...modes }), JSON.stringify(modes)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/LocalResult (fileMode|dirMode)/) as unknown }),
      )
    }
    for (const modes of [{ fileMode: 0o600, dirMode: 0o700 }, { fileMode: 0o660, dirMode: 0o770 }, { fileMode: 0o644, dirMode: 0o755 }]) {
      expect(() => new LocalResult({ dir, ...modes }), JSON.stringify(modes)).not.toThrow()
    }
  })
})
