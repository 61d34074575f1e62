import js from '@eslint/js'
import tseslint from 'typescript-eslint'

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
