import { writeFile } from 'node:fs/promises'
import { proveLedgerConsistency } from '../audit/prove-ledger-consistency.js'
import { proveLedgerInclusion } from '../audit/prove-ledger-inclusion.js'
import { UsageError } from '../errors.js'
import { help, type Command } from './cli-io.js'
import { onePositional, parseFlags, stringFlag } from './parse-flags.js'

const verb = 'audit prove'

/**
 * `airlock audit prove <ledger> --seq N | --from SIZE [--size SIZE] [--out FILE]`:
 * an inclusion proof of one entry, or a consistency proof between two
 * checkpoints, as JSON.
 */
export const auditProve: Command = {
  summary: 'prove one entry is in a ledger, or that a ledger extends an earlier checkpoint',
  usage: `usage: airlock audit prove <ledger> --seq N [--size SIZE] [--out FILE]
       airlock audit prove <ledger> --from SIZE [--size SIZE] [--out FILE]

Writes a proof that whoever holds the ledger's public key checks with
\`airlock audit check-proof\`, without the ledger:

  --seq N       an inclusion proof: entry N, its RFC 9162 audit path and the
                signed checkpoint it hashes up to. It shows that entry alone;
                the others appear only as hashes.
  --from SIZE   a consistency proof: the ledger at its later checkpoint extends
                the ledger at the checkpoint of SIZE entries, unchanged.
  --size SIZE   the (later) checkpoint, by the entries it covers; default the
                ledger's last checkpoint.
  --out FILE    write the proof to FILE (refuses to overwrite) instead of stdout.

Proofs cost O(log n) reads of an index kept next to the ledger
(<ledger>.tree); the first proof builds it in one pass over the ledger.
Exit 0 with the proof; exit 1 when the ledger does not match its checkpoints;
exit 2 on bad usage.`,
  async run(args, io) {
    const flags = parseFlags(args, { seq: { type: 'string' }, from: { type: 'string' }, size: { type: 'string' }, out: { type: 'string' } }, verb)
    if (flags.help) return help(io, this.usage)
    const ledger = onePositional(flags, verb, 'ledger')
    const seq = count(flags, 'seq')
    const from = count(flags, 'from')
    const size = count(flags, 'size')
    if ((seq === undefined) === (from === undefined)) throw new UsageError(`airlock ${verb}: give exactly one of --seq and --from; see airlock ${verb} --help`)
    const proof =
      seq !== undefined
        ? await proveLedgerInclusion(ledger, { seq, ...(size === undefined ? {} : { treeSize: size }) })
        : await proveLedgerConsistency(ledger, { fromTreeSize: from!, ...(size === undefined ? {} : { toTreeSize: size }) })
    const text = JSON.stringify(proof, null, 2) + '\n'
    const out = stringFlag(flags, 'out')
    if (out === undefined) {
      io.stdout.write(text)
      return 0
    }
    try {
      await writeFile(out, text, { flag: 'wx' })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new UsageError(code === 'EEXIST' ? `${out} exists; refusing to overwrite it` : `cannot write ${out}: ${code ?? 'error'}`)
    }
    io.stdout.write(`${proof.type === 'airlock-ledger-inclusion-proof' ? `inclusion proof of entry ${seq}` : `consistency proof from ${from} entries`} written to ${out}\n`)
    return 0
  },
}

function count(flags: ReturnType<typeof parseFlags>, name: string): number | undefined {
  const value = stringFlag(flags, name)
  if (value === undefined) return undefined
  if (!/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`airlock ${verb}: --${name} must be a positive integer; see airlock ${verb} --help`)
  }
  return Number(value)
}
