import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { createPurposekit, definePolicy } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import type { Purposekit } from '@purposekit/core';
import { createPrivacy, createRightsRouter, privacyOf } from './index';
import type { RightsRouterOptions } from './index';
import { jsonBody } from './__tests__/json-body';



const policy = definePolicy({
  id: 'koa-rights-test',
  version: '1',
  jurisdictions: ['EU'],
  defaultPurpose: 'service.provision',
  purposes: {
    'service.provision': { basis: 'legitimate-interests', data: ['usage-data'] },
    diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] },
    analytics: { basis: 'consent', consentType: 'explicit', data: ['usage-data'] },
    'rights-fulfilment': { basis: 'legal-obligation', data: ['name', 'email'] },
  },
  rights: { honoured: ['access', 'rectification', 'erasure', 'restriction', 'objection', 'portability', 'withdraw-consent'], responseTime: 'P1M' },
});

const NOW = Date.parse('2026-01-31T10:00:00.000Z');
const people: Record<string, { name: string }> = { alice: { name: 'Alice' }, bob: { name: 'Bob' } };

interface Started {
  base: string;
  kit: Purposekit;
  sink: InMemoryAuditSink;
  erased: string[];
  rectified: Array<[string, Record<string, string | null>]>;
  requestIds: string[];
}

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

async function start(opts: { upstreamParser?: boolean; options?: Partial<RightsRouterOptions> } = {}): Promise<Started> {
  const sink = new InMemoryAuditSink();
  const kit = createPurposekit({ policy, audit: sink, subjectKey: { id: 'k1', secret: 's'.repeat(32) }, now: () => NOW });
  const privacy = createPrivacy(kit);
  const erased: string[] = [];
  const rectified: Array<[string, Record<string, string | null>]> = [];
  const requestIds: string[] = [];
  const app = new Koa();
  app.use(async (ctx, next) => {
    await next();
    if (ctx.state.privacy !== undefined) requestIds.push(ctx.state.privacy.requestId);
  });
  app.use(privacy.middleware());
  if (opts.upstreamParser === true) app.use(jsonBody());
  app.use(
    createRightsRouter(kit, {
      // The test's stand-in for authentication: `x-user` names a known person.
      getSubject: (ctx) => {
        const u = ctx.get('x-user');
        return u in people ? u : undefined;
      },
      exporter: (subject) => people[subject],
      eraser: (subject) => {
        erased.push(subject);
      },
      accessLog: (pseudonym) => sink.getRecords().filter((e) => e.subject === pseudonym).map((e) => ({ ...e })),
      rectifier: (subject, changes) => {
        rectified.push([subject, { ...changes }]);
      },
      now: () => NOW,
      ...opts.options,
    }),
  );
  const router = new Router();
  router.get('/privacy/notice', (ctx) => {
    ctx.body = { notice: 'downstream' };
  });
  // The app's own route under the prefix, reading its raw body itself.
  router.post('/privacy/feedback', async (ctx) => {
    let raw = '';
    for await (const chunk of ctx.req) raw += String(chunk);
    ctx.body = { app: 'feedback', length: raw.length };
  });
  router.post('/privacy/echo', (ctx) => {
    ctx.body = { echoed: (ctx.request as { body?: unknown }).body ?? null };
  });
  router.get('/status', privacy.purpose('diagnostics'), async (ctx) => {
    const u = ctx.get('x-user');
    if (u !== '') privacyOf(ctx).setSubject(u);
    await privacyOf(ctx).access({ data: ['ip-address'], action: 'read' });
    ctx.body = { ok: true };
  });
  app.use(router.routes());
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, kit, sink, erased, rectified, requestIds };
}

const call = (s: Started, method: string, path: string, user?: string, body?: string) =>
  fetch(`${s.base}${path}`, {
    method,
    headers: { ...(user !== undefined ? { 'x-user': user } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
const DUE = '2026-02-28T10:00:00.000Z'; // one calendar month after 31 January: the end of February
const request = (right: string, id: string | undefined) => ({ id, right, due: DUE, status: 'completed' });

describe('@purposekit/koa: createRightsRouter serves the core rights handler', () => {
  it.each([
    ['restriction', 'POST', '/privacy/restriction', undefined, 'restriction', { restricted: true }],
    ['lifting a restriction', 'DELETE', '/privacy/restriction', undefined, 'restriction', { restricted: false }],
    ['objection', 'POST', '/privacy/objection', '{"purpose":"diagnostics"}', 'objection', { purpose: 'diagnostics', objected: true }],
    ['withdrawing an objection', 'DELETE', '/privacy/objection', '{"purpose":"diagnostics"}', 'objection', { purpose: 'diagnostics', objected: false }],
    ['erasure', 'POST', '/privacy/erasure', undefined, 'erasure', { erased: true, kept: [] }],
    ['rectification', 'POST', '/privacy/rectification', '{"changes":{"name":"Alicia"}}', 'rectification', { fields: ['name'] }],
  ])('%s: %s %s answers with the handler\'s status, headers and body, recorded under the request\'s context', async (_label, method, path, body, right, payload) => {
    const s = await start();
    const res = await call(s, method, path, 'alice', body);
    expect(res.status).toBe(200);
    expect([res.headers.get('content-type'), res.headers.get('cache-control')]).toEqual(['application/json; charset=utf-8', 'no-store']);
    expect(await res.json()).toEqual({ request: request(right, s.requestIds[0]), ...payload });
    const rights = s.sink.getRecords().filter((e) => e.kind === 'rights');
    expect(rights.map((e) => [e.attributes?.['right'], e.attributes?.['status'], e.requestId, e.purpose, e.actor])).toEqual([
      [right, 'received', s.requestIds[0], 'rights-fulfilment', 'data-subject'],
      [right, 'completed', s.requestIds[0], 'rights-fulfilment', 'data-subject'],
    ]);
    expect(rights.every((e) => e.subject === s.kit.pseudonymizeSubject('alice'))).toBe(true);
  });

  it('the callbacks receive the authenticated subject only', async () => {
    const s = await start();
    expect((await call(s, 'POST', '/privacy/erasure', 'bob')).status).toBe(200);
    expect((await call(s, 'POST', '/privacy/rectification', 'alice', '{"changes":{"email":null}}')).status).toBe(200);
    expect(s.erased).toEqual(['bob']);
    expect(s.rectified).toEqual([['alice', { email: null }]]);
  });

  it('an objection takes effect on the next decision of that subject only', async () => {
    const s = await start();
    expect((await call(s, 'GET', '/status', 'alice')).status).toBe(200);
    expect((await call(s, 'POST', '/privacy/objection', 'alice', '{"purpose":"diagnostics"}')).status).toBe(200);
    const denied = await call(s, 'GET', '/status', 'alice');
    expect([denied.status, await denied.json()]).toEqual([403, { error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', message: 'Access to this personal data is not permitted for this purpose.', reason: 'objection' } }]);
    expect((await call(s, 'GET', '/status', 'bob')).status).toBe(200);
    expect(s.sink.getRecords().filter((e) => e.kind === 'access').map((e) => [e.decision, e.reason])).toEqual([
      ['allow', 'allowed'],
      ['deny', 'objection'],
      ['allow', 'allowed'],
    ]);
  });

  it('consent: given, then withdrawn (a rights request), through the consent manager', async () => {
    const s = await start();
    const given = await call(s, 'POST', '/privacy/consent', 'alice', '{"purpose":"analytics","state":"given"}');
    expect([given.status, await given.json()]).toEqual([200, { consent: { subject: 'alice', purpose: 'analytics', state: 'given', type: 'explicit', source: 'api', policyVersion: '1', at: '2026-01-31T10:00:00.000Z' } }]);
    const withdrawn = await call(s, 'POST', '/privacy/consent', 'alice', '{"purpose":"analytics","state":"withdrawn"}');
    expect(withdrawn.status).toBe(200);
    expect(await withdrawn.json()).toMatchObject({ request: request('withdraw-consent', s.requestIds[1]), consent: { state: 'withdrawn' } });
    expect(s.sink.getRecords().map((e) => [e.kind, e.attributes?.['state'] ?? e.attributes?.['status']])).toEqual([
      ['consent', 'given'],
      ['rights', 'received'],
      ['consent', 'withdrawn'],
      ['rights', 'completed'],
    ]);
  });

  it('access log and export: the subject\'s own records and data, never another subject\'s', async () => {
    const s = await start();
    await call(s, 'GET', '/status', 'alice');
    await call(s, 'GET', '/status', 'bob');
    await call(s, 'POST', '/privacy/consent', 'bob', '{"purpose":"analytics","state":"given"}');
    const log = (await (await call(s, 'GET', '/privacy/access-log', 'alice')).json()) as { request: unknown; records: Array<Record<string, unknown>> };
    expect(log.request).toEqual(request('access', s.requestIds[3]));
    expect(log.records.map((r) => [r['kind'], r['purpose'], r['requestId']])).toEqual([
      ['access', 'diagnostics', s.requestIds[0]],
      ['rights', 'rights-fulfilment', s.requestIds[3]],
    ]);
    const exported = (await (await call(s, 'GET', '/privacy/export', 'alice')).json()) as Record<string, unknown>;
    expect(exported).toMatchObject({ format: 'purposekit-export', version: 1, subject: 'alice', data: { name: 'Alice' }, consent: [] });
    expect(JSON.stringify(exported)).not.toContain('Bob');
    expect(JSON.stringify(exported)).not.toContain(s.requestIds[1]!);
  });

  it.each([
    ['no subject: 401', 'POST', '/privacy/restriction', undefined, undefined, 401, 'PURPOSEKIT_ERR_UNAUTHENTICATED', undefined],
    ['a body naming another subject: 400', 'POST', '/privacy/objection', 'alice', '{"purpose":"diagnostics","subject":"bob"}', 400, 'PURPOSEKIT_ERR_BAD_REQUEST', 'subject'],
    ['malformed JSON: 400', 'POST', '/privacy/objection', 'alice', '{"purpose":', 400, 'PURPOSEKIT_ERR_BAD_REQUEST', 'body'],
    // A valid objection, padded past the limit: refused for its size alone.
    ['a body over 16 kB: 400', 'POST', '/privacy/objection', 'alice', `{"purpose":"diagnostics"}${' '.repeat(16 * 1024)}`, 400, 'PURPOSEKIT_ERR_BAD_REQUEST', 'body'],
    ['objection to a consent purpose: 400', 'POST', '/privacy/objection', 'alice', '{"purpose":"analytics"}', 400, 'PURPOSEKIT_ERR_BAD_REQUEST', 'purpose'],
  ])('%s', async (_label, method, path, user, body, status, code, field) => {
    const s = await start();
    const res = await call(s, method, path, user, body);
    expect(res.status).toBe(status);
    const error = ((await res.json()) as { error: { code: string; field?: string } }).error;
    expect([error.code, error.field]).toEqual([code, field]);
    expect(s.sink.getRecords().filter((e) => e.kind === 'rights')).toEqual([]);
    expect(s.erased).toEqual([]);
  });

  it('uses the body an upstream parser left, and parses it itself otherwise', async () => {
    for (const upstreamParser of [true, false]) {
      const s = await start({ upstreamParser });
      const res = await call(s, 'POST', '/privacy/objection', 'alice', '{"purpose":"diagnostics"}');
      expect([upstreamParser, res.status]).toEqual([upstreamParser, 200]);
    }
  });

  it('passes every other request on: other paths under the prefix, other methods, other prefixes', async () => {
    const s = await start();
    expect(await (await call(s, 'GET', '/privacy/notice', 'alice')).json()).toEqual({ notice: 'downstream' });
    // Not an endpoint: the rights router leaves the body to the app (no parser here, so none).
    expect(await (await call(s, 'POST', '/privacy/echo', 'alice', '{"a":1}')).json()).toEqual({ echoed: null });
    // With the app's own parser upstream, the app's route sees its body as parsed.
    const withParser = await start({ upstreamParser: true });
    expect(await (await call(withParser, 'POST', '/privacy/echo', 'alice', '{"a":1}')).json()).toEqual({ echoed: { a: 1 } });
    expect((await call(s, 'PUT', '/privacy/erasure', 'alice')).status).toBe(404);
    expect((await call(s, 'GET', '/privacyx/erasure', 'alice')).status).toBe(404);
    expect(s.erased).toEqual([]);
    expect(s.sink.getRecords()).toEqual([]);
  });

  it('honours a custom prefix', async () => {
    const s = await start({ options: { prefix: '/me/rights' } });
    expect((await call(s, 'POST', '/me/rights/restriction', 'alice')).status).toBe(200);
    expect((await call(s, 'POST', '/privacy/restriction', 'alice')).status).toBe(404);
  });

  it('rejects bad options at start-up', () => {
    const kit = createPurposekit({ policy, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: 's'.repeat(32) } });
    const base: RightsRouterOptions = { getSubject: () => undefined, exporter: () => null, eraser: () => undefined, accessLog: () => [] };
    expect(() => createRightsRouter(kit, { ...base, getSubjects: () => undefined } as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('Did you mean "getSubject"?') }));
    expect(() => createRightsRouter(kit, { getSubject: () => undefined } as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('exporter') }));
    expect(() => createRightsRouter(kit, { ...base, prefix: 'privacy/' })).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
  });
});

describe('createRightsRouter leaves the app\'s own routes under the prefix alone', () => {
  it('a malformed or large body to /privacy/feedback reaches the app unread', async () => {
    const s = await start();
    for (const body of ['{"not json', 'x'.repeat(20_000)]) {
      const res = await call(s, 'POST', '/privacy/feedback', undefined, body);
      expect([res.status, await res.json()]).toEqual([200, { app: 'feedback', length: body.length }]);
    }
  });
});
