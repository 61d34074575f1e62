import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import type { PolicyInput } from '../../src/policy/policy-input.js'
import { Airlock } from '../../src/runtime/airlock.js'
import { generateCanaries, type Canary } from '../../src/testing/generate-canaries.js'

/**
 * A temp directory, and Airlocks in it that are closed with it: what the
 * engine adapter tests share.
 */
export class EngineFixture {
  readonly dir: string
  readonly #airlocks: Airlock[] = []

  private constructor(dir: string) {
    this.dir = dir
  }

  static async create(prefix: string): Promise<EngineFixture> {
    return new EngineFixture(await mkdtemp(join(tmpdir(), `airlock-${prefix}-`)))
  }

  airlock(policy: PolicyInput = {}, keys: KeyRing = KeyRing.generate()): { airlock: Airlock; keys: KeyRing; ledgerPath: string; controlPlane: MemoryControlPlane } {
    const ledgerPath = join(this.dir, `ledger-${this.#airlocks.length}.ndjson`)
    const controlPlane = new MemoryControlPlane()
    const airlock = new Airlock({ keys, controlPlane, ledger: { path: ledgerPath }, policy: definePolicy(policy, { env: {} }) })
    this.#airlocks.push(airlock)
    return { airlock, keys, ledgerPath, controlPlane }
  }

  async ledgerText(path: string): Promise<string> {
    return readFile(path, 'utf8')
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#airlocks.splice(0).map((a) => a.close()))
    await rm(this.dir, { recursive: true, force: true })
  }
}

/**
 * Canaries of every kind, a registered secret of no recognisable format,
 * and the strings that must never appear where the engine can read them.
 */
export interface PlantedSecrets {
  readonly canaries: readonly Canary[]
  /** Registered with the Airlock's scrubber. */
  readonly registered: string
  /** Every canary's secret part, and the registered secret. */
  readonly forbidden: readonly string[]
  /** One string holding every canary value and the registered secret. */
  readonly text: string
}

export function plantSecrets(airlock: Airlock): PlantedSecrets {
  const canaries = generateCanaries()
  const registered = `reg-${randomBytes(12).toString('base64url')}`
  airlock.scrubber.register(registered)
  for (const c of canaries) if (c.kind === 'high-entropy') airlock.scrubber.register(c.value)
  const forbidden = [...canaries.map((c) => c.secret), registered]
  return { canaries, registered, forbidden, text: [...canaries.map((c) => c.value), registered].join(' | ') }
}

/** The forbidden strings found in `haystack`, read as UTF-8 and as Latin-1 (bytes may hold text at any offset). */
export function leaksIn(haystack: string | Uint8Array, forbidden: readonly string[]): string[] {
  const views =
    typeof haystack === 'string' ? [haystack] : [Buffer.from(haystack).toString('utf8'), Buffer.from(haystack).toString('latin1')]
  const found = new Set<string>()
  for (const view of views) {
    for (const secret of forbidden) {
      if (view.includes(secret) || view.includes(Buffer.from(secret).toString('base64').slice(0, -4))) found.add(secret)
    }
  }
  return [...found]
}
