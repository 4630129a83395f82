import { listOpenRightsRequests, rightsDueDate } from './due';
import type { RightsTrailRecord } from './due';

describe('rightsDueDate (GDPR Art. 12(3): one month from receipt)', () => {
  it.each([
    ['2026-06-01T10:00:00.000Z', 'P1M', '2026-07-01T10:00:00.000Z'],
    ['2026-01-31T08:00:00.000Z', 'P1M', '2026-02-28T08:00:00.000Z'],
    ['2028-01-31T08:00:00.000Z', 'P1M', '2028-02-29T08:00:00.000Z'],
    ['2026-12-15T00:00:00.000Z', 'P1M', '2027-01-15T00:00:00.000Z'],
    ['2026-06-01T10:00:00.000Z', 'P30D', '2026-07-01T10:00:00.000Z'],
    ['2026-06-01T10:00:00.000Z', 'P3M', '2026-09-01T10:00:00.000Z'],
  ])('%s + %s = %s', (received, period, due) => {
    expect(rightsDueDate(new Date(received), period).toISOString()).toBe(due);
  });

  it('rejects a period that is not an ISO 8601 duration', () => {
    expect(() => rightsDueDate(new Date(), '1 month')).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
  });
});

describe('listOpenRightsRequests', () => {
  const rights = (requestId: string | undefined, right: string, status: string, due: string | undefined, ts: string, subject = 'p1'): RightsTrailRecord => ({
    kind: 'rights',
    ts,
    subject,
    ...(requestId !== undefined ? { requestId } : {}),
    attributes: { right, status, ...(due !== undefined ? { due } : {}) },
  });
  const trail: RightsTrailRecord[] = [
    rights('r1', 'erasure', 'received', '2026-07-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z'),
    { kind: 'access', requestId: 'r1', ts: '2026-06-01T00:00:01.000Z' },
    rights('r2', 'rectification', 'received', '2026-06-20T00:00:00.000Z', '2026-05-20T00:00:00.000Z', 'p2'),
    rights('r3', 'access', 'received', '2026-06-25T00:00:00.000Z', '2026-05-25T00:00:00.000Z'),
    rights('r3', 'access', 'completed', '2026-06-25T00:00:00.000Z', '2026-05-25T00:00:02.000Z'),
    // Same request id, another right: tracked separately.
    rights('r3', 'withdraw-consent', 'received', '2026-06-25T00:00:00.000Z', '2026-05-25T00:00:03.000Z'),
    // No request id: cannot be matched, skipped.
    rights(undefined, 'objection', 'received', '2026-06-02T00:00:00.000Z', '2026-05-02T00:00:00.000Z'),
    // No due date: skipped.
    rights('r5', 'objection', 'received', undefined, '2026-05-02T00:00:00.000Z'),
    { kind: 'checkpoint', ts: '2026-06-01T00:00:05.000Z' },
  ];

  it('lists received-but-not-completed requests, soonest due first, with overdue flags', () => {
    expect(listOpenRightsRequests(trail, new Date('2026-06-22T00:00:00.000Z'))).toEqual([
      { state: 'received', requestId: 'r2', right: 'rectification', subject: 'p2', receivedAt: '2026-05-20T00:00:00.000Z', due: '2026-06-20T00:00:00.000Z', overdue: true },
      { state: 'received', requestId: 'r3', right: 'withdraw-consent', subject: 'p1', receivedAt: '2026-05-25T00:00:03.000Z', due: '2026-06-25T00:00:00.000Z', overdue: false },
      { state: 'received', requestId: 'r1', right: 'erasure', subject: 'p1', receivedAt: '2026-06-01T00:00:00.000Z', due: '2026-07-01T00:00:00.000Z', overdue: false },
    ]);
  });

  it('drops a request once completed, and counts the due instant itself as overdue', () => {
    const closed = [...trail, rights('r2', 'rectification', 'completed', undefined, '2026-06-21T00:00:00.000Z', 'p2')];
    const open = listOpenRightsRequests(closed, Date.parse('2026-06-25T00:00:00.000Z'));
    expect(open.map((o) => [o.requestId, o.right, o.overdue])).toEqual([
      ['r3', 'withdraw-consent', true],
      ['r1', 'erasure', false],
    ]);
  });

  it('closes a request refused or partly completed; an extension moves its due date and shows its state', () => {
    const more = [
      ...trail,
      rights('r2', 'rectification', 'refused', undefined, '2026-06-21T00:00:00.000Z', 'p2'),
      rights('r3', 'withdraw-consent', 'partly-completed', undefined, '2026-06-21T00:00:00.000Z', 'p1'),
      { kind: 'rights', requestId: 'r1', subject: 'p1', ts: '2026-06-10T00:00:00.000Z', attributes: { right: 'erasure', status: 'extended', due: '2026-09-01T00:00:00.000Z', reason: 'complex' } },
    ];
    expect(listOpenRightsRequests(more, Date.parse('2026-07-15T00:00:00.000Z'))).toEqual([
      { state: 'extended', requestId: 'r1', right: 'erasure', subject: 'p1', receivedAt: '2026-06-01T00:00:00.000Z', due: '2026-09-01T00:00:00.000Z', extensionReason: 'complex', overdue: false },
    ]);
  });

  it('ignores an extension of a request it never saw received', () => {
    expect(listOpenRightsRequests([{ kind: 'rights', requestId: 'rx', attributes: { right: 'access', status: 'extended', due: '2026-09-01T00:00:00.000Z' } }], 0)).toEqual([]);
  });

  it('is empty for an empty trail', () => {
    expect(listOpenRightsRequests([], 0)).toEqual([]);
  });
});

describe('listOpenRightsRequests: a completion closes only its own subject\'s request', () => {
  it('a completed record naming another subject leaves the request open', () => {
    const received = { kind: 'rights', requestId: 'r1', subject: 'hmac-sha256:k:aa', ts: '2026-01-01T00:00:00.000Z', attributes: { right: 'erasure', status: 'received', due: '2026-02-01T00:00:00.000Z' } };
    const wrong = { kind: 'rights', requestId: 'r1', subject: 'hmac-sha256:k:bb', attributes: { right: 'erasure', status: 'completed' } };
    const right = { ...wrong, subject: 'hmac-sha256:k:aa' };
    expect(listOpenRightsRequests([received, wrong], Date.parse('2026-01-15T00:00:00Z')).map((o) => o.requestId)).toEqual(['r1']);
    expect(listOpenRightsRequests([received, wrong, right], Date.parse('2026-01-15T00:00:00Z'))).toEqual([]);
  });
});
