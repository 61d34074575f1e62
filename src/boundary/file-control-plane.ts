import { mkdirSync, openSync, writeSync, fdatasyncSync, closeSync } from 'node:fs'
import { dirname } from 'node:path'
import { ClosedError, InvalidArgumentError } from '../errors.js'
import type { ControlPlane, DeliveryListener } from './control-plane.js'
import type { OutboundEvent } from './events.js'

/**
 * A control plane that is an NDJSON file: one event per line, appended in
 * order and synced to disk before `send` resolves. The embedded default for
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
  #fd: number | undefined
  #listener: DeliveryListener | undefined

  constructor(options: { path: string }) {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new InvalidArgumentError('FileControlPlane needs { path } of the NDJSON file to append to')
    }
    this.path = options.path
    // What the control plane saw is audit material: the directories made for it are the owner's only.
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 })
    this.#fd = openSync(this.path, 'a', 0o600)
  }

  send(batch: readonly OutboundEvent[]): Promise<void> {
    const fd = this.#fd
    if (fd === undefined) return Promise.reject(new ClosedError('FileControlPlane is closed'))
    if (batch.length === 0) return Promise.resolve()
    let text = ''
    for (const event of batch) text += JSON.stringify(event) + '\n'
    writeSync(fd, text)
    fdatasyncSync(fd)
    this.#listener?.({ eventIds: batch.map((e) => e.id), status: 'delivered' })
    return Promise.resolve()
  }

  flush(): Promise<void> {
    return Promise.resolve()
  }

  close(): Promise<void> {
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
    return Promise.resolve()
  }

  onDelivery(listener: DeliveryListener): void {
    this.#listener = listener
  }
}
