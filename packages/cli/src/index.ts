/**
 * @purposekit/cli — the `purposekit` command line, also usable in-process.
 * One explicit export list. No `export *`.
 */
export { run, EXIT_VERIFY_FAILED, EXIT_ERROR } from './cli';
export type { CliIo, CliStream } from './io';
export { renderReport } from './commands/audit-report';
export { KEY_FILES } from '@purposekit/core';
