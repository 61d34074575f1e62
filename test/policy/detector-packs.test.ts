import { describe, expect, it } from 'vitest'
import { DETECTOR_IDS, DETECTOR_PACKS, PACK_IDS, packOf } from '../../src/policy/detector-ids.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { PolicyError } from '../../src/errors.js'
import { presets } from '../../src/policy/presets.js'
import { Scrubber } from '../../src/scrub/scrubber.js'

const noEnv = { env: {} }

describe('detector packs', () => {
  it('put every detector in exactly one pack', () => {
    const all = PACK_IDS.flatMap((pack) => [...DETECTOR_PACKS[pack]])
    expect([...all].sort()).toEqual([...DETECTOR_IDS].sort())
    expect(new Set(all).size).toBe(all.length)
    expect(packOf('email')).toBe('pii')
    expect(packOf('mac-address')).toBe('network')
    expect(packOf('secret-assignment')).toBe('credentials')
  })

  it('are all on in balanced and strict, all off in permissive, as the presets list every id', () => {
    for (const pack of PACK_IDS) {
      expect(presets.balanced.scrub.packs?.[pack]).toBe(true)
      expect(presets.strict.scrub.packs?.[pack]).toBe(true)
      expect(presets.permissive.scrub.packs?.[pack]).toBe(false)
    }
    expect(Object.keys(presets.balanced.scrub.detectors).sort()).toEqual([...DETECTOR_IDS].sort())
  })

  it('switch every detector of a pack the input does not name, and an id named wins over its pack', () => {
    const policy = definePolicy({ scrub: { packs: { network: false, pii: 'mask' }, detectors: { ipv4: true, email: false } } }, noEnv)
    expect(policy.scrub.detectors['mac-address']).toBe(false)
    expect(policy.scrub.detectors.ipv6).toBe(false)
    expect(policy.scrub.detectors.ipv4).toBe(true)
    expect(policy.scrub.detectors['phone-number']).toBe('mask')
    expect(policy.scrub.detectors.email).toBe(false)
    expect(policy.scrub.detectors.jwt).toBe(true)
    // A pack switched on over permissive turns its detectors on there.
    const permissive = definePolicy({ preset: 'permissive', scrub: { packs: { credentials: true } } }, noEnv)
    expect(permissive.scrub.detectors['aws-secret-access-key']).toBe(true)
    expect(permissive.scrub.detectors.email).toBe(false)
  })

  it('take effect in the scrubber, also in a hand-made scrub policy that names no id', () => {
    const off = new Scrubber({ policy: definePolicy({ scrub: { packs: { network: false } } }, noEnv).scrub })
    expect(off.scrubString('from 10.1.2.3 mac 00:1A:2B:3C:4D:5E')).toBe('from 10.1.2.3 mac 00:1A:2B:3C:4D:5E')
    expect(off.scrubString('mail ada@example.com')).toBe('mail [REDACTED:email]')
    const handMade = new Scrubber({ policy: { ...presets.balanced.scrub, detectors: {}, packs: { pii: false } } })
    expect(handMade.scrubString('mail ada@example.com from 10.1.2.3')).toBe('mail ada@example.com from [REDACTED:ipv4]')
  })

  it('are validated: an unknown pack or setting is an error naming its path', () => {
    expect(() => definePolicy({ scrub: { packs: { secrets: false } } } as never, noEnv)).toThrow(PolicyError)
    expect(() => definePolicy({ scrub: { packs: { pii: 'shred' } } } as never, noEnv)).toThrow(/scrub\.packs\.pii/)
  })
})
