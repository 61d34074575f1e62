import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { CanaryLeakError } from '../../src/errors.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { expectNoLeaks, generateCanaries, type Canary } from '../../src/testing/index.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-testing-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Emits every canary through a real boundary under `preset`, as parameters and as a log message. */
async function run(preset: 'balanced' | 'permissive', canaries: readonly Canary[]): Promise<{ controlPlane: MemoryControlPlane; ledgerPath: string }> {
  const controlPlane = new MemoryControlPlane()
  const ledgerPath = join(dir, `${preset}.ndjson`)
  const airlock = new AirlockBoundary({ keys: KeyRing.generate(), controlPlane, ledger: { path: ledgerPath }, policy: definePolicy({ preset }, { env: {} }) })
  for (const c of canaries) if (c.kind === 'high-entropy') airlock.scrubber.register(c.value)
  for (const c of canaries) {
    await airlock.emit({ kind: 'parameters', runId: 'r1', flowName: 'etl', parameters: { note: c.value } })
    await airlock.emit({ kind: 'log', runId: 'r1', level: 'error', msg: `saw ${c.value}` })
  }
  await airlock.close()
  return { controlPlane, ledgerPath }
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

describe('expectNoLeaks', () => {
  it('passes when the boundary scrubbed every canary, in memory and in the ledger', async () => {
    const canaries = generateCanaries()
    const { controlPlane, ledgerPath } = await run('balanced', canaries)
    expect(controlPlane.events).toHaveLength(2 * canaries.length)
    expect(expectNoLeaks(controlPlane, canaries)).toBeUndefined()
    await expect(expectNoLeaks(ledgerPath, canaries)).resolves.toBeUndefined()
  })

  it('throws a readable CanaryLeakError naming each leak by kind, masked marker, event and path, never the canary', async () => {
    const canaries = generateCanaries()
    const { controlPlane, ledgerPath } = await run('permissive', canaries)
    const error = thrownBy(() => expectNoLeaks(controlPlane, canaries)) as CanaryLeakError
    expect(error).toBeInstanceOf(CanaryLeakError)
    expect(error.code).toBe('ERR_CANARY_LEAKED')
    const detectorKinds = canaries.filter((c) => c.kind !== 'high-entropy')
    // Permissive masks registered secrets only: every detector kind leaks, in both events.
    expect(error.total).toBe(2 * detectorKinds.length)
    const github = canaries.findIndex((c) => c.kind === 'github-token')
    const event = controlPlane.events.findIndex((e) => e.kind === 'parameters' && JSON.stringify(e).includes(canaries[github]!.secret))
    expect(error.leaks).toContainEqual({
      kind: 'github-token',
      marker: `${canaries[github]!.marker[0]}********${canaries[github]!.marker[11]}`,
      canary: github,
      seq: event + 1,
      eventId: controlPlane.events[event]!.id,
      eventKind: 'parameters',
      path: 'parameters.note',
      preview: `gh********${canaries[github]!.value.slice(-2)}`,
    })
    expect(error.message).toContain(`github-token canary #${github + 1} (marker `)
    expect(error.message).toContain(`in event ${event + 1} (parameters, id ${controlPlane.events[event]!.id}) at parameters.note: gh********`)
    for (const c of canaries) {
      expect(error.message.includes(c.secret)).toBe(false)
      expect(error.message.includes(c.marker)).toBe(false)
    }

    const fromLedger = await expectNoLeaks(ledgerPath, canaries).then(() => undefined, (err: unknown) => err)
    expect(fromLedger).toMatchObject({ code: 'ERR_CANARY_LEAKED', total: error.total })
    expect((fromLedger as Error).message.startsWith(`${error.total} canary leaks in ledger ${ledgerPath}; expected none:\n`)).toBe(true)
    // 20 listed, then "… and N more".
    expect((fromLedger as Error).message.split('\n')).toHaveLength(1 + 20 + 1)
    expect((fromLedger as Error).message).toMatch(new RegExp(`\\n  … and ${error.total - 20} more$`))
  })

  it('finds a registered canary in the encodings the scrubber masks, and plain-string canaries', () => {
    const canaries = generateCanaries()
    const punctuated = canaries[canaries.length - 1]!
    const events = [{ id: 'e1', kind: 'log', msg: `b64 ${Buffer.from(punctuated.value).toString('base64')}` }]
    const error = thrownBy(() => expectNoLeaks({ events }, canaries)) as CanaryLeakError
    expect(error.leaks).toEqual([expect.objectContaining({ kind: 'high-entropy', canary: canaries.length - 1, seq: 1, eventId: 'e1', path: 'msg' })])
    const plain = thrownBy(() => expectNoLeaks({ events: [{ msg: 'x planted-value y' }] }, ['planted-value'])) as CanaryLeakError
    expect(plain.leaks).toEqual([{ kind: 'canary', marker: 'p********e', canary: 0, seq: 1, eventId: '', eventKind: '', path: 'msg', preview: 'p********e' }])
    expect(() => expectNoLeaks({ events: [{ msg: 'clean' }] }, ['planted-value'])).not.toThrow()
  })

  it('rejects with ERR_LEDGER_TAMPERED when the ledger does not verify', async () => {
    const canaries = generateCanaries()
    const { ledgerPath } = await run('balanced', canaries)
    const lines = (await readFile(ledgerPath, 'utf8')).split('\n')
    lines[3] = lines[3]!.replace('"level":"error"', '"level":"fatal"')
    await writeFile(ledgerPath, lines.join('\n'))
    await expect(expectNoLeaks(ledgerPath, canaries)).rejects.toMatchObject({ code: 'ERR_LEDGER_TAMPERED', seq: 4 })
  })

  it('refuses bad input with ERR_INVALID_ARGUMENT', async () => {
    const canaries = generateCanaries()
    expect(thrownBy(() => expectNoLeaks(new MemoryControlPlane(), []))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(thrownBy(() => expectNoLeaks({ events: 'x' } as never, canaries))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(thrownBy(() => expectNoLeaks(null as never, canaries))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(thrownBy(() => expectNoLeaks({ events: [] }, ['abc']))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(expectNoLeaks(join(dir, 'absent.ndjson'), canaries)).rejects.toMatchObject({ code: 'ERR_STORAGE' })
  })

  it('imports no test framework, and runs under node:test', async () => {
    const sources = join(import.meta.dirname, '../../src/testing')
    for (const file of await readdir(sources)) {
      const text = await readFile(join(sources, file), 'utf8')
      expect(text, file).not.toMatch(/from ['"](vitest|jest|@jest\/[^'"]+|node:test|mocha)['"]/)
    }
    const script = join(dir, 'kit.test.mjs')
    await writeFile(
      script,
      `import { test } from 'node:test'
import assert from 'node:assert/strict'
const kit = await import(${JSON.stringify(pathToFileURL(join(sources, 'index.ts')).href)})
test('clean events pass', () => {
  kit.expectNoLeaks({ events: [{ kind: 'log', msg: 'nothing here' }] }, kit.generateCanaries())
})
test('a leak throws ERR_CANARY_LEAKED', () => {
  const canaries = kit.generateCanaries()
  assert.throws(() => kit.expectNoLeaks({ events: [{ kind: 'log', msg: canaries[1].value }] }, canaries), { code: 'ERR_CANARY_LEAKED' })
})
`,
    )
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', script], { cwd: join(import.meta.dirname, '../..') })
    expect(stdout).toMatch(/# pass 2/)
    expect(stdout).toMatch(/# fail 0/)
  })
})
