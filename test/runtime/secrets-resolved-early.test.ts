/* eslint-disable @typescript-eslint/require-await -- the tasks under test are async functions as users write them, many with nothing to await */
// A secret resolved through an SDK provider before the Airlock exists must be
// masked by it all the same: the order of the two is not the user's to get right.
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EnvSecretProvider, FileSecretProvider, MemorySecretProvider, SecretProvider, type Secret } from '../../src/crypto/index.js'
import { Scrubber } from '../../src/index.js'
import { SECRET_TOO_SHORT_WARNING } from '../../src/scrub/index.js'
import { airlockIn, workspace, type Workspace } from './fixture.js'

let ws: Workspace
beforeEach(async () => {
  ws = await workspace()
})
afterEach(async () => {
  await ws.cleanup()
})

const REGISTERED = '[REDACTED:registered-secret]'

// Plain words: no detector finds them, so only registration can mask them.
function plainSecret(): string {
  const words = ['tangerine', 'lighthouse', 'orbit', 'meadow', 'quartz', 'harbor', 'violet', 'summit']
  const pick = (): string => words[randomBytes(1)[0]! % words.length]!
  return `${pick()}-${pick()}-${pick()}-${randomBytes(3).readUIntBE(0, 3) % 1000}`
}

class VaultSecretProvider extends SecretProvider {
  readonly #values: Readonly<Record<string, string>>
  constructor(values: Readonly<Record<string, string>>) {
    super()
    this.#values = values
  }
  protected lookup(name: string): Promise<string> {
    return Promise.resolve(this.#values[name] ?? '')
  }
}

const providers: Record<string, (value: string, dir: string) => Promise<Secret<string>>> = {
  EnvSecretProvider: async (value) => new EnvSecretProvider({ API_CREDENTIAL: value }).get('API_CREDENTIAL'),
  FileSecretProvider: async (value, dir) => {
    await writeFile(join(dir, 'api_credential'), `${value}\n`)
    return new FileSecretProvider(dir).get('api_credential')
  },
  MemorySecretProvider: async (value) => new MemorySecretProvider({ credential: value }).get('credential'),
  'a SecretProvider subclass': async (value) => new VaultSecretProvider({ credential: value }).get('credential'),
}

describe.each(Object.keys(providers))('a secret resolved through %s before new Airlock()', (kind) => {
  it('is masked in parameters, log messages and fields, and error messages, on the wire and in the ledger', async () => {
    const secret = plainSecret()
    const unregistered = `${plainSecret()}-never-resolved`
    const dir = await mkdtemp(join(tmpdir(), 'airlock-early-secret-'))
    try {
      const resolved = await providers[kind]!(secret, dir)
      expect(resolved.reveal()).toBe(secret)

      const { airlock, controlPlane, ledgerPath } = airlockIn(ws, {
        logger: { level: 'info', destination: new Writable({ write: (_chunk, _encoding, done) => done() }) },
      })
      const call = airlock.task(
        async (note: string) => {
          airlock.logger.info({ detail: `sent ${note}` }, `calling the api with ${secret}`)
          throw new Error(`the api refused ${secret} (${unregistered})`)
        },
        { name: 'call' },
      )
      const etl = airlock.flow('etl', async ({ note }: { note: string }) => call(note))
      airlock.logger.warn(`outside any run: ${secret}`)

      const run = await etl.run({ note: `uses ${secret} today` })
      await airlock.close()

      expect(run.state).toBe('Failed')
      const wire = JSON.stringify(controlPlane.events)
      const ledger = await readFile(ledgerPath, 'utf8')
      for (const text of [wire, ledger]) {
        expect(text).not.toContain(secret)
        expect(text).toContain(REGISTERED)
        // The control: a value no provider resolved passes as it is, so the masking above is registration's doing.
        expect(text).toContain(unregistered)
      }
      const parameters = controlPlane.events.find((e) => e.kind === 'parameters')
      expect(parameters).toMatchObject({ parameters: { note: `uses ${REGISTERED} today` } })
      const logs = controlPlane.events.filter((e) => e.kind === 'log')
      expect(logs.map((e) => e.msg)).toEqual(expect.arrayContaining([`outside any run: ${REGISTERED}`, `calling the api with ${REGISTERED}`]))
      expect(logs.find((e) => e.msg.startsWith('calling'))).toMatchObject({ fields: { detail: `sent uses ${REGISTERED} today` } })
      const failed = controlPlane.events.find((e) => e.kind === 'task-run-state' && e.state === 'Failed')
      expect(failed).toMatchObject({ failure: { message: `the api refused ${REGISTERED} (${unregistered})` } })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('a Scrubber built after secrets were resolved', () => {
  it('starts from every one of them, and refuses a too-short one without a warning', async () => {
    const secret = plainSecret()
    const short = 'k9z'
    await new MemorySecretProvider({ long: secret, short }).get('long')
    const warnings: string[] = []
    const listener = (warning: Error & { code?: string }): void => {
      if (warning.code === SECRET_TOO_SHORT_WARNING) warnings.push(warning.message)
    }
    process.on('warning', listener)
    try {
      await new MemorySecretProvider({ short }).get('short')
      const scrubber = new Scrubber()
      const second = new Scrubber()
      await new Promise((resolve) => setImmediate(resolve))
      expect(scrubber.scrubString(`a ${secret} b`)).toBe(`a ${REGISTERED} b`)
      expect(second.scrubString(`a ${secret} b`)).toBe(`a ${REGISTERED} b`)
      expect(scrubber.scrubString(`pin ${short}`)).toBe(`pin ${short}`)
      expect(warnings).toEqual([])
    } finally {
      process.off('warning', listener)
    }
  })
})
