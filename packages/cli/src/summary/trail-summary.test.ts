import { periodOf, summarizeTrail } from './trail-summary';
import type { SummaryRecord } from './trail-summary';

const P = { id: 'p', version: '1' };
const access = (ts: string, purpose: string, decision: 'allow' | 'deny', reason = decision === 'allow' ? 'allowed' : 'consent-missing'): SummaryRecord => ({ kind: 'access', ts, purpose, decision, reason, policy: P });
const rights = (ts: string, requestId: string, status: string, extra: Record<string, string> = {}, subject = 'hmac-sha256:k:' + 'a'.repeat(64)): SummaryRecord => ({
  kind: 'rights',
  ts,
  requestId,
  subject,
  attributes: { right: 'erasure', status, ...extra },
});

describe('periodOf', () => {
  it.each([
    ['2026-03-12T10:04:00Z', 'day', '2026-03-12', '2026-03-12T00:00:00.000Z'],
    ['2026-03-12T10:04:00Z', 'month', '2026-03', '2026-03-01T00:00:00.000Z'],
    // ISO weeks: Monday start; 1 Jan 2027 is a Friday, so it is in 2026's week 53.
    ['2027-01-01T12:00:00Z', 'week', '2026-W53', '2026-12-28T00:00:00.000Z'],
    ['2026-01-01T00:00:00Z', 'week', '2026-W01', '2025-12-29T00:00:00.000Z'],
    ['2026-12-06T23:59:59Z', 'week', '2026-W49', '2026-11-30T00:00:00.000Z'],
  ] as const)('%s by %s is %s', (ts, by, label, start) => {
    expect(periodOf(Date.parse(ts), by)).toEqual({ label, start });
  });
});

describe('summarizeTrail', () => {
  it('counts by purpose, reason and period, skipping checkpoints', async () => {
    const s = await summarizeTrail(
      [
        access('2026-03-01T10:00:00Z', 'analytics', 'allow'),
        access('2026-03-01T11:00:00Z', 'analytics', 'deny', 'gpc-opt-out'),
        access('2026-03-03T09:00:00Z', 'marketing.email', 'deny'),
        access('2026-03-03T09:30:00Z', 'marketing.email', 'deny'),
        { kind: 'checkpoint', ts: '2026-03-03T09:31:00Z' },
        { kind: 'consent', ts: '2026-03-03T09:40:00Z', purpose: 'marketing.email', attributes: { state: 'given' } },
        { kind: 'age-gate', ts: '2026-03-03T09:50:00Z', decision: 'deny', reason: 'refused', attributes: { gate: 'coppa' } },
      ],
      { by: 'day', at: Date.parse('2026-04-01T00:00:00Z') },
    );
    expect(s.records).toBe(6);
    expect(s.decisions).toEqual({ allow: 1, deny: 3 });
    expect(s.byPurpose).toEqual([
      { purpose: 'analytics', allow: 1, deny: 1 },
      { purpose: 'marketing.email', allow: 0, deny: 2 },
    ]);
    expect(s.denialsByReason).toEqual([
      { reason: 'consent-missing', count: 2 },
      { reason: 'gpc-opt-out', count: 1 },
    ]);
    expect(s.byPeriod.map((p) => [p.period, p.total])).toEqual([
      ['2026-03-01', { allow: 1, deny: 1 }],
      ['2026-03-03', { allow: 0, deny: 2 }],
    ]);
    expect(s.consent.byPurpose).toEqual([{ purpose: 'marketing.email', states: { given: 1 } }]);
    expect(s.ageGate).toEqual({ refusals: 1, byGate: [{ gate: 'coppa', count: 1 }], byOutcome: [{ outcome: 'refused', count: 1 }] });
    expect(s.policies).toEqual(['p 1']);
  });

  it('follows a rights request through extension and closing, and marks overdue and late ones', async () => {
    const s = await summarizeTrail(
      [
        rights('2026-01-05T00:00:00Z', 'r1', 'received', { due: '2026-02-05T00:00:00.000Z' }),
        rights('2026-01-20T00:00:00Z', 'r1', 'extended', { due: '2026-04-05T00:00:00.000Z', reason: 'complex' }),
        rights('2026-01-06T00:00:00Z', 'r2', 'received', { due: '2026-02-06T00:00:00.000Z' }),
        rights('2026-02-10T00:00:00Z', 'r2', 'completed'),
        rights('2026-01-07T00:00:00Z', 'r3', 'received', { due: '2026-02-07T00:00:00.000Z' }),
        // A completion recorded for another subject closes nothing.
        rights('2026-01-08T00:00:00Z', 'r3', 'completed', {}, 'hmac-sha256:k:' + 'b'.repeat(64)),
        rights('2026-01-09T00:00:00Z', 'r4', 'received', { due: '2026-02-09T00:00:00.000Z' }),
        rights('2026-01-10T00:00:00Z', 'r4', 'refused', { reason: 'manifestly unfounded' }),
      ],
      { at: Date.parse('2026-03-01T00:00:00Z') },
    );
    expect(s.rights.items.map((r) => [r.requestId, r.status, r.due.slice(0, 10), r.overdue, r.late])).toEqual([
      ['r2', 'completed', '2026-02-06', false, true],
      ['r3', 'open', '2026-02-07', true, false],
      ['r4', 'refused', '2026-02-09', false, false],
      ['r1', 'open', '2026-04-05', false, false],
    ]);
    expect(s.rights).toMatchObject({ requests: 4, open: 2, overdue: 1 });
  });

  it('picks the period from the span when asked for auto', async () => {
    const span = async (to: string) => (await summarizeTrail([access('2026-01-01T00:00:00Z', 'a', 'allow'), access(to, 'a', 'allow')])).by;
    expect(await span('2026-02-15T00:00:00Z')).toBe('day');
    expect(await span('2026-09-01T00:00:00Z')).toBe('week');
    expect(await span('2028-01-01T00:00:00Z')).toBe('month');
  });

  it('keeps a purpose named __proto__ as data', async () => {
    const s = await summarizeTrail([access('2026-01-01T00:00:00Z', '__proto__', 'allow')], { by: 'day' });
    expect(s.byPeriod[0]!.purposes['__proto__']).toEqual({ allow: 1, deny: 0 });
    expect(JSON.parse(JSON.stringify(s)).byPeriod[0].purposes.__proto__).toEqual({ allow: 1, deny: 0 });
  });
});
