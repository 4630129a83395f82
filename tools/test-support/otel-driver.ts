/**
 * A child process for the OpenTelemetry tests: the real SDK and the HTTP instrumentation
 * are set up first (as an application does, before its framework is loaded), then the
 * adapter's app module is loaded, two requests are sent to it, and the spans and audit
 * records are printed as one JSON line.
 *
 * Usage: node -r tools/test-support/register-ts.cjs tools/test-support/otel-driver.ts <app.ts> [--no-telemetry]
 * The app module exports `build(kit)`: a started app with a route `GET /ip` (purpose
 * `diagnostics`, `access({ data: ['ip-address'], action: 'read' })`) and `GET /email`
 * (purpose `diagnostics`, `access({ data: ['email'], action: 'read', subject: 'u1' })`).
 */
import { startOtel } from './otel-sdk';

const otel = startOtel();

export interface OtelTestApp {
  readonly baseUrl: string;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  const [appPath, flag] = process.argv.slice(2);
  const { createPurposekit, definePolicy } = await import('@purposekit/core');
  const { InMemoryAuditSink } = await import('@purposekit/testing');
  const policy = definePolicy({
    id: 'otel',
    version: '1',
    jurisdictions: ['US'],
    purposes: { diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] } },
    rights: { honoured: [] },
  });
  const audit = new InMemoryAuditSink();
  const kit = createPurposekit({ policy, audit, subjectKey: { id: 'k', secret: 's'.repeat(32) }, telemetry: flag !== '--no-telemetry' });
  const { build } = (await import(appPath!)) as { build(k: typeof kit): Promise<OtelTestApp> };
  const app = await build(kit);
  const statuses: number[] = [];
  for (const path of ['/ip', '/email']) {
    const res = await fetch(`${app.baseUrl}${path}`);
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  await app.close();
  const spans = otel.exporter.getFinishedSpans().map((s) => ({
    name: s.name,
    kind: s.kind,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    attributes: s.attributes,
    events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
  }));
  await otel.shutdown();
  process.stdout.write(`${JSON.stringify({ statuses, spans, records: audit.getRecords() })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
