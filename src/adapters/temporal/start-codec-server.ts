import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { InvalidArgumentError } from '../../errors.js'
import { createCodecServerHandler, type CodecServerOptions } from './codec-server.js'

/**
 * A running codec server: where it listens, and how to stop it.
 *
 * @example
 * ```ts
 * const { url, close }: RunningCodecServer = await startCodecServer({ ...options, port: 0 })
 * ```
 */
export interface RunningCodecServer {
  /** `http://HOST:PORT`, the port the system picked when asked for 0. */
  readonly url: string
  readonly server: Server
  /** Stops accepting connections, ends open ones, and closes the access ledger. */
  close(): Promise<void>
}

/**
 * Starts an HTTP server for {@link createCodecServerHandler}: what
 * `airlock codec-server` runs. It listens on loopback unless told
 * otherwise; put TLS in front of it (a reverse proxy) before exposing it
 * beyond the machine, since bearer tokens travel in its requests.
 *
 * @throws InvalidArgumentError for a bad port or host; see also createCodecServerHandler.
 * @example
 * ```ts
 * const running = await startCodecServer({ keys, tokens, ledger: { path: 'audit/codec-server.ndjson' }, port: 8888 })
 * console.log(`listening on ${running.url}`)
 * await running.close()
 * ```
 */
export async function startCodecServer(options: CodecServerOptions & { readonly port?: number; readonly host?: string }): Promise<RunningCodecServer> {
  const { port = 8888, host = '127.0.0.1', ...handlerOptions } = options
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError('port is an integer from 0 to 65535')
  if (typeof host !== 'string' || host === '') throw new InvalidArgumentError('host is a non-empty string')
  const handler = await createCodecServerHandler(handlerOptions)
  const server = createServer(handler)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    await handler.close()
    throw err
  }
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shown}:${address.port}`,
    server,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await handler.close()
    },
  }
}
