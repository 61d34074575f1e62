import { describe, expect, it } from 'vitest'
import { scanEvent } from '../../src/scrub/scan-event.js'
import { LeakMatcher } from '../../src/scrub/scan-text.js'
import { Scrubber } from '../../src/scrub/scrubber.js'

const envelope = {
  v: 1,
  id: '7f3c2a1e-0b9d-4c8e-9f21-3a4b5c6d7e8f',
  runId: 'run-1',
  time: '2026-11-21T09:00:00.000Z',
  // A policy hash is base64url: by chance it may hold a detector's pattern, as this one does.
  policyHash: 'ph1.AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW',
}
const aws = 'AKIAQ3EXAMPLEKEY7X2B'

describe('scanEvent', () => {
  it('scans every string value and key at any depth, with paths as transforms write them', () => {
    const event = {
      ...envelope,
      kind: 'log',
      level: 'warn',
      msg: 'mail ada@example.com',
      fields: { list: [{ 'x y': `key ${aws}` }], [aws]: { note: 'to bob@example.com' } },
    }
    expect(scanEvent(event, new LeakMatcher())).toEqual([
      { path: 'msg', part: 'value', rule: 'email', preview: 'a********m' },
      { path: 'fields.list[0]["x y"]', part: 'value', rule: 'aws-access-key-id', preview: 'AK********2B' },
      { path: 'fields[key:AK********2B]', part: 'key', rule: 'aws-access-key-id', preview: 'AK********2B' },
      { path: 'fields[key:AK********2B].note', part: 'value', rule: 'email', preview: 'b********m' },
    ])
  })

  it('writes a key named $ quoted, as the walker does, so it never reads as the root', () => {
    const event = { ...envelope, kind: 'log', fields: { $: 'ada@example.com', [`${'k'.repeat(70)}`]: { $: 'bob@example.com' } } }
    const scrubbed = new Scrubber().scrub(event.fields).transforms.map((t) => `fields${t.path.startsWith('[') ? '' : '.'}${t.path}`)
    const found = scanEvent(event, new LeakMatcher()).map((f) => f.path)
    expect(found).toEqual([`fields["$"]`, `fields["${'k'.repeat(64)}…"]["$"]`])
    expect(found).toEqual(scrubbed)
  })

  it('skips the envelope only where it has the format the SDK stamps; runId is scanned', () => {
    expect(scanEvent({ ...envelope, kind: 'flow-run-state', flowName: 'etl', state: 'Running' }, new LeakMatcher())).toEqual([])
    const forged = { ...envelope, id: aws, time: 'at ada@example.com', policyHash: `ph1.${aws}!`, runId: 'ada@example.com', kind: 'x' }
    expect(scanEvent(forged, new LeakMatcher()).map((f) => `${f.path} ${f.rule}`)).toEqual([
      'id aws-access-key-id',
      'runId email',
      'time email',
      'policyHash aws-access-key-id',
    ])
    // Below the top level these names are ordinary keys.
    expect(scanEvent({ fields: { id: aws } }, new LeakMatcher())).toEqual([expect.objectContaining({ path: 'fields.id', rule: 'aws-access-key-id' })])
  })

  it('scans large integers as digits (card numbers), not smaller numbers or booleans', () => {
    const findings = scanEvent({ parameters: { card: 4111111111111111, rows: 4111, ok: true, none: null } }, new LeakMatcher())
    expect(findings).toEqual([{ path: 'parameters.card', part: 'value', rule: 'credit-card', preview: '41********11' }])
  })

  it('flags values under sensitive key names, at any depth below them, unless the SDK wrote them', () => {
    const event = {
      fields: {
        password: 'hunter22',
        apiKey: 12345,
        credentials: { user: 'ada', pass: ['s3cret-pass'] },
        token: '[REDACTED:sensitive-key]',
        'x-auth-token': '**********',
        session: '',
        secret: false,
        author: 'Ada',
      },
    }
    expect(scanEvent(event, new LeakMatcher()).map((f) => `${f.path} ${f.rule} ${f.preview}`)).toEqual([
      'fields.password sensitive-key h******2',
      'fields.apiKey sensitive-key *****',
      'fields.credentials.user sensitive-key ***',
      'fields.credentials.pass[0] sensitive-key s********s',
    ])
    expect(scanEvent(event, new LeakMatcher({ detectors: false }))).toEqual([])
  })

  it('names the canary found, by its index', () => {
    const matcher = new LeakMatcher({ canaries: ['first-canary', 'second-canary'], detectors: false })
    expect(scanEvent({ msg: 'x second-canary y' }, matcher)).toEqual([
      { path: 'msg', part: 'value', rule: 'canary', preview: 's********y', canary: 1 },
    ])
  })

  it('refuses values too deep to be wire JSON, cycles included', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => scanEvent(cyclic, new LeakMatcher())).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    let deep: unknown = 'ada@example.com'
    for (let i = 0; i < 300; i++) deep = [deep]
    expect(scanEvent(deep, new LeakMatcher())).toHaveLength(1)
  })
})
