// Lets a plain `node` child process run this repository's TypeScript sources, for the
// tests that need a real process (the audit crash test, the CLI binary test).
// Usage: node -r tools/test-support/register-ts.cjs script.ts. @purposekit/* resolve to
// their src/index.ts, as in Jest.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const packages = path.resolve(__dirname, '../../packages');
const decorators = process.env.PURPOSEKIT_TS_DECORATORS === '1';
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === '@purposekit/core/adapter') return path.join(packages, 'core', 'src', 'adapter.ts');
  const m = /^@purposekit\/(core|testing|cli|express|koa|fastify|nestjs|postgres)$/.exec(request);
  if (m) return path.join(packages, m[1], 'src', 'index.ts');
  return resolveFilename.call(this, request, parent, ...rest);
};
require.extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    // PURPOSEKIT_TS_DECORATORS=1: legacy decorators + metadata, as NestJS code needs (jest.preset.js does the same).
    jsc: decorators
      ? { parser: { syntax: 'typescript', decorators: true }, target: 'es2022', transform: { legacyDecorator: true, decoratorMetadata: true } }
      : { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
