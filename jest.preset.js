// Shared Jest settings. Tests run TypeScript through @swc/jest (no type check here:
// `npm run lint` type-checks with tsc -b). Workspace packages resolve to their sources,
// so tests never need a build first.
const path = require('node:path');

/**
 * @param {string} dir the project's folder (pass __dirname)
 * @param {{ decorators?: boolean }} [options] decorators: legacy decorators + metadata (NestJS only)
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
  return {
    displayName: path.basename(dir),
    rootDir: dir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    transform: { '^.+\\.ts$': ['@swc/jest', swc] },
    moduleNameMapper: {
      '^@purposekit/(core|express|koa|nestjs|testing|cli)$': path.join(__dirname, 'packages/$1/src/index.ts'),
    },
    moduleFileExtensions: ['ts', 'js', 'json'],
  };
}

module.exports = { createJestConfig };
