import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { run as purposekit } from '@purposekit/cli';
import { verifyAuditTrail } from '@purposekit/core';
import { createApp, listen } from './app';
import type { OpenInfraApp } from './app';

let h: OpenInfraApp;
let server: Server;
let base: string;
let adaId: string;
const lines: string[] = [];
// Birthdates relative to the current year, so each person's side of a gate holds whatever
// year the suite runs in (fixed dates would cross 13 or 18 as the years pass).
const YEAR = new Date().getUTCFullYear();
const UNDER_18 = `${YEAR - 16}-02-01`; // 15 or 16: 13+ but not 18+
const UNDER_13 = `${YEAR - 10}-01-01`; // 9 or 10
const UNDER_13_TOO = `${YEAR - 11}-05-05`; // 10 or 11

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pk-openinfra-'));
  const logger = pino(new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
  h = await createApp({ dataDir, logger, trustProxy: 'loopback' });
  server = await listen(h.app, 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await h.close();
});

const json = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

const logFor = (path: string, method = 'GET') => lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' && l.path === path && l.method === method);

function auditRecords(): Array<Record<string, unknown>> {
  return readdirSync(h.auditDir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(h.auditDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
}

describe('openinfra-express reference app', () => {
  it('tags each request with its purpose and basis in the log line, with a truncated IP only', async () => {
    expect((await fetch(`${base}/`)).status).toBe(200);
    const status = await fetch(`${base}/status`, { headers: { 'x-forwarded-for': '198.51.100.23' } });
    expect(await status.json()).toMatchObject({ ok: true, yourAddressAsLogged: '198.51.100.0' });
    expect(logFor('/')[0]).toMatchObject({ purpose: 'service.provision', basis: 'legitimate-interests', policy: 'openinfra@2024-current', status: 200 });
    expect(logFor('/status')[0]).toMatchObject({ purpose: 'diagnostics', basis: 'legitimate-interests', ip: '198.51.100.0', status: 200 });
  });

  it('registers members only at 18+, neutrally, and never keeps the refused submission', async () => {
    const kid = await json('POST', '/members', { name: 'Young Person', email: 'young@example.org', dateOfBirth: UNDER_18 });
    expect(kid.status).toBe(403);
    expect(await kid.json()).toEqual({ error: { code: 'PURPOSEKIT_ERR_AGE_GATE_REFUSED', message: 'Sorry, we cannot accept this submission.' } });
    const ada = await json('POST', '/members', { name: 'Ada', email: 'ada@example.org', dateOfBirth: '1990-04-01', employer: 'Acme', directory: true });
    expect(ada.status).toBe(201);
    adaId = ((await ada.json()) as { id: string }).id;
    const bo = await json('POST', '/members', { name: 'Bo', email: 'bo@example.org', dateOfBirth: '1985-01-01' });
    expect(bo.status).toBe(201);
    const dir = (await (await fetch(`${base}/members/directory`)).json()) as { members: Array<{ name: string }> };
    expect(dir.members.map((m) => m.name)).toEqual(['Ada']);
  });

  it('takes newsletter sign-ups by consent (13+) and honours withdrawal', async () => {
    expect((await json('POST', '/newsletter', { name: 'Kid', email: 'kid@example.org', dateOfBirth: UNDER_13 })).status).toBe(403);
    const res = await json('POST', '/newsletter', { name: 'Cy', email: 'cy@example.org', dateOfBirth: '2010-01-01' });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await json('DELETE', `/newsletter/${id}`)).status).toBe(204);
  });

  it('accepts nothing from under-13s: surveys and questions behind the 13+ gate; 13 is enough for them', async () => {
    const kid = { name: 'Kid Two', email: 'kid2@example.org', dateOfBirth: UNDER_13_TOO };
    expect((await json('POST', '/surveys', { ...kid, answer: 'fun' })).status).toBe(403);
    expect((await json('POST', '/questions', { ...kid, question: 'why?' })).status).toBe(403);
    const teen = { name: 'Tess', email: 'tess@example.org', dateOfBirth: '2012-01-01' };
    expect((await json('POST', '/surveys', { ...teen, answer: 'great summit', location: 'Berlin' })).status).toBe(201);
    expect((await json('POST', '/questions', { ...teen, question: 'How do I join?' })).status).toBe(201);
    expect([await h.store.countSubmissions('survey'), await h.store.countSubmissions('question')]).toEqual([1, 1]);
  });

  it('answers the GDPR rights for the authenticated member only, within one month', async () => {
    const join = await json('POST', '/members', { name: 'Dee', email: 'dee@example.org', dateOfBirth: '1970-07-07', directory: true });
    const { id } = (await join.json()) as { id: string };
    const other = (await (await json('POST', '/members', { name: 'Eve', email: 'eve@example.org', dateOfBirth: '1980-01-01' })).json()) as { id: string };
    const as = (who: string) => ({ authorization: `Bearer ${who}` });

    expect((await fetch(`${base}/privacy/export`)).status).toBe(401);
    const exported = (await (await fetch(`${base}/privacy/export`, { headers: as(id) })).json()) as { data: { member: { name: string } }; consent: Array<{ purpose: string }>; accessLog: Array<{ purpose: string }>; request: { due: string } };
    expect(exported.data.member.name).toBe('Dee');
    expect(exported.consent.map((c) => c.purpose)).toEqual(['membership']);
    expect(exported.accessLog.map((r) => r.purpose)).toContain('service.registration');
    // Due one month after receipt (GDPR Art. 12(3); OpenInfra: "within one month").
    const due = new Date(exported.request.due);
    const monthLater = new Date();
    monthLater.setUTCMonth(monthLater.getUTCMonth() + 1);
    expect(Math.abs(due.getTime() - monthLater.getTime())).toBeLessThan(60_000);
    // A body naming another subject is refused; the export is always the caller's own.
    expect((await json('POST', '/privacy/objection', { purpose: 'diagnostics', subject: other.id }, as(id))).status).toBe(400);
    const log = (await (await fetch(`${base}/privacy/access-log`, { headers: as(other.id) })).json()) as { records: Array<{ purpose: string }> };
    expect(log.records.length).toBeGreaterThan(0);
    expect(JSON.stringify(log)).not.toContain('membership');

    // Correction: profile fields at once; anything else becomes a manual task (pending).
    expect((await json('POST', '/privacy/rectification', { changes: { employer: 'NewCo' } }, as(id))).status).toBe(200);
    expect((await h.store.member(id))?.employer).toBe('NewCo');
    expect((await json('POST', '/privacy/rectification', { changes: { shoeSize: '42' } }, as(id))).status).toBe(202);

    const erased = await json('POST', '/privacy/erasure', undefined, as(id));
    expect(erased.status).toBe(200);
    expect(((await erased.json()) as { kept: string[] }).kept).toEqual(['email', 'id', 'name']);
    // Gone from the directory; only the "deleted members" record remains.
    const dir = (await (await fetch(`${base}/members/directory`)).json()) as { members: Array<{ name: string }> };
    expect(dir.members.map((m) => m.name)).not.toContain('Dee');
    expect(await h.store.member(id)).toBeUndefined();
    expect(await h.store.deletedMember(id)).toMatchObject({ id, name: 'Dee', email: 'dee@example.org' });
    expect(logFor('/privacy/erasure', 'POST')[0]).toMatchObject({ purpose: 'rights-fulfilment', basis: 'legal-obligation', status: 200 });
  });

  it('keeps no full IP, no birthdate and no refused body in any log line', () => {
    const all = lines.join('\n');
    for (const leaked of ['127.0.0.1', '198.51.100.23', UNDER_18, '1990-04-01', UNDER_13, UNDER_13_TOO, 'Young Person', 'young@example.org', 'Kid Two', 'kid2@example.org']) {
      expect(all).not.toContain(leaked);
    }
  });

  it('writes the expected decisions to the audit trail, without personal values', async () => {
    await h.kit.close();
    const records = auditRecords();
    const events = records.filter((r) => r['kind'] !== 'checkpoint');
    expect(events.slice(0, 10).map((r) => [r['kind'], r['purpose'], r['decision'], r['reason']])).toEqual([
      ['access', 'diagnostics', 'allow', 'allowed'],
      ['age-gate', 'service.registration', 'deny', 'refused'],
      ['access', 'service.registration', 'allow', 'allowed'],
      ['consent', 'membership', undefined, undefined],
      ['access', 'service.registration', 'allow', 'allowed'],
      ['access', 'membership', 'allow', 'allowed'],
      ['age-gate', 'marketing.email', 'deny', 'refused'],
      ['consent', 'marketing.email', undefined, undefined],
      ['access', 'marketing.email', 'allow', 'allowed'],
      ['consent', 'marketing.email', undefined, undefined],
    ]);
    // The rights requests: received and completed, each with its due date.
    const rights = events.filter((r) => r['kind'] === 'rights').map((r) => r['attributes'] as Record<string, string>);
    expect(rights.map((a) => [a['right'], a['status']])).toEqual([
      ['portability', 'received'], ['portability', 'completed'],
      ['access', 'received'], ['access', 'completed'],
      ['rectification', 'received'], ['rectification', 'completed'],
      ['rectification', 'received'], // the manual one stays open
      // The seed keeps the deleted-members record, the contribution record and legal obligations.
      ['erasure', 'received'], ['erasure', 'partly-completed'],
    ]);
    for (const a of rights) expect(a['due']).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const verified = await verifyAuditTrail(h.auditDir, { publicKeys: [readFileSync(h.publicKeyPath, 'utf8')] });
    expect(verified).toMatchObject({ ok: true, signaturesChecked: true });
    expect(verified.checkpoints).toBeGreaterThan(0);

    const text = JSON.stringify(records);
    for (const leaked of ['NewCo', 'shoeSize', 'Ada', 'ada@example.org', 'Dee', 'dee@example.org', 'Tess', 'Kid Two', 'kid2@example.org', UNDER_13_TOO, '1990-04-01', '127.0.0.1', '198.51.100']) expect(text).not.toContain(leaked);
    // The two refusals at the survey and question gates are recorded, without the submission.
    expect(events.filter((r) => r['kind'] === 'age-gate' && (r['purpose'] === 'surveys' || r['purpose'] === 'customer-care')).map((r) => r['reason'])).toEqual(['refused', 'refused']);
    expect(records.some((r) => r['kind'] === 'checkpoint')).toBe(true);
  });
  it('answers "who touched my data, and why?" with the CLI, from the app\'s own trail and keys', async () => {
    let out = '';
    const stdout = new Writable({ write(c, _e, cb) { out += String(c); cb(); } });
    const code = await purposekit(['audit', 'report', '--json', '--subject', adaId, h.auditDir, '--key', join(h.auditDir, '../keys/subject-hmac.key.json')], { stdout, stderr: stdout });
    expect(code).toBe(0);
    const report = JSON.parse(out) as { entries: Array<{ kind: string; purpose: string; basis: string; data: string[]; decision?: string }> };
    // Ada joined (collected under a contract), opted in to the directory (consent), and was
    // listed in it twice (shared with the public under that consent). Nothing else.
    expect(report.entries.map((e) => [e.kind, e.purpose, e.basis, e.decision])).toEqual([
      ['access', 'service.registration', 'contract', 'allow'],
      ['consent', 'membership', 'consent', undefined],
      ['access', 'membership', 'consent', 'allow'],
      ['access', 'membership', 'consent', 'allow'],
    ]);
    expect(report.entries[0]!.data).toEqual(['name', 'email', 'employer', 'location', 'profession']);
  });
});

describe('openinfra-express: what the seed says, end to end (issue 13), and hardening (issue 17)', () => {
  let o: OpenInfraApp;
  let oServer: Server;
  let at: string;
  let dataDir: string;
  const out: string[] = [];
  const OPERATOR = 'operator-token-for-the-test-0123456789';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pk-openinfra-13-'));
    const logger = pino(new Writable({ write(c, _e, cb) { out.push(String(c)); cb(); } }));
    o = await createApp({ dataDir, logger, trustProxy: 'loopback', operatorToken: OPERATOR });
    oServer = await listen(o.app, 0);
    at = `http://127.0.0.1:${(oServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => oServer.close(r));
    await o.close();
  });

  const send = (method: string, path: string, options: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string } = {}) =>
    fetch(`${at}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      ...(options.raw !== undefined ? { body: options.raw } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  const answer = async (res: Response): Promise<[number, unknown]> => [res.status, res.status === 204 ? null : await res.json()];
  const requestLines = () => out.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'request');
  const events = () =>
    readdirSync(o.auditDir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => readFileSync(join(o.auditDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>))
      .filter((r) => r['kind'] !== 'checkpoint');
  const member = async (name: string, email: string): Promise<string> => {
    const [status, body] = await answer(await send('POST', '/members', { body: { name, email, dateOfBirth: '1980-01-01' } }));
    expect(status).toBe(201);
    return (body as { id: string }).id;
  };

  it('malformed, oversized or wrongly encoded bodies get 400 / 413 / 415 JSON errors, never 500, each with its log line; the body is never echoed', async () => {
    const before = requestLines().length;
    expect(await answer(await send('POST', '/members', { raw: '{"name":"Secret Sam","email', headers: { 'content-type': 'application/json' } }))).toEqual([
      400,
      { error: { code: 'APP_INVALID_BODY', message: 'The body is not valid JSON.' } },
    ]);
    expect(await answer(await send('POST', '/members', { raw: JSON.stringify({ name: 'x'.repeat(20_000) }), headers: { 'content-type': 'application/json' } }))).toEqual([
      413,
      { error: { code: 'APP_BODY_TOO_LARGE', message: 'The body is larger than 16 KiB.' } },
    ]);
    for (const headers of [{ 'content-type': 'application/json; charset=latin1' }, { 'content-type': 'application/json', 'content-encoding': 'x-unknown' }]) {
      const [status, body] = await answer(await send('POST', '/surveys', { raw: '{"name":"Secret Sam"}', headers }));
      expect([status, (body as { error: { code: string } }).error.code]).toEqual([415, 'APP_UNSUPPORTED_ENCODING']);
    }
    expect(await answer(await send('POST', '/questions', { raw: 'name=Secret+Sam', headers: { 'content-type': 'application/x-www-form-urlencoded' } }))).toEqual([
      415,
      { error: { code: 'APP_UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as application/json.' } },
    ]);
    // A JSON array or scalar is a body without the fields: 400 from the route, not a crash.
    // A JSON array is a body without the fields (the age gate finds no date of birth); a
    // bare JSON string is not accepted as a body at all.
    expect(await answer(await send('POST', '/newsletter', { body: [1, 2] }))).toEqual([400, { error: { code: 'PURPOSEKIT_ERR_DOB_MISSING', message: 'A date of birth is required.' } }]);
    expect(await answer(await send('POST', '/questions', { body: 'text' }))).toEqual([400, { error: { code: 'APP_INVALID_BODY', message: 'The body is not valid JSON.' } }]);
    const logged = requestLines().slice(before).map((l) => [l['method'], l['path'], l['status']]);
    expect(logged).toEqual([
      ['POST', '/members', 400],
      ['POST', '/members', 413],
      ['POST', '/surveys', 415],
      ['POST', '/surveys', 415],
      ['POST', '/questions', 415],
      ['POST', '/newsletter', 400],
      ['POST', '/questions', 400],
    ]);
    expect(out.join('\n')).not.toContain('Secret Sam');
  });

  it('unknown routes and methods answer the standard JSON error shape', async () => {
    for (const [method, path] of [['GET', '/nope'], ['PUT', '/members'], ['DELETE', '/status'], ['PATCH', '/privacy/erasure']] as const) {
      expect(await answer(await send(method, path))).toEqual([404, { error: { code: 'APP_NOT_FOUND', message: 'No such route or method.' } }]);
    }
  });

  it('an unknown but well-formed id is not a member; the unsubscribe secret never reaches a log line', async () => {
    const nobody = '00000000-0000-4000-8000-000000000000';
    expect((await send('GET', '/privacy/export', { token: nobody })).status).toBe(401);
    expect((await send('POST', '/privacy/erasure', { token: nobody })).status).toBe(401);
    const seen = events().length;
    expect((await send('GET', '/status', { token: nobody })).status).toBe(200);
    expect(events().slice(seen).map((r) => [r['purpose'], r['subject']])).toEqual([['diagnostics', undefined]]);
    expect((await send('DELETE', `/newsletter/${nobody}`)).status).toBe(404);

    const [, sub] = await answer(await send('POST', '/newsletter', { body: { name: 'Ivy', email: 'ivy@example.org', dateOfBirth: '1990-01-01' } }));
    const secret = (sub as { id: string }).id;
    expect((await send('DELETE', `/newsletter/${secret}`)).status).toBe(204);
    expect(await o.store.subscriber(secret)).toBeUndefined();
    expect(out.join('\n')).not.toContain(secret);
    expect(requestLines().filter((l) => l['method'] === 'DELETE').map((l) => [l['path'], l['status']])).toEqual([
      ['/status', 404],
      ['/newsletter/:id', 404],
      ['/newsletter/:id', 204],
    ]);
  });

  it('the operator routes that touch every subscriber or a rights request require the operator token', async () => {
    const someone = await member('Jo', 'jo@example.org');
    for (const path of ['/operator/newsletter/send', '/operator/rights/extend', '/operator/rights/refuse']) {
      for (const token of [undefined, someone, `${OPERATOR}x`]) {
        expect(await answer(await send('POST', path, { body: {}, ...(token !== undefined ? { token } : {}) }))).toEqual([
          401,
          { error: { code: 'APP_OPERATOR_ONLY', message: 'This route is for the operator: send Authorization: Bearer <operator token>.' } },
        ]);
      }
    }
    expect(existsSync(join(dataDir, 'operator-token'))).toBe(false); // given as an option: no file written
    // With the token, a body that names no request is the operator's mistake: 400, not 500.
    for (const path of ['/operator/rights/extend', '/operator/rights/refuse']) {
      expect(await answer(await send('POST', path, { token: OPERATOR, body: { requestId: 'x y', reason: 'why' } }))).toEqual([400, { error: { code: 'APP_INVALID_OPERATOR_REQUEST', message: 'The body does not name a rights request (requestId, subject, right) with a valid reason, date or duration; see the README.' } }]);
    }
  });

  it('GPC is stored per person and honoured in the newsletter batch job; the share names its recipient and transfer mechanism; the operator\'s own GPC speaks for no one else', async () => {
    const gus = await member('Gus', 'gus@example.org');
    const hal = await member('Hal', 'hal@example.org');
    for (const [who, name] of [[gus, 'Gus'], [hal, 'Hal']] as const) {
      expect((await send('POST', '/newsletter', { token: who, body: { name, email: `${name.toLowerCase()}@example.org`, dateOfBirth: '1980-01-01' } })).status).toBe(201);
    }
    // Gus's own request carries Sec-GPC: 1: stored as his opt-out of the GPC purposes.
    expect((await send('GET', '/status', { token: gus, headers: { 'sec-gpc': '1' } })).status).toBe(200);
    const stored = await o.kit.consentStore.facts(gus, 'marketing.email');
    expect(stored.consent).toMatchObject({ state: 'withdrawn', source: 'gpc' });
    expect((await o.kit.consentStore.facts(hal, 'marketing.email')).consent).toMatchObject({ state: 'given', source: 'form' });

    const seen = events().length;
    // The operator's request sends Sec-GPC: 1 too: it does not opt Hal out.
    expect(await answer(await send('POST', '/operator/newsletter/send', { token: OPERATOR, headers: { 'sec-gpc': '1' } }))).toEqual([
      200,
      { sent: [hal], skipped: [{ id: gus, reason: 'gpc-opt-out' }] },
    ]);
    const shares = events().slice(seen).filter((r) => r['kind'] === 'access');
    expect(shares.map((r) => [r['subject'] === o.kit.pseudonymizeSubject(hal) ? 'hal' : r['subject'] === o.kit.pseudonymizeSubject(gus) ? 'gus' : '?', r['actor'], r['action'], r['recipient'], r['decision'], r['reason'], r['attributes']])).toEqual([
      ['gus', 'operator', 'share', 'email-service-provider', 'deny', 'gpc-opt-out', { transferCountry: 'US', transferMechanism: 'scc' }],
      ['hal', 'operator', 'share', 'email-service-provider', 'allow', 'allowed', { transferCountry: 'US', transferMechanism: 'scc' }],
    ]);
  });

  it('erasure removes the member, their subscriptions and survey answers (only the deleted-members record stays); afterwards every access about them is denied', async () => {
    const fay = await member('Fay', 'fay@example.org');
    expect((await send('POST', '/newsletter', { token: fay, body: { name: 'Fay', email: 'fay@example.org', dateOfBirth: '1980-01-01' } })).status).toBe(201);
    expect((await send('POST', '/surveys', { token: fay, body: { name: 'Fay', email: 'fay@example.org', answer: 'signed in', dateOfBirth: '1980-01-01' } })).status).toBe(201);
    expect((await send('POST', '/surveys', { body: { name: 'Fay F.', email: 'fay@example.org', answer: 'anonymous, same address', dateOfBirth: '1980-01-01' } })).status).toBe(201);
    expect((await send('POST', '/questions', { token: fay, body: { name: 'Fay', email: 'fay@example.org', question: 'When?', dateOfBirth: '1980-01-01' } })).status).toBe(201);
    const others = (await o.store.submissions()).filter((s) => s.email !== 'fay@example.org').length;

    expect((await send('POST', '/privacy/erasure', { token: fay })).status).toBe(200);
    expect(await o.store.member(fay)).toBeUndefined();
    expect((await o.store.subscribers()).map((s) => s.email)).not.toContain('fay@example.org');
    expect((await o.store.submissions()).map((s) => s.email)).not.toContain('fay@example.org');
    expect((await o.store.submissions()).length).toBe(others);
    expect(await o.store.deletedMember(fay)).toMatchObject({ id: fay, name: 'Fay', email: 'fay@example.org' });
    for (const file of ['members.db', 'subscribers.db', 'submissions.db']) {
      expect(readFileSync(join(dataDir, file), 'utf8')).not.toContain('fay@example.org');
    }
    // A job that still holds her id (a queue, an export of the list) is denied.
    const later = await o.kit.runAs({ purpose: 'marketing.email', actor: 'newsletter-job' }, () => o.kit.check({ subject: fay, data: ['email'], action: 'use' }));
    expect(later).toMatchObject({ allowed: false, reason: 'erased' });
    expect((await answer(await send('POST', '/operator/newsletter/send', { token: OPERATOR })))[1]).toMatchObject({ skipped: expect.not.arrayContaining([expect.objectContaining({ id: fay })]) });
  });

  it('a repetitive request for a copy is refused as excessive; the privacy team extends a request (notice recorded) and refuses another', async () => {
    const kim = await member('Kim', 'kim@example.org');
    for (let i = 0; i < 3; i++) expect((await send('GET', '/privacy/export', { token: kim })).status).toBe(200);
    expect(await answer(await send('GET', '/privacy/access-log', { token: kim }))).toEqual([
      403,
      { error: { code: 'PURPOSEKIT_ERR_RIGHTS_REFUSED', message: 'This privacy request was refused.' } },
    ]);
    const receivedAt = new Date();
    const [status, pending] = await answer(await send('POST', '/privacy/rectification', { token: kim, body: { changes: { shoeSize: '42' } } }));
    expect(status).toBe(202);
    const request = (pending as { request: { id: string; due: string } }).request;
    const [, extended] = await answer(
      await send('POST', '/operator/rights/extend', { token: OPERATOR, body: { requestId: request.id, subject: kim, right: 'rectification', receivedAt: receivedAt.toISOString(), reason: 'the correction must be checked with the member' } }),
    );
    const threeMonths = new Date(receivedAt);
    threeMonths.setUTCMonth(threeMonths.getUTCMonth() + 3);
    expect(extended).toMatchObject({ requestId: request.id, status: 'extended' });
    expect(Math.abs(Date.parse((extended as { due: string }).due) - threeMonths.getTime())).toBeLessThan(60_000);
    // More than the two further months the seed's law allows is refused by the engine.
    // Longer than "two further months" (GDPR Art. 12(3)), or after the first month: refused by the engine.
    const notAllowed = [409, { error: { code: 'PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED', message: 'The deadline of this privacy request cannot be extended.' } }];
    expect(await answer(await send('POST', '/operator/rights/extend', { token: OPERATOR, body: { requestId: request.id, subject: kim, right: 'rectification', receivedAt: receivedAt.toISOString(), reason: 'longer', by: 'P3M' } }))).toEqual(notAllowed);
    expect(await answer(await send('POST', '/operator/rights/extend', { token: OPERATOR, body: { requestId: request.id, subject: kim, right: 'rectification', receivedAt: new Date(Date.now() - 40 * 86400_000).toISOString(), reason: 'late' } }))).toEqual(notAllowed);
    const [, second] = await answer(await send('POST', '/privacy/rectification', { token: kim, body: { changes: { hatSize: '7' } } }));
    const other = (second as { request: { id: string } }).request.id;
    expect(await answer(await send('POST', '/operator/rights/refuse', { token: OPERATOR, body: { requestId: other, subject: kim, right: 'rectification', reason: 'unfounded' } }))).toEqual([
      200,
      { requestId: other, status: 'refused' },
    ]);
    const states = events()
      .filter((r) => r['kind'] === 'rights' && r['subject'] === o.kit.pseudonymizeSubject(kim))
      .map((r) => r['attributes'] as Record<string, string>)
      .map((a) => [a['right'], a['status'], a['reason']]);
    expect(states).toEqual([
      ['portability', 'received', undefined], ['portability', 'completed', undefined],
      ['portability', 'received', undefined], ['portability', 'completed', undefined],
      ['portability', 'received', undefined], ['portability', 'completed', undefined],
      ['access', 'received', undefined], ['access', 'refused', 'excessive'],
      ['rectification', 'received', undefined],
      ['rectification', 'extended', 'the correction must be checked with the member'],
      ['rectification', 'received', undefined],
      ['rectification', 'refused', 'unfounded'],
    ]);
    // The extension carries its new due date and when the person was told.
    const ext = events().find((r) => r['kind'] === 'rights' && (r['attributes'] as Record<string, string>)['status'] === 'extended')!['attributes'] as Record<string, string>;
    expect([ext['due'], typeof ext['noticeSentAt']]).toEqual([(extended as { due: string }).due, 'string']);
  });

  it('retention: every store behind the port; "only for as long as reasonably necessary" never expires by itself, so a sweep years later erases nothing', async () => {
    expect(o.kit.retention.stores.map((s) => [s.name, s.purposes])).toEqual([
      ['members-db', ['service.registration', 'membership']],
      ['subscribers-db', ['marketing.email']],
      ['submissions-db', ['surveys', 'customer-care']],
    ]);
    const members = (await o.store.members()).length;
    const tenYears = Date.now() + 10 * 366 * 24 * 3600 * 1000;
    expect(await o.kit.retention.due({ now: tenYears, within: 'P1Y' })).toEqual([]);
    expect(await o.kit.retention.sweep({ now: tenYears })).toMatchObject({ erased: 0, anonymised: 0, flagged: 0, held: 0, failed: [] });
    expect((await o.store.members()).length).toBe(members);
    expect(events().filter((r) => r['kind'] === 'retention')).toEqual([]);
  });
});
