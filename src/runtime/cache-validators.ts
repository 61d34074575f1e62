import { InvalidArgumentError } from '../errors.js'
import { describeType } from '../internal/describe-type.js'

/**
 * What a {@link CacheValidator} looks at: the task run's named inputs and
 * its flow run's parameters.
 *
 * `inputs` names the task's arguments: when the task is called with one
 * plain-object argument (`load({ region, day })`), its properties; otherwise
 * the arguments by position, `'0'`, `'1'`, ...
 *
 * @example
 * ```ts
 * const byRegionAndDay: CacheValidator = {
 *   name: 'byRegionAndDay',
 *   select: ({ inputs, parameters }: CacheSubject) => [inputs.region, parameters.day],
 * }
 * ```
 */
export interface CacheSubject {
  readonly inputs: Readonly<Record<string, unknown>>
  readonly parameters: Readonly<Record<string, unknown>>
}

/**
 * Decides which cached value a task run may use. A cache entry lives for
 * the task's `cacheFor`; within that time, a run uses the entry written for
 * the same *material*: the part of the inputs and parameters the validator
 * selects. `select` returns that material, or {@link NEVER_USE} for a run
 * that must neither read nor write the cache.
 *
 * Material is fingerprinted (a keyed hash of its canonical text), so an
 * entry is found with one lookup, not a comparison against every entry.
 *
 * @example
 * ```ts
 * const byRegion: CacheValidator = {
 *   name: 'byRegion',
 *   select: ({ inputs }) => inputs.region,
 * }
 * ```
 */
export interface CacheValidator {
  /** A stable name; part of the cache's key material, so two validators never share entries. */
  readonly name: string
  /** The material a cached value must have been written for; {@link NEVER_USE} to bypass the cache. */
  select(subject: CacheSubject): unknown
}

/**
 * What {@link CacheValidator.select} returns to bypass the cache.
 *
 * @example
 * ```ts
 * const offOnMondays: CacheValidator = { name: 'offOnMondays', select: () => (new Date().getDay() === 1 ? NEVER_USE : null) }
 * ```
 */
export const NEVER_USE: unique symbol = Symbol('airlock.cache.neverUse')

/**
 * The built-in cache validators:
 *
 * | validator | a cached value is used when it was written within `cacheFor` and |
 * |---|---|
 * | `durationOnly` (the default) | always |
 * | `allInputs` | the task's inputs were equal |
 * | `allParameters` | the flow run's parameters were equal |
 * | `partialInputsOnly(keys)` | the named inputs were equal |
 * | `partialParametersOnly(keys)` | the named parameters were equal |
 * | `neverUse` | never; nothing is read from or written to the cache |
 *
 * "Equal" means equal canonical text (see the runtime docs): key order does
 * not matter, types do.
 *
 * @example
 * ```ts
 * import { cacheValidators } from 'airlock-sdk'
 *
 * airlock.task(load, { name: 'load', cacheFor: '1h', cacheValidator: cacheValidators.partialInputsOnly(['region']) })
 * ```
 */
export const cacheValidators = Object.freeze({
  durationOnly: validator('durationOnly', () => null),
  allInputs: validator('allInputs', ({ inputs }) => inputs),
  allParameters: validator('allParameters', ({ parameters }) => parameters),
  /**
   * Compares only the named inputs: property names of a single object
   * argument, or positions (`0`, `'1'`) of positional arguments.
   */
  partialInputsOnly(keys: readonly (string | number)[]): CacheValidator {
    const names = checkKeys(keys, 'partialInputsOnly')
    return validator(`partialInputsOnly(${JSON.stringify(names)})`, ({ inputs }) => pick(inputs, names))
  },
  /** Compares only the named top-level parameters. */
  partialParametersOnly(keys: readonly string[]): CacheValidator {
    const names = checkKeys(keys, 'partialParametersOnly')
    return validator(`partialParametersOnly(${JSON.stringify(names)})`, ({ parameters }) => pick(parameters, names))
  },
  neverUse: validator('neverUse', () => NEVER_USE),
})

/**
 * Whether a value is a {@link CacheValidator}.
 *
 * @example
 * ```ts
 * isCacheValidator(cacheValidators.allInputs) // true
 * ```
 */
export function isCacheValidator(value: unknown): value is CacheValidator {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CacheValidator).name === 'string' &&
    (value as CacheValidator).name !== '' &&
    typeof (value as CacheValidator).select === 'function'
  )
}

function validator(name: string, select: (subject: CacheSubject) => unknown): CacheValidator {
  return Object.freeze({ name, select })
}

function checkKeys(keys: readonly (string | number)[], what: string): string[] {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new InvalidArgumentError(`cacheValidators.${what} needs a non-empty array of keys, found ${describeType(keys)}`)
  }
  const names = keys.map((key: unknown) => {
    if (typeof key === 'number' && Number.isInteger(key) && key >= 0) return String(key)
    if (typeof key === 'string' && key !== '') return key
    throw new InvalidArgumentError(`cacheValidators.${what} takes non-empty strings or argument positions, found ${describeType(key)}`)
  })
  // Sorted and deduplicated, so the same keys in another order share entries.
  return [...new Set(names)].sort()
}

function pick(source: Readonly<Record<string, unknown>>, names: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {}
  for (const name of names) picked[name] = Object.hasOwn(source, name) ? source[name] : undefined
  return picked
}
