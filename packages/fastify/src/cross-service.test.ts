/**
 * A purpose across services, with two real services in two processes: A (Fastify) calls B
 * (Express, Koa or Fastify) inside its requests. B trusts A's keys and records what it
 * accepts and what it refuses (docs/cross-service.md). The scenario is shared with the
 * NestJS B services (packages/nestjs/src/cross-service.test.ts).
 */
import { startService } from '../../../tools/test-support/cross-service/processes';
import { crossServiceScenario, json, trailOf } from '../../../tools/test-support/cross-service/scenario';
import type { Answer, TrailRecord } from '../../../tools/test-support/cross-service/scenario';

crossServiceScenario('fastify', 'express');
crossServiceScenario('fastify', 'koa');
crossServiceScenario('fastify', 'fastify');

describe('a purpose across services through OpenTelemetry propagation', () => {
  it('A\'s http call inside withPurposeBaggage() carries the signed purpose in W3C baggage (injected by the instrumentation); B accepts it', async () => {
    const b = await startService('b', 'express');
    const a = await startService('a', 'fastify', b.base, { OTEL: '1' });
    try {
      const out = await json<Answer>(`${a.base}/call?mode=otel`);
      expect(out.body).toMatchObject({ purpose: 'analytics', basis: 'legitimate-interests' });
      const all = await json<TrailRecord[]>(`${b.base}/trail`);
      expect(all.filter((r) => r.requestId === out.body.requestId)[0]).toMatchObject({ decision: 'allow', reason: 'inbound-purpose', actor: 'service-a' });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 60_000);

  it('A\'s fetch() inside withPurposeBaggage() carries it too when the undici instrumentation is registered; B accepts it', async () => {
    const b = await startService('b', 'express');
    const a = await startService('a', 'fastify', b.base, { OTEL: 'undici' });
    try {
      const out = await json<Answer>(`${a.base}/call?mode=otel-fetch`);
      expect(out).toMatchObject({ status: 200, body: { purpose: 'analytics', basis: 'legitimate-interests' } });
      expect(await trailOf(b, out.body.requestId)).toEqual([
        expect.objectContaining({ action: 'accept-purpose', decision: 'allow', reason: 'inbound-purpose', actor: 'service-a', attributes: { peer: 'service-a', upstreamRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/) } }),
        expect.objectContaining({ action: 'read', purpose: 'analytics', decision: 'allow' }),
      ]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 60_000);

  it('without the undici instrumentation, fetch() inside withPurposeBaggage() sends no baggage: B applies its own declaration (use purposeHeaders() there)', async () => {
    const b = await startService('b', 'express');
    const a = await startService('a', 'fastify', b.base, { OTEL: '1' });
    try {
      const out = await json<Answer>(`${a.base}/call?mode=otel-fetch`);
      expect(out).toMatchObject({ status: 200, body: { purpose: 'service.provision' } });
      // No purposekit baggage arrived, so there is nothing to accept or refuse: only the access.
      expect(await trailOf(b, out.body.requestId)).toEqual([expect.objectContaining({ action: 'read', purpose: 'service.provision', decision: 'allow' })]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 60_000);
});
