// Durable audit throughput and acknowledgement latency, side by side, in one run:
//   - the PostgreSQL sink (@purposekit/postgres, one stream, group commit, synchronous_commit on),
//   - the file sink (@purposekit/core, durability 'sync': fdatasync before the ack),
//   - raw multi-row INSERT + COMMIT of the same rows (the ceiling: the same pipelined group
//     commit and the same single-statement INSERT, without validation, hashing, signing
//     or the predecessor guard),
// at concurrency 1, 16, 64 and 256 (that many callers, each awaiting its append before
// the next). Then a subject access report for one subject among 1,000,000 records.
//
// Method: each (target, concurrency) cell writes N records (N = 1,000 at concurrency 1,
// RECORDS otherwise, default 20,000) after a warm-up (200 / 1,000); records/s = N / wall
// time; p50/p99 are over every append's own latency. After each cell, `sync` drains the
// page cache's writeback (the file sink's), so the next cell does not pay for it. Cells
// run in interleaved order, ROUNDS times (default 3), and the median round is reported.
// The report is timed 25 times after a warm-up; median and p99 are reported.
//
// Run: npm run build && node tools/bench/postgres-sink.bench.cjs
// Env: PK_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), ROUNDS,
//      REPORT_RECORDS (default 1000000), RECORDS (default 20000: at 256 callers that is
//      about 80 batches, so p99 is about one batch; more records give a steadier p99).
'use strict';
const path = require('node:path');
const os = require('node:os');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const root = path.resolve(__dirname, '../..');
const { Client, Pool } = require(path.join(root, 'node_modules/pg'));
const core = require(path.join(root, 'packages/core/dist/index.js'));
const pk = require(path.join(root, 'packages/postgres/dist/index.js'));

const URL = process.env.PK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const REPORT_RECORDS = Number(process.env.REPORT_RECORDS ?? 1_000_000);
const RECORDS = Number(process.env.RECORDS ?? 20_000);
const SCHEMA = `pk_postgres_bench_${process.pid}`;
const keys = core.generateAuditKeys();
const subjectKey = { id: 's-bench', secret: Buffer.alloc(32, 9) };
const pseudonymOf = core.createSubjectPseudonymizer(subjectKey);
const SUBJECTS = Array.from({ length: 10_000 }, (_, i) => pseudonymOf(`user-${i}`));

const event = (i) => ({
  kind: 'access',
  actor: 'svc:bench',
  subject: SUBJECTS[i % SUBJECTS.length],
  data: ['email', 'name'],
  action: 'read',
  purpose: 'service.provision',
  basis: 'contract',
  policy: { id: 'bench', version: '1' },
  requestId: `req-${i}`,
  decision: 'allow',
  reason: 'allowed',
});

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs n appends from `concurrency` callers; returns records/s and latency quantiles (ms). */
async function drive(append, n, concurrency, offset) {
  const lat = new Float64Array(n);
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const s = process.hrtime.bigint();
        await append(event(offset + i));
        lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const sorted = Array.from(lat).sort((a, b) => a - b);
  return { rps: n / secs, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

/**
 * The ceiling: group commit of pre-built rows with the sink's INSERT shape (each column one
 * text of LF-separated lines, the records as UTF-8 bytes, consecutive seqs, one ts),
 * pipelined two deep and batched like the sink, nothing else: no validation, hashing,
 * signing or guard.
 */
function rawWriter(client, stream) {
  const sql =
    `INSERT INTO "${SCHEMA}".audit_records (stream, seq, ts, kind, subject, record) ` +
    `SELECT $1, $2::bigint + u.n - 1, $3::timestamptz, u.k, NULLIF(u.j, ''), u.r FROM unnest(string_to_array($4::text, E'\\n'), string_to_array($5::text, E'\\n'), string_to_array($6::text, E'\\n')) WITH ORDINALITY AS u(k, j, r, n)`;
  let seq = 0;
  let queue = [];
  let inflight = 0;
  let scheduled = false;
  const line = JSON.stringify(core.sealAuditRecord(event(0), { seq: 1, ts: new Date().toISOString(), prev: core.AUDIT_GENESIS_HASH }));
  // 2,000 copies of one record, LF-separated: a batch of n is the first n lines.
  const lines = Buffer.from(Array(2000).fill(line).join('\n'));
  const lineBytes = Buffer.byteLength(line) + 1;
  const KIND = 'access';
  const kinds = Array(2000).fill(KIND).join('\n'); // a batch of n: the first n lines
  // The sink's batch formation: two batches on the wire at most, a second one only once 16
  // records wait, and a backlog found with nothing on the wire split into two halves.
  const room = () => queue.length > 0 && inflight < 2 && (inflight === 0 || queue.length >= 16);
  function pump() {
    scheduled = false;
    while (room()) {
      const take = inflight === 0 && queue.length >= 32 ? Math.ceil(queue.length / 2) : queue.length;
      const batch = queue.splice(0, Math.min(take, 2000));
      const ts = new Date().toISOString();
      const first = seq + 1;
      seq += batch.length;
      inflight++;
      const n = batch.length;
      client
        .query({ name: 'raw_insert', text: sql, values: [stream, first, ts, kinds.slice(0, (KIND.length + 1) * n - 1), batch.map((b) => b.subject).join('\n'), lines.subarray(0, lineBytes * n - 1)] })
        .then(() => {
          inflight--;
          for (const b of batch) b.resolve();
          schedule(true);
        });
    }
  }
  // After a COMMIT (`deferred`), the next batch is sealed on the next turn of the event
  // loop, so that the callers it acknowledged append first; an idle writer sends at once.
  function schedule(deferred = false) {
    if (scheduled || !room()) return;
    if (inflight === 0 && !deferred) return pump();
    scheduled = true;
    setImmediate(pump);
  }
  return (ev) =>
    new Promise((resolve) => {
      queue.push({ subject: ev.subject, resolve });
      schedule();
    });
}

async function main() {
  const pool = new Pool({ connectionString: URL, max: 8 });
  await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await pk.migrate({ pool, schema: SCHEMA });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-bench-file-'));
  const rawClient = new Client({ connectionString: URL, pipeline: true });
  await rawClient.connect();
  const env = `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0].model}, PostgreSQL ${(await pool.query('SHOW server_version')).rows[0].server_version} (synchronous_commit ${(await pool.query('SHOW synchronous_commit')).rows[0].synchronous_commit})`;
  console.log(env);
  console.log(`${RECORDS} records per cell (1000 at concurrency 1), ${ROUNDS} rounds`);

  let offset = 0;
  let streamNo = 0;
  const targets = {
    'postgres sink': async () => {
      const s = await pk.createPostgresAuditSink({ pool, schema: SCHEMA, stream: `bench-${streamNo++}`, signingKey: keys.signingPrivateKeyPem });
      return { append: (e) => s.append(e), close: () => s.close() };
    },
    'file sink (sync)': async () => {
      const s = await core.createFileAuditSink({ dir: path.join(dir, `t${streamNo++}`), signingKey: keys.signingPrivateKeyPem });
      return { append: (e) => s.append(e), close: () => s.close() };
    },
    'raw INSERT+COMMIT': async () => ({ append: rawWriter(rawClient, `raw-${streamNo++}`), close: async () => undefined }),
  };
  const results = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of [1, 16, 64, 256]) {
      for (const [name, make] of Object.entries(targets)) {
        const t = await make();
        const warm = c === 1 ? 200 : 1000;
        await drive(t.append, warm, c, offset); // warm-up
        offset += warm;
        const n = c === 1 ? 1000 : RECORDS;
        const r = await drive(t.append, n, c, offset);
        offset += n;
        await t.close();
        // The file sink leaves the page cache's writeback behind it, on the disk the
        // database's WAL shares: drain it, so the next cell does not pay for this one.
        execFileSync('sync');
        ((results[name] ??= {})[c] ??= []).push(r);
      }
    }
  }
  console.log('\ntarget              conc   records/s   ack p50 ms   ack p99 ms   (median of rounds by records/s)');
  for (const [name, byC] of Object.entries(results)) {
    for (const [c, rs] of Object.entries(byC)) {
      const m = [...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)];
      console.log(`${name.padEnd(19)} ${String(c).padStart(4)} ${m.rps.toFixed(0).padStart(11)} ${m.p50.toFixed(2).padStart(12)} ${m.p99.toFixed(2).padStart(12)}`);
    }
  }
  await rawClient.end();

  // ── subject access report among REPORT_RECORDS records ───────────────────────
  const rschema = `${SCHEMA}_report`;
  await pool.query(`DROP SCHEMA IF EXISTS "${rschema}" CASCADE`);
  await pk.migrate({ pool, schema: rschema });
  const t0 = Date.now();
  const writers = await Promise.all(['a', 'b', 'c', 'd'].map((s) => pk.createPostgresAuditSink({ pool, schema: rschema, stream: s, signingKey: keys.signingPrivateKeyPem })));
  const per = Math.ceil(REPORT_RECORDS / writers.length);
  await Promise.all(writers.map((w, k) => drive((e) => w.append(e), per, 128, k * per)));
  await Promise.all(writers.map((w) => w.close()));
  await pool.query(`ANALYZE "${rschema}".audit_records`);
  const total = Number((await pool.query(`SELECT count(*) FROM "${rschema}".audit_records`)).rows[0].count);
  console.log(`\nsubject report: ${total} records in 4 streams written in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${SUBJECTS.length} subjects`);
  const times = [];
  let entries = 0;
  for (let i = 0; i < 30; i++) {
    const s = process.hrtime.bigint();
    const report = await pk.buildPostgresSubjectReport({ pool, schema: rschema, subject: `user-${(i * 7919) % SUBJECTS.length}`, keys: [subjectKey] });
    const ms = Number(process.hrtime.bigint() - s) / 1e6;
    if (i >= 5) times.push(ms);
    entries = report.entries.length;
  }
  const sorted = times.sort((a, b) => a - b);
  console.log(`subject report for one subject (${entries} entries): median ${median(sorted).toFixed(2)} ms, p99 ${quantile(sorted, 0.99).toFixed(2)} ms (25 runs, warm)`);
  const plan = await pool.query(`EXPLAIN SELECT stream, record FROM "${rschema}".audit_records WHERE subject = ANY($1::text[]) ORDER BY ts, stream, seq`, [[SUBJECTS[1]]]);
  console.log(`plan: ${plan.rows.map((r) => r['QUERY PLAN']).filter((l) => /Scan/.test(l)).map((l) => l.trim()).slice(0, 2).join(' | ')}`);

  await pool.query(`DROP SCHEMA IF EXISTS "${rschema}" CASCADE`);
  await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  fs.rmSync(dir, { recursive: true, force: true });
  await pool.end();
}

// The records every PostgreSQL bench appends (postgres-sink-cpu.bench.cjs reuses them).
module.exports = { event, keys };

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
