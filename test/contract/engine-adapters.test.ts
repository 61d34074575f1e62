// docs/design.md's engine adapters: subpath exports whose engine packages are
// optional peer dependencies, and the names other code relies on.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as otel from '../../src/adapters/otel/index.js'
import * as restate from '../../src/adapters/restate/index.js'
import * as temporal from '../../src/adapters/temporal/index.js'
import { EngineFixture } from '../support/engine-fixture.js'

const root = join(import.meta.dirname, '../..')
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, { types: string; import?: string; default?: string }>
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional?: boolean }>
  files: string[]
}

let fixture: EngineFixture
beforeEach(async () => {
  fixture = await EngineFixture.create('contract-engines')
})
afterEach(async () => {
  await fixture.close()
})

describe('engine adapter subpaths', () => {
  it.each(['./temporal', './temporal/failure-converter', './temporal/failure-converter-clear-types', './restate', './otel'])('%s is exported from dist, built from a source that exists', (subpath) => {
    const entry = manifest.exports[subpath]!
    const target = entry.import ?? entry.default!
    expect(target).toMatch(/^\.\/dist\/adapters\//)
    expect(existsSync(join(root, target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')))).toBe(true)
    expect(entry.types).toBe(target.replace(/\.js$/, '.d.ts'))
    expect(manifest.files).toContain('dist')
  })

  it('keeps the engine packages optional peers', () => {
    const engines = ['@temporalio/common', '@temporalio/proto', '@temporalio/worker', '@restatedev/restate-sdk', '@restatedev/restate-sdk-clients']
    const telemetry = ['@opentelemetry/api', '@opentelemetry/api-logs', '@opentelemetry/core', '@opentelemetry/resources', '@opentelemetry/sdk-logs', '@opentelemetry/sdk-trace-base']
    for (const name of [...engines, ...telemetry]) {
      expect(manifest.peerDependencies[name], name).toBeDefined()
      expect(manifest.peerDependenciesMeta[name]?.optional, name).toBe(true)
    }
  })

  it('has docs/design.md\'s names: new AirlockPayloadCodec({ airlock }) with encode and decode, and a data converter with the failure converter path', () => {
    const { airlock } = fixture.airlock()
    const codec = new temporal.AirlockPayloadCodec({ airlock })
    expect(typeof codec.encode).toBe('function')
    expect(typeof codec.decode).toBe('function')
    const dataConverter = temporal.airlockDataConverter({ airlock })
    expect(dataConverter.payloadCodecs[0]).toBeInstanceOf(temporal.AirlockPayloadCodec)
    expect(existsSync(dataConverter.failureConverterPath)).toBe(true)
    for (const name of ['AirlockJournalCodec', 'airlockSerde', 'airlockHooks', 'airlockEndpoint', 'airlockIngressOptions']) expect(restate, name).toHaveProperty(name)
    for (const name of ['AirlockLogRecordExporter', 'AirlockSpanExporter']) expect(otel, name).toHaveProperty(name)
  })
})
