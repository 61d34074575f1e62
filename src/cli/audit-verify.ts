import { existsSync } from 'node:fs'
import { describeAdoption } from '../audit/ledger-checkpoint.js'
import { PROGRESS_EVERY, verifyLedger } from '../audit/verify-ledger.js'
import { escapeControl } from '../audit/ledger-entry.js'
import { UsageError } from '../errors.js'
import { help, parseJsonFile, readNamedFile, type Command } from './cli-io.js'
import { onePositional, parseFlags, stringFlag } from './parse-flags.js'

const verb = 'audit verify'

/**
 * `airlock audit verify <ledger> [--public-key FILE]`: exit 0 if the ledger is
 * intact, else exit 1 naming the first bad seq, or saying it is empty.
 * Adopted entries are listed. Progress goes to stderr on a TTY.
 */
export const auditVerify: Command = {
  summary: 'check a ledger\'s hash chain (and signatures, with --public-key)',
  usage: `usage: airlock audit verify <ledger> [--public-key FILE]

Checks every entry of the ledger: its hash, its link to the entry before, its
seq, and with --public-key the signed checkpoints, including the closing one
that proves nothing was cut from the end. Without --public-key only accidental
damage is found: the hash chain uses no secret, so whoever can write the file
can edit it and recompute every hash. Entries a writer adopted (its
predecessor stopped without closing the ledger) are listed.

  --public-key FILE   the ledger signing public key (a JWK, from keys generate --ledger)

Exit 0 if intact; exit 1 naming the first bad entry, or when the ledger is
empty (it proves nothing); exit 2 on bad usage.`,
  async run(args, io) {
    const flags = parseFlags(args, { 'public-key': { type: 'string' } }, verb)
    if (flags.help) return help(io, this.usage)
    const path = onePositional(flags, verb, 'ledger')
    if (!existsSync(path)) throw new UsageError(`airlock ${verb}: no ledger at ${path}`)
    const publicKey = readPublicKey(stringFlag(flags, 'public-key'))
    const progress = io.stderr.isTTY === true
    const result = await verifyLedger(path, {
      ...(publicKey === undefined ? {} : { publicKey }),
      ...(progress ? { onProgress: (n: number) => io.stderr.write(`\rverified ${n.toLocaleString('en')} entries…`) } : {}),
    })
    if (progress && result.entries >= PROGRESS_EVERY) io.stderr.write('\n')
    const where = escapeControl(path)
    if (result.ok) {
      const signed = result.signaturesChecked
        ? `, ${result.checkpoints} signed checkpoints verified`
        : ', signatures not checked (no --public-key): only accidental damage is detected'
      io.stdout.write(`ledger ${where} is intact: ${result.entries} entries${signed}\n`)
      for (const adoption of result.adopted) io.stdout.write(`  adopted: ${describeAdoption(adoption)}\n`)
      if (result.adoptions > result.adopted.length) io.stdout.write(`  … and ${result.adoptions - result.adopted.length} more adoptions\n`)
      return 0
    }
    if (result.empty) {
      io.stdout.write(`ledger ${where} is empty: it holds no entries, so it shows nothing about what was sent\n`)
      return 1
    }
    io.stdout.write(`ledger ${where} is NOT intact: first bad entry is seq ${result.firstBadSeq}: ${escapeControl(result.reason)}\n`)
    return 1
  },
}

/** Reads a ledger public key (a JWK file), refusing a private key by mistake. */
export function readPublicKey(path: string | undefined): object | undefined {
  if (path === undefined) return undefined
  const key = parseJsonFile(readNamedFile(path, 'public key'), path, 'public key')
  if (typeof key !== 'object' || key === null) throw new UsageError(`public key ${path} is not a JWK object`)
  if ('d' in key) throw new UsageError(`public key ${path} holds a private key; pass the public half`)
  return key
}
