import { describeAdoption } from '../audit/ledger-checkpoint.js'
import { PROGRESS_EVERY, verifyLedger } from '../audit/verify-ledger.js'
import { escapeControl } from '../audit/ledger-entry.js'
import { readLedgerWitness, type LedgerWitness } from '../audit/ledger-witness.js'
import { StorageError, UsageError } from '../errors.js'
import { ledgerPaths } from './ledger-paths.js'
import { help, parseJsonFile, readNamedFile, type CliIo, type Command } from './cli-io.js'
import { parseFlags, stringFlag } from './parse-flags.js'

const verb = 'audit verify'

/**
 * `airlock audit verify <ledger…> [--public-key FILE]`: exit 0 if every ledger
 * is intact, else exit 1, naming each one's first bad seq, or saying it is
 * empty. Adopted entries are listed. With several ledgers (a directory of
 * them, one per worker) a fleet line sums them up. Progress goes to stderr on a TTY.
 */
export const auditVerify: Command = {
  summary: 'check a ledger\'s hash chain (and signatures, with --public-key)',
  usage: `usage: airlock audit verify <ledger…> [--public-key FILE] [--witness FILE]

<ledger…> is one or more ledger files, or directories of them (their *.ndjson
files: a fleet of workers keeps one ledger each). Checks every entry of each ledger: its hash, its link to the entry before, its
seq, and with --public-key the signed checkpoints, including the closing one
that proves nothing was cut from the end. Without --public-key only accidental
damage is found: the hash chain uses no secret, so whoever can write the file
can edit it and recompute every hash. Entries a writer adopted (its
predecessor stopped without closing the ledger) are listed.

  --public-key FILE   the ledger signing public key (a JWK, from keys generate --ledger)
  --witness FILE      what the control plane received (a FileControlPlane file,
                      or an export in the same NDJSON form): every signed
                      ledger-checkpoint head in it must be matched by a given
                      ledger, its size reached and its root the same. Catches a
                      ledger rewritten, cut short or missing later runs, or
                      missing altogether, even by someone holding the signing
                      key. Needs --public-key.

Exit 0 if every ledger is intact; exit 1 naming each one's first bad entry, or
when one is empty (it proves nothing); exit 2 on bad usage.`,
  async run(args, io) {
    const flags = parseFlags(args, { 'public-key': { type: 'string' }, witness: { type: 'string' } }, verb)
    if (flags.help) return help(io, this.usage)
    const paths = ledgerPaths(flags, verb)
    const publicKey = readPublicKey(stringFlag(flags, 'public-key'))
    const witnessFile = stringFlag(flags, 'witness')
    if (witnessFile !== undefined && publicKey === undefined) throw new UsageError(`airlock ${verb}: --witness needs --public-key: the heads it holds are signed`)
    const witness = witnessFile === undefined ? undefined : await readWitness(witnessFile, publicKey!)
    let failing = 0
    let entries = 0
    const origins = new Set<string>()
    for (const path of paths) {
      const result = await verifyOne(path, publicKey, witness, io)
      entries += result.entries
      if (result.origin !== undefined) origins.add(result.origin)
      if (!result.ok) failing++
    }
    if (witness !== undefined && witnessFile !== undefined) {
      const findings = witnessFindings(witness, origins)
      for (const finding of findings) io.stdout.write(`witness ${escapeControl(witnessFile)}: ${escapeControl(finding)}\n`)
      if (findings.length === 0) io.stdout.write(`witness ${escapeControl(witnessFile)}: ${witness.count} signed heads, every one matched by the ledgers given\n`)
      else failing++
    }
    if (paths.length > 1) {
      io.stdout.write(`fleet: ${paths.length} ledgers, ${paths.length - failing} intact, ${failing} not intact or empty; ${entries} intact entries in all\n`)
    }
    return failing === 0 ? 0 : 1
  },
}

async function verifyOne(
  path: string,
  publicKey: object | undefined,
  witness: LedgerWitness | undefined,
  io: CliIo,
): Promise<{ ok: boolean; entries: number; origin?: string | undefined }> {
  const progress = io.stderr.isTTY === true
  const result = await verifyLedger(path, {
    ...(publicKey === undefined ? {} : { publicKey }),
    ...(witness === undefined ? {} : { witness }),
    ...(progress ? { onProgress: (n: number) => io.stderr.write(`\rverified ${n.toLocaleString('en')} entries…`) } : {}),
  })
  if (progress && result.entries >= PROGRESS_EVERY) io.stderr.write('\n')
  const where = escapeControl(path)
  if (result.ok) {
    const signed = result.signaturesChecked
      ? `, ${result.checkpoints} signed checkpoints verified`
      : ', signatures not checked (no --public-key): only accidental damage is detected'
    const witnessed = result.witnessed === undefined ? '' : `, ${result.witnessed} heads the witness holds matched`
    io.stdout.write(`ledger ${where} is intact: ${result.entries} entries${signed}${witnessed}\n`)
    for (const adoption of result.adopted) io.stdout.write(`  adopted: ${describeAdoption(adoption)}\n`)
    if (result.adoptions > result.adopted.length) io.stdout.write(`  … and ${result.adoptions - result.adopted.length} more adoptions\n`)
    return { ok: true, entries: result.entries, origin: result.origin }
  }
  if (result.empty) {
    io.stdout.write(`ledger ${where} is empty: it holds no entries, so it shows nothing about what was sent\n`)
    return { ok: false, entries: 0 }
  }
  io.stdout.write(`ledger ${where} is NOT intact: first bad entry is seq ${result.firstBadSeq}: ${escapeControl(result.reason)}\n`)
  return { ok: false, entries: result.entries }
}

/** Reads a witness file; a missing or unreadable one is a usage error. */
export async function readWitness(path: string, publicKey: object): Promise<LedgerWitness> {
  try {
    return await readLedgerWitness(path, { publicKey: publicKey })
  } catch (err) {
    if (err instanceof StorageError) throw new UsageError(`cannot read witness ${path}: ${(err.cause as NodeJS.ErrnoException | undefined)?.code ?? 'error'}`)
    throw err
  }
}

/** What the witness holds that the ledgers given do not account for. */
export function witnessFindings(witness: LedgerWitness, origins: ReadonlySet<string>): string[] {
  const findings = [...witness.problems]
  for (const [origin, heads] of witness.heads) {
    if (!origins.has(origin)) {
      findings.push(`it holds ${heads.length} heads of the ledger ${origin}, up to ${Math.max(...heads.map((h) => h.size))} entries, which no ledger given is: a ledger is missing`)
    }
  }
  return findings
}

/** Reads a ledger public key (a JWK file), refusing a private key by mistake. */
export function readPublicKey(path: string | undefined): object | undefined {
  if (path === undefined) return undefined
  const key = parseJsonFile(readNamedFile(path, 'public key'), path, 'public key')
  if (typeof key !== 'object' || key === null) throw new UsageError(`public key ${path} is not a JWK object`)
  if ('d' in key) throw new UsageError(`public key ${path} holds a private key; pass the public half`)
  return key
}
