import { CancelledError, PauseError, RetryableError, TerminalError, TimeoutError, type HooksProvider } from '@restatedev/restate-sdk'
import type { AirlockBoundary } from '../../boundary/airlock-boundary.js'
import { keyRingOf } from '../../boundary/airlock-boundary.js'
import type { JsonObject } from '../../internal/canonical-json.js'
import { assertKnownOptions } from '../../internal/known-options.js'
import { AirlockError } from '../../errors.js'
import { scrubError } from '../../scrub/scrub-error.js'
import { presentError } from '../shared/present-error.js'
import { openSealedError } from './open-sealed-error.js'
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
 * An error passes as it is only if these hooks made it (by identity, never
 * by a field anyone can set), or if it is Restate's own `CancelledError` or
 * `TimeoutError` as Restate makes it (its fixed message, no metadata). A
 * terminal error read back from the journal (a failed step or call) is
 * presented anew: its `airlock.error` is opened with the key ring and the
 * original it holds goes through the policy again; a token that does not
 * open is no proof of anything, and that error is approved like any other.
 * If the policy cannot be applied to an error (it throws), the error goes
 * as Restate's class name alone (`TerminalError`, `RetryableError`,
 * `PauseError`, `Error`), with its code and `retryAfter` but no stack and
 * nothing sealed, ledgered as withheld.
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

// Restate's own errors, exactly as Restate makes them (fixed messages, no metadata): they pass as they are.
const RESTATE_OWN = new Map<object, string>([
  [CancelledError.prototype, new CancelledError().message],
  [TimeoutError.prototype, new TimeoutError().message],
])
// The readable type of an error whose own could not go through the policy: Restate's class name, never the error's.
type Kind = 'TerminalError' | 'RetryableError' | 'PauseError' | 'Error'

async function approve(airlock: AirlockBoundary, err: unknown, where: 'handler' | 'run'): Promise<unknown> {
  // Trusted by identity only: an error's fields (a metadata key, a message) can be set by anyone.
  if (typeof err === 'object' && err !== null && approved.has(err)) return err
  try {
    if (isRestateOwn(err)) return err
    return await approveError(airlock, err, where)
  } catch (failure) {
    // The policy (or reading the error) failed: nothing of the error leaves (invariant 2).
    return withheld(airlock, err, where, failure)
  }
}

function isRestateOwn(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const message = RESTATE_OWN.get(Object.getPrototypeOf(err) as object)
  if (message === undefined) return false
  const metadata = (err as TerminalError).metadata
  return (err as Error).message === message && (metadata === undefined || Object.keys(metadata).length === 0)
}

async function approveError(airlock: AirlockBoundary, err: unknown, where: 'handler' | 'run'): Promise<Error> {
  const keys = keyRingOf(airlock)
  // A terminal error read back from the journal carries the original it stands for, sealed: its readable
  // fields are made anew from that original. Anything else (a token that does not open) is an error like any other.
  const original = err instanceof TerminalError ? await openSealedError(keys, err.metadata?.[SEALED_ERROR_METADATA]) : undefined
  const presented = await presentError(airlock, original?.error ?? err)
  const readable = presented.message === '' ? presented.type : `${presented.type}: ${presented.message}`
  const mode = airlock.policy.exceptions.mode
  const sealed = original?.token ?? (await scrubError(err, { ...airlock.policy.exceptions, mode: 'encrypted' }, { scrubber: airlock.scrubber, keys })).token ?? ''
  const transforms = [...presented.transforms]
  let metadata: Record<string, string> = {}
  if (err instanceof TerminalError && err.metadata !== undefined && (mode === 'full' || mode === 'scrubbed')) {
    const own = Object.fromEntries(Object.entries(err.metadata).filter(([key]) => key !== SEALED_ERROR_METADATA))
    const kept = await airlock.outbound.value(own, 'parameters')
    for (const t of kept.transforms) transforms.push({ path: `metadata.${t.path}`, rule: t.rule, action: t.action })
    for (const [key, value] of Object.entries((kept.value ?? {}) as Record<string, unknown>)) if (typeof value === 'string') metadata[key] = value
  }
  const kind = err instanceof TerminalError ? 'terminal' : err instanceof PauseError ? 'pause' : 'retryable'
  const sent: JsonObject = { kind, where, type: presented.type, message: readable, metadata: Object.keys(metadata), sealedSize: sealed.length }
  if (original !== undefined) sent.reopened = true
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

// The error as Restate's class alone, its message that class's name: what goes when the policy cannot be applied.
async function withheld(airlock: AirlockBoundary, err: unknown, where: 'handler' | 'run', failure: unknown): Promise<Error> {
  const kind = kindOf(err)
  const errorCode = finiteNumber(() => (err as { code?: unknown }).code)
  let outgoing: Error
  if (kind === 'TerminalError') outgoing = new TerminalError(kind, { errorCode })
  else if (kind === 'RetryableError') outgoing = new RetryableError(kind, { errorCode, retryAfter: finiteNumber(() => (err as RetryableError).retryAfter) })
  else if (kind === 'PauseError') outgoing = new PauseError(kind, { errorCode })
  else outgoing = new Error(kind)
  const reason = `policy:${failure instanceof AirlockError ? failure.code : 'ERR_INTERNAL'}`
  try {
    await airlock.outbound.record({
      channel: 'exceptions',
      engine: 'restate',
      sent: { kind, where, type: kind, message: kind, metadata: [], sealedSize: 0, withheld: reason },
      transforms: [{ path: '$', rule: reason, action: 'withhold' }],
      withheld: 1,
    })
  } catch {
    // Unrecorded: it goes as it is, which is Restate's class name alone.
  }
  approved.add(withoutStack(outgoing))
  return outgoing
}

// What is read of an error that may be anything (a getter that throws, a proxy) when nothing else could be.
function kindOf(err: unknown): Kind {
  try {
    return err instanceof TerminalError ? 'TerminalError' : err instanceof RetryableError ? 'RetryableError' : err instanceof PauseError ? 'PauseError' : 'Error'
  } catch {
    return 'Error'
  }
}

function finiteNumber(read: () => unknown): number | undefined {
  try {
    const value = read()
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined
  } catch {
    return undefined
  }
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
