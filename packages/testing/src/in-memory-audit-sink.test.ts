import { AUDIT_GENESIS_HASH, createPurposekit, hashAuditRecord, isPurposekitError, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from './in-memory-audit-sink';

const subjectKey = { id: 'test', secret: Buffer.alloc(32, 1) };
const event = (n: number) => ({ kind: 'access' as const, actor: 'svc', data: ['email'], action: 'read', policy: { id: 'p', version: '1' }, requestId: `r${n}` });

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (error) {
    return isPurposekitError(error) ? error.code : 'not a PurposekitError';
  }
}

describe('InMemoryAuditSink', () => {
  it('keeps chained records with sequence numbers and timestamps', async () => {
    const sink = new InMemoryAuditSink({ now: () => Date.UTC(2026, 0, 1) });
    await sink.append(event(1));
    await sink.append(event(2));
    const [a, b] = sink.getRecords();
    expect(a).toMatchObject({ v: 1, seq: 1, ts: '2026-01-01T00:00:00.000Z', prev: AUDIT_GENESIS_HASH, requestId: 'r1' });
    expect(b).toMatchObject({ seq: 2, prev: a!.hash, requestId: 'r2' });
    expect(hashAuditRecord(b as unknown as Record<string, unknown>)).toBe(b!.hash);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('refuses what the file sink refuses, and keeps nothing of it', async () => {
    const sink = new InMemoryAuditSink();
    expect(await codeOf(sink.append({ ...event(1), subject: 'user-42' }))).toBe('PURPOSEKIT_ERR_AUDIT_REJECTED');
    expect(await codeOf(sink.append({ ...event(1), actor: '203.0.113.5' }))).toBe('PURPOSEKIT_ERR_AUDIT_REJECTED');
    expect(sink.getRecords()).toEqual([]);
  });

  it('failAppends(): every append is refused with PURPOSEKIT_ERR_AUDIT_UNAVAILABLE until recover()', async () => {
    const sink = new InMemoryAuditSink();
    await sink.append(event(1));
    sink.failAppends();
    expect([await codeOf(sink.append(event(2))), await codeOf(sink.append(event(3))), await codeOf(sink.flush())]).toEqual([
      'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE',
      'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE',
      'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE',
    ]);
    sink.recover();
    await sink.append(event(4));
    expect(sink.getRecords().map((r) => [r.seq, r.requestId])).toEqual([
      [1, 'r1'],
      [2, 'r4'],
    ]);
  });

  it('failAppends({ times }): fails that many appends, then works', async () => {
    const sink = new InMemoryAuditSink();
    sink.failAppends({ times: 2 });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push(await codeOf(sink.append(event(i))));
    expect(codes).toEqual(['PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', undefined]);
    expect(() => sink.failAppends({ times: 0 })).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
  });

  it('reset() forgets records, restarts the chain and reopens; close() refuses later appends', async () => {
    const sink = new InMemoryAuditSink();
    await sink.append(event(1));
    await sink.close();
    expect(await codeOf(sink.append(event(2)))).toBe('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE');
    expect(sink.getRecords()).toHaveLength(1);
    sink.failAppends();
    sink.reset();
    await sink.append(event(3));
    expect(sink.getRecords().map((r) => [r.seq, r.prev])).toEqual([[1, AUDIT_GENESIS_HASH]]);
  });

  it('refuses unknown options', () => {
    expect(() => new InMemoryAuditSink({ clock: Date.now } as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
  });

  it('in an engine: decisions are recorded, and a failing sink makes access fail closed with 503', async () => {
    const audit = new InMemoryAuditSink();
    const privacy = createPurposekit({ policy: openinfra, audit, subjectKey });
    const access = () => privacy.runAs({ purpose: 'service.registration', actor: 'job:import' }, () => privacy.access({ subject: 'user-1', data: ['email'], action: 'read' }));
    await access();
    expect(audit.getRecords()).toEqual([expect.objectContaining({ kind: 'access', decision: 'allow', purpose: 'service.registration', subject: privacy.pseudonymizeSubject('user-1') })]);
    audit.failAppends();
    const refused = await access().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', status: 503 });
    expect(audit.getRecords()).toHaveLength(1);
  });
});
