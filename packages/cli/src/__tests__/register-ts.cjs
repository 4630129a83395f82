// Lets a plain `node` child process run this repository's TypeScript sources (the CLI
// child-process test runs src/bin.ts through it). @purposekit/* resolve to src/index.ts.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const packages = path.resolve(__dirname, '../../..');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const m = /^@purposekit\/(core|testing|cli)$/.exec(request);
  if (m) return path.join(packages, m[1], 'src', 'index.ts');
  return resolveFilename.call(this, request, parent, ...rest);
};
require.extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
