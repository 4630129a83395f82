/**
 * The adapter conformance suite (issue 6): one list of scenarios every adapter runs over
 * real HTTP, with the same outcomes. Jest only: it registers `describe`/`it` blocks and
 * must be called at the top level of a Jest test file.
 */
import type * as JestGlobals from '@jest/globals';
import { ERROR_CATALOG, getPrivacyContext } from '@purposekit/core';
import type { AccessRequest, ErrorCode, PrivacyContext, Purposekit } from '@purposekit/core';
import { DOB, POLICY, POLICY_NO_DEFAULT, POLICY_SERVES_GPC, captureLog, createConformanceKit } from './fixtures';
import type { ArrayAuditSink, CapturedLog } from './fixtures';
import type { AdapterHarness, ConformanceAppSpec, ConformanceRightsSpec, ConformanceHandlerInput, ConformanceHandlerResult, ConformanceRoute, StartedConformanceApp } from './types';

/** Number of simultaneous requests in the context-isolation scenario. */
export const CONCURRENT_REQUESTS = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Echo {
  fields: Record<string, unknown>;
  als: { requestId: string | undefined; purpose: string | undefined; basis: string | undefined; subject: string | undefined };
  sameContext: boolean;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function need(privacy: PrivacyContext | undefined): PrivacyContext {
  if (privacy === undefined) throw new Error('conformance: the adapter gave the handler no privacy context');
  return privacy;
}

/** Echoes the adapter's context and what AsyncLocalStorage holds after an await. */
async function echoContext({ privacy }: ConformanceHandlerInput): Promise<ConformanceHandlerResult> {
  const ctx = need(privacy);
  await yieldToEventLoop();
  const als = getPrivacyContext();
  const body: Echo = {
    fields: { ...ctx.logFields() },
    als: { requestId: als?.requestId, purpose: als?.purpose, basis: als?.basis, subject: als?.subject },
    sameContext: als === ctx,
  };
  return { status: 200, body };
}

/** Runs one access; `reached` records that the handler continued past it. */
function accessThen(request: AccessRequest, reached: string[], label: string): ConformanceRoute['handle'] {
  return async ({ privacy }) => {
    const decision = await need(privacy).access(request);
    reached.push(label);
    return { status: 200, body: { decision: decision.reason, purpose: decision.purpose, basis: decision.basis } };
  };
}

const route = (method: 'GET' | 'POST', path: string, handle: ConformanceRoute['handle'], extra: { purpose?: string; ageGate?: string } = {}): ConformanceRoute => ({ method, path, handle, ...extra });

const errorBody = (code: ErrorCode, reason?: string) => ({
  error: { code, message: ERROR_CATALOG[code].message, ...(reason !== undefined ? { reason } : {}) },
});

/**
 * Registers the conformance scenarios for one adapter as a Jest `describe` block named
 * `${name}: adapter conformance`. Every adapter gets the same cases in the same order;
 * a scenario an adapter cannot pass is a bug in that adapter, never a skip.
 *
 * @param name the adapter's name in test titles (e.g. `'express'`, `'nestjs (fastify)'`)
 * @param harness builds a real app of the framework for each scenario
 */
// Jest is loaded when the suite is run, not when the package is imported: users who only
// want InMemoryAuditSink (under vitest, node:test or no runner at all) must not need Jest.
let describe: typeof JestGlobals.describe;
let it: typeof JestGlobals.it;
let expect: typeof JestGlobals.expect;
let afterEach: typeof JestGlobals.afterEach;

export function runConformanceSuite(name: string, harness: AdapterHarness): void {
  ({ describe, it, expect, afterEach } = require('@jest/globals') as typeof JestGlobals);
  describe(`${name}: adapter conformance`, () => {
    let started: StartedConformanceApp[] = [];
    afterEach(async () => {
      await Promise.all(started.map((s) => s.close()));
      started = [];
    });

    interface App {
      base: string;
      audit: ArrayAuditSink;
      log: CapturedLog;
      warnings: string[];
      serverErrors: Array<[string, number, string, string, string | undefined]>;
      kit: Purposekit;
    }

    async function start(routes: ConformanceRoute[], opts: { policy?: typeof POLICY; trustProxy?: 'none' | 'loopback'; mountTwice?: boolean; rights?: ConformanceRightsSpec; reportOnly?: true } = {}): Promise<App> {
      const warnings: string[] = [];
      // The engine's own start-up warnings (report-only) land beside the adapter's.
      const { kit, audit } = createConformanceKit(opts.policy ?? POLICY, opts.reportOnly === undefined ? {} : { reportOnly: opts.reportOnly, onWarning: (_message, code) => warnings.push(code) });
      const log = captureLog();
      const serverErrors: App['serverErrors'] = [];
      const spec: ConformanceAppSpec = {
        kit,
        routes,
        trustProxy: opts.trustProxy ?? 'none',
        mountTwice: opts.mountTwice ?? false,
        ...(opts.rights !== undefined ? { rights: opts.rights } : {}),
        // The request's body as the app sees it when the response ends, as a careless request
        // logger would write it: a refused submission must be gone by then.
        logRequest: (privacy, status, body) => log.logger.info({ ...(privacy?.logFields() ?? { privacy: 'missing' }), status, ...(body !== undefined ? { body } : {}) }, 'request'),
        onWarning: (_message, code) => warnings.push(code),
        onServerError: (error, info) => serverErrors.push([error.code, info.status, info.method, info.path, info.requestId]),
      };
      const app = await harness.start(spec);
      started.push(app);
      return { base: app.baseUrl, audit, log, warnings, serverErrors, kit };
    }

    const postJson = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    it('tagging: a declared route carries its purpose and the policy\'s basis, through AsyncLocalStorage too', async () => {
      const app = await start([route('GET', '/tagged', echoContext, { purpose: 'diagnostics' })]);
      const res = await fetch(`${app.base}/tagged`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Echo;
      expect(body.fields).toEqual({ requestId: expect.stringMatching(UUID), purpose: 'diagnostics', basis: 'legitimate-interests', policy: 'conformance@1', ip: '127.0.0.0' });
      expect(body.als).toEqual({ requestId: body.fields['requestId'], purpose: 'diagnostics', basis: 'legitimate-interests', subject: undefined });
      expect(body.sameContext).toBe(true);
    });

    it('undeclared route: the policy\'s default purpose applies, and an access there is allowed and recorded', async () => {
      const reached: string[] = [];
      const app = await start([route('GET', '/plain', accessThen({ data: ['usage-data'], action: 'read' }, reached, 'plain'))]);
      const res = await fetch(`${app.base}/plain`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ decision: 'allowed', purpose: 'service.provision', basis: 'legitimate-interests' });
      expect(reached).toEqual(['plain']);
      expect(app.audit.events).toEqual([
        expect.objectContaining({ kind: 'access', purpose: 'service.provision', basis: 'legitimate-interests', data: ['usage-data'], action: 'read', decision: 'allow', reason: 'allowed', requestId: expect.stringMatching(UUID) }),
      ]);
    });

    it('undeclared route without a default purpose: 500 PURPOSEKIT_ERR_PURPOSE_UNDECLARED, the deny is recorded, the handler stops', async () => {
      const reached: string[] = [];
      const app = await start([route('GET', '/plain', accessThen({ data: ['usage-data'], action: 'read' }, reached, 'plain'))], { policy: POLICY_NO_DEFAULT });
      const res = await fetch(`${app.base}/plain`);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual(errorBody('PURPOSEKIT_ERR_PURPOSE_UNDECLARED'));
      expect(reached).toEqual([]);
      expect(app.audit.events).toEqual([expect.objectContaining({ kind: 'access', decision: 'deny', reason: 'no-purpose', data: ['usage-data'] })]);
      expect(app.audit.events[0]).not.toHaveProperty('purpose');
    });

    it.each([
      ['an unknown purpose', { purpose: 'diagnostic' }, 'PURPOSEKIT_ERR_UNKNOWN_PURPOSE', 'Did you mean "diagnostics"?'],
      ['an unknown age gate', { purpose: 'service.registration', ageGate: 'adults' }, 'PURPOSEKIT_ERR_UNKNOWN_AGE_GATE', 'Did you mean "adult"?'],
    ] as const)('start-up: declaring %s makes start() reject with its code and a hint', async (_label, decl, code, hint) => {
      const { kit } = createConformanceKit();
      const spec: ConformanceAppSpec = { kit, routes: [route('POST', '/x', echoContext, decl)], logRequest: () => undefined, onWarning: () => undefined, onServerError: () => undefined };
      await expect(harness.start(spec).then((app) => (started.push(app), app))).rejects.toMatchObject({ code, message: expect.stringContaining(hint) });
    });

    it.each([
      ['headers', '/tagged', { 'x-purpose': 'marketing.email', purpose: 'marketing.email', 'x-legal-basis': 'consent' }, 'diagnostics'],
      ['the query', '/tagged?purpose=marketing.email&basis=consent', {}, 'diagnostics'],
      ['headers on an undeclared route', '/plain', { 'x-purpose': 'marketing.email', purpose: 'marketing.email' }, 'service.provision'],
      ['the query on an undeclared route', '/plain?purpose=marketing.email', {}, 'service.provision'],
    ])('a purpose the client sends in %s is ignored', async (_label, path, headers, expected) => {
      const app = await start([route('GET', '/tagged', echoContext, { purpose: 'diagnostics' }), route('GET', '/plain', echoContext)]);
      const body = (await (await fetch(`${app.base}${path}`, { headers })).json()) as Echo;
      expect(body.fields).toMatchObject({ purpose: expected, basis: 'legitimate-interests' });
      expect(body.als.purpose).toBe(expected);
    });

    describe('age gate', () => {
      async function gated() {
        const stored: unknown[] = [];
        const app = await start([
          route('POST', '/register', async ({ privacy, body }) => {
            await need(privacy).access({ data: ['name'], action: 'collect', subject: 'new-member' });
            stored.push(body);
            return { status: 201, body: { ok: true } };
          }, { purpose: 'service.registration', ageGate: 'adult' }),
        ]);
        return { app, stored };
      }

      it('a refusal is 403 with the stable body and a lockout cookie; the handler never runs; an older date is refused while the lockout lasts', async () => {
        const { app, stored } = await gated();
        const refused = await postJson(app.base, '/register', { name: 'Zebulon', dateOfBirth: DOB.minor });
        expect(refused.status).toBe(403);
        expect(await refused.json()).toEqual(errorBody('PURPOSEKIT_ERR_AGE_GATE_REFUSED'));
        const setCookie = refused.headers.get('set-cookie') ?? '';
        expect(setCookie).toMatch(/HttpOnly/i);
        expect(setCookie).toMatch(/Max-Age=86400/);
        const cookie = setCookie.split(';')[0]!;
        const retry = await postJson(app.base, '/register', { name: 'Zebulon', dateOfBirth: DOB.adult }, { cookie });
        expect(retry.status).toBe(403);
        expect(stored).toEqual([]);
        // Without the cookie the same adult submission passes: the refusal came from the lockout.
        expect((await postJson(app.base, '/register', { name: 'Ada', dateOfBirth: DOB.adult })).status).toBe(201);
        expect(stored).toEqual([{ name: 'Ada', dateOfBirth: DOB.adult }]);
        expect(app.audit.events.map((e) => [e.kind, e.decision, e.reason])).toEqual([
          ['age-gate', 'deny', 'refused'],
          ['age-gate', 'deny', 'locked-out'],
          ['access', 'allow', 'allowed'],
        ]);
        const trail = JSON.stringify(app.audit.events) + app.log.lines.join('');
        for (const leaked of ['Zebulon', DOB.minor]) expect(trail).not.toContain(leaked);
        expect(JSON.stringify(app.audit.events)).not.toContain(DOB.adult);
        // The request logger sees the accepted body, and no body at all for the refusals.
        await app.log.waitFor(3);
        const lines = app.log.lines.map((l) => JSON.parse(l) as { status: number; body?: unknown });
        expect(lines.map((l) => [l.status, l.body !== undefined])).toEqual([[403, false], [403, false], [201, true]]);
      });

      it.each([
        ['malformed', { dateOfBirth: '15/06/2000' }, 'PURPOSEKIT_ERR_DOB_MALFORMED'],
        ['missing', {}, 'PURPOSEKIT_ERR_DOB_MISSING'],
      ] as const)('a %s date of birth is 400 with its own code, no lockout cookie, nothing stored', async (_label, dob, code) => {
        const { app, stored } = await gated();
        const res = await postJson(app.base, '/register', { name: 'X', ...dob });
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual(errorBody(code));
        expect(res.headers.get('set-cookie')).toBeNull();
        expect(stored).toEqual([]);
      });
    });

    it('access allowed and denied: both recorded; a deny is 403 with its reason and the handler does not continue', async () => {
      const reached: string[] = [];
      const app = await start([
        route('GET', '/ip', accessThen({ data: ['ip-address'], action: 'read' }, reached, 'ip'), { purpose: 'diagnostics' }),
        route('GET', '/email', accessThen({ data: ['email'], action: 'read', subject: 'u1' }, reached, 'email'), { purpose: 'diagnostics' }),
      ]);
      const ok = await fetch(`${app.base}/ip`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ decision: 'allowed', purpose: 'diagnostics', basis: 'legitimate-interests' });
      const denied = await fetch(`${app.base}/email`);
      expect(denied.status).toBe(403);
      expect(await denied.json()).toEqual(errorBody('PURPOSEKIT_ERR_ACCESS_DENIED', 'purpose-limitation'));
      expect(reached).toEqual(['ip']);
      expect(app.audit.events).toEqual([
        expect.objectContaining({ kind: 'access', purpose: 'diagnostics', data: ['ip-address'], decision: 'allow', reason: 'allowed' }),
        expect.objectContaining({ kind: 'access', purpose: 'diagnostics', data: ['email'], decision: 'deny', reason: 'purpose-limitation', subject: app.kit.pseudonymizeSubject('u1') }),
      ]);
      expect(JSON.stringify(app.audit.events)).not.toContain('"u1"');
    });

    it.each([
      ['trusts the loopback proxy: the right-most untrusted hop is the client', 'loopback', '203.0.113.0'],
      ['trusts no proxy: the forwarded chain is ignored', 'none', '127.0.0.0'],
    ] as const)('client IP: an app that %s, redacted in the context and the captured log', async (_label, trustProxy, expectedIp) => {
      const app = await start([route('GET', '/tagged', async (input) => {
        const result = await echoContext(input);
        app.log.logger.info(need(input.privacy).logFields(), 'handled');
        return result;
      }, { purpose: 'diagnostics' })], { trustProxy });
      // The left-most entry is what a client can forge; only the proxy's own append counts.
      const res = await fetch(`${app.base}/tagged`, { headers: { 'x-forwarded-for': '198.51.100.23, 203.0.113.77' } });
      expect(((await res.json()) as Echo).fields['ip']).toBe(expectedIp);
      await app.log.waitFor(2);
      const logged = app.log.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged.map((l) => [l['msg'], l['ip']])).toEqual([['handled', expectedIp], ['request', expectedIp]]);
      const text = app.log.lines.join('');
      for (const full of ['198.51.100.23', '203.0.113.77', '127.0.0.1']) expect(text).not.toContain(full);
      expect(app.warnings).toEqual([]);
    });

    it.each([
      ['"1" (opt-out)', { 'sec-gpc': '1' }, 403, 'gpc-opt-out'],
      ['"0"', { 'sec-gpc': '0' }, 200, 'allowed'],
      ['absent', {}, 200, 'allowed'],
      ['malformed "yes"', { 'sec-gpc': 'yes' }, 200, 'allowed'],
    ] as const)('GPC: Sec-GPC %s on a GPC purpose', async (_label, headers, status, reason) => {
      const reached: string[] = [];
      // The subject's own request (the app authenticated u1): their GPC speaks for them,
      // and is stored as their opt-out before the decision.
      const own = accessThen({ data: ['email'], action: 'use', subject: 'u1' }, reached, 'newsletter');
      const app = await start([route('GET', '/newsletter', (input) => (need(input.privacy).setSubject('u1'), own(input)), { purpose: 'marketing.email' })]);
      const res = await fetch(`${app.base}/newsletter`, { headers });
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual(status === 403 ? errorBody('PURPOSEKIT_ERR_ACCESS_DENIED', 'gpc-opt-out') : { decision: 'allowed', purpose: 'marketing.email', basis: 'consent' });
      expect(reached).toEqual(status === 403 ? [] : ['newsletter']);
      expect(app.audit.events).toEqual([
        ...(status === 403 ? [expect.objectContaining({ kind: 'consent', purpose: 'marketing.email', attributes: expect.objectContaining({ source: 'gpc' }) })] : []),
        expect.objectContaining({ kind: 'access', purpose: 'marketing.email', reason }),
      ]);
      await app.log.waitFor(1);
      expect((JSON.parse(app.log.lines[0]!) as Record<string, unknown>)['gpc']).toBe(status === 403 ? true : undefined);
    });

    it('GPC: serves /.well-known/gpc.json when the policy asks, and leaves the path to the app otherwise', async () => {
      const routes = () => [route('GET', '/tagged', echoContext, { purpose: 'diagnostics' })];
      const serving = await start(routes(), { policy: POLICY_SERVES_GPC });
      const res = await fetch(`${serving.base}/.well-known/gpc.json?x=1`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ gpc: true, lastUpdate: '2026-01-15' });
      const head = await fetch(`${serving.base}/.well-known/gpc.json`, { method: 'HEAD' });
      expect([head.status, head.headers.get('content-length')]).toEqual([200, String(JSON.stringify({ gpc: true, lastUpdate: '2026-01-15' }).length)]);
      expect((await fetch(`${serving.base}/.well-known/gpc.json`, { method: 'POST' })).status).toBe(404);
      const silent = await start(routes());
      expect((await fetch(`${silent.base}/.well-known/gpc.json`)).status).toBe(404);
      expect(serving.audit.events).toEqual([]);
    });

    describe('data-subject rights and consent (issue 8)', () => {
      const SUBJECT_HEADER = 'x-conformance-subject';
      const as = (subject: string) => ({ [SUBJECT_HEADER]: subject });

      /** The rights endpoints plus one route that accesses data of the subject named in `?as=`. */
      async function withRights() {
        const erased: string[] = [];
        const rectified: Array<[string, unknown]> = [];
        let app: App | undefined; // eslint-disable-line prefer-const -- assigned after the options that read it are built
        const rights: ConformanceRightsSpec = {
          subjectFrom: (headers) => {
            const v = headers[SUBJECT_HEADER];
            return typeof v === 'string' && v !== '' ? v : undefined;
          },
          options: {
            exporter: (subject) => ({ profile: { id: subject } }),
            eraser: (subject) => {
              erased.push(subject);
            },
            erasureRecord: (subject) => ({ id: subject }),
            accessLog: (pseudonym) => app!.audit.events.filter((e) => e.subject === pseudonym),
            rectifier: (subject, changes) => {
              rectified.push([subject, changes]);
            },
          },
        };
        const touch = (purpose: string, data: string[]): ConformanceRoute =>
          route('GET', `/touch/${purpose}`, async ({ privacy, url }) => {
            const subject = new URL(url, 'http://x').searchParams.get('as') ?? undefined;
            try {
              const d = await need(privacy).access({ data, action: 'use', ...(subject !== undefined ? { subject } : {}) });
              return { status: 200, body: { decision: d.reason } };
            } catch (e) {
              const code = (e as { code?: string; details?: { reason?: string } });
              return { status: 403, body: { denied: code.details?.reason ?? code.code } };
            }
          }, { purpose });
        app = await start([touch('diagnostics', ['ip-address']), touch('marketing.email', ['email'])], { rights });
        return { app, erased, rectified };
      }

      const rightsRecords = (app: App) => app.audit.events.filter((e) => e.kind === 'rights').map((e) => [e.attributes?.['right'], e.attributes?.['status']]);

      it('no authenticated subject: 401 PURPOSEKIT_ERR_UNAUTHENTICATED, nothing recorded', async () => {
        const { app } = await withRights();
        for (const [method, path] of [['GET', '/privacy/access-log'], ['GET', '/privacy/export'], ['POST', '/privacy/erasure']] as const) {
          const res = await fetch(`${app.base}${path}`, { method });
          expect([path, res.status]).toEqual([path, 401]);
          expect(await res.json()).toEqual(errorBody('PURPOSEKIT_ERR_UNAUTHENTICATED'));
        }
        expect(app.audit.events).toEqual([]);
      });

      it('access and portability: the subject\'s own records only, recorded with a due date one month out', async () => {
        const { app } = await withRights();
        await fetch(`${app.base}/touch/diagnostics?as=alice`);
        await fetch(`${app.base}/touch/diagnostics?as=bob`);
        const log = (await (await fetch(`${app.base}/privacy/access-log`, { headers: as('alice') })).json()) as { request: { right: string; due: string; status: string }; records: Array<{ purpose: string }> };
        expect(log.request).toMatchObject({ right: 'access', status: 'completed' });
        // Alice's own access, and the receipt of this very request; nothing of Bob's.
        expect(log.records.map((r) => r.purpose)).toEqual(['diagnostics', 'rights-fulfilment']);
        const due = Date.parse(log.request.due) - Date.now();
        expect(due).toBeGreaterThan(27 * 86_400_000);
        expect(due).toBeLessThanOrEqual(31 * 86_400_000);
        const exported = (await (await fetch(`${app.base}/privacy/export`, { headers: as('alice') })).json()) as { format: string; data: unknown; accessLog: Array<{ purpose: string }> };
        expect(exported).toMatchObject({ format: 'purposekit-export', data: { profile: { id: 'alice' } } });
        expect(exported.accessLog.map((r) => r.purpose)).toEqual(['diagnostics', 'rights-fulfilment', 'rights-fulfilment', 'rights-fulfilment']);
        expect(rightsRecords(app)).toEqual([['access', 'received'], ['access', 'completed'], ['portability', 'received'], ['portability', 'completed']]);
      });

      it('restriction and objection take effect on the next decision, and lift', async () => {
        const { app } = await withRights();
        const touch = async () => (await (await fetch(`${app.base}/touch/diagnostics?as=alice`)).json()) as Record<string, string>;
        expect(await touch()).toEqual({ decision: 'allowed' });
        expect((await fetch(`${app.base}/privacy/restriction`, { method: 'POST', headers: as('alice') })).status).toBe(200);
        expect(await touch()).toEqual({ denied: 'restricted' });
        expect((await fetch(`${app.base}/privacy/restriction`, { method: 'DELETE', headers: as('alice') })).status).toBe(200);
        expect(await touch()).toEqual({ decision: 'allowed' });
        expect((await postJson(app.base, '/privacy/objection', { purpose: 'diagnostics' }, as('alice'))).status).toBe(200);
        expect(await touch()).toEqual({ denied: 'objection' });
        expect((await (await fetch(`${app.base}/touch/diagnostics?as=bob`)).json())).toEqual({ decision: 'allowed' });
        expect((await fetch(`${app.base}/privacy/objection`, { method: 'DELETE', headers: { ...as('alice'), 'content-type': 'application/json' }, body: JSON.stringify({ purpose: 'diagnostics' }) })).status).toBe(200);
        expect(await touch()).toEqual({ decision: 'allowed' });
        // An objection to a contract purpose is not a right the GDPR gives: 400.
        const bad = await postJson(app.base, '/privacy/objection', { purpose: 'service.registration' }, as('alice'));
        expect(bad.status).toBe(400);
      });

      it('consent transitions: withdrawn → denied, given → allowed, refused → denied; each change is recorded', async () => {
        const { app } = await withRights();
        const touch = async () => (await (await fetch(`${app.base}/touch/marketing.email?as=alice`)).json()) as Record<string, string>;
        expect(await touch()).toEqual({ decision: 'allowed' }); // implied consent: allowed until the person says no
        for (const [state, expected] of [['withdrawn', { denied: 'consent-withdrawn' }], ['given', { decision: 'allowed' }], ['refused', { denied: 'consent-refused' }]] as const) {
          const res = await postJson(app.base, '/privacy/consent', { purpose: 'marketing.email', state }, as('alice'));
          expect([state, res.status]).toEqual([state, 200]);
          expect(await touch()).toEqual(expected);
        }
        expect(app.audit.events.filter((e) => e.kind === 'consent').map((e) => e.attributes?.['state'])).toEqual(['withdrawn', 'given', 'refused']);
      });

      it('erasure and rectification act on the authenticated subject only; a body naming another subject is refused', async () => {
        const { app, erased, rectified } = await withRights();
        expect((await postJson(app.base, '/privacy/erasure', { subject: 'bob' }, as('alice'))).status).toBe(400);
        expect(erased).toEqual([]);
        const res = await fetch(`${app.base}/privacy/erasure`, { method: 'POST', headers: as('alice') });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ erased: true, kept: ['id'] });
        expect(erased).toEqual(['alice']);
        expect((await postJson(app.base, '/privacy/rectification', { changes: { name: 'Alicia' } }, as('alice'))).status).toBe(200);
        expect(rectified).toEqual([['alice', { name: 'Alicia' }]]);
        expect(rightsRecords(app)).toEqual([['erasure', 'received'], ['erasure', 'completed'], ['rectification', 'received'], ['rectification', 'completed']]);
        expect(JSON.stringify(app.audit.events)).not.toContain('Alicia');
      });
    });

    it('error bodies: every purposekit error is JSON { error: { code, message } } (+ reason on an access deny) with the catalog status', async () => {
      const app = await start([
        route('GET', '/denied', accessThen({ data: ['email'], action: 'read' }, [], 'denied'), { purpose: 'diagnostics' }),
        route('GET', '/invalid', accessThen({ data: [], action: 'read' }, [], 'invalid'), { purpose: 'diagnostics' }),
        route('POST', '/register', echoContext, { purpose: 'service.registration', ageGate: 'adult' }),
      ]);
      const cases: Array<[Promise<Response>, ErrorCode, string | undefined]> = [
        [fetch(`${app.base}/denied`), 'PURPOSEKIT_ERR_ACCESS_DENIED', 'purpose-limitation'],
        [fetch(`${app.base}/invalid`), 'PURPOSEKIT_ERR_ACCESS_DENIED', 'invalid-request'],
        [postJson(app.base, '/register', { dateOfBirth: DOB.minor }), 'PURPOSEKIT_ERR_AGE_GATE_REFUSED', undefined],
        [postJson(app.base, '/register', { dateOfBirth: '2023-02-30' }), 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE', undefined],
      ];
      for (const [pending, code, reason] of cases) {
        const res = await pending;
        expect([res.status, res.headers.get('content-type')?.split(';')[0], await res.json()]).toEqual([ERROR_CATALOG[code].status, 'application/json', errorBody(code, reason)]);
      }
    });

    it('server-side failure: the audit sink fails → 503, the handler does not run, reported exactly once (4xx never)', async () => {
      const reached: string[] = [];
      const app = await start([
        route('GET', '/read', accessThen({ data: ['ip-address'], action: 'read' }, reached, 'read'), { purpose: 'diagnostics' }),
        route('GET', '/denied', accessThen({ data: ['email'], action: 'read' }, reached, 'denied'), { purpose: 'diagnostics' }),
        route('POST', '/register', async (input) => {
          reached.push('register');
          return echoContext(input);
        }, { purpose: 'service.registration', ageGate: 'adult' }),
      ]);
      // A deny and an age-gate refusal are client errors: answered, never reported.
      expect((await fetch(`${app.base}/denied`)).status).toBe(403);
      expect((await postJson(app.base, '/register', { dateOfBirth: DOB.minor })).status).toBe(403);
      expect(app.serverErrors).toEqual([]);

      app.audit.failing = true;
      const unavailable = errorBody('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
      const read = await fetch(`${app.base}/read?subject=s1`);
      expect([read.status, await read.json()]).toEqual([503, unavailable]);
      // The refusal of an under-age submission cannot be recorded: 503, and still no handler.
      const refused = await postJson(app.base, '/register', { dateOfBirth: DOB.minor });
      expect([refused.status, await refused.json()]).toEqual([503, unavailable]);
      expect(reached).toEqual([]);
      await app.log.waitFor(4);
      // Each report names the request it answered, as the request's own log line does.
      const ids = app.log.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['status'] === 503).map((l) => l['requestId']);
      expect(app.serverErrors).toEqual([
        ['PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 503, 'GET', '/read', expect.stringMatching(UUID)],
        ['PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 503, 'POST', '/register', expect.stringMatching(UUID)],
      ]);
      expect(app.serverErrors.map((e) => e[4]).sort()).toEqual([...ids].sort());
    });

    it('other errors are left to the framework: a plain Error is a 500 without a purposekit body', async () => {
      const app = await start([route('GET', '/boom', async () => {
        throw new Error('not a purposekit error');
      }, { purpose: 'diagnostics' })]);
      const res = await fetch(`${app.base}/boom`);
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain('PURPOSEKIT_ERR');
    });

    it(`concurrent requests keep separate contexts (${CONCURRENT_REQUESTS} requests in flight at once)`, async () => {
      // Every handler waits until all requests have arrived: the contexts are provably
      // alive at the same time, with no sleep.
      let arrived = 0;
      let release!: () => void;
      const allArrived = new Promise<void>((resolve) => (release = resolve));
      const handle: ConformanceRoute['handle'] = async (input) => {
        const subject = new URL(input.url, 'http://x').searchParams.get('subject');
        need(input.privacy).setSubject(subject ?? 'none');
        if (++arrived === CONCURRENT_REQUESTS) release();
        await allArrived;
        return echoContext(input);
      };
      const purposes = ['diagnostics', 'site-administration', 'service.provision'] as const;
      const app = await start([
        route('GET', '/c/diagnostics', handle, { purpose: 'diagnostics' }),
        route('GET', '/c/site-administration', handle, { purpose: 'site-administration' }),
        route('GET', '/c/service.provision', handle),
      ]);
      const results = await Promise.all(
        Array.from({ length: CONCURRENT_REQUESTS }, (_, i) => fetch(`${app.base}/c/${purposes[i % 3]}?subject=s${i}`).then((r) => r.json() as Promise<Echo>)),
      );
      results.forEach((r, i) => {
        expect([r.fields['purpose'], r.als.purpose, r.als.subject, r.sameContext]).toEqual([purposes[i % 3], purposes[i % 3], `s${i}`, true]);
      });
      expect(new Set(results.map((r) => r.fields['requestId'])).size).toBe(CONCURRENT_REQUESTS);
      await app.log.waitFor(CONCURRENT_REQUESTS);
      const logged = app.log.lines.map((l) => JSON.parse(l) as { requestId: string; purpose: string });
      const byId = new Map(results.map((r) => [r.fields['requestId'], r.fields['purpose']]));
      expect(logged.map((l) => byId.get(l.requestId) === l.purpose).every(Boolean)).toBe(true);
      expect(new Set(logged.map((l) => l.requestId)).size).toBe(CONCURRENT_REQUESTS);
    });

    it('report-only: a would-be deny is recorded with enforced: false and the handler goes on; age gates stay enforced', async () => {
      const reached: string[] = [];
      const stored: unknown[] = [];
      const register: ConformanceRoute['handle'] = async ({ privacy, body }) => {
        await need(privacy).access({ data: ['name'], action: 'collect', subject: 'new-member' });
        stored.push(body);
        return { status: 201, body: { ok: true } };
      };
      const app = await start([
        route('GET', '/email', accessThen({ data: ['email'], action: 'read', subject: 'u1' }, reached, 'email'), { purpose: 'diagnostics' }),
        route('POST', '/register', register, { purpose: 'service.registration', ageGate: 'adult' }),
        route('POST', '/register-ungated', register, { purpose: 'service.registration' }),
      ], { reportOnly: true });
      const email = await fetch(`${app.base}/email`);
      expect([email.status, await email.json()]).toEqual([200, { decision: 'allowed', purpose: 'diagnostics', basis: 'legitimate-interests' }]);
      expect(reached).toEqual(['email']);
      // A refused child stays refused: age gates are never report-only.
      const child = await postJson(app.base, '/register', { name: 'Zebulon', dateOfBirth: DOB.minor });
      expect([child.status, await child.json()]).toEqual([403, errorBody('PURPOSEKIT_ERR_AGE_GATE_REFUSED')]);
      // Collecting under a gated purpose without passing a gate stays denied too.
      const ungated = await postJson(app.base, '/register-ungated', { name: 'Ada', dateOfBirth: DOB.adult });
      expect([ungated.status, await ungated.json()]).toEqual([403, errorBody('PURPOSEKIT_ERR_ACCESS_DENIED', 'age-unverified')]);
      expect(stored).toEqual([]);
      expect(app.audit.events.map((e) => [e.kind, e.decision, e.reason, e.attributes])).toEqual([
        ['access', 'deny', 'purpose-limitation', { enforced: false }],
        ['age-gate', 'deny', 'refused', { gate: 'adult' }],
        ['access', 'deny', 'age-unverified', undefined],
      ]);
      expect(app.warnings).toEqual(['PURPOSEKIT_WARN_REPORT_ONLY']);
    });

    it('mounting the middleware twice is harmless: one context, one record per access, one log line per request', async () => {
      const reached: string[] = [];
      const app = await start([
        route('GET', '/ip', accessThen({ data: ['ip-address'], action: 'read' }, reached, 'ip'), { purpose: 'diagnostics' }),
        route('GET', '/tagged', echoContext, { purpose: 'diagnostics' }),
        route('GET', '/email', accessThen({ data: ['email'], action: 'read' }, reached, 'email'), { purpose: 'diagnostics' }),
      ], { mountTwice: true, trustProxy: 'loopback' });
      expect((await fetch(`${app.base}/ip`)).status).toBe(200);
      const echo = (await (await fetch(`${app.base}/tagged`)).json()) as Echo;
      expect([echo.sameContext, echo.als.requestId]).toEqual([true, echo.fields['requestId']]);
      const denied = await fetch(`${app.base}/email`);
      expect([denied.status, await denied.json()]).toEqual([403, errorBody('PURPOSEKIT_ERR_ACCESS_DENIED', 'purpose-limitation')]);
      expect(app.audit.events.map((e) => e.decision)).toEqual(['allow', 'deny']);
      await app.log.waitFor(3);
      expect(app.log.lines).toHaveLength(3);
      expect(app.warnings).toEqual([]);
    });
  });
}
