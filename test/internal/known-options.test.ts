import { describe, expect, it } from 'vitest'
import { MemoryControlPlane } from '../../src/boundary/memory-control-plane.js'
import { definePolicy } from '../../src/policy/define-policy.js'
import { loadPolicy } from '../../src/policy/load-policy.js'
import { CompressedSerializer } from '../../src/results/compressed-serializer.js'
import { JSONSerializer } from '../../src/results/json-serializer.js'
import { MemoryCacheStore } from '../../src/runtime/memory-cache-store.js'
import { Scrubber } from '../../src/scrub/scrubber.js'

// Issue 14, item 3: every options object is checked when it is built; a misspelt key is an error, not a default.
describe('options objects refuse keys they do not have', () => {
  it.each([
    ['MemoryControlPlane', () => new MemoryControlPlane({ path: 'cp.ndjson' } as never)],
    ['MemoryCacheStore', () => new MemoryCacheStore({ maxEntires: 10 } as never)],
    ['Scrubber', () => new Scrubber({ polcy: {} } as never)],
    ['CompressedSerializer', () => new CompressedSerializer(new JSONSerializer(), { fromat: 'brotli' } as never)],
    ['definePolicy', () => definePolicy({}, { enviroment: {} } as never)],
    ['loadPolicy', () => loadPolicy(undefined, { enviroment: {} } as never)],
  ])('%s', (name, build) => {
    expect(build).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(`${name} has no option`) }))
  })
})
