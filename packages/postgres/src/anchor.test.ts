import { createPostgresAnchor } from './anchor';
import type { AnchoredHead } from '@purposekit/core';
import { migrate } from './migrate';
import { describePg, dropSchemas, schemaName, testPool } from './__tests__/pg';
import { caught } from './__tests__/fixtures';

const pool = testPool(3);
const schema = schemaName('anchor');
afterAll(async () => {
  await dropSchemas(pool, [schema]);
  await pool.end();
});

const head = (stream: string, seq: number): AnchoredHead => ({ stream, seq, hash: 'ab'.repeat(32), ts: '2026-06-01T10:00:00.000Z', keyId: 'k1', sig: 'A'.repeat(86) });

describePg('createPostgresAnchor', () => {
  it('appends heads, lists them oldest first (all, or one stream), and the table refuses UPDATE and DELETE', async () => {
    await migrate({ pool, schema });
    const a = await createPostgresAnchor({ pool, schema });
    expect(a.name).toBe(`postgres:${schema}`);
    await a.publish(head('w1', 10));
    await a.publish(head('w2', 5));
    await a.publish(head('w1', 20));
    const all: AnchoredHead[] = [];
    for await (const h of a.heads()) all.push(h);
    expect(all.map((h) => `${h.stream}:${h.seq}`)).toEqual(['w1:10', 'w2:5', 'w1:20']);
    expect(all[0]).toEqual(head('w1', 10));
    const w1: number[] = [];
    for await (const h of a.heads('w1')) w1.push(h.seq);
    expect(w1).toEqual([10, 20]);
    await expect(pool.query(`UPDATE "${schema}".audit_anchors SET seq = 1`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`DELETE FROM "${schema}".audit_anchors`)).rejects.toThrow(/append-only/);
    expect((await caught(a.publish({ ...head('w1', 30), hash: 'nope' }))).code).toBe('PURPOSEKIT_ERR_INVALID_OPTION');
    await a.close();
  });
});
