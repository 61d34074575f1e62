/**
 * Every error airlock-sdk throws is an {@link AirlockError} with a stable `code`.
 *
 * Codes are part of the public contract: match on `err.code`, never on the
 * message. Messages say what was expected and what was found; they never
 * carry key material, secret values, plain result locations or credentials.
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

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }

  /** A stable, machine-readable identifier of the failure; the class's static `code`. */
  get code(): string {
    return (this.constructor as typeof AirlockError).code
  }
}

// ---------------------------------------------------------------- input

/** An argument to a public function has the wrong type or shape. */
export class InvalidArgumentError extends AirlockError {
  static override readonly code = 'ERR_INVALID_ARGUMENT'
}

/** One problem found while validating a policy, with its dotted path. */
export interface PolicyIssue {
  /** Dotted path to the offending field, e.g. `exceptions.mode`. Empty for the root. */
  readonly path: string
  /** What was expected and what was found. */
  readonly message: string
}

/** A policy file or object failed validation. `issues` lists every problem. */
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

/** A user-supplied pattern could backtrack catastrophically and was refused. */
export class UnsafePatternError extends AirlockError {
  static override readonly code = 'ERR_PATTERN_UNSAFE'
}

// ---------------------------------------------------------------- keys and tokens

/** A key set (file, env var or object) is malformed. */
export class KeySetError extends AirlockError {
  static override readonly code = 'ERR_KEY_SET_INVALID'
}

/** A token or payload names a key id that the ring does not hold. */
export class UnknownKeyError extends AirlockError {
  static override readonly code = 'ERR_UNKNOWN_KID'
}

/** A token is malformed, truncated, modified, or does not decrypt. */
export class TokenInvalidError extends AirlockError {
  static override readonly code = 'ERR_TOKEN_INVALID'
}

/** A token uses an algorithm airlock-sdk never produces (`alg: none`, another `enc`, ...). */
export class TokenAlgorithmError extends AirlockError {
  static override readonly code = 'ERR_TOKEN_ALGORITHM'
}

/** A token decrypted, but was bound to another context (e.g. another task). */
export class TokenBindingError extends AirlockError {
  static override readonly code = 'ERR_TOKEN_BINDING'
}

/** A stored payload failed authentication: modified, truncated, reordered or swapped. */
export class PayloadTamperedError extends AirlockError {
  static override readonly code = 'ERR_PAYLOAD_TAMPERED'
}

// ---------------------------------------------------------------- results

/** A location template names a key the context does not provide. */
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

/** A location would resolve outside the result's directory. */
export class LocationEscapesDirError extends AirlockError {
  static override readonly code = 'ERR_LOCATION_ESCAPES_DIR'
}

/** No result exists at a location. */
export class ResultNotFoundError extends AirlockError {
  static override readonly code = 'ERR_RESULT_NOT_FOUND'
}

/** The result type does not support this operation (e.g. writing a `ConstantResult`). */
export class ResultReadOnlyError extends AirlockError {
  static override readonly code = 'ERR_RESULT_READ_ONLY'
}

/** A value cannot be serialized by the chosen serializer. */
export class SerializationError extends AirlockError {
  static override readonly code = 'ERR_SERIALIZATION'
}

/** Stored bytes lack a known serializer header, or the body is corrupt. */
export class PayloadFormatError extends AirlockError {
  static override readonly code = 'ERR_PAYLOAD_FORMAT'
}

/** A value given to `JSONResult` is not JSON-safe. */
export class NotJsonSafeError extends AirlockError {
  static override readonly code = 'ERR_NOT_JSON_SAFE'
}

/** A storage backend failed (access denied, network, server error). Never `false` from `exists`. */
export class StorageError extends AirlockError {
  static override readonly code = 'ERR_STORAGE'
}

/** A secret provider could not resolve a secret. The message names the secret, never its value. */
export class SecretNotFoundError extends AirlockError {
  static override readonly code = 'ERR_SECRET_NOT_FOUND'
}

// ---------------------------------------------------------------- boundary and audit

/** An outbound event does not match its schema. */
export class EventInvalidError extends AirlockError {
  static override readonly code = 'ERR_EVENT_INVALID'
}

/** The control plane refused or could not take a batch. */
export class DeliveryError extends AirlockError {
  static override readonly code = 'ERR_DELIVERY'
  /** HTTP status where there was one. */
  readonly status: number | undefined
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options)
    this.status = options?.status
  }
}

/** The `Airlock` or a transport was used after `close()`. */
export class ClosedError extends AirlockError {
  static override readonly code = 'ERR_CLOSED'
}

/** A ledger failed verification. `seq` is the first bad entry. */
export class LedgerTamperedError extends AirlockError {
  static override readonly code = 'ERR_LEDGER_TAMPERED'
  readonly seq: number
  constructor(seq: number, reason: string) {
    super(`ledger entry seq ${seq} is not intact: ${reason}`)
    this.seq = seq
  }
}

// ---------------------------------------------------------------- runtime

/** A task needs persistence (target, shared cache, persistInputs) and no result is configured. */
export class NoResultConfiguredError extends AirlockError {
  static override readonly code = 'ERR_NO_RESULT_CONFIGURED'
}

/** A task ran past its `timeout`. */
export class TaskTimeoutError extends AirlockError {
  static override readonly code = 'ERR_TASK_TIMEOUT'
}

/** A task or flow was cancelled. */
export class TaskCancelledError extends AirlockError {
  static override readonly code = 'ERR_TASK_CANCELLED'
}

// ---------------------------------------------------------------- cli

/** The command line was malformed: unknown verb, bad flag, missing file. */
export class UsageError extends AirlockError {
  static override readonly code = 'ERR_USAGE'
}

/** A write found a result already stored at its location, and the result is set not to overwrite (`AzureResult` with `overwrite: false`). */
export class ResultExistsError extends AirlockError {
  static override readonly code = 'ERR_RESULT_EXISTS'
}

/** One planted canary found where it must not be, as {@link CanaryLeakError} lists it. Masked: never the canary itself. */
export interface CanaryLeak {
  /** The canary's kind (`github-token`, `high-entropy`, ...), or `canary` for a plain string. */
  readonly kind: string
  /** The canary's marker, masked. */
  readonly marker: string
  /** The canary's index in the list given. */
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

/** Canaries reached the control plane (`expectNoLeaks` of `airlock-sdk/testing`). `leaks` lists each; `total` counts them. */
export class CanaryLeakError extends AirlockError {
  static override readonly code = 'ERR_CANARY_LEAKED'
  readonly leaks: readonly CanaryLeak[]
  readonly total: number
  constructor(leaks: readonly CanaryLeak[], total: number, where: string) {
    const shown = 20
    const lines = leaks.slice(0, shown).map(
      (l) => `  - ${l.kind} canary #${l.canary} (marker ${l.marker}) in event ${l.seq} (${l.eventKind || 'no kind'}, id ${l.eventId}) at ${l.path}: ${l.preview}`,
    )
    if (total > lines.length) lines.push(`  … and ${total - lines.length} more`)
    super(`${total} canary ${total === 1 ? 'leak' : 'leaks'} in ${where}; expected none:\n${lines.join('\n')}`)
    this.leaks = leaks
    this.total = total
  }
}
