import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { StorageError } from '../errors.js'
import { noteSignedBy, parseCheckpointNote } from './checkpoint-note.js'
import { toVerifyKey, type LedgerKeyInput } from './ledger-signing-key.js'

/**
 * The heads of ledgers a witness (the control plane) received, each signed
 * by the ledger key: for each ledger origin, the tree sizes and roots it saw.
 * `verifyLedger` checks a ledger against its origin's heads, so a ledger
 * rewritten, cut short, or missing later runs fails even when whoever did
 * it holds the signing key.
 *
 * @example
 * ```ts
 * const witness: LedgerWitness = await readLedgerWitness('control-plane/events.ndjson', { publicKey })
 * for (const [origin, heads] of witness.heads) console.log(origin, heads.length)
 * ```
 */
export interface LedgerWitness {
  /** Heads by ledger origin, in the order received. */
  readonly heads: ReadonlyMap<string, readonly { readonly size: number; readonly root: Buffer }[]>
  /** Lines the witness holds that are not checkable heads signed by the key: each one is a finding. */
  readonly problems: readonly string[]
  /** How many signed heads were read. */
  readonly count: number
}

/** The event kind that carries a checkpoint to the control plane. */
export const LEDGER_CHECKPOINT_EVENT = 'ledger-checkpoint'
const PROBLEM_LIMIT = 100

/**
 * Reads a witness: the events a control plane received, one JSON event a
 * line (a `FileControlPlane` file, or an export in the same NDJSON form).
 * Only `ledger-checkpoint` events are read; their signed notes are checked
 * with `publicKey`, and must agree with the event's `origin`, `treeSize` and
 * `rootHash`. A line that is not JSON, or a head that is malformed or not
 * signed by the key, is listed in `problems`: a witness that cannot be read
 * whole proves less than it seems to.
 *
 * @throws {StorageError} when the file cannot be read.
 * @throws {InvalidArgumentError} when `publicKey` is not an Ed25519 public key.
 *
 * @example
 * ```ts
 * import { readLedgerWitness, verifyLedger } from 'airlock-sdk'
 *
 * const witness = await readLedgerWitness('control-plane/events.ndjson', { publicKey })
 * const result = await verifyLedger('audit/ledger.ndjson', { publicKey, witness })
 * ```
 */
export async function readLedgerWitness(path: string, options: { publicKey: LedgerKeyInput }): Promise<LedgerWitness> {
  const key = toVerifyKey(options.publicKey)
  const heads = new Map<string, { size: number; root: Buffer }[]>()
  const problems: string[] = []
  const problem = (text: string): void => {
    if (problems.length < PROBLEM_LIMIT) problems.push(text)
  }
  let count = 0
  let number = 0
  const stream = createReadStream(path, { encoding: 'utf8' })
  try {
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      number++
      if (line === '') continue
      let event: unknown
      try {
        event = JSON.parse(line)
      } catch {
        problem(`witness line ${number} is not JSON`)
        continue
      }
      if (typeof event !== 'object' || event === null || (event as { kind?: unknown }).kind !== LEDGER_CHECKPOINT_EVENT) continue
      const { checkpoint, origin, treeSize, rootHash } = event as Record<string, unknown>
      const note = typeof checkpoint === 'string' ? parseCheckpointNote(checkpoint) : 'it has no checkpoint note'
      if (typeof note === 'string') {
        problem(`witness line ${number}: ${note}`)
        continue
      }
      if (note.origin !== origin || note.size !== treeSize || note.root.toString('hex') !== rootHash) {
        problem(`witness line ${number}: the event's origin, treeSize or rootHash disagree with its signed note`)
        continue
      }
      if (noteSignedBy(note, key) !== 'verified') {
        problem(`witness line ${number}: the head of ${note.size} entries is not signed by the given public key`)
        continue
      }
      let list = heads.get(note.origin)
      if (list === undefined) heads.set(note.origin, (list = []))
      list.push({ size: note.size, root: note.root })
      count++
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new StorageError(`cannot read the witness ${path}${code === undefined ? '' : ` (${code})`}`, { cause: err })
  } finally {
    stream.destroy()
  }
  return { heads, problems, count }
}
