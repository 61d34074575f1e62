import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'

/*
 * Ledger checkpoints as C2SP signed notes (c2sp.org/signed-note) in the
 * C2SP checkpoint format (c2sp.org/tlog-checkpoint):
 *
 *   airlock.ledger/<hash of the ledger's first entry, 64 hex>   origin
 *   <tree size, decimal>                                        entries covered
 *   <root hash, standard base64>                                RFC 9162 root
 *   airlock-final                                               only on the checkpoint close() writes
 *   airlock-adopted <from> <to>                                 only on a checkpoint that adopts entries
 *   <empty line>
 *   — <origin> <base64 of key ID (4 bytes) || Ed25519 signature (64 bytes)>
 *
 * The signature is Ed25519 over the note's text (every line up to the empty
 * one, each with its newline); the key's name is the origin, and its key ID
 * the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), as the
 * signed-note spec gives for Ed25519. So a C2SP witness, or any tlog tool,
 * can check an airlock head with the verifier key `ledgerVerifierKey` gives.
 */

/** The origin prefix: what follows is the hash of the ledger's first entry, which names the ledger for good. */
export const LEDGER_ORIGIN_PREFIX = 'airlock.ledger/'

const FINAL_LINE = 'airlock-final'
const ADOPTED_LINE = /^airlock-adopted (\d{1,16}) (\d{1,16})$/
const ORIGIN = /^airlock\.ledger\/[0-9a-f]{64}$/
const SIZE = /^(0|[1-9]\d{0,15})$/
const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/
const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/
const ED25519_ALG = 0x01
/** The longest note a ledger entry holds: the body and a few signature lines. */
export const MAX_NOTE_LENGTH = 2048

/**
 * What a checkpoint says: which ledger (`origin`), how many entries its tree
 * covers (`size`), the RFC 9162 root over them, and whether `close()` signed
 * it or it adopts entries a crashed writer left.
 *
 * @example
 * ```ts
 * const head: LedgerCheckpointBody = { origin: ledgerOrigin(first.hash), size: 41, root, final: true, adopted: undefined }
 * ```
 */
export interface LedgerCheckpointBody {
  readonly origin: string
  readonly size: number
  /** 32 bytes. */
  readonly root: Buffer
  readonly final: boolean
  readonly adopted: { readonly from: number; readonly to: number } | undefined
}

/**
 * A parsed checkpoint note: its body, its text (what is signed) and its signature lines.
 *
 * @example
 * ```ts
 * const parsed = parseCheckpointNote(note)
 * if (typeof parsed !== 'string') console.log(parsed.origin, parsed.size)
 * ```
 */
export interface ParsedCheckpointNote extends LedgerCheckpointBody {
  readonly text: string
  readonly signatures: readonly { readonly name: string; readonly keyId: Buffer; readonly signature: Buffer }[]
}

/**
 * The origin of the ledger whose first entry has hash `firstEntryHash`.
 *
 * @example
 * ```ts
 * ledgerOrigin(firstEntry.hash)   // 'airlock.ledger/5f91…'
 * ```
 */
export function ledgerOrigin(firstEntryHash: string): string {
  return `${LEDGER_ORIGIN_PREFIX}${firstEntryHash}`
}

/**
 * The note text (unsigned) of a checkpoint. Internal to src/audit.
 *
 * @example
 * ```ts
 * const text = checkpointNoteText({ origin, size: 41, root, final: true, adopted: undefined })
 * ```
 */
export function checkpointNoteText(body: LedgerCheckpointBody): string {
  let text = `${body.origin}\n${body.size}\n${body.root.toString('base64')}\n`
  if (body.final) text += `${FINAL_LINE}\n`
  if (body.adopted !== undefined) text += `airlock-adopted ${body.adopted.from} ${body.adopted.to}\n`
  return text
}

/**
 * Signs a checkpoint with an Ed25519 private key: the whole signed note.
 * Internal to src/audit: only `Ledger` signs.
 *
 * @example
 * ```ts
 * const note = signCheckpointNote(privateKey, { origin, size: 41, root, final: true, adopted: undefined })
 * ```
 */
export function signCheckpointNote(privateKey: KeyObject, body: LedgerCheckpointBody): string {
  const text = checkpointNoteText(body)
  const signature = sign(null, Buffer.from(text, 'utf8'), privateKey)
  const keyId = noteKeyId(body.origin, rawPublicKey(createPublicKey(privateKey)))
  return `${text}\n\u2014 ${body.origin} ${Buffer.concat([keyId, signature]).toString('base64')}\n`
}

/**
 * Reads a checkpoint note without checking a signature: the body, or what
 * is wrong with it. Only the exact form {@link signCheckpointNote} writes
 * passes, so a note means one thing.
 *
 * @example
 * ```ts
 * const parsed = parseCheckpointNote(note)
 * if (typeof parsed === 'string') console.error(parsed)
 * ```
 */
export function parseCheckpointNote(note: string): ParsedCheckpointNote | string {
  if (typeof note !== 'string' || note.length > MAX_NOTE_LENGTH) return 'the checkpoint note is missing or too long'
  const split = note.indexOf('\n\n')
  if (split === -1 || !note.endsWith('\n')) return 'the checkpoint note has no signature block'
  const text = note.slice(0, split + 1)
  const lines = text.slice(0, -1).split('\n')
  const [origin, size, root, ...extensions] = lines
  if (origin === undefined || !ORIGIN.test(origin)) return 'the checkpoint note does not name an airlock ledger origin'
  if (size === undefined || !SIZE.test(size) || !Number.isSafeInteger(Number(size))) return 'the checkpoint note tree size is malformed'
  if (root === undefined || !BASE64_32.test(root)) return 'the checkpoint note root hash is malformed'
  let final = false
  let adopted: { from: number; to: number } | undefined
  for (const [i, line] of extensions.entries()) {
    const adoption = ADOPTED_LINE.exec(line)
    if (line === FINAL_LINE && i === 0 && !final) final = true
    else if (adoption !== null && i === extensions.length - 1) adopted = { from: Number(adoption[1]), to: Number(adoption[2]) }
    else return 'the checkpoint note has an extension line airlock does not write'
  }
  const body = { origin, size: Number(size), root: Buffer.from(root, 'base64'), final, adopted }
  if (checkpointNoteText(body) !== text) return 'the checkpoint note is not in canonical form'
  const signatures: { name: string; keyId: Buffer; signature: Buffer }[] = []
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const match = SIGNATURE_LINE.exec(line)
    const bytes = match === null ? undefined : Buffer.from(match[2]!, 'base64')
    if (match === null || bytes === undefined || bytes.length !== 68 || bytes.toString('base64') !== match[2]) {
      return 'the checkpoint note has a malformed signature line'
    }
    signatures.push({ name: match[1]!, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) })
  }
  return { ...body, text, signatures }
}

/**
 * Whether `publicKey` signed the note under its origin: `verified`; `absent`
 * when no signature line names that key; `invalid` when one does and its
 * signature does not verify. Internal to src/audit.
 *
 * @example
 * ```ts
 * if (noteSignedBy(parsed, publicKey) !== 'verified') throw new LedgerTamperedError(seq, 'not signed by the key')
 * ```
 */
export function noteSignedBy(parsed: ParsedCheckpointNote, publicKey: KeyObject): 'verified' | 'absent' | 'invalid' {
  const keyId = noteKeyId(parsed.origin, rawPublicKey(publicKey))
  let named = false
  for (const { name, keyId: id, signature } of parsed.signatures) {
    if (name !== parsed.origin || !id.equals(keyId)) continue
    named = true
    if (verify(null, Buffer.from(parsed.text, 'utf8'), publicKey, signature)) return 'verified'
  }
  return named ? 'invalid' : 'absent'
}

/**
 * The C2SP verifier key (`<name>+<key ID hex>+<base64 of 0x01 || key>`) of a
 * ledger's checkpoints: what a C2SP witness, or `note.Verifier` in Go's
 * golang.org/x/mod/sumdb/note, is configured with to check this ledger's heads.
 *
 * @example
 * ```ts
 * ledgerVerifierKey(publicKey, 'airlock.ledger/5f91…')   // 'airlock.ledger/5f91…+1a2b3c4d+AW…'
 * ```
 */
export function ledgerVerifierKey(publicKey: KeyObject, origin: string): string {
  const raw = rawPublicKey(publicKey)
  return `${origin}+${noteKeyId(origin, raw).toString('hex')}+${Buffer.concat([Buffer.of(ED25519_ALG), raw]).toString('base64')}`
}

function noteKeyId(name: string, rawKey: Buffer): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.of(0x0a, ED25519_ALG))
    .update(rawKey)
    .digest()
    .subarray(0, 4)
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  return Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
}
