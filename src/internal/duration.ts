import { InvalidArgumentError, type AirlockErrorOptions } from '../errors.js'
import { describeType } from './describe-type.js'

/**
 * A length of time: milliseconds as a number, or a string of one number and
 * a unit: `ms`, `s`, `m`, `h` or `d` (`'500ms'`, `'10s'`, `'30m'`, `'1h'`,
 * `'2d'`; a fraction such as `'1.5h'` is allowed).
 *
 * @example
 * ```ts
 * const cacheFor: Duration = '1h'
 * const timeout: Duration = 30_000
 * ```
 */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/

/**
 * The milliseconds of a {@link Duration}. `what` names the option in errors;
 * `about` (the task's name, say) goes on the error, not in its message.
 *
 * @throws {InvalidArgumentError} when the value is not a finite, non-negative number of ms
 *   or a string such as `'10s'`.
 *
 * @example
 * ```ts
 * parseDuration('30m', 'cacheFor') // 1_800_000
 * parseDuration(250, 'timeout')    // 250
 * parseDuration('soon', 'timeout') // throws ERR_INVALID_ARGUMENT
 * ```
 */
export function parseDuration(value: unknown, what: string, about?: AirlockErrorOptions): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value
    throw new InvalidArgumentError(`${what} must be a finite, non-negative number of milliseconds, found ${value}`, about)
  }
  if (typeof value === 'string') {
    const match = DURATION.exec(value.trim())
    if (match !== null) return Number(match[1]) * (UNIT_MS[match[2] as string] as number)
    throw new InvalidArgumentError(
      `${what} must be milliseconds or a duration such as '500ms', '10s', '30m', '1h' or '2d', found ${JSON.stringify(value.slice(0, 40))}`,
      about,
    )
  }
  throw new InvalidArgumentError(`${what} must be milliseconds or a duration such as '10s', found ${describeType(value)}`, about)
}
