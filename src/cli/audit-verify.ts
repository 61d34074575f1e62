import { openSync, readSync, closeSync } from 'node:fs'
import { describeAdoption } from '../audit/ledger-checkpoint.js'
import { toVerifyKey } from '../audit/ledger-signing-key.js'
import { PROGRESS_EVERY, verifyLedger } from '../audit/verify-ledger.js'
import { escapeControl } from '../audit/ledger-entry.js'
import { readLedgerWitness, type LedgerWitness } from '../audit/ledger-witness.js'
import { InvalidArgumentError, StorageError, UsageError } from '../errors.js'
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

  --public-key FILE   the ledger signing public key: the FILE.pub.json that
                      airlock keys generate --ledger-key FILE writes (a JWK)
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
      ? `, ${plural(result.checkpoints, 'signed checkpoint')} verified`
      : ', signatures not checked (no --public-key): only accidental damage is detected'
    const witnessed = result.witnessed === undefined ? '' : `, ${plural(result.witnessed, 'head the witness holds', 'heads the witness holds')} matched`
    io.stdout.write(`ledger ${where} is intact: ${plural(result.entries, 'entry', 'entries')}${signed}${witnessed}\n`)
    for (const adoption of result.adopted) io.stdout.write(`  adopted: ${describeAdoption(adoption)}\n`)
    if (result.adoptions > result.adopted.length) io.stdout.write(`  … and ${result.adoptions - result.adopted.length} more adoptions\n`)
    return { ok: true, entries: result.entries, origin: result.origin }
  }
  if (result.empty) {
    io.stdout.write(`ledger ${where} is empty: it holds no entries, so it shows nothing about what was sent\n`)
    return { ok: false, entries: 0 }
  }
  const foreign = result.firstBadSeq === 1 ? notALedger(path) : undefined
  if (foreign !== undefined) {
    io.stdout.write(`${where} is not a ledger: ${foreign}\n`)
    return { ok: false, entries: 0 }
  }
  io.stdout.write(`ledger ${where} is NOT intact: first bad entry is seq ${result.firstBadSeq}: ${escapeControl(result.reason)}\n`)
  return { ok: false, entries: result.entries }
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}

// Why a file whose very first line fails is no ledger at all (another airlock file, or not JSON lines),
// or undefined when its first line looks like a ledger entry that was damaged.
function notALedger(path: string): string | undefined {
  let first: unknown
  try {
    const fd = openSync(path, 'r')
    try {
      const buffer = Buffer.alloc(64 * 1024)
      const text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8')
      first = JSON.parse(text.split('\n', 1)[0] ?? '')
    } finally {
      closeSync(fd)
    }
  } catch {
    return 'its first line is not JSON (a ledger holds one JSON entry per line; if this is one, its first line is damaged)'
  }
  if (typeof first !== 'object' || first === null || Array.isArray(first)) return 'its first line is not a JSON object; a ledger holds one entry per line'
  const line = first as Record<string, unknown>
  if ('seq' in line && 'hash' in line && 'prev' in line) return undefined
  if (typeof line.kind === 'string' && 'policyHash' in line) {
    return 'it holds events as a control plane received them (a FileControlPlane file?), not ledger entries with seq, prev and hash; pass the ledger (default .airlock/ledger.ndjson)'
  }
  return 'its first line has no seq, prev and hash; pass a ledger written by airlock (default .airlock/ledger.ndjson)'
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
  const flag = `--public-key ${path}`
  const key = parseJsonFile(readNamedFile(path, '--public-key'), path, '--public-key')
  if (typeof key !== 'object' || key === null) throw new UsageError(`${flag} is not a JWK object`)
  if ('d' in key) throw new UsageError(`${flag} holds a private key; pass the public half (the .pub.json file)`)
  try {
    toVerifyKey(key, flag)
  } catch (err) {
    // A key the flag names that is no Ed25519 public key is bad input, not a finding: exit 2.
    if (err instanceof InvalidArgumentError) throw new UsageError(`${err.message} (expected the .pub.json that airlock keys generate --ledger-key writes)`)
    throw err
  }
  return key
}
