// An experiment, not a shipped design (BENCHMARKS §4, "tried and not kept"): would one
// stream write faster on two PostgreSQL sessions than on one? While one session's COMMIT
// flushes the WAL, the other's INSERT could run. Batches must still commit in order, so
// each batch runs as one function call that
//   1. takes an advisory "ticket" lock named by its own last seq (held to its COMMIT),
//   2. inserts its rows,
//   3. waits for its predecessor's ticket (the batch ahead has committed or rolled back),
//   4. locks the stream row, checks the tip is its predecessor, and moves it.
// A batch whose predecessor had not yet started (it overtook it) finds the tip behind and
// is sent again ("behind-retries"). Rows are pre-built (no validation, hashing or
// signing), the same record for every row; callers as in postgres-sink.bench.cjs.
//
// Run: npm run build && S=2 D=1 node tools/bench/postgres-two-sessions.experiment.cjs
// Env: S (sessions, default 2), D (batches on the wire per session, default 1), C (callers,
//      default 64), N (records, default 60000), MIN (fewest records for a batch behind
//      another, default 16), PK_BENCH_PG_URL.
'use strict';
const path = require('node:path');
const root = path.resolve(__dirname, '../..');
const { Client, Pool } = require(path.join(root, 'node_modules/pg'));
const core = require(path.join(root, 'packages/core/dist/index.js'));
const pk = require(path.join(root, 'packages/postgres/dist/index.js'));
const { event } = require('./postgres-sink.bench.cjs');

const URL = process.env.PK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const S = Number(process.env.S ?? 2);
const D = Number(process.env.D ?? 1);
const C = Number(process.env.C ?? 64);
const N = Number(process.env.N ?? 60_000);
const MIN = Number(process.env.MIN ?? 16);
const SCHEMA = `pk_two_sessions_${process.pid}`;
const TICKETS = 4242; // the advisory lock class of the tickets

(async () => {
  const pool = new Pool({ connectionString: URL, max: 2 });
  await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await pk.migrate({ pool, schema: SCHEMA });
  const q = `"${SCHEMA}"`;
  const sessions = [];
  try {
    await pool.query(`ALTER TABLE ${q}.audit_streams ADD COLUMN tip_seq bigint`);
    await pool.query(`SELECT ${q}.audit_ensure_partitions(now())`);
    await pool.query(`CREATE FUNCTION ${q}.batch(s text, first bigint, last bigint, ts timestamptz, k text, j text, r text, prev_seq bigint) RETURNS int LANGUAGE plpgsql AS $f$
DECLARE n int; cur bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(${TICKETS}, (last % 2000000000)::int);
  INSERT INTO ${q}.audit_records (stream, seq, ts, kind, subject, record)
    SELECT s, first + u.n - 1, ts, u.k, NULLIF(u.j, ''), u.r FROM unnest(string_to_array(k, E'\\n'), string_to_array(j, E'\\n'), string_to_array(r, E'\\n')) WITH ORDINALITY AS u(k, j, r, n);
  GET DIAGNOSTICS n = ROW_COUNT;
  IF prev_seq IS NOT NULL THEN PERFORM pg_advisory_xact_lock_shared(${TICKETS}, (prev_seq % 2000000000)::int); END IF;
  SELECT tip_seq INTO cur FROM ${q}.audit_streams WHERE stream = s FOR UPDATE;
  IF cur IS DISTINCT FROM prev_seq THEN RAISE EXCEPTION 'behind' USING ERRCODE = 'P0001'; END IF;
  UPDATE ${q}.audit_streams SET tip_seq = first + n - 1 WHERE stream = s;
  RETURN n;
END $f$`);
    await pool.query(`INSERT INTO ${q}.audit_streams (stream) VALUES ('x')`);
    for (let i = 0; i < S; i++) {
      const c = new Client({ connectionString: URL, pipeline: true });
      await c.connect();
      sessions.push(c);
    }
    const line = JSON.stringify(core.sealAuditRecord(event(0), { seq: 1, ts: new Date().toISOString(), prev: core.AUDIT_GENESIS_HASH }));
    const sql = `SELECT ${q}.batch($1, $2, $3, $4, $5, $6, $7, $8) AS n`;
    let seq = 0;
    let queue = [];
    let inflight = 0;
    let scheduled = false;
    let next = 0;
    let behind = 0;
    function send(session, batch, first, prev, ts) {
      const values = ['x', first, first + batch.length - 1, ts, batch.map(() => 'access').join('\n'), batch.map((b) => b.subject).join('\n'), batch.map(() => line).join('\n'), prev];
      session.query({ name: 'batch', text: sql, values }).then(
        () => {
          inflight--;
          for (const b of batch) b.resolve();
          schedule(true);
        },
        (error) => {
          if (error.code !== 'P0001') throw error;
          behind++; // overtook the batch ahead: send it again once that one has had its turn
          setImmediate(() => send(session, batch, first, prev, ts));
        },
      );
    }
    function pump() {
      scheduled = false;
      while (queue.length > 0 && inflight < S * D && (inflight === 0 || queue.length >= MIN)) {
        const session = sessions[next];
        next = (next + 1) % S; // strictly alternating
        const batch = queue.splice(0, 2000);
        const first = seq + 1;
        const prev = seq === 0 ? null : seq;
        seq += batch.length;
        inflight++;
        send(session, batch, first, prev, new Date().toISOString());
      }
    }
    function schedule(deferred) {
      if (scheduled || queue.length === 0 || inflight >= S * D) return;
      if (inflight === 0 && !deferred) return pump();
      scheduled = true;
      setImmediate(pump);
    }
    const append = (e) =>
      new Promise((resolve) => {
        queue.push({ subject: e.subject, resolve });
        schedule(false);
      });
    const lat = [];
    let i = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (i < N) {
          const e = event(i++);
          const s = process.hrtime.bigint();
          await append(e);
          lat.push(Number(process.hrtime.bigint() - s) / 1e6);
        }
      }),
    );
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    lat.sort((a, b) => a - b);
    const check = (await pool.query(`SELECT count(*)::int AS n, max(seq)::int AS m FROM ${q}.audit_records`)).rows[0];
    if (check.n !== N || check.m !== N) throw new Error(`expected ${N} rows, seqs 1..${N}; found ${check.n} rows, last seq ${check.m}`);
    console.log(`S=${S} D=${D} C=${C} MIN=${MIN}: ${(N / secs).toFixed(0)} records/s, ack p50 ${lat[lat.length >> 1].toFixed(2)} ms, p99 ${lat[Math.floor(lat.length * 0.99)].toFixed(2)} ms, behind-retries ${behind}`);
  } finally {
    for (const c of sessions) await c.end();
    await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await pool.end();
  }
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
