import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const policyFile = 'examples/redaction-policy/policy.yaml'
let dir: string
let stdout: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-redaction-'))
  ;({ stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/redaction-policy/flow.ts'], {
    // Killed rather than left running if it hangs, so a stuck example fails the suite instead of outliving it.
    timeout: 50_000,
    env: { ...process.env, AIRLOCK_EXAMPLE_DIR: dir },
  }))
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

// The example prints fixed-width columns: two spaces, the path (34), the
// value the task saw (38), ' → ', the value sent (38), then the rules.
const SAW = 2 + 34 + 1
const SENT = SAW + 38 + 3
const WHY = SENT + 38 + 1

/** The printed row of `path` in the section of `channel`: `[saw, sent, rules]`. */
function row(channel: string, path: string): [string, string, string] {
  const section = stdout.split(/\n(?=\S)/).find((s) => s.startsWith(channel))
  const line = section?.split('\n').find((l) => l.startsWith(`  ${path} `))
  if (line === undefined) throw new Error(`no row ${path} under ${channel} in:\n${stdout}`)
  expect(line.slice(SENT - 3, SENT)).toBe(' → ')
  return [line.slice(SAW, SENT - 3).trim(), line.slice(SENT, WHY).trim(), line.slice(WHY).trim()]
}

describe('examples/redaction-policy', () => {
  it('the policy passes `airlock policy check`, through the real CLI', async () => {
    const checked = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'policy', 'check', policyFile])
    expect(checked.stdout).toMatch(new RegExp(`^policy ${policyFile} is valid \\(hash ph1\\.[\\w-]+\\)\\n$`))
  })

  it('starts with the schema comment for editors', async () => {
    expect((await readFile(policyFile, 'utf8')).split('\n')[0]).toBe('# yaml-language-server: $schema=../../docs/policy.schema.json')
  })

  it('shows each parameter rule: allow, hash, encrypt, scrub, drop, redact, and the default', () => {
    expect(row('parameters', 'region')).toEqual(['eu-west-1', 'eu-west-1', 'region → allow'])
    expect(row('parameters', 'batch')[1]).toMatch(/^fp1\./)
    expect(row('parameters', 'batch')[2]).toBe('parameters.default → hash')
    expect(row('parameters', 'customer.id')[1]).toMatch(/^fp1\./)
    expect(row('parameters', 'customer.card')).toEqual(['4111 1111 1111 1111', expect.stringMatching(/^alkv1\./), 'customer.card → encrypt'])
    expect(row('parameters', 'customer.email')).toEqual(['ada@example.com', expect.stringMatching(/^fp1\./), 'customer.* → scrub; email → hash'])
    expect(row('parameters', 'customer.note')).toEqual([
      'onboarded by EMP-123456',
      'onboarded by [REDACTED:employee-id]',
      'customer.* → scrub; employee-id → redact',
    ])
    expect(row('parameters', 'warehouse.password')).toEqual(['hunter2-correct-horse', '(dropped)', '**.password → drop'])
    expect(row('parameters', 'payment_token')[1]).toBe('[REDACTED:*_token]')
  })

  it('shows each logs rule: level, redact paths, sensitive keys, the size cap and local scrubbing', () => {
    expect(row('logs', 'info: looking up the customer')).toEqual(['written locally', 'not shipped', 'logs.level → warn'])
    // ipv4 is switched off: the address stays; email is hashed.
    expect(row('logs', 'msg')[1]).toMatch(/^CRM at 10\.0\.0\.12 was slow for fp1\./)
    expect(row('logs', 'fields.req.headers.x-forwarded-for')).toEqual(['203.0.113.7', '[REDACTED:redact-path]', 'redact-path → redact'])
    expect(row('logs', 'fields.ssn')).toEqual(['078-05-1120', '[REDACTED:sensitive-key]', 'sensitive-key → redact'])
    expect(row('logs', 'fields.rows')[1]).toBe('msg only, truncated: true')
    expect(row('logs', 'fields.rows')[2]).toBe('logs.maxRecordBytes → truncate')
    expect(row('logs', 'local output (scrubLocal)')[1]).toMatch(/slow for fp1\./)
  })

  it('shows exceptions scrubbed with frames only, locations encrypted, inline values scrubbed, states hashed', () => {
    const [saw, sent, why] = row('exceptions', 'failure.message')
    expect(saw).toMatch(/^card 4111 1111 1111 1111 declined/)
    expect(sent).toMatch(/^card \*{19} declined/)
    expect(why).toBe('credit-card → mask; email → hash')
    // The frame's function is the task, and the names rule hides task names wherever they appear.
    expect(row('exceptions', 'failure.stack (first frame)')[1]).toMatch(/^at fp1\./)
    expect(row('exceptions', 'failure.causes[0].message')[1]).toMatch(/^gateway refused fp1\./)
    expect(row('exceptions', 'failure.causes[0].message')[2]).toBe('order-ref → hash')
    expect(row('locations', 'result.location')[0]).toMatch(/^acme-payments\/look-up\//)
    expect(row('locations', 'result.location')[1]).toMatch(/^alk1\./)
    expect(row('inline values', 'result.location')[1]).toMatch(/^\{"to":"fp1\./)
    expect(row('states', 'flowName')[1]).toMatch(/^fp1\./)
    expect(row('states', 'tags[0]')[1]).toMatch(/^fp1\./)
    expect(row('states', 'Retrying message')[1]).toBe('(dropped)')
  })

  it('lists the custom patterns among the rules that fired, and the ledger verifies', () => {
    expect(stdout).toMatch(/\n {2}employee-id → redact ×\d+\n/)
    expect(stdout).toMatch(/\n {2}order-ref → hash ×\d+\n/)
    expect(stdout).toMatch(/ledger .*: intact, \d+ entries/)
  })

  it('sends none of the values the policy withholds', async () => {
    const ledger = await readFile(join(dir, 'ledger.ndjson'), 'utf8')
    for (const withheld of ['ada@example.com', '4111 1111 1111 1111', 'hunter2-correct-horse', 'tok_visa_4f8a2c91', 'EMP-123456', 'ORD_7h2k9x4m1q8z', '078-05-1120', '203.0.113.7', 'acme-payments', 'C-1042']) {
      expect(ledger, withheld).not.toContain(withheld)
    }
  })
})
