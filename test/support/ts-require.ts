import { register } from 'tsx/cjs/api'
import { afterAll, beforeAll } from 'vitest'

/**
 * Lets Node's own `require()` load this repository's TypeScript for the
 * tests of one file: Temporal loads a failure converter with `require(path)`,
 * and the suite runs the sources, not a build. Test setup only; the package
 * itself ships JavaScript.
 */
export function requireTypeScriptInThisFile(): void {
  let unregister: (() => void) | undefined
  beforeAll(() => {
    unregister = register()
  })
  afterAll(() => {
    unregister?.()
  })
}
