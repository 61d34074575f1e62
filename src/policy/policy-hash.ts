import { createHash } from 'node:crypto'
import { canonicalJson } from '../internal/canonical-json.js'
import type { Policy } from './schema.js'

/**
 * A stable identifier of a resolved policy's content, stamped on every
 * event so an audit can tell exactly which policy shaped it.
 *
 * Format `ph1.<base64url, no padding, of SHA-256(canonical JSON)>`, where
 * canonical JSON (version 1) is:
 * - UTF-8, no whitespace, strings and numbers as `JSON.stringify` writes them;
 * - object keys sorted by UTF-16 code unit, at every depth, and keys whose
 *   value is `undefined` left out, so key order and merge order never matter;
 * - arrays in their order;
 * - `parameters.rules`, `payloads.rules` and `telemetry.attributes.rules`
 *   written as arrays of `[glob, action]` pairs in rule order, because the first matching rule wins: reordering rules can change
 *   behaviour, so it changes the hash.
 *
 * This is the canonical JSON of the ledger (`canonicalJson`, RFC 8785 for
 * I-JSON). Any change to the canonical form gets a new prefix (`ph2.`), never
 * a silent change under `ph1.`.
 *
 * @throws {InvalidArgumentError} when a hand-built policy holds something that
 *   is not JSON (a function, a class instance, a non-finite number), naming its path.
 *
 * @example
 * ```ts
 * import { definePolicy, policyHash, presets } from 'airlock-sdk'
 *
 * policyHash(presets.balanced)        // 'ph1.…' (43 base64url characters after the dot)
 * definePolicy({ preset: 'strict' }).hash === policyHash(presets.strict) // true
 * ```
 */
export function policyHash(policy: Policy): string {
  const digest = createHash('sha256').update(canonicalPolicyJson(policy), 'utf8').digest('base64url')
  return `ph1.${digest}`
}

/** The canonical JSON {@link policyHash} digests. */
export function canonicalPolicyJson(policy: Policy): string {
  // Rule sets are ordered (the first match wins): as [glob, action] pairs, their order is hashed too.
  return canonicalJson(
    {
      ...policy,
      parameters: { ...policy.parameters, rules: Object.entries(policy.parameters.rules) },
      payloads: { ...policy.payloads, rules: Object.entries(policy.payloads.rules) },
      telemetry: { ...policy.telemetry, attributes: { ...policy.telemetry.attributes, rules: Object.entries(policy.telemetry.attributes.rules) } },
    },
    'policy',
  )
}
