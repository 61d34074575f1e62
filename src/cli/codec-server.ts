import type { CodecServerTokens } from '../adapters/temporal/codec-server-tokens.js'
import type { startCodecServer } from '../adapters/temporal/start-codec-server.js'
import { KeyRing } from '../crypto/key-ring.js'
import { LocalResult } from '../results/local-result.js'
import { AirlockError, UsageError } from '../errors.js'
import { help, type Command } from './cli-io.js'
import { parseFlags, stringFlag } from './parse-flags.js'

const verb = 'codec-server'

/**
 * `airlock codec-server --keys FILE --token-file FILE [--port N] ...`:
 * Temporal's codec server protocol over airlock's keys, until SIGINT or
 * SIGTERM (or the CLI's stop signal). Prints `listening on http://HOST:PORT`
 * once it accepts requests.
 *
 * @example
 * ```ts
 * await runCli(['codec-server', '--keys', 'keys.json', '--token-file', 'tokens.json', '--port', '0'], { ...io, signal })
 * ```
 */
export const codecServer: Command = {
  summary: 'serve Temporal\'s codec server protocol (Web UI and CLI decode) with airlock\'s keys',
  usage: `usage: airlock codec-server --keys FILE --token-file FILE [--port N] [--host HOST]
                             [--cors-origin URL]... [--ledger FILE] [--offload-dir DIR] [--refuse-unsealed]

Serves POST /encode and /decode (also under /{namespace}/) for the Temporal Web
UI and \`temporal --codec-endpoint\`: payloads airlock's codec sealed are
opened for callers holding a bearer token, and only for them. Every request is
recorded, before it is answered, in the codec server's own ledger: operation,
namespace, the caller's token subject and how many payloads of which kind;
never a value or a token.

  --keys FILE          the key set the workers use (KeyRing.fromFile format); under
                       sealing keys, the private key set (a worker's is refused)
  --token-file FILE    accepted bearer tokens: JSON {"tokens":[{"subject","token"}]}
                       or one token per line (32+ characters each)
  --port N             port to listen on (default 8888; 0 picks a free one)
  --host HOST          address to listen on (default 127.0.0.1); put TLS in
                       front of it before exposing it beyond the machine
  --cors-origin URL    a browser origin allowed to call, e.g. the Temporal Web
                       UI's https://cloud.temporal.io (repeatable)
  --ledger FILE        the access ledger (default .airlock/codec-server.ndjson)
  --offload-dir DIR    the LocalResult directory workers offload payloads to,
                       so offloaded payloads decode too
  --refuse-unsealed    answer 400 for payloads airlock did not encode

Prints "listening on http://HOST:PORT" when ready; stops on SIGINT or SIGTERM.
Exit 0 after a clean stop; 2 on bad usage.`,
  async run(args, io) {
    const flags = parseFlags(
      args,
      {
        keys: { type: 'string' },
        'token-file': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'cors-origin': { type: 'string', multiple: true },
        ledger: { type: 'string' },
        'offload-dir': { type: 'string' },
        'refuse-unsealed': { type: 'boolean' },
      },
      verb,
    )
    if (flags.help) return help(io, this.usage)
    if (flags.positionals.length > 0) throw new UsageError(`airlock ${verb}: takes no arguments; see airlock ${verb} --help`)
    const keysPath = stringFlag(flags, 'keys')
    const tokenFile = stringFlag(flags, 'token-file')
    if (keysPath === undefined || tokenFile === undefined) throw new UsageError(`airlock ${verb}: --keys and --token-file are required; see airlock ${verb} --help`)
    const portText = stringFlag(flags, 'port') ?? '8888'
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) throw new UsageError(`airlock ${verb}: --port is a number from 0 to 65535`)
    const corsOrigins = (flags.values['cors-origin'] as unknown as string[] | undefined) ?? []

    // Loaded here, not at the top: the other verbs must work without Temporal's packages installed.
    let temporal: TemporalModules
    try {
      temporal = await loadTemporal()
    } catch {
      throw new UsageError(`airlock ${verb}: needs @temporalio/common and @temporalio/proto installed (npm install @temporalio/common)`)
    }
    let keys: KeyRing
    let tokens: CodecServerTokens
    try {
      keys = KeyRing.fromFile(keysPath)
      tokens = temporal.CodecServerTokens.fromFile(tokenFile)
    } catch (err) {
      if (err instanceof AirlockError) throw new UsageError(`airlock ${verb}: ${err.message}`)
      throw err
    }
    if (keys.writeOnly) {
      throw new UsageError(
        `airlock ${verb}: --keys ${keysPath} holds sealing keys without their private halves (a write-only worker's key set); the codec server decodes, so give it the private key set (the FILE of airlock keys generate --sealing --out FILE, not FILE.worker.json)`,
      )
    }
    const offloadDir = stringFlag(flags, 'offload-dir')
    const running = await temporal.startCodecServer({
      keys,
      tokens,
      ledger: { path: stringFlag(flags, 'ledger') ?? '.airlock/codec-server.ndjson' },
      corsOrigins,
      port: Number(portText),
      host: stringFlag(flags, 'host') ?? '127.0.0.1',
      unsealed: flags.values['refuse-unsealed'] === true ? 'refuse' : 'pass',
      ...(offloadDir === undefined ? {} : { offload: new LocalResult({ dir: offloadDir, location: '{randomId}' }) }),
    })
    io.stdout.write(`listening on ${running.url}\n`)
    await stopped(io.signal)
    await running.close()
    io.stdout.write('codec server stopped\n')
    return 0
  },
}

interface TemporalModules {
  readonly startCodecServer: typeof startCodecServer
  readonly CodecServerTokens: typeof CodecServerTokens
}

async function loadTemporal(): Promise<TemporalModules> {
  const [server, tokens] = await Promise.all([import('../adapters/temporal/start-codec-server.js'), import('../adapters/temporal/codec-server-tokens.js')])
  return { startCodecServer: server.startCodecServer, CodecServerTokens: tokens.CodecServerTokens }
}

// The CLI's stop signal (main.ts aborts it on SIGINT and SIGTERM).
function stopped(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise(() => {})
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}
