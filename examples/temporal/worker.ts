// A Temporal worker with airlock in front of its service:
//   temporal server start-dev              # or a Temporal Cloud namespace
//   npx tsx examples/temporal/worker.ts
import { NativeConnection, Worker } from '@temporalio/worker'
import { hostname } from 'node:os'
import { fileURLToPath } from 'node:url'
import { airlockWorkerOptions } from '../../src/adapters/temporal/index.js'
import * as activities from './activities.js'
import { exampleAirlock, offloadResult } from './airlock.js'

const identity = `${process.pid}@${hostname()}`
const airlock = exampleAirlock(identity)
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' })
const worker = await Worker.create({
  // The codec, the failure converter (by path, so the sandbox loads it too) and the activity interceptor.
  ...airlockWorkerOptions({ airlock, offload: offloadResult() }),
  connection,
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  taskQueue: 'orders',
  identity,
  workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
  activities,
})
process.once('SIGINT', () => worker.shutdown())
console.log(`worker ${identity} polling task queue "orders"; Ctrl-C stops it`)
await worker.run()
await connection.close()
await airlock.close()
