import { definePolicy } from '../policy/define-policy';
import { coreos, openinfra } from '../presets';
import { createPurposekit } from '../purposekit';
import type { Purposekit } from '../purposekit';
import type { Policy } from '../policy/types';
import { listOpenRightsRequests } from './due';
import { createRightsHandler } from './rights-handler';
import type { AccessLogRecord, RightsHandlerOptions, RightsResponse } from './rights-handler';
import { ArraySink } from '../__tests__/array-sink';

const NOW = Date.parse('2026-01-31T09:00:00.000Z');
const subjectKey = { id: 'k1', secret: 'r'.repeat(32) };


interface Req {
  user?: string;
}

function setup(policy: Policy = openinfra, over: Partial<RightsHandlerOptions<Req>> = {}) {
  const audit = new ArraySink({ now: () => NOW });
  const kit = createPurposekit({ policy, audit, subjectKey, now: () => NOW });
  const erased: string[] = [];
  const deletedMembers = new Map<string, Record<string, string>>();
  const handler = createRightsHandler<Req>(kit, {
    getSubject: (req) => req.user,
    // The whole trail, on purpose: the handler must filter it to the subject.
    accessLog: (): AccessLogRecord[] => audit.records,
    exporter: (subject) => ({ profile: { id: subject, name: `Name of ${subject}` } }),
    eraser: (subject) => {
      erased.push(subject);
    },
    erasureRecord: (subject) => {
      const kept = { name: `Name of ${subject}`, email: `${subject}@example.org`, openstackId: subject };
      deletedMembers.set(subject, kept);
      return kept;
    },
    now: () => NOW,
    ...over,
  });
  const call = (method: string, path: string, user: string | undefined, body?: unknown): Promise<RightsResponse | undefined> =>
    handler.handle({ method, path, body, request: user === undefined ? {} : { user } });
  return { kit, audit, handler, call, erased, deletedMembers };
}

const errorCode = (r: RightsResponse | undefined) => (r?.body as { error?: { code: string } }).error?.code;

describe('createRightsHandler options', () => {
  const kit = (policy: Policy = openinfra): Purposekit => createPurposekit({ policy, audit: new ArraySink({ now: () => NOW }), subjectKey });
  it.each<[string, unknown, string]>([
    ['an unknown option, with a hint', { getSubject: () => 'u', exporter: () => 1, accessLog: () => [], eraser: () => undefined, erazer: 1 }, 'Did you mean "eraser"?'],
    ['no getSubject', { exporter: () => 1, accessLog: () => [], eraser: () => undefined }, '"getSubject" must be a function'],
    ['a bad prefix', { getSubject: () => 'u', exporter: () => 1, accessLog: () => [], eraser: () => undefined, prefix: 'privacy/' }, '"prefix" must be a path'],
    ['missing callbacks for honoured rights', { getSubject: () => 'u' }, 'exporter (the app\'s data for the export); accessLog (the subject\'s records from the audit trail); eraser'],
  ])('rejects %s', (_n, options, text) => {
    expect(() => createRightsHandler(kit(), options as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining(text) }));
  });

  it('needs only the callbacks of the rights the policy honours (CoreOS: erasure, withdrawal, objection)', () => {
    expect(() => createRightsHandler(kit(coreos), { getSubject: () => 'u', eraser: () => undefined })).not.toThrow();
  });
});

describe('rights handler', () => {
  it('passes on paths and methods that are not its endpoints', async () => {
    const { call } = setup();
    for (const [m, p] of [['GET', '/other'], ['GET', '/privacy'], ['PUT', '/privacy/erasure'], ['GET', '/privacy/erasure'], ['GET', '/privacyx/export']]) {
      expect(await call(m!, p!, 'u1')).toBeUndefined();
    }
  });

  it('answers 401 PURPOSEKIT_ERR_UNAUTHENTICATED without a subject, records nothing', async () => {
    const { call, audit } = setup();
    for (const [m, p] of [['GET', '/privacy/export'], ['POST', '/privacy/erasure'], ['POST', '/privacy/consent']]) {
      const r = await call(m!, p!, undefined, { purpose: 'marketing.email', state: 'given' });
      expect([r?.status, errorCode(r)]).toEqual([401, 'PURPOSEKIT_ERR_UNAUTHENTICATED']);
    }
    expect(audit.records).toEqual([]);
  });

  it('records each rights request as received then completed, with its due date one month on', async () => {
    const { call, audit, kit } = setup();
    const r = await call('POST', '/privacy/restriction', 'u1');
    // 31 January + one month = 28 February (calendar-aware).
    expect(r).toMatchObject({ status: 200, headers: { 'cache-control': 'no-store' }, body: { request: { right: 'restriction', due: '2026-02-28T09:00:00.000Z', status: 'completed' }, restricted: true } });
    expect(audit.records.map((e) => [e.kind, e.attributes])).toEqual([
      ['rights', { right: 'restriction', status: 'received', due: '2026-02-28T09:00:00.000Z' }],
      ['rights', { right: 'restriction', status: 'completed', due: '2026-02-28T09:00:00.000Z' }],
    ]);
    expect(audit.records[0]).toMatchObject({ subject: kit.pseudonymizeSubject('u1'), actor: 'data-subject', purpose: 'rights-fulfilment', basis: 'legal-obligation' });
    expect(listOpenRightsRequests(audit.records, NOW)).toEqual([]);
  });

  it('leaves a failed request open (listed by due date) and answers 500 without details', async () => {
    const { call, audit } = setup(openinfra, { eraser: () => Promise.reject(new Error('db at /var/secret down')) });
    const r = await call('POST', '/privacy/erasure', 'u1');
    expect(r).toMatchObject({ status: 500, body: { error: { code: 'PURPOSEKIT_ERR_INTERNAL', message: 'Internal error.' } } });
    expect(JSON.stringify(r?.body)).not.toContain('secret');
    expect(listOpenRightsRequests(audit.records, NOW)).toMatchObject([{ right: 'erasure', due: '2026-02-28T09:00:00.000Z', overdue: false }]);
  });

  it('keeps a pending erasure open until complete() closes it under the same request id', async () => {
    const { call, audit, handler } = setup(openinfra, { eraser: () => 'pending' });
    const r = await call('POST', '/privacy/erasure', 'u1');
    expect(r).toMatchObject({ status: 202, body: { request: { right: 'erasure', status: 'pending' }, erased: false } });
    const [open] = listOpenRightsRequests(audit.records, NOW);
    expect(open).toMatchObject({ right: 'erasure', requestId: (r!.body as { request: { id: string } }).request.id });
    await handler.complete({ requestId: open!.requestId, subject: 'u1', right: 'erasure' });
    expect(listOpenRightsRequests(audit.records, NOW)).toEqual([]);
  });

  it('answers 503 and does nothing when the trail cannot record the request', async () => {
    const { call, audit, erased } = setup();
    audit.failing = true;
    const r = await call('POST', '/privacy/erasure', 'u1');
    expect([r?.status, errorCode(r)]).toEqual([503, 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE']);
    expect(erased).toEqual([]);
  });

  it('answers 404 PURPOSEKIT_ERR_RIGHT_NOT_OFFERED for a right the policy does not honour, recording nothing', async () => {
    const { call, audit } = setup(coreos, { exporter: undefined, accessLog: undefined });
    for (const [m, p] of [['GET', '/privacy/export'], ['GET', '/privacy/access-log'], ['POST', '/privacy/restriction']]) {
      const r = await call(m!, p!, 'u1');
      expect([p, r?.status, errorCode(r)]).toEqual([p, 404, 'PURPOSEKIT_ERR_RIGHT_NOT_OFFERED']);
    }
    const rect = await call('POST', '/privacy/rectification', 'u1', { changes: { name: 'X' } });
    expect(rect?.status).toBe(404);
    expect(audit.records).toEqual([]);
  });

  it.each([
    ['an objection without a purpose', 'POST', '/privacy/objection', {}, 'purpose'],
    ['an objection to a consent purpose (withdraw consent instead)', 'POST', '/privacy/objection', { purpose: 'newsletter-typo' }, 'purpose'],
    ['an objection to a contract purpose', 'POST', '/privacy/objection', { purpose: 'service.registration' }, 'purpose'],
    ['a consent change with an unknown state', 'POST', '/privacy/consent', { purpose: 'marketing.email', state: 'maybe' }, 'state'],
    ['a consent change for a non-consent purpose', 'POST', '/privacy/consent', { purpose: 'diagnostics', state: 'withdrawn' }, 'purpose'],
    ['a body naming another subject', 'POST', '/privacy/consent', { purpose: 'marketing.email', state: 'withdrawn', subject: 'u2' }, 'subject'],
    ['an erasure body naming another subject', 'POST', '/privacy/erasure', { subject: 'u2' }, 'subject'],
    ['a body that is not an object', 'POST', '/privacy/objection', ['diagnostics'], 'body'],
  ])('answers 400 PURPOSEKIT_ERR_BAD_REQUEST for %s, recording nothing', async (_n, method, path, body, field) => {
    const { call, audit, erased } = setup();
    const r = await call(method, path, 'u1', body);
    expect(r).toMatchObject({ status: 400, body: { error: { code: 'PURPOSEKIT_ERR_BAD_REQUEST', message: 'The request is not valid.', field } } });
    expect(audit.records).toEqual([]);
    expect(erased).toEqual([]);
  });

  it('erases, keeps the minimal record through the app, records field names only, and withdraws consent still given', async () => {
    const { call, audit, kit, erased, deletedMembers } = setup();
    await call('POST', '/privacy/consent', 'u1', { purpose: 'marketing.email', state: 'given' });
    const r = await call('POST', '/privacy/erasure', 'u1');
    expect(r).toMatchObject({ status: 200, body: { erased: true, kept: ['email', 'name', 'openstackId'] } });
    expect(erased).toEqual(['u1']);
    expect(deletedMembers.get('u1')).toEqual({ name: 'Name of u1', email: 'u1@example.org', openstackId: 'u1' });
    expect((await kit.consentStore.facts('u1', 'marketing.email')).consent?.state).toBe('withdrawn');
    // OpenInfra keeps the deleted-members record, the contribution record and legal obligations: partly completed.
    expect(audit.records.map((e) => `${e.kind}:${e.attributes?.['state'] ?? e.attributes?.['status']}`)).toEqual(['consent:given', 'rights:received', 'consent:withdrawn', 'rights:partly-completed']);
    expect(audit.records.at(-1)!.attributes).toMatchObject({ right: 'erasure', keptRecord: 'email,name,openstackId' });
    const trail = JSON.stringify(audit.records);
    for (const value of ['Name of u1', 'u1@example.org', '"u1"']) expect(trail).not.toContain(value);
  });

  it('one subject never sees or changes another subject\'s data', async () => {
    const { call, kit } = setup();
    await call('POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'given' });
    await call('POST', '/privacy/consent', 'bob', { purpose: 'marketing.email', state: 'given' });
    // Query strings and extra path segments cannot pick the subject.
    expect(await call('GET', '/privacy/export/bob', 'alice')).toBeUndefined();
    const r = await call('GET', '/privacy/export?subject=bob', 'alice');
    const body = r!.body as { subject: string; data: { profile: { id: string } }; consent: Array<{ subject: string }>; accessLog: Array<{ requestId?: string }> };
    expect(body.subject).toBe('alice');
    expect(body.data.profile.id).toBe('alice');
    expect(body.consent.map((c) => c.subject)).toEqual(['alice']);
    expect(JSON.stringify(body)).not.toContain(kit.pseudonymizeSubject('bob'));
    // Bob's withdrawal through a body field is refused; his consent stands.
    await call('POST', '/privacy/consent', 'alice', { purpose: 'marketing.email', state: 'withdrawn', subject: 'bob' });
    expect((await kit.consentStore.facts('bob', 'marketing.email')).consent?.state).toBe('given');
  });
});

describe('review fixes', () => {
  it('withdrawal is always accepted, even when the policy does not list withdraw-consent (Art. 7(3))', async () => {
    const policy = definePolicy({ id: 'w', version: '1', jurisdictions: ['US'], rights: { honoured: [] }, purposes: { 'marketing.email': { basis: 'consent', data: ['email'] } } });
    const { call } = setup(policy, { exporter: undefined, eraser: undefined, accessLog: undefined, erasureRecord: undefined });
    expect((await call('POST', '/privacy/consent', 'u1', { purpose: 'marketing.email', state: 'given' }))?.status).toBe(200);
    expect((await call('POST', '/privacy/consent', 'u1', { purpose: 'marketing.email', state: 'withdrawn' }))?.status).toBe(200);
  });

  it('objection and restriction records say what they targeted and whether they lifted it', async () => {
    const { call, audit } = setup();
    await call('POST', '/privacy/objection', 'u1', { purpose: 'diagnostics' });
    await call('DELETE', '/privacy/objection', 'u1', { purpose: 'diagnostics' });
    await call('POST', '/privacy/restriction', 'u1');
    await call('DELETE', '/privacy/restriction', 'u1');
    const rights = audit.records.filter((r) => r.kind === 'rights').map((r) => r.attributes);
    expect(rights.map((a) => [a?.['right'], a?.['status'], a?.['target'], a?.['lifted']])).toEqual([
      ['objection', 'received', 'diagnostics', undefined],
      ['objection', 'completed', 'diagnostics', undefined],
      ['objection', 'received', 'diagnostics', undefined],
      ['objection', 'completed', 'diagnostics', 'true'],
      ['restriction', 'received', undefined, undefined],
      ['restriction', 'completed', undefined, undefined],
      ['restriction', 'received', undefined, undefined],
      ['restriction', 'completed', undefined, 'true'],
    ]);
  });

  it('the access log shows other actors by role, never their internal ids', async () => {
    const { kit, call } = setup();
    await kit.runAs({ purpose: 'diagnostics', actor: 'member-b-internal-id' }, () => kit.access({ subject: 'u1', data: ['ip-address'], action: 'read' }));
    const res = await call('GET', '/privacy/access-log', 'u1');
    const records = (res?.body as { records: Array<{ actor: string; purpose: string }> }).records;
    expect(records.find((r) => r.purpose === 'diagnostics')?.actor).toBe('organisation');
    expect(JSON.stringify(res?.body)).not.toContain('member-b-internal-id');
  });
});
