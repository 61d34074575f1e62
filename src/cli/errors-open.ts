import { KeyRing } from '../crypto/key-ring.js'
import { ValueCipher } from '../crypto/value-cipher.js'
import { KeySetError, SealingKeyPublicOnlyError, UsageError } from '../errors.js'
import { help, type Command } from './cli-io.js'
import { onePositional, parseFlags, stringFlag } from './parse-flags.js'

const verb = 'errors open'

/**
 * `airlock errors open <token> [--keys FILE]`: decrypts an error sent under
 * the `encrypted` exception mode. Only the key holder can.
 */
export const errorsOpen: Command = {
  summary: 'decrypt an error sent under the encrypted exception mode',
  usage: `usage: airlock errors open <token> [--keys FILE]

Decrypts the alkv1. token of a Failed state sent under exceptions.mode
"encrypted", and prints the whole error as JSON. The key set comes from
--keys FILE, else from the AIRLOCK_KEYS environment variable. A token sealed
by a write-only worker opens only with the private key set (the file that
airlock keys generate --sealing writes, not its .worker.json); the worker's
is refused.

Exit 0 when the token opened; 1 when it did not (wrong key, tampered);
2 on bad usage.`,
  async run(args, io) {
    const flags = parseFlags(args, { keys: { type: 'string' } }, verb)
    if (flags.help) return help(io, this.usage)
    const token = onePositional(flags, verb, 'token')
    if (!ValueCipher.isToken(token)) throw new UsageError(`airlock ${verb}: expected a token starting with alkv1.`)
    const keysFile = stringFlag(flags, 'keys')
    if (keysFile === undefined && (io.env.AIRLOCK_KEYS ?? '') === '') {
      throw new UsageError(`airlock ${verb}: no keys: pass --keys FILE (a key set, from airlock keys generate --out FILE) or set AIRLOCK_KEYS`)
    }
    let keys: KeyRing
    try {
      keys = keysFile === undefined ? KeyRing.fromEnv('AIRLOCK_KEYS', io.env) : KeyRing.fromFile(keysFile)
    } catch (err) {
      // The keys are input the user names: a bad key file is a usage error (exit 2), not a token that failed to open.
      if (err instanceof KeySetError) throw new UsageError(`airlock ${verb}: ${keysFile === undefined ? 'AIRLOCK_KEYS' : `--keys ${keysFile}`}: ${err.message}`)
      throw err
    }
    let text: string
    try {
      text = await new ValueCipher(keys).decrypt(token)
    } catch (err) {
      // The wrong key file, not a token that failed: a usage error (exit 2) that says which file to use.
      if (err instanceof SealingKeyPublicOnlyError) throw new UsageError(`airlock ${verb}: ${err.message}`)
      throw err
    }
    try {
      io.stdout.write(JSON.stringify(JSON.parse(text), null, 2) + '\n')
    } catch {
      io.stdout.write(text + '\n')
    }
    return 0
  },
}
