import { getPrivacyContext } from './context';
import { PurposekitError, isPurposekitError } from './errors';
import { kubevirt, openinfra, bitnami } from './presets';
import { createPurposekit, isPurposekit } from './purposekit';
import { begin, compileAgeGate as compileRouteAgeGate } from './adapter';
import type { Purposekit } from './purposekit';
import { ArraySink } from './__tests__/array-sink';


const subjectKey = { id: 'k1', secret: 'a'.repeat(32) };
const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e) => (isPurposekitError(e) ? `${e.code}${e.details?.['reason'] ? `:${e.details['reason']}` : ''}` : `other: ${String(e)}`));

function kitFor(policy = kubevirt): { kit: Purposekit; audit: ArraySink } {
  const audit = new ArraySink();
  return { kit: createPurposekit({ policy, audit, subjectKey, now: () => Date.parse('2026-06-01T00:00:00Z') }), audit };
}

describe('createPurposekit options', () => {
  it.each([
    ['an unknown option, with a hint', { policy: kubevirt, audit: new ArraySink(), subjectKey, polcy: 1 }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'Did you mean "policy"?'],
    ['no audit sink', { policy: kubevirt, subjectKey }, 'PURPOSEKIT_ERR_INVALID_OPTION', '"audit" is required: an audit sink'],
    ['an audit that is not a sink', { policy: kubevirt, subjectKey, audit: {} }, 'PURPOSEKIT_ERR_INVALID_OPTION', '"audit" must be an audit sink'],
    ['options that are not an object', 'openinfra', 'PURPOSEKIT_ERR_INVALID_OPTION', 'options must be an object { policy, audit, subjectKey }'],
    ['a short subject key', { policy: kubevirt, audit: new ArraySink(), subjectKey: { id: 'k', secret: 'short' } }, 'PURPOSEKIT_ERR_INVALID_KEY', 'at least 32 bytes'],
    ['an invalid policy', { policy: { id: 'x' }, audit: new ArraySink(), subjectKey }, 'PURPOSEKIT_ERR_POLICY_INVALID', 'jurisdictions'],
  ])('rejects %s', (_n, options, code, text) => {
    expect(() => createPurposekit(options as never)).toThrow(expect.objectContaining({ code, message: expect.stringContaining(text) }));
  });
});

describe('isPurposekit', () => {
  it('recognises an engine by its Symbol.for brand, so adapters accept an engine from another installed copy of the core', () => {
    expect(isPurposekit(kitFor().kit)).toBe(true);
    expect(isPurposekit({ [Symbol.for('purposekit.engine')]: true })).toBe(true);
    expect(isPurposekit({})).toBe(false);
    expect(isPurposekit(null)).toBe(false);
  });
});

describe('IP handling from the policy', () => {
  it('pseudonymises client IPs with the engine\'s keys when the policy says so, and refuses to start without keys', () => {
    const policy = { ...JSON.parse(JSON.stringify({ id: 'p', version: '1', jurisdictions: ['EU'], purposes: { diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] } }, rights: { honoured: [] } })), logs: { ip: { mode: 'pseudonymize' } } };
    expect(() => createPurposekit({ policy, audit: new ArraySink(), subjectKey })).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_KEY' }));
    const kit = createPurposekit({ policy, audit: new ArraySink(), subjectKey, ipKeys: { id: 'ip1', secret: 'i'.repeat(32) } });
    const a = begin(kit, { headers: {}, remoteAddress: '203.0.113.77' }).clientIp;
    expect(a).toMatch(/^ip-hmac:ip1:[0-9a-f]{32}$/);
    expect(begin(kit, { headers: {}, remoteAddress: '203.0.113.77' }).clientIp).toBe(a);
    expect(begin(kit, { headers: {}, remoteAddress: '203.0.113.78' }).clientIp).not.toBe(a);
  });

  it('truncates the IPv4 embedded under a configured NAT64 /32 prefix, which /64 truncation alone would keep', () => {
    // RFC 6052: under a /32 prefix the IPv4 (203.0.113.77 = cb00:714d) sits in bits 32–63.
    const policy = { id: 'p', version: '1', jurisdictions: ['US'] as const, purposes: { diagnostics: { basis: 'legitimate-interests' as const, data: ['ip-address'] } }, rights: { honoured: [] }, logs: { ip: { mode: 'truncate' as const, ipv6Prefix: 64 } } };
    const address = '2001:db8:cb00:714d::1';
    const plain = createPurposekit({ policy: { ...policy, jurisdictions: ['US'] }, audit: new ArraySink(), subjectKey });
    expect(begin(plain, { headers: {}, remoteAddress: address }).clientIp).toContain('714d');
    const aware = createPurposekit({ policy: { ...policy, jurisdictions: ['US'] }, audit: new ArraySink(), subjectKey, nat64Prefixes: ['2001:db8::/32'] });
    const redacted = begin(aware, { headers: {}, remoteAddress: address }).clientIp;
    expect(redacted).not.toContain('714d');
    expect(redacted.startsWith('2001:db8:cb00:71')).toBe(true); // the IPv4 kept to its /24, like any other
  });
});

describe('Purposekit.access', () => {
  it('records an allow with a pseudonymised subject, purpose, basis, policy and request id', async () => {
    const { kit, audit } = kitFor();
    await kit.runAs({ purpose: 'diagnostics', actor: 'ops-job', requestId: 'job-1' }, () => kit.access({ subject: 'user-42', data: ['ip-address'], action: 'read' }));
    expect(audit.events).toEqual([
      {
        kind: 'access',
        actor: 'ops-job',
        subject: kit.pseudonymizeSubject('user-42'),
        data: ['ip-address'],
        action: 'read',
        purpose: 'diagnostics',
        basis: 'legitimate-interests',
        policy: { id: 'kubevirt', version: '2018-05-25' },
        requestId: 'job-1',
        decision: 'allow',
        reason: 'allowed',
      },
    ]);
    expect(audit.events[0]!.subject).toMatch(/^hmac-sha256:k1:[0-9a-f]{64}$/);
  });

  it('gives one subject the same pseudonym every time, and different subjects different ones', () => {
    const { kit } = kitFor();
    expect(kit.pseudonymizeSubject('a')).toBe(kit.pseudonymizeSubject('a'));
    expect(kit.pseudonymizeSubject('a')).not.toBe(kit.pseudonymizeSubject('b'));
  });

  it('records a deny and throws ACCESS_DENIED with the reason', async () => {
    const { kit, audit } = kitFor();
    expect(await codeOf(kit.runAs({ purpose: 'analytics', actor: 'job' }, () => kit.access({ subject: 'u', data: ['usage-data'], action: 'read' })))).toBe('PURPOSEKIT_ERR_ACCESS_DENIED:consent-missing');
    expect(audit.events.map((e) => [e.decision, e.reason])).toEqual([['deny', 'consent-missing']]);
  });

  it('takes a withdrawal into account on the very next decision', async () => {
    const { kit } = kitFor();
    const give = (state: 'given' | 'withdrawn') => kit.consentStore.setConsent({ subject: 'u', purpose: 'analytics', state, type: 'explicit', source: 'form', policyVersion: '2018-05-25', at: '2026-05-01T00:00:00Z' });
    const access = () => codeOf(kit.runAs({ purpose: 'analytics', actor: 'job' }, () => kit.access({ subject: 'u', data: ['usage-data'], action: 'read' })));
    give('given');
    expect(await access()).toBe('no error');
    give('withdrawn');
    expect(await access()).toBe('PURPOSEKIT_ERR_ACCESS_DENIED:consent-withdrawn');
  });

  it.each([
    ['no data categories', { data: [], action: 'read' }],
    ['an unknown action', { data: ['ip-address'], action: 'steal' }],
    ['a non-string category', { data: [42], action: 'read' }],
  ])('denies a malformed request (%s) and records it', async (_n, request) => {
    const { kit, audit } = kitFor();
    expect(await codeOf(kit.runAs({ purpose: 'diagnostics', actor: 'job' }, () => kit.access(request as never)))).toBe('PURPOSEKIT_ERR_ACCESS_DENIED:invalid-request');
    expect(audit.events[0]).toMatchObject({ decision: 'deny', reason: 'invalid-request' });
  });

  it('fails closed with AUDIT_UNAVAILABLE when the decision cannot be recorded, even for an allow', async () => {
    const { kit, audit } = kitFor();
    audit.failing = true;
    expect(await codeOf(kit.runAs({ purpose: 'diagnostics', actor: 'job' }, () => kit.access({ data: ['ip-address'], action: 'read' })))).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    audit.failing = false;
    expect(await codeOf(kit.runAs({ purpose: 'diagnostics', actor: 'job' }, () => kit.access({ data: ['ip-address'], action: 'read' })))).toBe('no error');
  });

  it('wraps a sink failure that is not a purposekit error as AUDIT_UNAVAILABLE with the cause', async () => {
    const cause = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    const kit = createPurposekit({ policy: kubevirt, subjectKey, audit: { append: () => Promise.reject(cause), flush: async () => {}, close: async () => {} } });
    const err = await kit.runAs({ purpose: 'diagnostics', actor: 'j' }, () => kit.access({ data: ['ip-address'], action: 'read' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', status: 503, cause });
  });

  it('lets a refused event keep its own code (a programming error, not an outage)', async () => {
    const rejected = new PurposekitError('PURPOSEKIT_ERR_AUDIT_REJECTED', 'actor looks like an email');
    const kit = createPurposekit({ policy: kubevirt, subjectKey, audit: { append: () => Promise.reject(rejected), flush: async () => {}, close: async () => {} } });
    const err = await kit.runAs({ purpose: 'diagnostics', actor: 'j' }, () => kit.access({ data: ['ip-address'], action: 'read' })).catch((e: unknown) => e);
    expect(err).toBe(rejected);
  });

  it('fails closed when the consent store cannot be read, and records the deny', async () => {
    const audit = new ArraySink();
    const kit = createPurposekit({ policy: kubevirt, subjectKey, audit, consentStore: { facts: () => Promise.reject(new Error('db down')), setConsent() {}, setObjection() {}, setRestriction() {}, history: () => [] } });
    expect(await codeOf(kit.runAs({ purpose: 'analytics', actor: 'j' }, () => kit.access({ subject: 'u', data: ['usage-data'], action: 'read' })))).toBe('PURPOSEKIT_ERR_INTERNAL:store-unavailable');
    expect(audit.events).toMatchObject([{ kind: 'access', purpose: 'analytics', decision: 'deny', reason: 'store-unavailable' }]);
  });

  it('never writes free text from the caller: categories and recipients that are not identifiers become "unlisted"', async () => {
    const { kit, audit } = kitFor(bitnami);
    await codeOf(kit.runAs({ purpose: 'marketing.email', actor: 'job' }, () => kit.access({ subject: 'c1', data: ['email', 'Alice Smith, 12 Main St'], action: 'share', recipient: 'Alice Smith born 1990' })));
    await codeOf(kit.runAs({ purpose: 'payment', actor: 'job' }, () => kit.access({ subject: 'c1', data: ['payment'], action: 'share', recipient: 'payment-gateway' })));
    await codeOf(kit.runAs({ purpose: 'marketing.email', actor: 'job' }, () => kit.access({ subject: 'c1', data: ['email'], action: 'share', recipient: 'acme-ads' })));
    expect(audit.events.map((e) => [e.data, e.recipient, e.reason])).toEqual([
      [['email', 'unlisted'], 'unlisted', 'purpose-limitation'],
      [['payment'], 'payment-gateway', 'allowed'],
      [['email'], 'acme-ads', 'recipient-not-allowed'], // an identifier: who the denied share was for stays visible
    ]);
    expect(JSON.stringify(audit.events)).not.toContain('Alice');
  });

  it('outside any context throws NO_CONTEXT', async () => {
    const { kit } = kitFor();
    expect(await codeOf(kit.access({ data: ['ip-address'], action: 'read' }))).toBe('PURPOSEKIT_ERR_NO_CONTEXT');
  });
});

describe('Purposekit.runAs and bind', () => {
  it('runAs validates the purpose up front and provides the context to async work', async () => {
    const { kit } = kitFor(openinfra);
    expect(() => kit.runAs({ purpose: 'marketing', actor: 'j' }, () => 1)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_UNKNOWN_PURPOSE' }));
    const seen = await kit.runAs({ purpose: 'rights-fulfilment', actor: 'dpo', subject: 's1' }, async () => {
      await new Promise((r) => setImmediate(r));
      const c = getPrivacyContext()!;
      return [c.purpose, c.basis, c.actor, c.subject];
    });
    expect(seen).toEqual(['rights-fulfilment', 'legal-obligation', 'dpo', 's1']);
  });

  it('bind checks and records each listed method, and blocks the call on a deny', async () => {
    const { kit, audit } = kitFor(bitnami);
    const calls: string[] = [];
    const repo = {
      async findEmail(id: string) { calls.push(`find:${id}`); return `${id}@example.org`; },
      async shareWithPartner(id: string) { calls.push(`share:${id}`); return true; },
      helper() { return 'untouched'; },
    };
    const bound = kit.bind(repo, {
      findEmail: { data: ['email'], action: 'read', subject: (id) => id },
      shareWithPartner: { data: ['email'], action: 'share', recipient: 'partner', subject: (id) => id },
    });
    const result = await kit.runAs({ purpose: 'marketing.email', actor: 'newsletter-job' }, async () => {
      const email = await bound.findEmail('c1');
      const share = await codeOf(bound.shareWithPartner('c1'));
      return [email, share, bound.helper()];
    });
    expect(result).toEqual(['c1@example.org', 'PURPOSEKIT_ERR_ACCESS_DENIED:recipient-not-allowed', 'untouched']);
    expect(calls).toEqual(['find:c1']);
    expect(audit.events.map((e) => [e.action, e.decision, e.reason, e.recipient])).toEqual([
      ['read', 'allow', 'allowed', undefined],
      ['share', 'deny', 'recipient-not-allowed', 'partner'],
    ]);
  });
});

describe('age-gate settings are validated when the engine is created', () => {
  const make = (ageGate: unknown, policy = openinfra) => () => createPurposekit({ policy, audit: new ArraySink(), subjectKey, ageGate: ageGate as never });

  it.each([
    ['a short secret', { secret: 'short' }, 'PURPOSEKIT_ERR_INVALID_KEY'],
    ['no secret', { field: 'dateOfBirth' }, 'PURPOSEKIT_ERR_INVALID_KEY'],
    ['an unknown option, with a hint', { secret: 's'.repeat(32), feild: 'dob' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['a bad field', { secret: 's'.repeat(32), field: '__proto__' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['a non-function extractor', { secret: 's'.repeat(32), verifiedAge: 18 }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['an unknown time zone', { secret: 's'.repeat(32), timeZone: 'Mars/Olympus' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
  ])('createPurposekit fails on %s, before any route declares a gate', (_n, ageGate, code) => {
    expect(make(ageGate)).toThrow(expect.objectContaining({ code }));
  });

  it('names the unknown option with a hint', () => {
    expect(make({ secret: 's'.repeat(32), feild: 'dob' })).toThrow(expect.objectContaining({ message: expect.stringContaining('"field"') }));
  });

  it('good settings create the engine, and routes get the gate compiled at creation', () => {
    const kit = make({ secret: 's'.repeat(32) })();
    const gate = compileRouteAgeGate(kit, 'registration');
    expect(gate.name).toBe('registration');
    expect(compileRouteAgeGate(kit, 'registration')).toBe(gate);
    expect(() => compileRouteAgeGate(kit, 'registraton')).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_UNKNOWN_AGE_GATE' }));
  });

  it('without settings the engine starts, and declaring a gate says what is missing', () => {
    const kit = make(undefined)();
    expect(() => compileRouteAgeGate(kit, 'registration')).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('ageGate: { secret }') }));
  });
});
