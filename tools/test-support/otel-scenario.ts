/**
 * The OpenTelemetry scenario every adapter runs (Jest): the real SDK with an in-memory
 * exporter and the HTTP instrumentation, in a child process (Jest's module sandbox hides
 * `node:http` from require-in-the-middle, so the instrumentation cannot patch it in-process).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const REGISTER = join(__dirname, 'register-ts.cjs');
const DRIVER = join(__dirname, 'otel-driver.ts');
const run = promisify(execFile);

interface Outcome {
  statuses: number[];
  spans: Array<{ name: string; kind: number; traceId: string; spanId: string; attributes: Record<string, unknown>; events: Array<{ name: string; attributes?: Record<string, unknown> }> }>;
  records: Array<{ kind: string; decision?: string; reason?: string; attributes?: Record<string, unknown> }>;
}

async function drive(app: string, env: NodeJS.ProcessEnv, ...flags: string[]): Promise<Outcome> {
  const { stdout } = await run(process.execPath, ['-r', REGISTER, DRIVER, app, ...flags], { timeout: 60_000, env: { ...process.env, ...env } });
  return JSON.parse(stdout) as Outcome;
}

const SERVER = 1; // SpanKind.SERVER

/**
 * Registers the OpenTelemetry tests for one adapter; `app` is its otel-app module (see
 * otel-driver.ts). `decorators`: compile it with legacy decorators (NestJS).
 */
export function otelScenario(name: string, app: string, options: { decorators?: boolean } = {}): void {
  const env = options.decorators === true ? { PURPOSEKIT_TS_DECORATORS: '1' } : {};
  describe(`${name}: OpenTelemetry (real SDK, instrumentation-http)`, () => {
    it('tags the request span, adds one event per decision (no values), and puts the span ids into each audit record', async () => {
      const out = await drive(app, env);
      expect(out.statuses).toEqual([200, 403]);
      const servers = out.spans.filter((s) => s.kind === SERVER);
      expect(servers).toHaveLength(2);
      for (const span of servers) {
        expect(span.attributes).toMatchObject({ 'privacy.purpose': 'diagnostics', 'privacy.legal_basis': 'legitimate-interests', 'privacy.policy': 'otel@1' });
      }
      const [ip, email] = servers as [Outcome['spans'][number], Outcome['spans'][number]];
      expect(ip.events.filter((e) => e.name === 'privacy.access')).toEqual([
        { name: 'privacy.access', attributes: { 'privacy.decision': 'allow', 'privacy.reason': 'allowed', 'privacy.data': ['ip-address'], 'privacy.action': 'read' } },
      ]);
      expect(email.events.filter((e) => e.name === 'privacy.access')).toEqual([
        { name: 'privacy.access', attributes: { 'privacy.decision': 'deny', 'privacy.reason': 'purpose-limitation', 'privacy.data': ['email'], 'privacy.action': 'read' } },
      ]);
      // The subject, its pseudonym and the client address never reach a span.
      const ours = out.spans.map((s) => [Object.entries(s.attributes).filter(([k]) => k.startsWith('privacy.')), s.events.filter((e) => e.name.startsWith('privacy.'))]);
      const spanText = JSON.stringify(ours);
      for (const leaked of ['u1', 'hmac-sha256', '127.0.0.1']) expect(spanText).not.toContain(leaked);
      // From a record to its trace: each access record names the request's server span.
      expect(out.records.map((r) => [r.decision, r.attributes?.['traceId'], r.attributes?.['spanId']])).toEqual([
        ['allow', ip.traceId, ip.spanId],
        ['deny', email.traceId, email.spanId],
      ]);
    });

    it('telemetry: false leaves spans and records without privacy data', async () => {
      const out = await drive(app, env, '--no-telemetry');
      expect(out.statuses).toEqual([200, 403]);
      const servers = out.spans.filter((s) => s.kind === SERVER);
      expect(servers).toHaveLength(2);
      for (const span of servers) {
        expect(Object.keys(span.attributes).filter((k) => k.startsWith('privacy.'))).toEqual([]);
        expect(span.events.filter((e) => e.name === 'privacy.access')).toEqual([]);
      }
      expect(out.records.map((r) => r.attributes)).toEqual([undefined, undefined]);
    });
  });
}
