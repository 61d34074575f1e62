import { describeAdoption, type LedgerAdoption } from './ledger-checkpoint.js'
import { escapeControl } from './ledger-entry.js'
import { REPORT_LIST_LIMIT, type DeliveryFailureSummary, type LedgerReport, type WithheldSummary } from './ledger-report.js'
import type { LedgerTimeline } from './ledger-timeline.js'

/**
 * One leak-scan finding as the report shows it. `preview` is masked by the
 * scanner; the report never sees the value itself. A `LeakFinding` from
 * `scanLedger` is one.
 *
 * @example
 * ```ts
 * const findings: readonly ReportFinding[] = (await scanLedger('audit/ledger.ndjson')).findings
 * ```
 */
export interface ReportFinding {
  readonly seq: number
  readonly channel: string
  readonly path: string
  /** Whether the key at `path` matched, rather than its value. */
  readonly part?: 'key' | 'value'
  /** `transforms` when the match is in the entry's transform record (`path` is then `transforms[i].path` or `.rule`), not in the event. */
  readonly field?: 'transforms'
  readonly rule: string
  readonly preview: string
}

/**
 * A leak scan over the same ledger, as the report shows it. A
 * `LedgerScanResult` from `scanLedger` plus a `scope` is one.
 *
 * @example
 * ```ts
 * const scan = { ...(await scanLedger(path)), scope: 'built-in detectors and sensitive key names' }
 * formatReportHtml(report, { scan })
 * ```
 */
export interface ReportScan {
  /** Findings to list; the report lists at most `REPORT_LIST_LIMIT` of them. */
  readonly findings: readonly ReportFinding[]
  /** All findings, counted: at least `findings.length`. */
  readonly total: number
  /** What the scan looked for, for a person: shown with its result, so "no findings" does not claim more than was checked. */
  readonly scope: string
}

/**
 * Options of {@link formatReportHtml}.
 *
 * @example
 * ```ts
 * const scan = { ...(await scanLedger('audit/ledger.ndjson')), scope: 'built-in detectors and sensitive key names' }
 * const options: HtmlReportOptions = { scan, generatedAt: new Date() }
 * await writeFile('report.html', formatReportHtml(report, options))
 * ```
 */
export interface HtmlReportOptions {
  /** A leak scan of the same ledger. Absent: the report says the scan was not run. */
  scan?: ReportScan
  /**
   * The witness check across the ledgers reported (`airlock audit report
   * --witness`): the signed heads the control plane holds, and what in it no
   * ledger given accounts for (a missing ledger, an unsigned head). Each
   * ledger's own check against its heads is in its verification.
   */
  witness?: { readonly heads: number; readonly findings: readonly string[] }
  /** When the report was made, shown in its header. Absent: not shown, and the output depends on `report` alone. */
  generatedAt?: Date
}

/**
 * The Content-Security-Policy the report carries in a `<meta>` tag: nothing
 * may load or run, not even from the file's own directory; only the inline
 * `<style>` and `style` attributes apply. `base-uri` and `form-action` do
 * not fall back to `default-src`, so they are named too.
 *
 * @example
 * ```ts
 * formatReportHtml(report).includes(HTML_REPORT_CSP) // true
 * ```
 */
export const HTML_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

/**
 * The report as one self-contained HTML page for an auditor (report format
 * v1): verification first, then a summary, a chart of events per channel over
 * time, transforms by rule and action, every field path sent, withheld events,
 * delivery failures and leak-scan findings.
 *
 * The page loads nothing: no script, no external URL, inline CSS and inline
 * SVG only, under {@link HTML_REPORT_CSP}. Every string that came from the
 * ledger (channels, rules, field paths, reasons, the path) is HTML-escaped,
 * with control, bidi and zero-width characters shown as `\uXXXX`: the ledger
 * records data that attackers can influence, and the report must not run or
 * disguise it. Every number is text in the DOM, and the main ones carry a
 * `data-testid`; table rows carry their key in `data-key`.
 *
 * Its size is bounded by the report's own limits (`REPORT_KEY_LIMIT` rows per
 * table, `REPORT_LIST_LIMIT` per list, 100 chart buckets), not by the ledger's.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises'
 * import { buildLedgerReport, formatReportHtml } from 'airlock-sdk'
 *
 * const report = await buildLedgerReport('audit/ledger.ndjson', { publicKey })
 * await writeFile('report.html', formatReportHtml(report, { generatedAt: new Date() }))
 * ```
 */
export function formatReportHtml(report: LedgerReport, options: HtmlReportOptions = {}): string {
  const title = `Airlock ledger audit report: ${report.path}`
  return [
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    `<meta http-equiv="Content-Security-Policy" content="${HTML_REPORT_CSP}">\n`,
    '<meta name="referrer" content="no-referrer">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    `<meta name="generator" content="airlock-sdk audit report v${report.v}">\n`,
    `<title>${esc(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<main>\n`,
    header(report, options.generatedAt),
    verification(report),
    witnessCheck(report, options.witness),
    summary(report, options.scan),
    timelineSection(report),
    transformsSection(report),
    fieldPathsSection(report),
    withheldSection(report),
    failuresSection(report),
    findingsSection(options.scan),
    '</main>\n</body>\n</html>\n',
  ].join('')
}

// ------------------------------------------------------------------ sections

function header(report: LedgerReport, generatedAt: Date | undefined): string {
  const when = generatedAt === undefined ? '' : ` · generated <time data-testid="generated-at">${esc(generatedAt.toISOString())}</time>`
  return `<header><h1>Airlock ledger audit report</h1><p class="meta">ledger <code data-testid="ledger-path">${esc(report.path)}</code>${when}</p></header>\n`
}

function verification(report: LedgerReport): string {
  const v = report.verified
  if (!v.ok && v.empty) {
    return (
      `<section id="verification" class="banner bad" data-testid="verified" data-verified="false" data-status="empty" role="alert">` +
      `<h2>Ledger empty</h2>` +
      `<p>The ledger holds no entries, so it shows nothing about what was sent. A ledger cut down to nothing looks the same: an empty file is not evidence.</p>` +
      `</section>\n`
    )
  }
  if (!v.ok) {
    return (
      `<section id="verification" class="banner bad" data-testid="verified" data-verified="false" role="alert">` +
      `<h2>Ledger NOT verified</h2>` +
      `<p>The first bad entry is seq <strong data-testid="first-bad-seq">${v.firstBadSeq}</strong>: ${esc(v.reason)}</p>` +
      `<p>Every count in this report covers the intact entries only, seq 1 to <span data-testid="verified-entries">${v.entries}</span>. What came after cannot be trusted, and is not counted.</p>` +
      `</section>\n`
    )
  }
  const signatures = v.signaturesChecked
    ? `<p class="sig ok" data-testid="signatures" data-checked="true">${v.checkpoints} signed checkpoint${v.checkpoints === 1 ? '' : 's'} verified; the ledger ends with its closing checkpoint.</p>`
    : `<p class="sig warn" data-testid="signatures" data-checked="false">Signatures not checked (no public key given): the hash chain is intact, but entries cut from the end, or a ledger rewritten whole, cannot be detected. Pass <code>--public-key</code> to check them.</p>`
  return (
    `<section id="verification" class="banner ok" data-testid="verified" data-verified="true">` +
    `<h2>Ledger verified: intact</h2>` +
    `<p><span data-testid="verified-entries">${v.entries}</span> entries, hash chain unbroken; head <code>${esc(v.head)}</code></p>` +
    signatures +
    // Built by hand, a report from before adoptions existed has none.
    adoptions(v.adopted ?? [], v.adoptions ?? 0) +
    `</section>\n`
  )
}

function witnessCheck(report: LedgerReport, witness: HtmlReportOptions['witness']): string {
  const v = report.verified
  if (witness === undefined) {
    return (
      `<section id="witness" class="note warn" data-testid="witness" data-checked="false"><h2>Witness not checked</h2>` +
      `<p>No witness was given: a ledger cut short, rewritten by someone holding the signing key, or missing the runs of later processes is not detected. Pass <code>--witness</code> with what the control plane received (its <code>ledger-checkpoint</code> events) to check every head it saw.</p></section>\n`
    )
  }
  if (witness.findings.length > 0 || !v.ok) {
    const items = witness.findings.map((finding) => `<li>${esc(finding)}</li>`).join('')
    return (
      `<section id="witness" class="banner bad" data-testid="witness" data-checked="true" data-ok="false" role="alert"><h2>Witness check FAILED</h2>` +
      `<p>The control plane holds <span data-testid="witness-heads">${witness.heads}</span> signed heads.${v.ok ? '' : ' The ledger verification above says where the ledger departs from them, or what else failed.'}</p>` +
      (items === '' ? '' : `<ul data-testid="witness-findings">${items}</ul>`) +
      `</section>\n`
    )
  }
  return (
    `<section id="witness" class="banner ok" data-testid="witness" data-checked="true" data-ok="true"><h2>Witness check passed</h2>` +
    `<p>Every one of the <span data-testid="witness-heads">${witness.heads}</span> signed heads the control plane received is matched: each ledger reaches the size it saw, with the same Merkle root. The ledger was not cut short, rewritten or stripped of later runs since the control plane saw it.</p></section>\n`
  )
}

function adoptions(adopted: readonly LedgerAdoption[], total: number): string {
  if (total === 0) return ''
  const items = adopted.map((a) => `<li data-seq="${a.bySeq}">${esc(describeAdoption(a))}</li>`).join('')
  const more = total > adopted.length ? `<li>and ${count(total - adopted.length)} more</li>` : ''
  return (
    `<div class="note warn" data-testid="adopted"><p>Adopted entries: a writer stopped without closing the ledger (or the file was edited), and a later writer holding the signing key checked their hash chain and signed them. Their signature is the adopter's, not their writer's.</p>` +
    `<ul>${items}${more}</ul></div>`
  )
}

function summary(report: LedgerReport, scan: ReportScan | undefined): string {
  const e = report.entries
  const span = report.timeSpan
  const spanText =
    span === null
      ? '<p class="big">(empty)</p>'
      : `<p><time data-testid="time-first">${esc(span.first)}</time><br>to <time data-testid="time-last">${esc(span.last)}</time></p>` +
        `<p class="sub">${esc(humanDuration(Date.parse(span.last) - Date.parse(span.first)))}</p>`
  const scanText =
    scan === undefined
      ? '<p class="big muted">not run</p>'
      : `<p class="big${scan.total > 0 ? ' alarm' : ''}">${scan.total === 0 ? 'no findings' : `${count(scan.total)} finding${scan.total === 1 ? '' : 's'}`}</p>`
  const cards = [
    card('Entries', `<p class="big" data-testid="entries-total">${count(e.total)}</p><p class="sub"><span data-testid="entries-events">${count(e.events)}</span> events, <span data-testid="entries-deliveries">${count(e.deliveries)}</span> delivery records, <span data-testid="entries-checkpoints">${count(e.checkpoints)}</span> checkpoints</p>`),
    card('Time span', spanText, 'wide'),
    card('Withheld events', `<p class="big${report.withheld.total > 0 ? ' warn' : ''}" data-testid="withheld-total">${count(report.withheld.total)}</p>`),
    card('Delivery failures', `<p class="big${report.deliveryFailures.total > 0 ? ' warn' : ''}" data-testid="delivery-failures-total">${count(report.deliveryFailures.total)}</p>`),
    card('Leak scan', scanText),
  ]
  return (
    `<section id="summary"><h2>Summary</h2><div class="cards">${cards.join('')}</div>` +
    `<div class="cols"><div><h3>Events per channel</h3>${countTable('channels', 'channel', report.perChannel, e.events, report.omitted.perChannel)}</div>` +
    `<div><h3>Events per status</h3>${countTable('statuses', 'status', report.perStatus, e.events, 0)}</div></div>` +
    `<h3>Policy hashes in effect</h3><p class="note">The hash of the policy that shaped each event. More than one means the policy changed during the span.</p>` +
    countTable('policy-hashes', 'policy hash', report.policyHashes, e.events, report.omitted.policyHashes) +
    `</section>\n`
  )
}

function timelineSection(report: LedgerReport): string {
  const t = report.timeline
  let body = '<p class="none">(no events)</p>'
  if (t !== null) {
    const series = chartSeries(report, t)
    body =
      `<p class="note">Event entries per channel, by the time each was recorded; each bar is <span data-testid="bucket-width">${esc(humanDuration(t.bucketMs))}</span>, starting ${esc(t.start)}. Hover a bar for its counts.</p>` +
      timelineChart(t, series) +
      timelineTable(t, series)
  }
  return `<section id="timeline"><h2>Events per channel over time</h2>${body}</section>\n`
}

function transformsSection(report: LedgerReport): string {
  const rows: [string, string, number][] = []
  for (const [rule, actions] of Object.entries(report.transforms)) {
    for (const [action, n] of Object.entries(actions)) rows.push([rule, action, n])
  }
  rows.sort(([r1, a1, m], [r2, a2, n]) => n - m || compare(r1, r2) || compare(a1, a2))
  const total = rows.reduce((sum, [, , n]) => sum + n, 0)
  const max = rows.reduce((top, [, , n]) => Math.max(top, n), 0)
  const body =
    rows.length === 0
      ? '<p class="none">(none)</p>'
      : `<table data-testid="transforms"><thead><tr><th>rule</th><th>action</th><th class="num">applied</th><th class="bar-col"></th></tr></thead><tbody>` +
        rows
          .map(
            ([rule, action, n]) =>
              `<tr data-rule="${esc(rule)}" data-action="${esc(action)}"><td><code>${esc(rule)}</code></td><td><span class="action">${esc(action)}</span></td>${numCell(n)}${barCell(n, max)}</tr>`,
          )
          .join('') +
        `</tbody></table>`
  return (
    `<section id="transforms"><h2>Transforms by rule and action</h2>` +
    `<p class="note"><span data-testid="transforms-total">${count(total)}</span> transforms applied before events left: which policy rule acted, and how.</p>` +
    body +
    omittedNote(report.omitted.transforms) +
    `</section>\n`
  )
}

function fieldPathsSection(report: LedgerReport): string {
  const paths = Object.keys(report.fieldPaths).length
  return (
    `<section id="field-paths"><h2>Field paths that reached the control plane</h2>` +
    `<p class="note">Every leaf path in the events as recorded, whatever their status, with the number of events that carried it: <span data-testid="field-paths-total">${count(paths)}</span> distinct paths. <code>[]</code> stands for any array index.</p>` +
    countTable('field-paths', 'path', report.fieldPaths, report.entries.events, report.omitted.fieldPaths) +
    `</section>\n`
  )
}

function withheldSection(report: LedgerReport): string {
  const { total, first } = report.withheld
  const table =
    first.length === 0
      ? '<p class="none">(none)</p>'
      : `<table data-testid="withheld-list"><thead><tr><th class="num">seq</th><th>time</th><th>channel</th><th>event id</th><th>reason</th></tr></thead><tbody>` +
        first.map(withheldRow).join('') +
        `</tbody></table>`
  return (
    `<section id="withheld"><h2>Withheld events</h2>` +
    `<p class="note">Events the policy, the scrubber or the serializer failed on, replaced by a <code>withheld</code> event with no payload. Total: <strong>${count(total)}</strong>.</p>` +
    table +
    moreNote(total, first.length) +
    `</section>\n`
  )
}

function withheldRow(w: WithheldSummary): string {
  return `<tr data-seq="${w.seq}">${numCell(w.seq)}<td>${esc(w.time)}</td><td>${esc(w.channel)}</td><td><code>${esc(w.eventId)}</code></td><td>${w.reason === undefined ? '' : `<code>${esc(w.reason)}</code>`}</td></tr>`
}

function failuresSection(report: LedgerReport): string {
  const { total, first } = report.deliveryFailures
  const table =
    first.length === 0
      ? '<p class="none">(none)</p>'
      : `<table data-testid="delivery-failures-list"><thead><tr><th class="num">seq</th><th>time</th><th>status</th><th>channel</th><th>events</th><th>error</th></tr></thead><tbody>` +
        first.map(failureRow).join('') +
        `</tbody></table>`
  return (
    `<section id="delivery-failures"><h2>Delivery failures</h2>` +
    `<p class="note">Events whose delivery failed, for now (<code>retrying</code>) or for good (<code>failed</code>). Total: <strong>${count(total)}</strong>.</p>` +
    table +
    moreNote(total, first.length) +
    `</section>\n`
  )
}

function failureRow(f: DeliveryFailureSummary): string {
  const ids = f.eventIds.map((id) => `<code>${esc(id)}</code>`).join(' ')
  const more = f.eventCount > f.eventIds.length ? ` <span class="muted">and ${count(f.eventCount - f.eventIds.length)} more</span>` : ''
  const error = f.error === undefined ? '' : `<code>${esc(f.error.code)}</code>${f.error.status === undefined ? '' : ` (HTTP ${f.error.status})`}`
  return `<tr data-seq="${f.seq}">${numCell(f.seq)}<td>${esc(f.time)}</td><td><span class="status ${f.status}">${f.status}</span></td><td>${f.channel === undefined ? '<span class="muted">-</span>' : esc(f.channel)}</td><td>${ids}${more}</td><td>${error}</td></tr>`
}

function findingsSection(scan: ReportScan | undefined): string {
  let body: string
  if (scan === undefined) {
    body = `<p class="none" data-testid="findings-status" data-status="not-run">The leak scan was not run for this report: nothing here says the ledger is free of leaks.</p>`
  } else {
    const scope = `<p class="note">Looked for: <span data-testid="scan-scope">${esc(scan.scope)}</span>.</p>`
    if (scan.total === 0) {
      body = `<p class="clean" data-testid="findings-status" data-status="clean">The leak scan found nothing.</p>${scope}`
    } else {
      const shown = scan.findings.slice(0, REPORT_LIST_LIMIT)
      body =
        `<p class="alarm" data-testid="findings-status" data-status="findings"><strong data-testid="findings-total">${count(scan.total)}</strong> emitted value${scan.total === 1 ? '' : 's'} matched. Previews are masked.</p>` +
        scope +
        `<table data-testid="findings-list"><thead><tr><th class="num">seq</th><th>channel</th><th>path</th><th>rule</th><th>preview (masked)</th></tr></thead><tbody>` +
        shown.map(findingRow).join('') +
        `</tbody></table>` +
        moreNote(scan.total, shown.length)
    }
  }
  return `<section id="findings"><h2>Leak-scan findings</h2>${body}</section>\n`
}

function findingRow(f: ReportFinding): string {
  const key =
    f.field === 'transforms' ? ' <span class="muted">(transform record)</span>' : f.part === 'key' ? ' <span class="muted">(key)</span>' : ''
  return `<tr data-seq="${f.seq}">${numCell(f.seq)}<td>${esc(f.channel)}</td><td><code>${esc(f.path)}</code>${key}</td><td><code>${esc(f.rule)}</code></td><td><code>${esc(f.preview.slice(0, 200))}</code></td></tr>`
}

// ------------------------------------------------------------------ the chart

interface Series {
  label: string
  counts: readonly number[]
  color: string
}

// Okabe–Ito first (distinguishable with the common colour-vision deficiencies), then more.
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#332288', '#882255', '#44aa99', '#999933', '#661100']
const OTHER_COLOR = '#9a9a9a'

/** The charted series, most frequent channel first, so colours match the order of the channel table. */
function chartSeries(report: LedgerReport, t: LedgerTimeline): Series[] {
  const channels = Object.keys(t.perChannel).sort((a, b) => (report.perChannel[b] ?? 0) - (report.perChannel[a] ?? 0) || compare(a, b))
  const series = channels.map((label, i) => ({ label, counts: t.perChannel[label]!, color: PALETTE[i % PALETTE.length]! }))
  if (t.other.some((n) => n > 0)) series.push({ label: '(other channels)', counts: t.other, color: OTHER_COLOR })
  return series
}

const CHART = { width: 960, height: 280, left: 64, right: 16, top: 16, bottom: 44 }

function timelineChart(t: LedgerTimeline, series: readonly Series[]): string {
  const plotWidth = CHART.width - CHART.left - CHART.right
  const plotHeight = CHART.height - CHART.top - CHART.bottom
  const bottom = CHART.top + plotHeight
  const totals = Array.from({ length: t.buckets }, (_, i) => series.reduce((sum, s) => sum + s.counts[i]!, 0))
  const step = niceStep(Math.max(1, ...totals) / 4)
  const yMax = Math.ceil(Math.max(1, ...totals) / step) * step
  const barWidth = plotWidth / t.buckets
  const gap = barWidth > 4 ? 1 : 0
  const startMs = Date.parse(t.start)

  const out: string[] = [
    `<svg class="chart" data-testid="timeline-chart" viewBox="0 0 ${CHART.width} ${CHART.height}" role="img" aria-labelledby="timeline-title">`,
    `<title id="timeline-title">Events per channel over time</title>`,
  ]
  for (let y = 0; y <= yMax; y += step) {
    const py = bottom - (y / yMax) * plotHeight
    out.push(
      `<line class="grid" x1="${CHART.left}" x2="${CHART.width - CHART.right}" y1="${fixed(py)}" y2="${fixed(py)}"/>`,
      `<text class="tick" x="${CHART.left - 6}" y="${fixed(py + 4)}" text-anchor="end">${count(y)}</text>`,
    )
  }
  for (let i = 0; i < t.buckets; i++) {
    if (totals[i] === 0) continue
    const x = CHART.left + i * barWidth
    const from = new Date(startMs + i * t.bucketMs).toISOString()
    const parts = series.filter((s) => s.counts[i]! > 0).map((s) => `${s.label}: ${count(s.counts[i]!)}`)
    out.push(`<g><title>${esc(`${from} (${humanDuration(t.bucketMs)}): ${count(totals[i]!)} events; ${parts.join(', ')}`)}</title>`)
    let y = bottom
    for (const s of series) {
      const n = s.counts[i]!
      if (n === 0) continue
      const height = (n / yMax) * plotHeight
      y -= height
      out.push(`<rect x="${fixed(x + gap / 2)}" y="${fixed(y)}" width="${fixed(barWidth - gap)}" height="${fixed(height)}" fill="${s.color}"/>`)
    }
    out.push('</g>')
  }
  const endMs = startMs + t.buckets * t.bucketMs
  out.push(
    `<line class="axis" x1="${CHART.left}" x2="${CHART.width - CHART.right}" y1="${bottom}" y2="${bottom}"/>`,
    `<text class="tick" x="${CHART.left}" y="${bottom + 18}" text-anchor="start">${esc(axisTime(startMs))}</text>`,
    `<text class="tick" x="${CHART.left + plotWidth / 2}" y="${bottom + 18}" text-anchor="middle">${esc(axisTime((startMs + endMs) / 2))}</text>`,
    `<text class="tick" x="${CHART.width - CHART.right}" y="${bottom + 18}" text-anchor="end">${esc(axisTime(endMs))}</text>`,
    `<text class="tick" x="${CHART.left + plotWidth / 2}" y="${bottom + 36}" text-anchor="middle">time (UTC)</text>`,
    '</svg>',
  )
  const legend = series.map((s) => `<li><span class="swatch" style="background:${s.color}"></span>${esc(s.label)}</li>`).join('')
  return out.join('') + `<ul class="legend" data-testid="timeline-legend">${legend}</ul>`
}

function timelineTable(t: LedgerTimeline, series: readonly Series[]): string {
  const startMs = Date.parse(t.start)
  const head = series.map((s) => `<th class="num" data-key="${esc(s.label)}">${esc(s.label)}</th>`).join('')
  const rows: string[] = []
  for (let i = 0; i < t.buckets; i++) {
    const total = series.reduce((sum, s) => sum + s.counts[i]!, 0)
    if (total === 0) continue
    rows.push(`<tr data-bucket="${i}"><td>${esc(new Date(startMs + i * t.bucketMs).toISOString())}</td>${series.map((s) => numCell(s.counts[i]!)).join('')}${numCell(total)}</tr>`)
  }
  return (
    `<details><summary>Counts per bucket (non-empty buckets)</summary>` +
    `<table data-testid="timeline-table"><thead><tr><th>bucket start (UTC)</th>${head}<th class="num">total</th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
    `</details>`
  )
}

// ------------------------------------------------------------------ helpers

/** A table of counts, most frequent first, with the share of `whole` and a bar scaled to the largest count. */
function countTable(testId: string, keyHeader: string, counts: Record<string, number>, whole: number, omitted: number): string {
  const rows = Object.entries(counts)
  if (rows.length === 0) return '<p class="none">(none)</p>' + omittedNote(omitted)
  const max = rows.reduce((top, [, n]) => Math.max(top, n), 0)
  const body = rows
    .map(([key, n]) => `<tr data-key="${esc(key)}"><td><code>${esc(key)}</code></td>${numCell(n)}<td class="num share">${share(n, whole)}</td>${barCell(n, max)}</tr>`)
    .join('')
  return (
    `<table data-testid="${testId}"><thead><tr><th>${keyHeader}</th><th class="num">events</th><th class="num">share</th><th class="bar-col"></th></tr></thead><tbody>${body}</tbody></table>` +
    omittedNote(omitted)
  )
}

function numCell(n: number): string {
  return `<td class="num" data-value="${n}">${count(n)}</td>`
}

function barCell(n: number, max: number): string {
  return `<td class="bar-col"><span class="bar" style="width:${max === 0 ? 0 : fixed((n / max) * 100)}%"></span></td>`
}

function card(title: string, body: string, extraClass = ''): string {
  return `<div class="card${extraClass === '' ? '' : ` ${extraClass}`}"><h3>${title}</h3>${body}</div>`
}

function omittedNote(omitted: number): string {
  return omitted > 0 ? `<p class="note warn">${count(omitted)} more occurrences of other keys were not tallied: the report keeps at most 10,000 distinct keys per table.</p>` : ''
}

function moreNote(total: number, shown: number): string {
  return total > shown ? `<p class="note">Showing the first ${count(shown)}; ${count(total - shown)} more not listed.</p>` : ''
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

function escapeHtmlChar(char: string): string {
  return HTML_ESCAPES[char]!
}

/** Text safe in HTML text and in double-quoted attributes, with control, bidi and zero-width characters made visible. */
function esc(text: string): string {
  return escapeControl(text).replace(/[&<>"']/g, escapeHtmlChar)
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

function count(n: number): string {
  return integer.format(n)
}

function share(n: number, whole: number): string {
  if (whole === 0) return ''
  const percent = (n / whole) * 100
  return `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`
}

function fixed(n: number): string {
  return String(Math.round(n * 100) / 100)
}

function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const nice = [1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10
  return Math.max(1, nice * magnitude)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function axisTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.000Z$/, 'Z')
}

const UNITS: readonly [number, string][] = [
  [604_800_000, 'week'],
  [86_400_000, 'day'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1000, 's'],
]

/** `450 ms`, `30 s`, `2 h 5 min`, `3 days 4 h`: the largest unit and the next one. */
function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  const index = UNITS.findIndex(([size]) => ms >= size)
  const [size, unit] = UNITS[index]!
  const n = Math.floor(ms / size)
  const next = UNITS[index + 1]
  const rest = next === undefined ? 0 : Math.floor((ms - n * size) / next[0])
  return rest === 0 || next === undefined ? unitText(n, unit) : `${unitText(n, unit)} ${unitText(rest, next[1])}`
}

function unitText(n: number, unit: string): string {
  return `${n} ${unit}${n !== 1 && (unit === 'day' || unit === 'week') ? 's' : ''}`
}

const STYLE = `
:root{--ok:#1a7f37;--ok-bg:#e6f4ea;--bad:#b3261e;--bad-bg:#fce8e6;--warn:#8a5a00;--warn-bg:#fff4d6;--ink:#1f2328;--muted:#59636e;--line:#d0d7de;--bar:#0072b2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#f6f8fa}
main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:0 0 10px}h3{font-size:15px;margin:16px 0 6px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:16px 0}
code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.meta,.note,.sub,.muted{color:var(--muted)}.note{margin:4px 0 10px}
.banner{border-width:2px}.banner h2{font-size:22px;margin-bottom:6px}
.banner.ok{background:var(--ok-bg);border-color:var(--ok)}.banner.ok h2{color:var(--ok)}
.banner.bad{background:var(--bad-bg);border-color:var(--bad)}.banner.bad h2{color:var(--bad)}
.sig.warn,.note.warn{color:var(--warn);background:var(--warn-bg);padding:6px 10px;border-radius:6px}.sig.ok{color:var(--ok)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(135px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 12px}.card h3{margin:0 0 4px;font-size:13px;color:var(--muted);font-weight:600}
.card p{margin:2px 0}.card.wide{grid-column:span 2}.card time{white-space:nowrap}.big{font-size:24px;font-weight:650}.big.warn{color:var(--warn)}.big.alarm,.alarm{color:var(--bad)}.big.muted{color:var(--muted)}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:0 24px}
table{border-collapse:collapse;width:100%;margin:4px 0}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;color:var(--muted);border-bottom-color:var(--line)}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar-col{width:28%}.bar{display:inline-block;height:10px;background:var(--bar);border-radius:2px;min-width:1px}
.share{color:var(--muted)}
.action,.status{font:12px ui-monospace,monospace;padding:1px 6px;border-radius:10px;background:#eef1f4}
.status.failed{background:var(--bad-bg);color:var(--bad)}.status.retrying{background:var(--warn-bg);color:var(--warn)}
.none{color:var(--muted);font-style:italic}.clean{color:var(--ok)}
.chart{width:100%;height:auto;display:block}
.chart .grid{stroke:#eaeef2}.chart .axis{stroke:#8c959f}.chart .tick{font-size:11px;fill:var(--muted)}
.chart rect:hover{opacity:.8}
.legend{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:6px 16px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
details summary{cursor:pointer;color:var(--muted);margin:8px 0}
@media print{body{background:#fff}section{break-inside:avoid;border-color:#999}details{display:block}}
`
