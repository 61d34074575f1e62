import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { formatReportHtml } from '../../src/audit/html-report.js'
import { buildLedgerReport } from '../../src/audit/ledger-report.js'
import { Ledger, type LedgerEventInput } from '../../src/audit/ledger.js'
import { LedgerLeakScanner, scanLedger } from '../../src/audit/scan-ledger.js'

let dir: string
let path: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-scan-ledger-'))
  path = join(dir, 'ledger.ndjson')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const EMAIL = 'ada@example.com'
const TOKEN = 'ghp_R8x2Lq9Zt4Vw7Ns1Kd6Pf3Hy5Jm0Bc2Xe8Ga'
const SECRET = 'wh/pa55+7f3a9c1e'

function logEvent(transforms: LedgerEventInput['transforms'], event: LedgerEventInput['event'] = { kind: 'log', msg: 'loaded [REDACTED:email]' }): LedgerEventInput {
  return { channel: 'logs', eventId: 'l1', policyHash: 'ph1.test', event, transforms, status: 'sent' }
}

async function writeLedger(entries: readonly LedgerEventInput[]): Promise<void> {
  const ledger = await Ledger.open({ path })
  for (const entry of entries) await ledger.append(entry)
  await ledger.close()
}

describe('scanLedger: transform records', () => {
  it('finds an email or a token a transform path holds, masked, located in the transform record', async () => {
    await writeLedger([
      logEvent([
        { path: 'parameters.email', rule: 'email', action: 'redact' },
        { path: `fields[${JSON.stringify(EMAIL)}]`, rule: 'email', action: 'redact' },
        { path: `headers.${TOKEN}.value`, rule: 'github-token', action: 'redact' },
      ]),
    ])
    const scan = await scanLedger(path)
    expect(scan.verified.ok).toBe(true)
    expect(scan.findings).toEqual([
      { seq: 1, channel: 'logs', eventId: 'l1', eventKind: 'log', field: 'transforms', path: 'transforms[1].path', part: 'value', rule: 'email', preview: 'a********m' },
      { seq: 1, channel: 'logs', eventId: 'l1', eventKind: 'log', field: 'transforms', path: 'transforms[2].path', part: 'value', rule: 'github-token', preview: 'gh********Ga' },
    ])
    expect(scan.total).toBe(2)
    expect(JSON.stringify(scan)).not.toContain(EMAIL)
    expect(JSON.stringify(scan)).not.toContain(TOKEN.slice(4, 30))
  })

  it('scans the rule too, and finds canaries and registered secrets in either, in their encodings', async () => {
    await writeLedger([
      logEvent([
        { path: 'msg', rule: `custom-${TOKEN}`, action: 'redact' },
        // URL-encoded, as a key taken from a query string would be.
        { path: `fields.${encodeURIComponent(SECRET)}`, rule: 'registered-secret', action: 'redact' },
        { path: 'fields["canary-4f9a1c7e"]', rule: 'sensitive-key', action: 'redact' },
      ]),
    ])
    const scan = await scanLedger(path, { canaries: ['canary-4f9a1c7e'], registered: [SECRET] })
    expect(scan.findings.map((f) => [f.path, f.rule, f.canary])).toEqual([
      ['transforms[0].rule', 'github-token', undefined],
      ['transforms[1].path', 'registered-secret', undefined],
      ['transforms[2].path', 'canary', 0],
    ])
    expect(scan.findings.every((f) => f.field === 'transforms')).toBe(true)
  })

  it('does not flag what the SDK writes in a path, and keeps findings in the event unmarked', async () => {
    await writeLedger([
      logEvent(
        [
          { path: 'fields["[REDACTED:email]"]', rule: 'email', action: 'redact' },
          { path: 'failure.causes[0].message', rule: 'exception-mode', action: 'redact' },
          { path: '$', rule: 'registered-secret', action: 'mask' },
          { path: 'headers["x-api-key"]', rule: 'sensitive-key', action: 'redact' },
          { path: 'fields["fp1.k1.c2VjcmV0"]', rule: 'hash', action: 'hash' },
        ],
        { kind: 'log', msg: `mail ${EMAIL}` },
      ),
    ])
    const scan = await scanLedger(path)
    expect(scan.findings).toEqual([{ seq: 1, channel: 'logs', eventId: 'l1', eventKind: 'log', path: 'msg', part: 'value', rule: 'email', preview: 'a********m' }])
  })

  it('counts transform findings past the finding limit like any other, and the scanner API agrees', async () => {
    await writeLedger([logEvent([{ path: `a.${EMAIL}`, rule: 'email', action: 'redact' }]), logEvent([{ path: `b.${EMAIL}`, rule: 'email', action: 'redact' }])])
    const scanner = new LedgerLeakScanner()
    const report = await buildLedgerReport(path, { onEntry: (entry) => scanner.add(entry) })
    const result = scanner.result(report.verified)
    expect(result.findings.map((f) => `${f.seq} ${f.path}`)).toEqual(['1 transforms[0].path', '2 transforms[0].path'])
    const html = formatReportHtml(report, { scan: { ...result, scope: 'every detector' } })
    expect(html).toContain('<code>transforms[0].path</code> <span class="muted">(transform record)</span>')
    expect(html).not.toContain(EMAIL)
  })

  it('says an empty ledger was not scanned', async () => {
    await writeFile(path, '')
    const scan = await scanLedger(path)
    expect(scan).toMatchObject({ total: 0, events: 0, verified: { ok: false, empty: true } })
  })
})
