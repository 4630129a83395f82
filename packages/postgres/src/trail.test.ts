import { createPrivateKey, sign } from 'node:crypto';
import { checkpointSigningInput, generateAuditKeys, hashAuditRecord, sealAuditRecord } from '@purposekit/core';
import { createPostgresAuditSink } from './audit-sink';
import { migrate } from './migrate';
import { readPostgresTrailRecords, verifyPostgresTrail } from './trail';
import { describePg, dropSchemas, schemaName, testPool } from './__tests__/pg';
import { KEYS, access } from './__tests__/fixtures';

jest.setTimeout(30_000);
const pool = testPool(6);
const made: string[] = [];
afterAll(async () => {
  await dropSchemas(pool, made);
  await pool.end();
});

/** A schema with two streams, a and b, of 10 events each, a checkpoint every 4 records. */
async function trail(tag: string): Promise<string> {
  const schema = schemaName(tag);
  made.push(schema);
  await migrate({ pool, schema });
  for (const stream of ['a', 'b']) {
    const s = await createPostgresAuditSink({ pool, schema, stream, signingKey: KEYS.signingPrivateKeyPem, checkpointEvery: 4 });
    for (let i = 1; i <= 10; i++) await s.append(access(`${stream}${i}`, `user-${i % 3}`));
    await s.close();
  }
  return schema;
}

const verify = (schema: string) => verifyPostgresTrail({ pool, schema, publicKeys: [KEYS.signingPublicKeyPem] });

async function tamper(schema: string, sql: string): Promise<void> {
  await pool.query(`ALTER TABLE "${schema}".audit_records DISABLE TRIGGER USER`);
  await pool.query(sql.replaceAll('$S', `"${schema}"`));
}

describePg('verifyPostgresTrail', () => {
  it('an untouched trail verifies: every stream, every signature', async () => {
    const schema = await trail('ok');
    const r = await verify(schema);
    expect(r.problem).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.streams.map((s) => [s.stream, s.result.records, s.result.checkpoints])).toEqual([
      ['a', 13, 3],
      ['b', 13, 3],
    ]);
    expect(r.records).toBe(26);
    expect((await verifyPostgresTrail({ pool, schema, stream: 'b', publicKeys: [KEYS.signingPublicKeyPem] })).streams.map((s) => s.stream)).toEqual(['b']);
  });

  it('the trigger refuses UPDATE, DELETE and TRUNCATE of trail rows', async () => {
    const schema = await trail('trigger');
    await expect(pool.query(`UPDATE "${schema}".audit_records SET kind = 'x' WHERE seq = 1`)).rejects.toThrow(/append-only \(UPDATE refused\)/);
    await expect(pool.query(`DELETE FROM "${schema}".audit_records WHERE seq = 1`)).rejects.toThrow(/append-only \(DELETE refused\)/);
    await expect(pool.query(`TRUNCATE "${schema}".audit_records`)).rejects.toThrow(/append-only/);
    expect((await verify(schema)).ok).toBe(true);
  });

  it.each([
    ['an UPDATE of a record (trigger dropped)', `UPDATE $S.audit_records SET record = replace(record, '"decision":"allow"', '"decision":"deny"') WHERE stream = 'a' AND seq = 3`, 'a', 'edited', 3],
    ['a DELETE of a row (trigger dropped)', `DELETE FROM $S.audit_records WHERE stream = 'a' AND seq = 6`, 'a', 'missing', 6],
    [
      'a forged INSERT (a well-formed record with its own hash)',
      `INSERT INTO $S.audit_records SELECT stream, seq, ts + interval '1 ms', kind, subject, replace(record, '"requestId":"b6"', '"requestId":"forged"') FROM $S.audit_records WHERE stream = 'b' AND seq = 7`,
      'b',
      'edited',
      7,
    ],
    ['two swapped seqs', `UPDATE $S.audit_records SET seq = seq + 1000000 WHERE stream = 'b' AND seq IN (2, 3); UPDATE $S.audit_records SET seq = CASE seq WHEN 1000002 THEN 3 ELSE 2 END WHERE stream = 'b' AND seq IN (1000002, 1000003)`, 'b', 'reordered', 3],
    ['a row moved to another stream', `UPDATE $S.audit_records SET stream = 'b', seq = 14 WHERE stream = 'a' AND seq = 5`, 'a', 'missing', 5],
    ['a subject column changed (hiding rows from the subject report)', `UPDATE $S.audit_records SET subject = NULL WHERE stream = 'a' AND seq = 2`, 'a', 'edited', 2],
    ['rows cut off before the head checkpoint', `DELETE FROM $S.audit_records WHERE stream = 'b' AND seq >= 11`, 'b', 'truncated', 13],
  ])('%s is detected and named', async (_name, sql, stream, kind, seq) => {
    const schema = await trail('tamper');
    await tamper(schema, sql);
    const r = await verify(schema);
    expect(r.ok).toBe(false);
    expect(r.problemStream).toBe(stream);
    expect(r.problem).toMatchObject({ kind, seq });
    expect(r.problem!.file.startsWith(`stream ${stream}`)).toBe(true);
    expect(r.problem!.message.length).toBeGreaterThan(20);
  });

  it('a forged INSERT re-hashed to fit is named as an insertion', async () => {
    const schema = await trail('forge');
    // A record copied from seq 7 with a new ts and re-computed hash is still out of the chain.
    const row = await pool.query<{ record: string; ts: Date }>(`SELECT record, ts FROM "${schema}".audit_records WHERE stream = 'a' AND seq = 7`);
    const r0 = JSON.parse(row.rows[0]!.record) as Record<string, unknown>;
    const forged: Record<string, unknown> = { ...r0, requestId: 'forged', ts: '2026-01-01T00:00:00.000Z' };
    delete forged['hash'];
    forged['hash'] = hashAuditRecord(forged);
    await tamper(schema, `INSERT INTO $S.audit_records VALUES ('a', 7, '2026-01-01T00:00:00.000Z', 'access', ${forged['subject'] === undefined ? 'NULL' : `'${String(forged['subject'])}'`}, '${JSON.stringify(forged)}')`);
    const r = await verify(schema);
    expect(r.problem).toMatchObject({ kind: 'inserted', seq: 7, file: 'stream a' });
  });

  it('a stream moved under a name no writer registered is named', async () => {
    const schema = await trail('ghost');
    await tamper(schema, `INSERT INTO $S.audit_records SELECT 'ghost', seq, ts, kind, subject, record FROM $S.audit_records WHERE stream = 'a'`);
    const r = await verify(schema);
    expect(r.ok).toBe(false);
    expect(r.problemStream).toBe('ghost');
    expect(r.problem).toMatchObject({ kind: 'inserted' });
  });

  it('a wrong public key is a bad signature; an empty schema is not a verified trail', async () => {
    const schema = await trail('key');
    const r = await verifyPostgresTrail({ pool, schema, publicKeys: [generateAuditKeys().signingPublicKeyPem] });
    expect(r.problem).toMatchObject({ kind: 'bad-signature' });
    const empty = schemaName('empty');
    made.push(empty);
    await migrate({ pool, schema: empty });
    expect((await verifyPostgresTrail({ pool, schema: empty })).problem).toMatchObject({ kind: 'missing' });
  });
});

describePg('partitions and archived months', () => {
  it('one chain runs across monthly partitions; after a month is detached (archived) verify names it missing, and --partial verifies the rest', async () => {
    const schema = schemaName('months');
    made.push(schema);
    await migrate({ pool, schema });
    // Two months ago and last month, written as a writer of that time would have (seq 1–6).
    const now = new Date();
    const month = (back: number): string => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 10, 12)).toISOString();
    const key = createPrivateKey(KEYS.signingPrivateKeyPem);
    const rows: Array<[number, string, string, string | null, string]> = [];
    let prev = '0'.repeat(64);
    let seq = 0;
    for (const back of [2, 1]) {
      const ts = month(back);
      await pool.query(`SELECT "${schema}".audit_ensure_partitions($1)`, [ts]);
      for (let i = 0; i < 2; i++) {
        const r = sealAuditRecord(access(`m${back}-${i}`), { seq: ++seq, ts, prev });
        rows.push([seq, ts, 'access', null, JSON.stringify(r)]);
        prev = r.hash;
      }
      const unsigned = { alg: 'Ed25519', keyId: KEYS.signingKeyId, kind: 'checkpoint', prev, seq: ++seq, ts, v: 1 };
      const sig = sign(null, checkpointSigningInput(unsigned), key).toString('base64url');
      const hash = hashAuditRecord({ ...unsigned, sig });
      rows.push([seq, ts, 'checkpoint', null, JSON.stringify({ alg: 'Ed25519', hash, keyId: KEYS.signingKeyId, kind: 'checkpoint', prev, seq, sig, ts, v: 1 })]);
      prev = hash;
    }
    for (const r of rows) await pool.query(`INSERT INTO "${schema}".audit_records VALUES ('w', $1, $2, $3, $4, $5)`, r);
    await pool.query(`INSERT INTO "${schema}".audit_streams (stream, head_seq, head_hash, head_checkpoint) VALUES ('w', 6, $1, $2)`, [prev, rows[5]![4]]);
    // This month: a writer continues the same stream.
    const s = await createPostgresAuditSink({ pool, schema, stream: 'w', signingKey: KEYS.signingPrivateKeyPem });
    await s.append(access('now-1'));
    await s.close();
    const parts = await pool.query<{ p: string; n: string }>(`SELECT tableoid::regclass::text AS p, count(*) AS n FROM "${schema}".audit_records GROUP BY 1 ORDER BY 1`);
    expect(parts.rows.length).toBe(3); // three monthly partitions
    expect((await verify(schema)).ok).toBe(true);

    // Archive the oldest month: export, then detach.
    const oldest = parts.rows[0]!.p;
    await pool.query(`ALTER TABLE "${schema}".audit_records DETACH PARTITION ${oldest}`);
    const cut = await verify(schema);
    expect(cut.problem).toMatchObject({ kind: 'missing', seq: 1 });
    const partial = await verifyPostgresTrail({ pool, schema, publicKeys: [KEYS.signingPublicKeyPem], partial: true });
    expect(partial.problem).toBeUndefined();
    expect(partial.streams[0]!.result.firstSeq).toBe(4);
  });
});

describePg('readPostgresTrailRecords', () => {
  it('reads every stream in time order (or one stream), without checkpoints unless asked, reporting progress against a count', async () => {
    const schema = await trail('read');
    const progress: Array<[number, number]> = [];
    const all: Array<{ kind: string; requestId?: string; ts: string }> = [];
    for await (const r of readPostgresTrailRecords({ pool, schema, onProgress: (d, t) => progress.push([d, t]) })) all.push(r);
    expect(all).toHaveLength(20);
    expect(all.every((r) => r.kind !== 'checkpoint')).toBe(true);
    expect(all.map((r) => r.requestId).sort()).toEqual(['a1', 'a10', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'b1', 'b10', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9']);
    expect(all.map((r) => r.ts)).toEqual([...all.map((r) => r.ts)].sort());
    // the count includes the checkpoint rows (every row is read); the last report is the rows read
    const rows = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".audit_records WHERE kind <> 'checkpoint'`)).rows[0]!.n);
    expect(progress[progress.length - 1]![0]).toBe(rows);
    const b: string[] = [];
    for await (const r of readPostgresTrailRecords({ pool, schema, stream: 'b', checkpoints: true })) b.push(r.kind === 'checkpoint' ? 'cp' : r.requestId!);
    expect(b.filter((x) => x === 'cp').length).toBeGreaterThanOrEqual(2);
    expect(b.filter((x) => x !== 'cp')).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9', 'b10']);
  });

  it('a reader that stops early gives its session back (the pool is not drained)', async () => {
    const schema = await trail('early');
    const small = testPool(1);
    try {
      for (let i = 0; i < 3; i++) {
        for await (const r of readPostgresTrailRecords({ pool: small, schema })) {
          expect(r.kind).toBe('access');
          break;
        }
      }
      // with one connection in the pool, a leaked session would make this wait forever
      expect((await small.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
    } finally {
      await small.end();
    }
  });
});
