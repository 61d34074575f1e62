import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { EnvSecretProvider, FileSecretProvider, MemorySecretProvider, Secret } from '../../src/crypto/secret.js'

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
