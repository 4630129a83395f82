/**
 * The consent store contract suite: the behaviour every `ConsentStore` keeps (the
 * in-memory, file and PostgreSQL stores run it; so can yours). Jest only: it registers
 * `describe`/`it` blocks when called at a test file's top level.
 */
import type * as JestGlobals from '@jest/globals';
import { NO_SUBJECT_FACTS } from '@purposekit/core';
import type { ConsentRecord, ConsentStore } from '@purposekit/core';

/** How the suite gets stores. */
export interface ConsentStoreContractOptions {
  /** A fresh, empty store for one test. The suite does not close it: close it in `afterEach` if needed. */
  make: () => ConsentStore | Promise<ConsentStore>;
  /**
   * Two instances over ONE shared backing store (two processes' view of one file, two
   * services on one database), fresh and empty. When given, the suite also checks that
   * a write resolved on one instance governs the next answer of the other.
   */
  makePair?: () => Promise<readonly [ConsentStore, ConsentStore]>;
}

/** A valid consent record, with overrides. */
function rec(over: Partial<ConsentRecord> = {}): ConsentRecord {
  return {
    subject: 'u1',
    purpose: 'marketing.email',
    state: 'given',
    type: 'explicit',
    source: 'form',
    policyVersion: '2024-current',
    at: '2026-06-01T10:00:00.000Z',
    ...over,
  };
}

/**
 * Registers the contract tests for one store implementation under `describe(name)`.
 */
export function runConsentStoreContract(name: string, options: ConsentStoreContractOptions): void {
  const { describe, it, expect } = require('@jest/globals') as typeof JestGlobals;
  const make = async (): Promise<ConsentStore> => options.make();

  describe(`${name}: the consent store contract`, () => {
    it('answers "nothing known" with the shared frozen facts', async () => {
      expect(await (await make()).facts('u1', 'marketing.email')).toBe(NO_SUBJECT_FACTS);
    });

    it('keeps the latest consent per subject and purpose, and the whole history in order', async () => {
      const s = await make();
      await s.setConsent(rec({ state: 'given' }));
      await s.setConsent(rec({ state: 'withdrawn', at: '2026-06-02T10:00:00.000Z' }));
      await s.setConsent(rec({ subject: 'u2', state: 'refused' }));
      await s.setConsent(rec({ purpose: 'analytics', state: 'given' }));
      expect((await s.facts('u1', 'marketing.email')).consent?.state).toBe('withdrawn');
      expect((await s.facts('u2', 'marketing.email')).consent?.state).toBe('refused');
      expect((await s.facts('u1', 'analytics')).consent?.state).toBe('given');
      expect((await s.history('u1')).map((r) => `${r.purpose}:${r.state}`)).toEqual(['marketing.email:given', 'marketing.email:withdrawn', 'analytics:given']);
      expect(await s.history('nobody')).toEqual([]);
    });

    it('the latest committed answer wins, whatever its "at" says', async () => {
      const s = await make();
      await s.setConsent(rec({ state: 'withdrawn', at: '2026-06-05T10:00:00.000Z' }));
      await s.setConsent(rec({ state: 'given', at: '2026-06-01T10:00:00.000Z' }));
      expect((await s.facts('u1', 'marketing.email')).consent?.state).toBe('given');
    });

    it('keeps exactly the known fields of a record', async () => {
      const s = await make();
      await s.setConsent({ ...rec({ termsVersion: 't2', expiresAt: '2027-06-01T10:00:00.000Z' }), email: 'someone@example.org' } as ConsentRecord);
      expect((await s.facts('u1', 'marketing.email')).consent).toEqual(rec({ termsVersion: 't2', expiresAt: '2027-06-01T10:00:00.000Z' }));
    });

    it('records and lifts an erasure mark per subject, for every purpose', async () => {
      const s = await make();
      expect(typeof s.setErased).toBe('function');
      await s.setErased!('u3', true);
      expect(await s.facts('u3', 'diagnostics')).toEqual({ consent: undefined, objected: false, restricted: false, erased: true });
      expect(await s.facts('u3', 'marketing.email')).toMatchObject({ erased: true });
      expect(await s.facts('u4', 'diagnostics')).toBe(NO_SUBJECT_FACTS);
      await s.setErased!('u3', false);
      expect(await s.facts('u3', 'diagnostics')).toBe(NO_SUBJECT_FACTS);
    });

    it('records and lifts objections per purpose and restrictions per subject', async () => {
      const s = await make();
      await s.setObjection('u1', 'diagnostics', true);
      await s.setRestriction('u2', true);
      expect(await s.facts('u1', 'diagnostics')).toEqual({ consent: undefined, objected: true, restricted: false, erased: false });
      expect(await s.facts('u1', 'analytics')).toBe(NO_SUBJECT_FACTS);
      expect(await s.facts('u2', 'anything')).toEqual({ consent: undefined, objected: false, restricted: true, erased: false });
      await s.setObjection('u1', 'diagnostics', false);
      await s.setRestriction('u2', false);
      expect(await s.facts('u1', 'diagnostics')).toBe(NO_SUBJECT_FACTS);
      expect(await s.facts('u2', 'anything')).toBe(NO_SUBJECT_FACTS);
    });

    it('treats prototype-looking keys as plain data', async () => {
      const s = await make();
      await s.setConsent(rec({ subject: '__proto__', purpose: 'constructor' }));
      expect((await s.facts('__proto__', 'constructor')).consent?.subject).toBe('__proto__');
      expect(await s.facts('toString', 'constructor')).toBe(NO_SUBJECT_FACTS);
    });

    it.each([
      ['an unknown state', { state: 'maybe' }, 'state'],
      ['an unknown type', { type: 'tacit' }, 'type'],
      ['an unknown source', { source: 'cookie' }, 'source'],
      ['an empty subject', { subject: '' }, 'subject'],
      ['a date without a time', { at: '2026-06-01' }, 'at'],
      ['an impossible expiry', { expiresAt: '2026-13-45T00:00:00Z' }, 'expiresAt'],
    ])('refuses a record with %s', async (_n, over, field) => {
      const s = await make();
      await expect(Promise.resolve().then(() => s.setConsent(rec(over as Partial<ConsentRecord>)))).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_BAD_REQUEST', details: { field } });
      expect(await s.history('u1')).toEqual([]);
    });

    if (options.makePair !== undefined) {
      const makePair = options.makePair;
      it('a write resolved on one instance governs the next answer of the other', async () => {
        const [a, b] = await makePair();
        await a.setConsent(rec({ state: 'given' }));
        expect((await b.facts('u1', 'marketing.email')).consent?.state).toBe('given');
        await b.setConsent(rec({ state: 'withdrawn' }));
        expect((await a.facts('u1', 'marketing.email')).consent?.state).toBe('withdrawn');
        await a.setObjection('u1', 'diagnostics', true);
        expect((await b.facts('u1', 'diagnostics')).objected).toBe(true);
        await b.setRestriction('u1', true);
        expect((await a.facts('u1', 'analytics')).restricted).toBe(true);
        await a.setErased!('u1', true);
        expect((await b.facts('u1', 'analytics')).erased).toBe(true);
        expect(await a.history('u1')).toEqual(await b.history('u1'));
      });
    }
  });
}
