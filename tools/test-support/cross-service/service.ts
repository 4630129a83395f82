/**
 * One service of the cross-service tests, in its own process. Usage:
 *   node -r tools/test-support/register-ts.cjs service.ts <role a|b> <framework express|koa|fastify|nestjs-express|nestjs-fastify> [downstream base URL]
 * (the nestjs-* frameworks need PURPOSEKIT_TS_DECORATORS=1; processes.ts sets it)
 * Prints one JSON line `{ "port": n }` once listening. Env OTEL=1 starts the real
 * OpenTelemetry SDK with the HTTP instrumentation first; OTEL=undici adds the undici
 * instrumentation (fetch).
 *
 * Service A ("service-a") has routes that call B in each way the tests need; service B
 * ("service-b") trusts A's key `k2` (and the retired `k1`) and serves `GET /profile` and
 * `GET /other` (declared purpose `service.provision`), plus `GET /trail` (its audit records).
 */
import type { OtelHarness } from '../otel-sdk';

const [role, framework, downstream] = process.argv.slice(2) as ['a' | 'b', import('./processes').Framework, string | undefined];
let otel: OtelHarness | undefined;
if (process.env['OTEL'] === '1' || process.env['OTEL'] === 'undici') {
  otel = (require('../otel-sdk') as typeof import('../otel-sdk')).startOtel({ undici: process.env['OTEL'] === 'undici' });
}

const KEY_A_CURRENT = { id: 'k2', secret: 'a-current-secret-shared-with-b-32bytes!' };
const KEY_A_RETIRED = { id: 'k1', secret: 'a-retired-secret-shared-with-b-32bytes!' };
const WRONG_SECRET = { id: 'k2', secret: 'not-the-secret-b-knows-for-a-32-bytes!!' };
const UNKNOWN_KID = { id: 'k9', secret: 'a-key-id-b-has-never-heard-of-32bytes!!' };

interface Route {
  path: string;
  purpose: string;
  handle(privacy: import('@purposekit/core').PrivacyContext, url: URL): Promise<unknown>;
}

async function main(): Promise<void> {
  const core = await import('@purposekit/core');
  const { InMemoryAuditSink } = await import('@purposekit/testing');
  const audit = new InMemoryAuditSink();
  const subjectKey = { id: 'sk', secret: 's'.repeat(32) };
  const routes: Route[] = [];

  if (role === 'a') {
    const policy = core.definePolicy({
      id: 'service-a', version: '1', jurisdictions: ['US'], rights: { honoured: [] },
      purposes: {
        analytics: { basis: 'legitimate-interests', data: ['usage-data'] },
        'marketing.email': { basis: 'consent', consentType: 'implied', data: ['email'] },
        'site-administration': { basis: 'legitimate-interests', data: ['usage-data'] },
      },
    });
    const kitWith = (signingKey: { id: string; secret: string }, now?: () => number) =>
      core.createPurposekit({ policy, audit, subjectKey, crossService: { id: 'service-a', signingKey }, ...(now !== undefined ? { now } : {}) });
    const kit = kitWith(KEY_A_CURRENT);
    const kits = {
      signed: kit,
      retired: kitWith(KEY_A_RETIRED),
      'wrong-key': kitWith(WRONG_SECRET),
      'unknown-key': kitWith(UNKNOWN_KID),
      // A clock ten minutes behind: what it signs expired long ago.
      expired: kitWith(KEY_A_CURRENT, () => Date.now() - 600_000),
    } as const;
    const get = async (path: string, headers: Record<string, string>) => {
      const res = await fetch(`${downstream}${path}`, { headers });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const call = async (url: URL) => {
      const mode = url.searchParams.get('mode') ?? 'signed';
      const signWith = (kits as Record<string, typeof kit>)[mode] ?? kit;
      const headers = signWith.purposeHeaders({ audience: 'service-b', method: 'GET', url: '/profile' });
      switch (mode) {
        case 'unsigned': {
          // Only the purpose, as anyone could write it.
          return get('/profile', { baggage: 'purposekit.purpose=analytics,purposekit.basis=legitimate-interests,purposekit.peer=service-a' });
        }
        case 'other-request':
          // Signed for GET /profile, sent to GET /other.
          return get('/other', headers);
        case 'replay': {
          const first = await get('/profile', headers);
          const second = await get('/profile', headers);
          return { first, second };
        }
        case 'otel': {
          const http = await import('node:http');
          return kit.withPurposeBaggage({ audience: 'service-b', method: 'GET', url: '/profile' }, () => new Promise((resolve, reject) => {
            http.get(`${downstream}/profile`, (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (c: string) => (text += c));
              res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) as unknown }));
            }).on('error', reject);
          }));
        }
        case 'otel-fetch':
          // fetch() inside withPurposeBaggage(): only the undici instrumentation puts the
          // baggage on the wire (fetch has no node:http request to patch).
          return kit.withPurposeBaggage({ audience: 'service-b', method: 'GET', url: '/profile' }, async () => {
            const res = await fetch(`${downstream}/profile`);
            return { status: res.status, body: (await res.json()) as unknown };
          });
        default:
          return get('/profile', headers);
      }
    };
    routes.push({ path: '/call', purpose: 'analytics', handle: async (_p, url) => call(url) });
    routes.push({ path: '/call-marketing', purpose: 'marketing.email', handle: async (_p, url) => call(url) });
    await serve(kit, routes, audit);
  } else {
    const policy = core.definePolicy({
      id: 'service-b', version: '1', jurisdictions: ['US'], rights: { honoured: [] }, defaultPurpose: 'service.provision',
      purposes: {
        'service.provision': { basis: 'legitimate-interests', data: ['usage-data'] },
        analytics: { basis: 'legitimate-interests', data: ['usage-data'] },
        // Known to B with another basis than A gives it.
        'site-administration': { basis: 'legal-obligation', data: ['usage-data'] },
      },
    });
    const kit = core.createPurposekit({ policy, audit, subjectKey, crossService: { id: 'service-b', trust: { 'service-a': [KEY_A_CURRENT, KEY_A_RETIRED] } } });
    const profile: Route['handle'] = async (privacy) => {
      await privacy.access({ data: ['usage-data'], action: 'read' });
      return { purpose: privacy.purpose, basis: privacy.basis, requestId: privacy.requestId };
    };
    routes.push({ path: '/profile', purpose: 'service.provision', handle: profile });
    routes.push({ path: '/other', purpose: 'service.provision', handle: profile });
    await serve(kit, routes, audit);
  }
}

async function serve(kit: import('@purposekit/core').Purposekit, routes: Route[], audit: import('@purposekit/testing').InMemoryAuditSink): Promise<void> {
  const trail = () => audit.getRecords();
  let port: number;
  let close: () => Promise<void>;
  if (framework === 'nestjs-express' || framework === 'nestjs-fastify') {
    // Loaded only for Nest: its decorators compile only with PURPOSEKIT_TS_DECORATORS=1.
    const { serveNest } = require('./nest-service') as typeof import('./nest-service');
    ({ port, close } = await serveNest(framework === 'nestjs-express' ? 'express' : 'fastify', kit, routes, trail));
  } else if (framework === 'fastify') {
    const Fastify = (await import('fastify')).default;
    const { purposekit } = await import('@purposekit/fastify');
    const app = Fastify();
    await app.register(purposekit, { kit });
    for (const r of routes) app.get(r.path, { config: { purpose: r.purpose } }, async (request) => r.handle(request.privacy!, new URL(request.url, 'http://x')));
    app.get('/trail', async () => trail());
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as import('node:net').AddressInfo).port;
    close = () => app.close();
  } else if (framework === 'express') {
    const express = (await import('express')).default;
    const { createPrivacy } = await import('@purposekit/express');
    const privacy = createPrivacy(kit);
    const app = express().use(privacy.middleware());
    for (const r of routes) {
      app.get(r.path, privacy.purpose(r.purpose), (req, res, next) => {
        r.handle(req.privacy!, new URL(req.originalUrl, 'http://x')).then((b) => res.json(b), next);
      });
    }
    app.get('/trail', (_req, res) => res.json(trail()));
    app.use(privacy.errorHandler());
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    port = (server.address() as import('node:net').AddressInfo).port;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  } else {
    const Koa = (await import('koa')).default;
    const Router = (await import('@koa/router')).default;
    const { createPrivacy } = await import('@purposekit/koa');
    const privacy = createPrivacy(kit);
    const app = new Koa();
    const router = new Router();
    for (const r of routes) {
      router.get(r.path, privacy.purpose(r.purpose), async (ctx) => {
        ctx.body = await r.handle(ctx.state.privacy!, new URL(ctx.originalUrl, 'http://x'));
      });
    }
    router.get('/trail', (ctx) => {
      ctx.body = trail();
    });
    app.use(privacy.middleware()).use(router.routes());
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    port = (server.address() as import('node:net').AddressInfo).port;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.on('SIGTERM', () => {
    void close().then(() => otel?.shutdown()).then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
