// Shared Jest settings. Tests run TypeScript through @swc/jest (no type check here:
// `npm run lint` type-checks with tsc -b). Workspace packages resolve to their sources,
// so tests never need a build first.
const path = require('node:path');

/**
 * @param {string} dir the project's folder (pass __dirname)
 * @param {{ decorators?: boolean, nest?: boolean }} [options]
 *   decorators: legacy decorators + metadata (NestJS packages only);
 *   nest: NestJS 12 ships ESM only and Jest's CommonJS loader cannot load it, so @swc/jest
 *   turns node_modules/@nestjs (and nothing else in node_modules) into CommonJS.
 */
function createJestConfig(dir, options = {}) {
  const swc = {
    jsc: {
      parser: { syntax: 'typescript', decorators: Boolean(options.decorators) },
      target: 'es2022',
      ...(options.decorators ? { transform: { legacyDecorator: true, decoratorMetadata: true } } : {}),
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  };
  const nest = options.nest
    ? {
        transform: {
          '^.+\\.ts$': ['@swc/jest', swc],
          '^.+/node_modules/@nestjs/.+\\.m?js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
        },
        transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
      }
    : {};
  return {
    displayName: path.basename(dir),
    rootDir: dir,
    testEnvironment: 'node',
    // Speed is measured by the benchmarks, never by a test: Jest's 5 s default timed the
    // property tests (100,000 runs in CI) on two cores shared with a second suite and a
    // database. A test that hangs still fails, after 30 s; slower ones set their own.
    testTimeout: 30_000,
    testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    transform: { '^.+\\.ts$': ['@swc/jest', swc] },
    moduleNameMapper: {
      '^@purposekit/core/adapter$': path.join(__dirname, 'packages/core/src/adapter.ts'),
      '^@purposekit/(core|express|koa|fastify|nestjs|testing|cli|postgres)$': path.join(__dirname, 'packages/$1/src/index.ts'),
    },
    moduleFileExtensions: ['ts', 'js', 'json'],
    ...nest,
  };
}

module.exports = { createJestConfig };
