import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DETECTOR_IDS } from '../../src/policy/detector-ids.js'
import { POLICY_ENV_VARS } from '../../src/policy/env-overrides.js'
import { policyInputSchema } from '../../src/policy/policy-input.js'
import { policySchema } from '../../src/policy/schema.js'

/** Every leaf field path of a schema: `logs.level`, `scrub.patterns[].id`, ... */
function leafPaths(schema: z.ZodType, prefix: string): string[] {
  const node = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema
  if (node instanceof z.ZodObject) {
    return Object.entries(node.shape as Record<string, z.ZodType>).flatMap(([key, child]) =>
      leafPaths(child, prefix === '' ? key : `${prefix}.${key}`),
    )
  }
  if (node instanceof z.ZodArray && node.element instanceof z.ZodObject) {
    return leafPaths(node.element, `${prefix}[]`)
  }
  return [prefix]
}

describe('docs/policy.md', async () => {
  const doc = await readFile(new URL('../../docs/policy.md', import.meta.url), 'utf8')

  it('finds the leaves it checks (the walker works)', () => {
    const paths = leafPaths(policySchema, '')
    expect(paths).toContain('exceptions.mode')
    expect(paths).toContain('scrub.patterns[].pattern')
    expect(paths).toContain('scrub.detectors')
    expect(paths.length).toBeGreaterThan(20)
  })

  it.each(leafPaths(policySchema, ''))('documents %s', (path) => {
    expect(doc).toContain(`| \`${path}\` |`)
  })

  it.each(['preset', '$schema'])('documents the input-only field %s', (key) => {
    expect(Object.keys(policyInputSchema.shape)).toContain(key)
    expect(doc).toContain(`| \`${key}\` |`)
  })

  it.each([...POLICY_ENV_VARS])('documents %s', (name) => {
    expect(doc).toContain(`| \`${name}\` |`)
  })

  it.each([...DETECTOR_IDS])('lists the detector id %s', (id) => {
    expect(doc).toContain(`\`${id}\``)
  })
})
