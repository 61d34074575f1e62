import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { EnvSecretProvider, FileSecretProvider, MemorySecretProvider, Secret, SecretProvider, everyResolvedSecret } from '../../src/crypto/secret.js'

const value = 's3cr3t-value-9f8e7d'

describe('Secret', () => {
  it('prints as [airlock:redacted] everywhere but reveal()', () => {
    const secret = new Secret(value, 'db')
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- interpolation is what is under test
    for (const shown of [String(secret), `${secret}`, JSON.stringify({ secret }), inspect({ secret }, { depth: 5, showHidden: true })]) {
      expect(shown).not.toContain(value)
      expect(shown).toContain('[airlock:redacted]')
    }
    expect(secret.reveal()).toBe(value)
    expect(secret.name).toBe('db')
  })
})

describe('secret providers', () => {
  it('announce every resolved secret to subscribers', async () => {
    const provider = new MemorySecretProvider({ db: value })
    const seen: string[] = []
    const unsubscribe = provider.subscribe((s) => seen.push(s.reveal()))
    expect((await provider.get('db')).reveal()).toBe(value)
    unsubscribe()
    await provider.get('db')
    expect(seen).toEqual([value])
    expect(inspect(provider)).not.toContain(value)
    expect(JSON.stringify(provider)).not.toContain(value)
  })

  it('resolve from the environment and from files, and name what is missing', async () => {
    const env = new EnvSecretProvider({ API_TOKEN: value })
    expect((await env.get('API_TOKEN')).reveal()).toBe(value)
    await expect(env.get('MISSING')).rejects.toMatchObject({ code: 'ERR_SECRET_NOT_FOUND' })

    const dir = await mkdtemp(join(tmpdir(), 'airlock-secrets-'))
    try {
      await writeFile(join(dir, 'db_password'), value + '\n')
      const files = new FileSecretProvider(dir)
      expect((await files.get('db_password')).reveal()).toBe(value)
      await expect(files.get('absent')).rejects.toMatchObject({ code: 'ERR_SECRET_NOT_FOUND' })
      await expect(files.get('../etc/passwd')).rejects.toMatchObject({ code: 'ERR_SECRET_NOT_FOUND' })
      await expect(files.get('..')).rejects.toMatchObject({ code: 'ERR_SECRET_NOT_FOUND' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('the registry of resolved secrets', () => {
  it('keeps each distinct value resolved by any provider once, and prints none of them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-secrets-'))
    try {
      const shared = 'registry-shared-5d1c9a'
      await writeFile(join(dir, 'shared'), shared)
      class VaultSecretProvider extends SecretProvider {
        protected lookup(name: string): Promise<string> {
          return Promise.resolve(`vault-${name}-77e3b1`)
        }
      }
      await new EnvSecretProvider({ SHARED: shared }).get('SHARED')
      await new FileSecretProvider(dir).get('shared')
      await new MemorySecretProvider({ again: shared, other: 'registry-other-0b4e2f' }).get('again')
      await new MemorySecretProvider({ other: 'registry-other-0b4e2f' }).get('other')
      await new VaultSecretProvider().get('kv')
      await expect(new MemorySecretProvider().get('absent')).rejects.toMatchObject({ code: 'ERR_SECRET_NOT_FOUND' })

      const values = [...everyResolvedSecret()].map((s) => s.reveal())
      expect(values.filter((v) => v === shared)).toHaveLength(1)
      expect(values).toEqual(expect.arrayContaining([shared, 'registry-other-0b4e2f', 'vault-kv-77e3b1']))

      const registry = everyResolvedSecret()
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- printing it is what is under test
      const printed = [String(registry), JSON.stringify({ registry }), inspect(registry, { showHidden: true, depth: 10 }), inspect([...registry], { depth: 10 })]
      for (const shown of printed) {
        for (const value of values) expect(shown).not.toContain(value)
      }
      expect(printed[0]).toBe('[airlock:redacted]')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
