import { createPostgresAnchor } from './anchor';
import type { AnchoredHead } from '@purposekit/core';
import { migrate } from './migrate';
import { describePg, dropSchemas, schemaName, testPool } from './__tests__/pg';
import { KEYS, access, caught } from './__tests__/fixtures';
import { createPostgresAuditSink } from './audit-sink';
import { verifyPostgresTrail } from './trail';

jest.setTimeout(30_000);
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

describePg('the sink publishes its heads to anchors', () => {
  it('each committed checkpoint head reaches the anchor; a consistent rollback that verify alone accepts is caught against it', async () => {
    const trail = schemaName('anchored');
    const elsewhere = schemaName('anchorstore');
    await migrate({ pool, schema: trail });
    await migrate({ pool, schema: elsewhere });
    try {
      const anchor = await createPostgresAnchor({ pool, schema: elsewhere });
      const s = await createPostgresAuditSink({ pool, schema: trail, stream: 'w', signingKey: KEYS.signingPrivateKeyPem, checkpointEvery: 2, anchors: [anchor] });
      for (let i = 0; i < 4; i++) await s.append(access(`r${i}`));
      await s.close();
      const heads: AnchoredHead[] = [];
      for await (const h of anchor.heads()) heads.push(h);
      expect(heads.map((h) => `${h.stream}:${h.seq}`)).toEqual(['w:3', 'w:6']);
      const keys = [KEYS.signingPublicKeyPem];
      expect((await verifyPostgresTrail({ pool, schema: trail, publicKeys: keys, anchors: [anchor] })).ok).toBe(true);

      // Roll the stream back to its first checkpoint, head included: consistent on its own.
      await pool.query(`ALTER TABLE "${trail}".audit_records DISABLE TRIGGER USER`);
      await pool.query(`DELETE FROM "${trail}".audit_records WHERE stream = 'w' AND seq > 3`);
      await pool.query(`UPDATE "${trail}".audit_streams SET head_seq = 3, head_hash = r.hash, head_checkpoint = r.record FROM (SELECT record, (record::json)->>'hash' AS hash FROM "${trail}".audit_records WHERE stream = 'w' AND seq = 3) r WHERE stream = 'w'`);
      expect((await verifyPostgresTrail({ pool, schema: trail, publicKeys: keys })).ok).toBe(true);
      const anchored = await verifyPostgresTrail({ pool, schema: trail, publicKeys: keys, anchors: [anchor] });
      expect(anchored.ok).toBe(false);
      expect(anchored.problem?.seq).toBe(6);
      expect(['rolled-back', 'truncated']).toContain(anchored.problem?.kind);
      await anchor.close();
    } finally {
      await dropSchemas(pool, [trail, elsewhere]);
    }
  });
});
