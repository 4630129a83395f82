import { ArraySink } from './__tests__/array-sink';
import { applyPurpose, begin, declarePurpose, runInContext } from './adapter';
import { createConsentManager } from './consent/consent-manager';
import { isPurposekitError } from './errors';
import { definePolicy } from './policy/define-policy';
import { createPurposekit } from './purposekit';
import type { AccessRequest, Purposekit } from './purposekit';

const subjectKey = { id: 'k1', secret: 's'.repeat(32) };

const policy = definePolicy({
  id: 'shares',
  version: '1',
  jurisdictions: ['EU'],
  recipients: {
    mailer: { role: 'processor', country: 'US' },
    sponsor: { role: 'controller', country: 'DE', consentRequired: true },
    registry: { role: 'processor', country: 'CH' },
  },
  purposes: {
    'service.provision': { basis: 'contract', data: ['email', 'name'], recipients: ['registry', 'sponsor'] },
    'marketing.email': { basis: 'consent', data: ['email'], recipients: ['mailer'], transfers: [{ to: 'mailer', country: 'US', mechanism: 'eu-us-dpf' }] },
    advertising: { basis: 'legitimate-interests', data: ['cookie-id'], gpc: true },
    'rights-fulfilment': {
      basis: 'legal-obligation',
      data: ['email', 'name'],
      survivesErasure: true,
      rights: { erasure: { exceptions: [{ reason: 'proof of erasure', source: 'we keep a record to track compliance' }] } },
    },
  },
});

function setup(): { kit: Purposekit; audit: ArraySink } {
  const audit = new ArraySink({ validate: true });
  return { kit: createPurposekit({ policy, audit, subjectKey, now: () => Date.parse('2026-06-01T00:00:00Z') }), audit };
}

/** One access in a request of the given purpose; resolves to the reason. */
function attempt(kit: Purposekit, purpose: string, request: AccessRequest, opts: { headers?: Record<string, string>; subject?: string; actor?: string } = {}): Promise<string> {
  const ctx = begin(kit, { headers: opts.headers ?? {}, remoteAddress: '127.0.0.1' });
  applyPurpose(kit, ctx, declarePurpose(kit, purpose));
  if (opts.subject !== undefined) ctx.setSubject(opts.subject);
  if (opts.actor !== undefined) ctx.setActor(opts.actor);
  return runInContext(kit, ctx, () => ctx.access(request)).then(
    () => 'allowed',
    (e) => (isPurposekitError(e) ? String(e.details?.['reason']) : `unexpected ${String(e)}`),
  );
}

const inJob = (kit: Purposekit, purpose: string, request: AccessRequest): Promise<string> =>
  kit.runAs({ purpose, actor: 'nightly-job' }, () => kit.access(request)).then(
    () => 'allowed',
    (e) => (isPurposekitError(e) ? String(e.details?.['reason']) : `unexpected ${String(e)}`),
  );

describe('shares to named recipients', () => {
  it('a share to a recipient of the purpose is allowed and recorded with the recipient and its transfer', async () => {
    const { kit, audit } = setup();
    await createConsentManager(kit).give('u1', 'marketing.email');
    expect(await attempt(kit, 'marketing.email', { subject: 'u1', data: ['email'], action: 'share', recipient: 'mailer' })).toBe('allowed');
    expect(audit.events.at(-1)).toMatchObject({ kind: 'access', decision: 'allow', recipient: 'mailer', attributes: { transferCountry: 'US', transferMechanism: 'eu-us-dpf' } });
  });

  it('a share to an adequate-country recipient carries no transfer attributes', async () => {
    const { kit, audit } = setup();
    expect(await attempt(kit, 'service.provision', { subject: 'u1', data: ['name'], action: 'share', recipient: 'registry' })).toBe('allowed');
    expect(audit.events.at(-1)).toMatchObject({ decision: 'allow', recipient: 'registry' });
    expect(audit.events.at(-1)!.attributes).toBeUndefined();
  });

  it('an unknown recipient, or one of another purpose, is denied as before', async () => {
    const { kit, audit } = setup();
    expect(await attempt(kit, 'service.provision', { subject: 'u1', data: ['name'], action: 'share', recipient: 'mailer' })).toBe('recipient-not-allowed');
    expect(await attempt(kit, 'service.provision', { subject: 'u1', data: ['name'], action: 'share', recipient: 'data-broker' })).toBe('recipient-not-allowed');
    expect(audit.events.map((e) => e.recipient)).toEqual(['mailer', 'data-broker']);
  });

  it('"with your consent": a consentRequired recipient needs the subject\'s explicit consent to it', async () => {
    const { kit, audit } = setup();
    const consent = createConsentManager(kit);
    const share = { subject: 'u1', data: ['name'], action: 'share', recipient: 'sponsor' } as const;
    expect(await attempt(kit, 'service.provision', share)).toBe('consent-missing');
    expect(await attempt(kit, 'service.provision', { ...share, subject: undefined })).toBe('no-subject');
    await consent.give('u1', 'recipient:sponsor', { source: 'form' });
    expect(await attempt(kit, 'service.provision', share)).toBe('allowed');
    expect(audit.events.find((e) => e.kind === 'consent')).toMatchObject({ purpose: 'recipient:sponsor', attributes: { state: 'given' } });
    await consent.withdraw('u1', 'recipient:sponsor');
    expect(await attempt(kit, 'service.provision', share)).toBe('consent-withdrawn');
    // Another subject's consent does not count.
    expect(await attempt(kit, 'service.provision', { ...share, subject: 'u2' })).toBe('consent-missing');
  });

  it('consent to a recipient is accepted only for a recipient that requires it', async () => {
    const { kit } = setup();
    await expect(createConsentManager(kit).give('u1', 'recipient:mailer')).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_BAD_REQUEST' });
    await expect(createConsentManager(kit).give('u1', 'recipient:nobody')).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_BAD_REQUEST' });
  });
});

describe('after erasure', () => {
  it('every access for the subject is denied (erased), except under a purpose that survives erasure, which is recorded as such', async () => {
    const { kit, audit } = setup();
    await createConsentManager(kit).give('u1', 'marketing.email');
    await kit.consentStore.setErased!('u1', true);
    expect(await attempt(kit, 'service.provision', { subject: 'u1', data: ['email'], action: 'read' })).toBe('erased');
    expect(await attempt(kit, 'marketing.email', { subject: 'u1', data: ['email'], action: 'use' })).toBe('erased');
    expect(await inJob(kit, 'service.provision', { subject: 'u1', data: ['email'], action: 'use' })).toBe('erased');
    expect(await attempt(kit, 'rights-fulfilment', { subject: 'u1', data: ['email'], action: 'read' })).toBe('allowed');
    expect(audit.events.at(-1)).toMatchObject({ purpose: 'rights-fulfilment', decision: 'allow', attributes: { survivesErasure: true } });
    // Other people are untouched.
    expect(await attempt(kit, 'service.provision', { subject: 'u2', data: ['email'], action: 'read' })).toBe('allowed');
    expect(audit.events.filter((e) => e.reason === 'erased')).toHaveLength(3);
  });

  it('purpose limitation still comes first (the most fundamental reason is recorded)', async () => {
    const { kit } = setup();
    await kit.consentStore.setErased!('u1', true);
    expect(await attempt(kit, 'service.provision', { subject: 'u1', data: ['payment'], action: 'read' })).toBe('purpose-limitation');
  });
});

describe('GPC per person', () => {
  const ad = { data: ['cookie-id'], action: 'use' } as const;

  it('the subject\'s own GPC is stored as their opt-out and honoured later without the header, and in a batch job', async () => {
    const { kit, audit } = setup();
    expect(await attempt(kit, 'advertising', { ...ad, subject: 'u1' }, { subject: 'u1', headers: { 'sec-gpc': '1' } })).toBe('gpc-opt-out');
    const stored = audit.events.filter((e) => e.kind === 'consent');
    expect(stored.map((e) => [e.purpose, e.attributes?.['source'], e.attributes?.['state']])).toEqual([
      ['marketing.email', 'gpc', 'refused'],
      ['advertising', 'gpc', 'refused'],
    ]);
    expect(await attempt(kit, 'advertising', { ...ad, subject: 'u1' }, { subject: 'u1' })).toBe('gpc-opt-out');
    expect(await inJob(kit, 'advertising', { ...ad, subject: 'u1' })).toBe('gpc-opt-out');
    expect(await inJob(kit, 'advertising', { ...ad, subject: 'u2' })).toBe('allowed');
    // Stored once: a second GPC request writes no second opt-out.
    await attempt(kit, 'advertising', { ...ad, subject: 'u1' }, { subject: 'u1', headers: { 'sec-gpc': '1' } });
    expect(audit.events.filter((e) => e.kind === 'consent')).toHaveLength(2);
  });

  it('a later explicit consent replaces a stored GPC opt-out (the latest answer wins)', async () => {
    const { kit } = setup();
    await attempt(kit, 'marketing.email', { data: ['email'], action: 'use', subject: 'u1' }, { subject: 'u1', headers: { 'sec-gpc': '1' } });
    expect(await inJob(kit, 'marketing.email', { data: ['email'], action: 'use', subject: 'u1' })).toBe('gpc-opt-out');
    await createConsentManager(kit).give('u1', 'marketing.email', { source: 'form' });
    expect(await inJob(kit, 'marketing.email', { data: ['email'], action: 'use', subject: 'u1' })).toBe('allowed');
  });

  it('an operator\'s own GPC header changes no decision about other people, and stores nothing for them', async () => {
    const { kit, audit } = setup();
    // No subject set on the request: the operator acts on u1 and u2.
    expect(await attempt(kit, 'advertising', { ...ad, subject: 'u1' }, { headers: { 'sec-gpc': '1' } })).toBe('allowed');
    // The operator is the request's subject, acting on someone else.
    expect(await attempt(kit, 'advertising', { ...ad, subject: 'u2' }, { subject: 'op-7', headers: { 'sec-gpc': '1' } })).toBe('allowed');
    // A staff actor on the subject's record.
    expect(await attempt(kit, 'advertising', { ...ad, subject: 'u3' }, { subject: 'u3', actor: 'staff-1', headers: { 'sec-gpc': '1' } })).toBe('allowed');
    expect(audit.events.filter((e) => e.kind === 'consent')).toEqual([]);
    expect(await inJob(kit, 'advertising', { ...ad, subject: 'u1' })).toBe('allowed');
  });

  it('a visitor\'s GPC still applies to processing with no subject named (an anonymous request)', async () => {
    const { kit, audit } = setup();
    expect(await attempt(kit, 'advertising', ad, { headers: { 'sec-gpc': '1' } })).toBe('gpc-opt-out');
    expect(audit.events.filter((e) => e.kind === 'consent')).toEqual([]);
  });
});
