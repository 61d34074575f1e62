import { z } from 'zod'
import { policyInputSchema } from './policy-input.js'

/**
 * The JSON Schema (draft 2020-12) of a policy file: every field optional,
 * plus `preset` and `$schema`, with each field's meaning as its
 * `description`. Point an editor at it for completion and inline checks;
 * the repository keeps a copy in docs/policy.schema.json. The schema cannot
 * express every rule (RE2 compilation, unique pattern ids), so a file that
 * passes it can still fail {@link loadPolicy}, which has the final word.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs'
 * import { policyJsonSchema } from 'airlock-sdk'
 *
 * writeFileSync('policy.schema.json', JSON.stringify(policyJsonSchema(), null, 2))
 * // then, first line of airlock.policy.yaml:
 * // # yaml-language-server: $schema=./policy.schema.json
 * ```
 */
export function policyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(policyInputSchema, { target: 'draft-2020-12', io: 'input' })
}
