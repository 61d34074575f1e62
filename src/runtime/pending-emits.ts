/**
 * Counts the events of one run still on their way through `emit`, so the
 * run can wait for all of them at its end without a task ever waiting for
 * its own. Two handlers per run, bound once: tracking an emit allocates no
 * closure. Internal to src/runtime.
 *
 * @example
 * ```ts
 * const pending = new PendingEmits()
 * pending.track(airlock.emit(event))
 * await pending.settled()   // every tracked emit ledgered and sent; rethrows the first that failed
 * ```
 */
export class PendingEmits {
  #count = 0
  #error: { readonly reason: unknown } | undefined
  #idle: Promise<void> | undefined
  #resolveIdle: (() => void) | undefined

  readonly #sent = (): void => {
    if (--this.#count > 0) return
    const resolve = this.#resolveIdle
    this.#idle = this.#resolveIdle = undefined
    resolve?.()
  }

  readonly #failed = (reason: unknown): void => {
    this.#error ??= { reason }
    this.#sent()
  }

  /** Follows one emit. */
  track(sent: Promise<unknown>): void {
    this.#count++
    sent.then(this.#sent, this.#failed)
  }

  /** Resolves once no tracked emit is on its way; rejects with the first one that failed. */
  async settled(): Promise<void> {
    if (this.#count > 0) {
      this.#idle ??= new Promise<void>((resolve) => (this.#resolveIdle = resolve))
      await this.#idle
    }
    if (this.#error !== undefined) throw this.#error.reason as Error
  }
}
