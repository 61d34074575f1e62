/**
 * What an {@link AirlockError} is built with: its `cause`, and the names of
 * what it is about.
 *
 * A message and its stack can reach the control plane as the failure of a
 * task or flow run (an SDK error thrown inside a run is that run's failure),
 * where `states.names: 'hash'` promises that flow names, task names, tags and
 * concurrency keys never appear in clear. So no message the SDK writes
 * spells one out; the names go here instead, and the error carries them as
 * `err.flowName`, `err.taskName` and `err.concurrencyKey`: own properties
 * that are not enumerable, so `JSON.stringify`, `util.inspect` (without
 * `showHidden`) and the scrubber's walker pass them by, and no exception
 * mode sends them. Read them locally, when debugging.
 *
 * @example
 * ```ts
 * try {
 *   await load(day)
 * } catch (err) {
 *   if (err instanceof TaskTimeoutError) console.error(`${err.taskName} timed out`)   // the message itself names no task
 * }
 * ```
 */
export interface AirlockErrorOptions {
  readonly cause?: unknown
  readonly flowName?: string
  readonly taskName?: string
  readonly concurrencyKey?: string
}

const SUBJECT_KEYS = ['flowName', 'taskName', 'concurrencyKey'] as const

/**
 * Every error airlock-sdk throws is an {@link AirlockError} with a stable `code`.
 *
 * Codes are part of the public contract: match on `err.code`, never on the
 * message. Messages say what was expected and what was found; they never
 * carry key material, secret values, plain result locations or credentials,
 * nor a flow name, task name, tag or concurrency key (those are on the error
 * as non-enumerable properties: see {@link AirlockErrorOptions}).
 *
 * @example
 * ```ts
 * import { AirlockError } from 'airlock-sdk'
 *
 * try {
 *   await result.read(token)
 * } catch (err) {
 *   if (err instanceof AirlockError && err.code === 'ERR_TOKEN_INVALID') {
 *     // the token was tampered with or truncated
 *   }
 * }
 * ```
 */
export class AirlockError extends Error {
  /** A stable, machine-readable identifier of the failure. */
  static readonly code: string = 'ERR_AIRLOCK'

  /** The flow the error is about, when there is one. Local only: never in the message; see {@link AirlockErrorOptions}. */
  declare readonly flowName: string | undefined
  /** The task the error is about, when there is one. Local only: never in the message. */
  declare readonly taskName: string | undefined
  /** The concurrency key the error is about, when there is one. Local only: never in the message. */
  declare readonly concurrencyKey: string | undefined

  constructor(message: string, options?: AirlockErrorOptions) {
    super(message, options)
    this.name = new.target.name
    for (const key of SUBJECT_KEYS) {
      const name = options?.[key]
      // Not enumerable: JSON.stringify, util.inspect and the scrubber's walker
      // (which copies an error's enumerable own properties) all pass it by.
      if (name !== undefined) Object.defineProperty(this, key, { value: name, enumerable: false, writable: false, configurable: true })
    }
  }

  /** A stable, machine-readable identifier of the failure; the class's static `code`. */
  get code(): string {
    return (this.constructor as typeof AirlockError).code
  }
}

// ---------------------------------------------------------------- input

/**
 * An argument to a public function has the wrong type or shape.
 *
 * @example
 * ```ts
 * new Fingerprinter(JSON.parse(keyFileText))   // a parsed key set, not a KeyRing: throws InvalidArgumentError (ERR_INVALID_ARGUMENT)
 * ```
 */
export class InvalidArgumentError extends AirlockError {
  // Typed `string`, not the literal: ConflictingOptionsError narrows it with a code of its own.
  static override readonly code: string = 'ERR_INVALID_ARGUMENT'
}

/**
 * An options object sets one option under two names at once: its current
 * name and the older one kept for compatibility (`timeout` and `timeoutMs`),
 * or two options that say the same thing (a ready client and the options to
 * build one). Which of the two was meant cannot be guessed, so neither is
 * taken. A subclass of {@link InvalidArgumentError}, so code that catches
 * that still catches this.
 *
 * @example
 * ```ts
 * new HttpControlPlane({ url, timeout: '30s', timeoutMs: 30_000 })   // throws ConflictingOptionsError (ERR_OPTIONS_CONFLICT)
 * ```
 */
export class ConflictingOptionsError extends InvalidArgumentError {
  static override readonly code = 'ERR_OPTIONS_CONFLICT'
}

/**
 * One problem found while validating a policy, with its dotted path.
 *
 * @example
 * ```ts
 * const issues: readonly PolicyIssue[] = readPolicyEnv({ AIRLOCK_SHIP_LOGS: 'maybe' }).issues
 * // [{ path: 'AIRLOCK_SHIP_LOGS', message: 'expected true, false, 1 or 0, got "maybe"' }]
 * ```
 */
export interface PolicyIssue {
  /** Dotted path to the offending field, e.g. `exceptions.mode`. Empty for the root. */
  readonly path: string
  /** What was expected and what was found. */
  readonly message: string
}

/**
 * A policy file or object failed validation. `issues` lists every problem.
 *
 * @example
 * ```ts
 * loadPolicy('airlock.policy.yaml')   // with `exceptions: { mode: verbose }`: throws PolicyError (ERR_POLICY_INVALID)
 * // err.issues: [{ path: 'exceptions.mode', message: 'expected one of "full" | "scrubbed" | ..., got "verbose"' }]
 * ```
 */
export class PolicyError extends AirlockError {
  static override readonly code = 'ERR_POLICY_INVALID'
  readonly issues: readonly PolicyIssue[]
  constructor(issues: readonly PolicyIssue[], source?: string) {
    const where = source === undefined ? 'policy' : `policy ${source}`
    const lines = issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`)
    super(`${where} is invalid:\n${lines.join('\n')}`)
    this.issues = issues
  }
}

/**
 * A user-supplied pattern could backtrack catastrophically and was refused.
 *
 * @example
 * ```ts
 * compileCustomPattern({ pattern: '(a)\\1' })   // a backreference: throws UnsafePatternError (ERR_PATTERN_UNSAFE)
 * ```
 */
export class UnsafePatternError extends AirlockError {
  static override readonly code = 'ERR_PATTERN_UNSAFE'
}

// ---------------------------------------------------------------- keys and tokens

/**
 * A key set (file, env var or object) is malformed.
 *
 * @example
 * ```ts
 * KeyRing.fromEnv()   // AIRLOCK_KEYS unset or not a key set: throws KeySetError (ERR_KEY_SET_INVALID)
 * ```
 */
export class KeySetError extends AirlockError {
  static override readonly code = 'ERR_KEY_SET_INVALID'
}

/**
 * A token or payload names a key id that the ring does not hold.
 *
 * @example
 * ```ts
 * await new LocationCipher(otherRing).decrypt(token)   // made under a kid otherRing lacks: throws UnknownKeyError (ERR_UNKNOWN_KID)
 * ```
 */
export class UnknownKeyError extends AirlockError {
  static override readonly code = 'ERR_UNKNOWN_KID'
}

/**
 * A token is malformed, truncated, modified, or does not decrypt.
 *
 * @example
 * ```ts
 * await cipher.decrypt(token.slice(0, -4))   // truncated: throws TokenInvalidError (ERR_TOKEN_INVALID)
 * ```
 */
export class TokenInvalidError extends AirlockError {
  static override readonly code = 'ERR_TOKEN_INVALID'
}

/**
 * A token uses an algorithm airlock-sdk never produces (`alg: none`, another `enc`, ...).
 *
 * @example
 * ```ts
 * await cipher.decrypt(forged)   // header says alg none, or anything but dir + A256GCM: throws TokenAlgorithmError (ERR_TOKEN_ALGORITHM)
 * ```
 */
export class TokenAlgorithmError extends AirlockError {
  static override readonly code = 'ERR_TOKEN_ALGORITHM'
}

/**
 * A token decrypted, but was bound to another context (e.g. another task).
 *
 * @example
 * ```ts
 * const token = await cipher.encrypt('etl/load/42.json', { taskName: 'load' })
 * await cipher.decrypt(token, { taskName: 'extract' })   // throws TokenBindingError (ERR_TOKEN_BINDING)
 * ```
 */
export class TokenBindingError extends AirlockError {
  static override readonly code = 'ERR_TOKEN_BINDING'
}

/**
 * A stored payload failed authentication: modified, truncated, reordered or swapped.
 *
 * @example
 * ```ts
 * sealed[sealed.length - 1] ^= 1
 * await payloadCipher.open(sealed)   // throws PayloadTamperedError (ERR_PAYLOAD_TAMPERED)
 * ```
 */
export class PayloadTamperedError extends AirlockError {
  static override readonly code = 'ERR_PAYLOAD_TAMPERED'
}

/**
 * A ring asked to decrypt under a sealing key it holds only the public half
 * of: a write-only worker seals tokens and payloads it cannot open again.
 * Decrypt with the ring that holds the private key (an auditor's, the codec
 * server's).
 *
 * @example
 * ```ts
 * const worker = KeyRing.generateSealing().toPublic()
 * const token = await new ValueCipher(worker).encrypt('{"card":"4111"}')
 * await new ValueCipher(worker).decrypt(token)   // throws SealingKeyPublicOnlyError (ERR_SEALING_KEY_PUBLIC_ONLY)
 * ```
 */
export class SealingKeyPublicOnlyError extends AirlockError {
  static override readonly code = 'ERR_SEALING_KEY_PUBLIC_ONLY'
}

/**
 * A synchronous seal or open under a sealing key ran before the sealed-box
 * implementation (libsodium, WebAssembly) finished loading, which takes a
 * few milliseconds after import. Await `PayloadCipher.ready()` once at
 * start-up; the asynchronous methods wait by themselves.
 *
 * @example
 * ```ts
 * await PayloadCipher.ready()
 * new PayloadCipher(workerRing).sealSync(bytes)   // no SealingNotReadyError (ERR_SEALING_NOT_READY) from here on
 * ```
 */
export class SealingNotReadyError extends AirlockError {
  static override readonly code = 'ERR_SEALING_NOT_READY'
}

// ---------------------------------------------------------------- results

/**
 * A location template names a key the context does not provide.
 *
 * @example
 * ```ts
 * new LocationTemplate('{region}/{today}.json').format({})   // throws TemplateKeyError (ERR_TEMPLATE_KEY_UNKNOWN)
 * // err.key === 'region'; err.available: ['today', 'date', 'randomId']
 * ```
 */
export class TemplateKeyError extends AirlockError {
  static override readonly code = 'ERR_TEMPLATE_KEY_UNKNOWN'
  readonly key: string
  readonly available: readonly string[]
  constructor(key: string, available: readonly string[]) {
    super(
      `location template uses {${key}}, which the context does not provide; available keys: ${
        available.length ? available.join(', ') : '(none)'
      }`,
    )
    this.key = key
    this.available = available
  }
}

/**
 * A location would resolve outside the result's directory.
 *
 * @example
 * ```ts
 * await new LocalResult({ dir: 'results', location: '../{taskName}.json' }).write(1, { taskName: 'x' })
 * // throws LocationEscapesDirError (ERR_LOCATION_ESCAPES_DIR)
 * ```
 */
export class LocationEscapesDirError extends AirlockError {
  static override readonly code = 'ERR_LOCATION_ESCAPES_DIR'
}

/**
 * No result exists at a location.
 *
 * @example
 * ```ts
 * await new LocalResult({ dir: 'results' }).read('2026-11-21/missing.json')   // throws ResultNotFoundError (ERR_RESULT_NOT_FOUND)
 * ```
 */
export class ResultNotFoundError extends AirlockError {
  static override readonly code = 'ERR_RESULT_NOT_FOUND'
}

/**
 * The result type does not support this operation (e.g. writing a `ConstantResult`).
 *
 * @example
 * ```ts
 * await new ConstantResult(42).write()   // throws ResultReadOnlyError (ERR_RESULT_READ_ONLY)
 * ```
 */
export class ResultReadOnlyError extends AirlockError {
  static override readonly code = 'ERR_RESULT_READ_ONLY'
}

/**
 * A value cannot be serialized by the chosen serializer.
 *
 * @example
 * ```ts
 * await new LocalResult({ dir: 'results' }).write({ onDone: () => {} })   // throws SerializationError (ERR_SERIALIZATION) naming $.onDone
 * ```
 */
export class SerializationError extends AirlockError {
  static override readonly code = 'ERR_SERIALIZATION'
}

/**
 * Stored bytes lack a known serializer header, or the body is corrupt.
 *
 * @example
 * ```ts
 * new PayloadFrame('json').unwrap(new TextEncoder().encode('{}'))   // no ALKS header: throws PayloadFormatError (ERR_PAYLOAD_FORMAT)
 * ```
 */
export class PayloadFormatError extends AirlockError {
  static override readonly code = 'ERR_PAYLOAD_FORMAT'
}

/**
 * A value given to `JSONResult` is not JSON-safe.
 *
 * @example
 * ```ts
 * await new JSONResult().write({ when: new Date() })   // throws NotJsonSafeError (ERR_NOT_JSON_SAFE) naming $.when
 * ```
 */
export class NotJsonSafeError extends AirlockError {
  static override readonly code = 'ERR_NOT_JSON_SAFE'
}

/**
 * A storage backend failed (access denied, network, server error). Never `false` from `exists`.
 *
 * @example
 * ```ts
 * await new S3Result({ bucket: 'team-results' }).exists(location)   // access denied: throws StorageError (ERR_STORAGE), never false
 * ```
 */
export class StorageError extends AirlockError {
  static override readonly code = 'ERR_STORAGE'
}

/**
 * A secret provider could not resolve a secret. The message names the secret, never its value.
 *
 * @example
 * ```ts
 * await new EnvSecretProvider().get('API_TOKEN')   // unset: throws SecretNotFoundError (ERR_SECRET_NOT_FOUND)
 * ```
 */
export class SecretNotFoundError extends AirlockError {
  static override readonly code = 'ERR_SECRET_NOT_FOUND'
}

// ---------------------------------------------------------------- boundary and audit

/**
 * An outbound event does not match its schema.
 *
 * @example
 * ```ts
 * const sent = await airlock.emit({ kind: 'nope' } as never)   // not an emit input: withheld, reason 'validate:ERR_EVENT_INVALID'
 * // through airlock.emit, an event over the size cap is withheld instead, with reason 'serialize:ERR_EVENT_INVALID'
 * ```
 */
export class EventInvalidError extends AirlockError {
  static override readonly code = 'ERR_EVENT_INVALID'
}

/**
 * The control plane refused or could not take a batch.
 *
 * @example
 * ```ts
 * await controlPlane.flush({ timeoutMs: 5_000 })   // still undelivered: throws DeliveryError (ERR_DELIVERY)
 * ```
 */
export class DeliveryError extends AirlockError {
  static override readonly code = 'ERR_DELIVERY'
  /** HTTP status where there was one. */
  readonly status: number | undefined
  constructor(message: string, options?: AirlockErrorOptions & { status?: number }) {
    super(message, options)
    this.status = options?.status
  }
}

/**
 * The `Airlock` or a transport was used after `close()`.
 *
 * @example
 * ```ts
 * await airlock.close()
 * await airlock.emit({ kind: 'flow-run-state', runId, flowName: 'etl', state: 'Running' })   // throws ClosedError (ERR_CLOSED)
 * ```
 */
export class ClosedError extends AirlockError {
  static override readonly code = 'ERR_CLOSED'
}

/**
 * A ledger failed verification. `seq` is the first bad entry.
 *
 * @example
 * ```ts
 * await Ledger.open({ path: 'audit/ledger.ndjson' })   // last line torn or altered: throws LedgerTamperedError (ERR_LEDGER_TAMPERED)
 * // err.seq names the first bad entry
 * ```
 */
export class LedgerTamperedError extends AirlockError {
  static override readonly code = 'ERR_LEDGER_TAMPERED'
  readonly seq: number
  constructor(seq: number, reason: string) {
    super(`ledger entry seq ${seq} is not intact: ${reason}`)
    this.seq = seq
  }
}

/**
 * A ledger opened with a signing key ends in entries no checkpoint of that
 * key covers, and the writer was not asked to adopt them. Signing on top
 * would vouch for entries nobody vouched for: its writer stopped without
 * `close()` (a crash), or someone who could write the file but not sign
 * edited history, recomputed the hashes and removed the checkpoints after
 * the edit. Their chain is intact (a broken one is a {@link LedgerTamperedError}).
 * `seq` is the first of them; `lastSeq` the last. To recover, check them,
 * then open with `adoptUnsignedTail: true`: a signed checkpoint records
 * them as adopted, and every audit report shows it.
 *
 * @example
 * ```ts
 * await Ledger.open({ path: 'audit/ledger.ndjson', signingKey })   // its last writer crashed: throws LedgerUnsignedTailError (ERR_LEDGER_UNSIGNED_TAIL)
 * // err.seq, err.lastSeq: the entries no checkpoint of this key covers; err.signedThrough: the last one covered (0: none)
 * ```
 */
export class LedgerUnsignedTailError extends AirlockError {
  static override readonly code = 'ERR_LEDGER_UNSIGNED_TAIL'
  /** The first entry no checkpoint of the signing key covers. */
  readonly seq: number
  /** The last entry of the file. */
  readonly lastSeq: number
  /** The last entry a checkpoint of the signing key covers; 0 when the key signed none in this file. */
  readonly signedThrough: number
  constructor(path: string, unsigned: { from: number; to: number }, signedThrough: number) {
    const { from, to } = unsigned
    const which = from === to ? `entry seq ${from} is` : `entries seq ${from} to ${to} are`
    const last = signedThrough === 0 ? 'this signing key signed no checkpoint in the file' : `the last checkpoint this signing key signed is seq ${signedThrough}`
    super(
      `ledger ${path}: ${which} not covered by a checkpoint of this signing key (${last}), so the writer will not sign on top of ${from === to ? 'it' : 'them'}. ` +
        'A writer that stopped without close() (a crash) leaves such entries; so does an edit of the file that recomputed its hashes and removed the checkpoints after it. ' +
        `Their hash chain is intact. To recover: verify the file (airlock audit verify) and check that ${from === to ? 'the entry is' : 'they are'} what was sent (airlock audit report), ` +
        'then open the ledger with adoptUnsignedTail: true, which records the adopted entries in a signed checkpoint that every audit shows.',
    )
    this.seq = from
    this.lastSeq = to
    this.signedThrough = signedThrough
  }
}

// ---------------------------------------------------------------- runtime

/**
 * A task needs persistence (target, shared cache, persistInputs) and no result is configured.
 *
 * @example
 * ```ts
 * airlock.task(load, { name: 'load', target: true })   // no result on the task or the Airlock: throws NoResultConfiguredError (ERR_NO_RESULT_CONFIGURED)
 * ```
 */
export class NoResultConfiguredError extends AirlockError {
  static override readonly code = 'ERR_NO_RESULT_CONFIGURED'
}

/**
 * A task ran past its `timeout`. The message gives the attempt and the
 * timeout; `taskName` names the task.
 *
 * @example
 * ```ts
 * const fetchOrders = airlock.task(fetchAll, { name: 'fetch', timeout: '30s' })
 * await fetchOrders()   // past 30 s: rejects with TaskTimeoutError (ERR_TASK_TIMEOUT); the state sent is TimedOut
 * ```
 */
export class TaskTimeoutError extends AirlockError {
  static override readonly code = 'ERR_TASK_TIMEOUT'
}

/**
 * A task or flow was cancelled. `flowName` names the flow whose run was cancelled.
 *
 * @example
 * ```ts
 * const run = await etl.run({ day }, { signal: AbortSignal.timeout(60_000) })
 * if (run.state === 'Cancelled') console.log((run.error as AirlockError).code)   // 'ERR_TASK_CANCELLED'
 * ```
 */
export class TaskCancelledError extends AirlockError {
  static override readonly code = 'ERR_TASK_CANCELLED'
}

// ---------------------------------------------------------------- cli

/**
 * The command line was malformed: unknown verb, bad flag, missing file.
 *
 * @example
 * ```ts
 * // $ airlock audit verfy audit/ledger.ndjson
 * // airlock: unknown command "audit verfy"; run airlock --help (ERR_USAGE)      exit code 2
 * ```
 */
export class UsageError extends AirlockError {
  static override readonly code = 'ERR_USAGE'
}

/**
 * A write found a result already stored at its location, and the result is set not to overwrite (`AzureResult` with `overwrite: false`).
 *
 * @example
 * ```ts
 * const r = new AzureResult({ container: 'results', connectionString, overwrite: false })
 * await r.write(value, context)   // a blob already there: throws ResultExistsError (ERR_RESULT_EXISTS)
 * ```
 */
export class ResultExistsError extends AirlockError {
  static override readonly code = 'ERR_RESULT_EXISTS'
}

/**
 * One planted canary found where it must not be, as {@link CanaryLeakError} lists it. Masked: never the canary itself.
 *
 * @example
 * ```ts
 * const leaks: readonly CanaryLeak[] = err.leaks   // err: a CanaryLeakError
 * for (const leak of leaks) console.log(leak.kind, leak.seq, leak.path, leak.preview)   // masked, never the canary
 * ```
 */
export interface CanaryLeak {
  /** The canary's kind (`github-token`, `high-entropy`, ...), or `canary` for a plain string. */
  readonly kind: string
  /** The canary's marker, masked. */
  readonly marker: string
  /** The canary's 0-based index in the list given; messages number it from 1 (`#1` is `canaries[0]`), as `airlock audit scan` does. */
  readonly canary: number
  /** The ledger seq of the event, or its 1-based position among the control plane's events. */
  readonly seq: number
  readonly eventId: string
  readonly eventKind: string
  /** Where in the event, as ledger transform paths are written (`fields.note`). */
  readonly path: string
  /** A masked preview of what matched. */
  readonly preview: string
}

/**
 * Canaries reached the control plane (`expectNoLeaks` of `airlock-sdk/testing`). `leaks` lists each; `total` counts them.
 *
 * @example
 * ```ts
 * expectNoLeaks(controlPlane, canaries)   // a canary was sent: throws CanaryLeakError (ERR_CANARY_LEAKED)
 * // err.total counts the leaks; err.leaks lists them, masked
 * ```
 */
export class CanaryLeakError extends AirlockError {
  static override readonly code = 'ERR_CANARY_LEAKED'
  readonly leaks: readonly CanaryLeak[]
  readonly total: number
  constructor(leaks: readonly CanaryLeak[], total: number, where: string) {
    const shown = 20
    const lines = leaks.slice(0, shown).map(
      // `#N`: the canary's 1-based position in the list, as `airlock audit scan` numbers it (`leaks[i].canary` is its 0-based index).
      (l) => `  - ${l.kind} canary #${l.canary + 1} (marker ${l.marker}) in event ${l.seq} (${l.eventKind || 'no kind'}, id ${l.eventId}) at ${l.path}: ${l.preview}`,
    )
    if (total > lines.length) lines.push(`  … and ${total - lines.length} more`)
    super(`${total} canary ${total === 1 ? 'leak' : 'leaks'} in ${where}; expected none:\n${lines.join('\n')}`)
    this.leaks = leaks
    this.total = total
  }
}
