/**
 * The rules docs/presets/<preset>.md points to: each test drives the engine with a preset
 * and checks one sentence's rule by the decision it makes (or the policy field it sets).
 */
import { ArraySink } from '../__tests__/array-sink';
import { applyPurpose, begin, declarePurpose, runInContext } from '../adapter';
import { createConsentManager } from '../consent/consent-manager';
import { isPurposekitError } from '../errors';
import type { Policy } from '../policy/types';
import { createPurposekit } from '../purposekit';
import type { AccessRequest, Purposekit } from '../purposekit';
import { createRightsHandler } from '../rights/rights-handler';
import { bitnami, coreos, kubevirt, openinfra } from './index';

const subjectKey = { id: 'k1', secret: 'q'.repeat(32) };
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

function kitOf(policy: Policy): { kit: Purposekit; audit: ArraySink } {
  const audit = new ArraySink({ validate: true, now: () => NOW });
  return { kit: createPurposekit({ policy, audit, subjectKey, now: () => NOW }), audit };
}

/** One access in a request of `purpose` made by `subject` themself (optionally with headers). */
function own(kit: Purposekit, purpose: string, req: AccessRequest & { subject: string }, headers: Record<string, string> = {}): Promise<string> {
  const ctx = begin(kit, { headers, remoteAddress: '127.0.0.1' });
  applyPurpose(kit, ctx, declarePurpose(kit, purpose));
  ctx.setSubject(req.subject);
  return runInContext(kit, ctx, () => ctx.access(req)).then(
    () => 'allowed',
    (e) => (isPurposekitError(e) ? String(e.details?.['reason']) : `unexpected ${String(e)}`),
  );
}

/** One access in a job (no request, no headers). */
function job(kit: Purposekit, purpose: string, req: AccessRequest): Promise<string> {
  return kit.runAs({ purpose, actor: 'job' }, () => kit.access(req)).then(
    () => 'allowed',
    (e) => (isPurposekitError(e) ? String(e.details?.['reason']) : `unexpected ${String(e)}`),
  );
}

function rightsOf(kit: Purposekit) {
  return createRightsHandler<{ user: string }>(kit, { getSubject: (r) => r.user, eraser: () => undefined, exporter: () => ({}), accessLog: () => [], now: () => NOW });
}

describe('[coreos] seed 000', () => {
  it('[coreos] promotional opt-out stops promotions only; notices go on', async () => {
    const { kit } = kitOf(coreos);
    expect(await job(kit, 'marketing.email', { subject: 'u1', data: ['email'], action: 'use' })).toBe('allowed');
    await createConsentManager(kit).withdraw('u1', 'marketing.email', { source: 'form' });
    expect(await job(kit, 'marketing.email', { subject: 'u1', data: ['email'], action: 'use' })).toBe('consent-withdrawn');
    expect(await job(kit, 'notifications', { subject: 'u1', data: ['email'], action: 'use' })).toBe('allowed');
  });

  it('[coreos] Sec-GPC: 1 changes no decision (no GPC behaviour stated or imposed)', async () => {
    const { kit, audit } = kitOf(coreos);
    expect(await own(kit, 'marketing.email', { subject: 'u1', data: ['email'], action: 'use' }, { 'sec-gpc': '1' })).toBe('allowed');
    expect(audit.events.filter((e) => e.kind === 'consent')).toEqual([]);
  });

  it('[coreos] shares go to service providers; a share "with your consent" needs that consent', async () => {
    const { kit, audit } = kitOf(coreos);
    const share = (recipient: string) => job(kit, 'service.provision', { subject: 'u1', data: ['usage-data'], action: 'share', recipient });
    expect(await share('service-providers')).toBe('allowed');
    expect(await share('with-your-consent')).toBe('consent-missing');
    await createConsentManager(kit).give('u1', 'recipient:with-your-consent', { source: 'form' });
    expect(await share('with-your-consent')).toBe('allowed');
    expect(await share('data-broker')).toBe('recipient-not-allowed');
    expect(audit.events.at(-2)).toMatchObject({ recipient: 'with-your-consent', decision: 'allow' });
  });

  it('[coreos] account deletion: everything stops but what the law requires (legal-compliance survives)', async () => {
    const { kit } = kitOf(coreos);
    const r = await rightsOf(kit).handle({ method: 'POST', path: '/privacy/erasure', body: undefined, request: { user: 'u1' } });
    expect(r?.body).toMatchObject({ request: { status: 'partly-completed' }, keptPurposes: [{ purpose: 'legal-compliance', reasons: ['retained as required by law'] }] });
    expect(await job(kit, 'service.provision', { subject: 'u1', data: ['usage-data'], action: 'use' })).toBe('erased');
    expect(await job(kit, 'legal-compliance', { subject: 'u1', data: ['email'], action: 'share', recipient: 'authorities' })).toBe('allowed');
  });

  it('[coreos] rights offered: deletion and opting out only (no right to object is stated)', async () => {
    const { kit } = kitOf(coreos);
    expect([...coreos.rights.honoured].sort()).toEqual(['erasure', 'withdraw-consent']);
    const r = await rightsOf(kit).handle({ method: 'POST', path: '/privacy/objection', body: { purpose: 'security' }, request: { user: 'u1' } });
    expect(r?.status).toBe(404);
    expect(coreos.rights.extension).toBeUndefined();
  });
});

describe('[bitnami] seed 001', () => {
  it('[bitnami] card data is for billing, by BitRock\'s agent only', async () => {
    const { kit } = kitOf(bitnami);
    expect(await job(kit, 'payment', { subject: 'u1', data: ['payment'], action: 'share', recipient: 'payment-gateway' })).toBe('allowed');
    expect(await job(kit, 'marketing.email', { subject: 'u1', data: ['payment'], action: 'use' })).toBe('purpose-limitation');
    expect(await job(kit, 'payment', { subject: 'u1', data: ['payment'], action: 'share', recipient: 'email-service-provider' })).toBe('recipient-not-allowed');
  });

  it('[bitnami] card data expires when the subscription is cancelled', () => {
    expect(bitnami.purposes['payment']!.retentionRule).toMatchObject({ duration: 'P0D', from: 'subscription-end', onExpiry: 'erase' });
  });

  it('[bitnami] nothing is sold or traded; an outside party only with consent', async () => {
    const { kit } = kitOf(bitnami);
    expect(bitnami.purposes['sell-to-third-parties']).toBeUndefined();
    expect(await job(kit, 'service.provision', { subject: 'u1', data: ['preferences'], action: 'share', recipient: 'with-your-consent' })).toBe('consent-missing');
    await createConsentManager(kit).give('u1', 'recipient:with-your-consent');
    expect(await job(kit, 'service.provision', { subject: 'u1', data: ['preferences'], action: 'share', recipient: 'with-your-consent' })).toBe('allowed');
  });

  it('[bitnami] unsubscribe stops the newsletter; order updates go on', async () => {
    const { kit } = kitOf(bitnami);
    await createConsentManager(kit).withdraw('u1', 'marketing.email');
    expect(await job(kit, 'marketing.email', { subject: 'u1', data: ['email'], action: 'use' })).toBe('consent-withdrawn');
    expect(await job(kit, 'order-fulfilment', { subject: 'u1', data: ['email'], action: 'use' })).toBe('allowed');
  });

  it('[bitnami] rights offered: the unsubscribe only; GPC changes nothing', async () => {
    const { kit } = kitOf(bitnami);
    expect([...bitnami.rights.honoured]).toEqual(['withdraw-consent']);
    expect(await own(kit, 'marketing.email', { subject: 'u1', data: ['email'], action: 'use' }, { 'sec-gpc': '1' })).toBe('allowed');
  });
});

describe('[kubevirt] seed 002', () => {
  it('[kubevirt] erasure removes all but the contribution record and what the law requires', async () => {
    const { kit } = kitOf(kubevirt);
    const r = await rightsOf(kit).handle({ method: 'POST', path: '/privacy/erasure', body: undefined, request: { user: 'u1' } });
    expect((r?.body as { keptPurposes: Array<{ purpose: string }> }).keptPurposes.map((k) => k.purpose)).toEqual(['public-record', 'legal-compliance']);
    expect(await job(kit, 'public-record', { subject: 'u1', data: ['name'], action: 'share', recipient: 'public' })).toBe('allowed');
    expect(await job(kit, 'notifications', { subject: 'u1', data: ['email'], action: 'use' })).toBe('erased');
  });

  it('[kubevirt] an objection stops diagnostics and administration, not security', async () => {
    const { kit } = kitOf(kubevirt);
    for (const p of ['diagnostics', 'site-administration', 'security']) await kit.consentStore.setObjection('u1', p, true);
    expect(await job(kit, 'diagnostics', { subject: 'u1', data: ['ip-address'], action: 'use' })).toBe('objection');
    expect(await job(kit, 'site-administration', { subject: 'u1', data: ['ip-address'], action: 'use' })).toBe('objection');
    expect(await job(kit, 'security', { subject: 'u1', data: ['ip-address'], action: 'use' })).toBe('allowed');
  });

  it('[kubevirt] Google Analytics only with consent, and only to Google', async () => {
    const { kit } = kitOf(kubevirt);
    const ga = { subject: 'u1', data: ['usage-data'], action: 'share', recipient: 'google-analytics' } as const;
    expect(await job(kit, 'analytics', ga)).toBe('consent-missing');
    await createConsentManager(kit).give('u1', 'analytics');
    expect(await job(kit, 'analytics', ga)).toBe('allowed');
    expect(await job(kit, 'analytics', { ...ga, recipient: 'public' })).toBe('recipient-not-allowed');
  });

  it('[kubevirt] every GDPR right, one month, extendable as Art. 12(3) allows', () => {
    expect(kubevirt.rights.honoured.size).toBe(7);
    expect([kubevirt.rights.responseTime, kubevirt.rights.extension]).toEqual(['P1M', 'P2M']);
  });
});

describe('[openinfra] seed 003', () => {
  it('[openinfra] an erasure keeps the "deleted members" record, the contribution record and legal obligations only', async () => {
    const { kit } = kitOf(openinfra);
    const r = await rightsOf(kit).handle({ method: 'POST', path: '/privacy/erasure', body: undefined, request: { user: 'u1' } });
    expect(r?.body).toMatchObject({ request: { status: 'partly-completed' } });
    expect((r?.body as { keptPurposes: Array<{ purpose: string }> }).keptPurposes.map((k) => k.purpose)).toEqual(['public-record', 'rights-fulfilment', 'legal-compliance']);
    expect(await job(kit, 'rights-fulfilment', { subject: 'u1', data: ['email'], action: 'read' })).toBe('allowed');
    for (const p of ['membership', 'marketing.email', 'surveys', 'service.registration']) {
      expect(await job(kit, p, { subject: 'u1', data: ['name'], action: 'use' })).toBe('erased');
    }
  });

  it('[openinfra] the contributor name stays published even after an objection', async () => {
    const { kit } = kitOf(openinfra);
    await kit.consentStore.setObjection('u1', 'public-record', true);
    expect(await job(kit, 'public-record', { subject: 'u1', data: ['name'], action: 'share', recipient: 'public' })).toBe('allowed');
  });

  it('[openinfra] GPC on the person\'s own request opts them out of the mailing list, in later jobs too (GDPR Art. 21(5))', async () => {
    const { kit } = kitOf(openinfra);
    await createConsentManager(kit).give('u1', 'marketing.email');
    expect(await own(kit, 'marketing.email', { subject: 'u1', data: ['email'], action: 'use' }, { 'sec-gpc': '1' })).toBe('gpc-opt-out');
    expect(await job(kit, 'marketing.email', { subject: 'u1', data: ['email'], action: 'use' })).toBe('gpc-opt-out');
  });

  it('[openinfra] outgoing email goes to the email providers under standard contractual clauses', async () => {
    const { kit, audit } = kitOf(openinfra);
    await createConsentManager(kit).give('u1', 'marketing.email');
    expect(await job(kit, 'marketing.email', { subject: 'u1', data: ['email'], action: 'share', recipient: 'email-service-provider' })).toBe('allowed');
    expect(audit.events.at(-1)).toMatchObject({ recipient: 'email-service-provider', attributes: { transferCountry: 'US', transferMechanism: 'scc' } });
  });

  it('[openinfra] portability only for consent and contract purposes', () => {
    const withPortability = Object.values(openinfra.purposes).filter((r) => r.rights['portability']!.applies).map((r) => [r.id, r.basis]);
    expect(withPortability).toEqual([['service.registration', 'contract'], ['membership', 'consent'], ['marketing.email', 'consent'], ['surveys', 'consent']]);
  });

  it('[openinfra] one month to answer, extendable (two further months, GDPR Art. 12(3))', () => {
    expect([openinfra.rights.responseTime, openinfra.rights.extension]).toEqual(['P1M', 'P2M']);
  });

  it('[openinfra] kept only as long as necessary, longer on a complaint or litigation hold', () => {
    for (const r of Object.values(openinfra.purposes)) {
      if (r.id === 'public-record') expect(r.retention).toBe('indefinite');
      else expect(r.retentionRule).toMatchObject({ duration: 'as-long-as-necessary', holds: ['complaint', 'litigation'] });
    }
  });

  it('[openinfra] the member directory publishes only with the member\'s consent', async () => {
    const { kit } = kitOf(openinfra);
    const publish = { subject: 'u1', data: ['name', 'employer'], action: 'share', recipient: 'public' } as const;
    expect(await job(kit, 'membership', publish)).toBe('consent-missing');
    await createConsentManager(kit).give('u1', 'membership');
    expect(await job(kit, 'membership', publish)).toBe('allowed');
  });
});
