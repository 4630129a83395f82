/**
 * Done means (issue 11), against the real PostgreSQL: many writer processes at once, and
 * writers SIGKILLed mid-batch again and again. Every acknowledged record must be in the
 * trail exactly once, and every stream must verify.
 */
import { generateAuditKeys } from '@purposekit/core';
import { migrate } from '../src/migrate';
import { verifyPostgresTrail } from '../src/trail';
import { describePg, dropSchemas, schemaName, testPool } from '../src/__tests__/pg';
import { startWriter } from './writers';

jest.setTimeout(120_000);
const keys = generateAuditKeys();
const pool = testPool(4);
const made: string[] = [];
afterAll(async () => {
  await dropSchemas(pool, made);
  await pool.end();
});

async function freshSchema(tag: string): Promise<string> {
  const schema = schemaName(tag);
  made.push(schema);
  await migrate({ pool, schema });
  return schema;
}

/** requestId → number of rows carrying it, for one schema (an oracle: plain SQL over the stored text). */
async function stored(schema: string): Promise<Map<string, number>> {
  const r = await pool.query<{ id: string; n: string }>(`SELECT (record::json)->>'requestId' AS id, count(*) AS n FROM "${schema}".audit_records WHERE kind <> 'checkpoint' GROUP BY 1`);
  return new Map(r.rows.map((x) => [x.id, Number(x.n)]));
}

describePg('writer processes', () => {
  it('4 writer processes × 5,000 records at once: every acknowledged record present exactly once; every stream verifies', async () => {
    const schema = await freshSchema('four');
    const writers = ['w1', 'w2', 'w3', 'w4'].map((s) => startWriter(schema, s, 5000, 64, keys.signingPrivateKeyPem));
    const codes = await Promise.all(writers.map((w) => w.exited));
    expect(codes).toEqual([0, 0, 0, 0]);
    const rows = await stored(schema);
    let acked = 0;
    for (const w of writers) {
      expect(w.refused).toEqual([]);
      for (const id of w.acked) expect(rows.get(id)).toBe(1);
      acked += w.acked.size;
    }
    expect(acked).toBe(20_000);
    expect([...rows.values()].every((n) => n === 1)).toBe(true);
    const v = await verifyPostgresTrail({ pool, schema, publicKeys: [keys.signingPublicKeyPem] });
    expect(v.problem).toBeUndefined();
    expect(v.streams.map((s) => s.stream)).toEqual(['w1', 'w2', 'w3', 'w4']);
    expect(v.streams.every((s) => s.result.ok && s.result.checkpoints >= 10)).toBe(true);
  });

  it('writers SIGKILLed mid-batch 52 times (four streams): nothing acknowledged is lost, each stream is taken over cleanly and verifies', async () => {
    const schema = await freshSchema('kill');
    const acked = new Set<string>();
    let kills = 0;
    const lane = async (stream: string, rounds: number): Promise<void> => {
      for (let i = 0; i < rounds; i++) {
        const w = startWriter(schema, stream, 1_000_000, 32, keys.signingPrivateKeyPem, 'forever');
        // let it write a varying amount, then kill it while appends are in flight
        await w.acks(1 + ((i * 37) % 150));
        w.child.kill('SIGKILL');
        expect(await w.exited).toBe('SIGKILL');
        for (const id of w.acked) acked.add(id);
        kills++;
      }
      // a last writer takes over once more and closes cleanly
      const last = startWriter(schema, stream, 10, 4, keys.signingPrivateKeyPem);
      expect(await last.exited).toBe(0);
      for (const id of last.acked) acked.add(id);
    };
    await Promise.all([lane('k1', 13), lane('k2', 13), lane('k3', 13), lane('k4', 13)]);
    expect(kills).toBeGreaterThanOrEqual(50);
    const rows = await stored(schema);
    const lost = [...acked].filter((id) => rows.get(id) !== 1);
    expect(lost).toEqual([]);
    expect([...rows.values()].every((n) => n === 1)).toBe(true);
    const v = await verifyPostgresTrail({ pool, schema, publicKeys: [keys.signingPublicKeyPem] });
    expect(v.problem).toBeUndefined();
    expect(v.ok).toBe(true);
  });
});
