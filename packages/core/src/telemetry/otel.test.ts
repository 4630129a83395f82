import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const REGISTER = join(__dirname, '../../../../tools/test-support/register-ts.cjs');
const SCRIPT = join(__dirname, '__tests__/otel-absent.ts');
const run = promisify(execFile);

// In-process behaviour with the real SDK is tested on every adapter
// (tools/test-support/otel-scenario.ts); here: the cost when the API is not installed.
describe('OpenTelemetry absent', () => {
  it('importing the core does not look for @opentelemetry/api; engines look once per process and work without it', async () => {
    const { stdout } = await run(process.execPath, ['-r', REGISTER, SCRIPT], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ afterImport: 0, attempts: 1, attributes: [null, null, null] });
  });

  it('telemetry: false never looks for it', async () => {
    const { stdout } = await run(process.execPath, ['-r', REGISTER, SCRIPT, 'off'], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ afterImport: 0, attempts: 0, attributes: [null, null, null] });
  });
});
