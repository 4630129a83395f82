import type { AddressInfo } from 'node:net';
import { Agent, get } from 'node:http';
import type { Server } from 'node:http';
import express from 'express';
import { createPurposekit, definePolicy, getPrivacyContext, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import type { Purposekit } from '@purposekit/core';
import { createPrivacy, privacyOf } from './index';


const subjectKey = { id: 'k1', secret: 'x'.repeat(32) };
let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

async function listen(app: express.Express): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function appFor(kit: Purposekit) {
  const privacy = createPrivacy(kit, { onWarning: () => undefined });
  const app = express();
  app.use(privacy.middleware());
  app.get('/diagnose', privacy.purpose('diagnostics'), (req, res) => {
    res.json(privacyOf(req).logFields());
  });
  app.get('/undeclared', async (req, res, next) => {
    try {
      await privacyOf(req).access({ data: ['usage-data'], action: 'read' });
      res.json({ purpose: privacyOf(req).purpose, basis: privacyOf(req).basis });
    } catch (e) {
      next(e);
    }
  });
  app.get('/deep', privacy.purpose('site-administration'), async (_req, res) => {
    // The context is found through AsyncLocalStorage, with no req in sight.
    const deep = async () => {
      await new Promise((r) => setImmediate(r));
      return getPrivacyContext()?.purpose;
    };
    res.json({ purpose: await deep() });
  });
  app.get('/email', privacy.purpose('diagnostics'), async (req, res, next) => {
    let handlerRanPastAccess = false;
    try {
      await privacyOf(req).access({ data: ['email'], action: 'read', subject: 'u1' });
      handlerRanPastAccess = true;
      res.json({ ok: true });
    } catch (e) {
      res.setHeader('x-ran-past-access', String(handlerRanPastAccess));
      next(e);
    }
  });
  app.use(privacy.errorHandler());
  return app;
}

describe('@purposekit/express: purpose tagging over real HTTP', () => {
  it('tags a declared route with its purpose and the policy\'s basis, and redacts the IP', async () => {
    const audit = new InMemoryAuditSink();
    const base = await listen(appFor(createPurposekit({ policy: openinfra, audit, subjectKey })));
    const res = await fetch(`${base}/diagnose`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ purpose: 'diagnostics', basis: 'legitimate-interests', policy: 'openinfra@2024-current', ip: '127.0.0.0' });
    expect(body['requestId']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('ignores a purpose sent by the client in a header or the query', async () => {
    const base = await listen(appFor(createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey })));
    const res = await fetch(`${base}/diagnose?purpose=marketing.email&basis=consent`, { headers: { 'x-purpose': 'marketing.email', 'x-legal-basis': 'consent', purpose: 'marketing.email' } });
    expect(await res.json()).toMatchObject({ purpose: 'diagnostics', basis: 'legitimate-interests' });
    const res2 = await fetch(`${base}/undeclared?purpose=marketing.email`, { headers: { 'x-purpose': 'marketing.email' } });
    expect(await res2.json()).toEqual({ purpose: 'service.provision', basis: 'legitimate-interests' });
  });

  it('gives an undeclared route the policy default purpose', async () => {
    const audit = new InMemoryAuditSink();
    const base = await listen(appFor(createPurposekit({ policy: openinfra, audit, subjectKey })));
    expect(await (await fetch(`${base}/undeclared`)).json()).toEqual({ purpose: 'service.provision', basis: 'legitimate-interests' });
    expect(audit.getRecords()).toMatchObject([{ kind: 'access', purpose: 'service.provision', decision: 'allow', reason: 'allowed' }]);
  });

  it('fails closed on an undeclared route when the policy has no default purpose', async () => {
    const audit = new InMemoryAuditSink();
    const policy = definePolicy({ id: 'nodefault', version: '1', jurisdictions: ['US'], purposes: { diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] }, 'site-administration': { basis: 'legitimate-interests', data: ['usage-data'] } } });
    const base = await listen(appFor(createPurposekit({ policy, audit, subjectKey })));
    const res = await fetch(`${base}/undeclared`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'PURPOSEKIT_ERR_PURPOSE_UNDECLARED', message: 'This route has no declared purpose.' } });
    expect(audit.getRecords()).toMatchObject([{ kind: 'access', decision: 'deny', reason: 'no-purpose' }]);
  });

  it('rejects an unknown purpose when the route is declared (start-up), with a hint', () => {
    const privacy = createPrivacy(createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey }));
    expect(() => privacy.purpose('diagnostic')).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_UNKNOWN_PURPOSE', message: expect.stringContaining('Did you mean "diagnostics"?') }));
  });

  it('carries the context through async code (AsyncLocalStorage)', async () => {
    const base = await listen(appFor(createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey })));
    expect(await (await fetch(`${base}/deep`)).json()).toEqual({ purpose: 'site-administration' });
  });

  it('turns a deny into 403 with the stable body, records it, and the handler does not continue', async () => {
    const audit = new InMemoryAuditSink();
    const base = await listen(appFor(createPurposekit({ policy: openinfra, audit, subjectKey })));
    const res = await fetch(`${base}/email`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-ran-past-access')).toBe('false');
    expect(await res.json()).toEqual({ error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', message: 'Access to this personal data is not permitted for this purpose.', reason: 'purpose-limitation' } });
    expect(audit.getRecords()).toHaveLength(1);
    expect(audit.getRecords()[0]).toMatchObject({ kind: 'access', purpose: 'diagnostics', basis: 'legitimate-interests', data: ['email'], decision: 'deny', reason: 'purpose-limitation', policy: { id: 'openinfra', version: '2024-current' } });
    expect(audit.getRecords()[0]!.subject).toMatch(/k1/);
    expect(audit.getRecords()[0]!.subject).not.toContain('u1');
  });

  it('keeps concurrent requests apart', async () => {
    const base = await listen(appFor(createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey })));
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => fetch(`${base}/${i % 2 ? 'deep' : 'diagnose'}`).then((r) => r.json() as Promise<{ purpose: string }>)));
    results.forEach((r, i) => expect(r.purpose).toBe(i % 2 ? 'site-administration' : 'diagnostics'));
  });

  it('is harmless when mounted twice, and warns once when the app trusts every proxy', async () => {
    const warnings: string[] = [];
    const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey });
    const privacy = createPrivacy(kit, { onWarning: (_m, code) => warnings.push(code) });
    const app = express();
    app.set('trust proxy', true);
    app.use(privacy.middleware(), privacy.middleware());
    const ids: string[] = [];
    app.get('/x', privacy.purpose('diagnostics'), (req, res) => {
      ids.push(privacyOf(req).requestId);
      res.json(privacyOf(req).logFields());
    });
    const base = await listen(app);
    const body = (await (await fetch(`${base}/x`, { headers: { 'x-forwarded-for': '203.0.113.77' } })).json()) as { ip: string };
    await fetch(`${base}/x`);
    expect(body.ip).toBe('203.0.113.0');
    expect(ids).toHaveLength(2);
    expect(warnings).toEqual(['PURPOSEKIT_WARN_TRUST_ALL_PROXIES']);
  });

  it('gives every request of one keep-alive connection its own client IP, as req.ip says, while headers and "trust proxy" change', async () => {
    const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey });
    const privacy = createPrivacy(kit, { onWarning: () => undefined });
    const app = express();
    app.set('trust proxy', 'loopback');
    const sockets = new Set<object>();
    app.use(privacy.middleware());
    app.get('/x', privacy.purpose('diagnostics'), (req, res) => {
      sockets.add(req.socket);
      res.json({ purposekit: privacyOf(req).clientIp, express: String(req.ip).replace(/\.\d+$/, '.0') });
    });
    const base = await listen(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (headers: Record<string, string>): Promise<unknown> =>
      new Promise((resolve, reject) => {
        get(`${base}/x`, { agent, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(JSON.parse(text)));
        }).on('error', reject);
      });
    const steps: Array<[Record<string, string>, unknown, string]> = [
      [{ 'x-forwarded-for': '198.51.100.1' }, 'loopback', '198.51.100.0'],
      [{ 'x-forwarded-for': '198.51.100.1' }, 'loopback', '198.51.100.0'],
      [{ 'x-forwarded-for': '203.0.113.2' }, 'loopback', '203.0.113.0'],
      [{}, 'loopback', '127.0.0.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 127.0.0.5' }, 'loopback', '198.51.100.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 127.0.0.5' }, 1, '127.0.0.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 127.0.0.5' }, false, '127.0.0.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 127.0.0.5' }, (addr: string) => addr.startsWith('127.'), '198.51.100.0'],
      [{ 'x-forwarded-for': '203.0.113.2' }, (addr: string) => addr.startsWith('127.'), '203.0.113.0'],
    ];
    try {
      for (const [headers, setting, expected] of steps) {
        app.set('trust proxy', setting);
        expect(await ask(headers)).toEqual({ purposekit: expected, express: expected });
      }
    } finally {
      agent.destroy();
    }
    expect(sockets.size).toBe(1);
  });

  it.each([[true], [Infinity]])('warns about trust proxy = %p (every hop trusted), and not about a bounded setting', async (setting) => {
    for (const [value, expected] of [[setting, ['PURPOSEKIT_WARN_TRUST_ALL_PROXIES']], ['loopback', []]] as const) {
      const warnings: string[] = [];
      const privacy = createPrivacy(createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey }), { onWarning: (_m, code) => warnings.push(code) });
      const app = express();
      app.set('trust proxy', value);
      app.use(privacy.middleware());
      app.get('/x', (_req, res) => res.end());
      const base = await listen(app);
      await fetch(`${base}/x`);
      await fetch(`${base}/x`);
      expect(warnings).toEqual(expected);
    }
  });

  it('rejects bad options at start-up', () => {
    const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey });
    expect(() => createPrivacy(kit, { onWarnings: () => undefined } as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('Did you mean "onWarning"?') }));
    expect(() => createPrivacy({} as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
  });
});

describe('@purposekit/express: server-side failures are reported', () => {
  function failingApp(options: Parameters<typeof createPrivacy>[1], env: string) {
    const audit = new InMemoryAuditSink();
    const kit = createPurposekit({ policy: openinfra, audit, subjectKey });
    const privacy = createPrivacy(kit, options);
    const app = express();
    app.set('env', env);
    app.use(privacy.middleware());
    app.get('/diagnose', privacy.purpose('diagnostics'), async (req, res, next) => {
      try {
        await privacyOf(req).access({ data: ['ip-address'], action: 'read' });
        res.json({ ok: true });
      } catch (e) {
        next(e);
      }
    });
    app.use(privacy.errorHandler());
    audit.failAppends();
    return app;
  }

  it('by default as Express reports errors: one stderr line (code, message, path without query, request id), silent when env is test', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write);
    try {
      const prod = await listen(failingApp({}, 'production'));
      expect((await fetch(`${prod}/diagnose?email=someone@example.org`)).status).toBe(503);
      const quiet = await listen(failingApp({}, 'test'));
      expect((await fetch(`${quiet}/diagnose`)).status).toBe(503);
    } finally {
      spy.mockRestore();
    }
    const ours = written.filter((w) => w.startsWith('purposekit:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/^purposekit: PURPOSEKIT_ERR_AUDIT_UNAVAILABLE: .+ \(503 on GET \/diagnose, request [0-9a-f-]{36}\)\n$/);
    expect(ours[0]).not.toContain('example.org');
  });

  it('a reporter that throws does not change the answer', async () => {
    let calls = 0;
    const base = await listen(failingApp({ onServerError: () => {
      calls++;
      throw new Error('reporter down');
    } }, 'test'));
    const res = await fetch(`${base}/diagnose`);
    expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([503, 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE']);
    expect(calls).toBe(1);
  });
});

describe('privacyOf', () => {
  it('returns the request\'s context, and throws PURPOSEKIT_ERR_NO_CONTEXT without one', () => {
    const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey });
    const app = express();
    let seen: unknown;
    app.use(createPrivacy(kit).middleware());
    app.get('/', (req, res) => {
      seen = privacyOf(req);
      res.end();
    });
    expect(() => privacyOf({} as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_NO_CONTEXT', message: expect.stringContaining('privacy.middleware()') }));
    return listen(app)
      .then((base) => fetch(base))
      .then(() => expect(seen).toMatchObject({ requestId: expect.any(String), policyId: 'openinfra' }));
  });
});
