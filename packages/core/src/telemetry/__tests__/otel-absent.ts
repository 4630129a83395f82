// Child process of otel.test.ts: @opentelemetry/api cannot be resolved here; counts how
// often the core tries, and shows that engines work without it.
import Module from 'node:module';

let attempts = 0;
const M = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
const resolve = M._resolveFilename;
M._resolveFilename = function (request: string, ...rest: unknown[]) {
  if (request === '@opentelemetry/api') {
    attempts++;
    throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
  }
  return resolve.call(this, request, ...rest);
};

async function main(): Promise<void> {
  const { createPurposekit, definePolicy } = await import('../../index');
  const { ArraySink } = await import('../../__tests__/array-sink');
  const policy = definePolicy({ id: 'p', version: '1', jurisdictions: ['US'], purposes: { diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] } }, rights: { honoured: [] } });
  const telemetry = process.argv[2] !== 'off';
  const audit = new ArraySink();
  const afterImport = attempts;
  for (let i = 0; i < 3; i++) {
    const kit = createPurposekit({ policy, audit, subjectKey: { id: 'k', secret: 's'.repeat(32) }, telemetry });
    await kit.runAs({ purpose: 'diagnostics', actor: 'job' }, () => kit.access({ data: ['ip-address'], action: 'read' }));
  }
  process.stdout.write(JSON.stringify({ afterImport, attempts, attributes: audit.events.map((e) => e.attributes ?? null) }));
}
main().catch((err: unknown) => {
  process.stderr.write(String((err as Error).stack));
  process.exitCode = 1;
});
