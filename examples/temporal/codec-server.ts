// The codec server the Temporal Web UI (and `temporal --codec-endpoint`)
// calls to show what airlock sealed, to token holders only. The same as
//   airlock codec-server --keys .airlock/temporal-example/keys.json --token-file .airlock/temporal-example/codec-tokens.json \
//     --cors-origin http://localhost:8233 --offload-dir .airlock/temporal-example/offload --port 8888
//   npx tsx examples/temporal/codec-server.ts
import { join } from 'node:path'
import { CodecServerTokens, startCodecServer } from '../../src/adapters/temporal/index.js'
import { home, offloadResult, teamKeys } from './airlock.js'

const running = await startCodecServer({
  keys: teamKeys(),
  tokens: CodecServerTokens.fromFile(process.env.CODEC_TOKENS_FILE ?? join(home, 'codec-tokens.json')),
  ledger: { path: join(home, 'codec-server.ndjson') },
  corsOrigins: ['http://localhost:8233'],   // the dev server's Web UI
  offload: offloadResult(),
  port: 8888,
})
console.log(`listening on ${running.url}`)
process.once('SIGINT', () => void running.close())
