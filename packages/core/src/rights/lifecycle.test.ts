import { ArraySink } from '../__tests__/array-sink';
import { InMemoryConsentStore } from '../consent/consent-store';
import { isPurposekitError } from '../errors';
import { definePolicy } from '../policy/define-policy';
import type { PolicyInput } from '../policy/types';
import { createPurposekit } from '../purposekit';
import type { Purposekit } from '../purposekit';
import { listOpenRightsRequests } from './due';
import { createRightsHandler } from './rights-handler';
import type { RefusalReason, RightsHandlerOptions, RightsResponse } from './rights-handler';

const RECEIVED = Date.parse('2026-01-31T09:00:00.000Z');
const subjectKey = { id: 'k1', secret: 'r'.repeat(32) };

const input = (over: Partial<PolicyInput> = {}): PolicyInput => ({
  id: 'life',
  version: '1',
  jurisdictions: ['EU'],
  purposes: {
    'service.provision': { basis: 'contract', data: ['email', 'name'] },
    'rights-fulfilment': {
      basis: 'legal-obligation',
      data: ['email', 'name'],
      survivesErasure: true,
      rights: { erasure: { exceptions: [{ reason: 'deleted-members record', source: 'We will use this record only to track our compliance with your deletion request' }] } },
    },
  },
  ...over,
});

interface Req { user?: string }

function setup(policyInput: PolicyInput = input(), over: Partial<RightsHandlerOptions<Req>> = {}) {
  let clock = RECEIVED;
  const audit = new ArraySink({ now: () => clock });
  const kit = createPurposekit({ policy: definePolicy(policyInput, { onWarning: () => undefined }), audit, subjectKey, now: () => clock });
  const erased: string[] = [];
  const handler = createRightsHandler<Req>(kit, {
    getSubject: (req) => req.user,
    accessLog: () => audit.records,
    exporter: () => ({}),
    eraser: (s) => void erased.push(s),
    now: () => clock,
    ...over,
  });
  const call = (method: string, path: string, user: string, body?: unknown): Promise<RightsResponse | undefined> => handler.handle({ method, path, body, request: { user } });
  const rights = () => audit.records.filter((r) => r.kind === 'rights').map((r) => [r.attributes?.['right'], r.attributes?.['status']]);
  return { kit, audit, handler, call, erased, rights, setClock: (t: number) => (clock = t) };
}

const reasonOf = async (kit: Purposekit, subject: string, purpose: string): Promise<string> =>
  kit.runAs({ purpose, actor: 'job' }, () => kit.access({ subject, data: ['email'], action: 'read' })).then(
    () => 'allowed',
    (e) => (isPurposekitError(e) ? String(e.details?.['reason']) : String(e)),
  );

describe('rights lifecycle', () => {
  it.each<RefusalReason>(['unfounded', 'excessive', 'identity-not-verified'])('screen() refuses a request as %s: recorded received → refused, 403, nothing erased', async (reason) => {
    const { call, erased, rights, audit } = setup(input(), { screen: () => reason });
    const r = await call('POST', '/privacy/erasure', 'u1');
    expect(r?.status).toBe(403);
    expect(r?.body).toEqual({ error: { code: 'PURPOSEKIT_ERR_RIGHTS_REFUSED', message: 'This privacy request was refused.' } });
    expect(erased).toEqual([]);
    expect(rights()).toEqual([['erasure', 'received'], ['erasure', 'refused']]);
    expect(audit.records.at(-1)!.attributes).toMatchObject({ reason });
    expect(listOpenRightsRequests(audit.records, RECEIVED)).toEqual([]);
  });

  it('a withdrawal of consent is never screened (Art. 7(3))', async () => {
    const { call } = setup(input({ purposes: { 'marketing.email': { basis: 'consent', data: ['email'] }, 'rights-fulfilment': { basis: 'legal-obligation', data: ['email'] } } }), { screen: () => 'identity-not-verified' });
    const r = await call('POST', '/privacy/consent', 'u1', { purpose: 'marketing.email', state: 'withdrawn' });
    expect(r?.status).toBe(200);
  });

  it('screen() sees the subject, the right and the request; undefined lets it through', async () => {
    const seen: unknown[] = [];
    const { call } = setup(input(), { screen: (i) => void seen.push([i.subject, i.right, i.request]) });
    expect((await call('POST', '/privacy/restriction', 'u1'))?.status).toBe(200);
    expect(seen).toEqual([['u1', 'restriction', { user: 'u1' }]]);
  });

  it('an erasure leaving the purposes the policy keeps is partly completed, says what and why, and marks the subject erased', async () => {
    const { call, kit, rights, audit } = setup();
    const r = await call('POST', '/privacy/erasure', 'u1');
    expect(r?.status).toBe(200);
    expect(r?.body).toMatchObject({ request: { status: 'partly-completed' }, erased: true, keptPurposes: [{ purpose: 'rights-fulfilment', reasons: ['deleted-members record'] }] });
    expect(rights()).toEqual([['erasure', 'received'], ['erasure', 'partly-completed']]);
    expect(audit.records.at(-1)!.attributes).toMatchObject({ kept: 'rights-fulfilment', reason: 'deleted-members record' });
    expect(await reasonOf(kit, 'u1', 'service.provision')).toBe('erased');
    expect(await reasonOf(kit, 'u1', 'rights-fulfilment')).toBe('allowed');
    expect(await reasonOf(kit, 'u2', 'service.provision')).toBe('allowed');
  });

  it('an erasure with nothing kept is completed', async () => {
    const { call } = setup(input({ purposes: { 'service.provision': { basis: 'contract', data: ['email'] }, 'rights-fulfilment': { basis: 'legal-obligation', data: ['email'] } } }));
    const body = (await call('POST', '/privacy/erasure', 'u1'))?.body;
    expect(body).toMatchObject({ request: { status: 'completed' }, erased: true });
    expect(body).not.toHaveProperty('keptPurposes');
  });

  it('a pending erasure is extended with notice within the first month, then completed; rights due shows each state', async () => {
    const { call, handler, audit, kit, setClock } = setup(input(), { eraser: () => 'pending' });
    const r = await call('POST', '/privacy/erasure', 'u1');
    expect(r?.status).toBe(202);
    const requestId = (r?.body as { request: { id: string; due: string } }).request.id;
    expect(await reasonOf(kit, 'u1', 'service.provision')).toBe('allowed'); // not erased yet
    expect(listOpenRightsRequests(audit.records, RECEIVED)).toMatchObject([{ requestId, state: 'received', due: '2026-02-28T09:00:00.000Z' }]);

    setClock(Date.parse('2026-02-20T00:00:00.000Z'));
    const { due } = await handler.extend({ requestId, subject: 'u1', right: 'erasure', receivedAt: new Date(RECEIVED), reason: 'complex: many systems' });
    expect(due).toBe('2026-04-28T09:00:00.000Z'); // first deadline + two months
    expect(audit.records.at(-1)).toMatchObject({ kind: 'rights', requestId, actor: 'rights-handler', attributes: { status: 'extended', due, reason: 'complex: many systems', noticeSentAt: '2026-02-20T00:00:00.000Z' } });
    expect(listOpenRightsRequests(audit.records, Date.parse('2026-03-01T00:00:00Z'))).toMatchObject([{ requestId, state: 'extended', due, overdue: false, extensionReason: 'complex: many systems' }]);

    await handler.complete({ requestId, subject: 'u1', right: 'erasure', kept: ['deleted-members'], reason: 'proof of the erasure' });
    expect(audit.records.at(-1)!.attributes).toMatchObject({ status: 'partly-completed', kept: 'deleted-members', reason: 'proof of the erasure' });
    expect(listOpenRightsRequests(audit.records, Date.parse('2026-03-01T00:00:00Z'))).toEqual([]);
    expect(await reasonOf(kit, 'u1', 'service.provision')).toBe('erased');
  });

  it.each([
    ['longer than two further months', { by: 'P3M' }, RECEIVED],
    ['after the first deadline passed', {}, Date.parse('2026-03-01T00:00:00.000Z')],
    ['with a notice sent after the first deadline', { noticeSentAt: '2026-03-02T00:00:00.000Z' }, RECEIVED],
  ])('an extension %s is refused (PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED) and nothing is recorded', async (_label, extra, at) => {
    const { handler, audit, setClock } = setup();
    const before = audit.records.length;
    setClock(at);
    await expect(handler.extend({ requestId: 'r-1', subject: 'u1', right: 'access', receivedAt: new Date(RECEIVED), reason: 'complex', ...extra })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED' });
    expect(audit.records.length).toBe(before);
  });

  it('no extension at all where the law grants none and the policy states none (a US policy)', async () => {
    const { handler } = setup(input({ jurisdictions: ['US'] }));
    await expect(handler.extend({ requestId: 'r-1', subject: 'u1', right: 'access', receivedAt: new Date(RECEIVED), reason: 'complex' })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED' });
  });

  it('a request received by email is recorded with its deadline, then refused later', async () => {
    const { handler, audit } = setup();
    const { requestId, due } = await handler.receive({ subject: 'u1', right: 'access' });
    expect(due).toBe('2026-02-28T09:00:00.000Z');
    expect(listOpenRightsRequests(audit.records, RECEIVED)).toMatchObject([{ requestId, right: 'access', state: 'received' }]);
    await handler.refuse({ requestId, subject: 'u1', right: 'access', reason: 'identity-not-verified' });
    expect(audit.records.at(-1)).toMatchObject({ requestId, attributes: { status: 'refused', reason: 'identity-not-verified' } });
    expect(listOpenRightsRequests(audit.records, RECEIVED)).toEqual([]);
  });

  it.each([
    ['an unknown refusal reason', (h: ReturnType<typeof setup>['handler']) => h.refuse({ requestId: 'r', subject: 'u1', right: 'access', reason: 'busy' as never })],
    ['kept without a reason', (h: ReturnType<typeof setup>['handler']) => h.complete({ requestId: 'r', subject: 'u1', right: 'erasure', kept: ['x'] })],
    ['a malformed request id', (h: ReturnType<typeof setup>['handler']) => h.complete({ requestId: 'a b', subject: 'u1', right: 'access' })],
    ['an unknown right', (h: ReturnType<typeof setup>['handler']) => h.complete({ requestId: 'r', subject: 'u1', right: 'forget' as never })],
    ['an extension without a reason', (h: ReturnType<typeof setup>['handler']) => h.extend({ requestId: 'r', subject: 'u1', right: 'access', receivedAt: new Date(RECEIVED), reason: '' })],
  ])('rejects %s (PURPOSEKIT_ERR_INVALID_OPTION)', async (_label, act) => {
    const { handler } = setup();
    await expect(act(handler)).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' });
  });

  it('refuses to start when the policy honours erasure and the consent store cannot record one', () => {
    const store = new InMemoryConsentStore();
    const legacy = { facts: store.facts.bind(store), setConsent: store.setConsent.bind(store), setObjection: store.setObjection.bind(store), setRestriction: store.setRestriction.bind(store), history: store.history.bind(store) };
    const kit = createPurposekit({ policy: definePolicy(input(), { onWarning: () => undefined }), audit: new ArraySink(), subjectKey, consentStore: legacy });
    expect(() => createRightsHandler(kit, { getSubject: () => 'u', accessLog: () => [], exporter: () => ({}), eraser: () => undefined })).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('setErased') }));
  });
});
