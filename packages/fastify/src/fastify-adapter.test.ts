import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { Agent, get } from 'node:http';
import { Writable } from 'node:stream';
import { createPurposekit, definePolicy, getPrivacyContext } from '@purposekit/core';
import type { Purposekit } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { createRightsRouter, privacyOf, purposekit } from './index';

const policy = definePolicy({
  id: 'fastify-test',
  version: '1',
  jurisdictions: ['US'],
  defaultPurpose: 'service.provision',
  purposes: {
    'service.provision': { basis: 'legitimate-interests', data: ['usage-data'] },
    diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] },
    'service.registration': { basis: 'contract', data: ['name'], ageGate: 'adult' },
  },
  ageGates: { adult: { minimumAge: 18 } },
});
const TODAY = new Date('2026-06-15T12:00:00Z');

function newKit(audit = new InMemoryAuditSink()): Purposekit {
  return createPurposekit({ policy, audit, subjectKey: { id: 'k1', secret: 'x'.repeat(32) }, ageGate: { secret: 'l'.repeat(32), secureCookie: false, now: () => TODAY } });
}

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

const postJson = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('@purposekit/fastify: the plugin', () => {
  it('privacyOf() gives the typed context, the same one AsyncLocalStorage holds after an await', async () => {
    const app = Fastify();
    await app.register(purposekit, { kit: newKit() });
    app.get('/x', { config: { purpose: 'diagnostics' } }, async (request) => {
      const ctx = privacyOf(request);
      await new Promise((r) => setImmediate(r));
      return { purpose: ctx.purpose, same: getPrivacyContext() === ctx };
    });
    const base = await listen(app);
    expect(await (await fetch(`${base}/x`)).json()).toEqual({ purpose: 'diagnostics', same: true });
  });

  it('privacyOf() throws PURPOSEKIT_ERR_NO_CONTEXT without the plugin (a plain 500 from Fastify)', async () => {
    const app = Fastify();
    let code: unknown;
    app.get('/x', async (request) => {
      try {
        privacyOf(request);
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      return {};
    });
    const base = await listen(app);
    await fetch(`${base}/x`);
    expect(code).toBe('PURPOSEKIT_ERR_NO_CONTEXT');
  });

  it('routes added before the plugin finished loading still get their purpose and age gate (compiled on first use)', async () => {
    const audit = new InMemoryAuditSink();
    const app = Fastify();
    const seen: unknown[] = [];
    // Not awaited: these routes are added before the plugin's onRoute hook exists.
    void app.register(purposekit, { kit: newKit(audit) });
    app.get('/early', { config: { purpose: 'diagnostics' } }, async (request) => ({ purpose: request.privacy?.purpose }));
    app.post('/early-gated', { config: { purpose: 'service.registration', ageGate: 'adult' } }, async (request) => {
      seen.push(request.body);
      return { ok: true };
    });
    const base = await listen(app);
    expect(await (await fetch(`${base}/early`)).json()).toEqual({ purpose: 'diagnostics' });
    const refused = await postJson(`${base}/early-gated`, { name: 'Kid', dateOfBirth: '2012-01-01' });
    expect(refused.status).toBe(403);
    expect(seen).toEqual([]);
    expect(audit.getRecords()).toEqual([expect.objectContaining({ kind: 'age-gate', decision: 'deny', reason: 'refused' })]);
  });

  it('an unknown purpose on a route added before the plugin loaded fails that request closed (500 with its code)', async () => {
    const app = Fastify();
    void app.register(purposekit, { kit: newKit() });
    app.get('/typo', { config: { purpose: 'diagnostic' } }, async () => ({ reached: true }));
    const base = await listen(app);
    const res = await fetch(`${base}/typo`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PURPOSEKIT_ERR_UNKNOWN_PURPOSE');
  });

  it('leaves the app its own error handler: other errors reach it, purposekit errors keep the standard body', async () => {
    const app = Fastify();
    await app.register(purposekit, { kit: newKit() });
    const handled: string[] = [];
    app.setErrorHandler((error: Error, _request, reply) => {
      handled.push(error.message);
      void reply.code(418).send({ mine: true });
    });
    app.get('/boom', async () => {
      throw new Error('app failure');
    });
    app.get('/denied', { config: { purpose: 'diagnostics' } }, async (request) => {
      await privacyOf(request).access({ data: ['name'], action: 'read' });
      return { reached: true };
    });
    const base = await listen(app);
    const boom = await fetch(`${base}/boom`);
    expect([boom.status, await boom.json()]).toEqual([418, { mine: true }]);
    const denied = await fetch(`${base}/denied`);
    expect([denied.status, await denied.json()]).toEqual([403, { error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', message: expect.any(String), reason: 'purpose-limitation' } }]);
    expect(handled).toEqual(['app failure']);
  });

  it('a route\'s own errorHandler still runs for non-purposekit errors', async () => {
    const app = Fastify();
    await app.register(purposekit, { kit: newKit() });
    app.get('/own', { errorHandler: (_e, _q, reply) => void reply.code(409).send({ route: true }) }, async () => {
      throw new Error('x');
    });
    const base = await listen(app);
    const res = await fetch(`${base}/own`);
    expect([res.status, await res.json()]).toEqual([409, { route: true }]);
  });

  it('the age gate runs before schema validation: a refused child gets 403, never a validation message about the body', async () => {
    const app = Fastify();
    const errors: unknown[] = [];
    app.addHook('onError', (_request, _reply, error, done) => {
      errors.push(error);
      done();
    });
    await app.register(purposekit, { kit: newKit() });
    app.post('/register', {
      config: { purpose: 'service.registration', ageGate: 'adult' },
      schema: { body: { type: 'object', required: ['name', 'dateOfBirth', 'employer'], properties: { name: { type: 'string', maxLength: 3 } } } },
    }, async () => ({ ok: true }));
    const base = await listen(app);
    const res = await postJson(`${base}/register`, { name: 'Zebulon', dateOfBirth: '2012-01-01' });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: 'PURPOSEKIT_ERR_AGE_GATE_REFUSED', message: expect.any(String) } });
    expect(errors).toEqual([]);
  });

  it('nothing of a refused body reaches Fastify\'s own request log', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const app = Fastify({ logger: { level: 'trace', stream } });
    await app.register(purposekit, { kit: newKit() });
    app.post('/register', { config: { purpose: 'service.registration', ageGate: 'adult' } }, async () => ({ ok: true }));
    const base = await listen(app);
    expect((await postJson(`${base}/register`, { name: 'Zebulon Quartermaine', dateOfBirth: '2012-03-04' })).status).toBe(403);
    await app.close();
    const text = lines.join('');
    expect(text).toContain('request completed');
    for (const leaked of ['Zebulon', '2012-03-04']) expect(text).not.toContain(leaked);
  });

  it('a server-side failure (audit sink down) is 503 with the standard body, logged with code and message only', async () => {
    const audit = new InMemoryAuditSink();
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const app = Fastify({ logger: { level: 'error', stream } });
    await app.register(purposekit, { kit: newKit(audit) });
    app.get('/ip', { config: { purpose: 'diagnostics' } }, async (request) => privacyOf(request).access({ data: ['ip-address'], action: 'read' }));
    const base = await listen(app);
    audit.failAppends();
    const res = await fetch(`${base}/ip`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    await app.close();
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toEqual([expect.objectContaining({ level: 50, code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', msg: expect.any(String) })]);
    expect(logged[0]).not.toHaveProperty('err');
  });

  it.each([
    ['trustProxy true: the left-most entry, and one warning', { trustProxy: true }, '198.51.100.0', ['PURPOSEKIT_WARN_TRUST_ALL_PROXIES']],
    // Whatever this Fastify does with a hop count (5.12 trusts none: it cannot check the peer).
    ['trustProxy 1 (hops): exactly what Fastify resolves', { trustProxy: 1 }, undefined, []],
    ['trustProxy "127.0.0.1": the right-most entry', { trustProxy: '127.0.0.1' }, '203.0.113.0', []],
    ['trustProxy ["127.0.0.1", "203.0.113.2"]: one hop further', { trustProxy: ['127.0.0.1', '203.0.113.2'] }, '198.51.100.0', []],
    ['no trustProxy: the socket peer', {}, '127.0.0.0', []],
  ])('the client IP follows Fastify\'s own trustProxy: %s', async (_label, options, expected, expectedWarnings) => {
    const warnings: string[] = [];
    const app = Fastify(options);
    await app.register(purposekit, { kit: newKit(), onWarning: (_m, code) => warnings.push(code) });
    app.get('/ip', async (request) => ({ ip: request.privacy?.clientIp, fastify: request.ip }));
    const base = await listen(app);
    const body = (await (await fetch(`${base}/ip`, { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.2' } })).json()) as { ip: string; fastify: string };
    // The same client Fastify itself resolves, truncated to /24.
    expect(body.ip).toBe(body.fastify.replace(/\.\d+$/, '.0'));
    if (expected !== undefined) expect(body.ip).toBe(expected);
    expect(warnings).toEqual(expectedWarnings);
  });

  it('gives every request of one keep-alive connection its own client IP, as request.ip says, while the forwarding header changes', async () => {
    const app = Fastify({ trustProxy: '127.0.0.1' });
    await app.register(purposekit, { kit: newKit() });
    const sockets = new Set<object>();
    app.get('/ip', async (request) => {
      sockets.add(request.raw.socket);
      return { purposekit: request.privacy?.clientIp, fastify: request.ip.replace(/\.\d+$/, '.0') };
    });
    const base = await listen(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (headers: Record<string, string>): Promise<unknown> =>
      new Promise((resolve, reject) => {
        get(`${base}/ip`, { agent, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(JSON.parse(text)));
        }).on('error', reject);
      });
    const steps: Array<[Record<string, string>, string]> = [
      [{ 'x-forwarded-for': '198.51.100.1' }, '198.51.100.0'],
      [{ 'x-forwarded-for': '198.51.100.1' }, '198.51.100.0'],
      [{ 'x-forwarded-for': '203.0.113.2' }, '203.0.113.0'],
      [{}, '127.0.0.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 127.0.0.1' }, '198.51.100.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 203.0.113.2' }, '203.0.113.0'],
    ];
    try {
      for (const [headers, expected] of steps) expect(await ask(headers)).toEqual({ purposekit: expected, fastify: expected });
    } finally {
      agent.destroy();
    }
    expect(sockets.size).toBe(1);
  });

  it('lists each declared route in kit.describeRoutes() (not the automatic HEAD twin)', async () => {
    const kit = newKit();
    const app = Fastify();
    await app.register(purposekit, { kit });
    app.get('/members/:id', { config: { purpose: 'diagnostics' } }, async () => ({}));
    app.route({ method: ['POST', 'PUT'], url: '/members', config: { purpose: 'service.registration', ageGate: 'adult' }, handler: async () => ({}) });
    app.get('/plain', async () => ({}));
    await listen(app);
    expect(kit.describeRoutes().map((r) => [r.method, r.path, r.purpose])).toEqual([
      ['POST', '/members', 'service.registration'],
      ['PUT', '/members', 'service.registration'],
      ['GET', '/members/:id', 'diagnostics'],
    ]);
  });

  it('refuses a second registration with another engine; options are validated', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(purposekit, { kit: newKit() });
    await expect(app.register(purposekit, { kit: newKit() })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' });
    const other = Fastify();
    apps.push(other);
    await expect(other.register(purposekit, { kit: newKit(), onWarnin: () => undefined } as never)).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('Did you mean "onWarning"?') });
    const third = Fastify();
    apps.push(third);
    await expect(third.register(purposekit, {} as never)).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' });
  });
});

describe('@purposekit/fastify: rights routes', () => {
  async function withRights(): Promise<string> {
    const kit = newKit();
    const app = Fastify();
    await app.register(purposekit, { kit });
    await app.register(createRightsRouter(kit, { getSubject: (request) => (request.headers['x-user'] as string | undefined), exporter: () => ({}), eraser: () => undefined, accessLog: () => [] }));
    app.post('/privacy/mine', async (request) => ({ body: request.body }));
    return listen(app);
  }

  it('a malformed or oversized body is 400 PURPOSEKIT_ERR_BAD_REQUEST with field "body"', async () => {
    const base = await withRights();
    for (const body of ['{not json', JSON.stringify({ purpose: 'x'.repeat(20_000) })]) {
      const res = await fetch(`${base}/privacy/objection`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'alice' }, body });
      expect(res.status).toBe(400);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ error: { code: 'PURPOSEKIT_ERR_BAD_REQUEST', message: expect.any(String), field: 'body' } });
    }
  });

  it('the app\'s own routes under the prefix stay the app\'s', async () => {
    const base = await withRights();
    const res = await postJson(`${base}/privacy/mine`, { a: 1 });
    expect([res.status, await res.json()]).toEqual([200, { body: { a: 1 } }]);
    expect((await fetch(`${base}/privacy/nothing`)).status).toBe(404);
  });
});
