import type { LogLevel } from './schema.js'

/**
 * pino's numeric value of each standard level.
 *
 * @example
 * ```ts
 * LEVEL_VALUES.warn // 40
 * ```
 */
export const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = Object.freeze({
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
})

/**
 * The standard level a pino level number counts as: the highest one at or
 * below it, so a custom level (35) ships as the level it outranks (`info`).
 * `undefined` below `trace`.
 *
 * @example
 * ```ts
 * levelOfValue(40) // 'warn'
 * levelOfValue(35) // 'info'
 * levelOfValue(5)  // undefined
 * ```
 */
export function levelOfValue(value: number): LogLevel | undefined {
  if (value >= 60) return 'fatal'
  if (value >= 50) return 'error'
  if (value >= 40) return 'warn'
  if (value >= 30) return 'info'
  if (value >= 20) return 'debug'
  if (value >= 10) return 'trace'
  return undefined
}
