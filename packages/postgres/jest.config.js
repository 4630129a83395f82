const { createJestConfig } = require('../../jest.preset.js');

const config = createJestConfig(__dirname);
// The restart test restarts the machine's shared PostgreSQL server, which would break any
// other suite talking to it at that moment (Nx runs two projects at once). It is left out of
// `npm test` and run alone by .ci/run as its own step: PURPOSEKIT_TEST_PG_RESTART=1 selects it.
if (process.env.PURPOSEKIT_TEST_PG_RESTART === '1') {
  config.testMatch = ['<rootDir>/test/restart.test.ts'];
} else {
  config.testPathIgnorePatterns = ['/node_modules/', '<rootDir>/test/restart.test.ts'];
}
module.exports = config;
