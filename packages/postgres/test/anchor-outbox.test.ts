/**
 * The PostgreSQL sink's anchor outbox (docs/audit-format.md §12, §14), against the real
 * server: a failed publication is retried, never superseded; a writer SIGKILLed between
 * its checkpoints' COMMIT and their publication loses no head: whoever claims the stream
 * next publishes every committed checkpoint the anchor did not take.
 *
 * The oracle is the stream's checkpoint rows read with plain SQL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAuditKeys, isPurposekitError } from '@purposekit/core';
import type { AnchoredHead, AuditAnchorErrorInfo, AuditEventInput } from '@purposekit/core';
import { createPostgresAuditSink } from '../src/audit-sink';
import type { PostgresAuditSink, PostgresAuditSinkOptions } from '../src/audit-sink';
import { migrate } from '../src/migrate';
import { verifyPostgresTrail } from '../src/trail';
import { describePg, dropSchemas, testPool } from '../src/__tests__/pg';
import { randomBytes } from 'node:crypto';
import { startWriter } from './writers';

jest.setTimeout(120_000);
const keys = generateAuditKeys();
const pool = testPool(4);
const made: string[] = [];
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pk-pg2-outbox-'));
});
afterAll(async () => {
  await dropSchemas(pool, made);
  await pool.end();
  rmSync(work, { recursive: true, force: true });
});

async function freshSchema(tag: string): Promise<string> {
  const schema = `pk_pg2_${tag}_${randomBytes(4).toString('hex')}`;
  made.push(schema);
  await migrate({ pool, schema });
  return schema;
}

function ev(n: number): AuditEventInput {
  return { kind: 'access', actor: 'svc:outbox', data: ['email'], action: 'read', purpose: 'service.provision', basis: 'contract', policy: { id: 'p', version: '1' }, requestId: `r${n}`, decision: 'allow', reason: 'allowed' };
}

/** The stream's committed checkpoints: seq → hash (the oracle). */
async function checkpoints(schema: string, stream: string): Promise<Map<number, string>> {
  const r = await pool.query<{ seq: string; hash: string }>(`SELECT seq, (record::json)->>'hash' AS hash FROM "${schema}".audit_records WHERE stream = $1 AND kind = 'checkpoint' ORDER BY seq`, [stream]);
  return new Map(r.rows.map((x) => [Number(x.seq), x.hash]));
}

/** Polls `check` until it holds or the deadline passes (no sleeps: bounded polling). */
async function until(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached before the deadline');
    await new Promise((r) => setImmediate(r));
  }
}

/** Claims a stream, retrying while a killed predecessor's session is still ending. */
async function claim(options: PostgresAuditSinkOptions): Promise<PostgresAuditSink> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await createPostgresAuditSink(options);
    } catch (error) {
      if (!isPurposekitError(error) || error.code !== 'PURPOSEKIT_ERR_AUDIT_STREAM_HELD' || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describePg('PostgreSQL sink anchor outbox', () => {
  it('a failed publication is retried with backoff and never superseded: the anchor gets every head, in order', async () => {
    const schema = await freshSchema('retry');
    const published: AnchoredHead[] = [];
    const errors: AuditAnchorErrorInfo[] = [];
    let calls = 0;
    const sink = await createPostgresAuditSink({
      pool,
      schema,
      stream: 'w1',
      signingKey: keys.signingPrivateKeyPem,
      checkpointEvery: 5,
      anchorRetryMs: 10,
      onAnchorError: (_e, info) => errors.push(info),
      anchors: [
        {
          name: 'flaky',
          publish: async (head) => {
            if (++calls <= 3) throw new Error('anchor down');
            published.push(head);
          },
        },
      ],
    });
    try {
      for (let i = 0; i < 20; i++) await sink.append(ev(i));
      const expected = await checkpoints(schema, 'w1');
      expect([...expected.keys()]).toEqual([6, 12, 18, 24]);
      await until(() => published.length >= expected.size);
      expect(published.map((h) => [h.seq, h.hash])).toEqual([...expected.entries()]);
      expect(published[0]!.prev).toMatch(/^[0-9a-f]{64}$/);
      // the first head failed three times and was retried each time (1×, 2×, 4× the first delay), not skipped
      expect(errors.map((e) => [e.anchor, e.head.seq, e.attempt, e.retryInMs])).toEqual([
        ['flaky', 6, 1, 10],
        ['flaky', 6, 2, 20],
        ['flaky', 6, 3, 40],
      ]);
      await until(() => sink.pendingAnchorHeads().length === 0); // the cursor is saved right after the last publication
    } finally {
      await sink.close();
    }
    const cursor = await pool.query<{ published_seq: string }>(`SELECT published_seq::text FROM "${schema}".audit_anchor_cursors WHERE stream = 'w1' AND anchor = 'flaky'`);
    expect(Number(cursor.rows[0]!.published_seq)).toBe(24);

    // a restart publishes nothing already taken (the cursor held), only new heads
    const again: AnchoredHead[] = [];
    const sink2 = await createPostgresAuditSink({ pool, schema, stream: 'w1', signingKey: keys.signingPrivateKeyPem, checkpointEvery: 5, anchors: [{ name: 'flaky', publish: async (h) => void again.push(h) }] });
    for (let i = 20; i < 25; i++) await sink2.append(ev(i));
    await sink2.close();
    expect(again.map((h) => h.seq)).toEqual([30]);
  });

  it('two anchors with one name are refused (the outbox tells anchors apart by name)', async () => {
    const schema = await freshSchema('names');
    const a = { name: 'same', publish: async () => undefined };
    await expect(createPostgresAuditSink({ pool, schema, stream: 'w1', signingKey: keys.signingPrivateKeyPem, anchors: [a, { ...a }] })).rejects.toMatchObject({
      code: 'PURPOSEKIT_ERR_INVALID_OPTION',
      message: expect.stringMatching(/two anchors are named "same"/),
    });
  });

  it('writers SIGKILLed between checkpoint and publication, 6 times: the next claimant publishes every committed head the anchor did not take', async () => {
    const schema = await freshSchema('kill');
    const file = join(work, 'shipper.jsonl');
    // each writer's anchor takes two heads, then hangs: the heads after them are committed but unpublished when it dies
    const env = { PK_TEST_ANCHOR_FILE: file, PK_TEST_ANCHOR_TAKE: '2', PK_TEST_CHECKPOINT_EVERY: '7' };
    const acked = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const w = startWriter(schema, 'k1', 1_000_000, 8, keys.signingPrivateKeyPem, 'forever', env);
      await w.acks(60 + ((i * 29) % 80));
      w.child.kill('SIGKILL');
      expect(await w.exited).toBe('SIGKILL');
      for (const id of w.acked) acked.add(id);
    }
    const committed = await checkpoints(schema, 'k1');
    const shipped = (): AnchoredHead[] =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as AnchoredHead);
    const before = new Set(shipped().map((h) => h.seq));
    const unpublished = [...committed.keys()].filter((seq) => !before.has(seq));
    expect(unpublished.length).toBeGreaterThan(6); // the crashes did leave committed heads unpublished

    // the takeover: the same anchor name, now answering
    const got: AnchoredHead[] = [];
    const sink = await claim({ pool, schema, stream: 'k1', signingKey: keys.signingPrivateKeyPem, checkpointEvery: 7, anchors: [{ name: 'shipper', publish: async (h) => void got.push(h) }] });
    try {
      await until(() => unpublished.every((seq) => got.some((h) => h.seq === seq)));
      for (const seq of unpublished) expect(got.find((h) => h.seq === seq)!.hash).toBe(committed.get(seq));
      // oldest first, each at most once in this run
      const seqs = got.map((h) => h.seq);
      expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
      await until(() => sink.pendingAnchorHeads().length === 0);
    } finally {
      await sink.close();
    }

    // every committed checkpoint reached the anchor (before a crash or after it), with its hash
    const all = [...shipped(), ...got];
    for (const [seq, hash] of await checkpoints(schema, 'k1')) expect(all.filter((h) => h.seq === seq).map((h) => h.hash)).toContain(hash);
    const v = await verifyPostgresTrail({ pool, schema, publicKeys: [keys.signingPublicKeyPem] });
    expect(v.problem).toBeUndefined();
    const rows = await pool.query<{ id: string }>(`SELECT (record::json)->>'requestId' AS id FROM "${schema}".audit_records WHERE kind <> 'checkpoint'`);
    const stored = new Set(rows.rows.map((r) => r.id));
    expect([...acked].filter((id) => !stored.has(id))).toEqual([]);
  });
});
