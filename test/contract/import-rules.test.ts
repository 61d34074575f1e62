// docs/design.md's folder table, as the linter enforces it: a wrong import
// fails `npm run lint`. Each probe is linted as if it were a file in src/.
import { join } from 'node:path'
import { ESLint } from 'eslint'
import tseslint from 'typescript-eslint'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../..')
// Types are not needed to check imports; without them a probe file need not exist on disk.
const eslint = new ESLint({ cwd: ROOT, overrideConfig: [tseslint.configs.disableTypeChecked] })

async function importErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport {}\n`, { filePath: join(ROOT, file) })
  return result!.messages.filter((m) => m.ruleId?.startsWith('boundaries/')).map((m) => `${m.ruleId}: ${m.message}`)
}

describe('the import rules in npm run lint', () => {
  it.each([
    ['results importing runtime', 'src/results/probe.ts', "import { Airlock } from '../runtime/airlock.js'\nvoid Airlock"],
    ['scrub importing boundary', 'src/scrub/probe.ts', "import { AirlockBoundary } from '../boundary/airlock-boundary.js'\nvoid AirlockBoundary"],
    ['audit importing an adapter', 'src/audit/probe.ts', "import { AirlockPayloadCodec } from '../adapters/temporal/airlock-payload-codec.js'\nvoid AirlockPayloadCodec"],
    ['anything importing cli', 'src/runtime/probe.ts', "import { runCli } from '../cli/run-cli.js'\nvoid runCli"],
    ['the core importing an engine package', 'src/boundary/probe.ts', "import { TerminalError } from '@restatedev/restate-sdk'\nvoid TerminalError"],
    ['a cloud SDK outside results', 'src/audit/probe.ts', "import { S3Client } from '@aws-sdk/client-s3'\nvoid S3Client"],
    ['one adapter importing another engine', 'src/adapters/otel/probe.ts', "import { airlockHooks } from '../restate/airlock-hooks.js'\nvoid airlockHooks"],
  ])('fails on %s', async (_what, file, source) => {
    expect(await importErrors(file, source)).not.toEqual([])
  })

  it.each([
    ['runtime importing results', 'src/runtime/probe.ts', "import { LocalResult } from '../results/local-result.js'\nvoid LocalResult"],
    ['audit importing scrub', 'src/audit/probe.ts', "import { Scrubber } from '../scrub/scrubber.js'\nvoid Scrubber"],
    ['results importing internal', 'src/results/probe.ts', "import { describeType } from '../internal/describe-type.js'\nvoid describeType"],
    ['results importing a cloud SDK', 'src/results/probe.ts', "import { S3Client } from '@aws-sdk/client-s3'\nvoid S3Client"],
  ])('passes %s', async (_what, file, source) => {
    expect(await importErrors(file, source)).toEqual([])
  })
})
