import { ArraySink } from '../__tests__/array-sink';
import { definePolicy } from '../policy/define-policy';
import type { PolicyInput } from '../policy/types';
import { createPurposekit } from '../purposekit';
import { retentionDue } from './due';
import type { RetentionItem, RetentionStore } from './types';

const subjectKey = { id: 'k1', secret: 's'.repeat(32) };
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

const policyInput: PolicyInput = {
  id: 'ret',
  version: '1',
  jurisdictions: ['EU'],
  purposes: {
    diagnostics: { basis: 'legitimate-interests', data: ['ip-address'], retention: 'P30D' },
    'marketing.email': { basis: 'consent', data: ['email'], retention: { duration: 'P1Y', from: 'withdrawal', onExpiry: 'anonymise' } },
    payment: { basis: 'contract', data: ['payment'], retention: { duration: 'P10Y', from: 'contract-end', holds: ['litigation'] } },
    surveys: { basis: 'consent', data: ['content'], retention: { duration: 'P6M', onExpiry: 'review' } },
    'service.provision': { basis: 'contract', data: ['usage-data'], retention: 'as-long-as-necessary' },
  },
};

/** A store over an in-memory table, the way an app implements the port. */
function table(name: string, purposes: string[], rows: Record<string, RetentionItem[]>) {
  const erased: string[] = [];
  const anonymised: string[] = [];
  const flagged: string[] = [];
  const store: RetentionStore = {
    name,
    purposes,
    list: (purpose) => rows[purpose] ?? [],
    erase: (item) => void erased.push(item.id),
    anonymise: (item) => void anonymised.push(item.id),
    flag: (item) => void flagged.push(item.id),
  };
  return { store, erased, anonymised, flagged };
}

const days = (n: number) => new Date(NOW - n * 86_400_000).toISOString();

function setup(rows: Record<string, RetentionItem[]>) {
  const audit = new ArraySink({ validate: true, now: () => NOW });
  const t = table('main-db', ['diagnostics', 'marketing.email', 'payment', 'surveys', 'service.provision'], rows);
  const kit = createPurposekit({ policy: definePolicy(policyInput), audit, subjectKey, now: () => NOW, retentionStores: [t.store] });
  return { kit, audit, ...t };
}

describe('kit.retention.sweep', () => {
  it('erases, anonymises or flags what expired, per onExpiry, and records each action first (never the personal values)', async () => {
    const { kit, audit, erased, anonymised, flagged } = setup({
      diagnostics: [
        { id: 'log-1', clockStart: days(31), subject: 'u1' },
        { id: 'log-2', clockStart: days(29), subject: 'u1' },
        { id: 'log-3', clockStart: new Date(NOW - 30 * 86_400_000) }, // exactly 30 days: expired
      ],
      'marketing.email': [
        { id: 'sub-1', clockStart: undefined, subject: 'u2' }, // still subscribed: the clock has not started
        { id: 'sub-2', clockStart: Date.parse('2025-05-31T00:00:00.000Z'), subject: 'u3' },
      ],
      payment: [
        { id: 'pay-1', clockStart: '2015-01-01T00:00:00.000Z', subject: 'u4', holds: ['litigation'] },
        { id: 'pay-2', clockStart: '2015-01-01T00:00:00.000Z', subject: 'u5', holds: ['marketing-review'] }, // a hold the purpose does not list
      ],
      surveys: [{ id: 'answer-1', clockStart: days(200) }],
      'service.provision': [{ id: 'usage-1', clockStart: '2000-01-01T00:00:00.000Z' }],
    });
    const result = await kit.retention.sweep();
    expect(result).toEqual({ at: '2026-06-01T00:00:00.000Z', erased: 3, anonymised: 1, flagged: 1, held: 1, failed: [] });
    expect(erased).toEqual(['log-1', 'log-3', 'pay-2']);
    expect(anonymised).toEqual(['sub-2']);
    expect(flagged).toEqual(['answer-1']);
    const events = audit.events.filter((e) => e.kind === 'retention');
    expect(events.map((e) => [e.action, e.purpose, e.attributes?.['item']])).toEqual([
      ['erase', 'diagnostics', 'log-1'],
      ['erase', 'diagnostics', 'log-3'],
      ['anonymise', 'marketing.email', 'sub-2'],
      ['erase', 'payment', 'pay-2'],
      ['flag', 'surveys', 'answer-1'],
    ]);
    expect(events[0]).toMatchObject({
      kind: 'retention',
      actor: 'retention-sweep',
      subject: kit.pseudonymizeSubject('u1'),
      data: ['ip-address'],
      decision: 'allow',
      reason: 'retention-expired',
      attributes: { item: 'log-1', store: 'main-db', clockStart: days(31), expiredAt: new Date(NOW - 86_400_000).toISOString() },
    });
    expect(JSON.stringify(audit.events)).not.toContain('"u1"');
  });

  it('a sweep at another instant (a fake clock) finds what expired by then', async () => {
    const { kit, erased } = setup({ diagnostics: [{ id: 'log-1', clockStart: days(10) }] });
    expect((await kit.retention.sweep()).erased).toBe(0);
    expect((await kit.retention.sweep({ now: NOW + 20 * 86_400_000 })).erased).toBe(1);
    expect(erased).toEqual(['log-1']);
  });

  it('an eraser that fails is recorded as failed and the sweep goes on', async () => {
    const audit = new ArraySink({ validate: true });
    const store: RetentionStore = {
      name: 'flaky',
      purposes: ['diagnostics'],
      list: async function* () {
        yield { id: 'a', clockStart: days(40) };
        yield { id: 'b', clockStart: days(40) };
      },
      erase: (item) => {
        if (item.id === 'a') throw new Error('disk on fire: alice@example.org');
      },
    };
    const kit = createPurposekit({ policy: definePolicy(policyInput), audit, subjectKey, now: () => NOW, retentionStores: [store] });
    const result = await kit.retention.sweep();
    expect(result).toMatchObject({ erased: 1, failed: [{ store: 'flaky', purpose: 'diagnostics', item: 'a', error: 'app-error' }] });
    expect(audit.events.map((e) => [e.attributes?.['item'], e.decision, e.reason])).toEqual([
      ['a', 'allow', 'retention-expired'],
      ['a', 'deny', 'retention-failed'],
      ['b', 'allow', 'retention-expired'],
    ]);
    expect(JSON.stringify(audit.events)).not.toContain('alice');
  });

  it('nothing is erased unrecorded: an audit outage stops the sweep before the eraser runs', async () => {
    const { kit, audit, erased } = setup({ diagnostics: [{ id: 'log-1', clockStart: days(40) }] });
    audit.failing = true;
    await expect(kit.retention.sweep()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
    expect(erased).toEqual([]);
  });

  it.each([
    ['an email as an item id', { id: 'alice@example.org', clockStart: days(40) }],
    ['a clock start that is not an instant', { id: 'x', clockStart: 'yesterday' }],
  ])('a malformed item (%s) is reported without its values and not acted on', async (_label, item) => {
    const { kit, audit, erased } = setup({ diagnostics: [item as RetentionItem] });
    const result = await kit.retention.sweep();
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.item).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain('alice');
    expect(erased).toEqual([]);
    expect(audit.events).toEqual([]);
  });

  it('kit.retention.due lists what expires within a window, soonest first, with the holds that suspend it', async () => {
    const { kit, audit } = setup({
      diagnostics: [{ id: 'log-1', clockStart: days(25) }, { id: 'log-2', clockStart: days(1) }],
      payment: [{ id: 'pay-1', clockStart: '2016-06-15T00:00:00.000Z', holds: ['litigation'] }],
    });
    expect(await kit.retention.due({ within: 'P14D' })).toEqual([
      { store: 'main-db', purpose: 'diagnostics', item: 'log-1', clockStart: days(25), expiresAt: new Date(NOW + 5 * 86_400_000).toISOString(), onExpiry: 'erase', heldBy: [] },
      { store: 'main-db', purpose: 'payment', item: 'pay-1', clockStart: '2016-06-15T00:00:00.000Z', expiresAt: '2026-06-15T00:00:00.000Z', onExpiry: 'erase', heldBy: ['litigation'] },
    ]);
    expect(audit.events).toEqual([]); // listing acts on nothing
  });
});

describe('retention stores are checked when the engine is created', () => {
  const make = (stores: unknown) => () => createPurposekit({ policy: definePolicy(policyInput), audit: new ArraySink(), subjectKey, retentionStores: stores as RetentionStore[] });
  it.each([
    ['not a list', {}, '"retentionStores" must be an array'],
    ['a bad name', [{ name: 'Main DB', purposes: ['diagnostics'], list: () => [], erase: () => undefined }], '.name must be'],
    ['an unknown purpose, with a hint', [{ name: 'db', purposes: ['diagnostic'], list: () => [], erase: () => undefined }], 'Did you mean "diagnostics"?'],
    ['no eraser where a purpose erases at expiry', [{ name: 'db', purposes: ['diagnostics'], list: () => [] }], 'needs erase(item)'],
    ['no anonymiser where a purpose anonymises', [{ name: 'db', purposes: ['marketing.email'], list: () => [], erase: () => undefined }], 'needs anonymise(item)'],
    ['the same name twice', [{ name: 'db', purposes: ['surveys'], list: () => [] }, { name: 'db', purposes: ['surveys'], list: () => [] }], 'used twice'],
  ])('rejects %s (PURPOSEKIT_ERR_INVALID_OPTION)', (_label, stores, text) => {
    expect(make(stores)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining(text) }));
  });

  it('a store for purposes that never expire by themselves needs no eraser', () => {
    expect(make([{ name: 'db', purposes: ['service.provision'], list: () => [] }])).not.toThrow();
  });
});

describe('retentionDue (the CLI\'s pure function)', () => {
  const policy = definePolicy(policyInput);
  it('ignores unknown purposes, words for durations, unstarted clocks and malformed items', () => {
    const until = NOW;
    expect(
      retentionDue(policy, [
        { store: 's', purpose: 'nope', id: 'a', clockStart: '2000-01-01T00:00:00Z' },
        { store: 's', purpose: 'service.provision', id: 'b', clockStart: '2000-01-01T00:00:00Z' },
        { store: 's', purpose: 'diagnostics', id: 'c', clockStart: undefined },
        { store: 's', purpose: 'diagnostics', id: 'x@y', clockStart: '2000-01-01T00:00:00Z' },
        { store: 's', purpose: 'diagnostics', id: 'd', clockStart: '2026-01-31T00:00:00Z' },
      ], until),
    ).toEqual([{ store: 's', purpose: 'diagnostics', item: 'd', clockStart: '2026-01-31T00:00:00.000Z', expiresAt: '2026-03-02T00:00:00.000Z', onExpiry: 'erase', heldBy: [] }]);
  });
});
