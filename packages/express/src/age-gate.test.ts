import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { bitnami, createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import type { Policy } from '@purposekit/core';
import { createPrivacy, privacyOf } from './index';

const TODAY = new Date('2026-06-15T12:00:00Z');
const DOB = { age12: '2014-01-01', age13: '2013-06-15', age13dayBefore: '2013-06-16', age17: '2009-01-01', age18: '2008-06-15', age30: '1996-03-03' };


let server: Server | undefined;
afterEach(async () => {
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
});

interface Harness {
  base: string;
  audit: InMemoryAuditSink;
  logs: string[];
  stored: unknown[];
}

/**
 * A realistic app: a JSON body parser, a request logger that (carelessly) logs the body
 * at the end of every request, and handlers that store what they receive.
 */
async function start(policy: Policy, routes: Array<[path: string, purpose: string, gate: string]>): Promise<Harness> {
  const audit = new InMemoryAuditSink();
  const logs: string[] = [];
  const stored: unknown[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } }));
  const kit = createPurposekit({ policy, audit, subjectKey: { id: 'k1', secret: 's'.repeat(32) }, ageGate: { secret: 'l'.repeat(32), secureCookie: false, now: () => TODAY } });
  const privacy = createPrivacy(kit);
  const app = express();
  app.use(express.json());
  app.use(privacy.middleware());
  app.use((req, res, next) => {
    res.on('finish', () => logger.info({ ...privacyOf(req).logFields(), path: req.path, status: res.statusCode, body: req.body }, 'request'));
    next();
  });
  for (const [path, purpose, gate] of routes) {
    app.post(path, privacy.purpose(purpose), privacy.ageGate(gate), async (req, res, next) => {
      try {
        // Submitting a consent-based form is the affirmative act: record it, then collect.
        if (privacyOf(req).basis === 'consent') {
          kit.consentStore.setConsent({ subject: 'new-user', purpose: privacyOf(req).purpose!, state: 'given', type: 'explicit', source: 'form', policyVersion: policy.version, at: TODAY.toISOString() });
        }
        await privacyOf(req).access({ data: ['name'], action: 'collect', subject: 'new-user' });
        stored.push(req.body);
        res.status(201).json({ ok: true });
      } catch (e) {
        next(e);
      }
    });
  }
  app.use(privacy.errorHandler());
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, audit, logs, stored };
}

const post = (base: string, path: string, body: unknown, cookie?: string) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });

const cookieOf = (res: Response): string | undefined => res.headers.get('set-cookie')?.split(';')[0];

describe('@purposekit/express ageGate(): the seeds\' gates over real HTTP', () => {
  it('Bitnami (COPPA 13+): 12 refused, 13 accepted', async () => {
    const h = await start(bitnami, [['/register', 'service.registration', 'coppa']]);
    const young = await post(h.base, '/register', { name: 'Kid', dateOfBirth: DOB.age12 });
    expect(young.status).toBe(403);
    expect(await young.json()).toEqual({ error: { code: 'PURPOSEKIT_ERR_AGE_GATE_REFUSED', message: 'Sorry, we cannot accept this submission.' } });
    const ok = await post(h.base, '/register', { name: 'Teen', dateOfBirth: DOB.age13 });
    expect(ok.status).toBe(201);
    expect(h.stored).toEqual([{ name: 'Teen', dateOfBirth: DOB.age13 }]);
  });

  it('OpenInfra: 17 refused for registration, 13 accepted for a survey, 12 refused for anything', async () => {
    const h = await start(openinfra, [['/members', 'service.registration', 'registration'], ['/survey', 'surveys', 'any-collection'], ['/newsletter', 'marketing.email', 'any-collection']]);
    expect((await post(h.base, '/members', { name: 'A', dateOfBirth: DOB.age17 })).status).toBe(403);
    expect((await post(h.base, '/survey', { name: 'B', dateOfBirth: DOB.age13 })).status).toBe(201);
    expect((await post(h.base, '/survey', { name: 'C', dateOfBirth: DOB.age12 })).status).toBe(403);
    expect((await post(h.base, '/newsletter', { name: 'D', dateOfBirth: DOB.age12 })).status).toBe(403);
    expect((await post(h.base, '/members', { name: 'E', dateOfBirth: DOB.age18 })).status).toBe(201);
    expect(h.stored).toEqual([{ name: 'B', dateOfBirth: DOB.age13 }, { name: 'E', dateOfBirth: DOB.age18 }]);
  });

  it('the day before the 13th birthday is refused; the day of it is accepted', async () => {
    const h = await start(bitnami, [['/register', 'service.registration', 'coppa']]);
    expect((await post(h.base, '/register', { dateOfBirth: DOB.age13dayBefore })).status).toBe(403);
    expect((await post(h.base, '/register', { dateOfBirth: DOB.age13 })).status).toBe(201);
  });

  it('a refusal sets a signed HttpOnly lockout cookie; a retry with an older date is refused while it lasts', async () => {
    const h = await start(bitnami, [['/register', 'service.registration', 'coppa']]);
    const first = await post(h.base, '/register', { dateOfBirth: DOB.age12 });
    const setCookie = first.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=/i);
    expect(setCookie).toMatch(/Max-Age=86400/);
    const retry = await post(h.base, '/register', { dateOfBirth: DOB.age30 }, cookieOf(first));
    expect(retry.status).toBe(403);
    expect(h.stored).toEqual([]);
    // A tampered cookie is ignored safely: the request is judged on its own date.
    const tampered = cookieOf(first)!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await post(h.base, '/register', { dateOfBirth: DOB.age30 }, tampered)).status).toBe(201);
  });

  it.each([
    ['missing', {}, 'PURPOSEKIT_ERR_DOB_MISSING'],
    ['malformed', { dateOfBirth: '15/06/2000' }, 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['not a string', { dateOfBirth: 20000615 }, 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['impossible', { dateOfBirth: '2023-02-30' }, 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['in the future', { dateOfBirth: '2030-01-01' }, 'PURPOSEKIT_ERR_DOB_FUTURE'],
    ['absurd', { dateOfBirth: '1850-01-01' }, 'PURPOSEKIT_ERR_DOB_IMPLAUSIBLE'],
  ])('a %s date of birth is a 400 with its own code, no lockout, nothing stored', async (_n, body, code) => {
    const h = await start(bitnami, [['/register', 'service.registration', 'coppa']]);
    const res = await post(h.base, '/register', { name: 'X', ...body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(h.stored).toEqual([]);
  });

  it('a refused submission never reaches a log line or the audit trail; the refusal itself is recorded', async () => {
    const h = await start(openinfra, [['/members', 'service.registration', 'registration']]);
    const secretName = 'Zebulon Quartermaine';
    await post(h.base, '/members', { name: secretName, dateOfBirth: DOB.age17 });
    await post(h.base, '/members', { name: secretName, dateOfBirth: '2023-02-30' });
    const everything = h.logs.join('\n') + JSON.stringify(h.audit.getRecords());
    for (const leaked of [secretName, DOB.age17, '2023-02-30', '"18"', 'minimumAge']) expect(everything).not.toContain(leaked);
    expect(h.logs).toHaveLength(2);
    expect(h.audit.getRecords()).toEqual([
      expect.objectContaining({ kind: 'age-gate', decision: 'deny', reason: 'refused', purpose: 'service.registration', attributes: { gate: 'registration' }, requestId: expect.any(String) }),
      expect.objectContaining({ kind: 'age-gate', decision: 'deny', reason: 'invalid-dob', attributes: { gate: 'registration' } }),
    ]);
  });

  it('passing the gate is what lets the handler collect under a gated purpose', async () => {
    const h = await start(openinfra, [['/members', 'service.registration', 'registration']]);
    expect((await post(h.base, '/members', { dateOfBirth: DOB.age18 })).status).toBe(201);
    expect(h.audit.getRecords()).toEqual([expect.objectContaining({ kind: 'access', action: 'collect', decision: 'allow', purpose: 'service.registration' })]);
  });

  it('drops the raw body copy too: error handlers after a refusal see neither body nor rawBody', async () => {
    const kit = createPurposekit({ policy: bitnami, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: 's'.repeat(32) }, ageGate: { secret: 'l'.repeat(32), secureCookie: false, now: () => TODAY } });
    const privacy = createPrivacy(kit);
    const app = express();
    type Raw = express.Request & { rawBody?: Buffer };
    app.use(express.json({ verify: (req, _res, buf) => { (req as Raw).rawBody = Buffer.from(buf); } }));
    app.use(privacy.middleware());
    const seen: unknown[] = [];
    app.post('/register', privacy.purpose('service.registration'), privacy.ageGate('coppa'), (_req, res) => res.status(201).end());
    app.use((err: unknown, req: express.Request, _res: express.Response, next: express.NextFunction) => {
      seen.push({ body: req.body, rawBody: (req as Raw).rawBody });
      next(err);
    });
    app.use(privacy.errorHandler());
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await post(base, '/register', { name: 'Kid Raw', dateOfBirth: DOB.age12 })).status).toBe(403);
    expect(seen).toEqual([{ body: undefined, rawBody: undefined }]);
  });

  it('declaring an unknown gate fails at start-up', () => {
    const kit = createPurposekit({ policy: bitnami, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: 's'.repeat(32) }, ageGate: { secret: 'l'.repeat(32) } });
    expect(() => createPrivacy(kit).ageGate('copa')).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_UNKNOWN_AGE_GATE', message: expect.stringContaining('Did you mean "coppa"?') }));
  });
});
