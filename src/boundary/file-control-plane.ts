import { mkdirSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ClosedError, InvalidArgumentError } from '../errors.js'
import { assertKnownOptions } from '../internal/known-options.js'
import type { ControlPlane, DeliveryBatch, DeliveryOutcome } from './control-plane.js'

/**
 * A control plane that is an NDJSON file: one event per line (its canonical
 * JSON, byte for byte as the ledger holds it), appended in order and synced
 * to disk before a batch counts as delivered. Delivery is at least once: a
 * batch a crash cut short is written again by the next process, whole, so
 * a reader dedupes by event `id`. The embedded default for
 * the demo, and a simple hand-off to a shipper that tails the file. A file it
 * creates is `0o600`, and directories it creates for it are `0o700`.
 *
 * @example
 * ```ts
 * import { Airlock, FileControlPlane, KeyRing } from 'airlock-sdk'
 *
 * const airlock = new Airlock({
 *   keys: KeyRing.generate(),
 *   controlPlane: new FileControlPlane({ path: '.airlock/control-plane.ndjson' }),
 * })
 * ```
 */
export class FileControlPlane implements ControlPlane {
  /** The file the events are appended to. */
  readonly path: string
  #fd: Promise<FileHandle> | undefined
  #closed = false

  /** @throws {InvalidArgumentError} for a missing path or an unknown option. */
  constructor(options: { path: string }) {
    assertKnownOptions('FileControlPlane', options, ['path'])
    if (typeof options.path !== 'string' || options.path === '') {
      throw new InvalidArgumentError('FileControlPlane needs { path } of the NDJSON file to append to')
    }
    this.path = options.path
    // What the control plane saw is audit material: the directories made for it are the owner's only.
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 })
  }

  async deliver(batch: DeliveryBatch): Promise<DeliveryOutcome> {
    if (this.#closed) throw new ClosedError('FileControlPlane is closed')
    if (batch.lines.length > 0) {
      const fd = await (this.#fd ??= open(this.path, 'a', 0o600))
      await fd.write(batch.lines.join('\n') + '\n')
      await fd.datasync()
    }
    return DELIVERED
  }

  async close(): Promise<void> {
    this.#closed = true
    const fd = this.#fd
    this.#fd = undefined
    if (fd !== undefined) await (await fd).close()
  }
}

const DELIVERED: DeliveryOutcome = Object.freeze({ status: 'delivered', attempt: 1 })
