import { escapeControl } from '../audit/ledger-entry.js'
import { verifyLedgerProof } from '../audit/verify-ledger-proof.js'
import { UsageError } from '../errors.js'
import { help, parseJsonFile, readNamedFile, type Command } from './cli-io.js'
import { readPublicKey } from './audit-verify.js'
import { parseFlags, stringFlag } from './parse-flags.js'

const verb = 'audit check-proof'

/** `airlock audit check-proof <proof…> --public-key FILE [--checkpoint FILE]`: checks proofs without the ledger. */
export const auditCheckProof: Command = {
  summary: 'check inclusion and consistency proofs with the public key alone',
  usage: `usage: airlock audit check-proof <proof…> --public-key FILE [--checkpoint FILE]

Checks proofs \`airlock audit prove\` wrote, with the ledger's public key and
nothing else. An inclusion proof holds when its entry is intact, hashes up to
the root of its checkpoint, and the checkpoint is signed by the key; it then
prints the entry. A consistency proof holds when both checkpoints are signed
by the key and the later ledger extends the earlier one.

  --public-key FILE   the ledger signing public key (a JWK)
  --checkpoint FILE   a checkpoint note you already hold (from the control
                      plane's witness, or an earlier proof): the proof's
                      (earlier) checkpoint must be that very one

Exit 0 if every proof holds; exit 1 naming what fails; exit 2 on bad usage.`,
  run(args, io) {
    const flags = parseFlags(args, { 'public-key': { type: 'string' }, checkpoint: { type: 'string' } }, verb)
    if (flags.help) return Promise.resolve(help(io, this.usage))
    if (flags.positionals.length === 0) throw new UsageError(`airlock ${verb}: missing <proof…>; see airlock ${verb} --help`)
    const publicKey = readPublicKey(stringFlag(flags, 'public-key'))
    if (publicKey === undefined) throw new UsageError(`airlock ${verb}: --public-key is required: a proof means nothing without the key that signed its checkpoint`)
    const checkpointFile = stringFlag(flags, 'checkpoint')
    const checkpoint = checkpointFile === undefined ? undefined : readNamedFile(checkpointFile, 'checkpoint')
    let failing = 0
    for (const file of flags.positionals) {
      const proof = parseJsonFile(readNamedFile(file, 'proof'), file, 'proof')
      const result = verifyLedgerProof(proof, { publicKey, ...(checkpoint === undefined ? {} : { checkpoint }) })
      const where = escapeControl(file)
      if (!result.ok) {
        failing++
        io.stdout.write(`proof ${where} does NOT hold: ${escapeControl(result.reason)}\n`)
      } else if (result.type === 'inclusion') {
        io.stdout.write(`proof ${where} holds: entry ${result.entry.seq} is in ${result.origin} at ${result.treeSize} entries, signed by the key\n`)
        io.stdout.write(`  ${escapeControl(JSON.stringify(result.entry))}\n`)
      } else {
        io.stdout.write(`proof ${where} holds: ${result.origin} at ${result.toTreeSize} entries extends its ${result.fromTreeSize} entries, both signed by the key\n`)
      }
    }
    return Promise.resolve(failing === 0 ? 0 : 1)
  },
}
