#!/usr/bin/env node
import { runCli } from './run-cli.js'

const argv = process.argv.slice(2)
// The long-running verb stops cleanly on SIGINT and SIGTERM; every other verb keeps Node's default (the process ends).
const stop = new AbortController()
if (argv[0] === 'codec-server') for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort())

process.exitCode = await runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: stop.signal })
