// What migration 3 of @purposekit/postgres buys: the CHECK on audit_records.stream runs
// on every row written. This times, inside PostgreSQL, the rule as migration 1 spelled it
// (a bounded repeat) and as migration 3 spells it (one class and the length: the same
// rule), over 1,000,000 stream names, beside the same query with no check (the base).
// Prints µs per row for each, median of ROUNDS (default 5), interleaved.
//
// Run: node tools/bench/postgres-stream-check.bench.cjs
// Env: PK_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), ROUNDS.
'use strict';
const path = require('node:path');
const { Client } = require(path.join(path.resolve(__dirname, '../..'), 'node_modules/pg'));

const URL = process.env.PK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const ROWS = 1_000_000;
const names = `SELECT 'web-' || (g % 10) || '.pod_' || (g % 7) AS s FROM generate_series(1, ${ROWS}) g`;
const cases = {
  'no check (base)': `SELECT count(*) FROM (${names}) t WHERE s IS NOT NULL`,
  'migration 1: ~ ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$': `SELECT count(*) FROM (${names}) t WHERE s ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'`,
  'migration 3: ~ ^[A-Za-z0-9][A-Za-z0-9._:-]*$ AND length <= 64': `SELECT count(*) FROM (${names}) t WHERE s ~ '^[A-Za-z0-9][A-Za-z0-9._:-]*$' AND length(s) <= 64`,
};

(async () => {
  const client = new Client({ connectionString: URL });
  await client.connect();
  try {
    const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, sql] of Object.entries(cases)) {
        const t0 = process.hrtime.bigint();
        const r = await client.query(sql);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (Number(r.rows[0].count) !== ROWS) throw new Error(`${name}: ${r.rows[0].count} of ${ROWS} names passed`);
        times[name].push(ms);
      }
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const base = median(times['no check (base)']);
    console.log(`PostgreSQL ${(await client.query('SHOW server_version')).rows[0].server_version}, ${ROWS} names, median of ${ROUNDS} rounds`);
    for (const [name, ms] of Object.entries(times)) {
      const m = median(ms);
      console.log(`${name.padEnd(64)} ${(m / 1000).toFixed(3)} s  ${((m - base) * 1000 / ROWS).toFixed(3)} µs/row over the base`);
    }
  } finally {
    await client.end();
  }
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
