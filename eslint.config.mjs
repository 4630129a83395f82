// ESLint flat config. Project boundaries are enforced by Nx tags (package.json "nx.tags"):
// core depends on nothing internal; testing and adapters on core; the CLI on core; apps on
// adapters and core. The core may not import a web framework or a logger.
import nx from '@nx/eslint-plugin';

const FRAMEWORKS = ['express', 'koa', '@koa/router', 'fastify', '@nestjs/common', '@nestjs/core', '@nestjs/platform-express', '@nestjs/platform-fastify', 'pino', 'pino-http', 'winston', 'morgan', 'pg'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/coverage', '.nx', '**/*.js', '**/*.cjs'] },
  {
    files: ['**/*.ts', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:core', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:core'] },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:core', 'type:testing'] },
            // stores (PostgreSQL): core only; their tests run the shared contract suites of testing
            { sourceTag: 'type:store', onlyDependOnLibsWithTags: ['type:core', 'type:testing'] },
            { sourceTag: 'type:cli', onlyDependOnLibsWithTags: ['type:core', 'type:testing', 'type:store'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:adapter', 'type:core', 'type:testing', 'type:cli', 'type:store'] },
          ],
        },
      ],
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'Use an explicit export list (no export *).' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // The README's example and the production guide's program are real files run by tests; they import the package
    // by its published name, as a user would, which the same-project rule would forbid.
    files: ['packages/*/test/readme-example.ts', 'packages/*/test/production-example.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // Scenarios shared by every adapter's tests that need no-package test helpers (the real
    // OpenTelemetry SDK in a child process, two-service runs): they live in tools/test-support,
    // outside any Nx project, and are imported by path.
    files: ['packages/*/src/otel.test.ts', 'packages/*/src/cross-service.test.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // Test doubles legitimately have empty methods (a sink that keeps nothing, a no-op close).
    files: ['**/*.test.ts', '**/__tests__/**/*.ts', 'packages/testing/src/**/*.ts'],
    rules: { '@typescript-eslint/no-empty-function': 'off' },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/test-support/**'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['packages/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
    // Type-aware rules need a tsconfig that includes the file; tests and their helpers are
    // outside the build tsconfigs on purpose.
    ignores: ['**/*.test.ts', '**/__tests__/**', '**/test/**'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: FRAMEWORKS.map((name) => ({ name, message: 'The core depends on no web framework or logger; type integrations structurally.' })) }],
    },
  },
];
