import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

// airlock-sdk/testing must run under vitest, jest and node:test alike: a
// failed check is a thrown error, and nothing in it may import a framework.
describe('airlock-sdk/testing', () => {
  it('imports no test framework, directly or through its own modules', async () => {
    const dir = join(process.cwd(), 'src/testing')
    const seen = new Set<string>()
    const pending = (await readdir(dir)).map((f) => join(dir, f))
    const imports: string[] = []
    while (pending.length > 0) {
      const file = pending.pop()!
      if (seen.has(file)) continue
      seen.add(file)
      const text = await readFile(file, 'utf8')
      for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
        if (spec === undefined) continue
        if (spec.startsWith('.')) pending.push(join(file, '..', spec.replace(/\.js$/, '.ts')))
        else imports.push(spec)
      }
    }
    expect(seen.size).toBeGreaterThan(3)
    expect(imports.filter((spec) => /^(vitest|jest|@jest\/|node:test|mocha|chai|ava|tap)\b/.test(spec))).toEqual([])
  })
})
