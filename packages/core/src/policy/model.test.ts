import { isPurposekitError } from '../errors';
import { definePolicy } from './define-policy';
import type { PolicyInput, PolicyIssue } from './types';

const base = (extra: Partial<PolicyInput> = {}, purposes: PolicyInput['purposes'] = {}): PolicyInput => ({
  id: 'demo',
  version: '1',
  jurisdictions: ['EU'],
  purposes: {
    'service.provision': { basis: 'contract', data: ['usage-data'] },
    'rights-fulfilment': { basis: 'legal-obligation', data: ['email'] },
    ...purposes,
  },
  ...extra,
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

describe('policy model: Art. 30 fields', () => {
  it('resolves controller, security, recipients, transfers, retention rules, rights and survivesErasure', () => {
    const p = definePolicy(
      base(
        {
          controller: { name: 'Example Ltd', contact: 'privacy@example.org', dpo: 'dpo@example.org' },
          security: ['TLS in transit', 'encryption at rest'],
          recipients: { mailer: { name: 'Mailer Inc.', role: 'processor', country: 'US', source: 'we use Mailer' } },
        },
        {
          'marketing.email': {
            basis: 'consent',
            data: ['email'],
            sources: ['data-subject'],
            subjects: ['subscribers'],
            recipients: ['mailer', { name: 'auditor', role: 'authority', country: 'DE' }],
            transfers: [{ to: 'mailer', country: 'US', mechanism: 'eu-us-dpf', source: 'DPF certified' }],
            retention: { duration: 'P2Y', from: 'withdrawal', onExpiry: 'anonymise', holds: ['litigation'], source: 'two years' },
            rights: { portability: false, erasure: { exceptions: [{ reason: 'unsubscribe list', source: 'we keep your address to honour the opt-out' }] } },
            survivesErasure: true,
          },
        },
      ),
      { onWarning: () => undefined },
    );
    expect(p.controller).toEqual({ name: 'Example Ltd', contact: 'privacy@example.org', dpo: 'dpo@example.org' });
    expect(p.security).toEqual(['TLS in transit', 'encryption at rest']);
    expect(p.recipients['mailer']).toEqual({ name: 'Mailer Inc.', role: 'processor', country: 'US', consentRequired: false, source: 'we use Mailer' });
    expect(p.recipients['auditor']).toEqual({ name: 'auditor', role: 'authority', country: 'DE', consentRequired: false, source: undefined });
    const rule = p.purposes['marketing.email']!;
    expect([...rule.recipients]).toEqual(['mailer', 'auditor']);
    expect(rule.transfers).toEqual([{ to: 'mailer', country: 'US', mechanism: 'eu-us-dpf', source: 'DPF certified' }]);
    expect(rule.retention).toBe('P2Y');
    expect(rule.retentionRule).toEqual({ duration: 'P2Y', from: 'withdrawal', onExpiry: 'anonymise', holds: ['litigation'], source: 'two years' });
    expect(rule.sources).toEqual(['data-subject']);
    expect(rule.subjects).toEqual(['subscribers']);
    expect(rule.survivesErasure).toBe(true);
    expect(rule.rights['portability']).toEqual({ applies: false, exceptions: [] });
    expect(rule.rights['erasure']).toEqual({ applies: true, exceptions: [{ reason: 'unsubscribe list', source: 'we keep your address to honour the opt-out' }] });
    expect(rule.rights['access']).toEqual({ applies: true, exceptions: [] });
    expect(Object.isFrozen(rule.transfers) && Object.isFrozen(rule.retentionRule) && Object.isFrozen(rule.rights)).toBe(true);
  });

  it('keeps the string forms: retention text and recipient names', () => {
    const p = definePolicy(base({}, { analytics: { basis: 'consent', data: ['usage-data'], retention: 'P30D', recipients: ['public'] } }));
    const rule = p.purposes['analytics']!;
    expect(rule.retention).toBe('P30D');
    expect(rule.retentionRule).toEqual({ duration: 'P30D', from: 'collection', onExpiry: 'erase', holds: [], source: undefined });
    expect(p.recipients['public']).toMatchObject({ role: 'public' });
    expect(p.controller).toBeUndefined();
    expect(p.security).toEqual([]);
    expect(rule.survivesErasure).toBe(false);
    expect(p.rights.extension).toBe('P2M');
  });

  it('accepts an undeclared recipient name with a warning (role unspecified)', () => {
    const warnings: PolicyIssue[] = [];
    const p = definePolicy(base({}, { payment: { basis: 'contract', data: ['payment'], recipients: ['gateway'] } }), { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => [w.path, w.rule])).toEqual([['purposes.payment.recipients[0]', 'undeclared-recipient']]);
    expect(p.recipients['gateway']!.role).toBe('unspecified');
  });

  it('no extension outside the EU/UK unless the policy states one', () => {
    expect(definePolicy({ ...base(), jurisdictions: ['US'] }).rights.extension).toBeUndefined();
    expect(definePolicy({ ...base(), jurisdictions: ['US'], rights: { extension: 'P45D' } }).rights.extension).toBe('P45D');
    expect(definePolicy({ ...base(), rights: { extension: false } }).rights.extension).toBeUndefined();
  });

  it('reports every problem at once, with exact paths and did-you-mean', () => {
    const issues = issuesOf(
      base(
        {
          controller: { name: 'X' } as never,
          security: 'tls' as never,
          recipients: { mailer: { role: 'processer', country: 'usa' } as never, cdn: { role: 'processor', country: 'US' } },
          rights: { extension: 'P3M' },
        },
        {
          'marketing.email': {
            basis: 'consent',
            data: ['email'],
            recipients: ['mailer', 'cdn'],
            transfers: [
              { to: 'mailr', country: 'US', mechanism: 'scc' },
              { to: 'mailer', country: 'US', mechanism: 'contract' as never },
            ],
            retention: { duration: 'two years', from: 'signup' as never, onExpiry: 'delete' as never, holds: ['Litigation'] },
            rights: { erasure: { exceptions: [{ reason: 'kept' } as never] }, forget: false } as never,
            sources: ['user'] as never,
            survivesErasure: 'yes' as never,
          },
        },
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'controller.contact', rule: 'type' },
        { path: 'security', rule: 'type' },
        { path: 'recipients.mailer.role', rule: 'unknown-recipient-role' },
        { path: 'recipients.mailer.country', rule: 'country' },
        { path: 'rights.extension', rule: 'beyond-two-months' },
        { path: 'purposes["marketing.email"].transfers[0].to', rule: 'unknown-recipient' },
        { path: 'purposes["marketing.email"].transfers[1].mechanism', rule: 'unknown-transfer-mechanism' },
        { path: 'purposes["marketing.email"].transfers', rule: 'transfer-mechanism-missing' },
        { path: 'purposes["marketing.email"].retention.duration', rule: 'duration' },
        { path: 'purposes["marketing.email"].retention.from', rule: 'unknown-retention-clock' },
        { path: 'purposes["marketing.email"].retention.onExpiry', rule: 'unknown-expiry-action' },
        { path: 'purposes["marketing.email"].retention.holds[0]', rule: 'format' },
        { path: 'purposes["marketing.email"].rights.erasure.exceptions[0].source', rule: 'type' },
        { path: 'purposes["marketing.email"].rights.forget', rule: 'unknown-key' },
        { path: 'purposes["marketing.email"].sources[0]', rule: 'unknown-data-source' },
        { path: 'purposes["marketing.email"].survivesErasure', rule: 'type' },
      ]),
    );
  });

  it('a transfer message suggests the recipient meant', () => {
    try {
      definePolicy(base({ recipients: { mailer: { role: 'processor', country: 'US' } } }, { 'marketing.email': { basis: 'consent', data: ['email'], recipients: ['mailer'], transfers: [{ to: 'mailr', country: 'US', mechanism: 'scc' }] } }));
    } catch (e) {
      expect(String((e as Error).message)).toContain('Did you mean "mailer"?');
      return;
    }
    throw new Error('expected a rejection');
  });

  it.each([
    ['US without a mechanism', { role: 'processor', country: 'US' }, [], 'transfer-mechanism-missing'],
    ['adequacy claimed for the US', { role: 'processor', country: 'US' }, [{ to: 'r', country: 'US', mechanism: 'adequacy' }], 'not-adequate'],
    ['DPF outside the US', { role: 'processor', country: 'IN' }, [{ to: 'r', country: 'IN', mechanism: 'eu-us-dpf' }], 'dpf-outside-us'],
    ['a country other than the recipient\'s', { role: 'processor', country: 'US' }, [{ to: 'r', country: 'IN', mechanism: 'scc' }], 'country-mismatch'],
  ] as const)('Chapter V under an EU policy: %s is an error', (_label, recipient, transfers, rule) => {
    const issues = issuesOf(base({ recipients: { r: recipient as never } }, { payment: { basis: 'contract', data: ['payment'], recipients: ['r'], transfers: transfers as never } }));
    expect(issues.map((i) => i.rule)).toContain(rule);
  });

  it.each([
    ['an adequate country (JP)', 'JP', 'EU'],
    ['the EEA (NO)', 'NO', 'EU'],
    ['any country under a US-only policy', 'US', 'US'],
  ] as const)('no transfer mechanism is needed for %s', (_label, country, jurisdiction) => {
    const p = definePolicy({ ...base({ recipients: { r: { role: 'processor', country } } }, { payment: { basis: 'contract', data: ['payment'], recipients: ['r'] } }), jurisdictions: [jurisdiction] });
    expect(p.purposes['payment']!.transfers).toEqual([]);
  });

  it('two declarations of one recipient must agree', () => {
    expect(issuesOf(base({ recipients: { r: { role: 'processor' } } }, { payment: { basis: 'contract', data: ['payment'], recipients: [{ name: 'r', role: 'controller' }] } }))).toEqual([
      { path: 'purposes.payment.recipients[0]', rule: 'recipient-conflict' },
    ]);
  });

  it('warns when a purpose survives erasure without an erasure exception saying why', () => {
    const warnings: PolicyIssue[] = [];
    definePolicy(base({}, { 'public-record': { basis: 'legitimate-interests', data: ['name'], survivesErasure: true } }), { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => w.rule)).toEqual(['survives-erasure-without-exception']);
  });

  it('objection: rights.objection false turns the right off; the old flag still wins', () => {
    const p = definePolicy(base({}, {
      diagnostics: { basis: 'legitimate-interests', data: ['ip-address'], rights: { objection: false } },
      security: { basis: 'legitimate-interests', data: ['ip-address'], objection: false },
    }));
    expect(p.purposes['diagnostics']!.objection).toBe(false);
    expect(p.purposes['diagnostics']!.rights['objection']!.applies).toBe(false);
    expect(p.purposes['security']!.rights['objection']!.applies).toBe(false);
  });
});
