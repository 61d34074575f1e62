import { createHash } from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { z } from 'zod'
import { DeliveryError } from '../errors.js'
import { syncDirectory } from '../internal/durable-file.js'

/**
 * How far delivery from a ledger has come: the last event the control
 * plane acknowledged (or rejected for good), where its line ends in the
 * ledger file and its entry hash (so reading on from there can check the
 * chain), and the batch in flight, if any, so that a process resuming after
 * a crash sends exactly that batch again, under the same idempotency key.
 *
 * @example
 * ```ts
 * const position: DeliveryPosition = { delivered: 41, offset: 18_233, hash: 'a3f0…', inflight: { from: 42, to: 57, key: 'alb1.…' } }
 * ```
 */
export interface DeliveryPosition {
  /** The seq of the last entry delivery is done with; 0 when none. */
  readonly delivered: number
  /** The byte offset just past that entry's line; 0 when none. */
  readonly offset: number
  /** That entry's hash: the `prev` the next entry must carry. */
  readonly hash: string
  /** The batch sent and not yet answered: seqs `from` to `to` of the ledger, and its idempotency key. */
  readonly inflight: { readonly from: number; readonly to: number; readonly key: string } | null
}

const SLOT_BYTES = 512
const FORMAT_VERSION = 1
const HEX64 = /^[0-9a-f]{64}$/

const slotSchema = z.strictObject({
  v: z.literal(FORMAT_VERSION),
  n: z.number().int().min(1),
  delivered: z.number().int().min(0),
  offset: z.number().int().min(0),
  hash: z.string().regex(HEX64),
  inflight: z
    .strictObject({
      from: z.number().int().min(1),
      to: z.number().int().min(1),
      key: z.string().min(1).max(100),
    })
    .nullable(),
  sum: z.string().regex(HEX64),
})

/**
 * The delivery cursor kept next to a ledger (`<ledger>.cursor`): the ledger
 * is the outbox, and this small file says how far delivery has come, so
 * nothing about delivery is held only in memory.
 *
 * Format, version 1: two slots of 512 bytes. Each update writes the slot
 * the last update did not, as one line of JSON
 * `{"v":1,"n":<update number>,"delivered":…,"offset":…,"hash":"…","inflight":…|null,"sum":"<hex SHA-256 of the same JSON without sum>"}`
 * padded with spaces, then syncs it; reading takes the slot with the higher
 * `n` whose `sum` checks. A write torn by a crash damages only the slot
 * being written, so the other still holds the position before it: one
 * write and one sync per update, a file that never grows.
 *
 * @example
 * ```ts
 * const cursor = await DeliveryCursor.open('audit/ledger.ndjson.cursor')
 * cursor.position              // where delivery stopped last time
 * await cursor.write({ ...cursor.position, inflight: { from: 1, to: 20, key } })
 * ```
 */
export class DeliveryCursor {
  readonly path: string
  readonly #fd: FileHandle
  #n: number
  #position: DeliveryPosition

  private constructor(path: string, fd: FileHandle, n: number, position: DeliveryPosition) {
    this.path = path
    this.#fd = fd
    this.#n = n
    this.#position = position
  }

  /** The last position written. */
  get position(): DeliveryPosition {
    return this.#position
  }

  /**
   * Opens the cursor at `path`, creating it (mode 0600) at `initial` when
   * there is none. `created` says which.
   *
   * @throws {DeliveryError} when the file exists but neither slot holds a valid position, or it cannot be read or created.
   */
  static async open(path: string, initial: DeliveryPosition): Promise<{ cursor: DeliveryCursor; created: boolean }> {
    let fd: FileHandle
    let created = false
    try {
      fd = await open(path, 'r+')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DeliveryError(`cannot open the delivery cursor ${path}`, { cause: err })
      fd = await open(path, 'wx+', 0o600)
      created = true
    }
    try {
      if (created) {
        const cursor = new DeliveryCursor(path, fd, 0, initial)
        await cursor.write(initial)
        await cursor.write(initial)
        await syncDirectory(dirname(path))
        return { cursor, created }
      }
      const slots = await Promise.all([readSlot(fd, 0), readSlot(fd, 1)])
      const best = slots.filter((slot) => slot !== undefined).sort((a, b) => b.n - a.n)[0]
      if (best === undefined) throw new DeliveryError(`the delivery cursor ${path} holds no valid position; remove it only if every event in the ledger was delivered`)
      return { cursor: new DeliveryCursor(path, fd, best.n, best.position), created }
    } catch (err) {
      await fd.close()
      throw err
    }
  }

  /** Writes `position` durably (one write, one sync). */
  async write(position: DeliveryPosition): Promise<void> {
    const n = this.#n + 1
    const body = JSON.stringify({ v: FORMAT_VERSION, n, delivered: position.delivered, offset: position.offset, hash: position.hash, inflight: position.inflight })
    const sum = createHash('sha256').update(body).digest('hex')
    const line = `${body.slice(0, -1)},"sum":"${sum}"}\n`
    if (Buffer.byteLength(line) > SLOT_BYTES) throw new DeliveryError('a delivery position does not fit its slot')
    const slot = Buffer.alloc(SLOT_BYTES, 0x20)
    slot.write(line, 0, 'utf8')
    await this.#fd.write(slot, 0, SLOT_BYTES, (n % 2) * SLOT_BYTES)
    await this.#fd.datasync()
    this.#n = n
    this.#position = position
  }

  async close(): Promise<void> {
    await this.#fd.close()
  }
}

async function readSlot(fd: FileHandle, index: number): Promise<{ n: number; position: DeliveryPosition } | undefined> {
  const buffer = Buffer.alloc(SLOT_BYTES)
  const { bytesRead } = await fd.read(buffer, 0, SLOT_BYTES, index * SLOT_BYTES)
  const text = buffer.subarray(0, bytesRead).toString('utf8').trim()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  const slot = slotSchema.safeParse(parsed)
  if (!slot.success) return undefined
  const { sum, ...rest } = slot.data
  if (createHash('sha256').update(JSON.stringify(rest)).digest('hex') !== sum) return undefined
  return { n: rest.n, position: { delivered: rest.delivered, offset: rest.offset, hash: rest.hash, inflight: rest.inflight } }
}
