import 'reflect-metadata';
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import {
  Body,
  Catch,
  Controller,
  Get,
  HttpCode,
  Injectable,
  Logger,
  NotFoundException,
  Param,
  Post,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import type { ArgumentsHost, CallHandler, CanActivate, ExceptionFilter, ExecutionContext, NestInterceptor, PipeTransform } from '@nestjs/common';
import { map } from 'rxjs';
import type { Observable } from 'rxjs';
import { createPurposekit, definePolicy, getPrivacyContext, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import type { Policy, Purposekit } from '@purposekit/core';
import { Accesses, AgeGate, PrivacyModule, PrivacyService, Purpose } from './index';
import { PLATFORMS, closeApps, createApp, json, listenApp, startApp } from '../test/harness';
import type { Platform } from '../test/harness';

const subjectKey = { id: 'k1', secret: 'x'.repeat(32) };
const TODAY = new Date('2026-06-15T12:00:00Z');

function kitFor(policy: Policy = openinfra, audit = new InMemoryAuditSink()): Purposekit {
  return createPurposekit({ policy, audit, subjectKey, ageGate: { secret: 'l'.repeat(32), secureCookie: false, now: () => TODAY } });
}

const seen = () => getPrivacyContext()?.purpose ?? null;

@Injectable()
class SeesContextGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const res = context.switchToHttp().getResponse();
    const value = `${seen()}`;
    // Express and Fastify responses both take headers this way through Nest's raw response.
    (res.raw ?? res).setHeader('x-guard-purpose', value);
    return true;
  }
}

@Injectable()
class SeesContextInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const before = seen();
    return next.handle().pipe(map((body: Record<string, unknown>) => ({ ...body, interceptorBefore: before, interceptorAfter: seen() })));
  }
}

@Injectable()
class SeesContextPipe implements PipeTransform {
  transform(value: unknown): unknown {
    return { value, pipe: seen() };
  }
}

@Catch(NotFoundException)
class SeesContextFilter implements ExceptionFilter {
  catch(_e: NotFoundException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse();
    const body = JSON.stringify({ filter: seen(), requestId: getPrivacyContext()?.requestId ?? null });
    const raw = res.raw ?? res;
    raw.statusCode = 418;
    raw.setHeader('content-type', 'application/json');
    raw.end(body);
  }
}

@Purpose('site-administration')
@Controller('admin')
class AdminController {
  @Get('controller')
  controllerLevel() {
    return getPrivacyContext()!.logFields();
  }

  @Purpose('diagnostics')
  @Get('handler')
  handlerLevel() {
    return getPrivacyContext()!.logFields();
  }

  @UseGuards(SeesContextGuard)
  @UseInterceptors(SeesContextInterceptor)
  @UsePipes(SeesContextPipe)
  @Post('layers/:id')
  @HttpCode(200)
  layers(@Param('id') id: unknown, @Body() _body: unknown) {
    return { handler: seen(), id };
  }

  @UseFilters(SeesContextFilter)
  @Get('missing')
  missing(): never {
    throw new NotFoundException();
  }

  @Get('deep')
  async deep() {
    await new Promise((r) => setImmediate(r));
    return { purpose: seen() };
  }
}

@Controller()
class OpenController {
  readonly ran: string[] = [];
  constructor(private readonly privacy: PrivacyService) {}

  @Get('undeclared')
  async undeclared() {
    await this.privacy.access({ data: ['usage-data'], action: 'read' });
    return { purpose: this.privacy.context!.purpose, basis: this.privacy.context!.basis };
  }

  @Purpose('diagnostics')
  @Accesses({ data: ['device-info'], action: 'read' })
  @Get('allowed')
  allowed() {
    this.ran.push('allowed');
    return { ok: true };
  }

  @Purpose('diagnostics')
  @Accesses({ data: ['email'], action: 'read', subject: (req: { params: { id: string } }) => req.params.id })
  @Get('denied/:id')
  denied() {
    this.ran.push('denied');
    return { ok: true };
  }

  // The subject's own request (u1 is authenticated): only then does their GPC speak for them.
  @Purpose('marketing.email')
  @Get('newsletter')
  async newsletter() {
    this.privacy.context!.setSubject('u1');
    await this.privacy.access({ data: ['email'], action: 'use' });
    return { sent: true };
  }

  @Purpose('service.registration')
  @AgeGate('registration')
  @Accesses({ data: ['name'], action: 'collect', subject: () => 'new-member' })
  @Post('members')
  register(@Body() body: unknown) {
    this.ran.push(`register:${JSON.stringify(body)}`);
    return { ok: true };
  }

  @Get('boom')
  boom(): never {
    throw new Error('not a privacy error');
  }
}

@Controller()
class UndeclaredController {
  constructor(private readonly privacy: PrivacyService) {}

  @Get('undeclared')
  async undeclared() {
    await this.privacy.access({ data: ['usage-data'], action: 'read' });
    return { reached: true };
  }
}

/**
 * POSTs a JSON body in two writes, the second only once the server has parsed the
 * request head, so the rest of the body arrives in a later I/O callback, outside the
 * async context the request started in.
 */
async function postInTwoParts(server: EventEmitter, url: string, body: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  const text = JSON.stringify(body);
  const reached = once(server, 'request');
  const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } });
  const response = once(req, 'response') as Promise<[import('node:http').IncomingMessage]>;
  req.write(text.slice(0, 5));
  await reached;
  req.end(text.slice(5));
  const [res] = await response;
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
}

afterEach(closeApps);

const post = (url: string, body: unknown, cookie?: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });

describe.each(PLATFORMS)('@purposekit/nestjs on %s over real HTTP', (platform: Platform) => {
  const start = (kit: Purposekit, extra: { trustProxy?: boolean | string | number } = {}) =>
    startApp(platform, { imports: [PrivacyModule.forRoot({ kit, onWarning: () => undefined })], controllers: [AdminController, OpenController], ...extra });

  it('tags from the controller\'s @Purpose, and a handler\'s @Purpose overrides it; the IP is redacted', async () => {
    const base = await start(kitFor());
    const ctl = await json(await fetch(`${base}/admin/controller`));
    expect(ctl).toMatchObject({ purpose: 'site-administration', basis: 'legitimate-interests', policy: 'openinfra@2024-current', ip: '127.0.0.0' });
    expect(ctl.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await json(await fetch(`${base}/admin/handler`))).toMatchObject({ purpose: 'diagnostics', basis: 'legitimate-interests' });
  });

  it('gives an undeclared route the policy default purpose', async () => {
    const audit = new InMemoryAuditSink();
    const base = await start(kitFor(openinfra, audit));
    expect(await json(await fetch(`${base}/undeclared`))).toEqual({ purpose: 'service.provision', basis: 'legitimate-interests' });
    expect(audit.getRecords()).toMatchObject([{ kind: 'access', purpose: 'service.provision', decision: 'allow', reason: 'allowed' }]);
  });

  it('fails closed (500 PURPOSEKIT_ERR_PURPOSE_UNDECLARED) on an undeclared route without a default purpose', async () => {
    const audit = new InMemoryAuditSink();
    const policy = definePolicy({ id: 'nodefault', version: '1', jurisdictions: ['US'], purposes: { diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] } } });
    const kit = createPurposekit({ policy, audit, subjectKey });
    const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit })], controllers: [UndeclaredController] });
    const res = await fetch(`${base}/undeclared`);
    expect(res.status).toBe(500);
    expect(await json(res)).toEqual({ error: { code: 'PURPOSEKIT_ERR_PURPOSE_UNDECLARED', message: 'This route has no declared purpose.' } });
    expect(audit.getRecords()).toMatchObject([{ kind: 'access', decision: 'deny', reason: 'no-purpose' }]);
  });

  it('a server-side purposekit error (audit unavailable) answers 503 and is logged through Nest\'s Logger (code and message only)', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const kit = createPurposekit({ policy: openinfra, subjectKey, audit: { append: () => Promise.reject(new Error('ENOSPC')), flush: async () => {}, close: async () => {} } });
      const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit })], controllers: [UndeclaredController] });
      const res = await fetch(`${base}/undeclared`);
      expect(res.status).toBe(503);
      expect(logged.mock.calls.map((c) => String(c[0]).split(':')[0])).toEqual(['PURPOSEKIT_ERR_AUDIT_UNAVAILABLE']);
    } finally {
      logged.mockRestore();
    }
  });

  it('ignores a purpose the client sends in headers or the query', async () => {
    const base = await start(kitFor());
    const headers = { 'x-purpose': 'marketing.email', 'x-legal-basis': 'consent', purpose: 'marketing.email' };
    expect(await json(await fetch(`${base}/admin/handler?purpose=marketing.email&basis=consent`, { headers }))).toMatchObject({ purpose: 'diagnostics', basis: 'legitimate-interests' });
    expect(await json(await fetch(`${base}/undeclared?purpose=marketing.email`, { headers }))).toEqual({ purpose: 'service.provision', basis: 'legitimate-interests' });
  });

  const startWithController = async (kit: Purposekit) => {
    const { base, app } = await listenApp(platform, { imports: [PrivacyModule.forRoot({ kit })], controllers: [OpenController] });
    return { base, ran: app.get(OpenController).ran };
  };

  it('@Accesses allows and records before the handler runs', async () => {
    const audit = new InMemoryAuditSink();
    const { base, ran } = await startWithController(kitFor(openinfra, audit));
    const res = await fetch(`${base}/allowed`);
    expect(res.status).toBe(200);
    expect(ran).toEqual(['allowed']);
    expect(audit.getRecords()).toMatchObject([{ kind: 'access', purpose: 'diagnostics', data: ['device-info'], action: 'read', decision: 'allow', reason: 'allowed' }]);
  });

  it('@Accesses deny: 403 with the stable body and reason, recorded, and the handler never runs', async () => {
    const audit = new InMemoryAuditSink();
    const { base, ran } = await startWithController(kitFor(openinfra, audit));
    const res = await fetch(`${base}/denied/u42`);
    expect(res.status).toBe(403);
    expect(await json(res)).toEqual({ error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', message: 'Access to this personal data is not permitted for this purpose.', reason: 'purpose-limitation' } });
    expect(ran).toEqual([]);
    expect(audit.getRecords()).toHaveLength(1);
    expect(audit.getRecords()[0]).toMatchObject({ kind: 'access', purpose: 'diagnostics', data: ['email'], decision: 'deny', reason: 'purpose-limitation' });
    // subject(req) took the route parameter; the trail holds only its keyed pseudonym.
    expect(audit.getRecords()[0]!.subject).toBe(kitFor().pseudonymizeSubject('u42'));
    expect(JSON.stringify(audit.getRecords())).not.toContain('u42');
  });

  it('GPC opts out of a GPC purpose even with consent given, and is remembered for the person; before it the access is allowed', async () => {
    const kit = kitFor();
    kit.consentStore.setConsent({ subject: 'u1', purpose: 'marketing.email', state: 'given', type: 'explicit', source: 'form', policyVersion: openinfra.version, at: TODAY.toISOString() });
    const base = await start(kit);
    const before = await fetch(`${base}/newsletter`);
    expect(before.status).toBe(200);
    expect(await json(before)).toEqual({ sent: true });
    const withGpc = await fetch(`${base}/newsletter`, { headers: { 'sec-gpc': '1' } });
    expect(withGpc.status).toBe(403);
    expect(await json(withGpc)).toMatchObject({ error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', reason: 'gpc-opt-out' } });
    // Stored as u1's opt-out (consent source gpc): honoured without the header too.
    const after = await fetch(`${base}/newsletter`);
    expect(after.status).toBe(403);
    expect((await kit.consentStore.facts('u1', 'marketing.email')).consent).toMatchObject({ source: 'gpc', state: 'withdrawn' });
  });

  it('keeps the context active in a guard, an interceptor, a pipe and the handler, across a body that arrives late', async () => {
    const app = await createApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() })], controllers: [AdminController] });
    await app.listen(0, '127.0.0.1');
    const server = app.getHttpServer() as import('node:http').Server;
    const res = await postInTwoParts(server, `http://127.0.0.1:${(server.address() as { port: number }).port}/admin/layers/7`, { some: 'body' }).finally(() => app.close());
    expect(res.status).toBe(200);
    expect(res.headers['x-guard-purpose']).toBe('site-administration');
    expect(res.body).toEqual({ handler: 'site-administration', id: { value: '7', pipe: 'site-administration' }, interceptorBefore: 'site-administration', interceptorAfter: 'site-administration' });
  });

  it('keeps the context active in an exception filter', async () => {
    const base = await start(kitFor());
    const res = await fetch(`${base}/admin/missing`);
    expect(res.status).toBe(418);
    const body = await json(res);
    expect(body.filter).toBe('site-administration');
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('leaves other errors to Nest\'s default handling', async () => {
    const base = await start(kitFor());
    const res = await fetch(`${base}/boom`);
    expect(res.status).toBe(500);
    expect(await json(res)).toEqual({ statusCode: 500, message: 'Internal server error' });
  });

  it('keeps concurrent requests apart', async () => {
    const base = await start(kitFor());
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => fetch(`${base}/admin/${i % 2 ? 'deep' : 'handler'}`).then(json)));
    results.forEach((r, i) => expect(r.purpose).toBe(i % 2 ? 'site-administration' : 'diagnostics'));
    const ids = new Set(await Promise.all(Array.from({ length: 10 }, () => fetch(`${base}/admin/controller`).then(json).then((b) => b.requestId))));
    expect(ids.size).toBe(10);
  });

  it('resolves the client IP with the platform\'s own trust-proxy setting', async () => {
    const trusted = await start(kitFor(), { trustProxy: '127.0.0.1' });
    expect(await json(await fetch(`${trusted}/admin/controller`, { headers: { 'x-forwarded-for': '203.0.113.77' } }))).toMatchObject({ ip: '203.0.113.0' });
    await closeApps();
    const untrusted = await start(kitFor());
    expect(await json(await fetch(`${untrusted}/admin/controller`, { headers: { 'x-forwarded-for': '203.0.113.77' } }))).toMatchObject({ ip: '127.0.0.0' });
  });

  it('gives every request of one keep-alive connection its own client IP while the forwarding header changes', async () => {
    const base = await start(kitFor(), { trustProxy: '127.0.0.1' });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (headers: Record<string, string>): Promise<{ ip: string }> =>
      new Promise((resolve, reject) => {
        httpRequest(`${base}/admin/controller`, { agent, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(JSON.parse(text) as { ip: string }));
        })
          .on('error', reject)
          .end();
      });
    const steps: Array<[Record<string, string>, string]> = [
      [{ 'x-forwarded-for': '203.0.113.77' }, '203.0.113.0'],
      [{ 'x-forwarded-for': '203.0.113.77' }, '203.0.113.0'],
      [{ 'x-forwarded-for': '198.51.100.1' }, '198.51.100.0'],
      [{}, '127.0.0.0'],
      [{ 'x-forwarded-for': '198.51.100.1, 203.0.113.77' }, '203.0.113.0'],
      [{ 'x-forwarded-for': '198.51.100.1' }, '198.51.100.0'],
    ];
    try {
      for (const [headers, expected] of steps) expect((await ask(headers)).ip).toBe(expected);
    } finally {
      agent.destroy();
    }
  });

  it('follows the platform on a hop count: Express trusts one hop, Fastify 5 trusts none (request.ip semantics)', async () => {
    const base = await start(kitFor(), { trustProxy: 1 });
    const body = await json(await fetch(`${base}/admin/controller`, { headers: { 'x-forwarded-for': '203.0.113.77' } }));
    expect(body.ip).toBe(platform === 'express' ? '203.0.113.0' : '127.0.0.0');
  });

  describe('@AgeGate', () => {
    it('refuses an under-age submission: 403, neutral body, lockout cookie, handler not run; the refusal is recorded without the data', async () => {
      const audit = new InMemoryAuditSink();
      const kit = kitFor(openinfra, audit);
      const { base, ran } = await startWithController(kit);
      const young = await post(`${base}/members`, { name: 'Zebulon', dateOfBirth: '2009-01-01' });
      expect(young.status).toBe(403);
      expect(await json(young)).toEqual({ error: { code: 'PURPOSEKIT_ERR_AGE_GATE_REFUSED', message: 'Sorry, we cannot accept this submission.' } });
      const setCookie = young.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/Max-Age=/);
      // Locked out: an older date with the cookie is still refused.
      const retry = await post(`${base}/members`, { name: 'Zebulon', dateOfBirth: '1990-01-01' }, setCookie.split(';')[0]);
      expect(retry.status).toBe(403);
      expect(ran).toEqual([]);
      const adult = await post(`${base}/members`, { name: 'Ada', dateOfBirth: '1990-01-01' });
      expect(adult.status).toBe(201);
      expect(ran).toEqual(['register:{"name":"Ada","dateOfBirth":"1990-01-01"}']);
      const trail = JSON.stringify(audit.getRecords());
      for (const leaked of ['Zebulon', '2009-01-01']) expect(trail).not.toContain(leaked);
      expect(audit.getRecords()).toEqual([
        expect.objectContaining({ kind: 'age-gate', decision: 'deny', reason: 'refused', purpose: 'service.registration', attributes: { gate: 'registration' } }),
        expect.objectContaining({ kind: 'age-gate', decision: 'deny', attributes: { gate: 'registration' } }),
        expect.objectContaining({ kind: 'access', action: 'collect', decision: 'allow', purpose: 'service.registration' }),
      ]);
    });

    it.each([
      ['missing', {}, 'PURPOSEKIT_ERR_DOB_MISSING'],
      ['malformed', { dateOfBirth: '15/06/2000' }, 'PURPOSEKIT_ERR_DOB_MALFORMED'],
      ['impossible', { dateOfBirth: '2023-02-30' }, 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
      ['in the future', { dateOfBirth: '2030-01-01' }, 'PURPOSEKIT_ERR_DOB_FUTURE'],
    ])('a %s date of birth is a 400 with its own code and no lockout', async (_n, body, code) => {
      const base = await start(kitFor());
      const res = await post(`${base}/members`, { name: 'X', ...body });
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe(code);
      expect(res.headers.get('set-cookie')).toBeNull();
    });
  });

  describe('start-up', () => {
    it('an unknown @Purpose stops start-up with a hint', async () => {
      @Controller('bad')
      class BadController {
        @Purpose('diagnostic')
        @Get()
        get() {
          return {};
        }
      }
      const app = await createApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() })], controllers: [BadController] });
      await expect(app.init()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_UNKNOWN_PURPOSE', message: expect.stringContaining('Did you mean "diagnostics"?') });
      await app.close();
    });

    it('an unknown controller-level @AgeGate stops start-up', async () => {
      @AgeGate('registraton')
      @Controller('bad')
      class BadController {
        @Get()
        get() {
          return {};
        }
      }
      const app = await createApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() })], controllers: [BadController] });
      await expect(app.init()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_UNKNOWN_AGE_GATE', message: expect.stringContaining('Did you mean "registration"?') });
      await app.close();
    });

    it('a bad @Accesses declaration stops start-up', async () => {
      @Controller('bad')
      class BadController {
        @Accesses({ data: ['email'], action: 'reed' })
        @Get()
        get() {
          return {};
        }
      }
      const app = await createApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() })], controllers: [BadController] });
      await expect(app.init()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('BadController.get') });
      await app.close();
    });
  });
});
