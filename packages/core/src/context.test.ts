import { contextInternals, getPrivacyContext, requirePrivacyContext, runInContext } from './context';
import { isPurposekitError } from './errors';

const engine = { policyId: 'p', policyVersion: '1', access: async () => { throw new Error('unused'); } };
const make = (id: string, purpose?: string) => contextInternals.create(engine, id, { gpc: undefined, dnt: undefined }, '10.0.0.0', undefined, purpose, purpose ? 'contract' : undefined);

describe('PrivacyContext in AsyncLocalStorage', () => {
  it('is absent outside a request, and requirePrivacyContext fails with NO_CONTEXT', () => {
    expect(getPrivacyContext()).toBeUndefined();
    try {
      requirePrivacyContext();
      throw new Error('expected a throw');
    } catch (e) {
      expect(isPurposekitError(e) && e.code).toBe('PURPOSEKIT_ERR_NO_CONTEXT');
    }
  });

  it('keeps 200 interleaved concurrent requests apart through timers, promises and microtasks', async () => {
    const seen: Array<[string, string | undefined, string | undefined]> = [];
    const oneRequest = (i: number) =>
      runInContext(make(`r${i}`, i % 2 ? 'analytics' : 'security'), async () => {
        await new Promise((r) => setImmediate(r));
        requirePrivacyContext().setSubject(`s${i}`);
        await Promise.resolve();
        await new Promise((r) => setTimeout(r, (200 - i) % 7));
        const ctx = requirePrivacyContext();
        seen.push([ctx.requestId, ctx.purpose, ctx.subject]);
      });
    await Promise.all(Array.from({ length: 200 }, (_, i) => oneRequest(i)));
    expect(seen).toHaveLength(200);
    for (const [id, purpose, subject] of seen) {
      const i = Number(id.slice(1));
      expect([purpose, subject]).toEqual([i % 2 ? 'analytics' : 'security', `s${i}`]);
    }
    // The order of completion differs from the order of start: the requests really interleaved.
    expect(seen.map((s) => s[0])).not.toEqual(Array.from({ length: 200 }, (_, i) => `r${i}`));
  });

  it('requirePurpose fails closed without a purpose', () => {
    try {
      make('r').requirePurpose();
      throw new Error('expected a throw');
    } catch (e) {
      expect(isPurposekitError(e) && e.code).toBe('PURPOSEKIT_ERR_PURPOSE_UNDECLARED');
    }
    expect(make('r', 'security').requirePurpose()).toEqual({ purpose: 'security', basis: 'contract' });
  });

  it.each([[''], ['x'.repeat(257)], [42 as unknown as string]])('rejects a bad subject id %p', (bad) => {
    expect(() => make('r').setSubject(bad)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
  });

  it('log fields carry purpose, basis, policy and the redacted IP only', () => {
    expect(make('r1', 'security').logFields()).toEqual({ requestId: 'r1', purpose: 'security', basis: 'contract', policy: 'p@1', ip: '10.0.0.0' });
  });
});
