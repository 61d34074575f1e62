// Writes the CommonJS entry of every export that has a `require` condition:
// a file that loads the ES module through require(esm) (Node 20.19+, 22.12+)
// and, where the running Node cannot, throws an error that says what to do
// instead of Node's ERR_PACKAGE_PATH_NOT_EXPORTED or ERR_REQUIRE_ESM.
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

interface Conditions {
  import?: string
  require?: string
}

const root = join(import.meta.dirname, '..')
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, Conditions | string> }

for (const [subpath, conditions] of Object.entries(manifest.exports)) {
  if (typeof conditions === 'string' || conditions.require === undefined) continue
  if (conditions.import === undefined || dirname(conditions.import) !== dirname(conditions.require)) {
    throw new Error(`package.json exports["${subpath}"]: require must sit next to import`)
  }
  const specifier = `${manifest.name}${subpath.slice(1)}`
  writeFileSync(
    join(root, conditions.require),
    `'use strict'
// ${specifier} is an ES module. require() loads it on Node 20.19+ and 22.12+;
// older versions get this message instead of Node's.
try {
  module.exports = require('./${basename(conditions.import)}')
} catch (err) {
  if (err && (err.code === 'ERR_REQUIRE_ESM' || err.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    const esmOnly = new Error(
      "${specifier} is an ES module (ESM only) and this Node cannot require() it: use import (or await import('${specifier}')) " +
        'from CommonJS, or run Node 20.19+ / 22.12+, where require() loads ES modules',
    )
    esmOnly.code = 'ERR_AIRLOCK_ESM_ONLY'
    throw esmOnly
  }
  throw err
}
`,
  )
}
