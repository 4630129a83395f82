const { createJestConfig } = require('../../jest.preset.js');

// NestJS 12 is ESM-only: the preset's `nest` option transforms it for Jest (see packages/nestjs README, "Testing").
module.exports = createJestConfig(__dirname, { decorators: true, nest: true });
