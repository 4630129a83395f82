import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Post, Req } from '@nestjs/common';
import type { MiddlewareConsumer, NestModule } from '@nestjs/common';
import { createPurposekit, getPrivacyContext, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import type { Purposekit } from '@purposekit/core';
import { PrivacyModule, PrivacyRightsModule, PrivacyService, Purpose } from './index';
import type { PrivacyRightsModuleOptions } from './index';
import { PLATFORMS, closeApps, createApp } from '../test/harness';
import type { Platform } from '../test/harness';

const NOW = Date.parse('2026-03-31T08:00:00.000Z');
const DUE = '2026-04-30T08:00:00.000Z'; // openinfra answers within one month
const subjectKey = { id: 'k1', secret: 'x'.repeat(32) };

// Test authentication: a bearer token per user (Express and Fastify requests both carry `headers`).
const TOKENS: Record<string, string> = { 'Bearer t-alice': 'alice', 'Bearer t-bob': 'bob' };
const getSubject = (req: { headers: Record<string, string | string[] | undefined> }): string | undefined => TOKENS[String(req.headers['authorization'] ?? '')];

// The app's own route under the rights prefix: must not be shadowed by the rights controller.
@Controller('privacy')
class AppPrivacyController {
  @Get('dnt')
  dnt() {
    return { app: 'dnt', purpose: getPrivacyContext()?.purpose ?? null };
  }
}

@Purpose('marketing.email')
@Controller('newsletter')
class NewsletterController {
  constructor(private readonly privacy: PrivacyService) {}

  @Post('send')
  async send(@Req() req: { headers: Record<string, string | string[] | undefined> }) {
    await this.privacy.access({ subject: getSubject(req)!, data: ['email'], action: 'use' });
    return { sent: true };
  }
}

// Exposes the request's context id so the test can tell that the rights record used it.
@Injectable()
class RequestIdHeader {
  use(req: { privacy?: { requestId: string } }, res: { setHeader(n: string, v: string): void }, next: () => void): void {
    res.setHeader('x-test-request-id', req.privacy?.requestId ?? 'none');
    next();
  }
}

@Module({ providers: [RequestIdHeader] })
class RequestIdModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestIdHeader).forRoutes('{*path}');
  }
}

interface Started {
  base: string;
  kit: Purposekit;
  audit: InMemoryAuditSink;
  erased: string[];
  profiles: Map<string, { name: string }>;
}

function kitFor(audit: InMemoryAuditSink): Purposekit {
  return createPurposekit({ policy: openinfra, audit, subjectKey, now: () => NOW });
}

function rightsOptions(kitAudit: InMemoryAuditSink, erased: string[], profiles: Map<string, { name: string }>): Omit<PrivacyRightsModuleOptions, 'prefix'> {
  return {
    getSubject,
    exporter: (subject: string) => ({ profile: profiles.get(subject) ?? null }),
    eraser: (subject: string) => {
      erased.push(subject);
      profiles.delete(subject);
    },
    accessLog: (pseudonym: string) => kitAudit.getRecords().filter((r) => r.subject === pseudonym),
    rectifier: (subject: string, changes: Readonly<Record<string, string | null>>) => {
      const p = profiles.get(subject);
      if (p !== undefined && typeof changes['name'] === 'string') p.name = changes['name'];
    },
    now: () => NOW,
  };
}

async function start(platform: Platform, how: { prefix?: string; async?: boolean; globalPrefix?: string } = {}): Promise<Started> {
  const audit = new InMemoryAuditSink();
  const kit = kitFor(audit);
  const erased: string[] = [];
  const profiles = new Map([['alice', { name: 'Alice A.' }], ['bob', { name: 'Bob B.' }]]);
  const options = rightsOptions(audit, erased, profiles);
  const rights = how.async
    ? PrivacyRightsModule.forRootAsync({ ...(how.prefix !== undefined ? { prefix: how.prefix } : {}), inject: [PrivacyService], useFactory: async (svc: PrivacyService) => (svc.kit === kit ? options : { getSubject: () => undefined }) })
    : PrivacyRightsModule.forRoot({ ...options, ...(how.prefix !== undefined ? { prefix: how.prefix } : {}) });
  const app = await createApp(platform, { imports: [PrivacyModule.forRoot({ kit }), rights, RequestIdModule], controllers: [AppPrivacyController, NewsletterController] });
  if (how.globalPrefix !== undefined) app.setGlobalPrefix(how.globalPrefix);
  await app.listen(0, '127.0.0.1');
  apps.push(app);
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  return { base, kit, audit, erased, profiles };
}

const apps: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await closeApps();
});

async function call(base: string, method: string, path: string, user?: 'alice' | 'bob', body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(user !== undefined ? { authorization: `Bearer t-${user}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

describe.each(PLATFORMS)('PrivacyRightsModule on Nest+%s', (platform) => {
  it.each([
    // [method, path, body, status, what the body holds]
    ['GET', '/privacy/access-log', undefined, 200, { request: { right: 'access', due: DUE, status: 'completed' }, records: [{ kind: 'rights', actor: 'data-subject', purpose: 'rights-fulfilment', attributes: { right: 'access', status: 'received', due: DUE } }] }],
    ['GET', '/privacy/export', undefined, 200, { request: { right: 'portability' }, format: 'purposekit-export', subject: 'alice', data: { profile: { name: 'Alice A.' } } }],
    ['POST', '/privacy/erasure', undefined, 200, { request: { right: 'erasure', status: 'partly-completed' }, erased: true, kept: [] }],
    ['POST', '/privacy/restriction', undefined, 200, { request: { right: 'restriction' }, restricted: true }],
    ['DELETE', '/privacy/restriction', undefined, 200, { request: { right: 'restriction' }, restricted: false }],
    ['POST', '/privacy/objection', { purpose: 'diagnostics' }, 200, { request: { right: 'objection' }, purpose: 'diagnostics', objected: true }],
    ['DELETE', '/privacy/objection', { purpose: 'diagnostics' }, 200, { request: { right: 'objection' }, purpose: 'diagnostics', objected: false }],
    ['POST', '/privacy/consent', { purpose: 'marketing.email', state: 'given' }, 200, { consent: { subject: 'alice', purpose: 'marketing.email', state: 'given', source: 'api' } }],
    ['POST', '/privacy/rectification', { changes: { name: 'Alice B.' } }, 200, { request: { right: 'rectification', status: 'completed' }, fields: ['name'] }],
    ['POST', '/privacy/objection', { purpose: 'service.registration' }, 400, { error: { code: 'PURPOSEKIT_ERR_BAD_REQUEST', field: 'purpose' } }],
    ['POST', '/privacy/consent', { purpose: 'marketing.email', state: 'given', subject: 'bob' }, 400, { error: { code: 'PURPOSEKIT_ERR_BAD_REQUEST', field: 'subject' } }],
  ] as const)('%s %s %j → %i, the core handler\'s answer, recorded under the request\'s context', async (method, path, body, status, expected) => {
    const a = await start(platform);
    const r = await call(a.base, method, path, 'alice', body);
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject(expected);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    if (status === 200 && r.body.request !== undefined) {
      // The adapter passed the request's own context (set by PrivacyModule's middleware), not a fresh one.
      expect(r.body.request.id).toBe(r.headers.get('x-test-request-id'));
      const rights = a.audit.getRecords().filter((e) => e.kind === 'rights');
      expect(rights.map((e) => [e.requestId, e.subject, e.purpose, e.actor, e.attributes?.['status']])).toEqual([
        [r.body.request.id, a.kit.pseudonymizeSubject('alice'), 'rights-fulfilment', 'data-subject', 'received'],
        [r.body.request.id, a.kit.pseudonymizeSubject('alice'), 'rights-fulfilment', 'data-subject', r.body.request.status],
      ]);
    }
  });

  it('erasure runs the app\'s eraser for the authenticated subject only', async () => {
    const a = await start(platform);
    await call(a.base, 'POST', '/privacy/erasure', 'bob');
    expect(a.erased).toEqual(['bob']);
    expect([...a.profiles.keys()]).toEqual(['alice']);
  });

  it('a withdrawal through the endpoint denies the next access of the app with consent-withdrawn', async () => {
    const a = await start(platform);
    await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'given' });
    expect((await call(a.base, 'POST', '/newsletter/send', 'alice')).status).toBe(201);
    const w = await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'withdrawn' });
    expect(w.body).toMatchObject({ request: { right: 'withdraw-consent' }, consent: { state: 'withdrawn' } });
    expect(await call(a.base, 'POST', '/newsletter/send', 'alice')).toMatchObject({ status: 403, body: { error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', reason: 'consent-withdrawn' } } });
  });

  it('without an authenticated subject: 401, nothing recorded', async () => {
    const a = await start(platform);
    const r = await call(a.base, 'GET', '/privacy/access-log');
    expect(r).toMatchObject({ status: 401, body: { error: { code: 'PURPOSEKIT_ERR_UNAUTHENTICATED' } } });
    expect(a.audit.getRecords()).toEqual([]);
  });

  it('leaves the app\'s own routes under the same prefix alone; unknown endpoints are Nest\'s 404', async () => {
    const a = await start(platform);
    expect(await call(a.base, 'GET', '/privacy/dnt')).toMatchObject({ status: 200, body: { app: 'dnt', purpose: 'service.provision' } });
    expect((await call(a.base, 'GET', '/privacy/nothing-here', 'alice')).status).toBe(404);
    expect((await call(a.base, 'PUT', '/privacy/erasure', 'alice')).status).toBe(404);
  });

  it.each([
    ['forRoot', false],
    ['forRootAsync', true],
  ])('%s: a configurable prefix', async (_name, async) => {
    const a = await start(platform, { prefix: '/me/rights', async });
    expect(await call(a.base, 'GET', '/me/rights/export', 'alice')).toMatchObject({ status: 200, body: { subject: 'alice', data: { profile: { name: 'Alice A.' } } } });
    expect((await call(a.base, 'GET', '/privacy/export', 'alice')).status).toBe(404);
  });

  it('under the app\'s global prefix', async () => {
    const a = await start(platform, { globalPrefix: 'api' });
    expect(await call(a.base, 'GET', '/api/privacy/access-log', 'alice')).toMatchObject({ status: 200, body: { request: { right: 'access' } } });
  });

  it.each([
    ['an unknown option, with a hint', () => PrivacyRightsModule.forRoot({ getSubject, exporter: () => null, eraser: () => undefined, accessLogs: () => [] } as never), /unknown option "accessLogs". Did you mean "accessLog"\?/],
    ['a callback the policy\'s rights need', () => PrivacyRightsModule.forRoot({ getSubject }), /exporter.*accessLog.*eraser/],
    ['a bad prefix', () => PrivacyRightsModule.forRoot({ ...rightsOptions(new InMemoryAuditSink(), [], new Map()), prefix: 'privacy/' }), /"prefix" must be a path/],
    ['a prefix from the async factory', () => PrivacyRightsModule.forRootAsync({ useFactory: () => ({ ...rightsOptions(new InMemoryAuditSink(), [], new Map()), prefix: '/x' }) }), /give "prefix" next to useFactory/],
  ])('app start-up rejects %s (PURPOSEKIT_ERR_INVALID_OPTION)', async (_name, module, message) => {
    // Nest instantiates providers in NestFactory.create(): that is where start-up fails.
    await expect(createApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor(new InMemoryAuditSink()) }), module()] })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringMatching(message) });
  });

  it('app start-up rejects the module without PrivacyModule', async () => {
    await expect(createApp(platform, { imports: [PrivacyRightsModule.forRoot(rightsOptions(new InMemoryAuditSink(), [], new Map()))] })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('import PrivacyModule.forRoot') });
  });
});

describe('PrivacyRightsModule options', () => {
  it.each([
    ['forRoot(null)', () => PrivacyRightsModule.forRoot(null as never)],
    ['forRootAsync without useFactory', () => PrivacyRightsModule.forRootAsync({} as never)],
  ])('%s throws PURPOSEKIT_ERR_INVALID_OPTION at once', (_name, fn) => {
    expect(fn).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
  });

  it('never modifies the caller\'s options', () => {
    const options = Object.freeze(rightsOptions(new InMemoryAuditSink(), [], new Map()));
    expect(() => PrivacyRightsModule.forRoot(options)).not.toThrow();
  });
});


