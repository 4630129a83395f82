/** The in-memory sink installs and loads no logger: pino is an optional peer, loaded by the conformance suite only. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REGISTER = join(__dirname, '../../../tools/test-support/register-ts.cjs');

test('pino is not a dependency of @purposekit/testing, only an optional peer', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8'));
  expect(pkg.dependencies.pino).toBeUndefined();
  expect(pkg.peerDependenciesMeta.pino).toEqual({ optional: true });
});

test('requiring @purposekit/testing and using InMemoryAuditSink loads no logger', () => {
  const script = `
    const { InMemoryAuditSink } = require('@purposekit/testing');
    new InMemoryAuditSink();
    process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => /[\\\\/]node_modules[\\\\/](pino|winston|morgan)[\\\\/]/.test(f)).length));`;
  expect(execFileSync(process.execPath, ['-r', REGISTER, '-e', script], { encoding: 'utf8' })).toBe('0');
});
