/**
 * Issue 17: a non-throwing check for code that filters a list of people. One member's
 * withdrawal must not turn the whole list into a 403, and the decision is recorded exactly
 * as `access` records it.
 */
import { applyPurpose, begin, declarePurpose, runInContext } from './adapter';
import type { AuditEventInput, AuditSink } from './audit';
import { createConsentManager } from './consent/consent-manager';
import type { PrivacyContext } from './context';
import { createPurposekit } from './purposekit';
import type { Purposekit } from './purposekit';
import { ArraySink } from './__tests__/array-sink';

const subjectKey = { id: 'k1', secret: 'c'.repeat(32) };
const POLICY = {
  id: 'check',
  version: '1',
  jurisdictions: ['EU'],
  purposes: {
    'service.provision': { basis: 'contract', data: ['email'] },
    'marketing.email': { basis: 'consent', data: ['email'] },
  },
  rights: { honoured: [] },
};

async function setup(purpose: string | undefined, sink: AuditSink = new ArraySink()): Promise<{ kit: Purposekit; ctx: PrivacyContext; sink: AuditSink }> {
  const kit = createPurposekit({ policy: POLICY as never, audit: sink, subjectKey, now: () => Date.parse('2026-06-01T00:00:00Z') });
  const consent = createConsentManager(kit);
  await consent.give('alice', 'marketing.email', { actor: 'alice' });
  await consent.give('carol', 'marketing.email', { actor: 'carol' });
  await consent.withdraw('carol', 'marketing.email', { actor: 'carol' });
  const ctx = begin(kit, { headers: {}, remoteAddress: '192.0.2.1' });
  if (purpose !== undefined) applyPurpose(kit, ctx, declarePurpose(kit, purpose));
  return { kit, ctx, sink };
}
const accessEvents = (sink: AuditSink): AuditEventInput[] => (sink as ArraySink).events.filter((e) => e.kind === 'access');

describe('check', () => {
  it('returns a deny instead of throwing, recorded exactly as access records it', async () => {
    const viaCheck = await setup('marketing.email');
    const viaAccess = await setup('marketing.email');
    const request = { subject: 'bob', data: ['email'], action: 'use' };
    const d = await viaCheck.ctx.check(request);
    expect(d).toEqual({ allowed: false, purpose: 'marketing.email', basis: 'consent', reason: 'consent-missing' });
    await expect(viaAccess.ctx.access(request)).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_ACCESS_DENIED', details: { reason: 'consent-missing' } });
    const strip = (e: AuditEventInput) => ({ ...e, requestId: undefined });
    expect(accessEvents(viaCheck.sink).map(strip)).toEqual(accessEvents(viaAccess.sink).map(strip));
    expect(accessEvents(viaCheck.sink)).toEqual([expect.objectContaining({ decision: 'deny', reason: 'consent-missing', purpose: 'marketing.email', basis: 'consent' })]);
  });

  it('returns the allow access returns, and records it', async () => {
    const { kit, ctx, sink } = await setup('marketing.email');
    expect(await kit.check({ subject: 'alice', data: ['email'], action: 'use' }, ctx)).toEqual({ allowed: true, purpose: 'marketing.email', basis: 'consent', reason: 'allowed' });
    expect(await runInContext(kit, ctx, () => kit.check({ subject: 'carol', data: ['email'], action: 'use' }))).toMatchObject({ allowed: false, reason: 'consent-withdrawn' });
    expect(accessEvents(sink).map((e) => e.decision)).toEqual(['allow', 'deny']);
  });

  it('still throws for what is not a decision: no purpose (recorded as a deny), an audit outage', async () => {
    const none = await setup(undefined);
    await expect(none.ctx.check({ subject: 'alice', data: ['email'], action: 'use' })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_PURPOSE_UNDECLARED' });
    expect(accessEvents(none.sink)).toEqual([expect.objectContaining({ decision: 'deny', reason: 'no-purpose' })]);
    const down = await setup('marketing.email');
    (down.sink as ArraySink).failing = true;
    await expect(down.ctx.check({ subject: 'bob', data: ['email'], action: 'use' })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
  });

  it('an invalid request is a recorded deny, not a crash', async () => {
    const { ctx, sink } = await setup('service.provision');
    expect(await ctx.check({ subject: 'alice', data: [], action: 'use' })).toMatchObject({ allowed: false, reason: 'invalid-request' });
    expect(await ctx.check(null as never)).toMatchObject({ allowed: false, reason: 'invalid-request' });
    expect(accessEvents(sink)).toHaveLength(2);
  });
});

describe('checkEach', () => {
  it('decides each subject in order; one withdrawal leaves the others listed', async () => {
    const { ctx, sink } = await setup('marketing.email');
    const people = ['alice', 'bob', 'carol', 'alice'];
    const decisions = await ctx.checkEach(people, { data: ['email'], action: 'use' });
    expect(decisions.map((d) => [d.allowed, d.reason])).toEqual([
      [true, 'allowed'],
      [false, 'consent-missing'],
      [false, 'consent-withdrawn'],
      [true, 'allowed'],
    ]);
    expect(people.filter((_, i) => decisions[i]!.allowed)).toEqual(['alice', 'alice']);
    const events = accessEvents(sink);
    expect(events.map((e) => [e.decision, e.reason])).toEqual(decisions.map((d) => [d.allowed ? 'allow' : 'deny', d.reason]));
    // Pseudonymised, one per person, the same person the same pseudonym.
    expect(events.every((e) => typeof e.subject === 'string' && e.subject.startsWith('hmac-sha256:k1:'))).toBe(true);
    expect(new Set(events.map((e) => e.subject)).size).toBe(3);
    expect(events[0]!.subject).toBe(events[3]!.subject);
  });

  it('hands every record to the sink before waiting for any, so a durable sink commits the list together', async () => {
    const pending: Array<() => void> = [];
    const sink: AuditSink = {
      append: () => new Promise<void>((resolve) => pending.push(resolve)),
      flush: async () => {},
      close: async () => {},
    };
    const kit = createPurposekit({ policy: POLICY as never, audit: sink, subjectKey });
    const ctx = begin(kit, { headers: {}, remoteAddress: undefined });
    applyPurpose(kit, ctx, declarePurpose(kit, 'service.provision'));
    let done = false;
    const result = ctx.checkEach(['a', 'b', 'c', 'd', 'e'], { data: ['email'], action: 'read' }).then((d) => {
      done = true;
      return d;
    });
    const deadline = Date.now() + 5_000;
    while (pending.length < 5 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect([pending.length, done]).toEqual([5, false]);
    for (const resolve of pending) resolve();
    expect((await result).every((d) => d.allowed)).toBe(true);
  });

  it('rejects as a whole when a record cannot be written', async () => {
    const { ctx, sink } = await setup('marketing.email');
    (sink as ArraySink).failing = true;
    await expect(ctx.checkEach(['alice', 'bob'], { data: ['email'], action: 'use' })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
  });

  it('refuses something that is not a list, and an empty list records nothing', async () => {
    const { ctx, sink } = await setup('marketing.email');
    const before = accessEvents(sink).length;
    await expect(ctx.checkEach('alice' as never, { data: ['email'], action: 'use' })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' });
    expect(await ctx.checkEach([], { data: ['email'], action: 'use' })).toEqual([]);
    expect(accessEvents(sink).length).toBe(before);
  });
});
