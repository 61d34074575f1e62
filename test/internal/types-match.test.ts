// The public types of the policy, the events and the ledger are written by
// hand beside their zod schemas, tied to them by AssertTypesMatch. These
// tests show the tie bites: each drift below is compiled with the real
// compiler and the real zod, and must fail to compile at the assertion.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import ts from 'typescript'
import type { z } from 'zod'
import { beforeAll, describe, expect, it } from 'vitest'
import type { AssertTypesMatch, TypesMatch } from '../../src/internal/types-match.js'
import type { policySchema } from '../../src/policy/schema.js'
import type { Policy } from '../../src/policy/schema.js'

// Also checked by `tsc` over test/: an unused @ts-expect-error is itself an error.
// @ts-expect-error a member optional on one side only
type _OptionalDrift = AssertTypesMatch<TypesMatch<Omit<Policy, 'checkpointing'> & { checkpointing?: boolean }, z.infer<typeof policySchema>>>
type _Same = AssertTypesMatch<TypesMatch<Policy, z.infer<typeof policySchema>>>

const HERE = import.meta.dirname

const PRELUDE = `import { z } from 'zod'
import type { AssertTypesMatch, TypesMatch } from '../../src/internal/types-match.js'
`

// [name, plain type, schema]: each pair differs in one way.
const DRIFTS: [string, string, string][] = [
  ['a required member missing', '{ a: string }', 'z.strictObject({ a: z.string(), b: z.number() })'],
  [
    'an optional member missing (assignable both ways, still a drift)',
    '{ a: string }',
    'z.strictObject({ a: z.string(), b: z.number().optional() })',
  ],
  ['an extra member', '{ a: string; b?: number; c?: boolean }', 'z.strictObject({ a: z.string(), b: z.number().optional() })'],
  ['optional against required', '{ a?: string }', 'z.strictObject({ a: z.string() })'],
  ['required against optional', '{ a: string }', 'z.strictObject({ a: z.string().optional() })'],
  ['a wider union', "'a' | 'b' | 'c'", "z.enum(['a', 'b'])"],
  ['a narrower union', "'a'", "z.enum(['a', 'b'])"],
  ['a different member type', '{ n: string }', 'z.strictObject({ n: z.number() })'],
  ['any for a member', '{ n: any }', 'z.strictObject({ n: z.number() })'],
  ['readonly on one side', '{ readonly a: string }', 'z.strictObject({ a: z.string() })'],
  ['a nested drift', '{ inner: { a?: string } }', 'z.strictObject({ inner: z.strictObject({ a: z.string() }) })'],
  ['an array of a wider item', "{ list: ('x' | 'y')[] }", "z.strictObject({ list: z.array(z.literal('x')) })"],
  ['an index signature missing', '{ type: string }', 'z.object({ type: z.string() }).catchall(z.string())'],
  [
    'a union member missing',
    "{ kind: 'a'; a: string }",
    "z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('a'), a: z.string() }), z.strictObject({ kind: z.literal('b') })])",
  ],
]

// Written as interfaces and unions, as the SDK's are: the same shape passes.
const MATCHES: [string, string, string][] = [
  ['an object with an optional member', '{ a: string; b?: number }', 'z.strictObject({ a: z.string(), b: z.number().optional() })'],
  ['an enum', "'a' | 'b'", "z.enum(['a', 'b'])"],
  ['an index signature', '{ type: string; [member: string]: string }', 'z.object({ type: z.string() }).catchall(z.string())'],
  [
    'a discriminated union, in another order',
    "{ kind: 'b' } | { kind: 'a'; a: string }",
    "z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('a'), a: z.string() }), z.strictObject({ kind: z.literal('b') })])",
  ],
]

/** Compiles one file per case, in memory, beside this test (so `zod` and src/ resolve); the errors of each. */
function compile(cases: [string, string, string][], declareAsInterface: boolean, exactOptionalPropertyTypes = false): Map<string, ts.Diagnostic[]> {
  const files = new Map<string, string>()
  cases.forEach(([, plain, schema], i) => {
    const oneObject = plain.startsWith('{') && !/\}\s*\|/.test(plain)
    const declared = declareAsInterface && oneObject ? `interface Plain ${plain}` : `type Plain = ${plain}`
    const text = `${PRELUDE}const schema = ${schema}\n${declared}\ntype _Check = AssertTypesMatch<TypesMatch<Plain, z.infer<typeof schema>>>\nexport {}\n`
    files.set(join(HERE, `types-match-case-${i}.ts`), text)
  })
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    exactOptionalPropertyTypes,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  }
  const disk = ts.createCompilerHost(options)
  const host: ts.CompilerHost = {
    ...disk,
    fileExists: (name) => files.has(name) || disk.fileExists(name),
    readFile: (name) => files.get(name) ?? disk.readFile(name),
    getSourceFile: (name, version, ...rest) => {
      const text = files.get(name)
      return text === undefined ? disk.getSourceFile(name, version, ...rest) : ts.createSourceFile(name, text, version)
    },
  }
  const program = ts.createProgram([...files.keys()], options, host)
  const errors = new Map<string, ts.Diagnostic[]>()
  for (const name of files.keys()) errors.set(name, [...program.getSyntacticDiagnostics(program.getSourceFile(name)), ...program.getSemanticDiagnostics(program.getSourceFile(name))])
  return errors
}

function lineOf(diagnostic: ts.Diagnostic): string {
  const { file, start } = diagnostic
  if (file === undefined || start === undefined) return ''
  return file.text.split('\n')[file.getLineAndCharacterOfPosition(start).line]!
}

describe('AssertTypesMatch', () => {
  describe.each([
    ['a type alias', false],
    ['an interface', true],
  ])('with the plain type as %s', (_, asInterface) => {
    let drifted: Map<string, ts.Diagnostic[]>
    let matching: Map<string, ts.Diagnostic[]>
    beforeAll(() => {
      drifted = compile(DRIFTS, asInterface)
      matching = compile(MATCHES, asInterface)
    }, 120_000)

    it.each(DRIFTS.map(([name], i) => [name, i] as const))('fails to compile on %s', (_name, i) => {
      const errors = drifted.get(join(HERE, `types-match-case-${i}.ts`))!
      expect(errors.map((e) => [e.code, lineOf(e)])).toEqual([[2344, expect.stringContaining('type _Check = AssertTypesMatch<')]])
      // The message shows both sides.
      expect(ts.flattenDiagnosticMessageText(errors[0]!.messageText, '\n')).toMatch(/plain: .*schema: /s)
    })

    it.each(MATCHES.map(([name], i) => [name, i] as const))('compiles for %s', (_name, i) => {
      expect(matching.get(join(HERE, `types-match-case-${i}.ts`))!.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n'))).toEqual([])
    })
  })
})

// The hand-written types of the SDK and the files of their schemas: deleting a tie fails here.
const TIED: Record<string, string[]> = {
  'src/policy/schema.ts': [
    'Policy', 'ParameterAction', 'PayloadAction', 'ScrubAction', 'LogLevel', 'DetectorSetting', 'CustomPattern', 'ParameterPolicy',
    'LogPolicy', 'ExceptionPolicy', 'LocationPolicy', 'InlineValuePolicy', 'StatePolicy', 'PayloadPolicy', 'TelemetryPolicy', 'ScrubPolicy',
  ],
  'src/policy/policy-input.ts': ['PolicyInput'],
  'src/boundary/events.ts': [
    'OutboundEvent', 'FlowRunStateEvent', 'TaskRunStateEvent', 'LogEvent', 'ParametersEvent', 'WithheldEvent', 'LedgerCheckpointEvent',
    'ResultReference', 'Failure',
  ],
  'src/boundary/emit-input.ts': ['ReadEmitInput'],
  'src/audit/ledger-entry.ts': [
    'LedgerEntry', 'LedgerEventEntry', 'LedgerDeliveryEntry', 'LedgerCheckpointEntry', 'LedgerJwsCheckpointEntry', 'LedgerNoteCheckpointEntry',
    'LedgerTransform', 'LedgerDeliveryError',
  ],
  'src/audit/ledger-proof.ts': ['LedgerInclusionProof', 'LedgerConsistencyProof'],
  'src/audit/ledger-checkpoint.ts': ['CheckpointPayload'],
}

describe('AssertTypesMatch under exactOptionalPropertyTypes (as a user\'s project may set it)', () => {
  const cases: [string, string, string][] = [
    ['an optional member that does not take undefined', '{ a?: string }', 'z.strictObject({ a: z.string().optional() })'],
    ['an optional member that takes undefined', '{ a?: string | undefined }', 'z.strictObject({ a: z.string().optional() })'],
  ]

  it('fails on `a?: T` against `a?: T | undefined`, and compiles for the same', () => {
    const errors = compile(cases, true, true)
    expect(errors.get(join(HERE, 'types-match-case-0.ts'))!.map((e) => [e.code, lineOf(e)])).toEqual([[2344, expect.stringContaining('type _Check = AssertTypesMatch<')]])
    expect(errors.get(join(HERE, 'types-match-case-1.ts'))).toEqual([])
  }, 120_000)
})

describe('the SDK\'s hand-written types', () => {
  // Off in this project, where `a?: T` and `a?: T | undefined` are the same type; a user's project may turn it on,
  // and there they differ. zod's optional members take `undefined`: the hand-written ones must too.
  it('match their schemas under exactOptionalPropertyTypes too', () => {
    const files = Object.keys(TIED).map((file) => join(HERE, '../..', file))
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
    })
    const ties = files.flatMap((file) => program.getSemanticDiagnostics(program.getSourceFile(file)))
    expect(ties.filter((d) => lineOf(d).includes('AssertTypesMatch<')).map((d) => `${lineOf(d).trim()}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)).toEqual([])
  }, 120_000)
})

describe.each(Object.entries(TIED))('%s', (file, names) => {
  it('ties each hand-written type to its schema', async () => {
    const text = await readFile(join(HERE, '../..', file), 'utf8')
    for (const name of names) {
      expect(text, name).toMatch(new RegExp(`^export (interface|type) ${name}\\b`, 'm'))
      expect(text, name).toMatch(new RegExp(`^type _\\w+ = AssertTypesMatch<TypesMatch<${name}, (DeepReadonly<)?z\\.(infer|input)<typeof \\w+>`, 'm'))
    }
  })
})
