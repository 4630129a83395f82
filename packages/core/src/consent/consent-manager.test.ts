import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PurposekitError, isPurposekitError } from '../errors';
import { definePolicy } from '../policy/define-policy';
import { coreos, kubevirt, openinfra } from '../presets';
import { createPurposekit } from '../purposekit';
import type { Purposekit } from '../purposekit';
import type { Policy } from '../policy/types';
import { InMemoryConsentStore } from './consent-store';
import type { ConsentStore } from './consent-store';
import { createConsentManager } from './consent-manager';
import { createFileConsentStore } from './file-consent-store';
import type { FileConsentStore } from './file-consent-store';
import { ArraySink } from '../__tests__/array-sink';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const subjectKey = { id: 'k1', secret: 'c'.repeat(32) };


function setup(policy: Policy = openinfra, consentStore: ConsentStore = new InMemoryConsentStore()) {
  const audit = new ArraySink({ now: () => NOW, validate: true });
  let clock = NOW;
  const kit = createPurposekit({ policy, audit, subjectKey, consentStore, now: () => clock });
  const consent = createConsentManager(kit, { now: () => clock });
  return { kit, audit, consent, tick: (ms: number) => (clock += ms) };
}

const reasonOf = (kit: Purposekit, purpose: string, subject: string, data = ['email'], requestId = 'r'): Promise<string> =>
  kit.runAs({ purpose, actor: 'mailer', subject, requestId }, () => kit.access({ data, action: 'use' })).then(
    () => 'allowed',
    (e) => (isPurposekitError(e) ? String(e.details?.['reason'] ?? e.code) : `other: ${String(e)}`),
  );

describe('createConsentManager', () => {
  it('rejects unknown options with a hint', () => {
    const { kit } = setup();
    expect(() => createConsentManager(kit, { nw: 1 } as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('Did you mean "now"?') }));
  });

  it('records every transition in the trail (pseudonymised subject, state, type, source) and the decision follows', async () => {
    const { kit, audit, consent } = setup();
    const steps: Array<[string, () => Promise<unknown>, string]> = [
      ['never asked', async () => undefined, 'consent-missing'],
      ['given', () => consent.give('u1', 'marketing.email', { source: 'form' }), 'allowed'],
      ['withdrawn', () => consent.withdraw('u1', 'marketing.email'), 'consent-withdrawn'],
      ['given again', () => consent.give('u1', 'marketing.email'), 'allowed'],
      ['expired', () => consent.expire('u1', 'marketing.email'), 'consent-expired'],
      ['refused', () => consent.refuse('u1', 'marketing.email'), 'consent-refused'],
    ];
    for (const [name, act, expected] of steps) {
      await act();
      expect([name, await reasonOf(kit, 'marketing.email', 'u1')]).toEqual([name, expected]);
    }
    const changes = audit.events.filter((e) => e.kind === 'consent');
    expect(changes.map((e) => e.attributes)).toEqual([
      { state: 'given', type: 'explicit', source: 'form' },
      { state: 'withdrawn', type: 'explicit', source: 'api' },
      { state: 'given', type: 'explicit', source: 'api' },
      { state: 'expired', type: 'explicit', source: 'api' },
      { state: 'refused', type: 'explicit', source: 'api' },
    ]);
    for (const e of changes) {
      expect(e).toMatchObject({ kind: 'consent', actor: 'data-subject', subject: kit.pseudonymizeSubject('u1'), purpose: 'marketing.email', basis: 'consent', policy: { id: 'openinfra', version: '2024-current' } });
    }
    expect(JSON.stringify(audit.events)).not.toContain('"u1"');
  });

  it('keeps earlier records on withdrawal: the history and the trail show both', async () => {
    const { consent, audit, tick } = setup();
    await consent.give('u1', 'marketing.email');
    tick(60_000);
    await consent.withdraw('u1', 'marketing.email');
    expect((await consent.history('u1')).map((r) => [r.state, r.at])).toEqual([
      ['given', '2026-06-01T12:00:00.000Z'],
      ['withdrawn', '2026-06-01T12:01:00.000Z'],
    ]);
    expect(audit.events.map((e) => e.attributes?.['state'])).toEqual(['given', 'withdrawn']);
  });

  it('opt-out of promotional email leaves account notices flowing (CoreOS, implied consent)', async () => {
    const { kit, consent } = setup(coreos);
    expect(await reasonOf(kit, 'marketing.email', 'u1')).toBe('allowed');
    const r = await consent.withdraw('u1', 'marketing.email', { source: 'form' });
    expect(r).toMatchObject({ state: 'withdrawn', type: 'implied' });
    expect(await reasonOf(kit, 'marketing.email', 'u1')).toBe('consent-withdrawn');
    expect(await reasonOf(kit, 'notifications', 'u1')).toBe('allowed');
  });

  it('gives an expiry and reads the lapsed consent as expired', async () => {
    const { kit, consent, tick } = setup(kubevirt);
    await consent.give('u1', 'analytics', { expiresAt: new Date(NOW + 1000) });
    expect(await consent.status('u1', 'analytics')).toMatchObject({ state: 'given', renewalRequired: false });
    expect(await reasonOf(kit, 'analytics', 'u1', ['usage-data'])).toBe('allowed');
    tick(1000);
    expect(await consent.status('u1', 'analytics')).toMatchObject({ state: 'expired' });
    expect(await reasonOf(kit, 'analytics', 'u1', ['usage-data'])).toBe('consent-expired');
  });

  it.each([
    ['an unknown purpose, with a hint', 'u1', 'marketing.emial', {}, 'purpose', 'Did you mean "marketing.email"?'],
    ['a purpose not based on consent', 'u1', 'diagnostics', {}, 'purpose', 'legitimate-interests'],
    ['an unknown source', 'u1', 'marketing.email', { source: 'cookie' }, 'source', 'must be one of'],
    ['an unknown option', 'u1', 'marketing.email', { sorce: 'form' }, 'sorce', 'Did you mean "source"?'],
    ['a bad expiry', 'u1', 'marketing.email', { expiresAt: 'soon' }, 'expiresAt', 'ISO 8601'],
    ['an own policy version outside imports', 'u1', 'marketing.email', { policyVersion: 'old' }, 'policyVersion', 'import'],
    ['an empty subject', '', 'marketing.email', {}, 'subject', 'non-empty'],
  ])('refuses %s with PURPOSEKIT_ERR_BAD_REQUEST, writing nothing', async (_n, subject, purpose, options, field, text) => {
    const { consent, audit, kit } = setup();
    await expect(consent.give(subject, purpose, options as never)).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_BAD_REQUEST', details: { field }, message: expect.stringContaining(text) });
    expect(audit.events).toEqual([]);
    expect(await kit.consentStore.history(subject)).toEqual([]);
  });

  it('records an imported answer with the policy version it was given under', async () => {
    const { consent, audit } = setup();
    await consent.give('u1', 'marketing.email', { source: 'import', policyVersion: 'v2019' });
    expect(audit.events[0]!.attributes).toEqual({ state: 'given', type: 'explicit', source: 'import', policyVersion: 'v2019' });
  });

  it('a consent given does not take effect when the trail cannot record it; a withdrawal always does', async () => {
    const { kit, audit, consent } = setup();
    audit.failing = true;
    await expect(consent.give('u1', 'marketing.email')).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
    expect(await kit.consentStore.history('u1')).toEqual([]);
    audit.failing = false;
    await consent.give('u1', 'marketing.email');
    audit.failing = true;
    await expect(consent.withdraw('u1', 'marketing.email')).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
    expect((await kit.consentStore.facts('u1', 'marketing.email')).consent?.state).toBe('withdrawn');
    audit.failing = false;
    // The retry records what the outage could not.
    await consent.withdraw('u1', 'marketing.email');
    expect(audit.events.map((e) => e.attributes?.['state'])).toEqual(['given', 'withdrawn']);
  });

  it('records the change under the request context when given one (request id)', async () => {
    const { kit, audit, consent } = setup();
    await kit.runAs({ purpose: 'marketing.email', actor: 'web', requestId: 'req-7' }, () => consent.give('u1', 'marketing.email'));
    expect(audit.events[0]).toMatchObject({ requestId: 'req-7' });
  });
});

describe('consent renewal when a purpose\'s terms change (termsVersion)', () => {
  const v = (termsVersion: string | undefined): Policy =>
    definePolicy({ id: 'news', version: termsVersion ?? 'v0', jurisdictions: ['EU'], purposes: { 'marketing.email': { basis: 'consent', data: ['email'], ...(termsVersion ? { termsVersion } : {}) } } });

  it('validates and resolves termsVersion', () => {
    expect(v('v2').purposes['marketing.email']!.termsVersion).toBe('v2');
    expect(v(undefined).purposes['marketing.email']!.termsVersion).toBeUndefined();
    const issues = (input: unknown) => {
      try {
        definePolicy(input as never);
        return [];
      } catch (e) {
        return ((e as PurposekitError).details?.['issues'] as Array<{ path: string; rule: string }>).map((i) => [i.path, i.rule]);
      }
    };
    expect(issues({ id: 'x', version: '1', jurisdictions: ['EU'], purposes: { diagnostics: { basis: 'legitimate-interests', data: ['ip-address'], termsVersion: 'v1' } } })).toEqual([['purposes.diagnostics.termsVersion', 'terms-version-without-consent']]);
    expect(issues({ id: 'x', version: '1', jurisdictions: ['EU'], purposes: { analytics: { basis: 'consent', data: ['usage-data'], termsVersion: 'v 2!' } } })).toEqual([['purposes.analytics.termsVersion', 'format']]);
    expect(issues({ id: 'x', version: '1', jurisdictions: ['EU'], purposes: { analytics: { basis: 'consent', data: ['usage-data'], termsVersion: 2 } } })).toEqual([['purposes.analytics.termsVersion', 'type']]);
  });

  it('a consent given under earlier terms needs renewal after the policy changes them; renewing restores access', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pk-renew-')), 'consent.jsonl');
    const stores: FileConsentStore[] = [];
    try {
      const before = setup(v('v1'), (stores[0] = createFileConsentStore({ path })));
      await before.consent.give('u1', 'marketing.email');
      expect(before.audit.events[0]!.attributes).toMatchObject({ termsVersion: 'v1' });
      expect(await reasonOf(before.kit, 'marketing.email', 'u1')).toBe('allowed');
      // Deploy of the new policy: same store, new terms.
      const after = setup(v('v2'), (stores[1] = createFileConsentStore({ path })));
      expect(await after.consent.status('u1', 'marketing.email')).toMatchObject({ state: 'given', renewalRequired: true });
      expect(await reasonOf(after.kit, 'marketing.email', 'u1')).toBe('consent-renewal-required');
      await after.consent.give('u1', 'marketing.email');
      expect(await reasonOf(after.kit, 'marketing.email', 'u1')).toBe('allowed');
      expect((await after.consent.history('u1')).map((r) => r.termsVersion)).toEqual(['v1', 'v2']);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      rmSync(join(path, '..'), { recursive: true, force: true });
    }
  });
});

describe('withdrawal across two app instances sharing one store', () => {
  it('takes effect on the very next access decision of the other instance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pk-two-'));
    const a = createFileConsentStore({ path: join(dir, 'consent.jsonl') });
    const b = createFileConsentStore({ path: join(dir, 'consent.jsonl') });
    try {
      const one = setup(openinfra, a);
      const two = setup(openinfra, b);
      await one.consent.give('u1', 'marketing.email', { source: 'form' });
      expect(await reasonOf(two.kit, 'marketing.email', 'u1')).toBe('allowed');
      await two.consent.withdraw('u1', 'marketing.email', { source: 'form' });
      // No reload, no wait: the next decision of instance one sees it.
      expect(await reasonOf(one.kit, 'marketing.email', 'u1')).toBe('consent-withdrawn');
      expect(await reasonOf(two.kit, 'marketing.email', 'u1')).toBe('consent-withdrawn');
      // Both trails record the decisions; each instance recorded the change it made.
      expect(one.audit.events.map((e) => `${e.kind}:${e.reason ?? e.attributes?.['state']}`)).toEqual(['consent:given', 'access:consent-withdrawn']);
      expect(two.audit.events.map((e) => `${e.kind}:${e.reason ?? e.attributes?.['state']}`)).toEqual(['access:allowed', 'consent:withdrawn', 'access:consent-withdrawn']);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
