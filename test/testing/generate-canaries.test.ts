import { describe, expect, it } from 'vitest'
import { DETECTOR_IDS } from '../../src/policy/detector-ids.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import type { MatchSink } from '../../src/scrub/aho-corasick.js'
import { DETECTORS } from '../../src/scrub/detectors.js'
import { Scrubber } from '../../src/scrub/scrubber.js'
import { SensitiveKeyMatcher } from '../../src/scrub/sensitive-keys.js'
import { generateCanaries, type Canary } from '../../src/testing/index.js'

const context = { sensitiveKeys: new SensitiveKeyMatcher() }

function spans(canary: Canary, id: string): [number, number][] {
  const found: [number, number][] = []
  const sink: MatchSink = { add: (start, end) => void found.push([start, end]) }
  DETECTORS.find((d) => d.id === id)!.find(canary.value, sink, 0, context)
  return found
}

function luhnValid(digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2
    sum += d
  }
  return sum % 10 === 0
}

function ibanValid(iban: string): boolean {
  const digits = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55))
  let remainder = 0
  for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97
  return remainder === 1
}

describe('generateCanaries', () => {
  it('makes one canary per detector, in DETECTOR_IDS order, then two high-entropy strings to register', () => {
    const canaries = generateCanaries()
    expect(canaries.map((c) => c.kind)).toEqual([...DETECTOR_IDS, 'high-entropy', 'high-entropy'])
    for (const c of canaries) {
      expect(c.rule).toBe(c.kind === 'high-entropy' ? 'registered-secret' : c.kind)
      expect(c.value.includes(c.secret), c.kind).toBe(true)
      expect(c.secret.includes(c.marker), c.kind).toBe(true)
      expect(Object.isFrozen(c)).toBe(true)
    }
  })

  it('each detector canary is found by its own detector, whole secret covered, every time', () => {
    for (let run = 0; run < 50; run++) {
      for (const c of generateCanaries().filter((x) => x.kind !== 'high-entropy')) {
        const from = c.value.indexOf(c.secret)
        const covered = spans(c, c.kind).some(([s, e]) => s <= from && e >= from + c.secret.length)
        expect(covered, `${c.kind} ${JSON.stringify(c.value)}`).toBe(true)
      }
    }
  })

  it('makes format-valid values: checksums hold, addresses parse', () => {
    const byKind = new Map(generateCanaries().map((c) => [c.kind, c]))
    expect(luhnValid(byKind.get('credit-card')!.value)).toBe(true)
    expect(byKind.get('credit-card')!.value).toMatch(/^4[0-9]{15}$/)
    expect(ibanValid(byKind.get('iban')!.value)).toBe(true)
    expect(byKind.get('iban')!.value).toMatch(/^DE[0-9]{20}$/)
    expect(byKind.get('aws-access-key-id')!.value).toMatch(/^AKIA[A-Z0-9]{16}$/)
    expect(byKind.get('github-token')!.value).toMatch(/^ghp_[A-Za-z0-9]{36}$/)
    expect(byKind.get('google-api-key')!.value).toMatch(/^AIza[A-Za-z0-9]{35}$/)
    const jwt = byKind.get('jwt')!.value.split('.')
    expect(JSON.parse(Buffer.from(jwt[0]!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' })
    expect(JSON.parse(Buffer.from(jwt[1]!, 'base64url').toString())).toMatchObject({ sub: 'canary' })
    expect(new URL(byKind.get('url-credentials')!.value).password).toBe(byKind.get('url-credentials')!.secret)
  })

  it('markers are unique within a set and across runs', () => {
    const seen = new Set<string>()
    for (let run = 0; run < 200; run++) {
      for (const c of generateCanaries()) {
        // IPv4 canaries carry 24 random bits only; collisions there are possible, though rare.
        if (c.kind === 'ipv4') continue
        expect(seen.has(c.marker), c.kind).toBe(false)
        seen.add(c.marker)
      }
    }
    const one = generateCanaries()
    expect(new Set(one.map((c) => c.marker)).size).toBe(one.length)
  })

  it('each canary is redacted by a balanced Scrubber under its rule, high-entropy ones once registered, in every encoding', () => {
    const canaries = generateCanaries()
    const scrubber = new Scrubber({ policy: definePolicy({ preset: 'balanced' }, { env: {} }).scrub })
    for (const c of canaries) if (c.kind === 'high-entropy') scrubber.register(c.value)
    for (const c of canaries) {
      const forms = c.kind === 'high-entropy' ? [c.value, encodeURIComponent(c.value), Buffer.from(c.value).toString('base64'), JSON.stringify(c.value).slice(1, -1)] : [c.value]
      for (const form of forms) {
        const { value, transforms } = scrubber.scrub({ note: `x ${form} y` })
        expect(JSON.stringify(value).includes(c.secret), c.kind).toBe(false)
        expect(transforms.map((t) => t.rule), c.kind).toContain(c.rule)
      }
    }
    // The punctuated one really differs in each encoding.
    const punctuated = canaries[canaries.length - 1]!.value
    expect(new Set([punctuated, encodeURIComponent(punctuated), JSON.stringify(punctuated).slice(1, -1)]).size).toBe(3)
  })

  it('survives a JSON round trip, as the --canaries file of airlock audit scan', () => {
    const canaries = generateCanaries()
    expect(JSON.parse(JSON.stringify(canaries))).toEqual(canaries)
  })
})

describe('generateCanaries registration (issue 14, item 5)', () => {
  it('registers the high-entropy canaries with every open Airlock and every Scrubber built later, unless told not to', async () => {
    const { AirlockBoundary } = await import('../../src/boundary/airlock-boundary.js')
    const { MemoryControlPlane } = await import('../../src/boundary/memory-control-plane.js')
    const { KeyRing } = await import('../../src/crypto/key-ring.js')
    const fs = await import('node:fs/promises')
    const os = await import('node:os')
    const path = await import('node:path')
    const permissive = definePolicy({ preset: 'permissive' }, { env: {} }).scrub
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'airlock-canaries-'))
    const open = new AirlockBoundary({ keys: KeyRing.generate(), controlPlane: new MemoryControlPlane(), ledger: { path: path.join(dir, 'l.ndjson') }, policy: { preset: 'permissive' } })
    const before = open.scrubber
    const canaries = generateCanaries()
    const after = new Scrubber({ policy: permissive })
    for (const c of canaries.filter((x) => x.kind === 'high-entropy')) {
      expect(after.scrubString(`note ${c.value}`)).not.toContain(c.secret)
      expect(JSON.stringify(before.scrub({ note: c.value }).value)).not.toContain(c.marker)
    }
    const unregistered = generateCanaries({ register: false }).filter((x) => x.kind === 'high-entropy')
    const later = new Scrubber({ policy: permissive })
    for (const c of unregistered) expect(later.scrubString(`note ${c.value}`)).toContain(c.secret)
    expect(() => generateCanaries({ registr: false } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    await open.close()
    await fs.rm(dir, { recursive: true, force: true })
  })
})
