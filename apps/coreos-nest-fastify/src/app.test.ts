import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { coreos, verifyAuditTrail } from '@purposekit/core';
import { createApp, listen } from './app';
import type { CoreOsApp } from './app';

type Json = Record<string, unknown>;

function capture(): { lines: string[]; logger: pino.Logger } {
  const lines: string[] = [];
  return { lines, logger: pino(new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } })) };
}

const OPERATOR = 'coreos-operator-token-for-the-test';
let h: CoreOsApp;
let base: string;
let dataDir: string;
const { lines, logger } = capture();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pk-coreos-'));
  // A reverse proxy on this host (loopback) is trusted: the test client plays that proxy.
  h = await createApp({ dataDir, logger, trustProxy: 'loopback', operatorToken: OPERATOR });
  base = await listen(h.app, 0);
});
afterAll(async () => {
  await h.close();
});

const call = (method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string>; at?: string } = {}) =>
  fetch(`${options.at ?? base}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
const answer = async (res: Response): Promise<[number, unknown]> => [res.status, res.status === 204 ? null : await res.json()];
const denied = (reason: string) => ({ error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', message: 'Access to this personal data is not permitted for this purpose.', reason } });
const requestLines = (from: string[]): Json[] => from.map((l) => JSON.parse(l) as Json).filter((l) => l['msg'] === 'request');
const logFor = (path: string, method = 'GET'): Json[] => requestLines(lines).filter((l) => l['path'] === path && l['method'] === method);
const cookieOf = (res: Response): string | undefined => res.headers.get('set-cookie')?.split(';')[0];

const tokens: Record<string, string> = {};
/** Visitor cookies (`coreos_vid=<id>`) by label. */
const visitors: Record<string, string> = {};
/** Message ids by label. */
const mail: Record<string, string> = {};
/** Names the pseudonyms of the test's subjects, so that records read `ada`, `bo`, `visitor-1`… */
const who = new Map<string, string>();
const name = (label: string, subject: string): void => {
  who.set(h.kit.pseudonymizeSubject(subject), label);
};

function auditEvents(dir = h.auditDir): Json[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json))
    .filter((r) => r['kind'] !== 'checkpoint');
}
let seen = 0;
/** The audit events appended since the last call, as [kind, purpose, basis, decision, reason, whose]. */
function newAudit(): unknown[][] {
  const events = auditEvents();
  const fresh = events.slice(seen);
  seen = events.length;
  return fresh.map((r) => [r['kind'], r['purpose'], r['basis'], r['decision'], r['reason'], r['subject'] === undefined ? undefined : (who.get(String(r['subject'])) ?? 'unknown')]);
}

describe('coreos-nest-fastify reference app', () => {
  it('sign-up (name, email) under service.registration, with no age gate: the policy states none', async () => {
    expect(coreos.ageGates).toEqual({});
    expect(await answer(await fetch(`${base}/`))).toEqual([200, expect.objectContaining({ app: 'coreos-nest-fastify', policy: 'coreos@2015-01-26' })]);
    expect(await answer(await call('POST', '/signup', { body: { name: 'Ada Lovelace' } }))).toEqual([
      400,
      { error: { code: 'APP_INVALID_SIGNUP', message: 'name (at most 200 characters) and email (an email address) are required.' } },
    ]);
    for (const [key, body] of [
      ['ada', { name: 'Ada Lovelace', email: 'ada@example.org', plan: 'enterprise-registry' }],
      ['bo', { name: 'Bo Chen', email: 'bo@example.org' }],
    ] as const) {
      const [status, json] = await answer(await call('POST', '/signup', { body }));
      expect(status).toBe(201);
      const { id, token } = json as { id: string; token: string };
      expect(token).toBe(id);
      tokens[key] = token;
      name(key, id);
    }
    expect(await answer(await call('GET', '/account', { token: tokens['ada']! }))).toEqual([
      200,
      { account: { id: tokens['ada'], name: 'Ada Lovelace', email: 'ada@example.org', createdAt: expect.any(String) } },
    ]);
    // Only name and email are kept: a field the person added is not stored.
    expect(readFileSync(join(dataDir, 'accounts.db'), 'utf8')).not.toContain('enterprise-registry');
    expect(logFor('/')[0]).toMatchObject({ purpose: 'service.provision', basis: 'contract', policy: 'coreos@2015-01-26', ip: '127.0.0.0', status: 200 });
    expect(logFor('/signup', 'POST').map((l) => [l['purpose'], l['basis'], l['status']])).toEqual([
      ['service.registration', 'contract', 400],
      ['service.registration', 'contract', 201],
      ['service.registration', 'contract', 201],
    ]);
    const fresh = auditEvents().slice(seen);
    expect(fresh.map((r) => [r['action'], r['data']])).toEqual([
      ['collect', ['name', 'email']],
      ['collect', ['name', 'email']],
      ['read', ['name', 'email']],
    ]);
    expect(newAudit()).toEqual([
      ['access', 'service.registration', 'contract', 'allow', 'allowed', 'ada'],
      ['access', 'service.registration', 'contract', 'allow', 'allowed', 'bo'],
      ['access', 'account-management', 'contract', 'allow', 'allowed', 'ada'],
    ]);
  });

  it('log information incl. the IP for analytics, redacted; the visitor id cookie follows the engine decision', async () => {
    // From the trusted proxy (loopback): its X-Forwarded-For is used, up to the first
    // untrusted hop; the leftmost entry (which any client can write) is ignored.
    const first = await call('POST', '/analytics/events', { body: { page: '/docs/' }, headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.23' } });
    expect(first.status).toBe(204);
    expect(first.headers.get('set-cookie')).toMatch(/^coreos_vid=[0-9a-f-]{36}; Path=\/; Max-Age=31536000; HttpOnly; SameSite=Lax$/);
    const visitor = cookieOf(first)!;
    const visitorId = visitor.split('=')[1]!;
    visitors['visitor-1'] = visitor;
    name('visitor-1', visitorId);
    // A known visitor: the event is recorded, the cookie is not set again.
    const second = await call('POST', '/analytics/events', { body: { page: '/docs/latest/' }, headers: { cookie: visitor } });
    expect([second.status, second.headers.get('set-cookie')]).toEqual([204, null]);
    expect((await h.store.events(visitorId)).map((e) => [e.page, e.ip])).toEqual([
      ['/docs/', '198.51.100.0'],
      ['/docs/latest/', '127.0.0.0'],
    ]);
    // Sec-GPC: 1 opts out only of GPC-applicable purposes; the preset does not make analytics
    // one (consent by use, US only), so the engine allows it and the cookie is set, as decided.
    expect(coreos.purposes['analytics']!.gpc).toBe(false);
    const gpc = await call('POST', '/analytics/events', { body: { page: '/' }, headers: { 'sec-gpc': '1' } });
    expect(gpc.status).toBe(204);
    const gpcVisitor = cookieOf(gpc)!.split('=')[1]!;
    name('visitor-gpc', gpcVisitor);
    expect(await h.store.events(gpcVisitor)).toHaveLength(1);
    expect(await answer(await call('POST', '/analytics/events', { body: { page: 'https://elsewhere.example/' } }))).toEqual([400, { error: { code: 'APP_INVALID_PAGE', message: 'page must be a site path such as /docs/.' } }]);

    expect(logFor('/analytics/events', 'POST').map((l) => [l['purpose'], l['basis'], l['ip'], l['status']])).toEqual([
      ['analytics', 'consent', '198.51.100.0', 204],
      ['analytics', 'consent', '127.0.0.0', 204],
      ['analytics', 'consent', '127.0.0.0', 204],
      ['analytics', 'consent', '127.0.0.0', 400],
    ]);
    expect(auditEvents().slice(seen).map((r) => r['data'])).toEqual(Array.from({ length: 3 }, () => ['cookie-id', 'ip-address', 'usage-data']));
    expect(newAudit()).toEqual([
      ['access', 'analytics', 'consent', 'allow', 'allowed', 'visitor-1'],
      ['access', 'analytics', 'consent', 'allow', 'allowed', 'visitor-1'],
      ['access', 'analytics', 'consent', 'allow', 'allowed', 'visitor-gpc'],
    ]);
  });

  it('implied consent to analytics holds until the visitor opts out; then every event is denied and no cookie is set', async () => {
    const events = await h.store.countEvents();
    const optOut = await call('POST', '/analytics/opt-out', { headers: { cookie: visitors['visitor-1']! } });
    expect([optOut.headers.get('set-cookie'), ...(await answer(optOut))]).toEqual([null, 200, { purpose: 'analytics', state: 'withdrawn' }]);
    const after = await call('POST', '/analytics/events', { body: { page: '/docs/after-opt-out/' }, headers: { cookie: visitors['visitor-1']! } });
    expect([after.headers.get('set-cookie'), ...(await answer(after))]).toEqual([null, 403, denied('consent-withdrawn')]);
    // A visitor without an id who opts out first: the id is created only to carry the refusal.
    const early = await call('POST', '/analytics/opt-out');
    expect(await answer(early)).toEqual([200, { purpose: 'analytics', state: 'refused' }]);
    const earlyCookie = cookieOf(early)!;
    name('visitor-early', earlyCookie.split('=')[1]!);
    const refused = await call('POST', '/analytics/events', { body: { page: '/pricing/' }, headers: { cookie: earlyCookie } });
    expect([refused.headers.get('set-cookie'), ...(await answer(refused))]).toEqual([null, 403, denied('consent-refused')]);
    expect(await h.store.countEvents()).toBe(events);
    const consents = auditEvents().slice(seen).filter((r) => r['kind'] === 'consent');
    expect(consents.map((r) => r['attributes'])).toEqual([
      { state: 'withdrawn', type: 'implied', source: 'form' },
      { state: 'refused', type: 'implied', source: 'form' },
    ]);
    expect(newAudit()).toEqual([
      ['consent', 'analytics', 'consent', undefined, undefined, 'visitor-1'],
      ['access', 'analytics', 'consent', 'deny', 'consent-withdrawn', 'visitor-1'],
      ['consent', 'analytics', 'consent', undefined, undefined, 'visitor-early'],
      ['access', 'analytics', 'consent', 'deny', 'consent-refused', 'visitor-early'],
    ]);
  });

  it('client IP on Fastify: a spoofed X-Forwarded-For from an untrusted peer is ignored; the log keeps the redacted form only', async () => {
    // The same app, trusting only a proxy at 192.0.2.1: the loopback peer is now an
    // ordinary client, and what it writes in X-Forwarded-For is not believed.
    const other = capture();
    const strict = await createApp({ dataDir: mkdtempSync(join(tmpdir(), 'pk-coreos-strict-')), logger: other.logger, trustProxy: '192.0.2.1' });
    try {
      const at = await listen(strict.app, 0);
      const res = await call('POST', '/analytics/events', { at, body: { page: '/docs/' }, headers: { 'x-forwarded-for': '198.51.100.23' } });
      expect(res.status).toBe(204);
      const id = cookieOf(res)!.split('=')[1]!;
      expect((await strict.store.events(id)).map((e) => e.ip)).toEqual(['127.0.0.0']);
      expect(requestLines(other.lines).map((l) => [l['path'], l['ip']])).toEqual([['/analytics/events', '127.0.0.0']]);
      expect(other.lines.join('\n')).not.toMatch(/198\.51\.100|127\.0\.0\.1/);
    } finally {
      await strict.close();
    }
  });

  it('promotional email opt-out still allows account notices', async () => {
    expect(await answer(await call('POST', '/email/notices', { token: OPERATOR }))).toEqual([201, { sent: 2, skipped: 0 }]);
    expect(await answer(await call('POST', '/email/promotions', { token: OPERATOR }))).toEqual([201, { sent: 2, skipped: 0 }]);
    const [, inbox] = await answer(await call('GET', '/inbox', { token: tokens['ada']! }));
    const messages = (inbox as { messages: Array<{ id: string; kind: string; beacon: string; optOut?: string }> }).messages;
    expect(messages.map((m) => [m.kind, m.beacon, m.optOut])).toEqual([
      ['account-notice', `/beacon.gif?m=${messages[0]!.id}`, undefined],
      ['promotion', `/beacon.gif?m=${messages[1]!.id}`, `/email/opt-out?m=${messages[1]!.id}`],
    ]);
    mail['ada-notice'] = messages[0]!.id;
    // "by following the instructions in those communications": the promotion's opt-out link.
    expect(await answer(await call('POST', '/email/opt-out'))).toEqual([401, { error: { code: 'APP_UNAUTHENTICATED', message: 'Follow the opt-out link of a promotional email, or send Authorization: Bearer <account id>.' } }]);
    expect(await answer(await call('POST', messages[1]!.optOut!))).toEqual([200, { purpose: 'marketing.email', state: 'withdrawn' }]);
    expect(await answer(await call('POST', '/email/promotions', { token: OPERATOR }))).toEqual([201, { sent: 1, skipped: 1 }]);
    expect(await answer(await call('POST', '/email/notices', { token: OPERATOR }))).toEqual([201, { sent: 2, skipped: 0 }]);
    expect((await h.store.inbox(tokens['ada']!)).map((m) => m.kind)).toEqual(['account-notice', 'promotion', 'account-notice']);
    expect((await h.store.inbox(tokens['bo']!)).map((m) => m.kind)).toEqual(['account-notice', 'promotion', 'promotion', 'account-notice']);
    mail['bo-notice'] = (await h.store.inbox(tokens['bo']!))[0]!.id;
    expect(logFor('/email/opt-out', 'POST').map((l) => [l['purpose'], l['basis'], l['status']])).toEqual([
      ['marketing.email', 'consent', 401],
      ['marketing.email', 'consent', 200],
    ]);
    expect(auditEvents().slice(seen).filter((r) => r['kind'] === 'consent').map((r) => r['attributes'])).toEqual([{ state: 'withdrawn', type: 'implied', source: 'form' }]);
    expect(newAudit()).toEqual([
      ['access', 'notifications', 'contract', 'allow', 'allowed', 'ada'],
      ['access', 'notifications', 'contract', 'allow', 'allowed', 'bo'],
      ['access', 'marketing.email', 'consent', 'allow', 'allowed', 'ada'],
      ['access', 'marketing.email', 'consent', 'allow', 'allowed', 'bo'],
      ['access', 'account-management', 'contract', 'allow', 'allowed', 'ada'],
      ['consent', 'marketing.email', 'consent', undefined, undefined, 'ada'],
      ['access', 'marketing.email', 'consent', 'deny', 'consent-withdrawn', 'ada'],
      ['access', 'marketing.email', 'consent', 'allow', 'allowed', 'bo'],
      ['access', 'notifications', 'contract', 'allow', 'allowed', 'ada'],
      ['access', 'notifications', 'contract', 'allow', 'allowed', 'bo'],
    ]);
  });

  it('web beacon: GET /beacon.gif serves a 1x1 GIF and records the open under product-improvement', async () => {
    const res = await fetch(`${base}/beacon.gif?m=${mail['ada-notice']}`);
    const gif = Buffer.from(await res.arrayBuffer());
    expect([res.status, res.headers.get('content-type'), res.headers.get('cache-control')]).toEqual([200, 'image/gif', 'no-store']);
    expect([gif.length, gif.subarray(0, 6).toString('latin1'), gif.readUInt16LE(6), gif.readUInt16LE(8)]).toEqual([43, 'GIF89a', 1, 1]);
    expect((await h.store.opens(tokens['ada']!)).map((o) => o.message)).toEqual([mail['ada-notice']]);
    // Unknown or missing message: the same image, nothing recorded.
    for (const path of ['/beacon.gif?m=00000000-0000-4000-8000-000000000000', '/beacon.gif']) {
      const other = await fetch(`${base}${path}`);
      expect([other.status, Buffer.from(await other.arrayBuffer()).equals(gif)]).toEqual([200, true]);
    }
    // Bo withdraws the implied consent to product improvement through the rights endpoint:
    // the image is still served, the open is not recorded, and the deny is on the trail.
    expect(await answer(await call('POST', '/privacy/consent', { token: tokens['bo']!, body: { purpose: 'product-improvement', state: 'withdrawn' } }))).toEqual([
      200,
      {
        request: { id: expect.any(String), right: 'withdraw-consent', status: 'completed', due: expect.any(String) },
        consent: expect.objectContaining({ purpose: 'product-improvement', state: 'withdrawn', type: 'implied' }),
      },
    ]);
    const bo = await fetch(`${base}/beacon.gif?m=${mail['bo-notice']}`);
    expect([bo.status, bo.headers.get('content-type')]).toEqual([200, 'image/gif']);
    expect(await h.store.opens(tokens['bo']!)).toEqual([]);
    // The message id travels in the query string, which never reaches the log.
    expect(logFor('/beacon.gif').map((l) => [l['purpose'], l['basis'], l['status']])).toEqual(Array.from({ length: 4 }, () => ['product-improvement', 'consent', 200]));
    expect(auditEvents().slice(seen).filter((r) => r['kind'] === 'access').map((r) => [r['action'], r['data']])).toEqual([
      ['collect', ['usage-data']],
      ['collect', ['usage-data']],
    ]);
    expect(newAudit()).toEqual([
      ['access', 'product-improvement', 'consent', 'allow', 'allowed', 'ada'],
      ['rights', 'rights-fulfilment', 'contract', undefined, undefined, 'bo'],
      ['consent', 'product-improvement', 'consent', undefined, undefined, 'bo'],
      ['rights', 'rights-fulfilment', 'contract', undefined, undefined, 'bo'],
      ['access', 'product-improvement', 'consent', 'deny', 'consent-withdrawn', 'bo'],
    ]);
  });

  it('account deletion on request: the account is erased, only the legal-compliance record is kept', async () => {
    expect((await call('POST', '/privacy/erasure')).status).toBe(401);
    const [status, json] = await answer(await call('POST', '/privacy/erasure', { token: tokens['ada']! }));
    expect(status).toBe(200);
    expect(json).toMatchObject({ erased: true, kept: ['createdAt', 'erasedAt', 'id'] });
    // The token no longer opens anything: the account is gone.
    expect((await call('GET', '/account', { token: tokens['ada']! })).status).toBe(401);
    expect(await h.store.account(tokens['ada']!)).toBeUndefined();
    expect(await h.store.inbox(tokens['ada']!)).toEqual([]);
    expect(await h.store.opens(tokens['ada']!)).toEqual([]);
    expect(await h.store.erasureRecord(tokens['ada']!)).toEqual({ id: tokens['ada'], createdAt: expect.any(String), erasedAt: expect.any(String) });
    // Nothing of Ada survives on disk but the erasure record (nedb files compacted).
    for (const file of ['accounts.db', 'outbox.db', 'email-opens.db', 'erased-accounts.db']) {
      const text = readFileSync(join(dataDir, file), 'utf8');
      for (const value of ['Ada Lovelace', 'ada@example.org']) expect(text).not.toContain(value);
    }
    expect(await h.store.account(tokens['bo']!)).toMatchObject({ name: 'Bo Chen' });
    // The rights handler applies rights-fulfilment once the subject is known; the refused
    // anonymous request keeps the policy default.
    expect(logFor('/privacy/erasure', 'POST').map((l) => [l['purpose'], l['basis'], l['status']])).toEqual([
      ['service.provision', 'contract', 401],
      ['rights-fulfilment', 'contract', 200],
    ]);
    const rights = auditEvents().slice(seen).filter((r) => r['kind'] === 'rights');
    expect(rights.map((r) => r['attributes'])).toEqual([
      { right: 'erasure', status: 'received', due: expect.any(String) },
      // "we may retain certain information as required by law": the legal-compliance purpose is kept, so partly completed.
      { right: 'erasure', status: 'partly-completed', due: expect.any(String), keptRecord: 'createdAt,erasedAt,id', kept: 'legal-compliance', reason: 'retained as required by law' },
    ]);
    expect(newAudit()).toEqual([
      ['rights', 'rights-fulfilment', 'contract', undefined, undefined, 'ada'],
      ['rights', 'rights-fulfilment', 'contract', undefined, undefined, 'ada'],
    ]);
  });

  it('keeps no full IP, no personal value, no token and no query string in any log line', () => {
    const all = lines.join('\n');
    for (const leaked of [OPERATOR, '127.0.0.1', '198.51.100.23', '203.0.113', 'Ada Lovelace', 'ada@example.org', 'Bo Chen', 'bo@example.org', 'enterprise-registry', 'Bearer', tokens['ada']!, tokens['bo']!, mail['ada-notice']!, '?m=', 'after-opt-out', 'pricing']) {
      expect(all).not.toContain(leaked);
    }
    const keys = ['basis', 'hostname', 'ip', 'level', 'method', 'ms', 'msg', 'path', 'pid', 'policy', 'purpose', 'requestId', 'status', 'time'];
    for (const l of requestLines(lines)) {
      // The one request that sent Sec-GPC: 1 also says so (logFields adds `gpc: true`).
      expect(Object.keys(l).sort()).toEqual(l['gpc'] === true ? [...keys.slice(0, 1), 'gpc', ...keys.slice(1)] : keys);
    }
    expect(requestLines(lines).filter((l) => l['gpc'] === true).map((l) => l['path'])).toEqual(['/analytics/events']);
  });

  it('the audit trail holds no personal values, and it verifies', async () => {
    await h.kit.close();
    const text = readdirSync(h.auditDir).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(h.auditDir, f), 'utf8')).join('\n');
    for (const leaked of ['Ada', 'ada@example.org', 'Bo Chen', tokens['ada']!, tokens['bo']!, mail['ada-notice']!, visitors['visitor-1']!.split('=')[1]!, '127.0.0', '198.51.100', '203.0.113', '/docs/']) {
      expect(text).not.toContain(leaked);
    }
    const result = await verifyAuditTrail(h.auditDir, { publicKeys: [readFileSync(h.publicKeyPath, 'utf8')] });
    expect(result).toMatchObject({ ok: true, signaturesChecked: true, unsignedTail: 0 });
    expect(result.checkpoints).toBeGreaterThan(0);
  });
});

describe('coreos-nest-fastify: what the seed says, end to end (issue 13), and hardening (issue 17)', () => {
  let c: CoreOsApp;
  let at: string;
  const out = capture();
  const OP = 'coreos-operator-second-token';

  beforeAll(async () => {
    c = await createApp({ dataDir: mkdtempSync(join(tmpdir(), 'pk-coreos-13-')), logger: out.logger, trustProxy: 'loopback', operatorToken: OP });
    at = await listen(c.app, 0);
  });
  afterAll(async () => {
    await c.close();
  });

  const send = (method: string, path: string, options: { body?: unknown; raw?: string; token?: string; headers?: Record<string, string> } = {}) =>
    call(method, path, { ...options, at, ...(options.raw !== undefined ? { body: undefined } : {}) }).then((r) => r);
  const sendRaw = (method: string, path: string, raw: string, headers: Record<string, string>) => fetch(`${at}${path}`, { method, headers, body: raw });
  const trail = (): Json[] => auditEvents(c.auditDir);
  const signUp = async (nameOf: string, email: string): Promise<string> => {
    const [status, body] = await answer(await send('POST', '/signup', { body: { name: nameOf, email } }));
    expect(status).toBe(201);
    return (body as { id: string }).id;
  };

  it('unknown routes and methods, and bodies that do not parse, are too large or of another type: the standard JSON error, nothing echoed, each logged', async () => {
    const before = requestLines(out.lines).length;
    for (const [method, path] of [['GET', '/nope'], ['DELETE', '/signup'], ['PUT', '/account']] as const) {
      expect(await answer(await send(method, path))).toEqual([404, { error: { code: 'APP_NOT_FOUND', message: 'No such route or method.' } }]);
    }
    expect(await answer(await sendRaw('POST', '/signup', '{"name":"Secret Sam","email', { 'content-type': 'application/json' }))).toEqual([400, { error: { code: 'APP_INVALID_BODY', message: 'The body is not valid JSON.' } }]);
    expect(await answer(await sendRaw('POST', '/signup', JSON.stringify({ name: 'Secret Sam'.repeat(3000) }), { 'content-type': 'application/json' }))).toEqual([413, { error: { code: 'APP_BODY_TOO_LARGE', message: 'The body is larger than 16 KiB.' } }]);
    expect(await answer(await sendRaw('POST', '/signup', 'name=Secret+Sam', { 'content-type': 'text/plain' }))).toEqual([415, { error: { code: 'APP_UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as application/json.' } }]);
    expect(requestLines(out.lines).slice(before).map((l) => [l['method'], l['status']])).toEqual([['GET', 404], ['DELETE', 404], ['PUT', 404], ['POST', 400], ['POST', 413], ['POST', 415]]);
    expect(out.lines.join('\n')).not.toContain('Secret Sam');
  });

  it('the mailings and the operator routes require the operator token', async () => {
    const ann = await signUp('Ann Operator-Test', 'ann@example.org');
    for (const path of ['/email/promotions', '/email/notices', '/operator/rights/receive', '/operator/rights/refuse', '/operator/rights/extend', '/operator/legal-disclosure']) {
      for (const token of [undefined, ann, `${OP}x`]) {
        expect(await answer(await send('POST', path, { body: {}, ...(token !== undefined ? { token } : {}) }))).toEqual([
          401,
          { error: { code: 'APP_OPERATOR_ONLY', message: 'This route is for the operator: send Authorization: Bearer <operator token>.' } },
        ]);
      }
    }
    expect(await c.store.inbox(ann)).toEqual([]);
    // With the token, a body that names no request is the operator's mistake: 400, not 500.
    for (const path of ['/operator/rights/refuse', '/operator/rights/extend']) {
      expect(await answer(await send('POST', path, { token: OP, body: { requestId: 'x y', right: 'nonsense' } }))).toEqual([400, { error: { code: 'APP_INVALID_OPERATOR_REQUEST', message: 'The body does not name a rights request (requestId, subject, right) with a valid reason, date or duration; see the README.' } }]);
    }
  });

  it('Sec-GPC: 1 on the person\'s own request is not stored and changes nothing in the promotions batch (the seed states no GPC behaviour)', async () => {
    const ann = (await c.store.accounts())[0]!.id;
    const seen = trail().length;
    expect((await send('GET', '/account', { token: ann, headers: { 'sec-gpc': '1' } })).status).toBe(200);
    expect((await c.kit.consentStore.facts(ann, 'marketing.email')).consent).toBeUndefined();
    expect(await answer(await send('POST', '/email/promotions', { token: OP, headers: { 'sec-gpc': '1' } }))).toEqual([201, { sent: 1, skipped: 0 }]);
    expect(trail().slice(seen).map((r) => [r['kind'], r['purpose'], r['actor'], r['decision']])).toEqual([
      ['access', 'account-management', 'service', 'allow'],
      ['access', 'marketing.email', 'operator', 'allow'],
    ]);
  });

  it('a disclosure to a named recipient (the authorities) is recorded with its recipient; no transfer (US only); an unnamed party or a share "with your consent" without it is refused', async () => {
    const ann = (await c.store.accounts())[0]!.id;
    const seen = trail().length;
    expect(await answer(await send('POST', '/operator/legal-disclosure', { token: OP, body: { subject: ann } }))).toEqual([200, { decision: 'allowed', disclosed: { name: 'Ann Operator-Test', email: 'ann@example.org' } }]);
    const share = trail().slice(seen)[0]!;
    expect([share['purpose'], share['basis'], share['action'], share['recipient'], share['decision'], share['attributes']]).toEqual(['legal-compliance', 'legal-obligation', 'share', 'authorities', 'allow', undefined]);
    const check = (recipient: string) => c.kit.runAs({ purpose: 'service.provision', actor: 'operator' }, () => c.kit.check({ subject: ann, data: ['usage-data'], action: 'share', recipient }));
    expect([(await check('service-providers')).reason, (await check('with-your-consent')).reason, (await check('data-broker')).reason]).toEqual(['allowed', 'consent-missing', 'recipient-not-allowed']);
  });

  it('account deletion: afterwards every access about the person is denied, except what the law keeps (legal-compliance)', async () => {
    const ann = (await c.store.accounts())[0]!.id;
    expect(await answer(await send('POST', '/privacy/erasure', { token: ann }))).toEqual([
      200,
      expect.objectContaining({ request: expect.objectContaining({ right: 'erasure', status: 'partly-completed' }), erased: true }),
    ]);
    const job = await c.kit.runAs({ purpose: 'marketing.email', actor: 'promotions-job' }, () => c.kit.check({ subject: ann, data: ['email'], action: 'use' }));
    expect(job).toMatchObject({ allowed: false, reason: 'erased' });
    const seen = trail().length;
    const [status, body] = await answer(await send('POST', '/operator/legal-disclosure', { token: OP, body: { subject: ann } }));
    expect([status, body]).toEqual([200, { decision: 'allowed', disclosed: { erasureRecord: { id: ann, createdAt: expect.any(String), erasedAt: expect.any(String) } } }]);
    expect(trail().slice(seen).map((r) => [r['purpose'], r['decision'], r['attributes']])).toEqual([['legal-compliance', 'allow', { survivesErasure: true }]]);
  });

  it('an emailed deletion request whose sender cannot be matched to the account is refused (identity not verified); an extension is not allowed (the seed promises none)', async () => {
    const cal = await signUp('Cal', 'cal@example.org');
    const [status, received] = await answer(await send('POST', '/operator/rights/receive', { token: OP, body: { subject: cal, right: 'erasure' } }));
    expect(status).toBe(201);
    const { requestId } = received as { requestId: string; due: string };
    expect(await answer(await send('POST', '/operator/rights/extend', { token: OP, body: { requestId, subject: cal, right: 'erasure', receivedAt: new Date().toISOString(), reason: 'busy' } }))).toEqual([
      409,
      { error: { code: 'PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED', message: 'The deadline of this privacy request cannot be extended.' } },
    ]);
    expect(await answer(await send('POST', '/operator/rights/refuse', { token: OP, body: { requestId, subject: cal, right: 'erasure', reason: 'identity-not-verified' } }))).toEqual([200, { requestId, status: 'refused' }]);
    expect(await c.store.account(cal)).toMatchObject({ name: 'Cal' });
    const states = trail()
      .filter((r) => r['kind'] === 'rights' && r['subject'] === c.kit.pseudonymizeSubject(cal))
      .map((r) => [r['requestId'] === requestId, (r['attributes'] as Record<string, string>)['status'], (r['attributes'] as Record<string, string>)['reason']]);
    expect(states).toEqual([[true, 'received', undefined], [true, 'refused', 'identity-not-verified']]);
  });

  it('retention: every store behind the port; "as required by law" never expires by itself, so a sweep years later erases nothing', async () => {
    expect(c.kit.retention.stores.map((s) => s.name)).toEqual(['accounts-db', 'analytics-events-db', 'outbox-db', 'email-opens-db']);
    const accounts = await c.store.countAccounts();
    const tenYears = Date.now() + 10 * 366 * 24 * 3600 * 1000;
    expect(await c.kit.retention.due({ now: tenYears, within: 'P1Y' })).toEqual([]);
    expect(await c.kit.retention.sweep({ now: tenYears })).toMatchObject({ erased: 0, anonymised: 0, flagged: 0, held: 0, failed: [] });
    expect(await c.store.countAccounts()).toBe(accounts);
  });
});
