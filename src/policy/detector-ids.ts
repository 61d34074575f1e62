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
  'aws-secret-access-key',
  'azure-storage-key',
  'azure-client-secret',
  'azure-devops-token',
  'google-oauth-token',
  'gcp-service-account',
  'twilio-key',
  'sendgrid-key',
  'discord-token',
  'mailchimp-key',
  'pypi-token',
  'telegram-bot-token',
  'age-secret-key',
  'base64-private-key',
  'connection-string-password',
  'curl-credentials',
  'netrc-password',
  'us-ssn',
  'phone-number',
  'mac-address',
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
 * The names of the detector packs, in the order they are documented. A
 * policy switches a whole pack with `scrub.packs` (see {@link DETECTOR_PACKS}).
 *
 * @example
 * ```ts
 * import { PACK_IDS } from 'airlock-sdk'
 *
 * definePolicy({ scrub: { packs: { network: false } } }) // ipv4, ipv6 and mac-address off
 * PACK_IDS.includes('pii') // true
 * ```
 */
export const PACK_IDS = ['credentials', 'pii', 'network'] as const

/**
 * One detector pack's name.
 *
 * @example
 * ```ts
 * const pack: PackId = 'credentials'
 * ```
 */
export type PackId = (typeof PACK_IDS)[number]

/**
 * Which pack each detector belongs to; every detector is in exactly one.
 *
 * - `credentials`: keys, tokens, private keys and passwords, in whatever
 *   form text carries them (vendor formats, assignments, headers, URLs,
 *   connection strings, command lines, `.netrc`);
 * - `pii`: what identifies a person (email addresses, payment cards, IBANs,
 *   US SSNs, phone numbers, the user name in a home directory);
 * - `network`: what identifies a machine (IPv4, IPv6 and MAC addresses).
 *
 * @example
 * ```ts
 * import { DETECTOR_PACKS } from 'airlock-sdk'
 *
 * DETECTOR_PACKS.network // ['ipv4', 'ipv6', 'mac-address']
 * ```
 */
export const DETECTOR_PACKS: Readonly<Record<PackId, readonly DetectorId[]>> = Object.freeze({
  credentials: Object.freeze([
    'aws-access-key-id',
    'aws-secret-access-key',
    'github-token',
    'slack-token',
    'slack-webhook',
    'stripe-key',
    'google-api-key',
    'google-oauth-token',
    'gcp-service-account',
    'openai-key',
    'anthropic-key',
    'npm-token',
    'gitlab-token',
    'azure-storage-key',
    'azure-client-secret',
    'azure-devops-token',
    'twilio-key',
    'sendgrid-key',
    'discord-token',
    'mailchimp-key',
    'pypi-token',
    'telegram-bot-token',
    'pem-private-key',
    'base64-private-key',
    'age-secret-key',
    'jwt',
    'url-credentials',
    'authorization-header',
    'secret-assignment',
    'connection-string-password',
    'curl-credentials',
    'netrc-password',
  ] as const),
  pii: Object.freeze(['email', 'credit-card', 'iban', 'us-ssn', 'phone-number', 'home-path'] as const),
  network: Object.freeze(['ipv4', 'ipv6', 'mac-address'] as const),
})

const PACK_OF: ReadonlyMap<DetectorId, PackId> = new Map(
  PACK_IDS.flatMap((pack) => DETECTOR_PACKS[pack].map((id) => [id, pack] as const)),
)

/**
 * The pack a detector belongs to.
 *
 * @example
 * ```ts
 * packOf('email') // 'pii'
 * packOf('jwt')   // 'credentials'
 * ```
 */
export function packOf(id: DetectorId): PackId {
  return PACK_OF.get(id)!
}

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
  'pwd',
  'passphrase',
  'account_key',
  'otp',
  'two_factor',
] as const
