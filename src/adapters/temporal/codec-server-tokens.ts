import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { REDACTED } from '../../crypto/redacted.js'
import { InvalidArgumentError } from '../../errors.js'

/**
 * One bearer token a codec server accepts, and who holds it. The subject is
 * what the access ledger records; the token never is.
 *
 * @example
 * ```ts
 * const token: CodecServerToken = { subject: 'temporal-ui-proxy', token: process.env.CODEC_TOKEN! }
 * ```
 */
export interface CodecServerToken {
  /** Who holds the token, as the access ledger names them: 1-128 characters of [A-Za-z0-9_.@:-]. */
  readonly subject: string
  /** At least 32 characters, no whitespace. */
  readonly token: string
}

const SUBJECT = /^[A-Za-z0-9_.@:-]{1,128}$/
const TOKEN = /^[\x21-\x7e]{32,4096}$/

/**
 * The bearer tokens a codec server accepts, checked in constant time per
 * token (a SHA-256 of each is compared, so neither length nor content shows
 * in the timing). Prints as its subjects only.
 *
 * Token file format (`airlock codec-server --token-file FILE`), either:
 * - JSON `{ "tokens": [{ "subject": "ui-proxy", "token": "<32+ chars>" }, ...] }`; or
 * - text: one token per line (blank lines skipped), each named by its
 *   subject `token-<first 12 hex digits of its SHA-256>`.
 *
 * @example
 * ```ts
 * const tokens = CodecServerTokens.fromFile('codec-tokens.json')
 * tokens.subjectOf(req.headers.authorization)   // 'ui-proxy', or undefined
 * ```
 */
export class CodecServerTokens {
  readonly #digests: readonly { readonly subject: string; readonly digest: Buffer }[]

  /** @throws InvalidArgumentError for no tokens, a short or malformed token, a bad subject, or a repeated token or subject. */
  constructor(tokens: readonly CodecServerToken[]) {
    const list: readonly unknown[] = Array.isArray(tokens) ? (tokens as readonly unknown[]) : []
    if (list.length === 0) throw new InvalidArgumentError('a codec server needs at least one bearer token')
    const subjects = new Set<string>()
    const digests = new Set<string>()
    this.#digests = list.map((entry, i) => {
      const { token, subject } = (typeof entry === 'object' && entry !== null ? entry : {}) as { token?: unknown; subject?: unknown }
      if (typeof token !== 'string' || !TOKEN.test(token)) {
        throw new InvalidArgumentError(`codec server token ${i} must be 32 to 4096 printable characters without spaces`)
      }
      if (typeof subject !== 'string' || !SUBJECT.test(subject)) {
        throw new InvalidArgumentError(`codec server token ${i}: a subject is 1-128 characters of [A-Za-z0-9_.@:-]`)
      }
      const digest = sha256(token)
      if (subjects.has(subject) || digests.has(digest.toString('hex'))) throw new InvalidArgumentError(`codec server token ${i} repeats a subject or a token`)
      subjects.add(subject)
      digests.add(digest.toString('hex'))
      return { subject, digest }
    })
  }

  /**
   * Tokens from a token file (format above).
   *
   * @throws InvalidArgumentError when the file cannot be read or holds no valid tokens; the message never quotes it.
   */
  static fromFile(path: string): CodecServerTokens {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      throw new InvalidArgumentError(`cannot read the token file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    return CodecServerTokens.fromText(text, `token file ${path}`)
  }

  /** Tokens from a token file's text (format above). */
  static fromText(text: string, source = 'token file'): CodecServerTokens {
    if (text.trimStart().startsWith('{')) {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        throw new InvalidArgumentError(`${source} starts like JSON but is not valid JSON`)
      }
      const tokens = (parsed as { tokens?: unknown })?.tokens
      if (!Array.isArray(tokens)) throw new InvalidArgumentError(`${source} must hold { "tokens": [{ "subject", "token" }] }`)
      return new CodecServerTokens(tokens as CodecServerToken[])
    }
    const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line)).filter((line) => line !== '')
    return new CodecServerTokens(lines.map((token) => ({ token, subject: `token-${sha256(token).toString('hex').slice(0, 12)}` })))
  }

  /** The subject of the token an `Authorization: Bearer <token>` header carries, or `undefined`. */
  subjectOf(authorization: string | undefined): string | undefined {
    if (typeof authorization !== 'string') return undefined
    const match = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(authorization)
    if (match === null) return undefined
    const presented = sha256(match[1]!)
    let subject: string | undefined
    // Every token is compared, whichever matches: the time taken says nothing about which.
    for (const entry of this.#digests) if (timingSafeEqual(entry.digest, presented)) subject ??= entry.subject
    return subject
  }

  toString(): string {
    return `CodecServerTokens(${this.#digests.map((d) => d.subject).join(', ')}; ${REDACTED})`
  }

  toJSON(): { type: 'CodecServerTokens'; subjects: string[] } {
    return { type: 'CodecServerTokens', subjects: this.#digests.map((d) => d.subject) }
  }

  [inspect.custom](): string {
    return this.toString()
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
