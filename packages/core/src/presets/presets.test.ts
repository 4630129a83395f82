import { bitnami, coreos, kubevirt, openinfra } from './index';
import type { Policy } from '../policy/types';

const purposesWith = (p: Policy, category: string): string[] =>
  Object.values(p.purposes).filter((r) => r.data.has(category)).map((r) => r.id).sort();

describe('presets state what their seed policies say', () => {
  it.each([
    ['coreos', coreos],
    ['bitnami', bitnami],
    ['kubevirt', kubevirt],
    ['openinfra', openinfra],
  ])('%s validates, is frozen, and quotes a source sentence for every purpose', (_id, p) => {
    expect(Object.isFrozen(p)).toBe(true);
    for (const rule of Object.values(p.purposes)) expect(rule.source?.length ?? 0).toBeGreaterThan(20);
    for (const gate of Object.values(p.ageGates)) expect(gate.source?.length ?? 0).toBeGreaterThan(20);
    expect(p.warnings).toEqual([]);
  });

  it('OpenInfra: 18 to register, 13 for any submission, IPs only to diagnose and administer, one month to answer', () => {
    expect(openinfra.ageGates['registration']!.minimumAge).toBe(18);
    expect(openinfra.ageGates['any-collection']!.minimumAge).toBe(13);
    expect(openinfra.purposes['service.registration']!.ageGate).toBe('registration');
    for (const p of ['marketing.email', 'surveys', 'customer-care']) expect(openinfra.purposes[p]!.ageGate).toBe('any-collection');
    expect(purposesWith(openinfra, 'ip-address')).toEqual(['diagnostics', 'legal-compliance', 'site-administration']);
    expect(openinfra.purposes['membership']!.basis).toBe('consent');
    expect(openinfra.purposes['marketing.email']).toMatchObject({ basis: 'consent', consentType: 'explicit', gpc: true });
    expect(openinfra.rights.responseTime).toBe('P1M');
    expect(openinfra.rights.keepErasureRecord).toBe(true);
    expect([...openinfra.rights.honoured].sort()).toEqual(['access', 'erasure', 'objection', 'portability', 'rectification', 'restriction', 'withdraw-consent']);
    expect(openinfra.jurisdictions).toEqual(['EU', 'US']);
  });

  it('Bitnami: 13+ for everything collected, card data only for billing, nothing sold', () => {
    expect(Object.keys(bitnami.ageGates)).toEqual(['coppa']);
    expect(bitnami.ageGates['coppa']!.minimumAge).toBe(13);
    expect(purposesWith(bitnami, 'payment')).toEqual(['payment']);
    expect([...bitnami.purposes['payment']!.recipients]).toEqual(['payment-gateway']);
    expect(bitnami.purposes['sell-to-third-parties']).toBeUndefined();
    expect(bitnami.purposes['marketing.email']).toMatchObject({ basis: 'consent', consentType: 'implied', gpc: false });
    expect([...bitnami.purposes['marketing.email']!.recipients]).toEqual(['email-service-provider']);
    expect(bitnami.purposes['notifications']!.basis).toBe('contract');
    expect(bitnami.jurisdictions).toContain('US-CA');
  });

  it('KubeVirt: legitimate interests for IP uses, analytics by consent, under-13 refused, every GDPR right', () => {
    expect(kubevirt.ageGates['coppa']!.minimumAge).toBe(13);
    for (const p of ['diagnostics', 'site-administration']) {
      expect(kubevirt.purposes[p]).toMatchObject({ basis: 'legitimate-interests', objection: true });
    }
    // An objection must not switch off security processing for the person objecting.
    for (const policy of [kubevirt, coreos]) expect(policy.purposes['security']).toMatchObject({ basis: 'legitimate-interests', objection: false });
    expect(purposesWith(kubevirt, 'ip-address')).toEqual(['analytics', 'diagnostics', 'legal-compliance', 'rights-fulfilment', 'security', 'site-administration']);
    // Answering a rights request (e.g. rectification, export) is a legal obligation, not something the person can object to.
    expect(kubevirt.purposes['rights-fulfilment']).toMatchObject({ basis: 'legal-obligation', objection: false });
    expect(kubevirt.purposes['analytics']).toMatchObject({ basis: 'consent', consentType: 'explicit' });
    expect([...kubevirt.purposes['public-record']!.data].sort()).toEqual(['content', 'email', 'name', 'username']);
    expect(kubevirt.rights.honoured.size).toBe(7);
  });

  it('CoreOS: consent by use read as implied consent, IPs for analytics and product improvement, promo opt-out keeps notices', () => {
    expect(coreos.jurisdictions).toEqual(['US']);
    expect(coreos.purposes['analytics']).toMatchObject({ basis: 'consent', consentType: 'implied' });
    expect(coreos.purposes['product-improvement']).toMatchObject({ basis: 'consent', consentType: 'implied' });
    expect(purposesWith(coreos, 'ip-address')).toEqual(['analytics', 'legal-compliance', 'product-improvement', 'security']);
    expect(coreos.purposes['marketing.email']).toMatchObject({ basis: 'consent', consentType: 'implied' });
    expect(coreos.purposes['notifications']!.basis).toBe('contract');
    expect(Object.keys(coreos.ageGates)).toEqual([]);
    expect(coreos.rights.honoured.has('erasure')).toBe(true);
    // Deletion on request goes through the rights endpoints, which record under rights-fulfilment.
    expect(coreos.purposes['rights-fulfilment']).toMatchObject({ basis: 'contract' });
    expect([...coreos.purposes['rights-fulfilment']!.data].sort()).toEqual(['email', 'name']);
    // No purpose is GPC-applicable: the text states no GPC behaviour and no law binding it imposes one.
    expect([coreos.purposes['analytics']!.gpc, coreos.purposes['product-improvement']!.gpc, coreos.purposes['marketing.email']!.gpc]).toEqual([false, false, false]);
  });
});
