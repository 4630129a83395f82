import type { ConsentRecord, SubjectFacts } from './consent/consent-store';
import { decide } from './decide';
import type { AccessReason, DecisionContext, DecisionRequest } from './decide';
import { definePolicy } from './policy/define-policy';
import { bitnami, coreos, kubevirt, openinfra } from './presets';
import type { Policy } from './policy/types';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const ctx = (over: Partial<DecisionContext> = {}): DecisionContext => ({ gpc: undefined, ageProven: -1, now: NOW, ...over });
const req = (over: Partial<DecisionRequest> = {}): DecisionRequest => ({ subject: 'u1', data: ['email'], action: 'read', recipient: undefined, ...over });
const consent = (state: ConsentRecord['state'], over: Partial<ConsentRecord> = {}): ConsentRecord => ({ subject: 'u1', purpose: 'x', state, type: 'explicit', source: 'form', policyVersion: '1', at: '2026-01-01T00:00:00Z', ...over });
const impliedGpc = definePolicy({ id: 'ig', version: '1', jurisdictions: ['US'], purposes: { 'marketing.email': { basis: 'consent', consentType: 'implied', data: ['email'] }, 'rights-fulfilment': { basis: 'legal-obligation', data: ['email'] } } });
const facts = (over: Partial<SubjectFacts> = {}): SubjectFacts => ({ consent: undefined, objected: false, restricted: false, ...over });

function run(policy: Policy, purpose: string, c: Partial<DecisionContext>, r: Partial<DecisionRequest>, f: Partial<SubjectFacts>): AccessReason {
  return decide(policy, policy.purposes[purpose]!, ctx(c), req(r), facts(f));
}

describe('decide: each rule', () => {
  const cases: Array<[string, Policy, string, Partial<DecisionContext>, Partial<DecisionRequest>, Partial<SubjectFacts>, AccessReason]> = [
    // purpose limitation
    ['a category the purpose allows', openinfra, 'diagnostics', {}, { data: ['ip-address'] }, {}, 'allowed'],
    ['a category the purpose does not allow', openinfra, 'diagnostics', {}, { data: ['ip-address', 'email'] }, {}, 'purpose-limitation'],
    ['IP for marketing (OpenInfra: IPs only to diagnose/administer)', openinfra, 'marketing.email', {}, { data: ['ip-address'] }, { consent: consent('given') }, 'purpose-limitation'],
    // recipients
    ['card data to the payment gateway', bitnami, 'payment', {}, { data: ['payment'], action: 'share', recipient: 'payment-gateway' }, {}, 'allowed'],
    ['customer email to a partner for marketing (Bitnami never sells)', bitnami, 'marketing.email', {}, { data: ['email'], action: 'share', recipient: 'partner' }, {}, 'recipient-not-allowed'],
    // age
    ['collection under a gated purpose without a passed gate', openinfra, 'service.registration', {}, { data: ['name'], action: 'collect' }, {}, 'age-unverified'],
    ['collection after a lower gate than required', openinfra, 'service.registration', { ageProven: 13 }, { data: ['name'], action: 'collect' }, {}, 'age-unverified'],
    ['collection after the required gate', openinfra, 'service.registration', { ageProven: 18 }, { data: ['name'], action: 'collect' }, {}, 'allowed'],
    ['a read under a gated purpose (age applies to collection)', openinfra, 'service.registration', {}, { data: ['name'], action: 'read' }, {}, 'allowed'],
    // restriction
    ['restricted subject, ordinary purpose', kubevirt, 'diagnostics', {}, { data: ['ip-address'] }, { restricted: true }, 'restricted'],
    ['restricted subject, legal compliance (Art. 18(2))', kubevirt, 'legal-compliance', {}, { data: ['ip-address'] }, { restricted: true }, 'allowed'],
    // objection
    ['objection to a legitimate-interests purpose', kubevirt, 'diagnostics', {}, { data: ['ip-address'] }, { objected: true }, 'objection'],
    ['objection recorded against a contract purpose (no right to object)', kubevirt, 'notifications', {}, { data: ['email'] }, { objected: true }, 'allowed'],
    // explicit consent
    ['explicit consent given', kubevirt, 'analytics', {}, { data: ['usage-data'] }, { consent: consent('given') }, 'allowed'],
    ['explicit consent never asked', kubevirt, 'analytics', {}, { data: ['usage-data'] }, {}, 'consent-missing'],
    ['explicit consent withdrawn', kubevirt, 'analytics', {}, { data: ['usage-data'] }, { consent: consent('withdrawn') }, 'consent-withdrawn'],
    ['explicit consent refused', kubevirt, 'analytics', {}, { data: ['usage-data'] }, { consent: consent('refused') }, 'consent-refused'],
    ['explicit consent past its expiry', kubevirt, 'analytics', {}, { data: ['usage-data'] }, { consent: consent('given', { expiresAt: '2026-05-31T23:59:59Z' }) }, 'consent-expired'],
    ['explicit consent before its expiry', kubevirt, 'analytics', {}, { data: ['usage-data'] }, { consent: consent('given', { expiresAt: '2026-06-01T00:00:01Z' }) }, 'allowed'],
    ['consent basis without a subject', kubevirt, 'analytics', {}, { subject: undefined, data: ['usage-data'] }, {}, 'no-subject'],
    // implied consent (opt-out)
    ['implied consent, nothing recorded (CoreOS consent by use)', coreos, 'analytics', {}, { data: ['ip-address'] }, {}, 'allowed'],
    ['implied consent, opted out', coreos, 'marketing.email', {}, { data: ['email'] }, { consent: consent('withdrawn', { type: 'implied' }) }, 'consent-withdrawn'],
    ['account notices after a promo opt-out (CoreOS)', coreos, 'notifications', {}, { data: ['email'] }, { consent: consent('withdrawn', { type: 'implied' }) }, 'allowed'],
    // GPC
    ['GPC on a GPC purpose (implied consent)', impliedGpc, 'marketing.email', { gpc: true }, { data: ['email'] }, {}, 'gpc-opt-out'],
    ['GPC on a non-GPC purpose', coreos, 'notifications', { gpc: true }, { data: ['email'] }, {}, 'allowed'],
    ['GPC where the policy applies it to nothing (CoreOS marketing)', coreos, 'marketing.email', { gpc: true }, { data: ['email'] }, {}, 'allowed'],
    ['no GPC preference', impliedGpc, 'marketing.email', { gpc: undefined }, { data: ['email'] }, {}, 'allowed'],
    ['a GPC opt-out stored earlier, no header now', impliedGpc, 'marketing.email', { gpc: undefined }, { data: ['email'] }, { consent: consent('refused', { source: 'gpc', type: 'implied' }) }, 'gpc-opt-out'],
    // erasure
    ['an erased subject under a purpose that does not survive erasure', openinfra, 'diagnostics', {}, { data: ['ip-address'] }, { erased: true }, 'erased'],
    ['an erased subject under a purpose that survives erasure (the deleted-members record)', openinfra, 'rights-fulfilment', {}, { data: ['email'] }, { erased: true }, 'allowed'],
    ['GPC versus earlier explicit consent: GPC wins by default', openinfra, 'marketing.email', { gpc: true }, { data: ['email'] }, { consent: consent('given') }, 'gpc-opt-out'],
  ];
  it.each(cases)('%s', (_n, policy, purpose, c, r, f, expected) => {
    expect(run(policy, purpose, c, r, f)).toBe(expected);
  });

  it.each([
    ['given under the current terms', { termsVersion: 'v2' }, 'allowed'],
    ['given under earlier terms', { termsVersion: 'v1' }, 'consent-renewal-required'],
    ['given before the terms were versioned', {}, 'consent-renewal-required'],
  ] as Array<[string, Partial<ConsentRecord>, AccessReason]>)('consent renewal: explicit consent %s', (_n, over, expected) => {
    const p = definePolicy({ id: 'x', version: '2', jurisdictions: ['EU'], purposes: { analytics: { basis: 'consent', data: ['usage-data'], termsVersion: 'v2' } } });
    expect(run(p, 'analytics', {}, { data: ['usage-data'] }, { consent: consent('given', over) })).toBe(expected);
    // A withdrawal stays a withdrawal whatever the terms: the more fundamental reason is recorded.
    expect(run(p, 'analytics', {}, { data: ['usage-data'] }, { consent: consent('withdrawn', over) })).toBe('consent-withdrawn');
  });

  it('implied consent that has expired no longer allows (opt-out purposes too)', () => {
    expect(run(coreos, 'marketing.email', {}, { data: ['email'] }, { consent: consent('expired', { type: 'implied' }) })).toBe('consent-expired');
  });

  it('an implied answer does not count for a purpose that needs explicit consent', () => {
    expect(run(kubevirt, 'analytics', {}, { data: ['usage-data'] }, { consent: consent('given', { type: 'implied' }) })).toBe('consent-missing');
    expect(run(kubevirt, 'analytics', {}, { data: ['usage-data'] }, { consent: consent('given', { type: 'explicit' }) })).toBe('allowed');
  });

  it('a gate\'s per-country minimum applies: a weaker gate passed elsewhere does not satisfy it', () => {
    const p = definePolicy({
      id: 'cc', version: '1', jurisdictions: ['EU'], rights: { honoured: [] },
      purposes: { 'service.registration': { basis: 'contract', data: ['name'], ageGate: 'reg' } },
      ageGates: { reg: { minimumAge: 13, countries: { DE: 16 } }, basic: { minimumAge: 13 } },
    });
    const collect = { data: ['name'], action: 'collect' };
    expect(run(p, 'service.registration', { ageProven: 13, country: 'DE' }, collect, {})).toBe('age-unverified');
    expect(run(p, 'service.registration', { ageProven: 16, country: 'DE' }, collect, {})).toBe('allowed');
    expect(run(p, 'service.registration', { ageProven: 13, country: 'FR' }, collect, {})).toBe('allowed');
  });

  it('restriction exempts only legal compliance and rights fulfilment (Art. 18(2)), not every legal-obligation purpose', () => {
    const p = definePolicy({ id: 'r', version: '1', jurisdictions: ['EU'], rights: { honoured: [] }, customPurposes: { 'tax-records': { description: 'Keep invoices for the tax office.' } }, purposes: { 'tax-records': { basis: 'legal-obligation', data: ['name'] }, 'legal-compliance': { basis: 'legal-obligation', data: ['name'] } } });
    expect(run(p, 'tax-records', {}, { data: ['name'] }, { restricted: true })).toBe('restricted');
    expect(run(p, 'legal-compliance', {}, { data: ['name'] }, { restricted: true })).toBe('allowed');
  });

  it('GPC versus earlier explicit consent: consent wins when the policy says so', () => {
    const p = definePolicy({ id: 'x', version: '1', jurisdictions: ['US'], signals: { gpcVersusConsent: 'consent' }, purposes: { 'marketing.email': { basis: 'consent', data: ['email'] } } });
    expect(run(p, 'marketing.email', { gpc: true }, {}, { consent: consent('given') })).toBe('allowed');
    // A consent that itself came from a GPC-era source does not override GPC.
    expect(run(p, 'marketing.email', { gpc: true }, {}, { consent: consent('given', { source: 'gpc' }) })).toBe('gpc-opt-out');
  });
});
