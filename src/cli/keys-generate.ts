import { writeFile } from 'node:fs/promises'
import { generateLedgerSigningKey } from '../audit/ledger-signing-key.js'
import { KeyRing } from '../crypto/key-ring.js'
import { UsageError } from '../errors.js'
import { help, type Command } from './cli-io.js'
import { parseFlags, stringFlag } from './parse-flags.js'

const verb = 'keys generate'

/**
 * `airlock keys generate [--out FILE] [--ledger-key FILE]`: a new key set, and
 * optionally an Ed25519 ledger signing key pair.
 */
export const keysGenerate: Command = {
  summary: 'generate a key set (and, optionally, a ledger signing key pair)',
  usage: `usage: airlock keys generate [--out FILE] [--ledger-key FILE]

Generates a key set with one active 256-bit key, in the JSON format that
KeyRing.fromFile and AIRLOCK_KEYS read. Without --out it is printed to stdout;
treat it as a secret.

  --out FILE          write the key set to FILE (mode 0600; refuses to overwrite)
  --ledger-key FILE   also write an Ed25519 ledger signing key to FILE (private,
                      mode 0600) and its public half to FILE.pub.json, which
                      \`airlock audit verify --public-key\` takes`,
  async run(args, io) {
    const flags = parseFlags(args, { out: { type: 'string' }, 'ledger-key': { type: 'string' } }, verb)
    if (flags.help) return help(io, this.usage)
    if (flags.positionals.length > 0) throw new UsageError(`airlock ${verb}: takes no arguments; see airlock ${verb} --help`)
    const keys = KeyRing.generate()
    const keySet = JSON.stringify(keys.export(), null, 2) + '\n'
    const out = stringFlag(flags, 'out')
    if (out === undefined) {
      io.stdout.write(keySet)
    } else {
      await writeSecretFile(out, keySet)
      io.stdout.write(`key set written to ${out} (active kid ${keys.activeKid})\n`)
    }
    const ledgerKey = stringFlag(flags, 'ledger-key')
    if (ledgerKey !== undefined) {
      const pair = await generateLedgerSigningKey()
      await writeSecretFile(ledgerKey, JSON.stringify(pair.privateKey, null, 2) + '\n')
      await writeFile(`${ledgerKey}.pub.json`, JSON.stringify(pair.publicKey, null, 2) + '\n', { flag: 'wx' })
      io.stdout.write(`ledger signing key written to ${ledgerKey}, public key to ${ledgerKey}.pub.json\n`)
    }
    return 0
  },
}

async function writeSecretFile(path: string, text: string): Promise<void> {
  try {
    // wx: never overwrite a key file; losing a key strands everything it encrypted.
    await writeFile(path, text, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new UsageError(code === 'EEXIST' ? `${path} exists; refusing to overwrite a key file` : `cannot write ${path}: ${code ?? 'error'}`)
  }
}
