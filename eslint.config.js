import js from '@eslint/js'
import boundaries from 'eslint-plugin-boundaries'
import tseslint from 'typescript-eslint'

// docs/design.md's folder table: which part of the architecture may import which.
// A wrong import fails `npm run lint`, so fails CI.
const LAYERS = {
  internal: ['errors'],
  crypto: ['internal', 'errors'],
  policy: ['internal', 'errors'],
  scrub: ['policy', 'crypto', 'internal', 'errors'],
  results: ['crypto', 'internal', 'errors'],
  logging: ['scrub', 'policy', 'internal', 'errors'],
  audit: ['crypto', 'scrub', 'internal', 'errors'],
  boundary: ['policy', 'scrub', 'audit', 'crypto', 'internal', 'errors'],
  runtime: ['boundary', 'results', 'logging', 'crypto', 'internal', 'errors'],
  'adapter-shared': ['boundary', 'results', 'scrub', 'policy', 'crypto', 'audit', 'internal', 'errors'],
  adapter: ['adapter-shared', 'boundary', 'results', 'scrub', 'policy', 'crypto', 'audit', 'internal', 'errors'],
  testing: ['boundary', 'scrub', 'audit', 'policy', 'internal', 'errors'],
  cli: ['boundary', 'results', 'logging', 'scrub', 'policy', 'crypto', 'audit', 'adapter', 'adapter-shared', 'testing', 'internal', 'errors'],
  entry: ['boundary', 'runtime', 'results', 'logging', 'scrub', 'policy', 'crypto', 'audit', 'adapter', 'adapter-shared', 'testing', 'internal', 'errors'],
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.airlock/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/include': ['src/**/*.ts'],
      // The two files at the root of src: the typed errors every part shares, and the public surface.
      'boundaries/files': [
        { category: 'errors', pattern: 'src/errors.ts' },
        { category: 'entry', pattern: 'src/index.ts' },
      ],
      'boundaries/elements': [
        { type: 'internal', pattern: 'src/internal' },
        // What the engine adapters share (the payload codec of Temporal and Restate), then one element per engine:
        // an adapter never imports another engine's.
        { type: 'adapter-shared', pattern: 'src/adapters/shared' },
        { type: 'adapter', pattern: 'src/adapters/*', capture: ['engine'] },
        ...['crypto', 'policy', 'scrub', 'results', 'logging', 'audit', 'boundary', 'runtime', 'testing', 'cli'].map((type) => ({
          type,
          pattern: `src/${type}`,
        })),
      ],
    },
    rules: {
      'boundaries/no-unknown-files': 'error',
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          checkAllOrigins: true,
          policies: [
            ...Object.entries(LAYERS).map(([from, allow]) => ({
              from: from === 'entry' ? { file: { categories: 'entry' } } : { element: { type: from } },
              allow: [
                // Within its own part; an adapter only within its own engine.
                { to: { element: from === 'adapter' ? { type: 'adapter', captured: { engine: '{{from.captured.engine}}' } } : { type: from } } },
                ...allow.map((type) => (type === 'errors' ? { to: { file: { categories: 'errors' } } } : { to: { element: { type } } })),
              ],
            })),
            // Packages and Node's own modules: any part may use them, but for these two rules.
            { allow: { to: { module: { origin: ['external', 'core'] } } } },
            // Engine and cloud packages are optional peer dependencies: only their adapter or backend imports them.
            {
              from: { element: { type: '!adapter' } },
              disallow: { to: { module: { origin: 'external', source: ['@temporalio/*', '@restatedev/*', '@opentelemetry/*'] } } },
            },
            {
              from: { element: { type: '!results' } },
              disallow: { to: { module: { origin: 'external', source: ['@aws-sdk/*', '@google-cloud/*', '@azure/*'] } } },
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI, the demo, examples and benches talk to a person on stdout.
    files: ['src/cli/**', 'examples/**', 'bench/**', 'test/support/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Examples stand for users' existing task functions, which are async
    // whether or not this stand-in body awaits anything.
    files: ['examples/**'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // vitest's asymmetric matchers (expect.stringContaining, ...) are typed `any`.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['eslint.config.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
)
