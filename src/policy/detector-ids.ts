/**
 * The stable ids of the built-in detectors, in the order they are documented.
 * The policy names detectors by these ids; `src/scrub` implements one
 * detector per id. An id is never renamed or reused.
 *
 * @example
 * ```ts
 * import { DETECTOR_IDS } from 'airlock-sdk'
 *
 * definePolicy({ scrub: { detectors: { email: false, ipv4: 'hash' } } })
 * DETECTOR_IDS.includes('jwt') // true
 * ```
 */
export const DETECTOR_IDS = [
  'aws-access-key-id',
  'github-token',
  'slack-token',
  'slack-webhook',
  'stripe-key',
  'google-api-key',
  'openai-key',
  'anthropic-key',
  'npm-token',
  'gitlab-token',
  'pem-private-key',
  'jwt',
  'url-credentials',
  'email',
  'credit-card',
  'iban',
  'ipv4',
  'ipv6',
  'home-path',
  'authorization-header',
  'secret-assignment',
] as const

/**
 * One built-in detector's id.
 *
 * @example
 * ```ts
 * const enabled: DetectorId[] = DETECTOR_IDS.filter((id) => policy.scrub.detectors[id] !== false)
 * ```
 */
export type DetectorId = (typeof DETECTOR_IDS)[number]

/**
 * The default sensitive key names: a value under one of these keys is
 * redacted whole, at any depth. Matching ignores case and separators
 * (`apiKey`, `API-KEY` and `api_key` all match `api_key`).
 *
 * @example
 * ```ts
 * import { DEFAULT_SENSITIVE_KEYS } from 'airlock-sdk'
 * DEFAULT_SENSITIVE_KEYS.includes('password') // true
 * ```
 */
export const DEFAULT_SENSITIVE_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'api_key',
  'apikey',
  'access_key',
  'private_key',
  'authorization',
  'auth',
  'credentials',
  'connection_string',
  'dsn',
  'cookie',
  'session',
] as const
