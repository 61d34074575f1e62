import { rm, writeFile } from 'node:fs/promises'
import { generateLedgerSigningKey } from '../audit/ledger-signing-key.js'
import { KeyRing } from '../crypto/key-ring.js'
import { UsageError } from '../errors.js'
import { help, type Command } from './cli-io.js'
import { parseFlags, stringFlag } from './parse-flags.js'

const verb = 'keys generate'

/**
 * `airlock keys generate [--sealing] [--out FILE] [--ledger-key FILE]`: a new
 * key set (with `--sealing`, a private one and a worker's public-only one),
 * and optionally an Ed25519 ledger signing key pair.
 */
export const keysGenerate: Command = {
  summary: 'generate a key set (and, optionally, a ledger signing key pair)',
  usage: `usage: airlock keys generate [--sealing] [--out FILE] [--ledger-key FILE]

Generates a key set with one active 256-bit key, in the JSON format that
KeyRing.fromFile and AIRLOCK_KEYS read. Without --out it is printed to stdout;
treat it as a secret.

  --sealing           write-only workers: generate an X25519 sealing key pair
                      instead, written as two key sets (needs --out): FILE, the
                      private set, for auditors, airlock errors open and the
                      codec server; and FILE.worker.json, the public-only set
                      for workers, which encrypt with it and cannot decrypt.
                      Both hold the fingerprint secret: keep both secret.
  --out FILE          write the key set to FILE (mode 0600; refuses to overwrite)
  --ledger-key FILE   also write an Ed25519 ledger signing key to FILE (private,
                      mode 0600) and its public half to FILE.pub.json, which
                      \`airlock audit verify --public-key\` takes`,
  async run(args, io) {
    const flags = parseFlags(args, { out: { type: 'string' }, 'ledger-key': { type: 'string' }, sealing: { type: 'boolean' } }, verb)
    if (flags.help) return help(io, this.usage)
    if (flags.positionals.length > 0) throw new UsageError(`airlock ${verb}: takes no arguments; see airlock ${verb} --help`)
    const sealing = flags.values.sealing === true
    const keys = sealing ? KeyRing.generateSealing() : KeyRing.generate()
    const keySet = JSON.stringify(keys.export(), null, 2) + '\n'
    const out = stringFlag(flags, 'out')
    if (sealing) {
      // Two files cannot share stdout, and the private one must never land on a worker by accident.
      if (out === undefined) throw new UsageError(`airlock ${verb}: --sealing writes two key sets; pass --out FILE`)
      const workerFile = `${out}${WORKER_SUFFIX}`
      await writeSecretFile(out, keySet)
      try {
        await writeSecretFile(workerFile, JSON.stringify(keys.toPublic().export(), null, 2) + '\n')
      } catch (err) {
        // Both files or neither: a private key set without its worker set is half a key pair nobody can use yet.
        await rm(out, { force: true })
        throw err
      }
      io.stdout.write(
        `private key set written to ${out} (auditors, airlock errors open, the codec server; active kid ${keys.activeKid})\n` +
          `worker key set written to ${workerFile} (public only: workers encrypt with it and cannot decrypt)\n`,
      )
    } else if (out === undefined) {
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

/** What `--sealing --out FILE` appends to FILE for the workers' public-only key set. */
const WORKER_SUFFIX = '.worker.json'

async function writeSecretFile(path: string, text: string): Promise<void> {
  try {
    // wx: never overwrite a key file; losing a key strands everything it encrypted.
    await writeFile(path, text, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new UsageError(code === 'EEXIST' ? `${path} exists; refusing to overwrite a key file` : `cannot write ${path}: ${code ?? 'error'}`)
  }
}
