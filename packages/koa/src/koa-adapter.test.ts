import type { AddressInfo } from 'node:net';
import { Agent, get } from 'node:http';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { PurposekitError, createPurposekit, definePolicy } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import type { AuditSink, Purposekit } from '@purposekit/core';
import { createPrivacy, privacyOf } from './index';
import { jsonBody } from './__tests__/json-body';


const policy = definePolicy({
  id: 'koa-test',
  version: '1',
  jurisdictions: ['US'],
  defaultPurpose: 'service.provision',
  purposes: {
    'service.provision': { basis: 'legitimate-interests', data: ['usage-data'] },
    diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] },
    'service.registration': { basis: 'contract', data: ['name'], ageGate: 'adult' },
  },
  ageGates: { adult: { minimumAge: 18 } },
  rights: { honoured: [] },
});

function newKit(): Purposekit {
  return createPurposekit({ policy, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: 'x'.repeat(32) }, ageGate: { secret: 'l'.repeat(32), secureCookie: false, now: () => new Date('2026-06-15T12:00:00Z') } });
}

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

async function listen(app: Koa): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** `a.b.c.d` → `a.b.c.0`: the policy's default /24 truncation, applied to Koa's own answer. */
const truncate24 = (ip: string): string => ip.replace(/\.\d+$/, '.0');

describe('@purposekit/koa: the client IP follows Koa\'s own proxy settings', () => {
  it.each([
    ['proxy off: the header is ignored', { proxy: false }, { 'x-forwarded-for': '198.51.100.1' }, '127.0.0.0', []],
    ['proxy on, maxIpsCount 0: the left-most entry (and a warning)', { proxy: true }, { 'x-forwarded-for': '198.51.100.1, 203.0.113.2' }, '198.51.100.0', ['PURPOSEKIT_WARN_TRUST_ALL_PROXIES']],
    ['proxy on, maxIpsCount 1: the right-most entry', { proxy: true, maxIpsCount: 1 }, { 'x-forwarded-for': '198.51.100.1, 203.0.113.2' }, '203.0.113.0', []],
    ['proxy on, maxIpsCount 2: the second from the right', { proxy: true, maxIpsCount: 2 }, { 'x-forwarded-for': '198.51.100.1, 192.0.2.3, 203.0.113.2' }, '192.0.2.0', []],
    ['proxy on, maxIpsCount larger than the chain: the left-most', { proxy: true, maxIpsCount: 5 }, { 'x-forwarded-for': '198.51.100.1, 203.0.113.2' }, '198.51.100.0', []],
    ['proxy on, no header: the socket peer', { proxy: true, maxIpsCount: 1 }, {}, '127.0.0.0', []],
    ['a custom proxyIpHeader: only that header counts', { proxy: true, maxIpsCount: 1, proxyIpHeader: 'X-Client-Chain' }, { 'x-client-chain': '198.51.100.1, 203.0.113.2', 'x-forwarded-for': '192.0.2.9' }, '203.0.113.0', []],
    ['a custom proxyIpHeader with proxy off: ignored', { proxy: false, proxyIpHeader: 'X-Client-Chain' }, { 'x-client-chain': '198.51.100.1' }, '127.0.0.0', []],
  ])('%s', async (_label, settings, headers, expected, expectedWarnings) => {
    const warnings: string[] = [];
    const privacy = createPrivacy(newKit(), { onWarning: (_m, code) => warnings.push(code) });
    const app = new Koa(settings);
    app.use(privacy.middleware());
    app.use((ctx) => {
      ctx.body = { purposekit: privacyOf(ctx).clientIp, koa: truncate24(ctx.ip) };
    });
    const base = await listen(app);
    const first = await (await fetch(base, { headers })).json();
    await fetch(base, { headers });
    // Koa's own ctx.ip, redacted, is the oracle: both must agree.
    expect(first).toEqual({ purposekit: expected, koa: expected });
    expect(warnings).toEqual(expectedWarnings);
  });
});

describe('@purposekit/koa: one keep-alive connection, changing forwarding headers and settings', () => {
  it('gives every request its own client IP, as Koa\'s ctx.ip says', async () => {
    const privacy = createPrivacy(newKit(), { onWarning: () => undefined });
    const app = new Koa({ proxy: true, maxIpsCount: 1 });
    const sockets = new Set<object>();
    app.use(privacy.middleware());
    app.use((ctx) => {
      sockets.add(ctx.req.socket);
      ctx.body = { purposekit: privacyOf(ctx).clientIp, koa: truncate24(ctx.ip) };
    });
    const base = await listen(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (headers: Record<string, string>): Promise<unknown> =>
      new Promise((resolve, reject) => {
        get(base, { agent, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(JSON.parse(text)));
        }).on('error', reject);
      });
    const steps: Array<[Record<string, string>, () => void, string]> = [
      [{ 'x-forwarded-for': '198.51.100.1' }, () => undefined, '198.51.100.0'],
      [{ 'x-forwarded-for': '198.51.100.1' }, () => undefined, '198.51.100.0'],
      [{ 'x-forwarded-for': '203.0.113.2' }, () => undefined, '203.0.113.0'],
      [{}, () => undefined, '127.0.0.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 203.0.113.2' }, () => undefined, '203.0.113.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 203.0.113.2' }, () => (app.maxIpsCount = 2), '198.51.100.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 203.0.113.2' }, () => (app.proxy = false), '127.0.0.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 203.0.113.2' }, () => (app.proxy = true), '198.51.100.0'],
    ];
    try {
      for (const [headers, change, expected] of steps) {
        change();
        expect(await ask(headers)).toEqual({ purposekit: expected, koa: expected });
      }
    } finally {
      agent.destroy();
    }
    expect(sockets.size).toBe(1);
  });
});

describe('@purposekit/koa: errors and the chain', () => {
  function appWithOuterCatcher(privacy: ReturnType<typeof createPrivacy>, seen: unknown[]): Koa {
    const app = new Koa();
    app.silent = true;
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        seen.push(err);
        ctx.status = 418;
        ctx.body = 'app handled it';
      }
    });
    return app;
  }

  it('writes purposekit errors itself; rethrows other errors untouched to the app\'s own handling', async () => {
    const seen: unknown[] = [];
    const privacy = createPrivacy(newKit());
    const app = appWithOuterCatcher(privacy, seen);
    app.use(privacy.middleware());
    const boom = new Error('app failure');
    const router = new Router();
    router.get('/boom', () => {
      throw boom;
    });
    router.get('/denied', privacy.purpose('diagnostics'), async (ctx) => {
      await privacyOf(ctx).access({ data: ['name'], action: 'read' });
      ctx.body = 'unreachable';
    });
    app.use(router.routes());
    const base = await listen(app);
    const denied = await fetch(`${base}/denied`);
    expect([denied.status, await denied.json()]).toEqual([403, { error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', message: 'Access to this personal data is not permitted for this purpose.', reason: 'purpose-limitation' } }]);
    const failed = await fetch(`${base}/boom`);
    expect([failed.status, await failed.text()]).toEqual([418, 'app handled it']);
    expect(seen).toEqual([boom]);
    expect(seen[0]).toBe(boom);
  });

  it('a server-side purposekit error (audit unavailable) is answered with 503 and reported on the app\'s error event', async () => {
    const failing: AuditSink = { append: () => Promise.reject(new Error('ENOSPC')), flush: async () => {}, close: async () => {} };
    const privacy = createPrivacy(createPurposekit({ policy, audit: failing, subjectKey: { id: 'k1', secret: 'x'.repeat(32) } }));
    const app = new Koa();
    const reported: unknown[] = [];
    app.on('error', (err: unknown) => reported.push(err));
    app.use(privacy.middleware());
    const router = new Router();
    router.get('/status', privacy.purpose('diagnostics'), async (ctx) => {
      await privacyOf(ctx).access({ data: ['ip-address'], action: 'read' });
      ctx.body = 'unreachable';
    });
    router.get('/denied', privacy.purpose('diagnostics'), () => {
      throw new PurposekitError('PURPOSEKIT_ERR_ACCESS_DENIED', 'x', { details: { reason: 'purpose-limitation' } });
    });
    app.use(router.routes());
    const base = await listen(app);
    const res = await fetch(`${base}/status`);
    expect(res.status).toBe(503);
    expect(reported).toEqual([expect.objectContaining({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' })]);
    // A client error is the client's business: no error event for a 403.
    expect((await fetch(`${base}/denied`)).status).toBe(403);
    expect(reported).toHaveLength(1);
  });

  it('a route helper mounted without the middleware throws PURPOSEKIT_ERR_NO_CONTEXT into the app', async () => {
    const seen: unknown[] = [];
    const privacy = createPrivacy(newKit());
    const app = appWithOuterCatcher(privacy, seen);
    const router = new Router();
    router.get('/p', privacy.purpose('diagnostics'), (ctx) => {
      ctx.body = 'unreachable';
    });
    router.post('/g', privacy.ageGate('adult'), (ctx) => {
      ctx.body = 'unreachable';
    });
    app.use(router.routes());
    const base = await listen(app);
    expect((await fetch(`${base}/p`)).status).toBe(418);
    expect((await fetch(`${base}/g`, { method: 'POST' })).status).toBe(418);
    expect(seen).toEqual([expect.objectContaining({ code: 'PURPOSEKIT_ERR_NO_CONTEXT' }), expect.objectContaining({ code: 'PURPOSEKIT_ERR_NO_CONTEXT' })]);
  });

  it('an age-gate refusal drops ctx.request.body before anything upstream sees it again', async () => {
    const privacy = createPrivacy(newKit());
    const app = new Koa();
    const bodiesAfter: unknown[] = [];
    const handled: unknown[] = [];
    app.use(async (ctx, next) => {
      await next();
      bodiesAfter.push((ctx.request as { body?: unknown }).body);
    });
    app.use(jsonBody());
    app.use(privacy.middleware());
    const router = new Router();
    router.post('/register', privacy.purpose('service.registration'), privacy.ageGate('adult'), (ctx) => {
      handled.push((ctx.request as { body?: unknown }).body);
      ctx.status = 201;
    });
    app.use(router.routes());
    const base = await listen(app);
    const post = (dateOfBirth: string) => fetch(`${base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Zed', dateOfBirth }) });
    const refused = await post('2010-01-01');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect((await post('1990-01-01')).status).toBe(201);
    expect(bodiesAfter).toEqual([undefined, { name: 'Zed', dateOfBirth: '1990-01-01' }]);
    expect(handled).toEqual([{ name: 'Zed', dateOfBirth: '1990-01-01' }]);
  });

  it('rejects bad options and unknown declarations at start-up', () => {
    const kit = newKit();
    expect(() => createPrivacy(kit, { onWarnings: () => undefined } as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('Did you mean "onWarning"?') }));
    expect(() => createPrivacy({} as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
    expect(() => createPrivacy(kit).purpose('diagnostic')).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_UNKNOWN_PURPOSE' }));
    expect(() => createPrivacy(kit).ageGate('adults')).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_UNKNOWN_AGE_GATE' }));
  });
});

describe('privacyOf', () => {
  it('returns ctx.state.privacy, and throws PURPOSEKIT_ERR_NO_CONTEXT without it', () => {
    const fake = { requestId: 'r' } as never;
    expect(privacyOf({ state: { privacy: fake } })).toBe(fake);
    expect(() => privacyOf({ state: {} })).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_NO_CONTEXT', message: expect.stringContaining('privacy.middleware()') }));
  });
});
