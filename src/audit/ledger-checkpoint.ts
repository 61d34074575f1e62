import type { KeyObject } from 'node:crypto'
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose'
import { z } from 'zod'
import { canonicalJson } from '../internal/canonical-json.js'
import { CHECKPOINT_TYP, escapeControl, type LedgerCheckpointEntry } from './ledger-entry.js'

/**
 * A stretch of entries no checkpoint of their writer's key covered (the
 * writer stopped without `close()`, or the file was edited), which a later
 * writer holding the key adopted: it checked their chain, then signed a
 * checkpoint (`bySeq`) that names them. The adopting checkpoint vouches
 * that the chain was intact when it was adopted, not that its writer wrote
 * it. `Ledger.open` adopts only when asked (`adoptUnsignedTail: true`), and
 * `verifyLedger` lists every adoption, so an audit sees each one.
 *
 * @example
 * ```ts
 * const adoption: LedgerAdoption = { from: 5, to: 9, bySeq: 10 }
 * // "entries 5–9 were not signed by their writer; adopted at seq 10"
 * ```
 */
export interface LedgerAdoption {
  /** The first adopted entry. */
  readonly from: number
  /** The last adopted entry: always the one just before the adopting checkpoint. */
  readonly to: number
  /** The seq of the checkpoint that adopted them. */
  readonly bySeq: number
}

/*
 * The checkpoint JWS payload, canonical JSON, in two versions. Both are read;
 * the writer picks the lowest that says what it means.
 *
 * v1 `{"final":bool,"head":<hex>,"seq":<n>,"v":1}`: the chain up to entry
 *    `seq`, whose hash is `head`, is as written. Every ordinary checkpoint.
 * v2 `{"adopted":{"from":<a>,"to":<seq>},"final":false,"head":…,"seq":…,"v":2}`:
 *    the same, and entries `a` to `seq` were adopted (see LedgerAdoption).
 *    Only adopting checkpoints use it. A verifier that knows v1 only fails
 *    them as malformed, rather than pass an adoption without showing it.
 */
const v1Payload = z.strictObject({
  v: z.literal(1),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  head: z.string(),
  final: z.boolean(),
})
const v2Payload = z.strictObject({
  v: z.literal(2),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  head: z.string(),
  final: z.boolean(),
  adopted: z.strictObject({
    from: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    to: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  }),
})
const payloadSchema = z.discriminatedUnion('v', [v1Payload, v2Payload])

/**
 * What a checkpoint signs: the position in the chain (`seq`, `head`: the
 * entry before the checkpoint), whether `close()` wrote it, and, for an
 * adopting checkpoint, the adopted range. Internal to src/audit.
 *
 * @example
 * ```ts
 * const payload: CheckpointPayload = { v: 1, seq: 41, head: entry41.hash, final: true }
 * ```
 */
export type CheckpointPayload = z.infer<typeof payloadSchema>

/**
 * A key that checks checkpoints, and what to make of checkpoints another
 * key signed: `fail` them (an audit with one public key), or treat them as
 * `unsigned` entries (a writer looking for its own last checkpoint: another
 * key's signature covers nothing for it). Internal to src/audit.
 *
 * @example
 * ```ts
 * const verifier: CheckpointVerifier = { key: publicKey, kid: await ledgerKeyId(publicKey), otherKeys: 'fail' }
 * ```
 */
export interface CheckpointVerifier {
  readonly key: KeyObject
  readonly kid: string
  readonly otherKeys: 'fail' | 'unsigned'
}

/**
 * A checkpoint whose payload names its own position: `verified` when its
 * signature was checked with the verifier's key. Internal to src/audit.
 *
 * @example
 * ```ts
 * const checked = await checkCheckpoint(entry, verifier)
 * if (typeof checked !== 'string' && checked.verified) console.log('signed by this key')
 * ```
 */
export interface CheckedCheckpoint {
  readonly payload: CheckpointPayload
  readonly verified: boolean
}

/**
 * Signs a checkpoint over the chain up to entry `seq` (hash `head`): a
 * compact JWS, `alg: EdDSA`, `typ: airlock-ledger-checkpoint`, `kid` the
 * key's thumbprint. Payload v1, or v2 when `adopted` is given. Internal to
 * src/audit: only `Ledger` signs.
 *
 * @example
 * ```ts
 * const jws = await signCheckpoint(signer, { seq: 41, head, final: true, adopted: undefined })
 * ```
 */
export function signCheckpoint(
  signer: { readonly key: KeyObject; readonly kid: string },
  at: { seq: number; head: string; final: boolean; adopted: { from: number; to: number } | undefined },
): Promise<string> {
  const { seq, head, final, adopted } = at
  const payload = adopted === undefined ? { final, head, seq, v: 1 } : { adopted: { from: adopted.from, to: adopted.to }, final, head, seq, v: 2 }
  return new CompactSign(Buffer.from(canonicalJson(payload), 'utf8'))
    .setProtectedHeader({ alg: 'EdDSA', typ: CHECKPOINT_TYP, kid: signer.kid })
    .sign(signer.key)
}

/**
 * Checks a checkpoint entry: its payload must be well formed and name the
 * entry before it (`seq - 1`, and `prev` as `head`), and an adopted range
 * must end there. With a verifier, its signature is checked: a checkpoint
 * of another key fails, or passes unverified when `otherKeys` is
 * `unsigned`; one that names the verifier's key must verify with it.
 * Returns the checkpoint, or what is wrong with it. Internal to src/audit.
 *
 * @example
 * ```ts
 * const checked = await checkCheckpoint(entry, { key, kid, otherKeys: 'fail' })
 * if (typeof checked === 'string') console.error(checked)
 * ```
 */
export async function checkCheckpoint(entry: LedgerCheckpointEntry, verifier: CheckpointVerifier | undefined): Promise<CheckedCheckpoint | string> {
  const payload = decodeCheckpoint(entry)
  if (payload === undefined) return 'the checkpoint JWS is malformed'
  if (payload.seq !== entry.seq - 1 || payload.head !== entry.prev) {
    return 'the checkpoint signs another position in the chain: it was moved or copied'
  }
  if (payload.v === 2 && (payload.adopted.to !== payload.seq || payload.adopted.from > payload.adopted.to)) {
    return 'the checkpoint adopts a range that does not end at the entry before it'
  }
  if (verifier === undefined) return { payload, verified: false }
  let header: ReturnType<typeof decodeProtectedHeader> | undefined
  try {
    header = decodeProtectedHeader(entry.jws)
  } catch {
    header = undefined
  }
  const ours = header?.kid === verifier.kid
  if (verifier.otherKeys === 'unsigned' && !ours) return { payload, verified: false }
  if (header === undefined) return 'the checkpoint JWS header is malformed'
  if (header.alg !== 'EdDSA' || header.typ !== CHECKPOINT_TYP) {
    return 'the checkpoint JWS is not an airlock EdDSA checkpoint'
  }
  try {
    await compactVerify(entry.jws, verifier.key, { algorithms: ['EdDSA'] })
  } catch {
    if (ours) return `the checkpoint names key ${verifier.kid}, but its signature does not verify with that key: it was forged or altered`
    return typeof header.kid === 'string'
      ? `the checkpoint was signed by key ${escapeControl(header.kid)}, not by the given public key ${verifier.kid}`
      : 'the checkpoint signature does not verify with the given public key'
  }
  return { payload, verified: true }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The checkpoint's payload, read without checking the signature. */
function decodeCheckpoint(entry: LedgerCheckpointEntry): CheckpointPayload | undefined {
  try {
    const encoded = entry.jws.split('.')[1]!
    const parsed = payloadSchema.safeParse(JSON.parse(utf8.decode(Buffer.from(encoded, 'base64url'))))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

/**
 * An adoption in words, as reports and the CLI print it.
 *
 * @example
 * ```ts
 * describeAdoption({ from: 5, to: 9, bySeq: 10 })   // 'entries 5–9 were not signed by their writer; adopted at seq 10'
 * describeAdoption({ from: 5, to: 5, bySeq: 6 })    // 'entry 5 was not signed by its writer; adopted at seq 6'
 * ```
 */
export function describeAdoption(adoption: LedgerAdoption): string {
  const { from, to, bySeq } = adoption
  return from === to
    ? `entry ${from} was not signed by its writer; adopted at seq ${bySeq}`
    : `entries ${from}–${to} were not signed by their writer; adopted at seq ${bySeq}`
}
