import 'reflect-metadata';
import { isIP } from 'node:net';
import { Body, Controller, Get, Global, Injectable, Module, Post, Req } from '@nestjs/common';
import type { MiddlewareConsumer, NestMiddleware, NestModule } from '@nestjs/common';
import { createPurposekit, getPrivacyContext, openinfra } from '@purposekit/core';
import type { Purposekit } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { Accesses, PrivacyModule, PrivacyService, Purpose } from './index';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { INestApplication } from '@nestjs/common';
import { PLATFORMS, closeApps, createApp, json, startApp } from '../test/harness';
import type { Platform } from '../test/harness';

// Where the request context starts (PrivacyModule.configure): on the platform itself when
// that covers the same requests as a Nest middleware on every route, else a Nest
// middleware. Whichever it is, the context must be the one every later stage sees: the
// app's own Nest middleware, guards, the handler (after async work and a request body),
// and every request must get one.

const subjectKey = { id: 'k1', secret: 'x'.repeat(32) };
const kitFor = (audit = new InMemoryAuditSink()): Purposekit => createPurposekit({ policy: openinfra, audit, subjectKey });

type Req = { privacy?: { requestId: string }; raw?: { privacy?: { requestId: string }; ip?: unknown; __seen?: unknown }; headers: Record<string, unknown> };
const ctxOf = (req: Req) => req.privacy ?? req.raw?.privacy;

/** An app's own Nest middleware that reads the context, then awaits, then reads it again. */
@Injectable()
class ReadsContext implements NestMiddleware {
  constructor(private readonly privacy: PrivacyService) {}
  async use(req: Req & { __seen?: unknown }, _res: unknown, next: () => void): Promise<void> {
    const first = getPrivacyContext()?.requestId ?? null;
    await new Promise<void>((resolve) => setImmediate(resolve));
    req.__seen = { first, afterAwait: getPrivacyContext()?.requestId ?? null, service: this.privacy.context?.requestId ?? null, onRequest: ctxOf(req)?.requestId ?? null };
    next();
  }
}

@Controller()
class ProbeController {
  constructor(private readonly privacy: PrivacyService) {}

  @Get('probe')
  @Purpose('diagnostics')
  async probe(@Req() req: Req & { __seen?: unknown }): Promise<unknown> {
    const inHandler = getPrivacyContext()?.requestId ?? null;
    await new Promise<void>((resolve) => setImmediate(resolve));
    return {
      onRequest: ctxOf(req)?.requestId ?? null,
      inHandler,
      afterAwait: getPrivacyContext()?.requestId ?? null,
      purpose: getPrivacyContext()?.purpose ?? null,
      // What the app's middleware saw (it gets the raw request on Fastify).
      middleware: (req.raw ?? req).__seen ?? null,
      // @fastify/middie copies Fastify's request.ip onto the raw request when it runs.
      middieRan: req.raw !== undefined ? req.raw.ip !== undefined : null,
    };
  }

  @Get('ip')
  ip(@Req() req: { ip?: string }): unknown {
    return { platform: req.ip ?? null, ours: getPrivacyContext()?.logFields().ip ?? null };
  }

  @Post('echo')
  @Purpose('diagnostics')
  @Accesses({ data: ['ip-address'], action: 'read' })
  echo(@Body() body: unknown, @Req() req: Req): unknown {
    return { body, onRequest: ctxOf(req)?.requestId ?? null, inHandler: getPrivacyContext()?.requestId ?? null, service: this.privacy.requireContext().requestId };
  }
}

@Module({ providers: [ReadsContext] })
class OwnMiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ReadsContext).forRoutes('*');
  }
}

@Global()
@Module({ providers: [ReadsContext] })
class GlobalOwnMiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ReadsContext).forRoutes({ path: '{*path}', method: 0 });
  }
}

/** A module whose configure() applies nothing (as an AppModule that applies a logger only in some environments). */
@Module({})
class ConfiguresNothingModule implements NestModule {
  configure(_consumer: MiddlewareConsumer): void {
    // nothing in this environment
  }
}

afterEach(closeApps);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(PLATFORMS)('where the context starts (%s)', (platform: Platform) => {
  it('without Nest middleware of the app: one context per request, seen by the guard and the handler across async work', async () => {
    const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() })], controllers: [ProbeController] });
    const a = await json(await fetch(`${base}/probe`));
    const b = await json(await fetch(`${base}/probe`));
    expect(a.onRequest).toMatch(UUID);
    expect(a).toMatchObject({ inHandler: a.onRequest, afterAwait: a.onRequest, purpose: 'diagnostics', middleware: null });
    expect(b.onRequest).toMatch(UUID);
    expect(b.onRequest).not.toBe(a.onRequest);
    // On Fastify the context starts from a Fastify hook: @fastify/middie has nothing to run.
    expect(a.middieRan).toBe(platform === 'fastify' ? false : null);
  });

  it('without Nest middleware of the app: a POST body and an access run under the request context', async () => {
    const audit = new InMemoryAuditSink();
    const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor(audit) })], controllers: [ProbeController] });
    const res = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: 1 }) });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({ body: { n: 1 }, inHandler: body.onRequest, service: body.onRequest });
    expect(audit.getRecords().map((r) => [r.requestId, r.purpose])).toEqual([[body.onRequest, 'diagnostics']]);
  });

  it('a module whose configure() applies no middleware: the same context, still without middie on Fastify', async () => {
    const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() }), ConfiguresNothingModule], controllers: [ProbeController] });
    const body = await json(await fetch(`${base}/probe`));
    expect(body.onRequest).toMatch(UUID);
    expect(body).toMatchObject({ inHandler: body.onRequest, afterAwait: body.onRequest, purpose: 'diagnostics', middleware: null });
    expect(body.middieRan).toBe(platform === 'fastify' ? false : null);
  });

  it.each([
    ['a feature module', OwnMiddlewareModule],
    ['a global module', GlobalOwnMiddlewareModule],
  ])("the app's own Nest middleware (in %s) sees the request's context, before and after awaiting", async (_what, mod) => {
    const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() }), mod], controllers: [ProbeController] });
    for (const path of ['/probe', '/probe?x=1']) {
      const body = await json(await fetch(`${base}${path}`));
      expect(body.onRequest).toMatch(UUID);
      expect(body.middleware).toEqual({ first: body.onRequest, afterAwait: body.onRequest, service: body.onRequest, onRequest: body.onRequest });
      expect(body).toMatchObject({ inHandler: body.onRequest, afterAwait: body.onRequest, purpose: 'diagnostics' });
      // On Fastify the context then starts from a Nest middleware, which middie runs first.
      expect(body.middieRan).toBe(platform === 'fastify' ? true : null);
    }
  });

  it('under a global prefix the context covers the prefixed routes, as before', async () => {
    const app = await createApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() }), OwnMiddlewareModule], controllers: [ProbeController] });
    app.setGlobalPrefix('api');
    await app.listen(0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      const body = await json(await fetch(`${base}/api/probe`));
      expect(body.onRequest).toMatch(UUID);
      expect(body.middleware).toMatchObject({ first: body.onRequest, afterAwait: body.onRequest });
      expect(body).toMatchObject({ inHandler: body.onRequest, purpose: 'diagnostics' });
    } finally {
      await app.close();
    }
  });
});

// The client address: the platform's own request.ip is the oracle (redacted here to /24 by
// a string operation of the test's own), over settings of each form and forwarded chains.
describe.each(PLATFORMS)('client address against the platform\'s own req.ip (%s)', (platform: Platform) => {
  const settings: Array<[string, unknown]> = [
    ['none', undefined],
    ['true', true],
    ['one address', '127.0.0.1'],
    ['a comma list', '10.0.0.1, 127.0.0.1'],
    ['a list with a CIDR range', ['127.0.0.0/8', '10.0.0.0/8']],
    ['a name', 'loopback'],
    ['a hop count', 1],
    ['a function', (address: string, hop: number) => address === '127.0.0.1' || hop < 2],
  ];
  const chains = [undefined, '203.0.113.77', '198.51.100.7, 10.0.0.1', '192.0.2.1, 10.0.0.9, 10.0.0.1', 'garbage, 10.0.0.1'];
  // An address the platform takes from a forwarded header unchecked is never shown: the
  // core says "ip-invalid" instead.
  const redact = (ip: string) => (isIP(ip.replace(/^::ffff:/, '')) === 0 ? 'ip-invalid' : ip).replace(/^(::ffff:)?(\d+\.\d+\.\d+)\.\d+$/, '$1$2.0');

  it.each(settings)('trustProxy %s', async (_name, setting) => {
    let app: INestApplication;
    @Module({ imports: [PrivacyModule.forRoot({ kit: kitFor(), onWarning: () => undefined })], controllers: [ProbeController] })
    class IpModule {}
    if (platform === 'fastify') {
      app = await NestFactory.create(IpModule, new FastifyAdapter(setting === undefined ? {} : { trustProxy: setting as never }), { logger: false });
    } else {
      const adapter = new ExpressAdapter();
      if (setting !== undefined) adapter.getInstance().set('trust proxy', setting);
      app = await NestFactory.create(IpModule, adapter, { logger: false });
    }
    await app.listen(0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      for (const chain of chains) {
        const body = await json(await fetch(`${base}/ip`, { headers: chain === undefined ? {} : { 'x-forwarded-for': chain } }));
        expect(typeof body.platform).toBe('string');
        expect({ chain, ours: body.ours }).toEqual({ chain, ours: redact(body.platform) });
      }
    } finally {
      await app.close();
    }
  });
});

// One handler reached through two controllers (inherited): each gets its own class's
// purpose, however the requests interleave (the route registry keys a route by both).
class WhoBase {
  @Get('who')
  who(): unknown {
    return { purpose: getPrivacyContext()?.purpose ?? null };
  }
}
@Controller('a')
@Purpose('diagnostics')
class WhoA extends WhoBase {}
@Controller('b')
@Purpose('site-administration')
class WhoB extends WhoBase {}

describe.each(PLATFORMS)('an inherited handler (%s)', (platform: Platform) => {
  it('takes the @Purpose of the controller it is reached through', async () => {
    const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() })], controllers: [WhoA, WhoB] });
    const seen: unknown[] = [];
    for (const path of ['/a/who', '/b/who', '/a/who', '/b/who']) seen.push((await json(await fetch(`${base}${path}`))).purpose);
    expect(seen).toEqual(['diagnostics', 'site-administration', 'diagnostics', 'site-administration']);
  });
});
