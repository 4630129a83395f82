import { begin, checkAgeGate, compileAgeGate, declarePurpose, applyPurpose } from './adapter';
import { isPurposekitError } from './errors';
import { definePolicy } from './policy/define-policy';
import { createPurposekit } from './purposekit';
import type { Purposekit, PurposekitOptions } from './purposekit';
import { ALWAYS_ENFORCED } from './report-only';
import { ArraySink } from './__tests__/array-sink';

const policy = definePolicy({
  id: 'rollout',
  version: '3',
  jurisdictions: ['US'],
  purposes: {
    diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] },
    'marketing.email': { basis: 'consent', consentType: 'implied', gpc: true, data: ['email'] },
    'service.registration': { basis: 'contract', data: ['name'], ageGate: 'adult' },
  },
  ageGates: { adult: { minimumAge: 18 } },
});
const TODAY = new Date('2026-06-15T12:00:00Z');

function kitWith(extra: Partial<PurposekitOptions>): { kit: Purposekit; audit: ArraySink; warnings: Array<[string, string]> } {
  const audit = new ArraySink({ validate: true });
  const warnings: Array<[string, string]> = [];
  const kit = createPurposekit({ policy, audit, subjectKey: { id: 'k', secret: 's'.repeat(32) }, ageGate: { secret: 'g'.repeat(32), now: () => TODAY }, onWarning: (m, c) => warnings.push([m, c]), ...extra });
  return { kit, audit, warnings };
}

function requestUnder(kit: Purposekit, purpose: string, headers: Record<string, string> = {}) {
  const ctx = begin(kit, { headers, remoteAddress: '127.0.0.1' });
  applyPurpose(kit, ctx, declarePurpose(kit, purpose));
  // The request is the subject's own: a GPC signal speaks for them.
  ctx.setSubject('u1');
  return ctx;
}

const outcome = (p: Promise<unknown>) => p.then((d) => ({ ok: d }), (e) => ({ error: isPurposekitError(e) ? [e.code, e.details?.['reason']] : String(e) }));

describe('report-only mode', () => {
  it('global: a would-be deny is recorded as a deny with enforced: false and the access goes on', async () => {
    const { kit, audit, warnings } = kitWith({ reportOnly: true });
    const ctx = requestUnder(kit, 'diagnostics');
    expect(await outcome(ctx.access({ data: ['email'], action: 'read' }))).toEqual({ ok: { allowed: true, purpose: 'diagnostics', basis: 'legitimate-interests', reason: 'allowed', wouldDeny: 'purpose-limitation' } });
    expect(await outcome(requestUnder(kit, 'marketing.email', { 'sec-gpc': '1' }).access({ data: ['email'], action: 'use', subject: 'u1' }))).toMatchObject({ ok: { wouldDeny: 'gpc-opt-out' } });
    // An allowed access carries no enforcement attribute at all.
    await ctx.access({ data: ['ip-address'], action: 'read' });
    // (A GPC signal is also stored as the subject's refusal: a consent record, left out here.)
    expect(audit.events.filter((e) => e.kind === 'access').map((e) => [e.decision, e.reason, e.attributes])).toEqual([
      ['deny', 'purpose-limitation', { enforced: false }],
      ['deny', 'gpc-opt-out', { enforced: false }],
      ['allow', 'allowed', undefined],
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]![1]).toBe('PURPOSEKIT_WARN_REPORT_ONLY');
    expect(warnings[0]![0]).toMatch(/NOT enforcing policy "rollout@3" for EVERY purpose/);
  });

  it('per purpose: only the listed purposes are report-only; the warning names them', async () => {
    const { kit, audit, warnings } = kitWith({ reportOnly: { purposes: ['marketing.email'] } });
    expect(await outcome(requestUnder(kit, 'marketing.email', { 'sec-gpc': '1' }).access({ data: ['email'], action: 'use', subject: 'u1' }))).toMatchObject({ ok: { wouldDeny: 'gpc-opt-out' } });
    expect(await outcome(requestUnder(kit, 'diagnostics').access({ data: ['email'], action: 'read' }))).toEqual({ error: ['PURPOSEKIT_ERR_ACCESS_DENIED', 'purpose-limitation'] });
    expect(audit.events.filter((e) => e.kind === 'access').map((e) => [e.purpose, e.reason, e.attributes])).toEqual([
      ['marketing.email', 'gpc-opt-out', { enforced: false }],
      ['diagnostics', 'purpose-limitation', undefined],
    ]);
    expect(warnings.map(([m]) => m)).toEqual([expect.stringContaining('the purposes marketing.email')]);
  });

  it('never for age requirements: collecting under a gated purpose without a passed gate stays denied', async () => {
    const { kit, audit } = kitWith({ reportOnly: true });
    const ctx = requestUnder(kit, 'service.registration');
    expect(await outcome(ctx.access({ data: ['name'], action: 'collect', subject: 'kid' }))).toEqual({ error: ['PURPOSEKIT_ERR_ACCESS_DENIED', 'age-unverified'] });
    expect(audit.events[0]).toMatchObject({ decision: 'deny', reason: 'age-unverified' });
    expect(audit.events[0]).not.toHaveProperty('attributes');
  });

  it('never for age gates: a refused child is refused, and the refusal record carries no enforced: false', async () => {
    const { kit, audit } = kitWith({ reportOnly: { purposes: ['service.registration'] } });
    const ctx = requestUnder(kit, 'service.registration');
    const refused = checkAgeGate(kit, ctx, compileAgeGate(kit, 'adult'), { body: { dateOfBirth: '2012-01-01' }, cookieHeader: undefined });
    expect(refused).not.toBeNull();
    expect((await refused)!.error.code).toBe('PURPOSEKIT_ERR_AGE_GATE_REFUSED');
    expect(await outcome(ctx.access({ data: ['name'], action: 'collect', subject: 'kid' }))).toEqual({ error: ['PURPOSEKIT_ERR_ACCESS_DENIED', 'age-unverified'] });
    expect(audit.events.map((e) => [e.kind, e.reason, e.attributes])).toEqual([
      ['age-gate', 'refused', { gate: 'adult' }],
      ['access', 'age-unverified', undefined],
    ]);
  });

  it('never for a failed request: an invalid access stays denied', async () => {
    const { kit } = kitWith({ reportOnly: true });
    expect(await outcome(requestUnder(kit, 'diagnostics').access({ data: [], action: 'read' }))).toEqual({ error: ['PURPOSEKIT_ERR_ACCESS_DENIED', 'invalid-request'] });
    expect([...ALWAYS_ENFORCED].sort()).toEqual(['age-unverified', 'invalid-request', 'no-purpose', 'store-unavailable']);
  });

  it.each([
    ['age gates', { ageGates: ['adult'] }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'age gates cannot be report-only'],
    ['an unknown purpose, with a hint', { purposes: ['diagnostic'] }, 'PURPOSEKIT_ERR_UNKNOWN_PURPOSE', 'Did you mean "diagnostics"?'],
    ['an empty list', { purposes: [] }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'non-empty list'],
    ['an unknown key', { purpose: ['diagnostics'] }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'Did you mean "purposes"?'],
    ['a string', 'yes', 'PURPOSEKIT_ERR_INVALID_OPTION', 'must be true or { purposes'],
  ])('rejects %s at start-up', (_label, reportOnly, code, text) => {
    expect(() => kitWith({ reportOnly: reportOnly as never })).toThrow(expect.objectContaining({ code, message: expect.stringContaining(text) }));
  });

  it('off by default and with false: no warning, every deny enforced', async () => {
    for (const reportOnly of [undefined, false]) {
      const { kit, warnings } = kitWith(reportOnly === undefined ? {} : { reportOnly: reportOnly as never });
      expect(await outcome(requestUnder(kit, 'diagnostics').access({ data: ['email'], action: 'read' }))).toEqual({ error: ['PURPOSEKIT_ERR_ACCESS_DENIED', 'purpose-limitation'] });
      expect(warnings).toEqual([]);
    }
  });
});
