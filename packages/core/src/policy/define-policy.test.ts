import { isPurposekitError } from '../errors';
import type { PolicyIssue, PolicyInput } from './types';
import { definePolicy, isPolicy, policyInputOf } from './define-policy';

const base = (): PolicyInput => ({
  id: 'demo',
  version: '1',
  jurisdictions: ['EU'],
  defaultPurpose: 'service.provision',
  purposes: {
    'service.provision': { basis: 'contract', data: ['usage-data'] },
    analytics: { basis: 'consent', data: ['usage-data', 'cookie-id'], retention: 'P30D' },
  },
  ageGates: { registration: { minimumAge: 18 } },
});

function issuesOf(input: unknown): Array<Pick<PolicyIssue, 'path' | 'rule'>> {
  try {
    definePolicy(input as PolicyInput, { onWarning: () => undefined });
  } catch (e) {
    if (!isPurposekitError(e) || e.code !== 'PURPOSEKIT_ERR_POLICY_INVALID') throw e;
    return (e.details!['issues'] as PolicyIssue[]).map(({ path, rule }) => ({ path, rule }));
  }
  throw new Error('expected the policy to be rejected');
}

describe('definePolicy: valid policies', () => {
  it('resolves defaults and freezes everything', () => {
    const p = definePolicy(base());
    expect(isPolicy(p)).toBe(true);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.purposes)).toBe(true);
    expect(Object.isFrozen(p.purposes['analytics'])).toBe(true);
    expect(p.purposes['analytics']).toMatchObject({ basis: 'consent', consentType: 'explicit', gpc: false, objection: false, retention: 'P30D', iri: 'https://w3id.org/dpv#ServiceUsageAnalytics' });
    expect([...p.purposes['analytics']!.data]).toEqual(['usage-data', 'cookie-id']);
    expect(p.logs.ip).toEqual({ mode: 'truncate', ipv4Prefix: 24, ipv6Prefix: 48, keyId: undefined, truncateFirst: false });
    expect(p.audit).toEqual({ durability: 'sync', checkpointEvery: 1000, checkpointIntervalMs: 5000 });
    expect(p.signals).toEqual({ gpcVersusConsent: 'gpc', serveGpcJson: false });
    expect(p.rights.responseTime).toBe('P1M');
    expect(p.ageGates['registration']).toMatchObject({ minimumAge: 18, lockoutSeconds: 86400, leapDay: 'mar-1', gdprArticle8: false });
  });

  it('does not let a resolved set be changed', () => {
    const p = definePolicy(base());
    expect(() => (p.purposes['analytics']!.data as Set<string>).add('email')).toThrow(TypeError);
    expect(p.purposes['analytics']!.data.has('email')).toBe(false);
  });

  it('never mutates the caller input', () => {
    const input = base();
    const copy = JSON.parse(JSON.stringify(input));
    definePolicy(input);
    expect(input).toEqual(copy);
  });

  it.each([
    ['marketing.email', 'consent', true, true],
    ['sell-to-third-parties', 'consent', true, false],
    ['diagnostics', 'legitimate-interests', false, true],
    ['service.provision', 'contract', false, false],
  ])('defaults gpc/objection for %s (%s)', (purpose, basis, gpc, objection) => {
    const p = definePolicy({ id: 'x', version: '1', jurisdictions: ['US'], purposes: { [purpose]: { basis: basis as 'consent', data: ['email'] } } });
    expect([p.purposes[purpose]!.gpc, p.purposes[purpose]!.objection]).toEqual([gpc, objection]);
  });

  it('accepts custom purposes and categories, and returns a policy unchanged', () => {
    const p = definePolicy({ id: 'x', version: '1', jurisdictions: ['US'], customPurposes: { 'event-badges': { description: 'Scan badges at events.' } }, customCategories: { 'badge-id': 'Event badge number.' }, purposes: { 'event-badges': { basis: 'consent', data: ['badge-id'] } } });
    expect(p.purposes['event-badges']!.iri).toBeUndefined();
    expect(definePolicy(p)).toBe(p);
  });

  it('warns (not fails) on implied consent under an EU policy', () => {
    const warnings: PolicyIssue[] = [];
    const p = definePolicy({ ...base(), rights: { honoured: [] }, purposes: { 'service.provision': { basis: 'consent', consentType: 'implied', data: ['usage-data'] } } }, { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => [w.path, w.rule])).toEqual([['purposes["service.provision"].consentType', 'implied-consent-eu']]);
    expect(p.warnings).toHaveLength(1);
  });

  it('warns when rights are honoured but no rights-fulfilment purpose gives them a basis', () => {
    const warnings: PolicyIssue[] = [];
    definePolicy({ ...base(), jurisdictions: ['US'] }, { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => [w.path, w.rule])).toEqual([['purposes', 'rights-without-basis']]);
    const quiet: PolicyIssue[] = [];
    definePolicy({ ...base(), rights: { honoured: [] } }, { onWarning: (w) => quiet.push(w) });
    expect(quiet).toEqual([]);
  });

  it('does not warn on implied consent under a US-only policy', () => {
    const warnings: PolicyIssue[] = [];
    definePolicy({ ...base(), jurisdictions: ['US'], rights: { honoured: [] }, purposes: { 'service.provision': { basis: 'consent', consentType: 'implied', data: ['usage-data'] } } }, { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
  });
});

describe('definePolicy: invalid policies name the exact path and rule', () => {
  const cases: Array<[string, (p: Record<string, any>) => unknown, Array<{ path: string; rule: string }>]> = [
    ['not an object', () => 'policy', [{ path: '(policy)', rule: 'type' }]],
    ['unknown top-level key', (p) => ({ ...p, purpose: {} }), [{ path: 'purpose', rule: 'unknown-key' }]],
    ['missing id', (p) => ({ ...p, id: undefined }), [{ path: 'id', rule: 'type' }]],
    ['bad id', (p) => ({ ...p, id: 'Open Infra' }), [{ path: 'id', rule: 'format' }]],
    ['numeric version', (p) => ({ ...p, version: 2024 }), [{ path: 'version', rule: 'type' }]],
    ['no jurisdictions', (p) => ({ ...p, jurisdictions: [] }), [{ path: 'jurisdictions', rule: 'required' }]],
    ['unknown jurisdiction', (p) => ({ ...p, jurisdictions: ['EU', 'Mars'] }), [{ path: 'jurisdictions[1]', rule: 'unknown-jurisdiction' }]],
    ['unknown legal basis', (p) => { p['purposes'].analytics.basis = 'consnet'; return p; }, [{ path: 'purposes.analytics.basis', rule: 'unknown-legal-basis' }]],
    ['missing basis', (p) => { delete p['purposes'].analytics.basis; return p; }, [{ path: 'purposes.analytics.basis', rule: 'required' }]],
    ['purpose that allows no data category', (p) => { p['purposes'].analytics.data = []; return p; }, [{ path: 'purposes.analytics.data', rule: 'no-data' }]],
    ['unknown data category', (p) => { p['purposes'].analytics.data = ['usage-data', 'emial']; return p; }, [{ path: 'purposes.analytics.data[1]', rule: 'unknown-category' }]],
    ['unknown purpose', (p) => { p['purposes'].analytycs = { basis: 'consent', data: ['email'] }; return p; }, [{ path: 'purposes.analytycs', rule: 'unknown-purpose' }]],
    ['unknown key in a purpose', (p) => { p['purposes'].analytics.retain = 'P1D'; return p; }, [{ path: 'purposes.analytics.retain', rule: 'unknown-key' }]],
    ['bad retention', (p) => { p['purposes'].analytics.retention = '30 days'; return p; }, [{ path: 'purposes.analytics.retention', rule: 'duration' }]],
    ['consentType on a non-consent basis', (p) => { p['purposes']['service.provision'].consentType = 'explicit'; return p; }, [{ path: 'purposes["service.provision"].consentType', rule: 'consent-type-without-consent' }]],
    ['age gate that does not exist', (p) => { p['purposes'].analytics.ageGate = 'registraton'; return p; }, [{ path: 'purposes.analytics.ageGate', rule: 'unknown-age-gate' }]],
    ['default purpose not in use', (p) => ({ ...p, defaultPurpose: 'marketing.email' }), [{ path: 'defaultPurpose', rule: 'unknown-purpose' }]],
    ['minimum age out of range', (p) => ({ ...p, ageGates: { registration: { minimumAge: 180 } } }), [{ path: 'ageGates.registration.minimumAge', rule: 'range' }, { path: 'ageGates.registration.minimumAge', rule: 'range' }].slice(0, 1)],
    ['country rule lowering the minimum', (p) => ({ ...p, ageGates: { registration: { minimumAge: 16, countries: { DE: 13 } } } }), [{ path: 'ageGates.registration.countries.DE', rule: 'lowers-minimum' }]],
    ['an unknown time zone', (p) => ({ ...p, ageGates: { registration: { minimumAge: 18, timeZone: 'Mars/Olympus' } } }), [{ path: 'ageGates.registration.timeZone', rule: 'time-zone' }]],
    ['bad country code', (p) => ({ ...p, ageGates: { registration: { minimumAge: 16, countries: { de: 16 } } } }), [{ path: 'ageGates.registration.countries.de', rule: 'country' }]],
    ['an IPv4 prefix that keeps the whole address', (p) => ({ ...p, logs: { ip: { mode: 'truncate', ipv4Prefix: 32 } } }), [{ path: 'logs.ip.ipv4Prefix', rule: 'range' }]],
    ['an unknown IP mode', (p) => ({ ...p, logs: { ip: { mode: 'hash' } } }), [{ path: 'logs.ip.mode', rule: 'unknown-IP-log-mode' }]],
    ['a custom purpose redefining a built-in one', (p) => ({ ...p, customPurposes: { analytics: { description: 'x' } } }), [{ path: 'customPurposes.analytics', rule: 'redefines-built-in' }]],
    ['an unknown durability mode', (p) => ({ ...p, audit: { durability: 'never' } }), [{ path: 'audit.durability', rule: 'unknown-durability-mode' }]],
  ];
  it.each(cases)('%s', (_name, mutate, expected) => {
    expect(issuesOf(mutate(base() as unknown as Record<string, any>))).toEqual(expected);
  });

  it('reports every problem at once, with did-you-mean hints in the message', () => {
    const p = base() as unknown as Record<string, any>;
    p['purposes'].analytics.basis = 'consnet';
    p['purposes'].analytics.data = ['emial'];
    try {
      definePolicy(p as PolicyInput);
      throw new Error('expected a throw');
    } catch (e) {
      expect(isPurposekitError(e) && e.code).toBe('PURPOSEKIT_ERR_POLICY_INVALID');
      const msg = (e as Error).message;
      expect(msg).toContain('2 problems');
      expect(msg).toContain('purposes.analytics.basis: "consnet" is not a known legal basis. Did you mean "consent"?');
      expect(msg).toContain('purposes.analytics.data[0]: "emial" is not a known data category. Did you mean "email"?');
    }
  });

  it('policyInputOf gives back the input a policy was defined from: a frozen copy that defines the same policy', () => {
    const input = base() as unknown as PolicyInput;
    const policy = definePolicy(input, { onWarning: () => undefined });
    const back = policyInputOf(policy);
    expect(back).toEqual(JSON.parse(JSON.stringify(input)));
    expect(back).not.toBe(input);
    expect(Object.isFrozen(back) && Object.isFrozen(back.purposes)).toBe(true);
    // Changing the caller's object afterwards changes neither the policy nor its input.
    (input as unknown as { id: string }).id = 'changed';
    expect(policyInputOf(policy).id).toBe(policy.id);
    expect(definePolicy(back, { onWarning: () => undefined })).toEqual(policy);
  });

  it.each([[{ id: 'x' }], [null], ['openinfra']])('policyInputOf(%p) is a typed error, not a crash', (value) => {
    try {
      policyInputOf(value as never);
      throw new Error('expected a throw');
    } catch (e) {
      expect(isPurposekitError(e) && e.code).toBe('PURPOSEKIT_ERR_INVALID_OPTION');
      expect((e as Error).message).toMatch(/^policyInputOf\(\) takes a policy from definePolicy\(\) or loadPolicy\(\)/);
    }
  });
});
