import { SearchAttributeType, TypedSearchAttributes, defineSearchAttributeKey, type SearchAttributePair } from '@temporalio/common'
import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import { InvalidArgumentError } from '../../errors.js'
import { describeType } from '../../internal/describe-type.js'

// Temporal's own rule for custom search attribute names.
const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/

/**
 * Search attributes Temporal can filter by equality but never read: each
 * value becomes its keyed fingerprint (`fp1.<kid>.<mac>`, HMAC-SHA256 under
 * the Airlock's keys), as a `Keyword` (or `KeywordList` for a list). The
 * Temporal service indexes and shows the fingerprint only.
 *
 * To filter, fingerprint the value you look for the same way
 * (`airlock.outbound.fingerprint('cus_123')`) and query
 * `CustomerId = "fp1.…"`. Fingerprints name their key: after a key
 * rotation new workflows carry new fingerprints, so search both during the
 * overlap.
 *
 * What is sent is ledgered under `parameters` (engine `temporal`), like a
 * flow run's parameters under a `hash` rule, before this resolves.
 *
 * @throws InvalidArgumentError for a name Temporal would refuse or a value that is not a string (or list of strings).
 * @throws StorageError / ClosedError when the ledger cannot record; then nothing may be sent.
 * @example
 * ```ts
 * import { fingerprintSearchAttributes } from 'airlock-sdk/temporal'
 *
 * await client.workflow.start(processOrder, {
 *   taskQueue: 'orders', workflowId,
 *   typedSearchAttributes: await fingerprintSearchAttributes(airlock, { CustomerId: customer.id, Tags: ['vip', 'eu'] }),
 * })
 * ```
 */
export async function fingerprintSearchAttributes(
  airlock: AirlockBoundary,
  values: Readonly<Record<string, string | readonly string[]>>,
): Promise<TypedSearchAttributes> {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new InvalidArgumentError(`fingerprintSearchAttributes expects { name: value }, got ${describeType(values)}`)
  }
  const pairs: SearchAttributePair[] = []
  const sent: Record<string, string | string[]> = {}
  const transforms: { path: string; rule: string; action: string }[] = []
  for (const [name, value] of Object.entries(values)) {
    if (!ATTRIBUTE_NAME.test(name)) throw new InvalidArgumentError('a search attribute name is a letter or _, then letters, digits or _ (at most 255)')
    if (typeof value === 'string') {
      const fingerprint = airlock.outbound.fingerprint(value)
      pairs.push({ key: defineSearchAttributeKey(name, SearchAttributeType.KEYWORD), value: fingerprint })
      sent[name] = fingerprint
    } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      const fingerprints = value.map((v: string) => airlock.outbound.fingerprint(v))
      pairs.push({ key: defineSearchAttributeKey(name, SearchAttributeType.KEYWORD_LIST), value: fingerprints })
      sent[name] = fingerprints
    } else {
      throw new InvalidArgumentError(`search attribute ${name} must be a string or a list of strings, got ${describeType(value)}`)
    }
    transforms.push({ path: name, rule: 'temporal.searchAttributes', action: 'hash' })
  }
  await airlock.outbound.record({ channel: 'parameters', engine: 'temporal', sent: { kind: 'search-attributes', attributes: sent }, transforms })
  return new TypedSearchAttributes(pairs)
}
