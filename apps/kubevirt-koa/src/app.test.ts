import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { listOpenRightsRequests, verifyAuditTrail } from '@purposekit/core';
import { createApp, listen } from './app';
import type { KubeVirtApp } from './app';

let h: KubeVirtApp;
let server: Server;
let base: string;
let dataDir: string;
const lines: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pk-kubevirt-'));
  const logger = pino(new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
  h = await createApp({ dataDir, logger, proxyHops: 1, maxFailedLogins: 2 });
  server = await listen(h.app, 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await h.close();
});

type Json = Record<string, unknown>;
const call = (method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
  fetch(`${base}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
const answer = async (res: Response): Promise<[number, unknown]> => [res.status, res.status === 204 ? null : await res.json()];
const denied = (reason: string) => ({ error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', message: 'Access to this personal data is not permitted for this purpose.', reason } });
const logFor = (path: string, method = 'GET'): Json[] => lines.map((l) => JSON.parse(l) as Json).filter((l) => l['msg'] === 'request' && l['path'] === path && l['method'] === method);

// Dates of birth relative to today, so the ages hold whatever day the suite runs.
const year = new Date().getUTCFullYear();
const KID_DOB = `${year - 10}-03-04`;
const ADULT_DOB = '1990-04-01';
const tokens: Record<string, string> = {};

function auditEvents(): Json[] {
  return readdirSync(h.auditDir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(h.auditDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json))
    .filter((r) => r['kind'] !== 'checkpoint');
}
let seen = 0;
/** The audit events appended since the last call, as [kind, purpose, decision, reason]. */
async function newAudit(): Promise<unknown[][]> {
  const events = auditEvents();
  const fresh = events.slice(seen);
  seen = events.length;
  return fresh.map((r) => [r['kind'], r['purpose'], r['decision'], r['reason']]);
}

describe('kubevirt-koa reference app', () => {
  it('IPs for diagnosis under legitimate interests: purpose and basis in the log line, a truncated IP only', async () => {
    expect((await fetch(`${base}/`)).status).toBe(200);
    const status = await fetch(`${base}/status`, { headers: { 'x-forwarded-for': '198.51.100.23' } });
    expect(await answer(status)).toEqual([200, { ok: true, accounts: 0, yourAddressAsLogged: '198.51.100.0' }]);
    expect(logFor('/')[0]).toMatchObject({ purpose: 'service.provision', basis: 'legitimate-interests', policy: 'kubevirt@2018-05-25', status: 200 });
    expect(logFor('/status')[0]).toMatchObject({ purpose: 'diagnostics', basis: 'legitimate-interests', ip: '198.51.100.0', status: 200 });
    expect(await newAudit()).toEqual([['access', 'diagnostics', 'allow', 'allowed']]);
  });

  it('accounts only at 13+: an under-13 registration is refused neutrally, locked out, and nothing is kept', async () => {
    const kid = await call('POST', '/accounts', { body: { name: 'Young Person', email: 'young@example.org', dateOfBirth: KID_DOB } });
    expect(await answer(kid)).toEqual([403, { error: { code: 'PURPOSEKIT_ERR_AGE_GATE_REFUSED', message: 'Sorry, we cannot accept this submission.' } }]);
    const lockout = kid.headers.get('set-cookie');
    expect(lockout).toMatch(/HttpOnly/i);
    // Back with the lockout cookie and an adult date: still refused, with the same neutral answer.
    const retry = await call('POST', '/accounts', { body: { name: 'Young Person', email: 'young@example.org', dateOfBirth: ADULT_DOB }, headers: { cookie: lockout!.split(';')[0]! } });
    expect(await answer(retry)).toEqual([403, { error: { code: 'PURPOSEKIT_ERR_AGE_GATE_REFUSED', message: 'Sorry, we cannot accept this submission.' } }]);
    expect(await h.store.countAccounts()).toBe(0);

    for (const [key, body] of [
      ['ada', { name: 'Ada Lovelace', email: 'ada@example.org', githubHandle: 'ada-l', dateOfBirth: ADULT_DOB }],
      ['bo', { name: 'Bo Chen', email: 'bo@example.org', dateOfBirth: '1985-01-01' }],
      ['cy', { name: 'Cy Okafor', email: 'cy@example.org', githubHandle: 'cyo', dateOfBirth: `${year - 14}-01-01` }],
    ] as const) {
      const res = await call('POST', '/accounts', { body });
      const [status, json] = await answer(res);
      expect(status).toBe(201);
      tokens[key] = (json as { token: string }).token;
    }
    expect(await h.store.countAccounts()).toBe(3);
    // Only the account fields are stored: never the date of birth, never the refused submission.
    const stored = readFileSync(join(dataDir, 'accounts.db'), 'utf8');
    for (const absent of [ADULT_DOB, '1985-01-01', 'dateOfBirth', 'Young Person', 'young@example.org']) expect(stored).not.toContain(absent);
    expect(await newAudit()).toEqual([
      ['age-gate', 'service.registration', 'deny', 'refused'],
      ['age-gate', 'service.registration', 'deny', 'locked-out'],
      ['access', 'service.registration', 'allow', 'allowed'],
      ['access', 'service.registration', 'allow', 'allowed'],
      ['access', 'service.registration', 'allow', 'allowed'],
    ]);
  });

  it('IPs for security under legitimate interests: failed logins are counted per truncated address', async () => {
    const from = (ip: string, token: string) => call('POST', '/login', { body: { token }, headers: { 'x-forwarded-for': ip } });
    const wrong = '00000000-0000-4000-8000-000000000000';
    expect(await answer(await from('203.0.113.7', wrong))).toEqual([401, { error: { code: 'APP_LOGIN_FAILED', message: 'Login failed.' } }]);
    // Another host of the same /24: the same truncated address, so the same counter.
    expect((await from('203.0.113.99', wrong)).status).toBe(401);
    expect((await from('203.0.113.8', tokens['ada']!)).status).toBe(429);
    expect(await answer(await from('192.0.2.10', tokens['ada']!))).toEqual([200, { ok: true }]);
    expect(logFor('/login', 'POST').map((l) => [l['purpose'], l['basis'], l['ip'], l['status']])).toEqual([
      ['security', 'legitimate-interests', '203.0.113.0', 401],
      ['security', 'legitimate-interests', '203.0.113.0', 401],
      ['security', 'legitimate-interests', '203.0.113.0', 429],
      ['security', 'legitimate-interests', '192.0.2.0', 200],
    ]);
    expect(await newAudit()).toEqual(Array.from({ length: 4 }, () => ['access', 'security', 'allow', 'allowed']));
  });

  it('public contributor data (name, email, GitHub handle) is shown, as a public record', async () => {
    expect(await answer(await fetch(`${base}/contributors`))).toEqual([
      200,
      {
        contributors: [
          { name: 'Ada Lovelace', email: 'ada@example.org', githubHandle: 'ada-l' },
          { name: 'Bo Chen', email: 'bo@example.org' },
          { name: 'Cy Okafor', email: 'cy@example.org', githubHandle: 'cyo' },
        ],
      },
    ]);
    expect(logFor('/contributors')[0]).toMatchObject({ purpose: 'public-record', basis: 'legitimate-interests', status: 200 });
    const shares = auditEvents().slice(seen);
    // One checkEach() per set of categories shown (with a GitHub handle, then without).
    expect(shares.map((r) => [r['kind'], r['purpose'], r['action'], r['recipient'], r['decision'], r['data']])).toEqual([
      ['access', 'public-record', 'share', 'public', 'allow', ['name', 'email', 'username']],
      ['access', 'public-record', 'share', 'public', 'allow', ['name', 'email', 'username']],
      ['access', 'public-record', 'share', 'public', 'allow', ['name', 'email']],
    ]);
    // Three different people: three different pseudonyms, none of them an id or a value.
    expect(new Set(shares.map((r) => r['subject'])).size).toBe(3);
    await newAudit();
  });

  it('analytics page views only with consent: denied until given, allowed after, denied again after withdrawal', async () => {
    const view = (path: string, token?: string) => call('POST', '/analytics/pageview', { body: { path }, ...(token !== undefined ? { token } : {}) });
    expect(await answer(await view('/docs/refused-before-consent', tokens['ada']))).toEqual([403, denied('consent-missing')]);
    expect((await view('/docs/', undefined)).status).toBe(401);
    const given = await call('POST', '/analytics/consent', { token: tokens['ada']!, body: { state: 'given' } });
    expect(await answer(given)).toEqual([200, { purpose: 'analytics', state: 'given', at: expect.any(String) }]);
    expect((await view('/docs/kept', tokens['ada'])).status).toBe(204);
    // Withdrawal is a GDPR right: through the rights router, recorded with its due date.
    const withdrawn = await call('POST', '/privacy/consent', { token: tokens['ada']!, body: { purpose: 'analytics', state: 'withdrawn' } });
    expect(await answer(withdrawn)).toEqual([200, { request: { id: expect.any(String), right: 'withdraw-consent', due: expect.any(String), status: 'completed' }, consent: expect.objectContaining({ purpose: 'analytics', state: 'withdrawn', source: 'api' }) }]);
    expect(await answer(await view('/docs/refused-after-withdrawal', tokens['ada']))).toEqual([403, denied('consent-withdrawn')]);
    // Only the page view made with consent is kept, with the truncated address; the earlier one stays lawful.
    expect((await h.store.pageViews(tokens['ada']!)).map((v) => [v.path, v.ip])).toEqual([['/docs/kept', '127.0.0.0']]);
    expect(logFor('/analytics/pageview', 'POST').map((l) => [l['purpose'], l['basis'], l['status']])).toEqual([
      ['analytics', 'consent', 403],
      ['analytics', 'consent', 401],
      ['analytics', 'consent', 204],
      ['analytics', 'consent', 403],
    ]);
    const events = auditEvents().slice(seen);
    expect(events.filter((r) => r['kind'] === 'consent').map((r) => r['attributes'])).toEqual([
      { state: 'given', type: 'explicit', source: 'form' },
      { state: 'withdrawn', type: 'explicit', source: 'api' },
    ]);
    expect(await newAudit()).toEqual([
      ['access', 'analytics', 'deny', 'consent-missing'],
      ['consent', 'analytics', undefined, undefined],
      ['access', 'analytics', 'allow', 'allowed'],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['consent', 'analytics', undefined, undefined],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['access', 'analytics', 'deny', 'consent-withdrawn'],
    ]);
  });

  it('right to rectify: the authenticated subject corrects their own account, and only theirs', async () => {
    expect((await call('PATCH', '/account', { body: { name: 'Mallory' } })).status).toBe(401);
    expect(await answer(await call('PATCH', '/account', { token: tokens['ada']!, body: { email: 'not an email' } }))).toEqual([400, { error: { code: 'APP_INVALID_ACCOUNT', message: 'email must be an email address.' } }]);
    const res = await call('PATCH', '/account', { token: tokens['ada']!, body: { name: 'Ada King', githubHandle: 'ada-king' } });
    expect(await answer(res)).toEqual([200, { account: { id: tokens['ada'], name: 'Ada King', email: 'ada@example.org', githubHandle: 'ada-king', createdAt: expect.any(String) } }]);
    expect(await h.store.account(tokens['bo']!)).toMatchObject({ name: 'Bo Chen' });
    expect(logFor('/account', 'PATCH').map((l) => [l['purpose'], l['basis'], l['status']])).toEqual([
      ['rights-fulfilment', 'legal-obligation', 401],
      ['rights-fulfilment', 'legal-obligation', 400],
      ['rights-fulfilment', 'legal-obligation', 200],
    ]);
    // The old values do not survive in the store's file.
    expect(readFileSync(join(dataDir, 'accounts.db'), 'utf8')).not.toContain('Ada Lovelace');
    const events = auditEvents().slice(seen);
    expect(events.map((r) => [r['kind'], r['purpose'], r['action'], r['decision'], r['data'], r['attributes']])).toEqual([
      ['access', 'rights-fulfilment', 'update', 'allow', ['name', 'username'], undefined],
      ['rights', 'rights-fulfilment', 'update', undefined, ['name', 'username'], { right: 'rectification', status: 'completed' }],
    ]);
    await newAudit();
  });

  it('right to object: after an objection to diagnostics, an access for that subject under diagnostics is denied (objection)', async () => {
    const bo = tokens['bo']!;
    expect((await call('GET', '/status', { token: bo })).status).toBe(200);
    const objected = await call('POST', '/privacy/objection', { token: bo, body: { purpose: 'diagnostics' } });
    const [status, json] = await answer(objected);
    expect([status, json]).toEqual([200, { request: { id: expect.any(String), right: 'objection', due: expect.any(String), status: 'completed' }, purpose: 'diagnostics', objected: true }]);
    expect(await answer(await call('GET', '/status', { token: bo }))).toEqual([403, denied('objection')]);
    // Other people, and diagnostics that name no one, go on.
    expect((await call('GET', '/status', { token: tokens['ada']! })).status).toBe(200);
    expect((await call('GET', '/status')).status).toBe(200);
    // "You may contact our privacy team at any time to have this data removed": an objection to the public record.
    expect((await call('POST', '/privacy/objection', { token: tokens['cy']!, body: { purpose: 'public-record' } })).status).toBe(200);
    const list = (await (await fetch(`${base}/contributors`)).json()) as { contributors: Array<{ name: string }> };
    expect(list.contributors.map((c) => c.name)).toEqual(['Ada King', 'Bo Chen']);
    // Consent is withdrawn, not objected to.
    expect(await answer(await call('POST', '/privacy/objection', { token: bo, body: { purpose: 'analytics' } }))).toEqual([
      400,
      { error: { code: 'PURPOSEKIT_ERR_BAD_REQUEST', message: expect.any(String), field: 'purpose' } },
    ]);
    const rights = auditEvents().slice(seen).filter((r) => r['kind'] === 'rights');
    // The due date is one month after receipt (GDPR Art. 12(3)); the answer and the trail agree.
    const received = rights[0]!;
    const due = (received['attributes'] as Json)['due'] as string;
    expect((json as { request: { due: string } }).request.due).toBe(due);
    const days = (Date.parse(due) - Date.parse(received['ts'] as string)) / 86_400_000;
    expect(days).toBeGreaterThanOrEqual(28);
    expect(days).toBeLessThanOrEqual(31);
    expect(rights.map((r) => [(r['attributes'] as Json)['right'], (r['attributes'] as Json)['status'], r['actor']])).toEqual([
      ['objection', 'received', 'data-subject'],
      ['objection', 'completed', 'data-subject'],
      ['objection', 'received', 'data-subject'],
      ['objection', 'completed', 'data-subject'],
    ]);
    expect(await newAudit()).toEqual([
      ['access', 'diagnostics', 'allow', 'allowed'],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['access', 'diagnostics', 'deny', 'objection'],
      ['access', 'diagnostics', 'allow', 'allowed'],
      ['access', 'diagnostics', 'allow', 'allowed'],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['access', 'public-record', 'allow', 'allowed'],
      ['access', 'public-record', 'deny', 'objection'],
      ['access', 'public-record', 'allow', 'allowed'],
    ]);
  });

  it('right to restrict: processing of that subject stops, rectification still goes through, lifting it restores', async () => {
    const cy = tokens['cy']!;
    expect(await answer(await call('POST', '/privacy/restriction', { token: cy }))).toEqual([200, { request: expect.objectContaining({ right: 'restriction', status: 'completed' }), restricted: true }]);
    expect(await answer(await call('GET', '/status', { token: cy }))).toEqual([403, denied('restricted')]);
    // Art. 18(1)(a): a person who contests accuracy restricts processing meanwhile; correcting it stays lawful.
    expect((await call('PATCH', '/account', { token: cy, body: { email: 'cy@kubevirt.example' } })).status).toBe(200);
    expect(await answer(await call('DELETE', '/privacy/restriction', { token: cy }))).toEqual([200, { request: expect.objectContaining({ right: 'restriction', status: 'completed' }), restricted: false }]);
    expect((await call('GET', '/status', { token: cy })).status).toBe(200);
    expect(await newAudit()).toEqual([
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['access', 'diagnostics', 'deny', 'restricted'],
      ['access', 'rights-fulfilment', 'allow', 'allowed'],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['access', 'diagnostics', 'allow', 'allowed'],
    ]);
  });

  it('rectification through the rights router: account fields at once, anything else a pending task for the privacy team', async () => {
    const bo = tokens['bo']!;
    expect(await answer(await call('POST', '/privacy/rectification', { token: bo, body: { changes: { name: 'Bo Chen-Li' } } }))).toEqual([
      200,
      { request: expect.objectContaining({ right: 'rectification', status: 'completed' }), fields: ['name'] },
    ]);
    expect(await h.store.account(bo)).toMatchObject({ name: 'Bo Chen-Li' });
    const pending = await call('POST', '/privacy/rectification', { token: bo, body: { changes: { chatNickname: 'bo_c' } } });
    expect(await answer(pending)).toEqual([202, { request: expect.objectContaining({ right: 'rectification', status: 'pending' }), fields: ['chatNickname'] }]);
    expect(await newAudit()).toEqual([
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['access', 'rights-fulfilment', 'allow', 'allowed'],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['rights', 'rights-fulfilment', undefined, undefined],
    ]);
  });

  it('rights of access and portability: the subject\'s own data, consent history and access log as one JSON document, and nobody else\'s', async () => {
    const ada = tokens['ada']!;
    expect(await answer(await call('GET', '/privacy/export'))).toEqual([401, { error: { code: 'PURPOSEKIT_ERR_UNAUTHENTICATED', message: expect.any(String) } }]);
    const log = (await (await call('GET', '/privacy/access-log', { token: ada })).json()) as { request: Json; records: Json[] };
    expect(log.request).toMatchObject({ right: 'access', status: 'completed' });
    // The oracle: the trail's own records under Ada's pseudonym, in order.
    const pseudonym = h.kit.pseudonymizeSubject(ada);
    const mine = auditEvents().filter((r) => r['subject'] === pseudonym);
    // The report is read between this request's "received" and "completed" records.
    expect(mine.at(-1)).toMatchObject({ kind: 'rights', requestId: log.request['id'], attributes: expect.objectContaining({ right: 'access', status: 'completed' }) });
    expect(log.records.map((r) => [r['kind'], r['purpose'], r['requestId'], r['ts']])).toEqual(mine.slice(0, -1).map((r) => [r['kind'], r['purpose'], r['requestId'], r['ts']]));
    expect(log.records[0]).toMatchObject({ kind: 'access', purpose: 'service.registration', action: 'collect', decision: 'allow', basis: 'contract' });
    expect(log.records.some((r) => r['reason'] === 'consent-missing')).toBe(true);
    expect(JSON.stringify(log)).not.toContain(pseudonym); // the report names no pseudonym either

    const exported = (await (await call('GET', '/privacy/export', { token: ada })).json()) as Json;
    expect(exported).toMatchObject({
      request: { right: 'portability', status: 'completed' },
      format: 'purposekit-export',
      version: 1,
      policy: { id: 'kubevirt', version: '2018-05-25' },
      subject: ada,
      data: {
        account: { id: ada, name: 'Ada King', email: 'ada@example.org', githubHandle: 'ada-king', createdAt: expect.any(String) },
        pageViews: [{ path: '/docs/kept', at: expect.any(String), ip: '127.0.0.0' }],
      },
    });
    expect((exported['consent'] as Json[]).map((c) => [c['purpose'], c['state'], c['source']])).toEqual([
      ['analytics', 'given', 'form'],
      ['analytics', 'withdrawn', 'api'],
    ]);
    expect((exported['accessLog'] as Json[]).length).toBeGreaterThan(log.records.length);
    const bo = JSON.stringify(await (await call('GET', '/privacy/export', { token: tokens['bo']! })).json());
    for (const other of ['Ada', 'ada@example.org', '/docs/kept', ada]) expect(bo).not.toContain(other);
    await newAudit();
  });

  it('right to erasure: the account and its page views leave the store and its files; the token stops working; the trail keeps the proof', async () => {
    const ada = tokens['ada']!;
    // The policy keeps the public contribution record and legal obligations, and says so: partly completed.
    expect(await answer(await call('POST', '/privacy/erasure', { token: ada }))).toEqual([
      200,
      { request: expect.objectContaining({ right: 'erasure', status: 'partly-completed' }), erased: true, kept: [], keptPurposes: [{ purpose: 'public-record', reasons: ['proof of contributions'] }, { purpose: 'legal-compliance', reasons: ['required by law'] }] },
    ]);
    expect(await h.store.account(ada)).toBeUndefined();
    expect(await h.store.pageViews(ada)).toEqual([]);
    const files = readFileSync(join(dataDir, 'accounts.db'), 'utf8') + readFileSync(join(dataDir, 'page-views.db'), 'utf8');
    for (const gone of [ada, 'Ada King', 'ada@example.org', 'ada-king', '/docs/kept']) expect(files).not.toContain(gone);
    expect((await call('GET', '/privacy/export', { token: ada })).status).toBe(401);
    expect((await call('PATCH', '/account', { token: ada, body: { name: 'Ghost' } })).status).toBe(401);
    const list = (await (await fetch(`${base}/contributors`)).json()) as { contributors: Array<{ name: string }> };
    expect(list.contributors.map((c) => c.name)).toEqual(['Bo Chen-Li']);
    expect(await newAudit()).toEqual([
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['access', 'rights-fulfilment', 'allow', 'allowed'],
      ['rights', 'rights-fulfilment', undefined, undefined],
      ['access', 'public-record', 'deny', 'objection'],
      ['access', 'public-record', 'allow', 'allowed'],
    ]);
  });

  it('keeps no full IP, no birthdate and no refused body in any log line', () => {
    const all = lines.join('\n');
    for (const leaked of ['127.0.0.1', '198.51.100.23', '203.0.113.7', '203.0.113.99', '192.0.2.10', KID_DOB, ADULT_DOB, '1985-01-01', 'dateOfBirth', 'Young Person', 'young@example.org', 'refused-before-consent', 'refused-after-withdrawal', 'Bearer']) {
      expect(all).not.toContain(leaked);
    }
    for (const l of lines.map((x) => JSON.parse(x) as Json).filter((x) => x['msg'] === 'request')) {
      expect(Object.keys(l).sort()).toEqual(['basis', 'hostname', 'ip', 'level', 'method', 'ms', 'msg', 'path', 'pid', 'policy', 'purpose', 'requestId', 'status', 'time']);
    }
  });

  it('the audit trail holds no personal values, and it verifies', async () => {
    await h.kit.close();
    const text = readdirSync(h.auditDir).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(h.auditDir, f), 'utf8')).join('\n');
    for (const leaked of ['Ada', 'ada@example.org', 'Bo Chen', 'ada-l', tokens['ada']!, ADULT_DOB, KID_DOB, '127.0.0', '198.51.100', '203.0.113', '/docs/']) {
      expect(text).not.toContain(leaked);
    }
    const result = await verifyAuditTrail(h.auditDir, { publicKeys: [readFileSync(h.publicKeyPath, 'utf8')] });
    expect(result).toMatchObject({ ok: true, signaturesChecked: true, unsignedTail: 0 });
    expect(result.checkpoints).toBeGreaterThan(0);
    // Only the manual rectification is still open, due in a month.
    expect(listOpenRightsRequests(auditEvents() as never, Date.now()).map((r) => [r.right, r.overdue])).toEqual([['rectification', false]]);
  });
});

describe('kubevirt-koa: what the seed says, end to end (issue 13), and hardening (issue 17)', () => {
  let k: KubeVirtApp;
  let kServer: Server;
  let at: string;
  const out: string[] = [];
  const OP = 'kubevirt-operator-token-for-the-test';

  beforeAll(async () => {
    const logger = pino(new Writable({ write(c, _e, cb) { out.push(String(c)); cb(); } }));
    k = await createApp({ dataDir: mkdtempSync(join(tmpdir(), 'pk-kubevirt-13-')), logger, operatorToken: OP });
    kServer = await listen(k.app, 0);
    at = `http://127.0.0.1:${(kServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => kServer.close(r));
    await k.close();
  });

  const send = (method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${at}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  const trail = (): Json[] =>
    readdirSync(k.auditDir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => readFileSync(join(k.auditDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json))
      .filter((r) => r['kind'] !== 'checkpoint');
  const account = async (nameOf: string): Promise<string> => {
    const [status, body] = await answer(await send('POST', '/accounts', { body: { name: nameOf, email: `${nameOf.toLowerCase()}@example.org`, dateOfBirth: ADULT_DOB } }));
    expect(status).toBe(201);
    return (body as { id: string }).id;
  };
  const op = (path: string, body: unknown) => send('POST', path, { token: OP, body });

  it('unknown routes and methods answer the standard JSON error shape, and are logged', async () => {
    for (const [method, path] of [['GET', '/nope'], ['PUT', '/contributors'], ['DELETE', '/status'], ['GET', '/operator/notifications/send']] as const) {
      expect(await answer(await send(method, path))).toEqual([expect.any(Number), { error: { code: 'APP_NOT_FOUND', message: 'No such route or method.' } }]);
    }
    expect(out.map((l) => JSON.parse(l) as Json).filter((l) => l['msg'] === 'request').map((l) => l['status'])).toEqual([404, 405, 405, 405]);
  });

  it('the operator routes require the operator token', async () => {
    const someone = await account('Opal');
    for (const path of ['/operator/notifications/send', '/operator/rights/receive', '/operator/rights/extend', '/operator/rights/refuse']) {
      for (const token of [undefined, someone, `${OP}x`]) {
        expect(await answer(await send('POST', path, { body: {}, ...(token !== undefined ? { token } : {}) }))).toEqual([
          401,
          { error: { code: 'APP_OPERATOR_ONLY', message: 'This route is for the operator: send Authorization: Bearer <operator token>.' } },
        ]);
      }
    }
  });

  it('a body that names no rights request is the operator\'s mistake: 400, not 500', async () => {
    for (const path of ['/operator/rights/receive', '/operator/rights/extend', '/operator/rights/refuse']) {
      expect(await answer(await op(path, { requestId: 'x y', right: 'nonsense' }))).toEqual([400, { error: { code: 'APP_INVALID_OPERATOR_REQUEST', message: 'The body does not name a rights request (requestId, subject, right) with a valid reason, date or duration; see the README.' } }]);
    }
  });

  it('Sec-GPC: 1 on the person\'s own request stores nothing (no purpose is GPC-applicable); the notification batch shares with the e-mail housing provider, recorded with its recipient and no transfer (none stated)', async () => {
    const [opal, pia] = [(await k.store.accounts())[0]!.id, await account('Pia')];
    expect((await send('GET', '/status', { token: pia, headers: { 'sec-gpc': '1' } })).status).toBe(200);
    expect(trail().filter((r) => r['kind'] === 'consent')).toEqual([]);
    const seen = trail().length;
    expect(await answer(await op('/operator/notifications/send', {}))).toEqual([200, { sent: [opal, pia], skipped: [] }]);
    expect(trail().slice(seen).map((r) => [r['purpose'], r['basis'], r['actor'], r['action'], r['recipient'], r['decision'], r['attributes']])).toEqual([
      ['notifications', 'contract', 'operator', 'share', 'email-housing', 'allow', undefined],
      ['notifications', 'contract', 'operator', 'share', 'email-housing', 'allow', undefined],
    ]);
    // Google Analytics is a named recipient of analytics only; an unnamed one is refused.
    const share = (purpose: string, recipient: string) => k.kit.runAs({ purpose, actor: 'operator' }, () => k.kit.check({ subject: pia, data: ['usage-data'], action: 'share', recipient }));
    expect([(await share('analytics', 'google-analytics')).reason, (await share('analytics', 'ad-network')).reason]).toEqual(['consent-missing', 'recipient-not-allowed']);
  });

  it('after an erasure every access about the person is denied, except the public contribution record and legal compliance', async () => {
    const pia = (await k.store.accounts())[1]!.id;
    expect(await answer(await send('POST', '/privacy/erasure', { token: pia }))).toEqual([200, expect.objectContaining({ request: expect.objectContaining({ status: 'partly-completed' }), erased: true })]);
    const check = (purpose: string, data: string[], action: string, recipient?: string) =>
      k.kit.runAs({ purpose, actor: 'operator' }, () => k.kit.check({ subject: pia, data, action: action as 'use', ...(recipient !== undefined ? { recipient } : {}) }));
    expect((await check('notifications', ['email'], 'use')).reason).toBe('erased');
    expect((await check('public-record', ['name'], 'share', 'public')).reason).toBe('allowed');
    expect((await check('legal-compliance', ['name'], 'share', 'authorities')).reason).toBe('allowed');
    const seen = trail().length;
    expect(await answer(await op('/operator/notifications/send', {}))).toEqual([200, { sent: [(await k.store.accounts())[0]!.id], skipped: [] }]);
    expect(trail().slice(seen)).toHaveLength(1);
  });

  it('a request is extended with notice (two further months at most) and another refused; the states are on the trail', async () => {
    const quinn = await account('Quinn');
    const receivedAt = new Date();
    const [, rec] = await answer(await send('POST', '/privacy/rectification', { token: quinn, body: { changes: { shoeSize: '42' } } }));
    const requestId = (rec as { request: { id: string } }).request.id;
    const [status, extended] = await answer(await op('/operator/rights/extend', { requestId, subject: quinn, right: 'rectification', receivedAt: receivedAt.toISOString(), reason: 'the change needs a maintainer' }));
    const threeMonths = new Date(receivedAt);
    threeMonths.setUTCMonth(threeMonths.getUTCMonth() + 3);
    expect([status, (extended as { status: string }).status]).toEqual([200, 'extended']);
    expect(Math.abs(Date.parse((extended as { due: string }).due) - threeMonths.getTime())).toBeLessThan(60_000);
    expect((await op('/operator/rights/extend', { requestId, subject: quinn, right: 'rectification', receivedAt: receivedAt.toISOString(), reason: 'longer', by: 'P3M' })).status).toBe(409);
    const [, emailed] = await answer(await op('/operator/rights/receive', { subject: quinn, right: 'erasure' }));
    const other = (emailed as { requestId: string }).requestId;
    expect(await answer(await op('/operator/rights/refuse', { requestId: other, subject: quinn, right: 'erasure', reason: 'identity-not-verified' }))).toEqual([200, { requestId: other, status: 'refused' }]);
    expect(await k.store.account(quinn)).toMatchObject({ name: 'Quinn' });
    const states = trail()
      .filter((r) => r['kind'] === 'rights' && r['subject'] === k.kit.pseudonymizeSubject(quinn))
      .map((r) => r['attributes'] as Record<string, string>)
      .map((a) => [a['right'], a['status'], a['reason'] ?? null, a['noticeSentAt'] === undefined ? null : 'notice']);
    expect(states).toEqual([
      ['rectification', 'received', null, null],
      ['rectification', 'extended', 'the change needs a maintainer', 'notice'],
      ['erasure', 'received', null, null],
      ['erasure', 'refused', 'identity-not-verified', null],
    ]);
  });

  it('retention: both stores behind the port; the statement states no period, so a sweep years later erases nothing', async () => {
    expect(k.kit.retention.stores.map((s) => s.name)).toEqual(['accounts-db', 'page-views-db']);
    const accounts = await k.store.countAccounts();
    const tenYears = Date.now() + 10 * 366 * 24 * 3600 * 1000;
    expect(await k.kit.retention.due({ now: tenYears, within: 'P1Y' })).toEqual([]);
    expect(await k.kit.retention.sweep({ now: tenYears })).toMatchObject({ erased: 0, anonymised: 0, flagged: 0, held: 0, failed: [] });
    expect(await k.store.countAccounts()).toBe(accounts);
  });
});
