import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { InvalidArgumentError } from '../../errors.js'
import { createCodecServerHandler, type CodecServerHandler, type CodecServerOptions } from './codec-server.js'

/**
 * Mounts the codec server in an HTTP server you already run: requests
 * under `basePath` (`/codec/decode`, `/codec/{namespace}/encode`, ...) are
 * answered by {@link createCodecServerHandler}'s handler; every other
 * request goes to the server's existing `request` listeners, as before.
 * Resolves with the handler; `handler.close()` closes its ledger.
 *
 * @throws InvalidArgumentError when `server` is not a Node HTTP server or `basePath` is missing.
 * @example
 * ```ts
 * import http from 'node:http'
 * import { mountCodecServer } from 'airlock-sdk/temporal'
 *
 * const server = http.createServer(app)   // your own routes
 * await mountCodecServer(server, { basePath: '/codec', keys, tokens, ledger: { path: 'audit/codec-server.ndjson' } })
 * server.listen(8080)
 * ```
 */
export async function mountCodecServer(server: Server, options: CodecServerOptions & { readonly basePath: string }): Promise<CodecServerHandler> {
  if (typeof server?.listeners !== 'function' || typeof server.on !== 'function') throw new InvalidArgumentError('mountCodecServer expects a node:http Server')
  if (typeof options?.basePath !== 'string' || options.basePath === '') throw new InvalidArgumentError('mountCodecServer needs a basePath, such as /codec')
  const handler = await createCodecServerHandler(options)
  const existing = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[]
  server.removeAllListeners('request')
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (handler.handles(request)) {
      handler(request, response)
      return
    }
    for (const listener of existing) listener.call(server, request, response)
  })
  return handler
}
