import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { coreos, createFileConsentStore, createPurposekit, listOpenRightsRequests, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import type { ConsentStore, FileConsentStore, Policy, Purposekit } from '@purposekit/core';
import { createPrivacy, createRightsRouter, privacyOf } from './index';
import type { RightsRouterOptions } from './index';

const NOW = Date.parse('2026-03-31T08:00:00.000Z');
const subjectKey = { id: 'k1', secret: 'e'.repeat(32) };


let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

async function listen(app: express.Express): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// Test authentication: a bearer token per user.
const TOKENS: Record<string, string> = { 'Bearer t-alice': 'alice', 'Bearer t-bob': 'bob' };
const auth = (user: 'alice' | 'bob' | undefined): Record<string, string> => (user === undefined ? {} : { authorization: `Bearer t-${user}` });

interface App {
  base: string;
  kit: Purposekit;
  audit: InMemoryAuditSink;
  erased: string[];
  deletedMembers: Map<string, Record<string, string>>;
  profiles: Map<string, { name: string; email: string }>;
}

async function start(policy: Policy = openinfra, over: Partial<RightsRouterOptions> = {}, consentStore?: ConsentStore): Promise<App> {
  const audit = new InMemoryAuditSink({ now: () => NOW });
  const kit = createPurposekit({ policy, audit, subjectKey, now: () => NOW, ...(consentStore !== undefined ? { consentStore } : {}) });
  const privacy = createPrivacy(kit, { onWarning: () => undefined });
  const erased: string[] = [];
  const deletedMembers = new Map<string, Record<string, string>>();
  const profiles = new Map([
    ['alice', { name: 'Alice A.', email: 'alice@example.org' }],
    ['bob', { name: 'Bob B.', email: 'bob@example.org' }],
  ]);
  const app = express();
  app.use(privacy.middleware());
  app.use(
    createRightsRouter(kit, {
      getSubject: (req) => TOKENS[req.headers.authorization ?? ''],
      exporter: (subject) => ({ profile: profiles.get(subject) ?? null }),
      eraser: (subject) => {
        erased.push(subject);
        profiles.delete(subject);
      },
      erasureRecord: (subject) => {
        const p = profiles.get(subject)!;
        const kept = { name: p.name, email: p.email, openstackId: subject };
        deletedMembers.set(subject, kept);
        return kept;
      },
      accessLog: (pseudonym) => audit.getRecords().filter((r) => r.subject === pseudonym),
      rectifier: (subject, changes) => {
        const p = profiles.get(subject)!;
        if (typeof changes['name'] === 'string') p.name = changes['name'];
        return changes['email'] !== undefined ? 'pending' : undefined;
      },
      now: () => NOW,
      ...over,
    }),
  );
  // The app's own route under the rights prefix: its body is the app's business.
  app.post('/privacy/feedback', express.text({ type: '*/*' }), (req, res) => {
    res.json({ app: 'feedback', length: String(req.body).length });
  });
  // An ordinary route of the app: sends the newsletter (consent-based).
  app.post('/newsletter/send/:user', privacy.purpose('marketing.email'), async (req, res, next) => {
    try {
      await privacyOf(req).access({ subject: String(req.params['user']), data: ['email'], action: 'use' });
      res.json({ sent: true });
    } catch (e) {
      next(e);
    }
  });
  app.use((_req, res) => {
    res.status(404).json({ app: 'not found' });
  });
  app.use(privacy.errorHandler());
  return { base: await listen(app), kit, audit, erased, deletedMembers, profiles };
}

async function call(base: string, method: string, path: string, user?: 'alice' | 'bob', body?: unknown, raw?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...auth(user), ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

const DUE = '2026-04-30T08:00:00.000Z'; // 31 March + one month = 30 April

describe('createRightsRouter over real HTTP: every right', () => {
  it('GET /privacy/access-log: the subject access report from the trail, only the subject\'s records', async () => {
    const a = await start();
    await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'given' });
    await call(a.base, 'POST', '/newsletter/send/alice', 'alice');
    await call(a.base, 'POST', '/newsletter/send/bob', 'alice');
    const r = await call(a.base, 'GET', '/privacy/access-log', 'alice');
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body.request).toMatchObject({ right: 'access', due: DUE, status: 'completed' });
    expect(r.body.records.map((x: any) => `${x.kind}:${x.reason ?? x.attributes.state ?? x.attributes.status}`)).toEqual(['consent:given', 'access:allowed', 'rights:received']);
    expect(r.body.records[1]).toEqual({ ts: new Date(NOW).toISOString(), kind: 'access', actor: 'service', data: ['email'], action: 'use', purpose: 'marketing.email', basis: 'consent', decision: 'allow', reason: 'allowed', requestId: expect.any(String) });
  });

  it('GET /privacy/export: one JSON document with the app\'s data, the consent history and the access log', async () => {
    const a = await start();
    await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'given' });
    await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'withdrawn' });
    const r = await call(a.base, 'GET', '/privacy/export', 'alice');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      request: { right: 'portability', due: DUE, status: 'completed' },
      format: 'purposekit-export',
      version: 1,
      policy: { id: 'openinfra', version: '2024-current' },
      subject: 'alice',
      data: { profile: { name: 'Alice A.', email: 'alice@example.org' } },
    });
    expect(r.body.consent.map((c: any) => c.state)).toEqual(['given', 'withdrawn']);
    expect(r.body.accessLog.map((x: any) => x.kind)).toEqual(['consent', 'rights', 'consent', 'rights', 'rights']);
  });

  it('POST /privacy/erasure: the app erases, keeps its minimal "deleted members" record, the trail keeps field names by pseudonym', async () => {
    const a = await start();
    const r = await call(a.base, 'POST', '/privacy/erasure', 'alice');
    // OpenInfra keeps the deleted-members record, the contribution record and legal obligations: partly completed.
    expect(r).toMatchObject({ status: 200, body: { request: { right: 'erasure', due: DUE, status: 'partly-completed' }, erased: true, kept: ['email', 'name', 'openstackId'] } });
    expect(a.erased).toEqual(['alice']);
    expect(a.profiles.has('alice')).toBe(false);
    expect(a.deletedMembers.get('alice')).toEqual({ name: 'Alice A.', email: 'alice@example.org', openstackId: 'alice' });
    expect(a.audit.getRecords().at(-1)).toMatchObject({ kind: 'rights', subject: a.kit.pseudonymizeSubject('alice'), attributes: { right: 'erasure', status: 'partly-completed', due: DUE, keptRecord: 'email,name,openstackId', kept: 'public-record,rights-fulfilment,legal-compliance' } });
    expect(JSON.stringify(a.audit.getRecords())).not.toMatch(/Alice A\.|alice@example\.org|"alice"/);
  });

  it('POST and DELETE /privacy/restriction: restricted processing is denied until lifted', async () => {
    const a = await start();
    await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'given' });
    expect((await call(a.base, 'POST', '/privacy/restriction', 'alice')).body).toMatchObject({ request: { right: 'restriction' }, restricted: true });
    expect((await call(a.base, 'POST', '/newsletter/send/alice')).body).toEqual({ error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', message: expect.any(String), reason: 'restricted' } });
    expect((await call(a.base, 'DELETE', '/privacy/restriction', 'alice')).body).toMatchObject({ restricted: false });
    expect((await call(a.base, 'POST', '/newsletter/send/alice')).status).toBe(200);
  });

  it('POST and DELETE /privacy/objection: objecting to direct marketing stops it; other purposes are refused', async () => {
    const a = await start();
    await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'given' });
    expect((await call(a.base, 'POST', '/privacy/objection', 'alice', { purpose: 'marketing.email' })).body).toMatchObject({ request: { right: 'objection' }, purpose: 'marketing.email', objected: true });
    expect((await call(a.base, 'POST', '/newsletter/send/alice')).body.error.reason).toBe('objection');
    expect((await call(a.base, 'DELETE', '/privacy/objection', 'alice', { purpose: 'marketing.email' })).body).toMatchObject({ objected: false });
    expect((await call(a.base, 'POST', '/newsletter/send/alice')).status).toBe(200);
    expect((await call(a.base, 'POST', '/privacy/objection', 'alice', { purpose: 'diagnostics' })).status).toBe(200);
    const refused = await call(a.base, 'POST', '/privacy/objection', 'alice', { purpose: 'service.registration' });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'PURPOSEKIT_ERR_BAD_REQUEST', field: 'purpose' } } });
  });

  it('POST /privacy/rectification: applied at once, or left open (202) for a manual correction', async () => {
    const a = await start();
    const done = await call(a.base, 'POST', '/privacy/rectification', 'alice', { changes: { name: 'Alice B.' } });
    expect(done).toMatchObject({ status: 200, body: { request: { right: 'rectification', status: 'completed' }, fields: ['name'] } });
    expect(a.profiles.get('alice')!.name).toBe('Alice B.');
    const manual = await call(a.base, 'POST', '/privacy/rectification', 'alice', { changes: { email: 'new@example.org' } });
    expect(manual).toMatchObject({ status: 202, body: { request: { right: 'rectification', status: 'pending', due: DUE } } });
    expect(listOpenRightsRequests(a.audit.getRecords(), NOW)).toEqual([
      { state: 'received', requestId: manual.body.request.id, right: 'rectification', subject: a.kit.pseudonymizeSubject('alice'), receivedAt: new Date(NOW).toISOString(), due: DUE, overdue: false },
    ]);
    expect(JSON.stringify(a.audit.getRecords())).not.toContain('new@example.org');
  });
});

describe('createRightsRouter over real HTTP: every consent transition', () => {
  it.each([
    // [from, to, decision after]
    [undefined, 'given', 200],
    [undefined, 'refused', 403],
    [undefined, 'withdrawn', 403],
    ['given', 'withdrawn', 403],
    ['given', 'refused', 403],
    ['withdrawn', 'given', 200],
    ['refused', 'given', 200],
    ['given', 'given', 200],
  ] as const)('%s → %s: the next access answers %i, and the change is in the trail', async (from, to, status) => {
    const a = await start();
    if (from !== undefined) await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: from });
    const r = await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: to });
    expect(r.status).toBe(200);
    expect(r.body.consent).toMatchObject({ subject: 'alice', purpose: 'marketing.email', state: to, type: 'explicit', source: 'api', policyVersion: '2024-current' });
    // Only a withdrawal is a rights request (Art. 7(3)); giving or refusing is a consent record.
    expect(r.body.request !== undefined).toBe(to === 'withdrawn');
    expect((await call(a.base, 'POST', '/newsletter/send/alice')).status).toBe(status);
    const consentRecords = a.audit.getRecords().filter((x) => x.kind === 'consent');
    expect(consentRecords.at(-1)!.attributes).toEqual({ state: to, type: 'explicit', source: 'api' });
    expect(consentRecords).toHaveLength(from === undefined ? 1 : 2);
  });

  it('CoreOS: opting out of promotional email leaves account notices (implied consent)', async () => {
    const a = await start(coreos, { exporter: undefined, accessLog: undefined, rectifier: undefined, erasureRecord: undefined });
    const r = await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'withdrawn' });
    expect(r.body.consent).toMatchObject({ state: 'withdrawn', type: 'implied' });
    const decide = (purpose: string) => a.kit.runAs({ purpose, actor: 'mailer', subject: 'alice' }, () => a.kit.access({ data: ['email'], action: 'use' })).then(() => 'allowed', (e) => e.details.reason);
    expect(await decide('marketing.email')).toBe('consent-withdrawn');
    expect(await decide('notifications')).toBe('allowed');
  });

  it('withdrawal takes effect on the next access decision across two app instances sharing one store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pk-express-two-'));
    const stores: FileConsentStore[] = [createFileConsentStore({ path: join(dir, 'consent.jsonl') }), createFileConsentStore({ path: join(dir, 'consent.jsonl') })];
    try {
      const one = await start(openinfra, {}, stores[0]);
      const two = await start(openinfra, {}, stores[1]);
      await call(one.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'given' });
      expect((await call(two.base, 'POST', '/newsletter/send/alice')).status).toBe(200);
      await call(two.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'withdrawn' });
      const next = await call(one.base, 'POST', '/newsletter/send/alice');
      expect(next).toMatchObject({ status: 403, body: { error: { reason: 'consent-withdrawn' } } });
      // Earlier processing stays on record as allowed.
      expect(two.audit.getRecords().filter((r) => r.kind === 'access').map((r) => r.reason)).toEqual(['allowed']);
    } finally {
      for (const s of stores) await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('createRightsRouter over real HTTP: refusals', () => {
  const endpoints: Array<[string, string, unknown]> = [
    ['GET', '/privacy/access-log', undefined],
    ['GET', '/privacy/export', undefined],
    ['POST', '/privacy/erasure', undefined],
    ['POST', '/privacy/restriction', undefined],
    ['DELETE', '/privacy/restriction', undefined],
    ['POST', '/privacy/objection', { purpose: 'diagnostics' }],
    ['DELETE', '/privacy/objection', { purpose: 'diagnostics' }],
    ['POST', '/privacy/consent', { purpose: 'marketing.email', state: 'withdrawn' }],
    ['POST', '/privacy/rectification', { changes: { name: 'X' } }],
  ];

  it.each(endpoints)('%s %s without a subject: 401 PURPOSEKIT_ERR_UNAUTHENTICATED', async (method, path, body) => {
    const a = await start();
    const r = await call(a.base, method, path, undefined, body);
    expect(r).toMatchObject({ status: 401, body: { error: { code: 'PURPOSEKIT_ERR_UNAUTHENTICATED', message: 'Authentication is required.' } } });
    expect(a.audit.getRecords()).toEqual([]);
  });

  it.each([
    ['malformed JSON', 'POST', '/privacy/consent', '{"purpose":', 'body'],
    ['a JSON array', 'POST', '/privacy/objection', '["diagnostics"]', 'body'],
    ['a missing state', 'POST', '/privacy/consent', '{"purpose":"marketing.email"}', 'state'],
    ['an unknown field', 'POST', '/privacy/consent', '{"purpose":"marketing.email","state":"given","expires":"x"}', 'expires'],
    ['a body over 16 kB', 'POST', '/privacy/rectification', JSON.stringify({ changes: { name: 'x'.repeat(20_000) } }), 'body'],
  ])('%s: 400 PURPOSEKIT_ERR_BAD_REQUEST naming the field', async (_n, method, path, raw, field) => {
    const a = await start();
    const r = await call(a.base, method, path, 'alice', undefined, raw);
    expect(r).toMatchObject({ status: 400, body: { error: { code: 'PURPOSEKIT_ERR_BAD_REQUEST', message: expect.any(String), field } } });
    expect(a.audit.getRecords()).toEqual([]);
  });

  it('a right the policy does not honour: 404 PURPOSEKIT_ERR_RIGHT_NOT_OFFERED (CoreOS offers no restriction or export)', async () => {
    const a = await start(coreos, { exporter: undefined, accessLog: undefined, rectifier: undefined });
    for (const [m, p] of [['GET', '/privacy/export'], ['GET', '/privacy/access-log'], ['POST', '/privacy/restriction']] as const) {
      expect(await call(a.base, m, p, 'alice')).toMatchObject({ status: 404, body: { error: { code: 'PURPOSEKIT_ERR_RIGHT_NOT_OFFERED' } } });
    }
    expect((await call(a.base, 'POST', '/privacy/erasure', 'alice')).status).toBe(200);
  });

  it('unknown paths under the prefix and other routes pass through to the app', async () => {
    const a = await start();
    expect(await call(a.base, 'GET', '/privacy/everything', 'alice')).toMatchObject({ status: 404, body: { app: 'not found' } });
    expect(await call(a.base, 'PUT', '/privacy/erasure', 'alice')).toMatchObject({ status: 404, body: { app: 'not found' } });
  });

  it('503 when the trail cannot record the request: nothing is erased', async () => {
    const a = await start();
    a.audit.failAppends();
    expect(await call(a.base, 'POST', '/privacy/erasure', 'alice')).toMatchObject({ status: 503, body: { error: { code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' } } });
    expect(a.erased).toEqual([]);
  });

  it('one subject can never see or change another subject\'s data', async () => {
    const a = await start();
    await call(a.base, 'POST', '/privacy/consent', 'bob', { purpose: 'marketing.email', state: 'given' });
    // Picking the subject through the query, a path segment or the body all fail.
    const viaQuery = await call(a.base, 'GET', '/privacy/export?subject=bob', 'alice');
    expect(viaQuery.body).toMatchObject({ subject: 'alice', data: { profile: { name: 'Alice A.' } }, consent: [] });
    expect(JSON.stringify(viaQuery.body)).not.toMatch(/bob|Bob B\./);
    expect((await call(a.base, 'GET', '/privacy/export/bob', 'alice')).status).toBe(404);
    expect(await call(a.base, 'POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'withdrawn', subject: 'bob' })).toMatchObject({ status: 400, body: { error: { field: 'subject' } } });
    expect(await call(a.base, 'POST', '/privacy/erasure?subject=bob', 'alice', { subject: 'bob' })).toMatchObject({ status: 400, body: { error: { field: 'subject' } } });
    const log = await call(a.base, 'GET', '/privacy/access-log', 'alice');
    expect(log.body.records.every((r: any) => r.kind === 'rights')).toBe(true);
    // Bob's data and consent are untouched.
    expect(a.profiles.get('bob')).toEqual({ name: 'Bob B.', email: 'bob@example.org' });
    expect((await call(a.base, 'POST', '/newsletter/send/bob')).status).toBe(200);
    expect(a.erased).toEqual([]);
  });
});

describe('createRightsRouter leaves the app\'s own routes under the prefix alone', () => {
  it('a malformed or large body to /privacy/feedback reaches the app, not the rights parser', async () => {
    const app = await start();
    for (const body of ['{"not json', 'x'.repeat(20_000)]) {
      const res = await fetch(`${app.base}/privacy/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect([res.status, await res.json()]).toEqual([200, { app: 'feedback', length: body.length }]);
    }
  });
});
