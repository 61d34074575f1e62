import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { MemorySecretProvider, Secret } from '../../src/crypto/secret.js'
import { SecretResult } from '../../src/results/secret-result.js'

describe('SecretResult', () => {
  const provider = (): MemorySecretProvider => new MemorySecretProvider({ db_password: 'needle-hunter2' })

  it('reads the Secret from its provider, announcing it to subscribers', async () => {
    const secrets = provider()
    const seen: string[] = []
    secrets.subscribe((s) => seen.push(s.reveal()))
    const r = new SecretResult(secrets, 'db_password')
    const read = await r.read()
    expect(read).toBeInstanceOf(SecretResult)
    expect(read.value).toBeInstanceOf(Secret)
    expect(read.value.reveal()).toBe('needle-hunter2')
    expect(seen).toEqual(['needle-hunter2'])
    expect((await r.read('db_password')).value.reveal()).toBe('needle-hunter2')
  })

  it('serializes as its type and name only', async () => {
    const r = new SecretResult(provider(), 'db_password')
    const read = await r.read()
    for (const result of [r, read]) {
      expect(JSON.stringify(result)).toBe('{"type":"secret","location":"db_password"}')
      expect(inspect(result, { showHidden: true, depth: 10 })).not.toContain('needle')
    }
    expect(JSON.stringify({ value: read.value })).not.toContain('needle')
    expect(r.format()).toBe('db_password')
    expect(r.plainLocation).toBe('db_password')
  })

  it('is read-only', async () => {
    await expect(new SecretResult(provider(), 'db_password').write()).rejects.toMatchObject({ code: 'ERR_RESULT_READ_ONLY' })
  })

  it('tells whether the provider has the secret', async () => {
    expect(await new SecretResult(provider(), 'db_password').exists()).toBe(true)
    expect(await new SecretResult(provider(), 'nope').exists()).toBe(false)
    await expect(new SecretResult(provider(), 'nope').read()).rejects.toMatchObject({ code: 'ERR_SECRET_NOT_FOUND' })
  })

  it('refuses to resolve any other secret than its own', async () => {
    const secrets = provider()
    secrets.set('other', 'needle-other')
    const r = new SecretResult(secrets, 'db_password')
    await expect(r.read('other')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(r.exists('other')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })

  it('refuses a missing provider or name', () => {
    expect(() => new SecretResult({} as MemorySecretProvider, 'x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => new SecretResult(provider(), '')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
