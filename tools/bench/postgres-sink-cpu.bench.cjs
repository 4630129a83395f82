// The PostgreSQL sink alone: C callers append N records through one stream; prints
// records/s and this process's CPU per record (user + system, from process.cpuUsage: the
// sink's validation, encoding, hashing, parameter building and promise settling, plus the
// callers' own loop). Run it under `node --cpu-prof` to see where that CPU goes (this is
// how BENCHMARKS §4 found the text[] escaping and the per-batch planning).
//
// Run: npm run build && node tools/bench/postgres-sink-cpu.bench.cjs
// Env: PK_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), C (callers,
//      default 256), N (records, default 60000), DROP_STREAM_CHECK=1 (drop the CHECK on
//      audit_records.stream after migrating: what that check costs the sink, BENCHMARKS §4).
'use strict';
const path = require('node:path');
const root = path.resolve(__dirname, '../..');
const { Pool } = require(path.join(root, 'node_modules/pg'));
const pk = require(path.join(root, 'packages/postgres/dist/index.js'));
// The same records as postgres-sink.bench.cjs (10,000 subjects, one route's values).
const { event, keys } = require('./postgres-sink.bench.cjs');

const URL = process.env.PK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const C = Number(process.env.C ?? 256);
const N = Number(process.env.N ?? 60_000);
const SCHEMA = `pk_sink_cpu_${process.pid}`;

(async () => {
  const pool = new Pool({ connectionString: URL, max: 4 });
  await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await pk.migrate({ pool, schema: SCHEMA });
  if (process.env.DROP_STREAM_CHECK === '1') await pool.query(`ALTER TABLE "${SCHEMA}".audit_records DROP CONSTRAINT audit_records_stream_check`);
  try {
    const sink = await pk.createPostgresAuditSink({ pool, schema: SCHEMA, stream: 'cpu', signingKey: keys.signingPrivateKeyPem });
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: C }, async () => {
        for (;;) {
          const i = next++;
          if (i >= N) return;
          await sink.append(event(i));
        }
      }),
    );
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    console.log(`${C} callers, ${N} records: ${(N / secs).toFixed(0)} records/s; this process ${((cpu.user + cpu.system) / N).toFixed(2)} µs CPU per record (user ${(cpu.user / N).toFixed(2)}, system ${(cpu.system / N).toFixed(2)})`);
    await sink.close();
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await pool.end();
  }
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
