import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import { InvalidArgumentError } from '../../errors.js'
import { describeType } from '../../internal/describe-type.js'

const PLACEHOLDER = /\{([A-Za-z0-9_]{1,64})\}/g
const MAX_ID_LENGTH = 1000

/**
 * A workflow id whose data parts Temporal can match by equality but never
 * read: each `{name}` of `template` becomes the keyed fingerprint of
 * `values[name]` (`fp1.<kid>.<mac>`); the rest of the template, written in
 * your code, is kept as it is. The same values give the same id (under one
 * key), so `workflowIdReusePolicy` and lookups by id still work: compute the
 * id again to find the workflow.
 *
 * The id is ledgered under `parameters` (engine `temporal`) before this resolves.
 *
 * @throws InvalidArgumentError when the template names a value not given, its
 *   own text holds something the scrubber would replace, a value is not a string, a value is given that the template does not use,
 *   or the id is longer than Temporal's 1000 characters.
 * @example
 * ```ts
 * import { fingerprintWorkflowId } from 'airlock-sdk/temporal'
 *
 * const workflowId = await fingerprintWorkflowId(airlock, 'invoice-{customer}-{month}', { customer: 'cus_8842', month: '2026-11' })
 * // 'invoice-fp1.20261121-3f9a1c2b.Xq3…-fp1.20261121-3f9a1c2b.b7Q…'
 * ```
 */
export async function fingerprintWorkflowId(airlock: AirlockBoundary, template: string, values: Readonly<Record<string, string>>): Promise<string> {
  if (typeof template !== 'string' || template === '') throw new InvalidArgumentError(`fingerprintWorkflowId expects a template string, got ${describeType(template)}`)
  if (typeof values !== 'object' || values === null) throw new InvalidArgumentError(`fingerprintWorkflowId expects { name: value }, got ${describeType(values)}`)
  // The literal text is sent as written, so it must hold nothing the scrubber would change.
  const literal = template.replace(PLACEHOLDER, ' ')
  if (airlock.outbound.text(literal, 'parameters').value !== literal) {
    throw new InvalidArgumentError('the workflow id template\'s own text holds something the scrubber would replace; pass it as a {value}')
  }
  const used = new Set<string>()
  const transforms: { path: string; rule: string; action: string }[] = []
  const id = template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = Object.hasOwn(values, name) ? values[name] : undefined
    if (typeof value !== 'string') throw new InvalidArgumentError(`workflow id template uses {${name}}, but no string was given for it`)
    if (!used.has(name)) transforms.push({ path: name, rule: 'temporal.workflowId', action: 'hash' })
    used.add(name)
    return airlock.outbound.fingerprint(value)
  })
  for (const name of Object.keys(values)) {
    if (!used.has(name)) throw new InvalidArgumentError(`a value was given for {${name}}, which the workflow id template does not use`)
  }
  if (id.length > MAX_ID_LENGTH) throw new InvalidArgumentError(`a workflow id is at most ${MAX_ID_LENGTH} characters; this one has ${id.length}`)
  await airlock.outbound.record({ channel: 'parameters', engine: 'temporal', sent: { kind: 'workflow-id', workflowId: id }, transforms })
  return id
}
