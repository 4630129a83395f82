import fc from 'fast-check';
import { isPurposekitError } from '../errors';
import { definePolicy } from '../policy/define-policy';
import type { Policy } from '../policy/types';
import { coreos, kubevirt, openinfra } from '../presets';
import { createPurposekit } from '../purposekit';
import { applyPurpose, begin, declarePurpose, runInContext } from '../adapter';
import type { Purposekit } from '../purposekit';
import { GPC_WELL_KNOWN_PATH, gpcWellKnown, gpcWellKnownResponse, parseSignalHeader, signalDisclosure } from './gpc';
import { ArraySink } from '../__tests__/array-sink';

const subjectKey = { id: 'k1', secret: 's'.repeat(32) };
const kitFor = (policy: Policy) => {
  const audit = new ArraySink();
  return { kit: createPurposekit({ policy, audit, subjectKey }), audit };
};

describe('/.well-known/gpc.json', () => {
  const serving = (version: string) => definePolicy({ id: 'x', version, jurisdictions: ['US'], signals: { serveGpcJson: true }, purposes: { advertising: { basis: 'consent', data: ['cookie-id'] } } });

  it('is served only when the policy asks', () => {
    expect(gpcWellKnownResponse(openinfra)).toBeUndefined();
    expect(gpcWellKnownResponse(serving('2025-03-01'))).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'max-age=86400' },
      body: { gpc: true, lastUpdate: '2025-03-01' },
    });
    expect(GPC_WELL_KNOWN_PATH).toBe('/.well-known/gpc.json');
  });

  it.each([
    ['a date-shaped policy version by default', kubevirt, {}, { gpc: true, lastUpdate: '2018-05-25' }],
    ['no lastUpdate when the version is not a date', openinfra, {}, { gpc: true }],
    ['an explicit day', openinfra, { lastUpdate: '2026-01-31' }, { gpc: true, lastUpdate: '2026-01-31' }],
    ['the UTC day of a Date', openinfra, { lastUpdate: new Date('2026-02-01T23:30:00-05:00') }, { gpc: true, lastUpdate: '2026-02-02' }],
  ])('body: %s', (_n, policy, options, expected) => {
    expect(gpcWellKnown(policy, options)).toEqual(expected);
  });

  it.each([['2026-02-30'], ['2026-1-5'], ['yesterday'], [new Date(Number.NaN)]])('rejects lastUpdate %p', (lastUpdate) => {
    expect(() => gpcWellKnown(openinfra, { lastUpdate })).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
  });
});

describe('Sec-GPC and DNT parsing through the engine', () => {
  const { kit } = kitFor(coreos);
  const signalsOf = (headers: Record<string, string | string[] | undefined>) => begin(kit, { headers, remoteAddress: '127.0.0.1' }).signals;

  it.each([
    ['absent', undefined, undefined],
    ['"1"', '1', true],
    ['"0"', '0', undefined],
    ['empty', '', undefined],
    ['"true" (malformed)', 'true', undefined],
    ['" 1" (malformed)', ' 1', undefined],
    ['"1, 1" (a repeated header folded)', '1, 1', undefined],
    ['an array (a repeated header)', ['1', '1'], undefined],
    ['"2"', '2', undefined],
  ])('Sec-GPC %s → %p, and DNT the same', (_n, value, expected) => {
    expect(signalsOf({ 'sec-gpc': value as string })).toEqual({ gpc: expected, dnt: undefined });
    expect(signalsOf({ dnt: value as string })).toEqual({ gpc: undefined, dnt: expected });
    expect(parseSignalHeader(value)).toBe(expected);
  });

  it('parseSignalHeader agrees with the engine on arbitrary values (property, fixed seed)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom('1', '0', ' 1', '1 ')), (v) => {
        expect(signalsOf({ 'sec-gpc': v }).gpc).toBe(parseSignalHeader(v));
        expect(parseSignalHeader(v) === true).toBe(v === '1');
      }),
      { seed: 20260601, numRuns: 500 },
    );
  });

  it('exposes DNT in the log fields, never as consent or opt-out', () => {
    const ctx = begin(kit, { headers: { dnt: '1' }, remoteAddress: '127.0.0.1' });
    expect(ctx.logFields()).toMatchObject({ dnt: true });
    expect(ctx.logFields()).not.toHaveProperty('gpc');
  });
});

describe('GPC decisions through the engine (recorded with the reason)', () => {
  async function decideOver(kit: Purposekit, headers: Record<string, string>, purpose: string, subject = 'u1'): Promise<string> {
    const ctx = begin(kit, { headers, remoteAddress: '127.0.0.1' });
    applyPurpose(kit, ctx, declarePurpose(kit, purpose));
    ctx.setSubject(subject); // the subject's own request: their GPC speaks for them
    return runInContext(kit, ctx, () => ctx.access({ subject, data: ['email'], action: 'use' })).then(
      () => 'allowed',
      (e) => (isPurposekitError(e) ? String(e.details?.['reason']) : String(e)),
    );
  }
  const give = (kit: Purposekit, purpose: string) => kit.consentStore.setConsent({ subject: 'u1', purpose, state: 'given', type: 'explicit', source: 'form', policyVersion: kit.policyVersion, at: '2026-05-01T00:00:00.000Z' });
  const impliedGpc = definePolicy({ id: 'ig', version: '1', jurisdictions: ['US'], purposes: { 'marketing.email': { basis: 'consent', consentType: 'implied', data: ['email'] }, notifications: { basis: 'contract', data: ['email'] }, 'rights-fulfilment': { basis: 'legal-obligation', data: ['email'] } } });
  const consentWins = definePolicy({ id: 'cw', version: '1', jurisdictions: ['US'], signals: { gpcVersusConsent: 'consent' }, purposes: { 'marketing.email': { basis: 'consent', data: ['email'] } } });

  it.each([
    ['GPC opts out of promotional email (an implied-consent purpose that applies GPC)', impliedGpc, { 'sec-gpc': '1' }, 'marketing.email', false, 'gpc-opt-out'],
    ['GPC leaves account notices alone (not GPC-applicable)', impliedGpc, { 'sec-gpc': '1' }, 'notifications', false, 'allowed'],
    ['GPC changes nothing where the policy applies it to no purpose (CoreOS)', coreos, { 'sec-gpc': '1' }, 'marketing.email', false, 'allowed'],
    ['Sec-GPC: 0 is no preference', impliedGpc, { 'sec-gpc': '0' }, 'marketing.email', false, 'allowed'],
    ['an absent header is no preference', impliedGpc, {}, 'marketing.email', false, 'allowed'],
    ['a malformed header is no preference', impliedGpc, { 'sec-gpc': 'yes' }, 'marketing.email', false, 'allowed'],
    ['GPC against an earlier explicit consent: GPC wins by default', openinfra, { 'sec-gpc': '1' }, 'marketing.email', true, 'gpc-opt-out'],
    ['GPC against an earlier explicit consent: consent wins when the policy says so', consentWins, { 'sec-gpc': '1' }, 'marketing.email', true, 'allowed'],
    ['no GPC with explicit consent', openinfra, {}, 'marketing.email', true, 'allowed'],
  ])('%s', async (_n, policy, headers, purpose, consented, expected) => {
    const { kit, audit } = kitFor(policy);
    if (consented) await give(kit, purpose);
    expect(await decideOver(kit, headers, purpose)).toBe(expected);
    expect(audit.events.at(-1)).toMatchObject({ kind: 'access', purpose, decision: expected === 'allowed' ? 'allow' : 'deny', reason: expected });
  });
});

describe('signalDisclosure', () => {
  it('names the GPC purposes and the conflict rule, and says how DNT is handled', () => {
    const d = signalDisclosure(openinfra);
    expect(d.gpc).toContain('marketing.email');
    expect(d.gpc).toContain('takes precedence over a consent you gave us earlier');
    expect(d.dnt).toContain('do not change how they process personal data in response to a Do Not Track');
    const none = definePolicy({ id: 'n', version: '1', jurisdictions: ['US'], purposes: { diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] } } });
    expect(signalDisclosure(none).gpc).toContain('changes nothing here');
  });
});
