import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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
    const kid = await json('POST', '/members', { name: 'Young Person', email: 'young@example.org', dateOfBirth: '2009-02-01' });
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
    expect((await json('POST', '/newsletter', { name: 'Kid', email: 'kid@example.org', dateOfBirth: '2015-01-01' })).status).toBe(403);
    const res = await json('POST', '/newsletter', { name: 'Cy', email: 'cy@example.org', dateOfBirth: '2010-01-01' });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await json('DELETE', `/newsletter/${id}`)).status).toBe(204);
  });

  it('accepts nothing from under-13s: surveys and questions behind the 13+ gate; 13 is enough for them', async () => {
    const kid = { name: 'Kid Two', email: 'kid2@example.org', dateOfBirth: '2014-05-05' };
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
    for (const leaked of ['127.0.0.1', '198.51.100.23', '2009-02-01', '1990-04-01', '2015-01-01', '2014-05-05', 'Young Person', 'young@example.org', 'Kid Two', 'kid2@example.org']) {
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
    for (const leaked of ['NewCo', 'shoeSize', 'Ada', 'ada@example.org', 'Dee', 'dee@example.org', 'Tess', 'Kid Two', 'kid2@example.org', '2014-05-05', '1990-04-01', '127.0.0.1', '198.51.100']) expect(text).not.toContain(leaked);
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
