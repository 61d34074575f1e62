import { CancelledError, PauseError, RetryableError, TerminalError, TimeoutError, type HooksProvider } from '@restatedev/restate-sdk'
import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import { keyRingOf } from '../../boundary/airlock-boundary.js'
import type { JsonObject } from '../../internal/canonical-json.js'
import { assertKnownOptions } from '../../internal/known-options.js'
import { scrubError } from '../../scrub/scrub-error.js'
import { presentError } from '../shared/present-error.js'
import { pendingFor } from './restate-payloads.js'

/**
 * The metadata key of a terminal error under which airlock puts the whole
 * error, sealed for key holders (an `alkv1.` value token: open it with
 * `airlock errors open`).
 *
 * @example
 * ```ts
 * const token = (err as TerminalError).metadata?.[SEALED_ERROR_METADATA]
 * ```
 */
export const SEALED_ERROR_METADATA = 'airlock.error'

/**
 * Options of {@link airlockHooks}.
 *
 * @example
 * ```ts
 * const options: AirlockHooksOptions = { airlock }
 * ```
 */
export interface AirlockHooksOptions {
  readonly airlock: AirlockBoundary
}

const OPTION_KEYS = ['airlock'] as const
// Errors this module made, passed on as they are when they meet a hook again.
const approved = new WeakSet<object>()

/**
 * Restate hooks that keep errors and unrecorded values from the server:
 *
 * - **errors** (terminal, retryable, pause; thrown by a handler or inside
 *   `ctx.run`) reach the journal only as `exceptions.mode` allows: the
 *   readable message is `Type: message` scrubbed (`scrubbed`), masked
 *   (`full`), `Type fp1.…` (`fingerprint`), or the type alone (`type`,
 *   `encrypted`); the type follows the names rule. The stack never reaches
 *   the server: it is empty. The whole error is sealed for key holders: a
 *   terminal error carries it as metadata `airlock.error`, a retryable one
 *   at the end of its message (`[alkv1.…]`). The class is kept (a terminal
 *   error stays terminal, with its code and `retryAfter`), and so is the
 *   prototype of any other error, so `asTerminalError` still recognises it.
 *   Terminal error metadata goes through the `parameters` rules. What is
 *   sent is ledgered under `exceptions` (engine `restate`) first; if the
 *   ledger cannot record it, the error goes with its type alone.
 * - **values** the journal codec and serdes encoded (their ledger records,
 *   offloaded values' writes) are waited for before the handler's outcome
 *   is released; if one failed, the attempt fails and Restate retries it.
 *
 * Restate's own `CancelledError` and `TimeoutError` (fixed messages) pass as
 * they are, and so do failures read back from the journal, already approved.
 * Install the hooks service-wide (`defaultServiceOptions` or a service's
 * `options.hooks`; `airlockEndpoint` does it for every service): a
 * service's own `options.hooks` replaces the endpoint's default, so list
 * these first there.
 *
 * @example
 * ```ts
 * restate.service({ name: 'Orders', handlers, options: { hooks: [airlockHooks({ airlock }), ...yours] } })
 * ```
 */
export function airlockHooks(options: AirlockHooksOptions): HooksProvider {
  assertKnownOptions('airlockHooks', options, OPTION_KEYS)
  const airlock = options.airlock
  keyRingOf(airlock)
  const pending = pendingFor(airlock)
  const settled = async (): Promise<void> => {
    try {
      await pending.settled()
    } catch (err) {
      // Values the server already holds were not ledgered (or stored): never complete on top of that.
      throw withoutStack(new RetryableError(`airlock could not record or store a journal value (${(err as { code?: string })?.code ?? 'ERR_STORAGE'})`))
    }
  }
  return () => ({
    interceptor: {
      handler: async (next) => {
        try {
          await next()
        } catch (err) {
          const outgoing = await approve(airlock, err, 'handler')
          await settled()
          throw outgoing
        }
        await settled()
      },
      run: async (_name, next) => {
        try {
          await next()
        } catch (err) {
          throw await approve(airlock, err, 'run')
        }
      },
    },
  })
}

async function approve(airlock: AirlockBoundary, err: unknown, where: 'handler' | 'run'): Promise<unknown> {
  if (typeof err === 'object' && err !== null && approved.has(err)) return err
  if (err instanceof CancelledError || err instanceof TimeoutError) return err
  if (err instanceof TerminalError && typeof err.metadata?.[SEALED_ERROR_METADATA] === 'string') return err
  const presented = await presentError(airlock, err)
  const readable = presented.message === '' ? presented.type : `${presented.type}: ${presented.message}`
  const mode = airlock.policy.exceptions.mode
  const sealed = (await scrubError(err, { ...airlock.policy.exceptions, mode: 'encrypted' }, { scrubber: airlock.scrubber, keys: keyRingOf(airlock) })).token ?? ''
  const transforms = [...presented.transforms]
  let metadata: Record<string, string> = {}
  if (err instanceof TerminalError && err.metadata !== undefined && (mode === 'full' || mode === 'scrubbed')) {
    const kept = await airlock.outbound.value(err.metadata, 'parameters')
    for (const t of kept.transforms) transforms.push({ path: `metadata.${t.path}`, rule: t.rule, action: t.action })
    for (const [key, value] of Object.entries((kept.value ?? {}) as Record<string, unknown>)) if (typeof value === 'string') metadata[key] = value
  }
  const kind = err instanceof TerminalError ? 'terminal' : err instanceof PauseError ? 'pause' : 'retryable'
  const sent: JsonObject = { kind, where, type: presented.type, message: readable, metadata: Object.keys(metadata), sealedSize: sealed.length }
  let message = readable
  try {
    await airlock.outbound.record({ channel: 'exceptions', engine: 'restate', sent, transforms })
  } catch {
    // Unrecorded, as little as can be: the type alone, nothing sealed, no metadata.
    message = presented.type
    metadata = {}
  }
  const recorded = message === readable
  let outgoing: Error
  if (err instanceof TerminalError) {
    outgoing = new TerminalError(message, { errorCode: err.code, metadata: recorded ? { ...metadata, [SEALED_ERROR_METADATA]: sealed } : {} })
  } else {
    const text = recorded && sealed !== '' ? `${message} [${sealed}]` : message
    if (err instanceof RetryableError) outgoing = new RetryableError(text, { errorCode: err.code, ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }) })
    else if (err instanceof PauseError) outgoing = new PauseError(text, { errorCode: err.code })
    else outgoing = sameKind(err, text, presented.type)
  }
  approved.add(withoutStack(outgoing))
  return outgoing
}

// Another error keeps its prototype (so `instanceof` in asTerminalError still
// works) with only the approved message and type name, and no other field.
function sameKind(err: unknown, message: string, name: string): Error {
  const prototype = err instanceof Error ? (Object.getPrototypeOf(err) as object) : Error.prototype
  const outgoing = Object.create(prototype) as Error
  Object.defineProperty(outgoing, 'message', { value: message, enumerable: false, writable: true, configurable: true })
  Object.defineProperty(outgoing, 'name', { value: name, enumerable: false, writable: true, configurable: true })
  return outgoing
}

// Restate sends a retryable error's stack to the server: it holds file paths, so it is emptied.
function withoutStack<E extends Error>(err: E): E {
  Object.defineProperty(err, 'stack', { value: '', enumerable: false, writable: true, configurable: true })
  return err
}
