import { describe, expect, it } from 'vitest'
import { Fingerprinter } from '../../src/crypto/fingerprinter.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { LocationCipher } from '../../src/crypto/location-cipher.js'
import { ValueCipher } from '../../src/crypto/value-cipher.js'
import { findSdkMarkers, onlySdkOutput } from '../../src/scrub/scan-markers.js'
import { SpanList } from '../../src/scrub/span-list.js'

const keys = KeyRing.generate()

function markers(text: string): string[] {
  const spans = new SpanList()
  findSdkMarkers(text, spans, 0)
  spans.resolve()
  return Array.from({ length: spans.count }, (_, k) => text.slice(spans.start[k], spans.end[k]))
}

describe('findSdkMarkers', () => {
  it('finds each marker, token and fingerprint the SDK writes, whole', async () => {
    const location = await new LocationCipher(keys).encrypt('s3://bucket/key.json', { taskName: 'load' })
    const value = await new ValueCipher(keys).encrypt('{"a":1}')
    const fingerprint = new Fingerprinter(keys).fingerprint('x')
    const text = `[REDACTED:email] at ${location}, ${value}; fp ${fingerprint} [airlock:truncated 12 chars] [airlock:withheld]`
    expect(markers(text)).toEqual(['[REDACTED:email]', location, value, fingerprint, '[airlock:truncated 12 chars]', '[airlock:withheld]'])
  })

  it('skips look-alikes: wrong header, wrong shape, glued to other characters', async () => {
    const token = await new LocationCipher(keys).encrypt('x')
    const [, , iv, ciphertext, tag] = token.slice('alk1.'.length).split('.')
    const noneHeader = Buffer.from('{"alg":"none","enc":"A256GCM","kid":"k"}').toString('base64url')
    expect(markers(`alk1.${noneHeader}..${iv}.${ciphertext}.${tag}`)).toEqual([])
    expect(markers(`x${token}`)).toEqual([])
    expect(markers(`${token}x`.replace(/.$/, '_x'))).toEqual([])
    expect(markers('alk1.eyJhbGciOiJkaXIifQ')).toEqual([])
    expect(markers('fp1.kid.short')).toEqual([])
    expect(markers('[REDACTED:]')).toEqual([])
    expect(markers('[airlock:Withheld]')).toEqual([])
  })
})

describe('onlySdkOutput', () => {
  it('holds for spans made of markers and stars only', () => {
    const text = 'a="[REDACTED:x]**" b="[REDACTED:x]*y"'
    const spans = new SpanList()
    findSdkMarkers(text, spans, 0)
    spans.resolve()
    expect(onlySdkOutput(text, 3, 17, spans)).toBe(true)
    expect(onlySdkOutput(text, 22, 37, spans)).toBe(false)
    expect(onlySdkOutput(text, 0, 17, spans)).toBe(false)
  })
})
