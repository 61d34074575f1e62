import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LedgerEntry } from '../../src/audit/ledger-entry.js'
import { generateLedgerSigningKey } from '../../src/audit/ledger-signing-key.js'
import { Ledger } from '../../src/audit/ledger.js'
import { scanLedger } from '../../src/audit/scan-ledger.js'
import { AirlockBoundary } from '../../src/boundary/airlock-boundary.js'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { runCli } from '../../src/cli/run-cli.js'
import { KeyRing } from '../../src/crypto/key-ring.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { CHROMIUM_ARGS, findChromium, type ChromiumLookup } from '../support/chromium.js'

const SCREENSHOT = fileURLToPath(new URL('../../test-artifacts/html-report.png', import.meta.url))
const XSS_KEY = '<img src=x onerror=alert(1)>'
const AWS_KEY = 'AKIAQ3EXAMPLEKEY7X2B'

let dir: string
let ledgerPath: string
let reportPath: string
let lookup: ChromiumLookup
let context: BrowserContext | undefined
let page: Page
/** Every network request the page made, apart from loading the report itself. */
const requests: string[] = []
const consoleErrors: string[] = []

/**
 * A ledger with known contents, written by the real boundary: three policies
 * in turn (balanced, strict, then permissive), parameters, states, logs, a
 * withheld event, a suppressed debug log, a leaked access key, and then a
 * delivery failure recorded by hand.
 */
async function buildLedger(): Promise<{ publicKeyPath: string }> {
  const { privateKey, publicKey } = await generateLedgerSigningKey()
  const keys = KeyRing.generate()
  const emits = async (airlock: AirlockBoundary, run: string): Promise<void> => {
    await airlock.emit({ kind: 'parameters', runId: run, flowName: 'etl', parameters: { email: 'ada@example.com', region: 'eu', [XSS_KEY]: 'x' } })
    await airlock.emit({ kind: 'flow-run-state', runId: run, flowName: 'etl', state: 'Running' })
    await airlock.emit({ kind: 'log', runId: run, level: 'warn', msg: 'loaded rows for ada@example.com', fields: { rows: 3 } })
    await airlock.emit({ kind: 'log', runId: run, level: 'debug', msg: 'suppressed below the shipped level' })
    await airlock.emit({ kind: 'flow-run-state', runId: run, flowName: 'etl', state: 'Success' })
  }
  const first = new AirlockBoundary({
    keys,
    controlPlane: new MemoryControlPlane(),
    ledger: { path: ledgerPath, signingKey: privateKey },
    policy: definePolicy({ preset: 'balanced' }, { env: {} }),
  })
  await emits(first, 'run-1')
  await emits(first, 'run-2')
  const hostile = {
    toJSON(): never {
      throw new Error('cannot describe it')
    },
  }
  await first.emit({ kind: 'task-run-state', runId: 'run-2', taskName: 'load', taskRunId: 't1', state: 'Success', result: hostile })
  await first.close()

  const second = new AirlockBoundary({
    keys,
    controlPlane: new MemoryControlPlane(),
    ledger: { path: ledgerPath, signingKey: privateKey },
    policy: definePolicy({ preset: 'strict' }, { env: {} }),
  })
  await emits(second, 'run-3')
  await second.close()

  // A permissive policy masks registered secrets only: this key leaves as is, for the leak scan to find.
  const third = new AirlockBoundary({
    keys,
    controlPlane: new MemoryControlPlane(),
    ledger: { path: ledgerPath, signingKey: privateKey },
    policy: definePolicy({ preset: 'permissive' }, { env: {} }),
  })
  await third.emit({ kind: 'log', runId: 'run-4', level: 'error', msg: `connecting with ${AWS_KEY}` })
  await third.close()

  const ledger = await Ledger.open({ path: ledgerPath, signingKey: privateKey })
  await ledger.appendDelivery({ eventIds: ['lost-event-1'], status: 'failed', error: { code: 'http-503', status: 503 } })
  await ledger.close()

  const publicKeyPath = join(dir, 'ledger.pub.json')
  await writeFile(publicKeyPath, JSON.stringify(publicKey))
  return { publicKeyPath }
}

/** The ledger read plainly, line by line: the expected numbers, independent of the report's code. */
async function readEntries(): Promise<LedgerEntry[]> {
  return (await readFile(ledgerPath, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LedgerEntry)
}

function tally(keys: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1
  return counts
}

/** One column of a table, as text, row by row. */
function column(testId: string, nth: number): Promise<string[]> {
  return page.locator(`[data-testid="${testId}"] tbody td:nth-child(${nth})`).allTextContents()
}

function toNumber(text: string): number {
  return Number(text.replaceAll(',', ''))
}

/** A count table of the report as {key: count}: the first column's text, and the count in the second. */
async function tableCounts(testId: string): Promise<Record<string, number>> {
  const [keys, counts] = await Promise.all([column(testId, 1), column(testId, 2)])
  expect(keys).toHaveLength(counts.length)
  return Object.fromEntries(keys.map((key, i) => [key, toNumber(counts[i]!)]))
}

async function text(testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? ''
}

beforeAll(async () => {
  lookup = await findChromium(process.env)
  if ('skipReason' in lookup) {
    console.warn(`SKIPPING the HTML report browser test: ${lookup.skipReason}`)
    return
  }
  dir = await mkdtemp(join(tmpdir(), 'airlock-html-browser-'))
  ledgerPath = join(dir, 'ledger.ndjson')
  reportPath = join(dir, 'report.html')
  const { publicKeyPath } = await buildLedger()
  let err = ''
  const code = await runCli(['audit', 'report', ledgerPath, '--format', 'html', '--out', reportPath, '--public-key', publicKeyPath], {
    stdout: { write: () => true },
    stderr: { write: (t: string) => (err += t) },
    env: {},
  })
  expect({ code, err }).toEqual({ code: 0, err: '' })

  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: lookup.executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1200, height: 900 },
  })
  page = context.pages()[0] ?? (await context.newPage())
  const reportUrl = pathToFileURL(reportPath).href
  page.on('request', (request) => {
    if (request.url() !== reportUrl) requests.push(request.url())
  })
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text())
  })
  page.on('pageerror', (error) => consoleErrors.push(error.message))
  await page.goto(reportUrl, { waitUntil: 'load' })
})

afterAll(async () => {
  await context?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('the HTML audit report in headless Chromium', () => {
  it('shows the verified status and the entry counts of the ledger', async ({ skip }) => {
    if ('skipReason' in lookup) return skip(lookup.skipReason)
    const entries = await readEntries()
    const banner = page.getByTestId('verified')
    expect(await banner.getAttribute('data-verified')).toBe('true')
    expect(await banner.locator('h2').textContent()).toBe('Ledger verified: intact')
    // Four writers, each closed with a signed checkpoint; the three Airlocks also sign the head they send at close.
    expect(await page.getByTestId('signatures').getAttribute('data-checked')).toBe('true')
    expect(await text('signatures')).toContain(`${entries.filter((e) => e.kind === 'checkpoint').length} signed checkpoints verified`)
    expect(Number(await text('entries-total'))).toBe(entries.length)
    expect(Number(await text('entries-events'))).toBe(entries.filter((e) => e.kind === 'event').length)
    expect(Number(await text('entries-checkpoints'))).toBe(7)
    expect(await text('time-first')).toBe(entries[0]!.time)
    expect(await text('time-last')).toBe(entries.at(-1)!.time)
  })

  it('counts events per channel, per policy and over time as the ledger records them', async ({ skip }) => {
    if ('skipReason' in lookup) return skip(lookup.skipReason)
    const events = (await readEntries()).filter((e) => e.kind === 'event')
    // 3 runs: parameters 1, states 2, logs 1 (the debug log is not shipped); plus the withheld state and the leaky log;
    // and each Airlock's ledger-checkpoint event at close (the head the control plane witnesses).
    expect(await tableCounts('channels')).toEqual({ parameters: 3, states: 7, logs: 4, ledger: 3 })
    expect(await tableCounts('channels')).toEqual(tally(events.map((e) => e.channel)))
    const policies = await tableCounts('policy-hashes')
    expect(Object.values(policies).sort((a, b) => a - b)).toEqual([2, 5, 10])
    expect(policies).toEqual(tally(events.map((e) => e.policyHash)))

    // The chart's data table, summed per channel column, gives the same counts.
    const heads = await page.locator('[data-testid="timeline-table"] thead th').allTextContents()
    const columns: Record<string, number> = {}
    for (let i = 1; i < heads.length; i++) {
      columns[heads[i]!] = (await column('timeline-table', i + 1)).reduce((sum, cell) => sum + toNumber(cell), 0)
    }
    expect(columns).toEqual({ parameters: 3, states: 7, logs: 4, ledger: 3, total: 17 })
    expect(await page.locator('[data-testid="timeline-chart"] rect').count()).toBeGreaterThan(0)
    expect(await page.locator('[data-testid="timeline-legend"] li').allTextContents()).toEqual(['states', 'logs', 'ledger', 'parameters'])
  })

  it('counts transforms by rule and action, and field paths, as the ledger records them', async ({ skip }) => {
    if ('skipReason' in lookup) return skip(lookup.skipReason)
    const events = (await readEntries()).filter((e) => e.kind === 'event')
    const [rules, actions, counts] = await Promise.all([1, 2, 3].map((nth) => column('transforms', nth)))
    const transforms = Object.fromEntries(rules!.map((rule, i) => [`${rule} / ${actions![i]}`, toNumber(counts![i]!)]))
    const expected = tally(events.flatMap((e) => e.transforms.map((t) => `${t.rule} / ${t.action}`)))
    expect(Object.keys(expected).length).toBeGreaterThan(0)
    expect(transforms).toEqual(expected)
    expect(Number(await text('transforms-total'))).toBe(Object.values(expected).reduce((a, b) => a + b, 0))

    const paths = await tableCounts('field-paths')
    expect(paths.runId).toBe(17)
    // The parameter key is text on the page, never markup.
    expect(paths[`parameters[${JSON.stringify(XSS_KEY)}]`]).toBe(3)
    expect(await page.locator('img').count()).toBe(0)
  })

  it('lists the withheld event, the delivery failure and the leaked key, masked', async ({ skip }) => {
    if ('skipReason' in lookup) return skip(lookup.skipReason)
    const entries = await readEntries()
    const withheld = entries.find((e) => e.kind === 'event' && e.status === 'withheld')!
    expect(await text('withheld-total')).toBe('1')
    expect(await page.locator('[data-testid="withheld-list"] tbody tr').getAttribute('data-seq')).toBe(String(withheld.seq))
    expect(await page.locator('[data-testid="withheld-list"] tbody tr td').nth(4).textContent()).toBe('validate:ERR_EVENT_INVALID')
    expect(await text('delivery-failures-total')).toBe('1')
    expect(await page.locator('[data-testid="delivery-failures-list"] tbody tr').textContent()).toContain('http-503 (HTTP 503)')
    const scan = await scanLedger(ledgerPath)
    const leak = entries.find((e) => e.kind === 'event' && JSON.stringify(e.event).includes(AWS_KEY))!
    expect(scan.total).toBeGreaterThan(0)
    expect(await page.getByTestId('findings-status').getAttribute('data-status')).toBe('findings')
    expect(Number(await text('findings-total'))).toBe(scan.total)
    expect(await column('findings-list', 1)).toEqual(scan.findings.map((f) => String(f.seq)))
    expect(await column('findings-list', 4)).toEqual(scan.findings.map((f) => f.rule))
    expect(scan.findings.map((f) => f.seq)).toContain(leak.seq)
    expect(await page.content()).not.toContain(AWS_KEY)
  })

  it('loads nothing but itself, runs no script, and saves a screenshot', async ({ skip }) => {
    if ('skipReason' in lookup) return skip(lookup.skipReason)
    expect(requests).toEqual([])
    expect(consoleErrors).toEqual([])
    expect(await page.locator('script').count()).toBe(0)
    await mkdir(join(SCREENSHOT, '..'), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect((await readFile(SCREENSHOT)).subarray(1, 4).toString()).toBe('PNG')
  })
})
