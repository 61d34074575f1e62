import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { formatReportHtml, HTML_REPORT_CSP, type ReportFinding } from '../../src/audit/html-report.js'
import { buildLedgerReport, REPORT_LIST_LIMIT, type LedgerReport } from '../../src/audit/ledger-report.js'
import { Ledger, type LedgerEventInput } from '../../src/audit/ledger.js'
import { runCli } from '../../src/cli/run-cli.js'

let dir: string
let path: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-html-'))
  path = join(dir, 'ledger.ndjson')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const XSS = '<img src=x onerror=alert(1)>'
const BREAKOUT = '"><script>alert(1)</script>'
const base = { policyHash: 'sha256:aaaa', transforms: [], status: 'sent' } as const

const hostileEntries: LedgerEventInput[] = [
  {
    ...base,
    channel: 'parameters',
    eventId: 'p1',
    event: { parameters: { [XSS]: 'x', email: '[email]', ['bidi\u202eevil']: 1 } },
    transforms: [{ path: `parameters.${XSS}`, rule: BREAKOUT, action: 'scrub' }],
  },
  { ...base, channel: 'states', eventId: 'w1', event: { reason: `</td><script>alert(2)</script>` }, status: 'withheld' },
]

async function writeLedger(entries: readonly LedgerEventInput[]): Promise<void> {
  const ledger = await Ledger.open({ path })
  for (const entry of entries) await ledger.append(entry)
  await ledger.close()
}

const ALLOWED_TAGS = new Set(
  'html head meta title style body main header h1 h2 h3 p code time section strong span div table thead tbody tr th td br details summary svg line text g rect ul li'.split(' '),
)
const ALLOWED_ATTRIBUTES = new Set(
  'lang charset http-equiv content name class id role data-testid data-verified data-checked data-status data-key data-rule data-action data-value data-seq data-bucket style viewbox aria-labelledby x y x1 x2 y1 y2 width height fill text-anchor'.split(' '),
)

/**
 * Every tag in the page, as {name, attributes}. Escaped text holds no raw
 * `<`, and attribute values no raw `"` or `>`, so this reads the real markup.
 */
function tags(html: string): { name: string; attributes: string[] }[] {
  return [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g)].map(([, name, rest]) => ({
    name: name!.toLowerCase(),
    attributes: [...rest!.matchAll(/\s([^\s="/]+)(?:="[^"]*")?/g)].map(([, attribute]) => attribute!.toLowerCase()),
  }))
}

describe('formatReportHtml', () => {
  it('escapes every string from the ledger: no markup, no attribute break-out, no hidden bidi characters', async () => {
    await writeLedger(hostileEntries)
    const html = formatReportHtml(await buildLedgerReport(path))
    expect(html).toContain(`parameters[&quot;&lt;img src=x onerror=alert(1)&gt;&quot;]`)
    expect(html).toContain(`data-rule="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)
    expect(html).toContain(`&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;`)
    expect(html).toContain('bidi\\u202eevil')
    expect(html).not.toContain('\u202e')
    expect(html).not.toMatch(/<script|<img/i)
    for (const tag of tags(html)) {
      expect(ALLOWED_TAGS, `tag <${tag.name}>`).toContain(tag.name)
      for (const attribute of tag.attributes) expect(ALLOWED_ATTRIBUTES, `attribute ${attribute} of <${tag.name}>`).toContain(attribute)
    }
  })

  it('escapes strings the ledger schema would refuse too: the renderer does not rely on it', async () => {
    await writeLedger(hostileEntries)
    const report = await buildLedgerReport(path)
    const channel = `<svg onload=alert(3)>`
    const forged: LedgerReport = {
      ...report,
      path: `${dir}/${BREAKOUT}.ndjson`,
      perChannel: { [channel]: 2 },
      timeline: { ...report.timeline!, perChannel: { [channel]: report.timeline!.perChannel.parameters!.map((n, i) => n + report.timeline!.perChannel.states![i]!) } },
      verified: { ok: false, empty: false, firstBadSeq: 2, entries: 1, reason: `<b onmouseover=alert(4)>bad</b>` },
      withheld: { total: 1, first: [{ seq: 1, time: '<t>', channel, eventId: '<e>', reason: '<r>' }] },
      deliveryFailures: { total: 1, first: [{ seq: 2, time: '<t>', status: 'failed', channel, eventIds: ['<i>'], eventCount: 1, error: { code: '<c>' } }] },
    }
    const findings: ReportFinding[] = [{ seq: 1, channel, path: XSS, rule: BREAKOUT, preview: `ak…<script>` }]
    const html = formatReportHtml(forged, { scan: { findings, total: 1, scope: '<i>all</i>' } })
    expect(html).not.toMatch(/<script|<img|<svg onload|<b |<[tcrei]>/i)
    expect(html).toContain('&lt;svg onload=alert(3)&gt;')
    expect(html).toContain('&lt;b onmouseover=alert(4)&gt;bad&lt;/b&gt;')
    for (const tag of tags(html)) {
      expect(ALLOWED_TAGS, `tag <${tag.name}>`).toContain(tag.name)
      for (const attribute of tag.attributes) expect(ALLOWED_ATTRIBUTES, `attribute ${attribute} of <${tag.name}>`).toContain(attribute)
    }
  })

  it('refers to nothing outside the file: no URL, no script, no external style, under a strict CSP', async () => {
    await writeLedger(hostileEntries)
    const html = formatReportHtml(await buildLedgerReport(path), { scan: { findings: [], total: 0, scope: 'detectors' }, generatedAt: new Date('2026-11-21T09:00:00Z') })
    expect(html).not.toMatch(/https?:/i)
    const linking = new Set(['src', 'href', 'xlink:href', 'action', 'formaction', 'poster', 'srcset', 'background', 'ping', 'data'])
    expect(tags(html).flatMap((tag) => tag.attributes.filter((attribute) => linking.has(attribute)))).toEqual([])
    expect(html).not.toMatch(/<script|<link|<iframe|<object|<embed|<base|<form|url\(|@import/i)
    expect(html).not.toMatch(/="\s*\/\//)
    // The CSP comes first in <head>, before anything it must govern.
    expect(html.indexOf('<meta http-equiv="Content-Security-Policy"')).toBeLessThan(html.indexOf('<title>'))
    expect(html).toContain(`content="${HTML_REPORT_CSP}"`)
    expect(HTML_REPORT_CSP).toMatch(/^default-src 'none'; style-src 'unsafe-inline'; img-src data:;/)
  })

  it('puts every number in the DOM as text, with test ids on the main ones', async () => {
    await writeLedger([
      ...hostileEntries,
      { ...base, channel: 'parameters', eventId: 'p2', event: { parameters: { email: '[email]' } }, transforms: [{ path: 'parameters.email', rule: 'email', action: 'scrub' }] },
    ])
    const report = await buildLedgerReport(path)
    const html = formatReportHtml(report)
    expect(html).toContain('data-testid="verified" data-verified="true"')
    expect(html).toContain('<p class="big" data-testid="entries-total">3</p>')
    expect(html).toContain('<span data-testid="entries-events">3</span>')
    expect(html).toMatch(/<tr data-key="parameters"><td><code>parameters<\/code><\/td><td class="num" data-value="2">2<\/td>/)
    expect(html).toMatch(/<tr data-key="parameters.email"><td><code>parameters.email<\/code><\/td><td class="num" data-value="2">2<\/td>/)
    expect(html).toMatch(/<tr data-rule="email" data-action="scrub">.*?<td class="num" data-value="1">1<\/td>/)
    expect(html).toContain('<span data-testid="transforms-total">2</span>')
    expect(html).toContain('data-testid="withheld-total">1</p>')
    expect(html).toContain('data-testid="timeline-chart"')
  })

  it('formats large counts with separators and keeps the raw value, and says what was left out', () => {
    const report: LedgerReport = {
      ...emptyReport(),
      entries: { total: 1_234_567, events: 1_234_567, deliveries: 0, checkpoints: 0 },
      perChannel: { logs: 1_234_567 },
      withheld: { total: REPORT_LIST_LIMIT + 7, first: [{ seq: 5, time: '2026-11-21T09:00:00.000Z', channel: 'logs', eventId: 'w5' }] },
      omitted: { policyHashes: 0, perChannel: 0, transforms: 0, fieldPaths: 42 },
    }
    const html = formatReportHtml(report)
    expect(html).toContain('data-testid="entries-total">1,234,567</p>')
    expect(html).toContain('<td class="num" data-value="1234567">1,234,567</td>')
    expect(html).toContain('42 more occurrences of other keys were not tallied')
    expect(html).toContain(`Showing the first 1; ${(REPORT_LIST_LIMIT + 6).toLocaleString('en-US')} more not listed.`)
  })

  it('renders an empty ledger, under a banner that says it proves nothing', async () => {
    await writeFile(path, '')
    const html = formatReportHtml(await buildLedgerReport(path))
    expect(html).toContain('class="banner bad" data-testid="verified" data-verified="false" data-status="empty" role="alert"><h2>Ledger empty</h2>')
    expect(html).not.toContain('Ledger verified: intact')
    expect(html).toContain('data-testid="entries-total">0</p>')
    expect(html).toContain('<p class="big">(empty)</p>')
    expect(html).toContain('(no events)')
    expect(html).not.toContain('<svg')
    expect(html).toMatch(/<section id="transforms">.*\(none\)/)
  })

  it('puts a NOT verified banner, naming the first bad seq, on a tampered ledger', async () => {
    await writeLedger([...hostileEntries, { ...base, channel: 'logs', eventId: 'l1', event: { msg: 'loaded' } }])
    const lines = (await readFile(path, 'utf8')).split('\n')
    lines[1] = lines[1]!.replace('alert(2)', 'alert(9)')
    await writeFile(path, lines.join('\n'))
    const html = formatReportHtml(await buildLedgerReport(path))
    expect(html).toContain('class="banner bad" data-testid="verified" data-verified="false" role="alert"')
    expect(html).toContain('<h2>Ledger NOT verified</h2>')
    expect(html).toContain('seq <strong data-testid="first-bad-seq">2</strong>: the hash does not match')
    expect(html).toContain('seq 1 to <span data-testid="verified-entries">1</span>')
    expect(html).not.toContain('Ledger verified: intact')
  })

  it('says whether signatures were checked', () => {
    const unsigned = formatReportHtml(emptyReport())
    expect(unsigned).toContain('data-testid="signatures" data-checked="false"')
    expect(unsigned).toContain('Signatures not checked')
    const signed = formatReportHtml({ ...emptyReport(), verified: { ok: true, entries: 4, head: 'ab'.repeat(32), checkpoints: 2, signaturesChecked: true, adopted: [], adoptions: 0 } })
    expect(signed).toContain('data-testid="signatures" data-checked="true">2 signed checkpoints verified')
  })

  it('tells a scan not run from a clean scan and from findings', () => {
    const report = emptyReport()
    expect(formatReportHtml(report)).toMatch(/data-testid="findings-status" data-status="not-run">The leak scan was not run/)
    const clean = formatReportHtml(report, { scan: { findings: [], total: 0, scope: 'every detector' } })
    expect(clean).toMatch(/data-testid="findings-status" data-status="clean">The leak scan found nothing/)
    expect(clean).toContain('Looked for: <span data-testid="scan-scope">every detector</span>')
    const findings: ReportFinding[] = [
      { seq: 3, channel: 'logs', path: 'msg', rule: 'aws-access-key', preview: 'AKIA…[16 chars]' },
      { seq: 9, channel: 'parameters', path: 'parameters.token', part: 'key', rule: 'canary', preview: 'cnry…' },
    ]
    const html = formatReportHtml(report, { scan: { findings, total: REPORT_LIST_LIMIT + 2, scope: 'every detector' } })
    expect(html).toContain(`data-status="findings"><strong data-testid="findings-total">${(REPORT_LIST_LIMIT + 2).toLocaleString('en-US')}</strong> emitted values matched`)
    expect(html).toContain('<tr data-seq="3"><td class="num" data-value="3">3</td><td>logs</td><td><code>msg</code></td><td><code>aws-access-key</code></td><td><code>AKIA…[16 chars]</code></td></tr>')
    expect(html).toContain('<code>parameters.token</code> <span class="muted">(key)</span>')
    expect(html).toContain(`Showing the first 2; ${REPORT_LIST_LIMIT.toLocaleString('en-US')} more not listed.`)
  })

  it('is a pure function of its input unless a generation time is given', async () => {
    await writeLedger(hostileEntries)
    const report = await buildLedgerReport(path)
    expect(formatReportHtml(report)).toBe(formatReportHtml(structuredClone(report)))
    expect(formatReportHtml(report, { generatedAt: new Date('2026-11-21T09:00:00Z') })).toContain(
      'generated <time data-testid="generated-at">2026-11-21T09:00:00.000Z</time>',
    )
  })
})

describe('airlock audit report --format html', () => {
  async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = ''
    let err = ''
    const code = await runCli(argv, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {} })
    return { code, out, err }
  }

  it('lists what a leak scan in the same pass found, masked, and never the value', async () => {
    const awsKey = 'AKIAQ3EXAMPLEKEY7X2B'
    await writeLedger([...hostileEntries, { ...base, channel: 'logs', eventId: 'l1', event: { kind: 'log', msg: `using ${awsKey}` } }])
    const out = join(dir, 'report.html')
    expect((await cli(['audit', 'report', path, '--format', 'html', '--out', out])).code).toBe(0)
    const html = await readFile(out, 'utf8')
    expect(html).toContain('data-status="findings"')
    expect(html).toMatch(/<tr data-seq="3"><td class="num" data-value="3">3<\/td><td>logs<\/td><td><code>msg<\/code><\/td><td><code>aws-access-key[^<]*<\/code>/)
    expect(html).toContain('data-testid="scan-scope">every built-in detector')
    expect(html).not.toContain(awsKey)
    expect(html).not.toContain(awsKey.slice(4, 16))
  })

  it('writes the page to --out, or to stdout, and exits 1 on a tampered ledger', async () => {
    await writeLedger(hostileEntries)
    const out = join(dir, 'report.html')
    expect(await cli(['audit', 'report', path, '--format', 'html', '--out', out])).toEqual({ code: 0, out: `report written to ${out}\n`, err: '' })
    const written = await readFile(out, 'utf8')
    expect(written).toMatch(/^<!doctype html>\n/)
    expect(written).toContain('data-verified="true"')
    expect(written).toContain('data-testid="generated-at"')
    expect(written).toContain('data-status="clean"')
    const printed = await cli(['audit', 'report', path, '--format', 'html'])
    expect(printed.code).toBe(0)
    expect(printed.out).toMatch(/^<!doctype html>[^]*<\/html>\n$/)

    await writeFile(path, (await readFile(path, 'utf8')).replace('alert(2)', 'alert(9)'))
    const bad = await cli(['audit', 'report', path, '--format', 'html'])
    expect(bad.code).toBe(1)
    expect(bad.out).toContain('data-verified="false"')
  })
})

function emptyReport(): LedgerReport {
  return {
    v: 1,
    path: 'ledger.ndjson',
    verified: { ok: true, entries: 0, head: '0'.repeat(64), checkpoints: 0, signaturesChecked: false, adopted: [], adoptions: 0 },
    entries: { total: 0, events: 0, deliveries: 0, checkpoints: 0 },
    timeSpan: null,
    perStatus: {},
    policyHashes: {},
    perChannel: {},
    transforms: {},
    fieldPaths: {},
    withheld: { total: 0, first: [] },
    deliveryFailures: { total: 0, first: [] },
    timeline: null,
    omitted: { policyHashes: 0, perChannel: 0, transforms: 0, fieldPaths: 0 },
  }
}
