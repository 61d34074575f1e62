// airlock-sdk/crypto: keys, token and payload ciphers, fingerprints, secrets.
// The root export keeps KeyRing; everything here is importable from this subpath.

export { KeyRing, type KeyInfo, type KeyKind, type KeySet, type KeyStatus, type SealingKeyEntry, type SymmetricKeyEntry } from './key-ring.js'
export { LocationCipher } from './location-cipher.js'
export { ValueCipher } from './value-cipher.js'
export type { TokenBinding } from './token-cipher.js'
export { Fingerprinter } from './fingerprinter.js'
export { PayloadCipher } from './payload-cipher.js'
export { REDACTED } from './redacted.js'
export {
  Secret,
  SecretProvider,
  EnvSecretProvider,
  FileSecretProvider,
  MemorySecretProvider,
  RESOLVED_SECRETS_WARNING,
  type SecretListener,
} from './secret.js'
