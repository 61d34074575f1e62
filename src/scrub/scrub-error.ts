import { Fingerprinter } from '../crypto/fingerprinter.js'
import { isKeyRing, type KeyRing } from '../crypto/key-ring.js'
import { ValueCipher } from '../crypto/value-cipher.js'
import { InvalidArgumentError } from '../errors.js'
import type { ExceptionPolicy, Policy } from '../policy/schema.js'
import { CIRCULAR_MARKER, WITHHELD_MARKER } from './markers.js'
import { Scrubber } from './scrubber.js'
import type { ScrubTransform } from './transform.js'
import { ErrorNode, MarkerNode, ReferenceNode, type Normalized } from './value-nodes.js'
import { plain, type DeferredNode } from './walk.js'

/**
 * An exception mode, as in `policy.exceptions.mode`.
 *
 * @example
 * ```ts
 * const mode: ExceptionMode = 'fingerprint'
 * ```
 */
export type ExceptionMode = ExceptionPolicy['mode']

/**
 * One error of a cause chain, as it may leave.
 *
 * @example
 * ```ts
 * const node: ScrubbedErrorNode = { type: 'TypeError', message: 'bad input from [REDACTED:email]' }
 * ```
 */
export interface ScrubbedErrorNode {
  /** The class name (`TypeError`, `PgError`), or `NonError` for a thrown non-Error. */
  readonly type: string
  /** `err.code`, scrubbed, when there is one. */
  readonly code?: string
  /** The message as the mode allows: scrubbed, masked, or '' when the mode sends none. */
  readonly message: string
  /** The stack as `exceptions.stack` allows (modes `full` and `scrubbed` only). */
  readonly stack?: string
  /** `cause` first, then `AggregateError.errors`, to `maxCauseDepth` levels. */
  readonly causes?: readonly ScrubbedErrorNode[]
}

/**
 * What a Failed state may carry about its error. `String(result)` gives the
 * one-line-plus-stack message (see {@link scrubError}).
 *
 * @example
 * ```ts
 * const failed: ScrubbedError = await scrubError(err, policy, { scrubber })
 * state.message = String(failed)
 * ```
 */
export interface ScrubbedError extends ScrubbedErrorNode {
  /** The mode applied: the policy's, or `type` when `fingerprint` or `encrypted` had no keys. */
  readonly mode: ExceptionMode
  /** `fingerprint` mode: a keyed hash of the normalised messages and stacks (their first 64 Ki code units), `fp1.<kid>.<mac>`. */
  readonly fingerprint?: string
  /** `encrypted` mode: a value token (`alkv1.`) of the whole error; see {@link scrubError}. */
  readonly token?: string
  /** What was changed or left out, by path (`message`, `causes[0].stack`); never the values. */
  readonly transforms: readonly ScrubTransform[]
  /**
   * The whole as one message: `Type [code]: message`, the kept stack frames,
   * then a `Caused by: ...` line per cause. Not enumerable, so it stays out
   * of `JSON.stringify`.
   */
  toString(): string
}

/**
 * Options of {@link scrubError}.
 *
 * @example
 * ```ts
 * const options: ScrubErrorOptions = { scrubber: airlock.scrubber, keys: KeyRing.fromEnv() }
 * ```
 */
export interface ScrubErrorOptions {
  /** The scrubber, holding the registered secrets and the scrub policy. */
  readonly scrubber: Scrubber
  /** Needed by the `fingerprint` and `encrypted` modes; without it they fall back to `type`. */
  readonly keys?: KeyRing
}

// Bounds the whole cause tree, whatever maxCauseDepth: an AggregateError may hold thousands.
const MAX_CAUSES = 64
const MAX_TYPE_LENGTH = 128
const MAX_CODE_LENGTH = 64
// What the fingerprint and the `frames` stack read of a message or stack: a prefix, so a 50 MB
// message costs what a 64 KB one does. (The other modes go through the scrubber, which bounds itself.)
const MAX_READ_LENGTH = 65_536
const FRAME = /^\s*at (?:async )?(?:new )?([^\s(]+)(?: \[as [^\]\s]{1,200}\])? \(/

/** The parts read from one error, before the mode decides what leaves. */
interface RawError {
  readonly type: string
  readonly code: string | undefined
  readonly message: string
  readonly stack: string | undefined
  readonly causes: RawError[]
  readonly isError: boolean
  /** For a NonError: what scrubbing its JSON did (paths inside the thrown value). */
  readonly scrubbed: readonly ScrubTransform[]
}

/**
 * Builds what a Failed state may say about an error, from the policy's
 * `exceptions` section (pass the whole policy or just that section).
 *
 * | mode | message | stack | extra |
 * |---|---|---|---|
 * | `full` | registered secrets masked | registered secrets masked | |
 * | `scrubbed` (default) | scrubbed | per `exceptions.stack`: `drop`, `scrubbed`, or `frames` (function names only) | |
 * | `type` | none | none | |
 * | `fingerprint` | none | none | `fingerprint`: keyed HMAC of the normalised messages and stacks (digits, hex ids, UUIDs and directories removed), so one bug groups under one value; only the first 65,536 code units of each message and stack count |
 * | `encrypted` | none | none | `token`: a ValueCipher token of the whole error (wire format below) |
 *
 * The error is normalized first (see `Scrubber.normalize`), so its fields
 * are read once and a hostile one cannot throw here. In every mode: `type`
 * and `code` are scrubbed, then cut to 128 and 64 characters (a cut first
 * could keep the head of a secret); `frames` reads the whole lines in the
 * first 65,536 code units of a stack; the `cause` chain and
 * `AggregateError.errors` are followed to `maxCauseDepth` levels (64 errors
 * at most), each reported per the same mode; home directories are removed
 * from stacks; a thrown non-Error (string, object, number, null) becomes
 * type `NonError` with its scrubbed JSON as message, never the raw value,
 * and an Error inside it is reported per the same mode (a result reference
 * inside it is withheld).
 * `fingerprint` and `encrypted` without `keys` fall back to `type` (fail
 * closed). Reading a hostile error (throwing getters, Proxies) gives type
 * `[airlock:withheld]`, never an exception.
 *
 * Token plaintext (version 1): JSON
 * `{"v":1,"type","code"?,"message","stack"?,"causes"?:[same shape]}` with
 * registered secrets masked (in every member) and home directories removed; open it with
 * `new ValueCipher(keys).decrypt(token)`.
 *
 * @example
 * ```ts
 * import { scrubError } from 'airlock-sdk'
 *
 * const failed = await scrubError(err, policy, { scrubber: airlock.scrubber, keys })
 * failed.type      // 'PgError'
 * failed.message   // 'password authentication failed for user [REDACTED:email]'
 * String(failed)   // 'PgError [28P01]: password authentication failed for user [REDACTED:email]'
 * ```
 */
export async function scrubError(
  err: unknown,
  policy: Policy | ExceptionPolicy,
  options: ScrubErrorOptions,
): Promise<ScrubbedError> {
  const exceptions = exceptionSection(policy)
  if (!(options?.scrubber instanceof Scrubber)) throw new InvalidArgumentError('scrubError needs { scrubber: Scrubber }')
  const keys = options.keys
  if (keys !== undefined && !isKeyRing(keys)) throw new InvalidArgumentError('scrubError options.keys must be a KeyRing')
  return presentError(options.scrubber.normalize(err), exceptions, options.scrubber, keys)
}

/**
 * {@link scrubError} for an error already normalized (an `ErrorNode`, or
 * whatever other value was thrown, normalized): the exceptions policy as
 * the boundary applies it to an error wherever it sits, in a Failed state,
 * a log field, a parameter or a cause. Internal to airlock-sdk.
 *
 * @example
 * ```ts
 * const failure = await presentError(scrubber.normalize(err), policy.exceptions, scrubber, keys)
 * ```
 */
export async function presentError(
  node: Normalized,
  exceptions: ExceptionPolicy,
  scrubber: Scrubber,
  keys: KeyRing | undefined,
): Promise<ScrubbedError> {
  const transforms: ScrubTransform[] = []
  let mode: ExceptionMode = exceptions.mode
  if ((mode === 'fingerprint' || mode === 'encrypted') && keys === undefined) mode = 'type'
  if (node instanceof MarkerNode && node.rule === 'walker-error') {
    return finish({ mode, type: WITHHELD_MARKER, message: '', transforms: [{ path: '$', rule: 'walker-error', action: 'withhold' }] })
  }
  // An error with no causes (most) is read in this turn: no walk of a chain, nothing to wait for.
  const raw = node instanceof ErrorNode && node.cause === undefined && node.errors === undefined ? readError(node) : await read(node, scrubber, exceptions, keys, transforms)

  switch (mode) {
    case 'full':
    case 'scrubbed':
      return finish({ mode, ...present(raw, '', mode, exceptions.stack, scrubber, transforms), transforms })
    case 'type':
      transforms.push({ path: 'message', rule: 'exception-mode', action: 'remove' })
      if (raw.stack !== undefined) transforms.push({ path: 'stack', rule: 'exception-mode', action: 'remove' })
      return finish({ mode, ...typeOnly(raw, '', scrubber, transforms), transforms })
    case 'fingerprint': {
      transforms.push({ path: 'message', rule: 'exception-mode', action: 'hash' })
      const fingerprint = new Fingerprinter(keys!).fingerprint(normalisedText(raw))
      return finish({ mode, ...typeOnly(raw, '', scrubber, transforms), fingerprint, transforms })
    }
    case 'encrypted': {
      transforms.push({ path: 'message', rule: 'exception-mode', action: 'encrypt' })
      const payload = JSON.stringify({ v: 1, ...sealed(raw, scrubber) })
      const token = await new ValueCipher(keys!).encrypt(payload)
      return finish({ mode, ...typeOnly(raw, '', scrubber, transforms), token, transforms })
    }
  }
}

function exceptionSection(policy: Policy | ExceptionPolicy): ExceptionPolicy {
  const section = (policy as Partial<Policy> | undefined)?.exceptions ?? policy
  const candidate = section as Partial<ExceptionPolicy> | undefined
  const modes = ['full', 'scrubbed', 'type', 'fingerprint', 'encrypted']
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    !modes.includes(candidate.mode as string) ||
    !['drop', 'scrubbed', 'frames'].includes(candidate.stack as string) ||
    !Number.isInteger(candidate.maxCauseDepth) ||
    (candidate.maxCauseDepth as number) < 0
  ) {
    throw new InvalidArgumentError('scrubError expects a policy or its exceptions section: { mode, stack, maxCauseDepth }')
  }
  return candidate as ExceptionPolicy
}

// Reads the normalized error tree, scrubbing nothing yet but thrown non-Errors.
async function read(
  root: Normalized,
  scrubber: Scrubber,
  exceptions: ExceptionPolicy,
  keys: KeyRing | undefined,
  transforms: ScrubTransform[],
): Promise<RawError> {
  let budget = MAX_CAUSES
  let omitted = 0
  const visit = async (node: Normalized, depth: number): Promise<RawError> => {
    const raw = node instanceof ErrorNode ? readError(node) : await readNonError(node, scrubber, exceptions, keys)
    if (depth >= exceptions.maxCauseDepth || !(node instanceof ErrorNode)) return raw
    for (const next of causesOf(node)) {
      if (budget === 0) {
        omitted++
        continue
      }
      budget--
      raw.causes.push(await visit(next, depth + 1))
    }
    return raw
  }
  const top = await visit(root, 0)
  if (omitted > 0) transforms.push({ path: 'causes', rule: 'max-causes', action: 'remove' })
  return top
}

// A cause chain that loops back was cut by normalizing with a marker; the loop is not a cause.
function causesOf(node: ErrorNode): Normalized[] {
  const out: Normalized[] = []
  if (node.cause !== undefined && node.cause !== CIRCULAR_MARKER) out.push(node.cause)
  if (node.errors !== undefined) for (const item of node.errors) if (item !== CIRCULAR_MARKER) out.push(item)
  return out
}

function readError(node: ErrorNode): RawError {
  const code = node.code
  return {
    type: node.type,
    code: typeof code === 'string' || typeof code === 'number' ? String(code) : undefined,
    message: typeof node.message === 'string' ? node.message : textOf(node.message),
    stack: typeof node.stack === 'string' ? node.stack : undefined,
    causes: [],
    isError: true,
    scrubbed: [],
  }
}

// A thrown non-Error (string, object, number, null) is never embedded raw: it
// is scrubbed whole, errors inside it are held to this same exceptions
// policy, results inside it are withheld, and then it is JSON.
async function readNonError(node: Normalized, scrubber: Scrubber, exceptions: ExceptionPolicy, keys: KeyRing | undefined): Promise<RawError> {
  const walked = scrubber.walk(node, { defer: true })
  for (const job of walked.deferred) await settleInside(job, scrubber, exceptions, keys, walked.transforms)
  const message = JSON.stringify(walked.value) ?? String(walked.value)
  return { type: 'NonError', code: undefined, message, stack: undefined, causes: [], isError: false, scrubbed: walked.transforms }
}

async function settleInside(
  job: DeferredNode,
  scrubber: Scrubber,
  exceptions: ExceptionPolicy,
  keys: KeyRing | undefined,
  transforms: ScrubTransform[],
): Promise<void> {
  if (job.kind === 'error' && job.error !== undefined) {
    const nested = await presentError(job.error, exceptions, scrubber, keys)
    job.parent[job.key] = failureOf(nested)
    for (const t of nested.transforms) transforms.push({ path: job.path, rule: t.rule, action: t.action })
    return
  }
  // A result reference inside thrown text answers to the locations policy, which lives at the boundary: withhold it.
  job.parent[job.key] = WITHHELD_MARKER
  transforms.push({ path: job.path, rule: job.kind === 'reference' ? 'result-in-exception' : 'walker-error', action: 'withhold' })
}

// The members a failure may carry, nothing else.
function failureOf(node: ScrubbedErrorNode & { fingerprint?: string; token?: string }): Record<string, unknown> {
  const out: Record<string, unknown> = { type: node.type }
  if (node.code !== undefined) out.code = node.code
  if (node.message !== '') out.message = node.message
  if (node.stack !== undefined) out.stack = node.stack
  if (node.causes !== undefined && node.causes.length > 0) out.causes = node.causes.map(failureOf)
  if (node.fingerprint !== undefined) out.fingerprint = node.fingerprint
  if (node.token !== undefined) out.token = node.token
  return out
}

function textOf(value: Normalized): string {
  if (value instanceof MarkerNode) return value.text
  if (value instanceof ReferenceNode) return WITHHELD_MARKER
  return typeof value === 'object' && value !== null ? (JSON.stringify(plain(value)) ?? '') : String(value)
}

interface Presented {
  type: string
  code?: string
  message: string
  stack?: string
  causes?: ScrubbedErrorNode[]
}

function present(
  raw: RawError,
  at: string,
  mode: 'full' | 'scrubbed',
  stackMode: ExceptionPolicy['stack'],
  scrubber: Scrubber,
  transforms: ScrubTransform[],
): Presented {
  const path = (field: string): string => (at === '' ? field : `${at}.${field}`)
  const out: Presented = { type: cleanType(raw.type, scrubber, transforms, path('type')), message: '' }
  if (raw.code !== undefined) out.code = cleanCode(raw.code, scrubber, transforms, path('code'))
  // A NonError message is already scrubbed JSON; masking bounds its length.
  for (const t of raw.scrubbed) transforms.push({ path: path('message'), rule: t.rule, action: t.action })
  out.message =
    mode === 'full' || !raw.isError
      ? masked(raw.message, scrubber, transforms, path('message'))
      : scrubber.scrubString(raw.message, transforms, path('message'))
  if (raw.stack !== undefined) {
    const stackPath = path('stack')
    if (mode === 'full') {
      out.stack = scrubber.stripHomePaths(masked(raw.stack, scrubber, transforms, stackPath), transforms, stackPath)
    } else if (stackMode === 'scrubbed') {
      out.stack = scrubber.stripHomePaths(scrubber.scrubString(raw.stack, transforms, stackPath), transforms, stackPath)
    } else if (stackMode === 'frames') {
      out.stack = frames(raw.stack, scrubber, transforms, stackPath)
      // What happened: the stack was cut down to its frames' function names, not removed.
      transforms.push({ path: stackPath, rule: 'exception-stack', action: 'frames' })
    } else {
      transforms.push({ path: stackPath, rule: 'exception-stack', action: 'remove' })
    }
  }
  if (raw.causes.length > 0) {
    out.causes = raw.causes.map((cause, i) => present(cause, path(`causes[${i}]`), mode, stackMode, scrubber, transforms))
  }
  return out
}

function typeOnly(raw: RawError, at: string, scrubber: Scrubber, transforms: ScrubTransform[]): Presented {
  const path = (field: string): string => (at === '' ? field : `${at}.${field}`)
  const out: Presented = { type: cleanType(raw.type, scrubber, transforms, path('type')), message: '' }
  if (raw.code !== undefined) out.code = cleanCode(raw.code, scrubber, transforms, path('code'))
  if (raw.causes.length > 0) {
    out.causes = raw.causes.map((cause, i) => typeOnly(cause, path(`causes[${i}]`), scrubber, transforms))
  }
  return out
}

// Scrubbed first, then cut: a cut first could keep the head of a secret the whole would have matched.
function cleanType(type: string, scrubber: Scrubber, transforms: ScrubTransform[], path: string): string {
  return cut(scrubber.scrubString(type, transforms, path), MAX_TYPE_LENGTH, transforms, path)
}

function cleanCode(code: string, scrubber: Scrubber, transforms: ScrubTransform[], path: string): string {
  return cut(scrubber.scrubString(code, transforms, path), MAX_CODE_LENGTH, transforms, path)
}

function cut(text: string, length: number, transforms: ScrubTransform[], path: string): string {
  if (text.length <= length) return text
  transforms.push({ path, rule: 'max-length', action: 'truncate' })
  const last = text.charCodeAt(length - 2)
  return `${text.slice(0, last >= 0xd800 && last <= 0xdbff ? length - 2 : length - 1)}…`
}

// Registered secrets only (and the length bound), transforms moved under `path`.
function masked(text: string, scrubber: Scrubber, transforms: ScrubTransform[], path: string): string {
  const result = scrubber.maskRegistered(text)
  for (const t of result.transforms) transforms.push({ path, rule: t.rule, action: t.action })
  return typeof result.value === 'string' ? result.value : WITHHELD_MARKER
}

// Only the function names of the frames: no message line, no files, no positions.
function frames(stack: string, scrubber: Scrubber, transforms: ScrubTransform[], path: string): string {
  const names: string[] = []
  for (const line of linesWithin(stack, MAX_READ_LENGTH).split('\n')) {
    if (!/^\s*at /.test(line)) continue
    const m = FRAME.exec(line)
    names.push(`    at ${m === null ? '<anonymous>' : m[1]}`)
  }
  return scrubber.scrubString(names.join('\n'), transforms, path)
}

// The whole lines of `text` within its first `limit` code units (a first line that long is cut).
function linesWithin(text: string, limit: number): string {
  if (text.length <= limit) return text
  const end = text.lastIndexOf('\n', limit)
  return text.slice(0, end === -1 ? limit : end)
}

// The encrypted payload: what `full` would send, registered secrets still masked.
function sealed(raw: RawError, scrubber: Scrubber): Record<string, unknown> {
  const ignored: ScrubTransform[] = []
  const out: Record<string, unknown> = { type: masked(raw.type, scrubber, ignored, ''), message: masked(raw.message, scrubber, ignored, '') }
  if (raw.code !== undefined) out.code = masked(raw.code, scrubber, ignored, '')
  if (raw.stack !== undefined) out.stack = scrubber.stripHomePaths(masked(raw.stack, scrubber, ignored, ''), ignored, '')
  if (raw.causes.length > 0) out.causes = raw.causes.map((cause) => sealed(cause, scrubber))
  return out
}

// Same bug, same text: ids, numbers and directories vary between occurrences.
function normalisedText(raw: RawError): string {
  const stack = raw.stack === undefined ? '' : linesWithin(raw.stack, MAX_READ_LENGTH)
  let text = `${raw.type}\n${normalise(raw.message.slice(0, MAX_READ_LENGTH))}\n${normalise(stackFrames(stack))}`
  for (const cause of raw.causes) text += `\n--\n${normalisedText(cause)}`
  return text
}

function stackFrames(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => /^\s*at /.test(line))
    .join('\n')
}

const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g
const HEX = /\b(?:0x[0-9a-fA-F]+|[0-9a-fA-F]{8,})\b/g
// A run of non-space characters ending in a slash: the directory part of a path.
const DIRECTORY = /(?<![^\s(])[^\s()'"]*[\\/]/g
const DIGITS = /[0-9]+/g

// UUIDs, hex ids, directories and digit runs replaced:
// 'user 42 at /home/ada/app/db.js:10:3' becomes 'user 0 at db.js:0:0'.
function normalise(text: string): string {
  return text.replace(UUID, '<uuid>').replace(HEX, '<hex>').replace(DIRECTORY, '').replace(DIGITS, '0')
}

function finish(result: Presented & { mode: ExceptionMode; fingerprint?: string; token?: string; transforms: ScrubTransform[] }): ScrubbedError {
  Object.defineProperty(result, 'toString', { value: render, enumerable: false })
  return result
}

function render(this: ScrubbedError): string {
  let text = headline(this)
  if (this.fingerprint !== undefined) text += ` (fingerprint ${this.fingerprint})`
  if (this.token !== undefined) text += ` (encrypted ${this.token})`
  text += details(this, '')
  return text
}

function headline(node: ScrubbedErrorNode): string {
  const code = node.code === undefined ? '' : ` [${node.code}]`
  return node.message === '' ? `${node.type}${code}` : `${node.type}${code}: ${node.message}`
}

function details(node: ScrubbedErrorNode, indent: string): string {
  let text = node.stack === undefined ? '' : `\n${stackBody(node.stack, indent)}`
  for (const cause of node.causes ?? []) text += `\n${indent}Caused by: ${headline(cause)}${details(cause, `${indent}  `)}`
  return text
}

// A scrubbed stack repeats the message on its first line; the headline already has it.
function stackBody(stack: string, indent: string): string {
  return stack
    .split('\n')
    .filter((line) => /^\s*at /.test(line))
    .map((line) => indent + line)
    .join('\n')
}
