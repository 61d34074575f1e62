import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { DETECTOR_IDS } from '../../src/policy/detector-ids.js'
import { policyJsonSchema } from '../../src/policy/policy-json-schema.js'

type Schema = {
  $schema?: string
  type?: string
  enum?: unknown[]
  properties?: Record<string, Schema>
  additionalProperties?: unknown
  required?: string[]
}

describe('policyJsonSchema', () => {
  const schema = policyJsonSchema() as Schema

  it('is a draft 2020-12 JSON Schema of an object', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(schema.type).toBe('object')
    expect(schema.additionalProperties).toBe(false)
  })

  it('makes every field optional, preset included', () => {
    expect(schema.required ?? []).toEqual([])
    expect(schema.properties?.logs?.required ?? []).toEqual([])
    expect(schema.properties?.preset?.enum).toEqual(['permissive', 'balanced', 'strict'])
  })

  it('lists enum values for completion', () => {
    expect(schema.properties?.exceptions?.properties?.mode?.enum).toEqual([
      'full',
      'scrubbed',
      'type',
      'fingerprint',
      'encrypted',
    ])
    expect(schema.properties?.logs?.properties?.level?.enum).toContain('warn')
  })

  it('names every detector id as a property', () => {
    const detectors = schema.properties?.scrub?.properties?.detectors
    expect(Object.keys(detectors?.properties ?? {})).toEqual([...DETECTOR_IDS])
    expect(detectors?.additionalProperties).toBe(false)
  })

  it('matches the copy kept in docs/policy.schema.json', async () => {
    const url = new URL('../../docs/policy.schema.json', import.meta.url)
    const committed = JSON.parse(await readFile(url, 'utf8')) as unknown
    // If this fails after a schema change, regenerate the file:
    //   npx tsx -e "import('./src/policy/policy-json-schema.ts').then(m => require('fs').writeFileSync('docs/policy.schema.json', JSON.stringify(m.policyJsonSchema(), null, 2) + '\n'))"
    expect(committed).toEqual(policyJsonSchema())
  })
})
