const { createJestConfig } = require('../../jest.preset.js');

const base = createJestConfig(__dirname, { decorators: true });

module.exports = {
  ...base,
  transform: {
    ...base.transform,
    // NestJS 12 ships ESM only. Jest's CommonJS loader cannot load it, so @swc/jest turns
    // those files (and nothing else in node_modules) into CommonJS, as packages/nestjs does.
    '^.+/node_modules/@nestjs/.+\\.m?js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
};
